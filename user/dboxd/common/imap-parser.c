// SPDX-License-Identifier: GPL-2.0-or-later
/* Tokenising an IMAP command into an argument tree; see imap-parser.h. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "imap-parser.h"

#define IMAP_MAX_LIST_DEPTH 32

struct parser {
	const struct imap_command_text *cmd;
	struct dboxd_pool *pool;
	unsigned int seg;	/* current segment */
	size_t pos;		/* position in its text */
	const char *error;
};

/* The last parse error; processes are single-threaded, and the message
   must outlive the parser's stack frame. */
static char parse_errbuf[120];

static const char *cur_text(struct parser *p)
{
	return p->cmd->segs[p->seg].text;
}

static size_t cur_len(struct parser *p)
{
	return p->cmd->segs[p->seg].len;
}

static bool at_end(struct parser *p)
{
	return p->pos >= cur_len(p) && p->seg + 1 >= p->cmd->count;
}

static int peek(struct parser *p)
{
	if (p->pos >= cur_len(p))
		return -1;
	return (unsigned char)cur_text(p)[p->pos];
}

static bool is_atom_char(int c)
{
	/* ATOM-CHAR plus the list wildcards and "]" (astring, LIST
	   patterns, sequence sets); "\" is handled by the caller. */
	return c > 0x20 && c < 0x7f && strchr("(){\"\\", c) == NULL;
}

static int parse_fail(struct parser *p, const char *fmt, const char *arg)
{
	snprintf(parse_errbuf, sizeof(parse_errbuf), fmt, arg);
	p->error = parse_errbuf;
	return -1;
}

static int parse_atom(struct parser *p, struct imap_arg *arg)
{
	const char *text = cur_text(p);
	size_t start = p->pos;
	int depth = 0;

	if (peek(p) == '\\')
		p->pos++;
	while (p->pos < cur_len(p)) {
		int c = (unsigned char)text[p->pos];

		if (depth > 0) {
			/* Inside [...]: anything printable. */
			if (c < 0x20 || c >= 0x7f)
				return parse_fail(p, "Invalid character in %s",
						  "section");
			if (c == ']')
				depth = 0;
			p->pos++;
			continue;
		}
		if (c == '[') {
			depth = 1;
			p->pos++;
			continue;
		}
		if (!is_atom_char(c))
			break;
		p->pos++;
	}
	if (depth > 0)
		return parse_fail(p, "Missing ']' in %s", "atom");
	if (p->pos == start || (p->pos == start + 1 && text[start] == '\\'))
		return parse_fail(p, "Unexpected character '%s'",
				  (char[]){ text[start], '\0' });
	if (p->pos < cur_len(p)) {
		int c = (unsigned char)text[p->pos];

		if (c != ' ' && c != ')' && c != '(')
			return parse_fail(p, "Invalid characters in %s",
					  "atom");
	}
	arg->type = IMAP_ARG_ATOM;
	arg->len = p->pos - start;
	arg->str = dboxd_pool_strndup(p->pool, text + start, arg->len);
	return 0;
}

static int parse_quoted(struct parser *p, struct imap_arg *arg)
{
	const char *text = cur_text(p);
	size_t len = cur_len(p), i = p->pos + 1, n = 0;
	char *out = dboxd_pool_alloc(p->pool, len - p->pos);

	for (; i < len; i++) {
		char c = text[i];

		if (c == '"')
			break;
		if (c == '\\') {
			if (i + 1 >= len ||
			    (text[i + 1] != '"' && text[i + 1] != '\\'))
				return parse_fail(p, "Invalid escape in %s",
						  "quoted string");
			c = text[++i];
		}
		out[n++] = c;
	}
	if (i >= len)
		return parse_fail(p, "Missing '\"' at the end of %s",
				  "quoted string");
	out[n] = '\0';
	p->pos = i + 1;
	arg->type = IMAP_ARG_STRING;
	arg->str = out;
	arg->len = n;
	return 0;
}

