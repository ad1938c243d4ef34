// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * RENAME: the index records of the mailbox and its children are re-keyed
 * and the directory renamed inside one write transaction. If the process
 * dies after the rename but before the commit, the records keep the old
 * names; opening the new name adopts the record whose directory inode it
 * has (dbox-mailbox.c), so no message is lost.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbox-fs.h"
#include "dbox-name.h"
#include "dbox-private.h"

struct rename_ctx {
	const char *old_name, *new_name;
	char **from;		/* records to re-key */
	char **stale;		/* records in the way at the new name */
	unsigned int from_count, stale_count;
};

static void names_add(char ***names, unsigned int *count, const char *name)
{
	*names = dbox_realloc(*names, (*count + 1) * sizeof(char *));
	(*names)[(*count)++] = dbox_strdup(name);
}

static int rename_collect(void *_ctx, const char *name,
			  const struct dbox_idx_mailbox_rec *rec ATTR_UNUSED)
{
	struct rename_ctx *ctx = _ctx;

	if (strcmp(name, ctx->old_name) == 0 ||
	    dbox_name_is_child(ctx->old_name, name))
		names_add(&ctx->from, &ctx->from_count, name);
	else if (strcmp(name, ctx->new_name) == 0 ||
		 dbox_name_is_child(ctx->new_name, name))
		names_add(&ctx->stale, &ctx->stale_count, name);
	return 0;
}

static void rename_ctx_free(struct rename_ctx *ctx)
{
	unsigned int i;

	for (i = 0; i < ctx->from_count; i++)
		free(ctx->from[i]);
	for (i = 0; i < ctx->stale_count; i++)
		free(ctx->stale[i]);
	free(ctx->from);
	free(ctx->stale);
}

static int rekey_one(struct dbox_txn *txn, const struct rename_ctx *ctx,
		     const char *name, const char **error_r)
{
	struct dbox_idx_mailbox_rec rec;
	char *new_name;
	int ret;

	ret = dbox_idx_mailbox_get(txn, name, &rec, error_r);
	if (ret <= 0)
		return ret;
	new_name = dbox_printf("%s%s", ctx->new_name,
			       name + strlen(ctx->old_name));
	ret = dbox_idx_mailbox_put(txn, new_name, &rec, error_r);
	if (ret == 0)
		ret = dbox_idx_mailbox_delete(txn, name, error_r);
	free(new_name);
	dbox_idx_mailbox_rec_free(&rec);
	return ret;
}

static int rekey_records(struct dbox_storage *storage, struct dbox_txn *txn,
			 const char *old_name, const char *new_name,
			 const char **error_r)
{
	struct rename_ctx ctx = { old_name, new_name, NULL, NULL, 0, 0 };
	unsigned int i;
	int ret;

	ret = dbox_idx_mailbox_iter(txn, rename_collect, &ctx, error_r);
	for (i = 0; ret == 0 && i < ctx.stale_count; i++)
		ret = dbox_mailbox_drop_record(storage, txn, ctx.stale[i],
					       error_r);
	for (i = 0; ret == 0 && i < ctx.from_count; i++)
		ret = rekey_one(txn, &ctx, ctx.from[i], error_r);
	rename_ctx_free(&ctx);
	return ret;
}

struct rename_dirs {
	int old_parent_fd, new_parent_fd;
	const char *old_last, *new_last;
};

static int rename_dirs(struct dbox_storage *storage, const char *new_norm,
		       struct rename_dirs *dirs, const char **error_r)
{
	if (renameat(dirs->old_parent_fd, dirs->old_last, dirs->new_parent_fd,
		     dirs->new_last) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			return dbox_fail(error_r, DBOX_ERROR_EXISTS,
					 "Mailbox already exists: %s",
					 new_norm);
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "rename(%s) failed: %m", new_norm);
	}
	if (dbox_storage_fsync_fd(storage, dirs->new_parent_fd, false,
				  new_norm, error_r) < 0 ||
	    dbox_storage_fsync_fd(storage, dirs->old_parent_fd, false,
				  "old parent", error_r) < 0)
		return -1;
	return 0;
}

