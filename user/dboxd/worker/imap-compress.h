/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * COMPRESS=DEFLATE (RFC 4978): raw deflate both ways after the command.
 * After every tagged reply the output is flushed with Z_FULL_FLUSH, which
 * also resets the compression dictionary, so that data of one command
 * cannot be inferred from the compressed size of a later reply that mixes
 * it with attacker-chosen text (the lesson of a recent Dovecot fix; the
 * CRIME family of attacks).
 */
#ifndef DBOXD_IMAP_COMPRESS_H
#define DBOXD_IMAP_COMPRESS_H

#include <stddef.h>

struct imap_client;
struct imap_compress;

typedef int imap_compress_write_t(struct imap_client *client,
				  const void *data, size_t len,
				  size_t *written_r);

/* Start compressing: output from now on, and input already buffered. */
int imap_compress_start(struct imap_client *client, const char **error_r);
void imap_compress_free(struct imap_compress **comp);
/* Inflate received bytes into client->in. -1 on invalid data. */
int imap_compress_input(struct imap_client *client, const void *data,
			size_t len);
/* Deflate client->out and write. -1 when the connection broke. */
int imap_compress_flush(struct imap_client *client,
			imap_compress_write_t *write_fn);
/* A tagged reply was queued: end the deflate block and reset. */
void imap_compress_tagged_reply(struct imap_client *client);
size_t imap_compress_pending(const struct imap_compress *comp);

#endif
