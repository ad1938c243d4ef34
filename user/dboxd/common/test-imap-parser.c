// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of command framing (imap-reader.c) and parsing
   (imap-parser.c). */
#include <string.h>

#include "imap-parser.h"
#include "imap-reader.h"
#include "secret.h"
#include "test-tap.h"

static const struct imap_reader_settings set = {
	.max_line = 100, .max_literal = 50, .max_literals_total = 80,
	.max_literals = 4,
};

/* Feed text all at once; return the status of the first stop. */
static enum imap_reader_status feed(struct imap_reader *r,
				    struct dboxd_buf *in, const char *text,
				    size_t len)
{
	dboxd_buf_append(in, text, len);
	return imap_reader_feed(r, in);
}

static void test_framing(void)
{
	struct imap_reader *r = imap_reader_create(&set);
	struct dboxd_buf in;
	const struct imap_command_text *cmd;
	enum imap_reader_status st;

	dboxd_buf_init(&in, false);
	st = feed(r, &in, "a NOOP", 6);
	tap_ok(st == IMAP_READER_NEED_MORE, "a line without CRLF needs more");
	st = feed(r, &in, "\r\n", 2);
	cmd = imap_reader_command(r);
	tap_ok(st == IMAP_READER_COMMAND && cmd->count == 1 &&
	       strcmp(cmd->segs[0].text, "a NOOP") == 0,
	       "a complete line is a command");
	imap_reader_done(r);

	st = feed(r, &in, "b LOGIN {5}\r\n", 13);
	tap_ok(st == IMAP_READER_CONTINUE, "a synchronising literal asks for +");
	st = imap_reader_feed(r, &in);
	tap_ok(st == IMAP_READER_NEED_MORE, "then waits for the bytes");
	st = feed(r, &in, "al\0ce pw\r\n", 10);
	cmd = imap_reader_command(r);
	tap_ok(st == IMAP_READER_COMMAND && cmd->count == 2 &&
	       cmd->segs[0].literal_len == 5 &&
	       memcmp(cmd->segs[0].literal, "al\0ce", 5) == 0 &&
	       strcmp(cmd->segs[1].text, " pw") == 0,
	       "literal bytes (NUL included) and the rest of the line");
	imap_reader_done(r);

	st = feed(r, &in, "c APPEND x {3+}\r\nabc\r\n", 22);
	tap_ok(st == IMAP_READER_COMMAND, "LITERAL+ needs no continuation");
	imap_reader_done(r);

	st = feed(r, &in, "d APPEND x {51}\r\n", 17);
	tap_ok(st == IMAP_READER_TOOBIG && strcmp(imap_reader_tag(r), "d") == 0,
	       "a synchronising literal over the limit is TOOBIG with its tag");
	st = feed(r, &in, "e NOOP\r\n", 8);
	tap_ok(st == IMAP_READER_COMMAND, "and the connection goes on");
	imap_reader_done(r);

	st = feed(r, &in, "f APPEND x {51+}\r\n", 18);
	tap_ok(st == IMAP_READER_FATAL, "a LITERAL+ over the limit is fatal");
	imap_reader_destroy(&r);
	dboxd_buf_reset(&in);

	r = imap_reader_create(&set);
	{
		char line[300];

		memset(line, 'x', sizeof(line));
		memcpy(line, "g NOOP ", 7);
		st = feed(r, &in, line, sizeof(line));
	}
	tap_ok(st == IMAP_READER_NEED_MORE, "an overlong line is skipped...");
	st = feed(r, &in, "\r\nh NOOP\r\n", 10);
	tap_ok(st == IMAP_READER_BAD && strcmp(imap_reader_tag(r), "g") == 0 &&
	       strstr(imap_reader_error(r), "too long") != NULL,
	       "...then BAD with its tag and a reason");
	st = imap_reader_feed(r, &in);
	tap_ok(st == IMAP_READER_COMMAND &&
	       strcmp(imap_reader_command(r)->segs[0].text, "h NOOP") == 0,
	       "the next command is read normally");
	imap_reader_done(r);

	{
		const char *many = "i X {1}\r\n1 {1}\r\n2 {1}\r\n3 {1}\r\n"
				   "4 {1}\r\n";

		st = feed(r, &in, many, strlen(many));
	}
	while (st == IMAP_READER_CONTINUE)
		st = imap_reader_feed(r, &in);
	tap_ok(st == IMAP_READER_TOOBIG, "too many literals in one command");
	imap_reader_destroy(&r);
	dboxd_buf_free(&in);
}

