// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Opening a mailbox: find (or attach) its index record, then load the view.
 * Also the write-transaction helpers every mutation goes through.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbox-log.h"
#include "dbox-name.h"
#include "dbox-private.h"
#include "dbox-view.h"

int dbox_mailbox_rec_init(struct dbox_storage *storage, struct dbox_txn *txn,
			  struct dbox_idx_mailbox_rec *rec_r,
			  const char **error_r)
{
	uint32_t id;

	memset(rec_r, 0, sizeof(*rec_r));
	if (dbox_idx_meta_alloc(txn, "next_mailbox_id", 1, &id, error_r) < 0)
		return -1;
	rec_r->mb.version = DBOX_IDX_MAILBOX_VERSION;
	rec_r->mb.id = id;
	rec_r->mb.uidvalidity = dbox_storage_next_uidvalidity(storage);
	rec_r->mb.uidnext = 1;
	rec_r->mb.highest_modseq = 1;
	rec_r->mb.first_recent_uid = 1;
	return 0;
}

void dbox_mailbox_rec_account(struct dbox_idx_mailbox_rec *rec,
			      const struct dbox_idx_mail *m, int sign)
{
	bool unseen = (m->flags & DBOX_MAIL_SEEN) == 0;

	if (sign > 0) {
		rec->mb.messages++;
		rec->mb.unseen += unseen ? 1 : 0;
		rec->mb.vsize += m->virt_size;
	} else {
		rec->mb.messages -= rec->mb.messages > 0 ? 1 : 0;
		if (unseen && rec->mb.unseen > 0)
			rec->mb.unseen--;
		rec->mb.vsize -= rec->mb.vsize >= m->virt_size ?
			m->virt_size : rec->mb.vsize;
	}
}

int dbox_mailbox_txn_begin(struct dbox_mailbox *box, struct dbox_txn **txn_r,
			   struct dbox_idx_mailbox_rec *rec_r,
			   const char **error_r)
{
	int ret;

	if ((box->flags & DBOX_OPEN_READONLY) != 0)
		return dbox_fail(error_r, DBOX_ERROR_NOTPOSSIBLE,
				 "Mailbox is open read-only");
	if (dbox_txn_begin(box->storage->index, true, txn_r, error_r) < 0)
		return -1;
	ret = dbox_idx_mailbox_get(*txn_r, box->name, rec_r, error_r);
	if (ret > 0 && rec_r->mb.id == box->id)
		return 0;
	dbox_txn_abort(txn_r);
	if (ret < 0)
		return -1;
	if (ret > 0)
		dbox_idx_mailbox_rec_free(rec_r);
	return dbox_fail(error_r, DBOX_ERROR_NOTFOUND,
			 "Mailbox %s was deleted", box->name);
}

int dbox_mailbox_txn_commit(struct dbox_mailbox *box, struct dbox_txn **txn,
			    struct dbox_idx_mailbox_rec *rec,
			    const char **error_r)
{
	int ret;

	ret = dbox_idx_mailbox_put(*txn, box->name, rec, error_r);
	if (ret < 0)
		dbox_txn_abort(txn);
	else
		ret = dbox_txn_commit(txn, error_r);
	dbox_idx_mailbox_rec_free(rec);
	return ret;
}

void dbox_mailbox_txn_abort(struct dbox_txn **txn,
			    struct dbox_idx_mailbox_rec *rec)
{
	dbox_txn_abort(txn);
	dbox_idx_mailbox_rec_free(rec);
}

/* A record whose directory identity matches ours under another name: the
   result of a rename interrupted between the directory rename and the
   index commit. */
struct adopt_ctx {
	struct dbox_mailbox *box;
	dev_t dev;
	ino_t ino;
	char *found_name;
};

static int adopt_find(void *_ctx, const char *name,
		      const struct dbox_idx_mailbox_rec *rec)
{
	struct adopt_ctx *ctx = _ctx;

	if (ctx->found_name == NULL && rec->mb.dir_dev == ctx->dev &&
	    rec->mb.dir_ino == ctx->ino && strcmp(name, ctx->box->name) != 0)
		ctx->found_name = dbox_strdup(name);
	return 0;
}

