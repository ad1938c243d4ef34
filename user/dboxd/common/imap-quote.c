// SPDX-License-Identifier: GPL-2.0-or-later
/* IMAP string output; see imap-quote.h. */
#include <string.h>
#include <strings.h>

#include "imap-quote.h"

void imap_append_literal(struct dboxd_buf *out, const void *data, size_t len)
{
	dboxd_buf_printf(out, "{%zu}\r\n", len);
	dboxd_buf_append(out, data, len);
}

static bool quotable(const char *str, size_t len)
{
	/* Quoted strings cannot hold CR, LF or NUL; keep them short. 8-bit
	   text (UTF-8) is sent as a literal for clients without UTF8, and
	   so is text with '"' or '\\' (valid escaped, but some clients
	   mishandle escapes; Dovecot sends those as literals too). */
	if (len > 1024)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = str[i];

		if (c == '\r' || c == '\n' || c == '\0' || c >= 0x80 ||
		    c == '"' || c == '\\')
			return false;
	}
	return true;
}

void imap_append_string(struct dboxd_buf *out, const char *str, size_t len)
{
	if (!quotable(str, len)) {
		imap_append_literal(out, str, len);
		return;
	}
	dboxd_buf_append(out, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		if (str[i] == '"' || str[i] == '\\')
			dboxd_buf_append(out, "\\", 1);
		dboxd_buf_append(out, &str[i], 1);
	}
	dboxd_buf_append(out, "\"", 1);
}

void imap_append_nstring(struct dboxd_buf *out, const char *str)
{
	if (str == NULL)
		dboxd_buf_append_str(out, "NIL");
	else
		imap_append_string(out, str, strlen(str));
}

static bool is_atom(const char *str)
{
	if (*str == '\0' || strcasecmp(str, "NIL") == 0)
		return false;
	for (; *str != '\0'; str++) {
		unsigned char c = *str;

		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

void imap_append_astring(struct dboxd_buf *out, const char *str)
{
	if (is_atom(str))
		dboxd_buf_append_str(out, str);
	else
		imap_append_string(out, str, strlen(str));
}
