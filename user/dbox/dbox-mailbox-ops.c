// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CREATE, DELETE, RENAME and special-use. The directory operation and the
 * index change are ordered so that a crash between them is repaired the
 * next time the mailbox is opened (see dbox-private.h for who is the truth).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbox-fs.h"
#include "dbox-log.h"
#include "dbox-name.h"
#include "dbox-private.h"

/* Normalise a name and map it to disk in one go. */
static int name_prepare(const char *name, char **norm_r, char **disk_r,
			const char **error_r)
{
	if (dbox_mailbox_name_normalize(name, norm_r, error_r) < 0)
		return -1;
	if (dbox_name_to_disk(*norm_r, disk_r, error_r) < 0) {
		free(*norm_r);
		return -1;
	}
	return 0;
}

/* Remove a stale record (its directory is gone) and its messages. */
int dbox_mailbox_drop_record(struct dbox_storage *storage, struct dbox_txn *txn,
		       const char *name, const char **error_r)
{
	struct dbox_idx_mailbox_rec rec;
	int ret;

	ret = dbox_idx_mailbox_get(txn, name, &rec, error_r);
	if (ret <= 0)
		return ret;
	ret = storage->ops->mailbox_delete(storage, txn, rec.mb.id, error_r);
	if (ret == 0)
		ret = dbox_idx_mail_delete_all(txn, rec.mb.id, error_r);
	if (ret == 0)
		ret = dbox_idx_mailbox_delete(txn, name, error_r);
	dbox_idx_mailbox_rec_free(&rec);
	return ret;
}

static int create_record(struct dbox_storage *storage, const char *name,
			 int dir_fd, unsigned int special_use,
			 const char **error_r)
{
	struct dbox_idx_mailbox_rec rec;
	struct dbox_txn *txn;
	struct stat st;

	if (fstat(dir_fd, &st) < 0)
		return dbox_fail(error_r, DBOX_ERROR_TEMP, "fstat failed: %m");
	if (dbox_txn_begin(storage->index, true, &txn, error_r) < 0)
		return -1;
	if (dbox_mailbox_drop_record(storage, txn, name, error_r) < 0 ||
	    dbox_mailbox_rec_init(storage, txn, &rec, error_r) < 0) {
		dbox_txn_abort(&txn);
		return -1;
	}
	rec.mb.special_use = special_use;
	rec.mb.dir_dev = st.st_dev;
	rec.mb.dir_ino = st.st_ino;
	if (dbox_idx_mailbox_put(txn, name, &rec, error_r) < 0) {
		dbox_mailbox_txn_abort(&txn, &rec);
		return -1;
	}
	dbox_idx_mailbox_rec_free(&rec);
	return dbox_txn_commit(&txn, error_r);
}

int dbox_mailbox_create(struct dbox_storage *storage, const char *name,
			unsigned int special_use, const char **error_r)
{
	char *norm, *disk;
	int mbox_fd = -1, dir_fd = -1, ret = -1;

	if ((special_use & ~DBOX_SPECIAL_MASK) != 0)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Unknown special-use flags");
	if (name_prepare(name, &norm, &disk, error_r) < 0)
		return -1;
	if (dbox_fs_open_dir(storage->mailboxes_fd, disk, true, &mbox_fd,
			     error_r) < 0)
		goto out;
	if (mkdirat(mbox_fd, DBOX_MAILDIR_NAME, 0700) < 0) {
		if (errno == EEXIST)
			dbox_fail(error_r, DBOX_ERROR_EXISTS,
				  "Mailbox already exists: %s", norm);
		else
			dbox_fail(error_r, DBOX_ERROR_TEMP,
				  "mkdir(%s) failed: %m", norm);
		goto out;
	}
	if (dbox_storage_fsync_fd(storage, mbox_fd, false, norm, error_r) < 0 ||
	    dbox_fs_open_dir(mbox_fd, DBOX_MAILDIR_NAME, false, &dir_fd,
			     error_r) < 0)
		goto out;
	ret = create_record(storage, norm, dir_fd, special_use, error_r);
out:
	if (dir_fd >= 0)
		close(dir_fd);
	if (mbox_fd >= 0)
		close(mbox_fd);
	free(norm);
	free(disk);
	return ret;
}

/* Split "a/b/c" into parent fd ("a/b", created if asked) and "c". */
int dbox_mailbox_open_parent(struct dbox_storage *storage, const char *disk,
		       bool create, int *parent_fd_r, const char **last_r,
		       const char **error_r)
{
	const char *slash = strrchr(disk, '/');
	char *parent;
	int ret;

	if (slash == NULL) {
		*last_r = disk;
		return dbox_fs_open_dir(storage->mailboxes_fd, "", false,
					parent_fd_r, error_r);
	}
	*last_r = slash + 1;
	parent = dbox_strndup(disk, (size_t)(slash - disk));
	ret = dbox_fs_open_dir(storage->mailboxes_fd, parent, create,
			       parent_fd_r, error_r);
	free(parent);
	return ret;
}

static bool dir_has_children(int fd)
{
	struct stat st;
	struct dirent *d;
	DIR *dir = dbox_fs_opendir_at(fd);
	bool children = false;

	if (dir == NULL)
		return true;	/* unknown: keep the directory */
	while (!children && (d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0 ||
		    strcmp(d->d_name, DBOX_MAILDIR_NAME) == 0)
			continue;
		if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			children = true;
	}
	closedir(dir);
	return children;
}

