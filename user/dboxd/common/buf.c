// SPDX-License-Identifier: GPL-2.0-or-later
/* Growable buffers; see buf.h. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "secret.h"

void dboxd_buf_init(struct dboxd_buf *buf, bool secret)
{
	memset(buf, 0, sizeof(*buf));
	buf->secret = secret;
}

void dboxd_buf_free(struct dboxd_buf *buf)
{
	bool secret = buf->secret;

	if (secret)
		dboxd_secret_free(buf->data);
	else
		free(buf->data);
	dboxd_buf_init(buf, secret);
}

unsigned char *dboxd_buf_reserve(struct dboxd_buf *buf, size_t len)
{
	size_t need, size;

	if (buf->size - buf->end >= len)
		return buf->data + buf->end;
	/* Reuse the consumed front before growing. */
	if (buf->start > 0) {
		memmove(buf->data, buf->data + buf->start,
			buf->end - buf->start);
		buf->end -= buf->start;
		buf->start = 0;
		if (buf->size - buf->end >= len)
			return buf->data + buf->end;
	}
	if (len > SIZE_MAX / 4 - buf->end)
		dboxd_fatal("buffer grows beyond %zu bytes", buf->end + len);
	need = buf->end + len;
	size = buf->size < 256 ? 256 : buf->size;
	while (size < need)
		size *= 2;
	if (buf->secret) {
		buf->data = dboxd_secret_realloc(buf->data, size);
	} else {
		buf->data = realloc(buf->data, size);
		if (buf->data == NULL)
			dboxd_fatal("out of memory (%zu bytes)", size);
	}
	buf->size = size;
	return buf->data + buf->end;
}

void dboxd_buf_commit(struct dboxd_buf *buf, size_t len)
{
	buf->end += len;
}

void dboxd_buf_append(struct dboxd_buf *buf, const void *data, size_t len)
{
	if (len == 0)
		return;
	memcpy(dboxd_buf_reserve(buf, len), data, len);
	buf->end += len;
}

void dboxd_buf_append_str(struct dboxd_buf *buf, const char *str)
{
	dboxd_buf_append(buf, str, strlen(str));
}

void dboxd_buf_printf(struct dboxd_buf *buf, const char *fmt, ...)
{
	va_list args;
	int n;

	va_start(args, fmt);
	n = vsnprintf(NULL, 0, fmt, args);
	va_end(args);
	if (n < 0)
		dboxd_fatal("vsnprintf failed");
	dboxd_buf_reserve(buf, (size_t)n + 1);
	va_start(args, fmt);
	vsnprintf((char *)buf->data + buf->end, (size_t)n + 1, fmt, args);
	va_end(args);
	buf->end += n;
}

void dboxd_buf_consume(struct dboxd_buf *buf, size_t len)
{
	if (len >= buf->end - buf->start) {
		buf->start = buf->end = 0;
		return;
	}
	buf->start += len;
}

void dboxd_buf_truncate(struct dboxd_buf *buf, size_t len)
{
	if (len < buf->end - buf->start)
		buf->end = buf->start + len;
}

void dboxd_buf_reset(struct dboxd_buf *buf)
{
	buf->start = buf->end = 0;
}
