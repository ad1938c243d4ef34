// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * multi-dbox purge: a storage file holding messages no mail record refers
 * to (refcount 0) is rewritten with only the live ones, or deleted when
 * none is left. The new file is written and fsync'd first, the map moved
 * to it in one transaction, the old file unlinked after the commit: a
 * crash leaves either the old map (new file unreferenced) or the new one
 * (old file unreferenced), and unreferenced files are removed later.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../dbox-fs.h"
#include "../dbox-log.h"
#include "mdbox.h"

/* A file without index record is deleted only this long after its last
   change: one being created right now has no record yet. */
#define MDBOX_ORPHAN_MIN_AGE (60 * 60)

struct live_msg {
	uint32_t map_uid;
	struct dbox_idx_map map;
};

struct purge_file {
	uint32_t file_id;
	struct live_msg *live;
	unsigned int live_count, dead_count;
};

struct purge_scan {
	struct purge_file *files;
	unsigned int count;
};

static struct purge_file *scan_find(struct purge_scan *scan, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < scan->count; i++) {
		if (scan->files[i].file_id == id)
			return &scan->files[i];
	}
	return NULL;
}

static int scan_file_rec(void *ctx, uint32_t file_id,
			 const struct dbox_idx_file *file ATTR_UNUSED)
{
	struct purge_scan *scan = ctx;

	scan->files = dbox_realloc(scan->files, (scan->count + 1) *
				   sizeof(*scan->files));
	memset(&scan->files[scan->count], 0, sizeof(*scan->files));
	scan->files[scan->count++].file_id = file_id;
	return 0;
}

static int scan_map_rec(void *ctx, uint32_t map_uid,
			const struct dbox_idx_map *map)
{
	struct purge_file *file = scan_find(ctx, map->file_id);

	if (file == NULL)
		return 0;
	if (map->refcount == 0) {
		file->dead_count++;
		return 0;
	}
	file->live = dbox_realloc(file->live, (file->live_count + 1) *
				  sizeof(*file->live));
	file->live[file->live_count].map_uid = map_uid;
	file->live[file->live_count].map = *map;
	file->live_count++;
	return 0;
}

static int purge_scan(struct dbox_storage *storage, struct purge_scan *scan,
		      const char **error_r)
{
	struct dbox_txn *txn;
	int ret;

	memset(scan, 0, sizeof(*scan));
	if (dbox_txn_begin(storage->index, false, &txn, error_r) < 0)
		return -1;
	ret = dbox_idx_file_iter(txn, scan_file_rec, scan, error_r);
	if (ret == 0)
		ret = dbox_idx_map_iter(txn, scan_map_rec, scan, error_r);
	dbox_txn_abort(&txn);
	return ret;
}

struct dead_ctx {
	uint32_t file_id;
	uint32_t *map_uids;
	unsigned int count;
};

static int collect_dead(void *_ctx, uint32_t map_uid,
			const struct dbox_idx_map *map)
{
	struct dead_ctx *ctx = _ctx;

	if (map->file_id == ctx->file_id && map->refcount == 0) {
		ctx->map_uids = dbox_realloc(ctx->map_uids, (ctx->count + 1) *
					     sizeof(uint32_t));
		ctx->map_uids[ctx->count++] = map_uid;
	}
	return 0;
}

/* In the transaction: forget the old file and its dead messages. */
static int forget_file(struct dbox_txn *txn, uint32_t file_id,
		       uint32_t new_file_id, const char **error_r)
{
	struct dead_ctx dead = { file_id, NULL, 0 };
	uint64_t append_id;
	unsigned int i;
	int ret;

	ret = dbox_idx_map_iter(txn, collect_dead, &dead, error_r);
	for (i = 0; ret == 0 && i < dead.count; i++)
		ret = dbox_idx_map_delete(txn, dead.map_uids[i], error_r);
	free(dead.map_uids);
	if (ret == 0)
		ret = dbox_idx_file_delete(txn, file_id, error_r);
	if (ret == 0)
		ret = dbox_idx_meta_get(txn, "append_file_id", &append_id,
					error_r) < 0 ? -1 : 0;
	if (ret == 0 && append_id == file_id)
		ret = dbox_idx_meta_set(txn, "append_file_id", new_file_id,
					error_r);
	return ret;
}

/* Copy the live messages into a new file; their new offsets in live[]. */
static int write_new_file(struct dbox_storage *storage, int old_fd,
			  struct purge_file *file, uint32_t *new_id_r,
			  uint64_t *end_r, const char **error_r)
{
	struct dbox_io_group group;
	struct dbox_buf buf = { 0 };
	unsigned int i;
	size_t start, total = 0;
	int fd, ret;

	dbox_file_header_write(&buf, dbox_now());
	/* one allocation: reads point into the buffer */
	for (i = 0; i < file->live_count; i++)
		total += file->live[i].map.size;
	dbox_buf_reserve(&buf, total);
	dbox_io_group_init(&group);
	for (i = 0; i < file->live_count; i++) {
		start = buf.len;
		buf.len += file->live[i].map.size;
		dbox_io_group_read(storage->io, &group, old_fd,
				   buf.data + start, file->live[i].map.size,
				   file->live[i].map.offset);
		file->live[i].map.offset = start;
	}
	if (dbox_io_group_wait(storage->io, &group) < 0 ||
	    group.short_count > 0) {
		dbox_buf_free(&buf);
		return dbox_fail(error_r, DBOX_ERROR_CORRUPTED,
				 "m.%u: reading live messages failed",
				 file->file_id);
	}
	if (mdbox_file_create(storage, new_id_r, &fd, error_r) < 0) {
		dbox_buf_free(&buf);
		return -1;
	}
	dbox_io_group_init(&group);
	dbox_io_group_write(storage->io, &group, fd, buf.data, buf.len, 0);
	ret = dbox_io_group_wait(storage->io, &group);
	if (ret == 0) {
		dbox_io_group_init(&group);
		dbox_io_group_fsync(storage->io, &group, fd, true);
		ret = dbox_io_group_wait(storage->io, &group);
	}
	*end_r = buf.len;
	dbox_buf_free(&buf);
	if (ret == 0)
		ret = dbox_storage_fsync_fd(storage, storage->storage_fd,
					    false, "storage", error_r);
	else
		dbox_fail(error_r, DBOX_ERROR_TEMP, "writing m.%u failed: %m",
			  *new_id_r);
	/* our lock on the new file ends here; it is not the append file
	   unless forget_file makes it so */
	close(fd);
	return ret;
}

