/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mg: the test-mail generator shared by mkmail (which fills mailboxes) and
 * loadgen (which APPENDs). Message INDEX of stream SEED is always the same
 * bytes: headers as real mail carries them (Received chains, DKIM, lists),
 * text, text+HTML alternatives and multipart/mixed with base64
 * attachments, and threads through In-Reply-To/References to earlier
 * indexes of the same stream. Lines end in CRLF, as IMAP APPEND wants.
 */
#ifndef BENCH_MSGGEN_H
#define BENCH_MSGGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Appends never fail visibly: an allocation failure sets "failed" and
 * later appends do nothing, so builders check once at the end. */
struct mg_buf {
	char *data;
	size_t len, cap;
	bool failed;
};

struct mg_params {
	uint64_t seed;
	size_t attach_median;	/* bytes before base64; log-normal median */
	size_t max_attach;	/* cap on one attachment, before base64 */
	unsigned int attach_pct;	/* % of messages with attachments */
};

/* What APPEND needs besides the bytes. */
struct mg_info {
	time_t date;
	bool seen, flagged, answered;
	uint64_t parent;	/* index replied to, or UINT64_MAX */
};

void mg_params_default(struct mg_params *p, uint64_t seed);
/* Replaces out's contents with message INDEX; -1 only on ENOMEM. */
int mg_message(const struct mg_params *p, uint64_t index, struct mg_buf *out,
	       struct mg_info *info_r);
/* "02-Mar-2026 10:00:00 +0000", the IMAP date-time of INFO */
void mg_imap_date(time_t t, char buf[static 32]);
/* A word that occurs in generated subjects and bodies, for SEARCH. */
const char *mg_word(uint64_t n);
/* A sender name ("First Last") that occurs in From headers. */
const char *mg_last_name(uint64_t n);

void mg_buf_append(struct mg_buf *b, const void *data, size_t len);
void mg_buf_printf(struct mg_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void mg_buf_free(struct mg_buf *b);

#endif
