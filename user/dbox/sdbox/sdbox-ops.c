// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * single-dbox: u.<uid> files in each mailbox's dbox-Mails. COPY hard-links
 * the file (as Dovecot does), falling back to copying the bytes where
 * links are not possible; EXPUNGE unlinks after the index commit.
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

static int sdbox_init(struct dbox_storage *storage ATTR_UNUSED,
		      const char **error_r ATTR_UNUSED)
{
	return 0;
}

static void sdbox_deinit(struct dbox_storage *storage ATTR_UNUSED)
{
}

static int sdbox_open_mail(struct dbox_mailbox *box,
			   struct dbox_txn *txn ATTR_UNUSED, uint32_t uid,
			   const struct dbox_mail_priv *priv,
			   struct dbox_mail_loc *loc_r, const char **error_r)
{
	char name[32];

	snprintf(name, sizeof(name), SDBOX_MAIL_PREFIX "%u", uid);
	if (dbox_fs_open_file(box->dir_fd, name, O_RDONLY, 0, &loc_r->fd) < 0) {
		if (errno == ENOENT)
			return dbox_fail(error_r, DBOX_ERROR_EXPUNGED,
					 "Message %u was expunged", uid);
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "open(%s) failed: %m", name);
	}
	loc_r->offset = priv->offset;
	loc_r->msg_header_size = priv->msg_header_size;
	loc_r->cached = false;
	return 0;
}

/* Where links are impossible (another filesystem, link count limit):
   write a new file with the same bytes. */
static int copy_bytes(struct dbox_storage *storage, int src_dir,
		      const char *src_name, int dst_dir, const char *dst_name,
		      const char **error_r)
{
	struct dbox_io_group group;
	unsigned char *data;
	size_t size;
	char *temp = dbox_fs_temp_name();
	int src_fd, dst_fd, ret = -1;

	if (dbox_fs_open_file(src_dir, src_name, O_RDONLY, 0, &src_fd) < 0) {
		free(temp);
		return dbox_fail(error_r, errno == ENOENT ? DBOX_ERROR_EXPUNGED :
				 DBOX_ERROR_TEMP, "open(%s) failed: %m",
				 src_name);
	}
	ret = dbox_read_file(storage, src_fd, DBOX_MAX_MESSAGE_SIZE_LIMIT,
			     &data, &size, error_r);
	close(src_fd);
	if (ret < 0) {
		free(temp);
		return -1;
	}
	ret = -1;
	if (dbox_fs_open_file(dst_dir, temp, O_WRONLY | O_CREAT | O_EXCL,
			      0600, &dst_fd) < 0) {
		dbox_fail(error_r, DBOX_ERROR_TEMP, "creat failed: %m");
		goto out;
	}
	dbox_io_group_init(&group);
	dbox_io_group_write(storage->io, &group, dst_fd, data, size, 0);
	if (dbox_io_group_wait(storage->io, &group) == 0) {
		dbox_io_group_init(&group);
		dbox_io_group_fsync(storage->io, &group, dst_fd, true);
		ret = dbox_io_group_wait(storage->io, &group);
	}
	close(dst_fd);
	if (ret == 0 && linkat(dst_dir, temp, dst_dir, dst_name, 0) < 0)
		ret = -1;
	if (ret < 0)
		dbox_fail(error_r, errno == EEXIST ? DBOX_ERROR_EXISTS :
			  DBOX_ERROR_TEMP, "copying %s failed: %m", src_name);
	(void)unlinkat(dst_dir, temp, 0);
out:
	free(data);
	free(temp);
	return ret;
}

static int link_or_copy(struct dbox_copy_ctx *ctx, const char *src_name,
			const char *dst_name, const char **error_r)
{
	if (linkat(ctx->src->dir_fd, src_name, ctx->dst->dir_fd, dst_name,
		   0) == 0)
		return 0;
	if (errno == EEXIST)
		return dbox_fail(error_r, DBOX_ERROR_EXISTS, "exists");
	if (errno == ENOENT)
		return dbox_fail(error_r, DBOX_ERROR_EXPUNGED,
				 "Message file %s is missing", src_name);
	if (errno != EXDEV && errno != EMLINK && errno != EPERM)
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "link(%s) failed: %m", src_name);
	return copy_bytes(ctx->src->storage, ctx->src->dir_fd, src_name,
			  ctx->dst->dir_fd, dst_name, error_r);
}

