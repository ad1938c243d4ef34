/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SEARCH programs (RFC 3501 6.4.4, every key, and MODSEQ of RFC 7162):
 * parsing into a tree and matching messages. Text keys match
 * case-insensitively as substrings (Unicode simple case folding of UTF-8)
 * against decoded text: header values with RFC 2047 words decoded, bodies
 * with their Content-Transfer-Encoding undone and their charset converted
 * to UTF-8; BODY looks at the text parts, TEXT at headers and text parts.
 */
#ifndef DBOXD_IMAP_SEARCH_H
#define DBOXD_IMAP_SEARCH_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "imap-parser.h"
#include "imap-util.h"
#include "pool.h"

struct dbox_mail;
struct imap_client;

enum search_key_type {
	SK_ALL, SK_AND, SK_OR, SK_NOT,
	SK_FLAG_SET, SK_FLAG_UNSET,		/* flags in .flags */
	SK_KEYWORD, SK_UNKEYWORD,
	SK_RECENT, SK_NEW, SK_OLD,
	SK_LARGER, SK_SMALLER,
	SK_BEFORE, SK_ON, SK_SINCE,		/* internal date */
	SK_SENTBEFORE, SK_SENTON, SK_SENTSINCE,	/* Date: header */
	SK_SEQSET, SK_UIDSET,
	SK_HEADER,				/* .field, .str */
	SK_BODY, SK_TEXT,
	SK_MODSEQ,
};

struct search_key {
	enum search_key_type type;
	struct search_key *children;	/* AND: list; OR, NOT: 2/1 */
	struct search_key *next;
	uint32_t flags;
	const char *field;		/* HEADER field name */
	const char *str;		/* folded search text */
	uint64_t num;
	time_t date;			/* midnight UTC of the day */
	struct imap_seq_range *ranges;
	unsigned int range_count;
};

enum search_need {
	SEARCH_NEED_NONE,
	SEARCH_NEED_HEADER,
	SEARCH_NEED_WHOLE,
};

struct search_program {
	struct search_key *root;
	enum search_need need;
	bool uses_modseq;
};

/* Parse keys from args (after CHARSET, which the caller handles; charset
   converts quoted strings to UTF-8). */
int imap_search_parse(struct imap_client *client, const struct imap_arg *args,
		      const char *charset, struct dboxd_pool *pool,
		      struct search_program *prog_r, const char **error_r);
/* Does the message match? data as prog->need says (NULL for NONE). */
bool imap_search_match(struct imap_client *client,
		       const struct search_program *prog, uint32_t seq,
		       const struct dbox_mail *mail, const char *data,
		       size_t size);
/* Case-fold UTF-8 for matching (malloc'd into pool). */
char *imap_search_fold(struct dboxd_pool *pool, const char *s, size_t len,
		       size_t *len_r);

struct imap_cmd;
struct imap_search_run;

/*
 * Run a program over the selected mailbox for cmd, reading message data
 * (when the program needs it) asynchronously, batch by batch. begin
 * allocates the run from pool; each step either starts the next batch's
 * reads and returns 1 (the caller suspends cmd with imap_cmd_wait_storage();
 * the last read of the batch wakes it with imap_cmd_storage_done(), and the
 * caller's cont steps again), or returns 0 with the matching messages'
 * indexes into the view (ascending) in *idx_r, or -1 with *error_r.
 * imap_search_run_free() drops a batch still in flight (cmd freed early).
 */
struct imap_search_run *
imap_search_run_begin(struct imap_cmd *cmd, const struct search_program *prog,
		      struct dboxd_pool *pool);
int imap_search_run_step(struct imap_search_run *run, unsigned int **idx_r,
			 unsigned int *count_r, const char **error_r);
void imap_search_run_free(struct imap_search_run *run);

/* "[CHARSET x] keys" (SEARCH) or "charset keys" (SORT, THREAD) into prog;
   on failure the reply was sent (cmd-search.c). */
int imap_cmd_search_program(struct imap_cmd *cmd, const struct imap_arg *args,
			    bool charset_required,
			    struct search_program *prog);

/* "Tue, 3 Mar 2026 10:00:00 +0100" -> UNIX time, and the calendar date
   as written (midnight UTC of that day) for SENT* keys. */
int imap_parse_message_date(const char *value, time_t *t_r, time_t *day_r);

#endif
