/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small IMAP syntax helpers of the worker: mailbox names on the wire,
   sequence sets, dates, flag lists. */
#ifndef DBOXD_IMAP_UTIL_H
#define DBOXD_IMAP_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "imap-parser.h"
#include "pool.h"

struct imap_client;

/* A mailbox name from the client (modified UTF-7, or UTF-8 once
   UTF8=ACCEPT is enabled) as a checked, normalised UTF-8 storage name.
   Names with "..", empty components, control characters or invalid
   encoding are refused here. */
int imap_mailbox_from_client(struct imap_client *client, const char *name,
			     struct dboxd_pool *pool, const char **utf8_r,
			     const char **error_r);
/* Write a storage name as the client expects it. */
void imap_append_mailbox(struct imap_client *client, struct dboxd_buf *out,
			 const char *utf8);

struct imap_seq_range {
	uint32_t first, last;	/* first <= last; UINT32_MAX is "*" */
};

/* Parse "1,3:5,7:*". */
int imap_seqset_parse(const char *str, struct dboxd_pool *pool,
		      struct imap_seq_range **ranges_r,
		      unsigned int *count_r);
/* The messages of the selected mailbox's view a set names, as ascending
   uids (duplicates removed). Sequence numbers beyond the view are an error
   (RFC 3501: "invalid message sequence number"); uids that do not exist
   are skipped. */
int imap_seqset_to_uids(struct imap_client *client, const char *set,
			bool uid, struct dboxd_pool *pool, uint32_t **uids_r,
			unsigned int *count_r, const char **error_r);
/* Write ascending uids compactly as a set ("1:3,7"). */
void imap_append_uidset(struct dboxd_buf *out, const uint32_t *uids,
			unsigned int count);

/* "1-Feb-1994": midnight UTC of that day. */
int imap_parse_date(const char *str, time_t *t_r);
/* "17-Jul-1996 02:44:25 -0700" (day may be space-padded). */
int imap_parse_datetime(const char *str, time_t *t_r);
/* The same format, in UTC. buf must hold 32 bytes. */
void imap_format_datetime(char *buf, size_t size, time_t t);

/* A flag list "(\Seen $Label)" (list members in args). \Recent and
   unknown system flags are refused; keywords are validated. */
int imap_flags_parse(const struct imap_arg *args, struct dboxd_pool *pool,
		     uint32_t *flags_r, const char ***keywords_r,
		     const char **error_r);
void imap_flags_write(struct dboxd_buf *out, uint32_t flags,
		      const char *const *keywords, bool recent);

/* Case-insensitive substring search (ASCII folding; UTF-8 bytes compare
   as they are). */
bool imap_str_contains(const char *haystack, size_t hlen, const char *needle,
		       size_t nlen);

/* RFC 6154 attribute names <-> DBOX_SPECIAL_* (cmd-mailbox.c). 0 if
   unknown. */
unsigned int imap_special_use_parse(const char *name);
/* Write the attributes, space separated; *first says whether one was
   written before (and is updated). */
void imap_special_use_write(struct dboxd_buf *out, unsigned int flags,
			    bool *first);

struct imap_cmd;
/* The mailbox argument of a command as a storage name. On failure the
   command's reply (BAD or NO) has been sent and false is returned. */
bool imap_cmd_get_mailbox(struct imap_cmd *cmd, const struct imap_arg *arg,
			  const char **name_r);
#endif
