/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A growable byte buffer with a read position, used for connection input
 * and output and for building IPC messages. A buffer created "secret" takes
 * its memory from secret.h (mail content, credentials); the others from
 * malloc. Allocation failure is fatal.
 */
#ifndef DBOXD_BUF_H
#define DBOXD_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct dboxd_buf {
	unsigned char *data;
	size_t start;		/* first unread byte */
	size_t end;		/* one past the last byte */
	size_t size;		/* allocated */
	bool secret;
};

void dboxd_buf_init(struct dboxd_buf *buf, bool secret);
/* Frees (wiping secret memory) and leaves an empty, reusable buffer. */
void dboxd_buf_free(struct dboxd_buf *buf);

static inline size_t dboxd_buf_len(const struct dboxd_buf *buf)
{
	return buf->end - buf->start;
}
static inline const unsigned char *dboxd_buf_ptr(const struct dboxd_buf *buf)
{
	return buf->data + buf->start;
}

/* Make room for at least len more bytes; returns where to write them. */
unsigned char *dboxd_buf_reserve(struct dboxd_buf *buf, size_t len);
void dboxd_buf_commit(struct dboxd_buf *buf, size_t len);
void dboxd_buf_append(struct dboxd_buf *buf, const void *data, size_t len);
void dboxd_buf_append_str(struct dboxd_buf *buf, const char *str);
void dboxd_buf_printf(struct dboxd_buf *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Drop len bytes from the front. */
void dboxd_buf_consume(struct dboxd_buf *buf, size_t len);
/* Keep only the first len unread bytes. */
void dboxd_buf_truncate(struct dboxd_buf *buf, size_t len);
void dboxd_buf_reset(struct dboxd_buf *buf);

#endif
