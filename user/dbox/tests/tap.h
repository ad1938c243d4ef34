/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small TAP producer for the dbox unit tests, and helpers they share:
 * scratch directories, deterministic test messages.
 */
#ifndef DBOX_TAP_H
#define DBOX_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "ok N - name" or "not ok N - name"; returns cond. */
bool tap_ok(bool cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tap_skip(const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the plan; the exit status (0 when everything passed). */
int tap_done(void);

/* A new empty directory under $TMPDIR (or /tmp); malloc'd path. Removed
   by tap_cleanup() at the end unless DBOX_TEST_KEEP is set. */
char *tap_tempdir(const char *tag);
void tap_rm_rf(const char *path);
void tap_cleanup(void);

/* A realistic message in wire form (CRLF), derived only from id: headers,
   a text body, sometimes a base64 attachment; about size bytes. */
char *tap_message(uint64_t id, size_t size, size_t *len_r);
/* The id a tap_message() carries in its Message-ID, or 0. */
uint64_t tap_message_id(const void *data, size_t len);

/* Quiet library logs below WARNING unless DBOX_DEBUG is set. */
void tap_quiet_logs(void);

#endif
