// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * loadgen: untagged responses. Keeps the connection's view of the mailbox
 * (message count, UID per sequence number) and rejects what contradicts
 * it: an EXISTS that shrinks, an EXPUNGE or FETCH beyond the count, a UID
 * that changes for the same sequence number or breaks the ascending order,
 * a FETCH whose BODY[] differs from its RFC822.SIZE, an ENVELOPE of the
 * wrong shape, a SEARCH hit beyond the count or repeated.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "loadgen.h"

static char lg_msg[256];

static int lg_bad(const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int lg_bad(const char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lg_msg, sizeof(lg_msg), fmt, ap);
	va_end(ap);
	*error_r = lg_msg;
	return -1;
}

bool lg_resp_has_cap(const char *s, size_t len, const char *cap)
{
	size_t n = strlen(cap);

	for (size_t i = 1; i + n <= len; i++) {
		if (s[i - 1] == ' ' && strncasecmp(s + i, cap, n) == 0 &&
		    (i + n == len || s[i + n] == ' ' || s[i + n] == ']'))
			return true;
	}
	return false;
}

static void lg_note_caps(struct lg_conn *c, const char *s, size_t len)
{
	c->literal_plus = lg_resp_has_cap(s, len, "LITERAL+");
	c->uidplus = lg_resp_has_cap(s, len, "UIDPLUS");
}

static int lg_exists(struct lg_conn *c, uint32_t n, const char **error_r)
{
	if (n < c->exists)
		return lg_bad(error_r, "EXISTS %u after %u without EXPUNGE", n,
			      c->exists);
	if (n > c->msgs_cap) {
		size_t cap = c->msgs_cap ? c->msgs_cap : 1024;
		struct lg_msg *m;

		while (cap < n)
			cap *= 2;
		m = realloc(c->msgs, cap * sizeof(*m));
		if (m == NULL)
			return lg_bad(error_r, "out of memory");
		c->msgs = m;
		c->msgs_cap = cap;
	}
	memset(c->msgs + c->exists, 0, (n - c->exists) * sizeof(*c->msgs));
	c->exists = n;
	if (c->state == LG_S_SELECT)
		c->select_exists = true;
	return 0;
}

static int lg_expunge(struct lg_conn *c, uint32_t n, const char **error_r)
{
	if (n == 0 || n > c->exists)
		return lg_bad(error_r, "EXPUNGE %u of %u messages", n, c->exists);
	memmove(c->msgs + n - 1, c->msgs + n,
		(c->exists - n) * sizeof(*c->msgs));
	c->exists--;
	c->os.expunges++;
	return 0;
}

/* A UID must not change for its sequence number, and UIDs ascend. */
static int lg_check_uid(struct lg_conn *c, uint32_t seq, uint32_t uid,
			const char **error_r)
{
	struct lg_msg *m = &c->msgs[seq - 1];

	if (uid == 0)
		return lg_bad(error_r, "UID 0 for message %u", seq);
	if (m->uid != 0 && m->uid != uid)
		return lg_bad(error_r, "message %u had UID %u, now %u", seq,
			      m->uid, uid);
	if (seq > 1 && m[-1].uid != 0 && m[-1].uid >= uid)
		return lg_bad(error_r, "UID %u of message %u not above UID %u of %u",
			      uid, seq, m[-1].uid, seq - 1);
	if (seq < c->exists && m[1].uid != 0 && m[1].uid <= uid)
		return lg_bad(error_r, "UID %u of message %u not below UID %u of %u",
			      uid, seq, m[1].uid, seq + 1);
	m->uid = uid;
	return 0;
}

static unsigned int lg_flag_bit(const char *s, size_t len)
{
	static const struct {
		const char *name;
		unsigned int bit;
	} flags[] = {
		{ "\\Seen", LG_F_SEEN }, { "\\Flagged", LG_F_FLAGGED },
		{ "\\Deleted", LG_F_DELETED }, { "\\Answered", LG_F_ANSWERED },
		{ "$Bench", LG_F_BENCH },
	};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (imap_atom_eq(s, len, flags[i].name))
			return flags[i].bit;
	return 0;
}

static int lg_flags(const struct imap_val *v, unsigned int *flags_r,
		    const char **error_r)
{
	struct imap_tok t;
	const char *s;
	size_t len;

	if (v->type != IMAP_V_LIST)
		return lg_bad(error_r, "FLAGS is not a list");
	*flags_r = 0;
	imap_tok_init(&t, v->s, v->len);
	while (!imap_tok_eof(&t)) {
		if (t.p != v->s && imap_tok_char(&t, ' ', error_r) < 0)
			return -1;
		if (imap_tok_atom(&t, &s, &len, error_r) < 0)
			return -1;
		*flags_r |= lg_flag_bit(s, len);
	}
	return 0;
}

static bool lg_is_string(const struct imap_val *v)
{
	return v->type == IMAP_V_QUOTED || v->type == IMAP_V_LITERAL;
}

