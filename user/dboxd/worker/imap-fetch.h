/* SPDX-License-Identifier: GPL-2.0-or-later */
/* FETCH data items (RFC 3501 6.4.5, BINARY RFC 3516, MODSEQ RFC 7162):
   parsing the request and writing one message's response. */
#ifndef DBOXD_IMAP_FETCH_H
#define DBOXD_IMAP_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "imap-parser.h"
#include "pool.h"

struct dbox_mail;
struct imap_client;

enum fetch_item_type {
	FETCH_FLAGS,
	FETCH_INTERNALDATE,
	FETCH_RFC822_SIZE,
	FETCH_UID,
	FETCH_MODSEQ,
	FETCH_ENVELOPE,
	FETCH_BODY,		/* BODY without a section: structure */
	FETCH_BODYSTRUCTURE,
	FETCH_SECTION,		/* BODY[...], BODY.PEEK[...], RFC822.* */
	FETCH_BINARY,		/* BINARY[...], BINARY.PEEK[...] */
	FETCH_BINARY_SIZE,
};

enum fetch_section_kind {
	SECTION_ALL,		/* BODY[] or BODY[1.2] */
	SECTION_HEADER,
	SECTION_HEADER_FIELDS,
	SECTION_HEADER_FIELDS_NOT,
	SECTION_TEXT,
	SECTION_MIME,
};

struct fetch_item {
	enum fetch_item_type type;
	/* the name to answer with, e.g. "BODY[HEADER.FIELDS (FROM)]" */
	const char *name;
	bool peek;
	const char *path;	/* "" or "1.2" */
	enum fetch_section_kind kind;
	const char **fields;	/* HEADER.FIELDS list, NULL-terminated */
	bool partial;
	uint64_t offset, length;
};

enum fetch_need {
	FETCH_NEED_NONE,	/* index data only */
	FETCH_NEED_HEADER,	/* the message header */
	FETCH_NEED_WHOLE,
};

struct fetch_request {
	struct fetch_item *items;
	unsigned int count;
	enum fetch_need need;
	bool sets_seen;		/* a non-PEEK body item */
	bool want_uid, want_flags, want_modseq;
	uint64_t changedsince;	/* 0 = none */
	bool vanished;
};

/* Parse the items argument (atom, or list) and the optional modifiers. */
int imap_fetch_parse(struct imap_client *client, const struct imap_arg *args,
		     bool uid, struct dboxd_pool *pool,
		     struct fetch_request *req_r, const char **error_r);
/* Write "* seq FETCH (...)" for one message. data is the message (whole or
   header, as req->need says; NULL for NEED_NONE). flags is what to report
   (the view's, plus \Seen if this FETCH set it). Returns -1 with *error_r
   for a BINARY of an unknown encoding (the caller answers NO
   [UNKNOWN-CTE]). */
int imap_fetch_write(struct imap_client *client,
		     const struct fetch_request *req, uint32_t seq,
		     const struct dbox_mail *mail, uint32_t flags,
		     const char *data, size_t size, const char **error_r);

#endif
