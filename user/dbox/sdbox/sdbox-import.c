// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * single-dbox: reading u.<uid> files into the index. The uid is the file
 * name, so a mailbox keeps its uids through an import or rebuild; flags
 * and keywords live only in the index and are carried over from an old
 * record with the same uid and GUID where there is one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../dbox-fs.h"
#include "../dbox-keywords.h"
#include "../dbox-log.h"
#include "../dbox-rebuild.h"
#include "sdbox.h"

/* Dovecot deletes temp files this old; so do we. */
#define SDBOX_TEMP_MAX_AGE (36 * 60 * 60)

struct uid_list {
	uint32_t *uids;
	unsigned int count;
};

static int uid_cmp(const void *p1, const void *p2)
{
	uint32_t u1 = *(const uint32_t *)p1, u2 = *(const uint32_t *)p2;

	return u1 < u2 ? -1 : u1 > u2;
}

static bool parse_uid(const char *name, uint32_t *uid_r)
{
	const char *p = name + strlen(SDBOX_MAIL_PREFIX);
	uint64_t uid = 0;

	if (strncmp(name, SDBOX_MAIL_PREFIX, strlen(SDBOX_MAIL_PREFIX)) != 0 ||
	    *p == '\0' || *p == '0')
		return false;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		uid = uid * 10 + (uint64_t)(*p - '0');
		if (uid >= UINT32_MAX)
			return false;
	}
	*uid_r = (uint32_t)uid;
	return true;
}

static void clean_temp(int dir_fd, const char *name)
{
	struct stat st;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_mtime < dbox_now() - SDBOX_TEMP_MAX_AGE)
		(void)unlinkat(dir_fd, name, 0);
}

/* The uids of all u.* files, sorted; old temp files are removed. */
static int scan_uids(int dir_fd, struct uid_list *list_r,
		     const char **error_r)
{
	struct dirent *d;
	DIR *dir;
	uint32_t uid;

	memset(list_r, 0, sizeof(*list_r));
	dir = dbox_fs_opendir_at(dir_fd);
	if (dir == NULL)
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "opendir failed: %m");
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, "temp.", 5) == 0) {
			clean_temp(dir_fd, d->d_name);
			continue;
		}
		if (!parse_uid(d->d_name, &uid))
			continue;
		list_r->uids = dbox_realloc(list_r->uids, (list_r->count + 1) *
					    sizeof(uint32_t));
		list_r->uids[list_r->count++] = uid;
	}
	closedir(dir);
	if (list_r->count > 0)	/* qsort(NULL, 0) is undefined */
		qsort(list_r->uids, list_r->count, sizeof(uint32_t), uid_cmp);
	return 0;
}

static int put_imported(struct dbox_txn *txn, uint32_t box_id,
			struct dbox_idx_mailbox_rec *rec,
			struct dbox_import_msg *msg,
			const struct dbox_rebuild_carry *carry,
			const char **error_r)
{
	uint16_t *kw = NULL;
	unsigned int kw_count = 0;
	int ret;

	if (carry != NULL) {
		msg->rec.m.flags = carry->flags;
		msg->rec.m.save_date = carry->save_date;
		if (dbox_keywords_to_indexes(rec, carry->keywords, &kw,
					     &kw_count, error_r) < 0)
			return -1;
	}
	msg->rec.m.keyword_count = (uint16_t)kw_count;
	msg->rec.keywords = kw;
	msg->rec.m.modseq = rec->mb.highest_modseq;
	ret = dbox_idx_mail_put(txn, box_id, &msg->rec, error_r);
	if (ret == 0)
		dbox_mailbox_rec_account(rec, &msg->rec.m, 1);
	free(kw);
	return ret;
}

/* Import u.<uid>. Returns 1 imported, 0 skipped (unreadable), -1 error. */
static int import_uid(struct dbox_storage *storage, int dir_fd,
		      uint32_t box_id, struct dbox_txn *txn,
		      struct dbox_idx_mailbox_rec *rec, uint32_t uid,
		      const struct dbox_rebuild_old_box *old,
		      const char **error_r)
{
	struct dbox_file_header hdr;
	struct dbox_import_msg msg;
	unsigned char *data;
	char name[32];
	struct stat st;
	size_t size;
	int fd, ret, saved_errno;

	snprintf(name, sizeof(name), SDBOX_MAIL_PREFIX "%u", uid);
	if (dbox_fs_open_file(dir_fd, name, O_RDONLY, 0, &fd) < 0) {
		if (errno == ENOENT)
			return 0;
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "open(%s) failed: %m", name);
	}
	errno = 0;
	ret = fstat(fd, &st) < 0 ? -1 :
		dbox_read_file(storage, fd, DBOX_MAX_MESSAGE_SIZE_LIMIT,
			       &data, &size, error_r);
	saved_errno = errno;
	close(fd);
	if (ret < 0)
		goto skip;
	ret = dbox_file_header_parse(data, size, &hdr, error_r);
	if (ret == 0)
		ret = dbox_import_parse(data, size, hdr.header_len,
					hdr.msg_header_size, st.st_mtime,
					&msg, error_r);
	free(data);
	if (ret < 0)
		goto skip;
	msg.rec.uid = uid;
	ret = put_imported(txn, box_id, rec, &msg,
			   dbox_rebuild_carry_find(old, uid, msg.guid),
			   error_r);
	dbox_import_msg_free(&msg);
	if (uid >= rec->mb.uidnext)
		rec->mb.uidnext = uid + 1;
	return ret < 0 ? -1 : 1;