static bool parse(const char *line, struct dboxd_pool *pool,
		  struct imap_parsed_command *cmd, const char **error)
{
	struct imap_segment seg = { .text = (char *)line, .len = strlen(line) };
	struct imap_command_text text = { .segs = &seg, .count = 1 };

	return imap_parse_command(&text, pool, cmd, error) == 0;
}

static void test_parser(void)
{
	struct imap_parsed_command cmd;
	struct dboxd_pool pool;
	const struct imap_arg *list;
	const char *error = "", *s;
	unsigned int count;
	bool ok;

	dboxd_pool_init(&pool);
	tap_ok(parse("a1 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.10>)",
		     &pool, &cmd, &error) &&
	       strcmp(cmd.tag, "a1") == 0 && strcmp(cmd.name, "FETCH") == 0 &&
	       imap_arg_get_list(&cmd.args[1], &list, &count) && count == 2 &&
	       strcmp(list[1].str, "BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.10>") == 0,
	       "a bracketed section stays one atom, spaces and parens in it");
	tap_ok(parse("a LOGIN \"al\\\"ice\" \"p\\\\w\"", &pool, &cmd, &error) &&
	       strcmp(cmd.args[0].str, "al\"ice") == 0 &&
	       strcmp(cmd.args[1].str, "p\\w") == 0,
	       "quoted strings with escapes");
	tap_ok(parse("a X (a (b (c)) NIL) \\Seen", &pool, &cmd, &error) &&
	       cmd.args[0].type == IMAP_ARG_LIST && cmd.args[0].len == 3 &&
	       imap_arg_is_nil(&cmd.args[0].list[2]) &&
	       imap_arg_get_atom(&cmd.args[1], &s) && strcmp(s, "\\Seen") == 0,
	       "nested lists, NIL and flags");
	ok = !parse("a X \"open", &pool, &cmd, &error);
	tap_ok(ok && strstr(error, "\"") != NULL, "unterminated quote: %s",
	       error);
	ok = !parse("a X (a b", &pool, &cmd, &error);
	tap_ok(ok && strstr(error, "')'") != NULL, "unbalanced list: %s",
	       error);
	tap_ok(!parse("a X a)", &pool, &cmd, &error), "stray ')'");
	tap_ok(!parse("a X \"a\\x\"", &pool, &cmd, &error),
	       "invalid escape in a quoted string");
	tap_ok(!parse("* NOOP", &pool, &cmd, &error), "'*' is not a tag");
	tap_ok(!parse("a", &pool, &cmd, &error) &&
	       strcmp(error, "Missing command") == 0, "a tag alone");
	tap_ok(!parse("a X \xc3\xa4", &pool, &cmd, &error),
	       "8-bit atom refused");
	tap_ok(!parse("a X [abc", &pool, &cmd, &error), "unclosed bracket");
	{
		char deep[200];

		memset(deep, '(', sizeof(deep));
		memcpy(deep, "a X ", 4);
		deep[sizeof(deep) - 1] = '\0';
		tap_ok(!parse(deep, &pool, &cmd, &error) &&
		       strstr(error, "nested") != NULL, "list depth bounded");
	}
	dboxd_pool_free(&pool);
}

int main(void)
{
	const char *error;

	if (dboxd_secret_init(&error) < 0)
		return 1;
	test_framing();
	test_parser();
	return tap_done();
}
