// SPDX-License-Identifier: GPL-2.0-or-later
/* Streaming JSON writer; see json.h. */
#include <inttypes.h>
#include <string.h>

#include "json.h"

void ksmg_json_init(struct ksmg_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < len; i++) {
		/* A NUL terminator fails this test too, so we never overrun. */
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

void ksmg_json_write_string(FILE *f, const char *value)
{
	const unsigned char *s = (const unsigned char *)value;
	size_t len;

	fputc('"', f);
	while (*s != '\0') {
		if (*s == '"' || *s == '\\') {
			fputc('\\', f);
			fputc(*s++, f);
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(f, "\\u%04x", *s++);
		} else if ((len = utf8_len(s)) == 0) {
			fputs("\\ufffd", f);
			s++;
		} else {
			fwrite(s, 1, len, f);
			s += len;
		}
	}
	fputc('"', f);
}

/* Comma and key before a value in the current container. */
static void value_prefix(struct ksmg_json *j, const char *key)
{
	if (j->depth > 0) {
		if (j->nonempty[j->depth - 1])
			fputc(',', j->f);
		j->nonempty[j->depth - 1] = true;
	}
	if (key != NULL) {
		ksmg_json_write_string(j->f, key);
		fputc(':', j->f);
	}
}

static void container_begin(struct ksmg_json *j, const char *key, char open)
{
	value_prefix(j, key);
	fputc(open, j->f);
	/* Deeper nesting is a programming error; keep the output valid. */
	if (j->depth < KSMG_JSON_MAX_DEPTH)
		j->nonempty[j->depth] = false;
	j->depth++;
}

static void container_end(struct ksmg_json *j, char close)
{
	fputc(close, j->f);
	if (j->depth > 0)
		j->depth--;
}

void ksmg_json_object_begin(struct ksmg_json *j, const char *key)
{
	container_begin(j, key, '{');
}

void ksmg_json_object_end(struct ksmg_json *j)
{
	container_end(j, '}');
}

void ksmg_json_array_begin(struct ksmg_json *j, const char *key)
{
	container_begin(j, key, '[');
}

void ksmg_json_array_end(struct ksmg_json *j)
{
	container_end(j, ']');
}

void ksmg_json_string(struct ksmg_json *j, const char *key, const char *value)
{
	value_prefix(j, key);
	ksmg_json_write_string(j->f, value);
}

void ksmg_json_u64(struct ksmg_json *j, const char *key, uint64_t value)
{
	value_prefix(j, key);
	fprintf(j->f, "%" PRIu64, value);
}

void ksmg_json_s64(struct ksmg_json *j, const char *key, int64_t value)
{
	value_prefix(j, key);
	fprintf(j->f, "%" PRId64, value);
}

void ksmg_json_bool(struct ksmg_json *j, const char *key, bool value)
{
	value_prefix(j, key);
	fputs(value ? "true" : "false", j->f);
}

void ksmg_json_null(struct ksmg_json *j, const char *key)
{
	value_prefix(j, key);
	fputs("null", j->f);
}

void ksmg_json_finish(struct ksmg_json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
	j->depth = 0;
	j->nonempty[0] = false;
}
