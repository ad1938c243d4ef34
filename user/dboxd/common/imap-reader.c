// SPDX-License-Identifier: GPL-2.0-or-later
/* IMAP command framing: lines and literals; see imap-reader.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap-reader.h"
#include "log.h"
#include "secret.h"

enum reader_state {
	READER_LINE,		/* collecting a line */
	READER_LITERAL,		/* collecting literal bytes */
	READER_SKIP_LINE,	/* dropping an overlong line */
	READER_SKIP_LITERAL,	/* dropping the literal of a dropped line */
};

struct imap_reader {
	struct imap_reader_settings set;
	enum reader_state state;
	struct imap_command_text cmd;
	unsigned int seg_size;
	size_t line_total;	/* text bytes of this command so far */
	uint64_t literal_total;
	uint64_t literal_have;	/* bytes of the current literal read */
	uint64_t skip_left;
	/* the start and end of a line being skipped */
	char skip_head[80];
	size_t skip_head_len;
	char skip_tail[32];
	size_t skip_tail_len;
	char tag[80];
	char error[160];
};

struct imap_reader *imap_reader_create(const struct imap_reader_settings *set)
{
	struct imap_reader *r = calloc(1, sizeof(*r));

	if (r == NULL)
		dboxd_fatal("out of memory");
	r->set = *set;
	return r;
}

void imap_reader_done(struct imap_reader *r)
{
	for (unsigned int i = 0; i < r->cmd.count; i++) {
		free(r->cmd.segs[i].text);
		dboxd_secret_free(r->cmd.segs[i].literal);
	}
	r->cmd.count = 0;
	r->line_total = 0;
	r->literal_total = 0;
	r->literal_have = 0;
	if (r->state == READER_LITERAL)
		r->state = READER_LINE;
}

void imap_reader_destroy(struct imap_reader **_r)
{
	struct imap_reader *r = *_r;

	if (r == NULL)
		return;
	*_r = NULL;
	imap_reader_done(r);
	free(r->cmd.segs);
	free(r);
}

const struct imap_command_text *imap_reader_command(struct imap_reader *r)
{
	return &r->cmd;
}

const char *imap_reader_tag(const struct imap_reader *r)
{
	return r->tag;
}

const char *imap_reader_error(const struct imap_reader *r)
{
	return r->error;
}

uint64_t imap_reader_pending_bytes(const struct imap_reader *r)
{
	return r->line_total + r->literal_total;
}

bool imap_reader_in_command(const struct imap_reader *r)
{
	return r->cmd.count > 0 || r->state != READER_LINE;
}

static bool is_tag_char(unsigned char c)
{
	/* ASTRING-CHAR except "+": no CTL, SP, ( ) { % * " \ + and 8-bit */
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\+", c) == NULL;
}

/* The tag at the start of a line, or "*". */
static void reader_set_tag(struct imap_reader *r, const char *line, size_t len)
{
	size_t n = 0;

	while (n < len && n < sizeof(r->tag) - 1 &&
	       is_tag_char((unsigned char)line[n]))
		n++;
	if (n == 0 || n == sizeof(r->tag) - 1 || (n < len && line[n] != ' ')) {
		strcpy(r->tag, "*");
		return;
	}
	memcpy(r->tag, line, n);
	r->tag[n] = '\0';
}

static void reader_drop(struct imap_reader *r)
{
	/* keep r->tag and r->error for the caller */
	imap_reader_done(r);
	r->state = READER_LINE;
}

/*
 * Does the line end with a literal announcement? Returns 1 and fills the
 * outputs, 0 if not, -1 if it looks like one but is malformed.
 */
static int parse_literal_marker(const char *line, size_t len, uint64_t *n_r,
				bool *sync_r, bool *literal8_r,
				size_t *marker_start_r)
{
	size_t i, digits_end;
	uint64_t n = 0;

	if (len < 3 || line[len - 1] != '}')
		return 0;
	i = len - 1;
	*sync_r = true;
	if (line[i - 1] == '+' || line[i - 1] == '-') {
		*sync_r = false;
		i--;
	}
	digits_end = i;
	while (i > 0 && isdigit((unsigned char)line[i - 1]))
		i--;
	if (i == 0 || line[i - 1] != '{')
		return 0;
	if (i == digits_end)
		return -1;
	if (digits_end - i > 19)
		return -1;	/* more than fits; surely over any limit */
	for (size_t j = i; j < digits_end; j++)
		n = n * 10 + (uint64_t)(line[j] - '0');
	i--;	/* at '{' */
	*literal8_r = i > 0 && line[i - 1] == '~';
	if (*literal8_r)
		i--;
	*n_r = n;
	*marker_start_r = i;
	return 1;
}

