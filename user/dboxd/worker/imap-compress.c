// SPDX-License-Identifier: GPL-2.0-or-later
/* COMPRESS=DEFLATE; see imap-compress.h. */
#include <string.h>
#include <zlib.h>

#include "imap-client.h"
#include "imap-compress.h"
#include "log.h"
#include "secret.h"

struct imap_compress {
	z_stream in, out;
	struct dboxd_buf zout;	/* compressed, not yet written (secret) */
};

static void *zalloc(void *opaque, unsigned int items, unsigned int size)
{
	(void)opaque;
	/* zlib's windows hold mail: secret memory */
	return dboxd_secret_alloc((size_t)items * size);
}

static void zfree(void *opaque, void *ptr)
{
	(void)opaque;
	dboxd_secret_free(ptr);
}

int imap_compress_start(struct imap_client *c, const char **error_r)
{
	struct imap_compress *comp;
	struct dboxd_buf pending;

	comp = dboxd_secret_alloc(sizeof(*comp));
	memset(comp, 0, sizeof(*comp));
	comp->in.zalloc = comp->out.zalloc = zalloc;
	comp->in.zfree = comp->out.zfree = zfree;
	if (inflateInit2(&comp->in, -15) != Z_OK) {
		dboxd_secret_free(comp);
		*error_r = "inflateInit2 failed";
		return -1;
	}
	if (deflateInit2(&comp->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		inflateEnd(&comp->in);
		dboxd_secret_free(comp);
		*error_r = "deflateInit2 failed";
		return -1;
	}
	dboxd_buf_init(&comp->zout, true);
	/* The OK of COMPRESS itself still goes out uncompressed. */
	dboxd_buf_append(&comp->zout, dboxd_buf_ptr(&c->out),
			 dboxd_buf_len(&c->out));
	dboxd_buf_reset(&c->out);
	/* What the client sent after COMPRESS is compressed already. */
	pending = c->in;
	dboxd_buf_init(&c->in, true);
	c->compress = comp;
	if (imap_compress_input(c, dboxd_buf_ptr(&pending),
				dboxd_buf_len(&pending)) < 0) {
		dboxd_buf_free(&pending);
		*error_r = "invalid compressed data";
		return -1;
	}
	dboxd_buf_free(&pending);
	return 0;
}

void imap_compress_free(struct imap_compress **_comp)
{
	struct imap_compress *comp = *_comp;

	if (comp == NULL)
		return;
	*_comp = NULL;
	inflateEnd(&comp->in);
	deflateEnd(&comp->out);
	dboxd_buf_free(&comp->zout);
	dboxd_secret_free(comp);
}

int imap_compress_input(struct imap_client *c, const void *data, size_t len)
{
	z_stream *zs = &c->compress->in;

	zs->next_in = (Bytef *)data;
	zs->avail_in = (uInt)len;
	while (zs->avail_in > 0) {
		unsigned char *p = dboxd_buf_reserve(&c->in, 16384);
		int ret;

		zs->next_out = p;
		zs->avail_out = 16384;
		ret = inflate(zs, Z_SYNC_FLUSH);
		if (ret != Z_OK && ret != Z_BUF_ERROR && ret != Z_STREAM_END)
			return -1;
		dboxd_buf_commit(&c->in, 16384 - zs->avail_out);
		if (ret == Z_STREAM_END || (ret == Z_BUF_ERROR &&
					    zs->avail_out != 0))
			break;
	}
	return 0;
}

static void deflate_out(struct imap_client *c, int flush)
{
	struct imap_compress *comp = c->compress;
	z_stream *zs = &comp->out;

	zs->next_in = (Bytef *)dboxd_buf_ptr(&c->out);
	zs->avail_in = (uInt)dboxd_buf_len(&c->out);
	do {
		unsigned char *p = dboxd_buf_reserve(&comp->zout, 16384);

		zs->next_out = p;
		zs->avail_out = 16384;
		(void)deflate(zs, flush);
		dboxd_buf_commit(&comp->zout, 16384 - zs->avail_out);
	} while (zs->avail_out == 0 || zs->avail_in > 0);
	dboxd_buf_reset(&c->out);
}

void imap_compress_tagged_reply(struct imap_client *c)
{
	if (c->compress != NULL)
		deflate_out(c, Z_FULL_FLUSH);
}

int imap_compress_flush(struct imap_client *c, imap_compress_write_t *write_fn)
{
	struct imap_compress *comp = c->compress;

	if (dboxd_buf_len(&c->out) > 0)
		deflate_out(c, Z_FULL_FLUSH);
	while (dboxd_buf_len(&comp->zout) > 0) {
		size_t n;

		if (write_fn(c, dboxd_buf_ptr(&comp->zout),
			     dboxd_buf_len(&comp->zout), &n) < 0)
			return -1;
		if (n == 0)
			break;
		dboxd_buf_consume(&comp->zout, n);
	}
	return 0;
}

size_t imap_compress_pending(const struct imap_compress *comp)
{
	return dboxd_buf_len(&comp->zout);
}