/* At "{" (or "~{") that ends the segment: take the literal. */
static int parse_literal(struct parser *p, struct imap_arg *arg)
{
	const struct imap_segment *seg = &p->cmd->segs[p->seg];

	if (seg->literal == NULL || p->seg + 1 >= p->cmd->count)
		return parse_fail(p, "Unexpected %s", "'{'");
	/* The reader only made a literal of a "{N}" ending the line; make
	   sure this "{" is that one. */
	if (strchr(cur_text(p) + p->pos, '}') !=
	    cur_text(p) + cur_len(p) - 1)
		return parse_fail(p, "Invalid %s", "literal");
	arg->type = IMAP_ARG_LITERAL;
	arg->str = (const char *)seg->literal;
	arg->len = seg->literal_len;
	arg->literal8 = seg->literal8;
	p->seg++;
	p->pos = 0;
	return 0;
}

static int parse_list(struct parser *p, struct imap_arg **args_r,
		      unsigned int *count_r, int depth, bool top);

static int parse_one(struct parser *p, struct imap_arg *arg, int depth)
{
	int c = peek(p);

	if (c == '"')
		return parse_quoted(p, arg);
	if (c == '{' || (c == '~' && p->pos + 1 < cur_len(p) &&
			 cur_text(p)[p->pos + 1] == '{')) {
		if (c == '~')
			p->pos++;
		return parse_literal(p, arg);
	}
	if (c == '(') {
		unsigned int count;

		if (depth >= IMAP_MAX_LIST_DEPTH)
			return parse_fail(p, "Too deeply nested %s", "lists");
		p->pos++;
		if (parse_list(p, &arg->list, &count, depth + 1, false) < 0)
			return -1;
		arg->type = IMAP_ARG_LIST;
		arg->len = count;
		return 0;
	}
	if (c == ')')
		return parse_fail(p, "Unexpected %s", "')'");
	if (c < 0)
		return parse_fail(p, "Missing %s", "argument");
	if (c >= 0x80)
		return parse_fail(p, "8-bit data in %s", "atom");
	return parse_atom(p, arg);
}

/* Arguments up to ")" (not top) or the end (top). */
static int parse_list(struct parser *p, struct imap_arg **args_r,
		      unsigned int *count_r, int depth, bool top)
{
	struct imap_arg *args = NULL;
	unsigned int count = 0, size = 0;

	for (;;) {
		int c;

		while (peek(p) == ' ')
			p->pos++;
		c = peek(p);
		if (c < 0) {
			if (!top)
				return parse_fail(p, "Missing %s", "')'");
			break;
		}
		if (c == ')') {
			if (top)
				return parse_fail(p, "Unexpected %s", "')'");
			p->pos++;
			break;
		}
		if (count + 1 >= size) {
			struct imap_arg *n;

			size = size == 0 ? 8 : size * 2;
			n = dboxd_pool_alloc(p->pool, size * sizeof(*n));
			if (count > 0)
				memcpy(n, args, count * sizeof(*n));
			args = n;
		}
		if (parse_one(p, &args[count], depth) < 0)
			return -1;
		count++;
		c = peek(p);
		if (c >= 0 && c != ' ' && c != ')' &&
		    args[count - 1].type != IMAP_ARG_LITERAL)
			return parse_fail(p, "Missing %s between arguments",
					  "space");
	}
	if (args == NULL)
		args = dboxd_pool_alloc(p->pool, sizeof(*args));
	args[count].type = IMAP_ARG_EOL;
	*args_r = args;
	*count_r = count;
	return 0;
}

static int parse_word(struct parser *p, const char **word_r, bool tag)
{
	const char *text = cur_text(p);
	size_t start = p->pos;

	while (p->pos < cur_len(p)) {
		unsigned char c = text[p->pos];

		if (c <= 0x20 || c >= 0x7f || strchr("(){%\"\\", c) != NULL)
			break;
		if (tag && c == '+')
			break;
		p->pos++;
	}
	if (p->pos == start)
		return -1;
	if (p->pos < cur_len(p) && text[p->pos] != ' ')
		return -1;
	*word_r = dboxd_pool_strndup(p->pool, text + start, p->pos - start);
	return 0;
}

