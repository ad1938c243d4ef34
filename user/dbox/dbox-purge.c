// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Housekeeping run by dbox_storage_purge(): forget index records of
 * mailboxes whose directory is gone (a DELETE interrupted after its
 * rename, or a deletion behind our back), empty the trash directory, then
 * let the format reclaim space (mdbox rewrites its files).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbox-fs.h"
#include "dbox-log.h"
#include "dbox-name.h"
#include "dbox-private.h"

struct stale_ctx {
	struct dbox_storage *storage;
	char **names;
	unsigned int count;
};

static int find_stale(void *_ctx, const char *name,
		      const struct dbox_idx_mailbox_rec *rec ATTR_UNUSED)
{
	struct stale_ctx *ctx = _ctx;
	const char *error;
	char *disk;
	int fd;

	if (dbox_name_to_disk(name, &disk, &error) < 0)
		return 0;
	if (dbox_mailbox_dir_open(ctx->storage, disk, false, &fd,
				  &error) == 0) {
		close(fd);
	} else if (dbox_last_error() == DBOX_ERROR_NOTFOUND) {
		ctx->names = dbox_realloc(ctx->names, (ctx->count + 1) *
					  sizeof(char *));
		ctx->names[ctx->count++] = dbox_strdup(name);
	}
	free(disk);
	return 0;
}

static int drop_stale_records(struct dbox_storage *storage,
			      const char **error_r)
{
	struct stale_ctx ctx = { storage, NULL, 0 };
	struct dbox_txn *txn;
	unsigned int i;
	int ret;

	if (dbox_txn_begin(storage->index, true, &txn, error_r) < 0)
		return -1;
	ret = dbox_idx_mailbox_iter(txn, find_stale, &ctx, error_r);
	for (i = 0; ret == 0 && i < ctx.count; i++) {
		dbox_log(DBOX_LOG_INFO, "purge: forgetting deleted mailbox %s",
			 ctx.names[i]);
		ret = dbox_mailbox_drop_record(storage, txn, ctx.names[i],
					       error_r);
	}
	for (i = 0; i < ctx.count; i++)
		free(ctx.names[i]);
	free(ctx.names);
	if (ret < 0 || ctx.count == 0) {
		dbox_txn_abort(&txn);
		return ret;
	}
	return dbox_txn_commit(&txn, error_r);
}

int dbox_storage_purge(struct dbox_storage *storage, const char **error_r)
{
	if (drop_stale_records(storage, error_r) < 0 ||
	    dbox_fs_remove_tree(storage->root_fd, DBOX_TRASH_DIR, error_r) < 0)
		return -1;
	return storage->ops->purge(storage, error_r);
}
