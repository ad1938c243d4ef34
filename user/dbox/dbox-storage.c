// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Opening and closing a mail root: directories, the io loop, the index (and
 * its recovery when damaged), the format.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbox-fs.h"
#include "dbox-log.h"
#include "dbox-op.h"
#include "dbox-private.h"
#include "dbox-rebuild.h"

#define DBOX_INDEX_BROKEN_DIR "dboxd-index.broken"

static const struct dbox_format_ops *format_ops(enum dbox_format format)
{
	switch (format) {
	case DBOX_FORMAT_SDBOX:
		return &sdbox_format_ops;
	case DBOX_FORMAT_MDBOX:
		return &mdbox_format_ops;
	}
	return NULL;
}

struct dbox_io *dbox_storage_get_io(struct dbox_storage *storage)
{
	return storage->io;
}

enum dbox_format dbox_storage_get_format(const struct dbox_storage *storage)
{
	return storage->ops->format;
}

int dbox_storage_fsync_fd(struct dbox_storage *storage, int fd,
			  bool datasync, const char *what,
			  const char **error_r)
{
	struct dbox_io_group group;

	dbox_io_group_init(&group);
	dbox_io_group_fsync(storage->io, &group, fd, datasync);
	if (dbox_io_group_wait(storage->io, &group) < 0)
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "fsync(%s) failed: %m", what);
	return 0;
}

static int open_root(struct dbox_storage *storage, const char *root,
		     const char **error_r)
{
	if (mkdir(root, 0700) < 0 && errno != EEXIST)
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "mkdir(%s) failed: %m", root);
	storage->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (storage->root_fd < 0)
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "open(%s) failed: %m", root);
	if (dbox_fs_open_dir(storage->root_fd, DBOX_MAILBOXES_DIR, true,
			     &storage->mailboxes_fd, error_r) < 0)
		return -1;
	if (storage->ops->format == DBOX_FORMAT_MDBOX &&
	    dbox_fs_open_dir(storage->root_fd, DBOX_STORAGE_DIR, true,
			     &storage->storage_fd, error_r) < 0)
		return -1;
	return 0;
}

static int open_io(struct dbox_storage *storage, const char **error_r)
{
	if (storage->set.io != NULL) {
		storage->io = storage->set.io;
		return 0;
	}
	if (dbox_io_create(NULL, &storage->io, error_r) < 0)
		return dbox_fail(error_r, DBOX_ERROR_TEMP, "%s", *error_r);
	storage->own_io = true;
	return 0;
}

/* Move a damaged index out of the way (keeping one copy for inspection). */
static int set_index_aside(struct dbox_storage *storage, const char *reason,
			   const char **error_r)
{
	dbox_log(DBOX_LOG_WARNING, "%s: index is damaged (%s), rebuilding "
		 "it from the dbox files", storage->root, reason);
	if (dbox_fs_remove_tree(storage->root_fd, DBOX_INDEX_BROKEN_DIR,
				error_r) < 0)
		return -1;
	if (renameat(storage->root_fd, DBOX_INDEX_DIR, storage->root_fd,
		     DBOX_INDEX_BROKEN_DIR) < 0 && errno != ENOENT)
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "rename(%s) failed: %m", DBOX_INDEX_DIR);
	return dbox_fs_fsync_fd(storage->root_fd, storage->root, error_r);
}

static int open_index(struct dbox_storage *storage, bool *created_r,
		      const char **error_r)
{
	char reason[256];

	if (dbox_index_open(storage->root_fd, &storage->index, created_r,
			    error_r) == 0)
		return 0;
	if (dbox_last_error() != DBOX_ERROR_CORRUPTED)
		return -1;
	snprintf(reason, sizeof(reason), "%s", *error_r);
	if (set_index_aside(storage, reason, error_r) < 0)
		return -1;
	return dbox_index_open(storage->root_fd, &storage->index, created_r,
			       error_r);
}

/* A new index: record the format and fill it from whatever files exist. */
static int init_index(struct dbox_storage *storage, const char **error_r)
{
	struct dbox_txn *txn;

	if (dbox_txn_begin(storage->index, true, &txn, error_r) < 0)
		return -1;
	if (dbox_idx_meta_set(txn, "version", DBOX_INDEX_VERSION, error_r) < 0 ||
	    dbox_idx_meta_set(txn, "format", storage->ops->format, error_r) < 0 ||
	    dbox_rebuild_in_txn(storage, txn, false, error_r) < 0) {
		dbox_txn_abort(&txn);
		return -1;
	}
	return dbox_txn_commit(&txn, error_r);
}

static int check_format(struct dbox_storage *storage, const char **error_r)
{
	struct dbox_txn *txn;
	uint64_t format;
	int ret;

	if (dbox_txn_begin(storage->index, false, &txn, error_r) < 0)
		return -1;
	ret = dbox_idx_meta_get(txn, "format", &format, error_r);
	dbox_txn_abort(&txn);
	if (ret < 0)
		return -1;
	if (format != storage->ops->format) {
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "%s holds %s mail, not %s", storage->root,
				 format == DBOX_FORMAT_SDBOX ? "sdbox" :
				 format == DBOX_FORMAT_MDBOX ? "mdbox" :
				 "unknown", storage->ops->name);
	}
	return 0;
}

static int ensure_inbox(struct dbox_storage *storage, const char **error_r)
{
	int fd;

	if (dbox_mailbox_dir_open(storage, "INBOX", false, &fd, error_r) == 0) {
		close(fd);
		return 0;
	}
	if (dbox_last_error() != DBOX_ERROR_NOTFOUND)
		return -1;
	if (dbox_mailbox_create(storage, "INBOX", 0, error_r) < 0 &&
	    dbox_last_error() != DBOX_ERROR_EXISTS)
		return -1;
	return 0;
}