int imap_parse_tag_name(const struct imap_command_text *cmd,
			struct dboxd_pool *pool,
			struct imap_parsed_command *parsed_r,
			const char **error_r)
{
	struct parser p = { .cmd = cmd, .pool = pool };

	memset(parsed_r, 0, sizeof(*parsed_r));
	if (cmd->count == 0 || parse_word(&p, &parsed_r->tag, true) < 0 ||
	    strchr(parsed_r->tag, '*') != NULL) {
		*error_r = "Invalid tag";
		return -1;
	}
	if (peek(&p) != ' ') {
		*error_r = "Missing command";
		return -1;
	}
	p.pos++;
	if (parse_word(&p, &parsed_r->name, false) < 0) {
		*error_r = "Invalid command name";
		return -1;
	}
	return (int)p.pos;
}

int imap_parse_command(const struct imap_command_text *cmd,
		       struct dboxd_pool *pool,
		       struct imap_parsed_command *parsed_r,
		       const char **error_r)
{
	struct parser p = { .cmd = cmd, .pool = pool };
	int pos = imap_parse_tag_name(cmd, pool, parsed_r, error_r);

	if (pos < 0)
		return -1;
	p.pos = (size_t)pos;
	if (peek(&p) == ' ')
		p.pos++;
	if (parse_list(&p, &parsed_r->args, &parsed_r->arg_count, 0,
		       true) < 0) {
		*error_r = p.error;
		return -1;
	}
	if (!at_end(&p)) {
		*error_r = "Unexpected data after the command";
		return -1;
	}
	return 0;
}

bool imap_arg_is_nil(const struct imap_arg *arg)
{
	return arg->type == IMAP_ARG_ATOM && strcasecmp(arg->str, "NIL") == 0;
}

bool imap_arg_atom_equals(const struct imap_arg *arg, const char *name)
{
	return arg->type == IMAP_ARG_ATOM && strcasecmp(arg->str, name) == 0;
}

bool imap_arg_get_atom(const struct imap_arg *arg, const char **str_r)
{
	if (arg->type != IMAP_ARG_ATOM)
		return false;
	*str_r = arg->str;
	return true;
}

bool imap_arg_get_string(const struct imap_arg *arg, const char **str_r)
{
	if (arg->type != IMAP_ARG_STRING && arg->type != IMAP_ARG_LITERAL)
		return false;
	if (strlen(arg->str) != arg->len)
		return false;
	*str_r = arg->str;
	return true;
}

bool imap_arg_get_astring(const struct imap_arg *arg, const char **str_r)
{
	if (arg->type == IMAP_ARG_ATOM) {
		/* astring atoms have no list wildcards */
		if (strpbrk(arg->str, "%*") != NULL)
			return false;
		*str_r = arg->str;
		return true;
	}
	return imap_arg_get_string(arg, str_r);
}

bool imap_arg_get_nstring(const struct imap_arg *arg, const char **str_r)
{
	if (imap_arg_is_nil(arg)) {
		*str_r = NULL;
		return true;
	}
	return imap_arg_get_string(arg, str_r);
}

bool imap_arg_get_list(const struct imap_arg *arg,
		       const struct imap_arg **list_r, unsigned int *count_r)
{
	if (arg->type != IMAP_ARG_LIST)
		return false;
	*list_r = arg->list;
	if (count_r != NULL)
		*count_r = (unsigned int)arg->len;
	return true;
}

unsigned int imap_args_count(const struct imap_arg *args)
{
	unsigned int n = 0;

	while (args[n].type != IMAP_ARG_EOL)
		n++;
	return n;
}
