// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * single-dbox append: each message becomes its own file, written as
 * dbox-Mails/temp.* and fsync'd, then renamed to u.<uid> inside the index
 * transaction (RENAME_NOREPLACE: an existing u.<uid> is never replaced).
 * Such a file exists only if a writer died between its rename and its
 * commit; it is adopted as a message with that uid and the next uid is
 * tried.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../dbox-fs.h"
#include "../dbox-log.h"
#include "../dbox-op.h"
#include "sdbox.h"

static void build_file(const struct dbox_save_item *item, int64_t now,
		       struct dbox_buf *buf, uint64_t *msg_offset_r)
{
	unsigned char hdr[DBOX_MSG_HEADER_SIZE];
	struct dbox_metadata md = { NULL, 0 };
	char value[32];

	dbox_file_header_write(buf, now);
	*msg_offset_r = buf->len;
	dbox_msg_header_write(hdr, item->sizes.phys_size);
	dbox_buf_append(buf, hdr, sizeof(hdr));
	dbox_buf_append(buf, item->body, item->sizes.phys_size);
	/* the order Dovecot's dbox_save_write_metadata() uses */
	snprintf(value, sizeof(value), "%llx",
		 (unsigned long long)item->internal_date);
	dbox_metadata_add(&md, DBOX_METADATA_RECEIVED_TIME, value);
	snprintf(value, sizeof(value), "%llx",
		 (unsigned long long)item->sizes.virt_size);
	dbox_metadata_add(&md, DBOX_METADATA_VIRTUAL_SIZE, value);
	dbox_metadata_add(&md, DBOX_METADATA_GUID, item->guid);
	dbox_metadata_write(buf, &md);
	dbox_metadata_free(&md);
}

/* The files being written: they must outlive their requests. */
struct sdbox_save {
	struct dbox_buf *bufs;
	int *fds;
	unsigned int count;
};

static struct sdbox_save *save_state(struct dbox_save_ctx *ctx)
{
	struct sdbox_save *st = ctx->format_ctx;
	unsigned int i;

	if (st != NULL)
		return st;
	st = dbox_calloc(1, sizeof(*st));
	st->bufs = dbox_calloc(ctx->count, sizeof(*st->bufs));
	st->fds = dbox_calloc(ctx->count, sizeof(*st->fds));
	st->count = ctx->count;
	for (i = 0; i < ctx->count; i++) {
		st->fds[i] = -1;
		st->bufs[i].alloc = ctx->box->storage->set.mail_alloc;
	}
	ctx->format_ctx = st;
	return st;
}

static void save_state_free(struct dbox_save_ctx *ctx)
{
	struct sdbox_save *st = ctx->format_ctx;
	unsigned int i;

	if (st == NULL)
		return;
	for (i = 0; i < st->count; i++) {
		if (st->fds[i] >= 0)
			close(st->fds[i]);
		dbox_buf_free(&st->bufs[i]);
	}
	free(st->fds);
	free(st->bufs);
	free(st);
	ctx->format_ctx = NULL;
}

/* Stage 0: create temp.* files and write them. */
static int write_files(struct dbox_save_ctx *ctx, struct dbox_io_batch *batch,
		       const char **error_r)
{
	struct dbox_io *io = ctx->box->storage->io;
	struct sdbox_save *st = save_state(ctx);
	unsigned int i;

	for (i = 0; i < ctx->count; i++) {
		struct dbox_save_item *item = &ctx->items[i];

		item->temp_name = dbox_fs_temp_name();
		if (dbox_fs_open_file(ctx->box->dir_fd, item->temp_name,
				      O_WRONLY | O_CREAT | O_EXCL, 0600,
				      &st->fds[i]) < 0) {
			/* what was submitted still completes before the
			   engine calls save_finish, which frees buffers */
			dbox_fail(error_r, DBOX_ERROR_TEMP,
				  "creat(%s) failed: %m", item->temp_name);
			return i == 0 ? -1 : 1;
		}
		build_file(item, ctx->save_date, &st->bufs[i], &item->offset);
		dbox_io_batch_write(io, batch, st->fds[i], st->bufs[i].data,
				    st->bufs[i].len, 0);
	}
	return 1;
}

int sdbox_save_write(struct dbox_save_ctx *ctx, unsigned int stage,
		     struct dbox_io_batch *batch, const char **error_r)
{
	struct dbox_io *io = ctx->box->storage->io;
	struct sdbox_save *st;
	unsigned int i;

	switch (stage) {
	case 0:
		return write_files(ctx, batch, error_r);
	case 1:
		st = save_state(ctx);
		for (i = 0; i < ctx->count; i++) {
			if (st->fds[i] < 0) {
				/* stage 0 stopped at a failed creat */
				return dbox_fail(error_r, DBOX_ERROR_TEMP,
						 "creat(%s) failed",
						 ctx->items[i].temp_name);
			}
		}
		/* data and size durable; the name is made durable by the
		   directory fsync after the rename */
		for (i = 0; i < ctx->count; i++)
			dbox_io_batch_fsync(io, batch, st->fds[i], true);
		return 1;
	default:
		return 0;
	}
}

/* rename(2) that never replaces: renameat2 where the filesystem has it,
   link + unlink elsewhere. */
static int rename_noreplace(int dir_fd, const char *from, const char *to)
{
	if (renameat2(dir_fd, from, dir_fd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (linkat(dir_fd, from, dir_fd, to, 0) < 0)
		return -1;
	(void)unlinkat(dir_fd, from, 0);
	return 0;
}

int sdbox_save_place(struct dbox_save_ctx *ctx, struct dbox_txn *txn,
		     struct dbox_idx_mailbox_rec *rec, const char **error_r)
{
	char name[32];
	unsigned int i;

	for (i = 0; i < ctx->count; i++) {
		struct dbox_save_item *item = &ctx->items[i];

		for (;;) {
			snprintf(name, sizeof(name), SDBOX_MAIL_PREFIX "%u",
				 rec->mb.uidnext);
			if (rename_noreplace(ctx->box->dir_fd, item->temp_name,
					     name) == 0)
				break;
			if (errno != EEXIST)
				return dbox_fail(error_r, DBOX_ERROR_TEMP,
						 "rename(%s) failed: %m",
						 name);
			/* left by a writer that died before its commit */
			if (sdbox_adopt_file(ctx->box, txn, rec,
					     rec->mb.uidnext, error_r) < 0)
				return -1;
		}
		item->uid = rec->mb.uidnext++;
		free(item->temp_name);
		item->temp_name = NULL;
	}
	dbox_op_fsync_before_commit(ctx->op, ctx->box->dir_fd);
	return 0;
}

void sdbox_save_finish(struct dbox_save_ctx *ctx, bool committed)
{
	char name[32];
	unsigned int i;

	save_state_free(ctx);
	for (i = 0; i < ctx->count; i++) {
		struct dbox_save_item *item = &ctx->items[i];

		if (item->temp_name != NULL)
			(void)unlinkat(ctx->box->dir_fd, item->temp_name, 0);
		else if (!committed && item->uid != 0) {
			/* renamed, but the index never took it */
			snprintf(name, sizeof(name), SDBOX_MAIL_PREFIX "%u",
				 item->uid);
			(void)unlinkat(ctx->box->dir_fd, name, 0);
		}
	}
}