/* Remove now-empty directories from disk up towards mailboxes/. */
void dbox_mailbox_remove_empty_levels(struct dbox_storage *storage,
				const char *disk)
{
	char *path = dbox_strdup(disk), *slash;
	const char *last;
	int parent_fd;

	for (;;) {
		if (dbox_mailbox_open_parent(storage, path, false, &parent_fd, &last,
				NULL) < 0)
			break;
		if (unlinkat(parent_fd, last, AT_REMOVEDIR) < 0) {
			close(parent_fd);
			break;
		}
		(void)fsync(parent_fd);
		close(parent_fd);
		slash = strrchr(path, '/');
		if (slash == NULL)
			break;
		*slash = '\0';
	}
	free(path);
}

static int delete_records(struct dbox_storage *storage, const char *name,
			  const char **error_r)
{
	struct dbox_txn *txn;

	if (dbox_txn_begin(storage->index, true, &txn, error_r) < 0)
		return -1;
	if (dbox_mailbox_drop_record(storage, txn, name, error_r) < 0) {
		dbox_txn_abort(&txn);
		return -1;
	}
	return dbox_txn_commit(&txn, error_r);
}

/* Take dbox-Mails out of the namespace in one rename, then forget it. */
static int delete_selectable(struct dbox_storage *storage, const char *norm,
			     int mbox_fd, const char **error_r)
{
	char *trash_name = dbox_fs_temp_name();
	int trash_fd, ret = -1;

	if (dbox_fs_open_dir(storage->root_fd, DBOX_TRASH_DIR, true,
			     &trash_fd, error_r) < 0) {
		free(trash_name);
		return -1;
	}
	if (renameat(mbox_fd, DBOX_MAILDIR_NAME, trash_fd, trash_name) < 0) {
		dbox_fail(error_r, errno == ENOENT ? DBOX_ERROR_NOTFOUND :
			  DBOX_ERROR_TEMP, "rename(%s) failed: %m", norm);
		goto out;
	}
	if (dbox_storage_fsync_fd(storage, mbox_fd, false, norm, error_r) < 0 ||
	    dbox_storage_fsync_fd(storage, trash_fd, false, "trash",
				  error_r) < 0 ||
	    delete_records(storage, norm, error_r) < 0)
		goto out;
	/* the messages are unreachable now; failing to free the space
	   is only worth a log line */
	if (dbox_fs_remove_tree(trash_fd, trash_name, error_r) < 0)
		dbox_log(DBOX_LOG_WARNING, "deleting mailbox %s: %s", norm,
			 *error_r);
	ret = 0;
out:
	close(trash_fd);
	free(trash_name);
	return ret;
}

int dbox_mailbox_delete(struct dbox_storage *storage, const char *name,
			const char **error_r)
{
	char *norm, *disk;
	struct stat st;
	bool children;
	int mbox_fd, ret = -1;

	if (name_prepare(name, &norm, &disk, error_r) < 0)
		return -1;
	if (strcmp(norm, "INBOX") == 0) {
		dbox_fail(error_r, DBOX_ERROR_NOTPOSSIBLE,
			  "INBOX can't be deleted");
		goto out_free;
	}
	if (dbox_fs_open_dir(storage->mailboxes_fd, disk, false, &mbox_fd,
			     error_r) < 0) {
		if (dbox_last_error() == DBOX_ERROR_NOTFOUND)
			dbox_fail(error_r, DBOX_ERROR_NOTFOUND,
				  "Mailbox doesn't exist: %s", norm);
		goto out_free;
	}
	children = dir_has_children(mbox_fd);
	if (fstatat(mbox_fd, DBOX_MAILDIR_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0)
		ret = delete_selectable(storage, norm, mbox_fd, error_r);
	else if (children)
		dbox_fail(error_r, DBOX_ERROR_NOTPOSSIBLE,
			  "Mailbox has children, delete them first");
	else
		dbox_fail(error_r, DBOX_ERROR_NOTFOUND,
			  "Mailbox doesn't exist: %s", norm);
	close(mbox_fd);
	if (!children)
		dbox_mailbox_remove_empty_levels(storage, disk);
out_free:
	free(norm);
	free(disk);
	return ret;
}

int dbox_mailbox_set_special_use(struct dbox_storage *storage,
				 const char *name, unsigned int special_use,
				 const char **error_r)
{
	struct dbox_mailbox *box;
	struct dbox_idx_mailbox_rec rec;
	struct dbox_txn *txn;

	if ((special_use & ~DBOX_SPECIAL_MASK) != 0)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Unknown special-use flags");
	/* opening makes sure there is a record to put it in */
	if (dbox_mailbox_open(storage, name, 0, &box, error_r) < 0)
		return -1;
	if (dbox_mailbox_txn_begin(box, &txn, &rec, error_r) < 0) {
		dbox_mailbox_close(&box);
		return -1;
	}
	rec.mb.special_use = special_use;
	if (dbox_mailbox_txn_commit(box, &txn, &rec, error_r) < 0) {
		dbox_mailbox_close(&box);
		return -1;
	}
	dbox_mailbox_close(&box);
	return 0;
}
