// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Rebuild: one write transaction empties the index and fills it again from
 * the mailbox directories and message files. Other processes keep working
 * on the last committed state until the commit, then see the new one (a
 * changed UIDVALIDITY where uids could not be kept).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbox-fs.h"
#include "dbox-log.h"
#include "dbox-name.h"
#include "dbox-rebuild.h"
#include "dbox-rebuild-old.h"

static int box_init(struct dbox_rebuild_ctx *ctx, struct dbox_rebuild_box *box,
		    const char **error_r)
{
	const struct dbox_rebuild_old_box *old;
	struct stat st;
	uint32_t i;

	if (fstat(box->dir_fd, &st) < 0)
		return dbox_fail(error_r, DBOX_ERROR_TEMP, "fstat failed: %m");
	old = dbox_rebuild_old_find_box(ctx->old, box->name);
	if (old == NULL) {
		if (dbox_mailbox_rec_init(ctx->storage, ctx->txn, &box->rec,
					  error_r) < 0)
			return -1;
	} else {
		/* same mailbox: keep its identity and keyword table;
		   counters are recounted, modseqs move past the old ones */
		box->old = old;
		box->rec.mb = old->rec.mb;
		box->rec.mb.messages = box->rec.mb.unseen = 0;
		box->rec.mb.vsize = 0;
		box->rec.keywords = dbox_calloc(old->rec.mb.keyword_count + 1,
						sizeof(char *));
		for (i = 0; i < old->rec.mb.keyword_count; i++)
			box->rec.keywords[i] =
				dbox_strdup(old->rec.keywords[i]);
	}
	box->rec.mb.dir_dev = st.st_dev;
	box->rec.mb.dir_ino = st.st_ino;
	return 0;
}

static struct dbox_rebuild_box *box_add(struct dbox_rebuild_ctx *ctx,
					const char *name, int dir_fd,
					const char **error_r)
{
	struct dbox_rebuild_box *box;

	ctx->boxes = dbox_realloc(ctx->boxes, (ctx->count + 1) *
				  sizeof(*ctx->boxes));
	box = &ctx->boxes[ctx->count];
	memset(box, 0, sizeof(*box));
	box->name = dbox_strdup(name);
	box->dir_fd = dir_fd;
	if (dbox_name_to_disk(name, &box->disk, error_r) < 0 ||
	    box_init(ctx, box, error_r) < 0) {
		free(box->name);
		free(box->disk);
		dbox_idx_mailbox_rec_free(&box->rec);
		return NULL;
	}
	ctx->count++;
	return box;
}

struct dbox_rebuild_box *dbox_rebuild_get_box(struct dbox_rebuild_ctx *ctx,
					      const char *name, bool create,
					      const char **error_r)
{
	struct dbox_rebuild_box *box;
	char *disk;
	int fd;
	unsigned int i;

	for (i = 0; i < ctx->count; i++) {
		if (strcmp(ctx->boxes[i].name, name) == 0)
			return &ctx->boxes[i];
	}
	if (!create) {
		dbox_fail(error_r, DBOX_ERROR_NOTFOUND, "no mailbox %s", name);
		return NULL;
	}
	if (dbox_name_to_disk(name, &disk, error_r) < 0)
		return NULL;
	if (dbox_mailbox_dir_open(ctx->storage, disk, true, &fd,
				  error_r) < 0) {
		free(disk);
		return NULL;
	}
	free(disk);
	dbox_log(DBOX_LOG_INFO, "rebuild: recreated mailbox %s", name);
	box = box_add(ctx, name, fd, error_r);
	if (box == NULL)
		close(fd);
	return box;
}

static int add_listed_boxes(struct dbox_rebuild_ctx *ctx,
			    const char **error_r)
{
	struct dbox_mailbox_info *infos;
	unsigned int i, count;
	char *disk;
	int fd, ret = 0;

	if (dbox_mailbox_list(ctx->storage, &infos, &count, error_r) < 0)
		return -1;
	for (i = 0; i < count && ret == 0; i++) {
		if ((infos[i].attrs & DBOX_MAILBOX_NOSELECT) != 0)
			continue;
		if (dbox_name_to_disk(infos[i].name, &disk, error_r) < 0) {
			ret = -1;
			break;
		}
		ret = dbox_mailbox_dir_open(ctx->storage, disk, false, &fd,
					    error_r);
		free(disk);
		if (ret < 0)
			break;
		if (box_add(ctx, infos[i].name, fd, error_r) == NULL) {
			close(fd);
			ret = -1;
		}
	}
	dbox_mailbox_list_free(&infos, count);
	return ret;
}

static int put_boxes(struct dbox_rebuild_ctx *ctx, const char **error_r)
{
	unsigned int i;

	for (i = 0; i < ctx->count; i++) {
		if (dbox_idx_mailbox_put(ctx->txn, ctx->boxes[i].name,
					 &ctx->boxes[i].rec, error_r) < 0)
			return -1;
	}
	return 0;
}

static void ctx_free(struct dbox_rebuild_ctx *ctx)
{
	unsigned int i;

	for (i = 0; i < ctx->count; i++) {
		free(ctx->boxes[i].name);
		free(ctx->boxes[i].disk);
		if (ctx->boxes[i].dir_fd >= 0)
			close(ctx->boxes[i].dir_fd);
		dbox_idx_mailbox_rec_free(&ctx->boxes[i].rec);
	}
	free(ctx->boxes);
}

int dbox_rebuild_in_txn(struct dbox_storage *storage, struct dbox_txn *txn,
			bool keep_old, const char **error_r)
{
	struct dbox_rebuild_ctx ctx = { storage, txn, NULL, 0, NULL };
	struct dbox_rebuild_old *old = NULL;
	int ret = -1;

	if (keep_old && dbox_rebuild_old_collect(txn, &old, error_r) < 0) {
		if (dbox_last_error() != DBOX_ERROR_CORRUPTED)
			return -1;
		dbox_log(DBOX_LOG_WARNING, "rebuild: old index unreadable "
			 "(%s), flags will be lost", *error_r);
	}
	ctx.old = old;
	if (dbox_index_clear(txn, error_r) < 0 ||
	    add_listed_boxes(&ctx, error_r) < 0 ||
	    storage->ops->rebuild(storage, &ctx, error_r) < 0 ||
	    put_boxes(&ctx, error_r) < 0)
		goto out;
	/* a brand-new empty root is not news */
	dbox_log(keep_old || ctx.count > 1 ? DBOX_LOG_INFO : DBOX_LOG_DEBUG,
		 "%s: index rebuilt from files (%u mailboxes)", storage->root,
		 ctx.count);
	ret = 0;
out:
	ctx_free(&ctx);
	dbox_rebuild_old_free(&old);
	return ret;
}

int dbox_storage_rebuild(struct dbox_storage *storage, const char **error_r)
{
	struct dbox_txn *txn;

	if (dbox_txn_begin(storage->index, true, &txn, error_r) < 0)
		return -1;
	if (dbox_rebuild_in_txn(storage, txn, true, error_r) < 0) {
		dbox_txn_abort(&txn);
		return -1;
	}
	return dbox_txn_commit(&txn, error_r);
}
