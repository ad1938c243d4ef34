// SPDX-License-Identifier: GPL-2.0-or-later
/* STATUS of an unselected mailbox, \Recent claiming, QRESYNC expunges. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbox-name.h"
#include "dbox-private.h"

struct recent_ctx {
	uint32_t count;
};

static int count_recent(void *ctx, const struct dbox_idx_mail_rec *rec ATTR_UNUSED)
{
	((struct recent_ctx *)ctx)->count++;
	return 0;
}

static int status_from_index(struct dbox_storage *storage, const char *name,
			     struct dbox_status *status_r,
			     const char **error_r)
{
	struct dbox_idx_mailbox_rec rec;
	struct recent_ctx recent = { 0 };
	struct dbox_txn *txn;
	int ret;

	if (dbox_txn_begin(storage->index, false, &txn, error_r) < 0)
		return -1;
	ret = dbox_idx_mailbox_get(txn, name, &rec, error_r);
	if (ret > 0) {
		memset(status_r, 0, sizeof(*status_r));
		status_r->messages = rec.mb.messages;
		status_r->uidnext = rec.mb.uidnext;
		status_r->uidvalidity = rec.mb.uidvalidity;
		status_r->unseen = rec.mb.unseen;
		status_r->highest_modseq = rec.mb.highest_modseq;
		status_r->size = rec.mb.vsize;
		if (dbox_idx_mail_iter(txn, rec.mb.id, rec.mb.first_recent_uid,
				       count_recent, &recent, error_r) < 0)
			ret = -1;
		status_r->recent = recent.count;
		dbox_idx_mailbox_rec_free(&rec);
	}
	dbox_txn_abort(&txn);
	return ret;
}

int dbox_mailbox_status(struct dbox_storage *storage, const char *name,
			struct dbox_status *status_r, const char **error_r)
{
	struct dbox_mailbox *box;
	char *norm, *disk;
	int fd, ret;

	if (dbox_mailbox_name_normalize(name, &norm, error_r) < 0)
		return -1;
	if (dbox_name_to_disk(norm, &disk, error_r) < 0) {
		free(norm);
		return -1;
	}
	/* the directory says whether it exists; the record may be stale */
	ret = dbox_mailbox_dir_open(storage, disk, false, &fd, error_r);
	free(disk);
	if (ret == 0) {
		close(fd);
		ret = status_from_index(storage, norm, status_r, error_r);
	} else if (dbox_last_error() == DBOX_ERROR_NOTFOUND) {
		if (strcmp(norm, "INBOX") == 0)
			ret = 0;	/* INBOX is made on open */
		else
			dbox_fail(error_r, DBOX_ERROR_NOTFOUND,
				  "Mailbox doesn't exist: %s", norm);
	}
	if (ret == 0) {
		/* no record yet (a directory made by Dovecot, or INBOX):
		   opening attaches and imports it */
		ret = dbox_mailbox_open(storage, norm, 0, &box, error_r);
		if (ret == 0) {
			dbox_mailbox_get_status(box, status_r);
			dbox_mailbox_close(&box);
		}
	}
	free(norm);
	return ret < 0 ? -1 : 0;
}

int dbox_mailbox_claim_recent(struct dbox_mailbox *box,
			      uint32_t *first_recent_uid_r,
			      const char **error_r)
{
	struct dbox_idx_mailbox_rec rec;
	struct dbox_txn *txn;

	if ((box->flags & DBOX_OPEN_READONLY) != 0) {
		/* EXAMINE reports nothing as recent and claims nothing */
		*first_recent_uid_r = box->status.uidnext;
		return 0;
	}
	if (dbox_mailbox_txn_begin(box, &txn, &rec, error_r) < 0)
		return -1;
	*first_recent_uid_r = rec.mb.first_recent_uid;
	if (rec.mb.first_recent_uid == rec.mb.uidnext) {
		dbox_mailbox_txn_abort(&txn, &rec);
		return 0;
	}
	rec.mb.first_recent_uid = rec.mb.uidnext;
	return dbox_mailbox_txn_commit(box, &txn, &rec, error_r);
}

struct expunged_ctx {
	uint32_t *uids;
	unsigned int count;
};

static int expunged_add(void *_ctx, uint64_t modseq ATTR_UNUSED, uint32_t uid)
{
	struct expunged_ctx *ctx = _ctx;

	ctx->uids = dbox_realloc(ctx->uids, (ctx->count + 1) * sizeof(uid));
	ctx->uids[ctx->count++] = uid;
	return 0;
}

static int uid_cmp(const void *p1, const void *p2)
{
	uint32_t u1 = *(const uint32_t *)p1, u2 = *(const uint32_t *)p2;

	return u1 < u2 ? -1 : u1 > u2;
}

int dbox_mailbox_expunged_since(struct dbox_mailbox *box, uint64_t modseq,
				uint32_t **uids_r, unsigned int *count_r,
				bool *complete_r, const char **error_r)
{
	struct expunged_ctx ctx = { NULL, 0 };
	struct dbox_txn *txn;
	unsigned int i, n = 0;

	if (dbox_txn_begin(box->storage->index, false, &txn, error_r) < 0)
		return -1;
	if (dbox_idx_expunged_iter(txn, box->id, modseq, expunged_add, &ctx,
				   error_r) < 0) {
		dbox_txn_abort(&txn);
		free(ctx.uids);
		return -1;
	}
	dbox_txn_abort(&txn);
	if (ctx.count > 0)	/* qsort(NULL, 0) is undefined */
		qsort(ctx.uids, ctx.count, sizeof(*ctx.uids), uid_cmp);
	for (i = 0; i < ctx.count; i++) {
		if (n == 0 || ctx.uids[n - 1] != ctx.uids[i])
			ctx.uids[n++] = ctx.uids[i];
	}
	*uids_r = ctx.uids;
	*count_r = n;
	/* the expunge log is never trimmed */
	*complete_r = true;
	return 0;
}