static int move_live(struct dbox_txn *txn, struct purge_file *file,
		     uint32_t old_id, uint32_t new_id, const char **error_r)
{
	struct dbox_idx_map cur;
	unsigned int i;
	int ret;

	for (i = 0; i < file->live_count; i++) {
		ret = dbox_idx_map_get(txn, file->live[i].map_uid, &cur,
				       error_r);
		if (ret < 0)
			return -1;
		if (ret == 0 || cur.file_id != old_id)
			continue;
		cur.file_id = new_id;
		cur.offset = file->live[i].map.offset;
		if (dbox_idx_map_put(txn, file->live[i].map_uid, &cur,
				     error_r) < 0)
			return -1;
	}
	return 0;
}

static int purge_file(struct dbox_storage *storage, struct purge_file *file,
		      const char **error_r)
{
	struct dbox_idx_file new_file = { 0, 0, 0 };
	struct dbox_txn *txn;
	uint32_t new_id = 0;
	char name[32];
	int fd, ret;

	ret = mdbox_file_try_lock(storage, file->file_id, &fd, error_r);
	if (ret <= 0)
		return ret;	/* busy: next time */
	if (file->live_count > 0 &&
	    write_new_file(storage, fd, file, &new_id,
			   &new_file.committed_end, error_r) < 0)
		goto err_unlock;
	if (dbox_txn_begin(storage->index, true, &txn, error_r) < 0)
		goto err_unlock;
	if (move_live(txn, file, file->file_id, new_id, error_r) < 0 ||
	    forget_file(txn, file->file_id, new_id, error_r) < 0 ||
	    (new_id != 0 && dbox_idx_file_put(txn, new_id, &new_file,
					      error_r) < 0)) {
		dbox_txn_abort(&txn);
		goto err_unlock;
	}
	if (dbox_txn_commit(&txn, error_r) < 0)
		goto err_unlock;
	mdbox_file_name(file->file_id, name);
	if (unlinkat(storage->storage_fd, name, 0) < 0 && errno != ENOENT)
		dbox_log(DBOX_LOG_WARNING, "unlink(%s) failed: %m", name);
	mdbox_file_uncache(storage, file->file_id);
	flock(fd, LOCK_UN);
	close(fd);
	return dbox_storage_fsync_fd(storage, storage->storage_fd, false,
				     "storage", error_r);

err_unlock:
	if (new_id != 0) {
		mdbox_file_name(new_id, name);
		(void)unlinkat(storage->storage_fd, name, 0);
	}
	flock(fd, LOCK_UN);
	close(fd);
	return -1;
}

static void remove_orphans(struct dbox_storage *storage,
			   struct purge_scan *scan)
{
	struct dirent *d;
	struct stat st;
	char *end;
	DIR *dir;
	unsigned long id;
	int lock_fd;

	dir = dbox_fs_opendir_at(storage->storage_fd);
	if (dir == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, MDBOX_MAIL_PREFIX, 2) != 0)
			continue;
		id = strtoul(d->d_name + 2, &end, 10);
		if (*end != '\0' || id == 0 || id > UINT32_MAX ||
		    scan_find(scan, (uint32_t)id) != NULL)
			continue;
		if (fstatat(storage->storage_fd, d->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_mtime > dbox_now() - MDBOX_ORPHAN_MIN_AGE)
			continue;
		if (mdbox_file_try_lock(storage, (uint32_t)id, &lock_fd,
					NULL) <= 0)
			continue;
		dbox_log(DBOX_LOG_INFO, "purge: removing unreferenced %s",
			 d->d_name);
		(void)unlinkat(storage->storage_fd, d->d_name, 0);
		close(lock_fd);
	}
	closedir(dir);
}

int mdbox_purge(struct dbox_storage *storage, const char **error_r)
{
	struct purge_scan scan;
	unsigned int i;
	int ret = 0;

	if (purge_scan(storage, &scan, error_r) < 0)
		ret = -1;
	for (i = 0; ret == 0 && i < scan.count; i++) {
		if (scan.files[i].dead_count > 0 ||
		    scan.files[i].live_count == 0)
			ret = purge_file(storage, &scan.files[i], error_r);
	}
	if (ret == 0)
		remove_orphans(storage, &scan);
	for (i = 0; i < scan.count; i++)
		free(scan.files[i].live);
	free(scan.files);
	return ret;
}
