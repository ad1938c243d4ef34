/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap: reading server responses for the benchmark clients.
 *
 * imap_rbuf collects bytes from a socket and hands out one complete
 * response at a time: a line and every literal it announces ("{n}\r\n"
 * followed by exactly n bytes), up to the CRLF that ends the response.
 * The tokenizer then walks that response; a literal is consumed by its
 * announced size and never by looking for delimiters, so a server that
 * sends a literal of the wrong length leaves the rest of the response
 * unparseable, which is how such a server gets caught.
 */
#ifndef BENCH_IMAP_PARSE_H
#define BENCH_IMAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IMAP_MAX_LINE (64 * 1024)	/* of one line between literals */
#define IMAP_MAX_LITERAL (64u << 20)
#define IMAP_MAX_DEPTH 32		/* of nested lists */

struct imap_rbuf {
	char *data;
	size_t start, len, cap;	/* unread bytes are data[start, len) */
	size_t scan;		/* where the scan for the current response resumes */
	size_t taken;		/* bytes of the response handed out, to drop */
};

/* One response without its final CRLF; data stays valid until
 * imap_rbuf_next is called again. */
struct imap_resp {
	const char *data;
	size_t len;
};

/* Appends what the fd has (up to 64 KiB); returns bytes read, 0 at end
 * of file, -1 with errno (EAGAIN included). */
ssize_t imap_rbuf_fill(struct imap_rbuf *b, int fd);
/* Appends bytes that came from elsewhere (TLS, tests). -1 on ENOMEM. */
int imap_rbuf_put(struct imap_rbuf *b, const void *data, size_t len);
/* Sets resp_r->data to the next complete response, or to NULL when more
 * bytes are needed. -1 when the input cannot be IMAP (an over-long line,
 * an absurd literal size). */
int imap_rbuf_next(struct imap_rbuf *b, struct imap_resp *resp_r,
		   const char **error_r);
void imap_rbuf_free(struct imap_rbuf *b);

enum imap_vtype {
	IMAP_V_ATOM,	/* also numbers and flags: "123", "\Seen", "$x" */
	IMAP_V_QUOTED,
	IMAP_V_LITERAL,
	IMAP_V_NIL,
	IMAP_V_LIST,	/* s/len span the contents between the parentheses */
};

struct imap_val {
	enum imap_vtype type;
	const char *s;	/* raw bytes; quoted strings keep their escapes */
	size_t len;
};

struct imap_tok {
	const char *p, *end;
};

static inline void imap_tok_init(struct imap_tok *t, const char *s, size_t len)
{
	t->p = s;
	t->end = s + len;
}

static inline bool imap_tok_eof(const struct imap_tok *t)
{
	return t->p >= t->end;
}

/* Each returns 0 and advances, or -1 with *error_r, leaving t unusable. */
int imap_tok_char(struct imap_tok *t, char c, const char **error_r);
int imap_tok_atom(struct imap_tok *t, const char **s_r, size_t *len_r,
		  const char **error_r);
int imap_tok_number(struct imap_tok *t, uint32_t *n_r, const char **error_r);
/* Any value: atom, string, literal, NIL or a whole (validated) list. */
int imap_tok_value(struct imap_tok *t, struct imap_val *v_r,
		   const char **error_r);
/* A fetch attribute name: "UID", "BODY[HEADER.FIELDS (FROM)]<0>". */
int imap_tok_fetch_name(struct imap_tok *t, const char **s_r, size_t *len_r,
			const char **error_r);
/* "[CODE ...]" after a status word; sets *len_r to 0 if there is none.
 * s_r/len_r span the inside of the brackets. */
int imap_tok_resp_code(struct imap_tok *t, const char **s_r, size_t *len_r,
		       const char **error_r);

/* ENVELOPE: a list of exactly ten fields, the address fields NIL or lists
 * of four-field addresses. */
int imap_check_envelope(const struct imap_val *v, const char **error_r);

bool imap_atom_eq(const char *s, size_t len, const char *word);
/* The value of a numeric atom; -1 if it is not one (or too big). */
int imap_atom_u32(const char *s, size_t len, uint32_t *n_r);

#endif