static void settings_defaults(struct dbox_storage_settings *set)
{
	if (set->max_message_size == 0)
		set->max_message_size = DBOX_DEFAULT_MAX_MESSAGE_SIZE;
	if (set->max_message_size > DBOX_MAX_MESSAGE_SIZE_LIMIT)
		set->max_message_size = DBOX_MAX_MESSAGE_SIZE_LIMIT;
	if (set->mdbox_rotate_size == 0)
		set->mdbox_rotate_size = DBOX_DEFAULT_ROTATE_SIZE;
	if (set->fetch_window == 0)
		set->fetch_window = DBOX_DEFAULT_FETCH_WINDOW;
}

static int storage_setup(struct dbox_storage *storage, const char **error_r)
{
	bool created;

	if (open_root(storage, storage->root, error_r) < 0 ||
	    open_io(storage, error_r) < 0 ||
	    storage->ops->init(storage, error_r) < 0 ||
	    open_index(storage, &created, error_r) < 0)
		return -1;
	dbox_index_set_writer_wait(storage->index, dbox_storage_writer_wait,
				   storage);
	if (created) {
		if (init_index(storage, error_r) < 0)
			return -1;
	} else if (check_format(storage, error_r) < 0) {
		return -1;
	}
	return ensure_inbox(storage, error_r);
}

int dbox_storage_open(const char *root,
		      const struct dbox_storage_settings *set,
		      struct dbox_storage **storage_r, const char **error_r)
{
	struct dbox_storage *storage;

	if (format_ops(set->format) == NULL)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Unknown dbox format %d", set->format);
	storage = dbox_calloc(1, sizeof(*storage));
	storage->root = dbox_strdup(root);
	storage->root_fd = storage->mailboxes_fd = storage->storage_fd = -1;
	storage->notify_fd = -1;
	storage->set = *set;
	if (set->mail_alloc != NULL) {
		/* the caller's struct need not outlive the call */
		storage->mail_alloc = *set->mail_alloc;
		storage->set.mail_alloc = &storage->mail_alloc;
	}
	settings_defaults(&storage->set);
	storage->ops = format_ops(set->format);
	if (storage_setup(storage, error_r) < 0) {
		/* keep the message across the cleanup's own calls */
		char msg[512];
		enum dbox_error err = dbox_last_error();

		snprintf(msg, sizeof(msg), "%s", *error_r);
		dbox_storage_close(&storage);
		return dbox_fail(error_r, err, "%s", msg);
	}
	*storage_r = storage;
	return 0;
}

int dbox_storage_writer_wait(void *context, const char **error_r)
{
	struct dbox_storage *storage = context;

	if (dbox_index_writer_holder(storage->index) != storage->index)
		return dbox_fail(error_r, DBOX_ERROR_INUSE, "The index writer "
				 "is busy (another storage handle of this "
				 "process)");
	/* our own operation's directory fsync: run our steps (never the
	   caller's callbacks) until it committed */
	while (dbox_index_writer_holder(storage->index) != NULL) {
		if (dbox_io_run_internal(storage->io, -1) < 0)
			return dbox_fail(error_r, DBOX_ERROR_INUSE, "The index "
					 "writer is busy: %m");
	}
	return 0;
}

/* Operations in flight hold mailboxes and buffers the kernel writes
   from: complete them (callbacks included) before anything goes. */
static void storage_drain_ops(struct dbox_storage *storage)
{
	while (storage->ops_in_flight > 0) {
		if (dbox_io_run(storage->io, -1) < 0) {
			dbox_log(DBOX_LOG_ERROR, "%s: storage closed with %u "
				 "operations in flight: %m", storage->root,
				 storage->ops_in_flight);
			abort();
		}
	}
}

void dbox_storage_close(struct dbox_storage **_storage)
{
	struct dbox_storage *storage = *_storage;

	if (storage == NULL)
		return;
	*_storage = NULL;
	storage_drain_ops(storage);
	if (storage->open_boxes > 0)
		dbox_log(DBOX_LOG_ERROR, "%s: storage closed with %u mailboxes "
			 "still open", storage->root, storage->open_boxes);
	dbox_index_close(&storage->index);
	if (storage->format_ctx != NULL)
		storage->ops->deinit(storage);
	if (storage->own_io)
		dbox_io_destroy(&storage->io);
	if (storage->notify_fd >= 0)
		close(storage->notify_fd);
	if (storage->storage_fd >= 0)
		close(storage->storage_fd);
	if (storage->mailboxes_fd >= 0)
		close(storage->mailboxes_fd);
	if (storage->root_fd >= 0)
		close(storage->root_fd);
	free(storage->root);
	free(storage);
}

int dbox_storage_notify_fd(struct dbox_storage *storage)
{
	int fd;

	if (storage->notify_fd >= 0)
		return storage->notify_fd;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return -1;
	/* every commit rewrites pages of data.mdb (pwrite, no WRITEMAP) */
	if (inotify_add_watch(fd, dbox_index_data_path(storage->index),
			      IN_MODIFY) < 0) {
		close(fd);
		return -1;
	}
	storage->notify_fd = fd;
	return fd;
}

void dbox_storage_notify_clear(struct dbox_storage *storage)
{
	char buf[4096];

	if (storage->notify_fd < 0)
		return;
	while (read(storage->notify_fd, buf, sizeof(buf)) > 0)
		;
}
