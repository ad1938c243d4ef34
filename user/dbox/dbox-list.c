// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * LIST: the mailbox tree is the directory tree below <root>/mailboxes (so
 * mailboxes Dovecot created are listed too); a level with a dbox-Mails
 * directory is selectable, one without is a \Noselect parent. Symlinks and
 * names that are not canonical modified UTF-7 are skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbox-fs.h"
#include "dbox-log.h"
#include "dbox-name.h"
#include "dbox-private.h"
#include "dbox-subs.h"

struct list_ctx {
	struct dbox_mailbox_info *infos;
	unsigned int count, alloc;
};

int dbox_mailbox_dir_open(struct dbox_storage *storage, const char *disk_name,
			  bool create, int *fd_r, const char **error_r)
{
	char *path = dbox_printf("%s/%s", disk_name, DBOX_MAILDIR_NAME);
	int ret;

	ret = dbox_fs_open_dir(storage->mailboxes_fd, path, create, fd_r,
			       error_r);
	free(path);
	return ret;
}

static struct dbox_mailbox_info *list_add(struct list_ctx *ctx, char *name)
{
	struct dbox_mailbox_info *info;

	if (ctx->count == ctx->alloc) {
		ctx->alloc = ctx->alloc == 0 ? 16 : ctx->alloc * 2;
		ctx->infos = dbox_realloc(ctx->infos,
					  ctx->alloc * sizeof(*ctx->infos));
	}
	info = &ctx->infos[ctx->count++];
	memset(info, 0, sizeof(*info));
	info->name = name;
	return info;
}

static bool is_dir_at(int dirfd, const char *name, unsigned char d_type)
{
	struct stat st;

	if (d_type == DT_DIR)
		return true;
	if (d_type != DT_UNKNOWN)
		return false;	/* DT_LNK included: never followed */
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		S_ISDIR(st.st_mode);
}

static int list_walk(struct list_ctx *ctx, int dirfd, const char *prefix,
		     unsigned int depth, bool *has_children_r);

static void list_one(struct list_ctx *ctx, int dirfd, const char *prefix,
		     const char *entry, unsigned int depth)
{
	struct dbox_mailbox_info *info;
	char *disk, *name;
	const char *error;
	bool children = false;
	struct stat st;
	int fd;

	disk = prefix == NULL ? dbox_strdup(entry) :
		dbox_printf("%s/%s", prefix, entry);
	if (dbox_name_from_disk(disk, &name, &error) < 0) {
		dbox_log(DBOX_LOG_DEBUG, "skipping mailbox directory with "
			 "an invalid name: %s", error);
		free(disk);
		return;
	}
	fd = openat(dirfd, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0) {
		free(name);
		free(disk);
		return;
	}
	info = list_add(ctx, name);
	if (fstatat(fd, DBOX_MAILDIR_NAME, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode))
		info->attrs |= DBOX_MAILBOX_NOSELECT;
	/* info may move when the walk grows the array: remember the index */
	{
		unsigned int idx = (unsigned int)(info - ctx->infos);

		if (depth + 1 < DBOX_MAILBOX_DEPTH_MAX)
			(void)list_walk(ctx, fd, disk, depth + 1, &children);
		ctx->infos[idx].attrs |= children ? DBOX_MAILBOX_HASCHILDREN :
			DBOX_MAILBOX_HASNOCHILDREN;
	}
	close(fd);
	free(disk);
}

static int list_walk(struct list_ctx *ctx, int dirfd, const char *prefix,
		     unsigned int depth, bool *has_children_r)
{
	struct dirent *d;
	DIR *dir;

	dir = dbox_fs_opendir_at(dirfd);
	if (dir == NULL)
		return dbox_fail(NULL, DBOX_ERROR_TEMP, "opendir failed: %m");
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 ||
		    strcmp(d->d_name, "..") == 0 ||
		    strcmp(d->d_name, DBOX_MAILDIR_NAME) == 0)
			continue;
		if (!is_dir_at(dirfd, d->d_name, d->d_type))
			continue;
		*has_children_r = true;
		list_one(ctx, dirfd, prefix, d->d_name, depth);
	}
	closedir(dir);
	return 0;
}

static struct dbox_mailbox_info *list_find(struct list_ctx *ctx,
					   const char *name)
{
	unsigned int i;

	for (i = 0; i < ctx->count; i++) {
		if (strcmp(ctx->infos[i].name, name) == 0)
			return &ctx->infos[i];
	}
	return NULL;
}

static int list_add_subscriptions(struct dbox_storage *storage,
				  struct list_ctx *ctx, const char **error_r)
{
	struct dbox_mailbox_info *info;
	char **subs;
	unsigned int i, count;

	if (dbox_subs_read(storage, &subs, &count, error_r) < 0)
		return -1;
	for (i = 0; i < count; i++) {
		info = list_find(ctx, subs[i]);
		if (info == NULL) {
			info = list_add(ctx, subs[i]);
			info->attrs = DBOX_MAILBOX_NONEXISTENT |
				DBOX_MAILBOX_NOSELECT;
			subs[i] = NULL;
		}
		info->attrs |= DBOX_MAILBOX_SUBSCRIBED;
		free(subs[i]);
	}
	free(subs);
	return 0;
}

static int list_add_special_use(struct dbox_storage *storage,
				struct list_ctx *ctx, const char **error_r)
{
	struct dbox_idx_mailbox_rec rec;
	struct dbox_txn *txn;
	unsigned int i;
	int ret = 0;

	if (dbox_txn_begin(storage->index, false, &txn, error_r) < 0)
		return -1;
	for (i = 0; i < ctx->count && ret >= 0; i++) {
		if ((ctx->infos[i].attrs & DBOX_MAILBOX_NOSELECT) != 0)
			continue;
		ret = dbox_idx_mailbox_get(txn, ctx->infos[i].name, &rec,
					   error_r);
		if (ret > 0) {
			ctx->infos[i].special_use = rec.mb.special_use;
			dbox_idx_mailbox_rec_free(&rec);
		}
	}
	dbox_txn_abort(&txn);
	return ret < 0 ? -1 : 0;
}

static int info_cmp(const void *p1, const void *p2)
{
	const struct dbox_mailbox_info *i1 = p1, *i2 = p2;

	return strcmp(i1->name, i2->name);
}

int dbox_mailbox_list(struct dbox_storage *storage,
		      struct dbox_mailbox_info **infos_r, unsigned int *count_r,
		      const char **error_r)
{
	struct list_ctx ctx = { 0 };
	bool children = false;

	if (list_walk(&ctx, storage->mailboxes_fd, NULL, 0, &children) < 0 ||
	    list_add_subscriptions(storage, &ctx, error_r) < 0 ||
	    list_add_special_use(storage, &ctx, error_r) < 0) {
		if (error_r != NULL)
			*error_r = dbox_last_error_str();
		dbox_mailbox_list_free(&ctx.infos, ctx.count);
		return -1;
	}
	if (ctx.count > 0)	/* qsort(NULL, 0) is undefined */
		qsort(ctx.infos, ctx.count, sizeof(*ctx.infos), info_cmp);
	*infos_r = ctx.infos;
	*count_r = ctx.count;
	return 0;
}

void dbox_mailbox_list_free(struct dbox_mailbox_info **_infos,
			    unsigned int count)
{
	struct dbox_mailbox_info *infos = *_infos;
	unsigned int i;

	if (infos == NULL)
		return;
	*_infos = NULL;
	for (i = 0; i < count; i++)
		free(infos[i].name);
	free(infos);
}
