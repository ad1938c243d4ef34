// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * multi-dbox storage files: the read fd cache, and choosing/locking/
 * creating the file an append goes to.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../dbox-fs.h"
#include "../dbox-log.h"
#include "mdbox.h"

void mdbox_file_name(uint32_t file_id, char name[32])
{
	snprintf(name, 32, MDBOX_MAIL_PREFIX "%u", file_id);
}

int mdbox_file_get_fd(struct dbox_storage *storage, uint32_t file_id,
		      int *fd_r, const char **error_r)
{
	struct mdbox_storage *ms = storage->format_ctx;
	struct mdbox_cached_fd *slot = &ms->cache[0];
	char name[32];
	unsigned int i;
	int fd;

	for (i = 0; i < MDBOX_FD_CACHE_SIZE; i++) {
		if (ms->cache[i].fd >= 0 && ms->cache[i].file_id == file_id) {
			ms->cache[i].last_use = ++ms->use_counter;
			*fd_r = ms->cache[i].fd;
			return 0;
		}
		if (ms->cache[i].last_use < slot->last_use)
			slot = &ms->cache[i];
	}
	mdbox_file_name(file_id, name);
	if (dbox_fs_open_file(storage->storage_fd, name, O_RDONLY, 0, &fd) < 0)
		return dbox_fail(error_r, errno == ENOENT ? DBOX_ERROR_NOTFOUND :
				 DBOX_ERROR_TEMP, "open(%s) failed: %m", name);
	if (slot->fd >= 0)
		close(slot->fd);
	slot->file_id = file_id;
	slot->fd = fd;
	slot->last_use = ++ms->use_counter;
	*fd_r = fd;
	return 0;
}

void mdbox_file_uncache(struct dbox_storage *storage, uint32_t file_id)
{
	struct mdbox_storage *ms = storage->format_ctx;
	unsigned int i;

	for (i = 0; i < MDBOX_FD_CACHE_SIZE; i++) {
		if (ms->cache[i].fd >= 0 && ms->cache[i].file_id == file_id) {
			close(ms->cache[i].fd);
			ms->cache[i].fd = -1;
			ms->cache[i].last_use = 0;
		}
	}
}

void mdbox_file_cache_free(struct dbox_storage *storage)
{
	struct mdbox_storage *ms = storage->format_ctx;
	unsigned int i;

	for (i = 0; i < MDBOX_FD_CACHE_SIZE; i++) {
		if (ms->cache[i].fd >= 0)
			close(ms->cache[i].fd);
		ms->cache[i].fd = -1;
		ms->cache[i].last_use = 0;
	}
}

int mdbox_file_try_lock(struct dbox_storage *storage, uint32_t file_id,
			int *fd_r, const char **error_r)
{
	char name[32];
	int fd;

	mdbox_file_name(file_id, name);
	if (dbox_fs_open_file(storage->storage_fd, name, O_RDWR, 0, &fd) < 0) {
		if (errno == ENOENT)
			return 0;
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "open(%s) failed: %m", name);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		if (errno == EWOULDBLOCK)
			return 0;
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "flock(%s) failed: %m", name);
	}
	*fd_r = fd;
	return 1;
}

int mdbox_file_create(struct dbox_storage *storage, uint32_t *file_id_r,
		      int *fd_r, const char **error_r)
{
	struct dbox_txn *txn;
	char name[32];
	uint32_t id;
	int fd;

	if (dbox_txn_begin(storage->index, true, &txn, error_r) < 0)
		return -1;
	if (dbox_idx_meta_alloc(txn, "next_file_id", 1, &id, error_r) < 0) {
		dbox_txn_abort(&txn);
		return -1;
	}
	if (dbox_txn_commit(&txn, error_r) < 0)
		return -1;
	mdbox_file_name(id, name);
	if (dbox_fs_open_file(storage->storage_fd, name,
			      O_RDWR | O_CREAT | O_EXCL, 0600, &fd) < 0)
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "creat(%s) failed: %m", name);
	/* new id: nobody else can hold it, this cannot block */
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		(void)unlinkat(storage->storage_fd, name, 0);
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "flock(%s) failed: %m", name);
	}
	*file_id_r = id;
	*fd_r = fd;
	return 0;
}