static void reader_add_segment(struct imap_reader *r, const char *line,
			       size_t len)
{
	struct imap_segment *seg;

	if (r->cmd.count == r->seg_size) {
		r->seg_size = r->seg_size == 0 ? 4 : r->seg_size * 2;
		r->cmd.segs = realloc(r->cmd.segs,
				      r->seg_size * sizeof(*r->cmd.segs));
		if (r->cmd.segs == NULL)
			dboxd_fatal("out of memory");
	}
	seg = &r->cmd.segs[r->cmd.count++];
	memset(seg, 0, sizeof(*seg));
	seg->text = malloc(len + 1);
	if (seg->text == NULL)
		dboxd_fatal("out of memory");
	memcpy(seg->text, line, len);
	seg->text[len] = '\0';
	seg->len = len;
}

/* A complete line is in line[0..len). */
static enum imap_reader_status reader_line(struct imap_reader *r,
					   const char *line, size_t len)
{
	struct imap_segment *seg;
	uint64_t n;
	bool sync, literal8;
	size_t marker;
	int ret;

	if (r->cmd.count == 0)
		reader_set_tag(r, line, len);
	if (memchr(line, '\0', len) != NULL) {
		snprintf(r->error, sizeof(r->error), "NUL byte in command");
		reader_drop(r);
		return IMAP_READER_BAD;
	}
	r->line_total += len;
	reader_add_segment(r, line, len);
	ret = parse_literal_marker(line, len, &n, &sync, &literal8, &marker);
	if (ret == 0)
		return IMAP_READER_COMMAND;
	if (ret < 0) {
		snprintf(r->error, sizeof(r->error), "Invalid literal size");
		reader_drop(r);
		return sync ? IMAP_READER_BAD : IMAP_READER_FATAL;
	}
	if (n > r->set.max_literal ||
	    n > r->set.max_literals_total - r->literal_total ||
	    r->cmd.count > r->set.max_literals) {
		snprintf(r->error, sizeof(r->error),
			 "Literal too large (%llu bytes; limit %llu)",
			 (unsigned long long)n,
			 (unsigned long long)r->set.max_literal);
		reader_drop(r);
		return sync ? IMAP_READER_TOOBIG : IMAP_READER_FATAL;
	}
	seg = &r->cmd.segs[r->cmd.count - 1];
	seg->literal = dboxd_secret_alloc(n + 1);
	seg->literal[n] = '\0';
	seg->literal_len = n;
	seg->literal8 = literal8;
	r->literal_total += n;
	r->literal_have = 0;
	r->state = READER_LITERAL;
	(void)marker;
	return sync ? IMAP_READER_CONTINUE : IMAP_READER_NEED_MORE;
}

static void skip_note_tail(struct imap_reader *r, const char *data, size_t len)
{
	size_t keep = sizeof(r->skip_tail);

	if (len >= keep) {
		memcpy(r->skip_tail, data + len - keep, keep);
		r->skip_tail_len = keep;
		return;
	}
	if (r->skip_tail_len + len > keep) {
		size_t drop = r->skip_tail_len + len - keep;

		memmove(r->skip_tail, r->skip_tail + drop,
			r->skip_tail_len - drop);
		r->skip_tail_len -= drop;
	}
	memcpy(r->skip_tail + r->skip_tail_len, data, len);
	r->skip_tail_len += len;
}

/* Start dropping a line that is too long; head is what we have of it. */
static void reader_start_skip(struct imap_reader *r, const char *head,
			      size_t len)
{
	if (r->cmd.count == 0) {
		r->skip_head_len = len < sizeof(r->skip_head) ?
				   len : sizeof(r->skip_head);
		memcpy(r->skip_head, head, r->skip_head_len);
		reader_set_tag(r, r->skip_head, r->skip_head_len);
	}
	imap_reader_done(r);
	r->skip_tail_len = 0;
	r->state = READER_SKIP_LINE;
}