skip:
	/* A damaged or unsupported file is skipped (and kept on disk); a
	   transient failure (no memory, no fds) fails the whole import so
	   that no message is silently left out. */
	if (dbox_last_error() == DBOX_ERROR_TEMP && saved_errno != EIO)
		return -1;
	dbox_log(DBOX_LOG_WARNING, "skipping unreadable message file %s: %s",
		 name, dbox_last_error_str());
	if (uid >= rec->mb.uidnext)
		rec->mb.uidnext = uid + 1;
	return 0;
}

int sdbox_adopt_file(struct dbox_mailbox *box, struct dbox_txn *txn,
		     struct dbox_idx_mailbox_rec *rec, uint32_t uid,
		     const char **error_r)
{
	int ret;

	rec->mb.highest_modseq++;
	ret = import_uid(box->storage, box->dir_fd, box->id, txn, rec, uid,
			 NULL, error_r);
	if (ret < 0)
		return -1;
	dbox_log(DBOX_LOG_INFO, "mailbox %s: adopted u.%u left by an "
		 "interrupted append", box->name, uid);
	if (uid >= rec->mb.uidnext)
		rec->mb.uidnext = uid + 1;
	return 0;
}

/* Import every file of a directory into an empty record. */
static int sdbox_import_dir(struct dbox_storage *storage, int dir_fd,
		     uint32_t box_id, struct dbox_txn *txn,
		     struct dbox_idx_mailbox_rec *rec,
		     const struct dbox_rebuild_old_box *old,
		     const char **error_r)
{
	struct uid_list list;
	unsigned int i;
	int ret = 0;

	if (scan_uids(dir_fd, &list, error_r) < 0)
		return -1;
	rec->mb.highest_modseq++;
	for (i = 0; i < list.count && ret >= 0; i++)
		ret = import_uid(storage, dir_fd, box_id, txn, rec,
				 list.uids[i], old, error_r);
	free(list.uids);
	return ret < 0 ? -1 : 0;
}

struct indexed_ctx {
	struct uid_list list;
};

static int collect_indexed(void *_ctx, const struct dbox_idx_mail_rec *rec)
{
	struct indexed_ctx *ctx = _ctx;

	ctx->list.uids = dbox_realloc(ctx->list.uids, (ctx->list.count + 1) *
				      sizeof(uint32_t));
	ctx->list.uids[ctx->list.count++] = rec->uid;
	return 0;
}

/* Records without a file become expunged; files without a record are
   imported. */
static int reconcile(struct dbox_mailbox *box, struct dbox_txn *txn,
		     struct dbox_idx_mailbox_rec *rec, const char **error_r)
{
	struct indexed_ctx indexed = { { NULL, 0 } };
	struct dbox_idx_mail_rec mail;
	struct uid_list files;
	unsigned int i = 0, j = 0;
	uint64_t modseq = ++rec->mb.highest_modseq;
	int ret = 0;

	if (dbox_idx_mail_iter(txn, box->id, 0, collect_indexed, &indexed,
			       error_r) < 0)
		return -1;
	if (scan_uids(box->dir_fd, &files, error_r) < 0) {
		free(indexed.list.uids);
		return -1;
	}
	while (ret >= 0 && (i < indexed.list.count || j < files.count)) {
		uint32_t a = i < indexed.list.count ? indexed.list.uids[i] :
			UINT32_MAX;
		uint32_t b = j < files.count ? files.uids[j] : UINT32_MAX;

		if (a == b) {
			i++;
			j++;
		} else if (a < b) {
			ret = dbox_idx_mail_get(txn, box->id, a, &mail,
						error_r);
			if (ret > 0) {
				dbox_mailbox_rec_account(rec, &mail.m, -1);
				ret = dbox_idx_mail_delete(txn, box->id, a,
							   error_r);
			}
			if (ret >= 0)
				ret = dbox_idx_expunged_add(txn, box->id,
							    modseq, a,
							    error_r);
			i++;
		} else {
			ret = import_uid(box->storage, box->dir_fd, box->id,
					 txn, rec, b, NULL, error_r);
			j++;
		}
	}
	free(indexed.list.uids);
	free(files.uids);
	return ret < 0 ? -1 : 0;
}

int sdbox_mailbox_import(struct dbox_mailbox *box, struct dbox_txn *txn,
			 struct dbox_idx_mailbox_rec *rec,
			 const struct dbox_idx_mailbox_rec *old,
			 const char **error_r)
{
	if (old != NULL)
		return reconcile(box, txn, rec, error_r);
	return sdbox_import_dir(box->storage, box->dir_fd, rec->mb.id, txn,
				rec, NULL, error_r);
}

int sdbox_rebuild(struct dbox_storage *storage, struct dbox_rebuild_ctx *ctx,
		  const char **error_r)
{
	struct dbox_rebuild_box *box;
	unsigned int i;

	for (i = 0; i < ctx->count; i++) {
		box = &ctx->boxes[i];
		if (sdbox_import_dir(storage, box->dir_fd, box->rec.mb.id,
				     ctx->txn, &box->rec, box->old,
				     error_r) < 0)
			return -1;
	}
	return 0;
}
