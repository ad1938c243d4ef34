// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Response framing and tokenizing for the benchmark's IMAP clients. Strict
 * where a server bug would hide (CRLF only, literal sizes, balanced lists,
 * ENVELOPE shape), lenient where servers legitimately differ (response
 * code contents, human-readable text).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imap-parse.h"

static int imap_rbuf_reserve(struct imap_rbuf *b, size_t more)
{
	size_t cap;
	char *n;

	if (b->start > 0 && (b->start >= b->len || b->start > b->cap / 2)) {
		memmove(b->data, b->data + b->start, b->len - b->start);
		b->len -= b->start;
		b->scan -= b->start;
		b->start = 0;
	}
	if (b->len + more <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 16384;
	while (cap < b->len + more)
		cap *= 2;
	n = realloc(b->data, cap);
	if (n == NULL)
		return -1;
	b->data = n;
	b->cap = cap;
	return 0;
}

ssize_t imap_rbuf_fill(struct imap_rbuf *b, int fd)
{
	ssize_t n;

	if (imap_rbuf_reserve(b, 65536) < 0) {
		errno = ENOMEM;
		return -1;
	}
	n = read(fd, b->data + b->len, b->cap - b->len);
	if (n > 0)
		b->len += n;
	return n;
}

int imap_rbuf_put(struct imap_rbuf *b, const void *data, size_t len)
{
	if (imap_rbuf_reserve(b, len) < 0)
		return -1;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

void imap_rbuf_free(struct imap_rbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* If the line [s, e) ends in "{n}", the literal size; else -1. */
static long long imap_literal_size(const char *s, const char *e)
{
	const char *p = e;
	long long n = 0, mul = 1;

	if (p == s || p[-1] != '}')
		return -1;
	p--;
	if (p == s || p[-1] < '0' || p[-1] > '9')
		return -1;
	while (p > s && p[-1] >= '0' && p[-1] <= '9') {
		n += (p[-1] - '0') * mul;
		mul *= 10;
		if (mul > 100000000000LL)
			return -2;
		p--;
	}
	if (p == s || p[-1] != '{')
		return -1;
	return n;
}

int imap_rbuf_next(struct imap_rbuf *b, struct imap_resp *resp_r,
		   const char **error_r)
{
	b->start += b->taken;
	b->taken = 0;
	if (b->scan < b->start)
		b->scan = b->start;
	resp_r->data = NULL;
	resp_r->len = 0;

	for (;;) {
		char *s = b->data + b->scan, *e = b->data + b->len;
		char *nl = memchr(s, '\n', e - s);
		long long lit;

		if (nl == NULL) {
			if ((size_t)(e - s) > IMAP_MAX_LINE) {
				*error_r = "line longer than 64 KiB";
				return -1;
			}
			return 0;
		}
		if (nl == s || nl[-1] != '\r') {
			*error_r = "line ends in a bare LF";
			return -1;
		}
		if ((size_t)(nl - s) > IMAP_MAX_LINE) {
			*error_r = "line longer than 64 KiB";
			return -1;
		}
		lit = imap_literal_size(s, nl - 1);
		if (lit == -2 || lit > IMAP_MAX_LITERAL) {
			*error_r = "literal size out of range";
			return -1;
		}
		if (lit < 0) {
			resp_r->data = b->data + b->start;
			resp_r->len = (nl - 1) - resp_r->data;
			b->scan = nl + 1 - b->data;
			b->taken = b->scan - b->start;
			return 0;
		}
		/* the literal must be complete before the line after it
		 * can be looked for */
		if ((size_t)(e - (nl + 1)) < (size_t)lit)
			return 0;
		b->scan = (nl + 1 - b->data) + lit;
	}
}

static const char *const err_eof = "response ends too early";

int imap_tok_char(struct imap_tok *t, char c, const char **error_r)
{
	if (t->p >= t->end || *t->p != c) {
		*error_r = c == ' ' ? "expected a space" :
			   c == ')' ? "expected ')'" :
			   c == '(' ? "expected '('" : "unexpected character";
		return -1;
	}
	t->p++;
	return 0;
}

static bool imap_atom_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("(){}\"[]", c) == NULL;
}

int imap_tok_atom(struct imap_tok *t, const char **s_r, size_t *len_r,
		  const char **error_r)
{
	const char *s = t->p;

	while (t->p < t->end && imap_atom_char(*t->p))
		t->p++;
	if (t->p == s) {
		*error_r = t->p >= t->end ? err_eof : "expected an atom";
		return -1;
	}
	*s_r = s;
	*len_r = t->p - s;
	return 0;
}

int imap_atom_u32(const char *s, size_t len, uint32_t *n_r)
{
	uint64_t n = 0;

	if (len == 0 || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	if (n > UINT32_MAX)
		return -1;
	*n_r = n;
	return 0;
}

int imap_tok_number(struct imap_tok *t, uint32_t *n_r, const char **error_r)
{
	const char *s;
	size_t len;

	if (imap_tok_atom(t, &s, &len, error_r) < 0)
		return -1;
	if (imap_atom_u32(s, len, n_r) < 0) {
		*error_r = "expected a number";
		return -1;
	}
	return 0;
}

bool imap_atom_eq(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

static int imap_tok_quoted(struct imap_tok *t, struct imap_val *v,
			   const char **error_r)
{
	const char *s = ++t->p;

	while (t->p < t->end && *t->p != '"') {
		if (*t->p == '\r' || *t->p == '\n') {
			*error_r = "CR or LF in a quoted string";
			return -1;
		}
		if (*t->p == '\\') {
			if (t->p + 1 >= t->end ||
			    (t->p[1] != '\\' && t->p[1] != '"')) {
				*error_r = "bad escape in a quoted string";
				return -1;
			}
			t->p++;
		}
		t->p++;
	}
	if (t->p >= t->end) {
		*error_r = "unterminated quoted string";
		return -1;
	}
	v->type = IMAP_V_QUOTED;
	v->s = s;
	v->len = t->p - s;
	t->p++;
	return 0;
}

static int imap_tok_literal(struct imap_tok *t, struct imap_val *v,
			    const char **error_r)
{
	uint64_t n = 0;

	t->p++;
	while (t->p < t->end && *t->p >= '0' && *t->p <= '9' && n < IMAP_MAX_LITERAL)
		n = n * 10 + (*t->p++ - '0');
	if (t->end - t->p < 3 || memcmp(t->p, "}\r\n", 3) != 0) {
		*error_r = "malformed literal announcement";
		return -1;
	}
	t->p += 3;
	if ((uint64_t)(t->end - t->p) < n) {
		*error_r = "literal shorter than announced";
		return -1;
	}
	v->type = IMAP_V_LITERAL;
	v->s = t->p;
	v->len = n;
	t->p += n;
	return 0;
}

static int imap_tok_value_depth(struct imap_tok *t, struct imap_val *v,
				unsigned int depth, const char **error_r);

static int imap_tok_list(struct imap_tok *t, struct imap_val *v,
			 unsigned int depth, const char **error_r)
{
	const char *s = ++t->p;
	struct imap_val item;

	if (depth >= IMAP_MAX_DEPTH) {
		*error_r = "lists nested too deeply";
		return -1;
	}
	while (t->p < t->end && *t->p != ')') {
		/* items are separated by a space, except that lists may
		 * follow lists directly (body parts in BODYSTRUCTURE) */
		bool adjacent = t->p != s && t->p[-1] == ')' && *t->p == '(';

		if (t->p != s && !adjacent && imap_tok_char(t, ' ', error_r) < 0)
			return -1;
		if (imap_tok_value_depth(t, &item, depth + 1, error_r) < 0)
			return -1;
	}
	if (t->p >= t->end) {
		*error_r = "unterminated list";
		return -1;
	}
	v->type = IMAP_V_LIST;
	v->s = s;
	v->len = t->p - s;
	t->p++;
	return 0;
}

static int imap_tok_value_depth(struct imap_tok *t, struct imap_val *v,
				unsigned int depth, const char **error_r)
{
	if (t->p >= t->end) {
		*error_r = err_eof;
		return -1;
	}
	switch (*t->p) {
	case '(':
		return imap_tok_list(t, v, depth, error_r);
	case '"':
		return imap_tok_quoted(t, v, error_r);
	case '{':
		return imap_tok_literal(t, v, error_r);
	default:
		/* a section inside a list (BODYSTRUCTURE never has one, but
		 * a FETCH name inside a list may) is tokenized as a name */
		if (imap_tok_fetch_name(t, &v->s, &v->len, error_r) < 0)
			return -1;
		v->type = imap_atom_eq(v->s, v->len, "NIL") ? IMAP_V_NIL :
			  IMAP_V_ATOM;
		return 0;
	}
}

int imap_tok_value(struct imap_tok *t, struct imap_val *v_r,
		   const char **error_r)
{
	return imap_tok_value_depth(t, v_r, 0, error_r);
}

/* Skips a bracketed span starting at '[': parentheses and quoted strings
 * inside may hold ']' without ending it. */
static int imap_skip_brackets(struct imap_tok *t, const char **error_r)
{
	int parens = 0;

	t->p++;
	while (t->p < t->end) {
		char c = *t->p;

		if (c == '"') {
			struct imap_val v;

			if (imap_tok_quoted(t, &v, error_r) < 0)
				return -1;
			continue;
		}
		if (c == '\r' || c == '\n')
			break;
		t->p++;
		if (c == '(')
			parens++;
		else if (c == ')')
			parens--;
		else if (c == ']' && parens <= 0)
			return 0;
	}
	*error_r = "unterminated '['";
	return -1;
}

int imap_tok_fetch_name(struct imap_tok *t, const char **s_r, size_t *len_r,
			const char **error_r)
{
	const char *s = t->p;

	while (t->p < t->end && imap_atom_char(*t->p))
		t->p++;
	if (t->p < t->end && *t->p == '[' && t->p > s) {
		if (imap_skip_brackets(t, error_r) < 0)
			return -1;
		if (t->p < t->end && *t->p == '<') {
			while (t->p < t->end && *t->p != '>')
				t->p++;
			if (t->p >= t->end) {
				*error_r = "unterminated '<'";
				return -1;
			}
			t->p++;
		}
	}
	if (t->p == s) {
		*error_r = t->p >= t->end ? err_eof : "expected an atom";
		return -1;
	}
	*s_r = s;
	*len_r = t->p - s;
	return 0;
}

int imap_tok_resp_code(struct imap_tok *t, const char **s_r, size_t *len_r,
		       const char **error_r)
{
	const char *s;

	*len_r = 0;
	*s_r = t->p;
	if (t->p >= t->end || *t->p != '[')
		return 0;
	s = t->p + 1;
	if (imap_skip_brackets(t, error_r) < 0)
		return -1;
	*s_r = s;
	*len_r = t->p - 1 - s;
	return 0;
}

static bool imap_nstring(const struct imap_val *v)
{
	return v->type == IMAP_V_NIL || v->type == IMAP_V_QUOTED ||
	       v->type == IMAP_V_LITERAL;
}

/* NIL, or a list of addresses, each a list of four nstrings */
static int imap_check_addresses(const struct imap_val *v, const char **error_r)
{
	struct imap_tok t, at;
	struct imap_val a, f;
	unsigned int n;

	if (v->type == IMAP_V_NIL)
		return 0;
	if (v->type != IMAP_V_LIST || v->len == 0) {
		*error_r = "ENVELOPE address field is neither NIL nor a list";
		return -1;
	}
	imap_tok_init(&t, v->s, v->len);
	/* RFC 3501 "1*address": addresses follow each other directly */
	while (!imap_tok_eof(&t)) {
		if (imap_tok_value(&t, &a, error_r) < 0)
			return -1;
		if (a.type != IMAP_V_LIST) {
			*error_r = "ENVELOPE address is not a list";
			return -1;
		}
		imap_tok_init(&at, a.s, a.len);
		for (n = 0; !imap_tok_eof(&at); n++) {
			if (n && imap_tok_char(&at, ' ', error_r) < 0)
				return -1;
			if (imap_tok_value(&at, &f, error_r) < 0)
				return -1;
			if (!imap_nstring(&f)) {
				*error_r = "ENVELOPE address part is not an nstring";
				return -1;
			}
		}
		if (n != 4) {
			*error_r = "ENVELOPE address has not four parts";
			return -1;
		}
	}
	return 0;
}

int imap_check_envelope(const struct imap_val *v, const char **error_r)
{
	struct imap_tok t;
	struct imap_val f;
	unsigned int n;

	if (v->type != IMAP_V_LIST) {
		*error_r = "ENVELOPE is not a list";
		return -1;
	}
	imap_tok_init(&t, v->s, v->len);
	for (n = 0; !imap_tok_eof(&t); n++) {
		if (n && imap_tok_char(&t, ' ', error_r) < 0)
			return -1;
		if (imap_tok_value(&t, &f, error_r) < 0)
			return -1;
		if (n >= 2 && n <= 7) {
			if (imap_check_addresses(&f, error_r) < 0)
				return -1;
		} else if (!imap_nstring(&f)) {
			*error_r = "ENVELOPE field is not an nstring";
			return -1;
		}
	}
	if (n != 10) {
		*error_r = "ENVELOPE has not ten fields";
		return -1;
	}
	return 0;
}