static int rename_real(struct dbox_storage *storage, const char *old_norm,
		       const char *new_norm, const char *old_disk,
		       const char *new_disk, const char **error_r)
{
	struct rename_dirs dirs = { -1, -1, NULL, NULL };
	struct dbox_txn *txn = NULL;
	int fd, ret = -1;

	if (dbox_fs_open_dir(storage->mailboxes_fd, new_disk, false, &fd,
			     error_r) == 0) {
		close(fd);
		return dbox_fail(error_r, DBOX_ERROR_EXISTS,
				 "Mailbox already exists: %s", new_norm);
	}
	if (dbox_mailbox_open_parent(storage, old_disk, false,
				     &dirs.old_parent_fd, &dirs.old_last,
				     error_r) < 0 ||
	    dbox_mailbox_open_parent(storage, new_disk, true,
				     &dirs.new_parent_fd, &dirs.new_last,
				     error_r) < 0)
		goto out;
	if (dbox_txn_begin(storage->index, true, &txn, error_r) < 0 ||
	    rekey_records(storage, txn, old_norm, new_norm, error_r) < 0 ||
	    rename_dirs(storage, new_norm, &dirs, error_r) < 0)
		goto out;
	if (dbox_txn_commit(&txn, error_r) < 0) {
		/* put the directory back where the index says it is */
		(void)renameat(dirs.new_parent_fd, dirs.new_last,
			       dirs.old_parent_fd, dirs.old_last);
		goto out;
	}
	ret = 0;
out:
	dbox_txn_abort(&txn);
	if (dirs.old_parent_fd >= 0)
		close(dirs.old_parent_fd);
	if (dirs.new_parent_fd >= 0)
		close(dirs.new_parent_fd);
	if (ret == 0 && strchr(old_disk, '/') != NULL) {
		char *parent = dbox_strndup(old_disk, (size_t)
					    (strrchr(old_disk, '/') - old_disk));

		dbox_mailbox_remove_empty_levels(storage, parent);
		free(parent);
	}
	return ret;
}

/* RFC 3501: renaming INBOX moves its messages to the new name. */
static int rename_inbox(struct dbox_storage *storage, const char *new_norm,
			const char **error_r)
{
	struct dbox_mailbox *inbox, *dst;
	const struct dbox_mail *mails;
	uint32_t *uids;
	unsigned int i, count;
	int ret;

	if (dbox_mailbox_create(storage, new_norm, 0, error_r) < 0)
		return -1;
	if (dbox_mailbox_open(storage, "INBOX", 0, &inbox, error_r) < 0)
		return -1;
	if (dbox_mailbox_open(storage, new_norm, 0, &dst, error_r) < 0) {
		dbox_mailbox_close(&inbox);
		return -1;
	}
	dbox_mailbox_get_mails(inbox, &mails, &count);
	uids = dbox_calloc(count, sizeof(*uids));
	for (i = 0; i < count; i++)
		uids[i] = mails[i].uid;
	ret = count == 0 ? 0 :
		dbox_mail_move(inbox, uids, count, dst, NULL, error_r);
	free(uids);
	dbox_mailbox_close(&dst);
	dbox_mailbox_close(&inbox);
	return ret;
}

static int rename_existing(struct dbox_storage *storage, const char *old_norm,
			   const char *new_norm, const char *old_disk,
			   const char *new_disk, const char **error_r)
{
	int fd;

	if (dbox_fs_open_dir_if_exists(storage->mailboxes_fd, old_disk, &fd,
				       error_r) < 0)
		return -1;
	if (fd < 0)
		return dbox_fail(error_r, DBOX_ERROR_NOTFOUND,
				 "Mailbox doesn't exist: %s", old_norm);
	close(fd);
	return rename_real(storage, old_norm, new_norm, old_disk, new_disk,
			   error_r);
}

int dbox_mailbox_rename(struct dbox_storage *storage, const char *old_name,
			const char *new_name, const char **error_r)
{
	char *old_norm = NULL, *new_norm = NULL, *old_disk = NULL,
		*new_disk = NULL;
	int ret = -1;

	if (dbox_mailbox_name_normalize(old_name, &old_norm, error_r) < 0 ||
	    dbox_mailbox_name_normalize(new_name, &new_norm, error_r) < 0 ||
	    dbox_name_to_disk(old_norm, &old_disk, error_r) < 0 ||
	    dbox_name_to_disk(new_norm, &new_disk, error_r) < 0)
		goto out;
	if (strcmp(old_norm, new_norm) == 0 || strcmp(new_norm, "INBOX") == 0)
		dbox_fail(error_r, DBOX_ERROR_EXISTS,
			  "Mailbox already exists: %s", new_norm);
	else if (dbox_name_is_child(old_norm, new_norm))
		dbox_fail(error_r, DBOX_ERROR_NOTPOSSIBLE,
			  "Can't rename mailbox under itself");
	else if (strcmp(old_norm, "INBOX") == 0)
		ret = rename_inbox(storage, new_norm, error_r);
	else
		ret = rename_existing(storage, old_norm, new_norm, old_disk,
				      new_disk, error_r);
out:
	free(old_norm);
	free(new_norm);
	free(old_disk);
	free(new_disk);
	return ret;
}