int sdbox_copy_one(struct dbox_copy_ctx *ctx, struct dbox_txn *txn,
		   struct dbox_idx_mailbox_rec *dst_rec,
		   const struct dbox_idx_mail_rec *src,
		   struct dbox_idx_mail_rec *dst, const char **error_r)
{
	char src_name[32], dst_name[32];

	snprintf(src_name, sizeof(src_name), SDBOX_MAIL_PREFIX "%u", src->uid);
	for (;;) {
		snprintf(dst_name, sizeof(dst_name), SDBOX_MAIL_PREFIX "%u",
			 dst_rec->mb.uidnext);
		if (link_or_copy(ctx, src_name, dst_name, error_r) == 0)
			break;
		if (dbox_last_error() != DBOX_ERROR_EXISTS)
			return -1;
		/* left by a writer that died before its commit */
		if (sdbox_adopt_file(ctx->dst, txn, dst_rec,
				     dst_rec->mb.uidnext, error_r) < 0)
			return -1;
	}
	dst->uid = dst_rec->mb.uidnext++;
	ctx->created_uids = dbox_realloc(ctx->created_uids,
					 (ctx->created_count + 1) *
					 sizeof(uint32_t));
	ctx->created_uids[ctx->created_count++] = dst->uid;
	return 0;
}

int sdbox_copy_sync(struct dbox_copy_ctx *ctx,
		    const char **error_r ATTR_UNUSED)
{
	/* the new links' names, before the commit refers to them */
	if (ctx->created_count > 0)
		dbox_op_fsync_before_commit(ctx->op, ctx->dst->dir_fd);
	return 0;
}

void sdbox_copy_finish(struct dbox_copy_ctx *ctx, bool committed)
{
	char name[32];
	unsigned int i;

	if (committed)
		return;
	for (i = 0; i < ctx->created_count; i++) {
		snprintf(name, sizeof(name), SDBOX_MAIL_PREFIX "%u",
			 ctx->created_uids[i]);
		(void)unlinkat(ctx->dst->dir_fd, name, 0);
	}
}

static int sdbox_expunge_one(struct dbox_mailbox *box ATTR_UNUSED,
			     struct dbox_txn *txn ATTR_UNUSED,
			     const struct dbox_idx_mail_rec *rec ATTR_UNUSED,
			     const char **error_r ATTR_UNUSED)
{
	return 0;
}

static int sdbox_expunge_finish(struct dbox_mailbox *box,
				const uint32_t *uids, unsigned int count,
				struct dbox_io_batch *batch)
{
	char name[32];
	unsigned int i;

	for (i = 0; i < count; i++) {
		snprintf(name, sizeof(name), SDBOX_MAIL_PREFIX "%u", uids[i]);
		if (unlinkat(box->dir_fd, name, 0) < 0 && errno != ENOENT)
			dbox_log(DBOX_LOG_WARNING, "unlink(%s/%s) failed: %m",
				 box->name, name);
	}
	/* the index no longer refers to them: a lost unlink only leaves
	   an unreferenced file, so a failed fsync is a warning */
	if (count == 0)
		return 0;
	dbox_io_batch_fsync(box->storage->io, batch, box->dir_fd, false);
	return 1;
}

static int sdbox_mailbox_delete(struct dbox_storage *storage ATTR_UNUSED,
				struct dbox_txn *txn ATTR_UNUSED,
				uint32_t mailbox_id ATTR_UNUSED,
				const char **error_r ATTR_UNUSED)
{
	/* the files went with the directory */
	return 0;
}

static int sdbox_purge(struct dbox_storage *storage ATTR_UNUSED,
		       const char **error_r ATTR_UNUSED)
{
	return 0;
}

const struct dbox_format_ops sdbox_format_ops = {
	.format = DBOX_FORMAT_SDBOX,
	.name = "sdbox",
	.init = sdbox_init,
	.deinit = sdbox_deinit,
	.save_write = sdbox_save_write,
	.save_place = sdbox_save_place,
	.save_finish = sdbox_save_finish,
	.copy_one = sdbox_copy_one,
	.copy_sync = sdbox_copy_sync,
	.copy_finish = sdbox_copy_finish,
	.expunge_one = sdbox_expunge_one,
	.expunge_finish = sdbox_expunge_finish,
	.open_mail = sdbox_open_mail,
	.mailbox_import = sdbox_mailbox_import,
	.mailbox_delete = sdbox_mailbox_delete,
	.rebuild = sdbox_rebuild,
	.purge = sdbox_purge,
};
