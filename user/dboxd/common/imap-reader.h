/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Framing of IMAP commands: collects one command's line and its literals
 * (RFC 3501 {N}, RFC 7888 LITERAL+ {N+}, RFC 3516 literal8 ~{N}) from a
 * connection's input, within limits, without understanding the command.
 *
 * A command is kept as segments: the text of each line (without CRLF), and
 * for every line but the last the literal its "{N}" announced. Literal data
 * lives in secret memory (it is usually mail) until the next command.
 *
 * imap_reader_feed() consumes what it can and says what the caller must do:
 *
 *   NEED_MORE   read more input.
 *   CONTINUE    a synchronising literal was announced and accepted: send
 *               "+ ..." and feed again.
 *   COMMAND     a whole command is in imap_reader_command(); call
 *               imap_reader_done() when finished with it.
 *   TOOBIG      a synchronising literal over the limit: answer
 *               "<tag> NO [TOOBIG] ..." (the client sends no literal); the
 *               reader has dropped the command.
 *   BAD         the command was dropped (line too long, bad literal
 *               syntax): answer "<tag> BAD <error>".
 *   FATAL       cannot resynchronise (a non-synchronising literal over the
 *               limit): send "* BYE <error>" and disconnect.
 *
 * For BAD and TOOBIG, tag is the command's tag if it could be read, else
 * "*". A command line longer than the limit is skipped up to its end (and
 * a LITERAL+ literal it announced is skipped too) so the connection stays
 * usable.
 */
#ifndef DBOXD_IMAP_READER_H
#define DBOXD_IMAP_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct imap_reader_settings {
	size_t max_line;	/* all line text of one command */
	uint64_t max_literal;	/* one literal */
	uint64_t max_literals_total;	/* all literals of one command */
	unsigned int max_literals;	/* literals in one command */
};

struct imap_segment {
	char *text;		/* NUL-terminated line, CRLF removed */
	size_t len;
	/* The literal announced at the end of text (NULL in the last
	   segment). Secret memory, NUL-terminated, len not counting it. */
	unsigned char *literal;
	uint64_t literal_len;
	bool literal8;		/* ~{N} */
};

struct imap_command_text {
	struct imap_segment *segs;
	unsigned int count;
};

enum imap_reader_status {
	IMAP_READER_NEED_MORE,
	IMAP_READER_CONTINUE,
	IMAP_READER_COMMAND,
	IMAP_READER_TOOBIG,
	IMAP_READER_BAD,
	IMAP_READER_FATAL,
};

struct imap_reader;

struct imap_reader *imap_reader_create(const struct imap_reader_settings *set);
void imap_reader_destroy(struct imap_reader **reader);
enum imap_reader_status imap_reader_feed(struct imap_reader *reader,
					 struct dboxd_buf *input);
const struct imap_command_text *imap_reader_command(struct imap_reader *reader);
/* The tag for BAD/TOOBIG answers, and the reason for BAD/FATAL. */
const char *imap_reader_tag(const struct imap_reader *reader);
const char *imap_reader_error(const struct imap_reader *reader);
/* Free the command's segments and literals; ready for the next. */
void imap_reader_done(struct imap_reader *reader);
/* Bytes held for the command being collected (for memory limits). */
uint64_t imap_reader_pending_bytes(const struct imap_reader *reader);
/* True while in the middle of a command (some of it read). */
bool imap_reader_in_command(const struct imap_reader *reader);

/* Read one raw line (AUTHENTICATE responses, IDLE's DONE): 1 with the line
   (CRLF removed, malloc'd... into *line_r, NUL-terminated) consumed from
   input, 0 if incomplete, -1 if longer than max (input is then left
   alone). */
int imap_read_raw_line(struct dboxd_buf *input, size_t max, char **line_r,
		       bool secret);

#endif