/* A file's committed end: 1 found, 0 no record, -1 error. */
static int file_end(struct dbox_storage *storage, uint32_t id, uint64_t *end_r,
		    const char **error_r)
{
	struct dbox_idx_file file;
	struct dbox_txn *txn;
	int ret;

	if (dbox_txn_begin(storage->index, false, &txn, error_r) < 0)
		return -1;
	ret = dbox_idx_file_get(txn, id, &file, error_r);
	dbox_txn_abort(&txn);
	if (ret > 0)
		*end_r = file.committed_end;
	return ret;
}

/* The current append file's id; 0 if there is none. */
static int append_candidate(struct dbox_storage *storage, uint32_t *id_r,
			    const char **error_r)
{
	struct dbox_txn *txn;
	uint64_t id;
	int ret;

	*id_r = 0;
	if (dbox_txn_begin(storage->index, false, &txn, error_r) < 0)
		return -1;
	ret = dbox_idx_meta_get(txn, "append_file_id", &id, error_r);
	dbox_txn_abort(&txn);
	if (ret > 0)
		*id_r = (uint32_t)id;
	return ret;
}

/* Is the locked file usable for appending at end? Truncates left-overs. */
static bool append_usable(struct dbox_storage *storage, int fd, uint64_t end,
			  uint64_t need)
{
	uint64_t rotate = storage->set.mdbox_rotate_size;
	unsigned char buf[DBOX_FILE_HEADER_MAX];
	struct dbox_file_header hdr;
	struct dbox_io_group group;
	struct stat st;
	size_t len;

	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < end)
		return false;
	/* message-file reads go through dbox-io, this one too */
	len = (uint64_t)st.st_size < sizeof(buf) ? (size_t)st.st_size :
		sizeof(buf);
	dbox_io_group_init(&group);
	dbox_io_group_read(storage->io, &group, fd, buf, len, 0);
	if (dbox_io_group_wait(storage->io, &group) < 0 ||
	    group.short_count > 0 ||
	    dbox_file_header_parse(buf, len, &hdr, NULL) < 0 ||
	    hdr.msg_header_size != DBOX_MSG_HEADER_SIZE ||
	    end < hdr.header_len)
		return false;
	if (end > hdr.header_len && end + need > rotate)
		return false;
	/* bytes of a writer that died before its commit */
	if ((uint64_t)st.st_size > end && ftruncate(fd, (off_t)end) < 0)
		return false;
	return true;
}

int mdbox_append_begin(struct dbox_storage *storage, uint64_t need,
		       struct mdbox_append *app_r, const char **error_r)
{
	uint32_t id;
	uint64_t end;
	int fd, ret;

	memset(app_r, 0, sizeof(*app_r));
	ret = append_candidate(storage, &id, error_r);
	if (ret > 0)
		ret = file_end(storage, id, &end, error_r);
	if (ret < 0)
		return -1;
	if (ret > 0 && end + need <= storage->set.mdbox_rotate_size) {
		ret = mdbox_file_try_lock(storage, id, &fd, error_r);
		if (ret < 0)
			return -1;
		/* locked: the committed end cannot move any more, but it
		   may have before we got the lock */
		if (ret > 0 && file_end(storage, id, &end, error_r) > 0 &&
		    append_usable(storage, fd, end, need)) {
			app_r->fd = fd;
			app_r->file_id = id;
			app_r->offset = end;
			return 0;
		}
		if (ret > 0) {
			flock(fd, LOCK_UN);
			close(fd);
		}
	}
	if (mdbox_file_create(storage, &app_r->file_id, &app_r->fd,
			      error_r) < 0)
		return -1;
	app_r->created = true;
	return 0;
}

void mdbox_append_end(struct dbox_storage *storage, struct mdbox_append *app,
		      bool committed)
{
	char name[32];

	if (!committed) {
		if (app->created) {
			mdbox_file_name(app->file_id, name);
			(void)unlinkat(storage->storage_fd, name, 0);
		} else if (ftruncate(app->fd, (off_t)app->offset) < 0) {
			/* the next appender truncates to the committed end */
			dbox_log(DBOX_LOG_WARNING, "ftruncate(m.%u) failed: %m",
				 app->file_id);
		}
	}
	flock(app->fd, LOCK_UN);
	close(app->fd);
	app->fd = -1;
}