/* One "name value" pair of a FETCH. */
static int lg_fetch_item(struct lg_conn *c, struct lg_fetch *f, const char *name,
			 size_t nlen, const struct imap_val *v,
			 const char **error_r)
{
	uint32_t n;

	if (imap_atom_eq(name, nlen, "UID")) {
		if (v->type != IMAP_V_ATOM || imap_atom_u32(v->s, v->len, &n) < 0)
			return lg_bad(error_r, "UID is not a number");
		f->has_uid = true;
		f->uid = n;
		return lg_check_uid(c, f->seq, n, error_r);
	}
	if (imap_atom_eq(name, nlen, "FLAGS")) {
		f->has_flags = true;
		return lg_flags(v, &f->flags, error_r);
	}
	if (imap_atom_eq(name, nlen, "RFC822.SIZE")) {
		if (v->type != IMAP_V_ATOM || imap_atom_u32(v->s, v->len, &n) < 0)
			return lg_bad(error_r, "RFC822.SIZE is not a number");
		f->has_size = true;
		f->size = n;
		return 0;
	}
	if (imap_atom_eq(name, nlen, "ENVELOPE")) {
		f->has_env = true;
		return imap_check_envelope(v, error_r);
	}
	/* NIL is legal for a body (Dovecot sends it for a message another
	 * session expunged); the op decides whether it was expected */
	if (imap_atom_eq(name, nlen, "BODY[]")) {
		if (!lg_is_string(v) && v->type != IMAP_V_NIL)
			return lg_bad(error_r, "BODY[] is not an nstring");
		f->has_body = true;
		f->nil |= v->type == IMAP_V_NIL;
		f->body_len = v->len;
		return 0;
	}
	if (nlen > 20 && strncasecmp(name, "BODY[HEADER.FIELDS ", 19) == 0) {
		if (!lg_is_string(v) && v->type != IMAP_V_NIL)
			return lg_bad(error_r, "BODY[HEADER.FIELDS] is not an nstring");
		f->has_hdr = true;
		f->nil |= v->type == IMAP_V_NIL;
		f->hdr_len = v->len;
		return 0;
	}
	/* INTERNALDATE, MODSEQ, BODYSTRUCTURE...: tokenized, not checked */
	return 0;
}

static int lg_fetch_resp(struct lg_conn *c, uint32_t seq, struct imap_tok *t,
			 const char **error_r)
{
	struct lg_fetch f = { .seq = seq };
	struct imap_val list, v;
	struct imap_tok lt;
	const char *name;
	size_t nlen;

	if (seq == 0 || seq > c->exists)
		return lg_bad(error_r, "FETCH for message %u of %u", seq, c->exists);
	if (imap_tok_char(t, ' ', error_r) < 0 ||
	    imap_tok_value(t, &list, error_r) < 0)
		return -1;
	if (list.type != IMAP_V_LIST || !imap_tok_eof(t))
		return lg_bad(error_r, "FETCH data is not one list");
	imap_tok_init(&lt, list.s, list.len);
	while (!imap_tok_eof(&lt)) {
		if (lt.p != list.s && imap_tok_char(&lt, ' ', error_r) < 0)
			return -1;
		if (imap_tok_fetch_name(&lt, &name, &nlen, error_r) < 0 ||
		    imap_tok_char(&lt, ' ', error_r) < 0 ||
		    imap_tok_value(&lt, &v, error_r) < 0)
			return -1;
		if (lg_fetch_item(c, &f, name, nlen, &v, error_r) < 0)
			return -1;
	}
	if (f.has_body && f.has_size && !f.nil && f.body_len != f.size)
		return lg_bad(error_r, "message %u: BODY[] has %zu bytes, RFC822.SIZE says %u",
			      seq, f.body_len, f.size);
	if (f.has_flags) {
		c->msgs[seq - 1].flags = f.flags;
		c->msgs[seq - 1].flags_known = true;
	}
	if (c->state == LG_S_CMD && c->op->fetch != NULL)
		return c->op->fetch(c, &f, error_r);
	return 0;
}

static int lg_search_resp(struct lg_conn *c, struct imap_tok *t,
			  const char **error_r)
{
	uint8_t *hit;
	uint32_t n;
	int ret = -1;

	if (c->state != LG_S_CMD || c->cmd != LG_C_SEARCH)
		return lg_bad(error_r, "SEARCH response without a SEARCH");
	c->os.searches++;
	hit = calloc(c->exists + 1, 1);
	if (hit == NULL)
		return lg_bad(error_r, "out of memory");
	while (!imap_tok_eof(t)) {
		if (imap_tok_char(t, ' ', error_r) < 0 ||
		    imap_tok_number(t, &n, error_r) < 0)
			goto out;
		if (n == 0 || n > c->exists) {
			lg_bad(error_r, "SEARCH hit %u of %u messages", n, c->exists);
			goto out;
		}
		if (hit[n]++) {
			lg_bad(error_r, "SEARCH hit %u twice", n);
			goto out;
		}
	}
	ret = 0;
out:
	free(hit);
	return ret;
}