static int attach_adopt(struct dbox_mailbox *box, struct dbox_txn *txn,
			const struct stat *st, struct dbox_idx_mailbox_rec *rec,
			const char **error_r)
{
	struct adopt_ctx ctx = { box, st->st_dev, st->st_ino, NULL };
	int fd, ret;

	if (dbox_idx_mailbox_iter(txn, adopt_find, &ctx, error_r) < 0)
		return -1;
	if (ctx.found_name == NULL)
		return 0;
	/* only if that name's directory is not this one any more */
	if (dbox_mailbox_dir_open(box->storage, ctx.found_name, false, &fd,
				  error_r) == 0) {
		struct stat st2;

		ret = fstat(fd, &st2) == 0 && st2.st_ino == st->st_ino;
		close(fd);
		if (ret) {
			free(ctx.found_name);
			return 0;
		}
	}
	ret = dbox_idx_mailbox_get(txn, ctx.found_name, rec, error_r);
	if (ret > 0)
		ret = dbox_idx_mailbox_delete(txn, ctx.found_name, error_r) < 0 ?
			-1 : 1;
	dbox_log(DBOX_LOG_INFO, "mailbox %s: adopted the index record of %s "
		 "(interrupted rename)", box->name, ctx.found_name);
	free(ctx.found_name);
	return ret;
}

static int attach_in_txn(struct dbox_mailbox *box, struct dbox_txn *txn,
			 const struct stat *st, const char **error_r)
{
	struct dbox_idx_mailbox_rec rec, old;
	int ret;

	ret = dbox_idx_mailbox_get(txn, box->name, &old, error_r);
	if (ret < 0)
		return -1;
	if (ret > 0 && old.mb.dir_dev == st->st_dev &&
	    old.mb.dir_ino == st->st_ino) {
		box->id = old.mb.id;	/* another process attached it */
		dbox_idx_mailbox_rec_free(&old);
		return 0;
	}
	if (ret == 0) {
		ret = attach_adopt(box, txn, st, &rec, error_r);
		if (ret < 0)
			return -1;
		if (ret == 0 && (dbox_mailbox_rec_init(box->storage, txn, &rec,
						       error_r) < 0 ||
		    box->storage->ops->mailbox_import(box, txn, &rec, NULL,
						      error_r) < 0)) {
			dbox_idx_mailbox_rec_free(&rec);
			return -1;
		}
	} else {
		/* the directory was replaced (restore, or deleted and made
		   again behind our back): reconcile with what is there */
		rec = old;
		memset(&old, 0, sizeof(old));
		box->id = rec.mb.id;
		if (box->storage->ops->mailbox_import(box, txn, &rec, &rec,
						      error_r) < 0) {
			dbox_idx_mailbox_rec_free(&rec);
			return -1;
		}
	}
	rec.mb.dir_dev = st->st_dev;
	rec.mb.dir_ino = st->st_ino;
	box->id = rec.mb.id;
	ret = dbox_idx_mailbox_put(txn, box->name, &rec, error_r);
	dbox_idx_mailbox_rec_free(&rec);
	return ret;
}

/* Make sure the index has a record for this directory; sets box->id. */
static int mailbox_attach(struct dbox_mailbox *box, const char **error_r)
{
	struct dbox_idx_mailbox_rec rec;
	struct dbox_txn *txn;
	struct stat st;
	int ret;

	if (fstat(box->dir_fd, &st) < 0)
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "fstat(%s) failed: %m", box->name);
	if (dbox_txn_begin(box->storage->index, false, &txn, error_r) < 0)
		return -1;
	ret = dbox_idx_mailbox_get(txn, box->name, &rec, error_r);
	dbox_txn_abort(&txn);
	if (ret < 0)
		return -1;
	if (ret > 0) {
		bool same = rec.mb.dir_dev == st.st_dev &&
			rec.mb.dir_ino == st.st_ino;

		box->id = rec.mb.id;
		dbox_idx_mailbox_rec_free(&rec);
		if (same)
			return 0;
	}
	if (dbox_txn_begin(box->storage->index, true, &txn, error_r) < 0)
		return -1;
	if (attach_in_txn(box, txn, &st, error_r) < 0) {
		dbox_txn_abort(&txn);
		return -1;
	}
	return dbox_txn_commit(&txn, error_r);
}

