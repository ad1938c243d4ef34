/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A streaming JSON writer for ksmgroupctl --json: compact output, strings
 * escaped so that any bytes (a process's comm may hold anything) come out
 * as valid JSON, invalid UTF-8 as U+FFFD.
 */
#ifndef KSMG_CTL_JSON_H
#define KSMG_CTL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define KSMG_JSON_MAX_DEPTH 16

struct ksmg_json {
	FILE *f;
	unsigned int depth;
	/* Whether the container at each depth already holds a value. */
	bool nonempty[KSMG_JSON_MAX_DEPTH];
};

void ksmg_json_init(struct ksmg_json *j, FILE *f);
/* key is NULL at the top level and inside arrays. */
void ksmg_json_object_begin(struct ksmg_json *j, const char *key);
void ksmg_json_object_end(struct ksmg_json *j);
void ksmg_json_array_begin(struct ksmg_json *j, const char *key);
void ksmg_json_array_end(struct ksmg_json *j);
void ksmg_json_string(struct ksmg_json *j, const char *key, const char *value);
void ksmg_json_u64(struct ksmg_json *j, const char *key, uint64_t value);
void ksmg_json_s64(struct ksmg_json *j, const char *key, int64_t value);
void ksmg_json_bool(struct ksmg_json *j, const char *key, bool value);
void ksmg_json_null(struct ksmg_json *j, const char *key);
/* Ends a top-level value: newline and flush, ready for the next one. */
void ksmg_json_finish(struct ksmg_json *j);

/* Only the escaping, for tests and for callers writing raw JSON. */
void ksmg_json_write_string(FILE *f, const char *value);

#endif /* KSMG_CTL_JSON_H */