/* "* OK [CODE]", "* NO", "* BAD", "* BYE", "* PREAUTH" */
static int lg_status_resp(struct lg_conn *c, const char *word, size_t wlen,
			  struct imap_tok *t, enum lg_err *err_r,
			  const char **error_r)
{
	const char *code;
	size_t clen;
	uint32_t n;

	if (!imap_tok_eof(t) && imap_tok_char(t, ' ', error_r) < 0)
		return -1;
	if (imap_tok_resp_code(t, &code, &clen, error_r) < 0)
		return -1;
	if (clen > 12 && strncasecmp(code, "UIDVALIDITY ", 12) == 0) {
		if (imap_atom_u32(code + 12, clen - 12, &n) < 0 || n == 0)
			return lg_bad(error_r, "bad UIDVALIDITY");
		c->uidvalidity = n;
		c->select_uidvalidity = true;
	} else if (clen > 11 && strncasecmp(code, "CAPABILITY ", 11) == 0) {
		lg_note_caps(c, code - 1, clen + 1);
	}
	if (imap_atom_eq(word, wlen, "BYE")) {
		c->bye_seen = true;
		if (c->state != LG_S_CMD || c->cmd != LG_C_LOGOUT) {
			*err_r = LG_E_CLOSED;
			return lg_bad(error_r, "BYE: %.*s",
				      (int)(t->end - t->p > 100 ? 100 : t->end - t->p),
				      t->p);
		}
	} else if (imap_atom_eq(word, wlen, "BAD")) {
		*err_r = LG_E_BAD;
		return lg_bad(error_r, "untagged BAD: %.*s",
			      (int)(t->end - t->p > 100 ? 100 : t->end - t->p), t->p);
	}
	return 0;
}

/* Responses we never ask for but a server may send: tokenized only. */
static int lg_tokens(struct imap_tok *t, const char **error_r)
{
	struct imap_val v;

	while (!imap_tok_eof(t)) {
		if (imap_tok_char(t, ' ', error_r) < 0 ||
		    imap_tok_value(t, &v, error_r) < 0)
			return -1;
	}
	return 0;
}

static int lg_numbered(struct lg_conn *c, struct imap_tok *t,
		       const char **error_r)
{
	const char *w;
	size_t wlen;
	uint32_t n;

	if (imap_tok_number(t, &n, error_r) < 0 ||
	    imap_tok_char(t, ' ', error_r) < 0 ||
	    imap_tok_atom(t, &w, &wlen, error_r) < 0)
		return -1;
	if (imap_atom_eq(w, wlen, "EXISTS"))
		return lg_exists(c, n, error_r);
	if (imap_atom_eq(w, wlen, "RECENT"))
		return 0;
	if (imap_atom_eq(w, wlen, "EXPUNGE"))
		return lg_expunge(c, n, error_r);
	if (imap_atom_eq(w, wlen, "FETCH"))
		return lg_fetch_resp(c, n, t, error_r);
	return lg_bad(error_r, "unknown response \"%u %.*s\"", n, (int)wlen, w);
}

int lg_untagged(struct lg_conn *c, const struct imap_resp *r,
		enum lg_err *err_r, const char **error_r)
{
	struct imap_tok t;
	const char *w;
	size_t wlen;

	*err_r = LG_E_PROTOCOL;
	imap_tok_init(&t, r->data + 2, r->len - 2);
	if (!imap_tok_eof(&t) && *t.p >= '0' && *t.p <= '9')
		return lg_numbered(c, &t, error_r);
	if (imap_tok_atom(&t, &w, &wlen, error_r) < 0)
		return -1;
	if (imap_atom_eq(w, wlen, "OK") || imap_atom_eq(w, wlen, "NO") ||
	    imap_atom_eq(w, wlen, "BAD") || imap_atom_eq(w, wlen, "BYE") ||
	    imap_atom_eq(w, wlen, "PREAUTH"))
		return lg_status_resp(c, w, wlen, &t, err_r, error_r);
	if (imap_atom_eq(w, wlen, "CAPABILITY")) {
		lg_note_caps(c, t.p, t.end - t.p);
		return 0;
	}
	if (imap_atom_eq(w, wlen, "SEARCH"))
		return lg_search_resp(c, &t, error_r);
	if (imap_atom_eq(w, wlen, "FLAGS") || imap_atom_eq(w, wlen, "LIST") ||
	    imap_atom_eq(w, wlen, "LSUB") || imap_atom_eq(w, wlen, "STATUS") ||
	    imap_atom_eq(w, wlen, "ENABLED") || imap_atom_eq(w, wlen, "ID") ||
	    imap_atom_eq(w, wlen, "NAMESPACE") || imap_atom_eq(w, wlen, "ESEARCH"))
		return lg_tokens(&t, error_r);
	return lg_bad(error_r, "unknown untagged response \"%.*s\"", (int)wlen, w);
}
