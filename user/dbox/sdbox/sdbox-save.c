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

int sdbox_save_write(struct dbox_save_ctx *ctx, const char **error_r)
{
	struct dbox_storage *storage = ctx->box->storage;
	struct dbox_io_group group;
	struct dbox_buf *bufs;
	int *fds;
	unsigned int i;
	int ret = -1;

	bufs = dbox_calloc(ctx->count, sizeof(*bufs));
	fds = dbox_calloc(ctx->count, sizeof(*fds));
	for (i = 0; i < ctx->count; i++)
		fds[i] = -1;
	dbox_io_group_init(&group);
	for (i = 0; i < ctx->count; i++) {
		struct dbox_save_item *item = &ctx->items[i];

		item->temp_name = dbox_fs_temp_name();
		if (dbox_fs_open_file(ctx->box->dir_fd, item->temp_name,
				      O_WRONLY | O_CREAT | O_EXCL, 0600,
				      &fds[i]) < 0) {
			dbox_fail(error_r, DBOX_ERROR_TEMP,
				  "creat(%s) failed: %m", item->temp_name);
			break;
		}
		build_file(item, ctx->save_date, &bufs[i], &item->offset);
		dbox_io_group_write(storage->io, &group, fds[i], bufs[i].data,
				    bufs[i].len, 0);
	}
	/* wait for what was submitted even after a failure: the buffers
	   must outlive the requests */
	if (dbox_io_group_wait(storage->io, &group) < 0 && i == ctx->count)
		dbox_fail(error_r, DBOX_ERROR_TEMP, "write failed: %m");
	else if (i == ctx->count) {
		/* data and size durable; the name is made durable by the
		   directory fsync after the rename */
		dbox_io_group_init(&group);
		for (i = 0; i < ctx->count; i++)
			dbox_io_group_fsync(storage->io, &group, fds[i], true);
		if (dbox_io_group_wait(storage->io, &group) < 0)
			dbox_fail(error_r, DBOX_ERROR_TEMP,
				  "fdatasync failed: %m");
		else
			ret = 0;
	}
	for (i = 0; i < ctx->count; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		dbox_buf_free(&bufs[i]);
	}
	free(fds);
	free(bufs);
	return ret;
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
	struct dbox_storage *storage = ctx->box->storage;
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
	return dbox_storage_fsync_fd(storage, ctx->box->dir_fd, false,
				     ctx->box->name, error_r);
}

void sdbox_save_finish(struct dbox_save_ctx *ctx, bool committed)
{
	char name[32];
	unsigned int i;

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
