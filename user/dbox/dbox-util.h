/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers shared by the whole library: errors and growable buffers. */
#ifndef DBOX_UTIL_H
#define DBOX_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dbox.h"

#define ATTR_UNUSED __attribute__((unused))
#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Record a failure: sets the thread's last error class and message and
 * *error_r (when error_r is not NULL); returns -1 so callers can write
 * "return dbox_fail(...)". The format may use %m.
 */
int dbox_fail(const char **error_r, enum dbox_error err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Pass on an error already recorded (keeps its class), adding context. */
int dbox_fail_prefix(const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *dbox_last_error_str(void);

struct dbox_allocator;

/* alloc: where the bytes live (message content: the storage's mail
   allocator); NULL = malloc. Set it before the first append. */
struct dbox_buf {
	unsigned char *data;
	size_t len, cap;
	const struct dbox_allocator *alloc;
};

/* Message content memory (dbox.h, struct dbox_allocator); a NULL
   allocator means malloc. Failures abort. */
void *dbox_mail_malloc(const struct dbox_allocator *alloc, size_t size);
void dbox_mail_free(const struct dbox_allocator *alloc, void *ptr);

/* Allocation failures abort: there is no sane way to go on with a half
   built message or record, and dboxd restarts workers. */
void *dbox_malloc(size_t size);
void *dbox_calloc(size_t n, size_t size);
void *dbox_realloc(void *ptr, size_t size);
char *dbox_strdup(const char *s);
char *dbox_strndup(const char *s, size_t n);
char *dbox_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void dbox_buf_reserve(struct dbox_buf *buf, size_t more);
void dbox_buf_append(struct dbox_buf *buf, const void *data, size_t size);
void dbox_buf_printf(struct dbox_buf *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void dbox_buf_free(struct dbox_buf *buf);

/* Parse exactly len hex digits (either case); -1 on a non-hex digit. */
int dbox_hex_to_u64(const char *str, size_t len, uint64_t *value_r);
/* 16 random bytes as 32 lowercase hex digits + NUL (Dovecot's GUID form). */
void dbox_guid_generate(char guid_r[33]);
int64_t dbox_now(void);

/* An arena for many small strings freed together (a mailbox view). */
struct dbox_arena;
struct dbox_arena *dbox_arena_create(void);
void *dbox_arena_alloc(struct dbox_arena *arena, size_t size);
char *dbox_arena_strndup(struct dbox_arena *arena, const char *s, size_t n);
void dbox_arena_free(struct dbox_arena **arena);

#endif
