/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A MIME parser (RFC 2045/2046/5322) over a message held in memory in wire
 * form: the tree of parts with their offsets, sizes and line counts, and
 * the header fields FETCH BODYSTRUCTURE, ENVELOPE and SEARCH need. Nothing
 * is copied but header values; everything lives in a secret pool (it is
 * mail). Malformed input yields a best-effort tree, never an error:
 * a missing closing boundary ends the part at the end of its parent, depth
 * and part counts are bounded.
 */
#ifndef DBOXD_MIME_H
#define DBOXD_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "pool.h"

struct mime_param {
	const char *name;	/* lower case */
	const char *value;
};

struct mime_part {
	struct mime_part *parent, *children, *next;
	size_t hdr_offset;	/* the part's header, from the message start */
	size_t hdr_size;	/* including the empty line */
	size_t body_offset;
	size_t body_size;
	unsigned int body_lines;
	/* Content-Type, lower-cased; defaults applied */
	const char *type, *subtype;
	struct mime_param *params;
	unsigned int param_count;
	const char *id, *description, *encoding, *md5, *language, *location;
	const char *disposition;	/* NULL if none */
	struct mime_param *disp_params;
	unsigned int disp_param_count;
	/* message/rfc822 (or global): children is the inner message */
	bool is_message;
	bool is_multipart;
};

struct mime_message {
	const char *data;
	size_t size;
	struct mime_part *root;
	struct dboxd_pool pool;
};

void mime_parse(const char *data, size_t size, struct mime_message *msg);
void mime_free(struct mime_message *msg);

/* The part a section path ("1.2.3") names, or NULL. For a non-multipart
   message, "1" is the message's own body (RFC 3501 6.4.5). */
struct mime_part *mime_part_find(struct mime_part *root, const char *path,
				 const char **rest_r);

/* Header fields of [hdr, hdr+size). cb returns false to stop. raw is the
   whole field with its line end(s); value what follows the colon. */
typedef bool mime_header_cb_t(const char *name, size_t name_len,
			      const char *raw, size_t raw_len,
			      const char *value, size_t value_len,
			      void *context);
void mime_headers_foreach(const char *hdr, size_t size, mime_header_cb_t *cb,
			  void *context);
/* The unfolded value of the first field called name, or NULL. */
const char *mime_header_get(struct dboxd_pool *pool, const char *hdr,
			    size_t size, const char *name);
/* Unfold: drop CRLF before whitespace, trim. */
char *mime_unfold(struct dboxd_pool *pool, const char *value, size_t len);

/* Decode RFC 2047 encoded words into UTF-8 (charsets through iconv);
   undecodable words stay as they are. */
char *mime_decode_words(struct dboxd_pool *pool, const char *value);
/* Decode a body by its Content-Transfer-Encoding (base64,
   quoted-printable, 7bit/8bit/binary as is). -1 for an unknown one. */
int mime_decode_body(const char *encoding, const char *data, size_t len,
		     struct dboxd_pool *pool, char **out_r, size_t *out_len_r);
/* Convert text in charset to UTF-8 (copy as is if unknown). */
char *mime_to_utf8(struct dboxd_pool *pool, const char *charset,
		   const char *data, size_t len, size_t *out_len_r);
const char *mime_param_get(const struct mime_param *params,
			   unsigned int count, const char *name);

#endif