static int open_dir(struct dbox_mailbox *box, const char **error_r)
{
	if (dbox_mailbox_dir_open(box->storage, box->disk_name, false,
				  &box->dir_fd, error_r) == 0)
		return 0;
	if (dbox_last_error() != DBOX_ERROR_NOTFOUND)
		return -1;
	if (strcmp(box->name, "INBOX") != 0)
		return dbox_fail(error_r, DBOX_ERROR_NOTFOUND,
				 "Mailbox doesn't exist: %s", box->name);
	/* INBOX always exists */
	if (dbox_mailbox_create(box->storage, "INBOX", 0, error_r) < 0 &&
	    dbox_last_error() != DBOX_ERROR_EXISTS)
		return -1;
	return dbox_mailbox_dir_open(box->storage, box->disk_name, false,
				     &box->dir_fd, error_r);
}

static int mailbox_open_real(struct dbox_mailbox *box, const char **error_r)
{
	struct dbox_sync_result result;

	if (open_dir(box, error_r) < 0 || mailbox_attach(box, error_r) < 0)
		return -1;
	if (dbox_mailbox_sync(box, &result, error_r) < 0)
		return -1;
	dbox_sync_result_free(&result);
	return 0;
}

/* Message files are parsed leniently at open (bad ones are skipped), so a
   CORRUPTED failure here comes from the index: rebuild it, try again. */
static int open_after_rebuild(struct dbox_mailbox *box, const char **error_r)
{
	dbox_log(DBOX_LOG_WARNING, "mailbox %s: %s; rebuilding the index",
		 box->name, dbox_last_error_str());
	dbox_view_free(box);
	memset(&box->status, 0, sizeof(box->status));
	if (box->dir_fd >= 0) {
		close(box->dir_fd);
		box->dir_fd = -1;
	}
	if (dbox_storage_rebuild(box->storage, error_r) < 0)
		return -1;
	return mailbox_open_real(box, error_r);
}

int dbox_mailbox_open(struct dbox_storage *storage, const char *name,
		      unsigned int flags, struct dbox_mailbox **box_r,
		      const char **error_r)
{
	struct dbox_mailbox *box;
	char *norm, *disk;
	int ret;

	if (dbox_mailbox_name_normalize(name, &norm, error_r) < 0)
		return -1;
	if (dbox_name_to_disk(norm, &disk, error_r) < 0) {
		free(norm);
		return -1;
	}
	box = dbox_calloc(1, sizeof(*box));
	box->storage = storage;
	box->refcount = 1;
	box->name = norm;
	box->disk_name = disk;
	box->dir_fd = -1;
	box->flags = flags;
	storage->open_boxes++;
	ret = mailbox_open_real(box, error_r);
	if (ret < 0 && dbox_last_error() == DBOX_ERROR_CORRUPTED)
		ret = open_after_rebuild(box, error_r);
	if (ret < 0) {
		char msg[512];
		enum dbox_error err = dbox_last_error();

		snprintf(msg, sizeof(msg), "%s", dbox_last_error_str());
		dbox_mailbox_close(&box);
		return dbox_fail(error_r, err, "%s", msg);
	}
	*box_r = box;
	return 0;
}

struct dbox_mailbox *dbox_mailbox_ref(struct dbox_mailbox *box)
{
	box->refcount++;
	return box;
}

void dbox_mailbox_close(struct dbox_mailbox **box)
{
	dbox_mailbox_unref(box);
}

void dbox_mailbox_unref(struct dbox_mailbox **_box)
{
	struct dbox_mailbox *box = *_box;

	if (box == NULL)
		return;
	*_box = NULL;
	if (--box->refcount > 0)
		return;
	dbox_view_free(box);
	if (box->dir_fd >= 0)
		close(box->dir_fd);
	box->storage->open_boxes--;
	free(box->name);
	free(box->disk_name);
	free(box);
}

const char *dbox_mailbox_get_name(const struct dbox_mailbox *box)
{
	return box->name;
}