/* The skipped line ended; a LITERAL+ at its end must be skipped too. */
static enum imap_reader_status reader_skip_done(struct imap_reader *r)
{
	size_t len = r->skip_tail_len, marker;
	uint64_t n;
	bool sync, literal8;

	while (len > 0 && r->skip_tail[len - 1] == '\r')
		len--;
	snprintf(r->error, sizeof(r->error), "Command line too long");
	r->state = READER_LINE;
	if (parse_literal_marker(r->skip_tail, len, &n, &sync, &literal8,
				 &marker) == 1 && !sync) {
		if (n > r->set.max_literal)
			return IMAP_READER_FATAL;
		r->skip_left = n;
		r->state = READER_SKIP_LITERAL;
		/* The BAD goes out now; the rest is dropped quietly. */
	}
	return IMAP_READER_BAD;
}

enum imap_reader_status imap_reader_feed(struct imap_reader *r,
					 struct dboxd_buf *in)
{
	for (;;) {
		const char *data = (const char *)dboxd_buf_ptr(in);
		size_t avail = dboxd_buf_len(in);
		const char *lf;

		switch (r->state) {
		case READER_LITERAL: {
			struct imap_segment *seg =
				&r->cmd.segs[r->cmd.count - 1];
			uint64_t want = seg->literal_len - r->literal_have;
			size_t n = avail < want ? avail : (size_t)want;

			memcpy(seg->literal + r->literal_have, data, n);
			r->literal_have += n;
			dboxd_buf_consume(in, n);
			if (r->literal_have < seg->literal_len)
				return IMAP_READER_NEED_MORE;
			r->state = READER_LINE;
			continue;
		}
		case READER_SKIP_LITERAL: {
			size_t n = avail < r->skip_left ? avail :
				   (size_t)r->skip_left;

			dboxd_buf_consume(in, n);
			r->skip_left -= n;
			if (r->skip_left > 0)
				return IMAP_READER_NEED_MORE;
			r->state = READER_LINE;
			continue;
		}
		case READER_SKIP_LINE:
			lf = memchr(data, '\n', avail);
			if (lf == NULL) {
				skip_note_tail(r, data, avail);
				dboxd_buf_consume(in, avail);
				return IMAP_READER_NEED_MORE;
			}
			skip_note_tail(r, data, lf - data);
			dboxd_buf_consume(in, lf - data + 1);
			return reader_skip_done(r);
		case READER_LINE:
			break;
		}

		lf = memchr(data, '\n', avail);
		if (lf == NULL) {
			if (r->line_total + avail > r->set.max_line) {
				reader_start_skip(r, data, avail);
				continue;
			}
			return IMAP_READER_NEED_MORE;
		} else {
			size_t len = lf - data;
			enum imap_reader_status st;

			if (r->line_total + len > r->set.max_line) {
				reader_start_skip(r, data, len);
				continue;
			}
			if (len > 0 && data[len - 1] == '\r')
				len--;
			st = reader_line(r, data, len);
			dboxd_buf_consume(in, lf - data + 1);
			if (st == IMAP_READER_NEED_MORE)
				continue;
			return st;
		}
	}
}

int imap_read_raw_line(struct dboxd_buf *input, size_t max, char **line_r,
		       bool secret)
{
	const char *data = (const char *)dboxd_buf_ptr(input);
	size_t avail = dboxd_buf_len(input);
	const char *lf = memchr(data, '\n', avail);
	size_t len;
	char *line;

	if (lf == NULL)
		return avail > max ? -1 : 0;
	len = lf - data;
	if (len > max)
		return -1;
	dboxd_buf_consume(input, 0);
	line = secret ? dboxd_secret_alloc(len + 1) : malloc(len + 1);
	if (line == NULL)
		dboxd_fatal("out of memory");
	memcpy(line, data, len);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	dboxd_buf_consume(input, lf - data + 1);
	*line_r = line;
	return 1;
}
