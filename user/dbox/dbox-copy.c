// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * COPY and MOVE in one index transaction. MOVE is COPY plus EXPUNGE of
 * the source in the same transaction, so a crash leaves the message in the
 * source only, or (after the commit) in the destination only; sdbox files
 * are unlinked from the source after the commit.
 */
#include <stdlib.h>
#include <string.h>

#include "dbox-keywords.h"
#include "dbox-mailcopy.h"
#include "dbox-private.h"

struct copy_run {
	struct dbox_copy_ctx ctx;
	struct dbox_txn *txn;
	struct dbox_idx_mailbox_rec dst_rec, src_rec;
	bool same_box;
	uint64_t dst_modseq, src_modseq;
	int64_t now;
	uint32_t *moved;	/* source uids removed (move) */
	unsigned int moved_count;
};

/* Keyword indexes of src's table -> dst's table. */
static int remap_keywords(struct copy_run *run, struct dbox_mail_copy *mail,
			  const char **error_r)
{
	const struct dbox_idx_mailbox_rec *src_rec =
		run->same_box ? &run->dst_rec : &run->src_rec;
	const char **names;
	uint16_t *kw;
	unsigned int i, n = 0, count;

	if (run->same_box || mail->rec.m.keyword_count == 0)
		return 0;
	names = dbox_calloc(mail->rec.m.keyword_count + 1, sizeof(char *));
	for (i = 0; i < mail->rec.m.keyword_count; i++) {
		if (mail->keywords[i] < src_rec->mb.keyword_count)
			names[n++] = src_rec->keywords[mail->keywords[i]];
	}
	if (dbox_keywords_to_indexes(&run->dst_rec, names, &kw, &count,
				     error_r) < 0) {
		free(names);
		return -1;
	}
	free(names);
	dbox_mail_copy_set_keywords(mail, kw, count);
	return 0;
}

static int expunge_source(struct copy_run *run, struct dbox_mail_copy *src,
			  const char **error_r)
{
	struct dbox_mailbox *box = run->ctx.src;

	if (box->storage->ops->expunge_one(box, run->txn, &src->rec,
					   error_r) < 0 ||
	    dbox_idx_mail_delete(run->txn, box->id, src->rec.uid, error_r) < 0 ||
	    dbox_idx_expunged_add(run->txn, box->id, run->src_modseq,
				  src->rec.uid, error_r) < 0)
		return -1;
	dbox_mailbox_rec_account(&run->src_rec, &src->rec.m, -1);
	run->moved = dbox_realloc(run->moved, (run->moved_count + 1) *
				  sizeof(uint32_t));
	run->moved[run->moved_count++] = src->rec.uid;
	return 0;
}

/* Returns the new uid, 0 when the source is gone, or -1 on error. */
static int64_t copy_one(struct copy_run *run, uint32_t uid,
			const char **error_r)
{
	const struct dbox_format_ops *ops = run->ctx.src->storage->ops;
	struct dbox_mail_copy src, dst;
	int64_t ret;

	ret = dbox_mail_copy_get(run->txn, run->ctx.src->id, uid, &src,
				 error_r);
	if (ret <= 0)
		return ret;
	dbox_mail_copy_init(&dst, &src.rec);
	dst.rec.m.modseq = run->dst_modseq;
	dst.rec.m.save_date = run->now;
	ret = remap_keywords(run, &dst, error_r);
	if (ret == 0 && ops->copy_one(&run->ctx, run->txn, &run->dst_rec,
				      &src.rec, &dst.rec, error_r) < 0)
		ret = dbox_last_error() == DBOX_ERROR_EXPUNGED ? 1 : -1;
	if (ret == 0)
		ret = dbox_idx_mail_put(run->txn, run->ctx.dst->id, &dst.rec,
					error_r);
	if (ret == 0) {
		dbox_mailbox_rec_account(&run->dst_rec, &dst.rec.m, 1);
		if (run->ctx.move)
			ret = expunge_source(run, &src, error_r);
	}
	if (ret == 0)
		ret = dst.rec.uid;
	else if (ret == 1)
		ret = 0;	/* vanished file: nothing copied */
	dbox_mail_copy_free(&src);
	dbox_mail_copy_free(&dst);
	return ret;
}

static int load_source(struct copy_run *run, const char **error_r)
{
	struct dbox_mailbox *src = run->ctx.src;
	int ret;

	run->same_box = src->id == run->ctx.dst->id;
	if (run->same_box)
		return 0;
	ret = dbox_idx_mailbox_get(run->txn, src->name, &run->src_rec,
				   error_r);
	if (ret > 0 && run->src_rec.mb.id == src->id)
		return 0;
	if (ret > 0)
		dbox_idx_mailbox_rec_free(&run->src_rec);
	return ret < 0 ? -1 : dbox_fail(error_r, DBOX_ERROR_NOTFOUND,
					"Mailbox %s was deleted", src->name);
}

static int copy_all(struct copy_run *run, const uint32_t *uids,
		    unsigned int count, uint32_t *dst_uids_r,
		    const char **error_r)
{
	const struct dbox_format_ops *ops = run->ctx.src->storage->ops;
	unsigned int i;
	int64_t uid;

	run->dst_modseq = ++run->dst_rec.mb.highest_modseq;
	if (run->ctx.move)
		run->src_modseq = ++run->src_rec.mb.highest_modseq;
	for (i = 0; i < count; i++) {
		uid = copy_one(run, uids[i], error_r);
		if (uid < 0)
			return -1;
		if (dst_uids_r != NULL)
			dst_uids_r[i] = (uint32_t)uid;
	}
	if (ops->copy_sync(&run->ctx, error_r) < 0)
		return -1;
	if (run->ctx.move &&
	    dbox_idx_mailbox_put(run->txn, run->ctx.src->name, &run->src_rec,
				 error_r) < 0)
		return -1;
	return 0;
}

static int copy_real(struct dbox_mailbox *src, const uint32_t *uids,
		     unsigned int count, struct dbox_mailbox *dst,
		     uint32_t *dst_uids_r, bool move, const char **error_r)
{
	const struct dbox_format_ops *ops = src->storage->ops;
	struct copy_run run;
	int ret;

	if (src->storage != dst->storage)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Copy between different storages");
	if (move && (src->flags & DBOX_OPEN_READONLY) != 0)
		return dbox_fail(error_r, DBOX_ERROR_NOTPOSSIBLE,
				 "Source mailbox is open read-only");
	if (move && src->id == dst->id)
		return dbox_fail(error_r, DBOX_ERROR_NOTPOSSIBLE,
				 "Can't move messages into the same mailbox");
	memset(&run, 0, sizeof(run));
	run.ctx.src = src;
	run.ctx.dst = dst;
	run.ctx.move = move;
	run.now = dbox_now();
	if (dbox_mailbox_txn_begin(dst, &run.txn, &run.dst_rec, error_r) < 0)
		return -1;
	if (load_source(&run, error_r) < 0 ||
	    copy_all(&run, uids, count, dst_uids_r, error_r) < 0) {
		dbox_mailbox_txn_abort(&run.txn, &run.dst_rec);
		ret = -1;
	} else {
		ret = dbox_mailbox_txn_commit(dst, &run.txn, &run.dst_rec,
					      error_r);
	}
	ops->copy_finish(&run.ctx, ret == 0);
	if (ret == 0 && run.moved_count > 0)
		ops->expunge_finish(src, run.moved, run.moved_count);
	dbox_idx_mailbox_rec_free(&run.src_rec);
	free(run.moved);
	free(run.ctx.created_uids);
	return ret;
}

int dbox_mail_copy(struct dbox_mailbox *src, const uint32_t *uids,
		   unsigned int count, struct dbox_mailbox *dst,
		   uint32_t *dst_uids_r, const char **error_r)
{
	return copy_real(src, uids, count, dst, dst_uids_r, false, error_r);
}

int dbox_mail_move(struct dbox_mailbox *src, const uint32_t *uids,
		   unsigned int count, struct dbox_mailbox *dst,
		   uint32_t *dst_uids_r, const char **error_r)
{
	return copy_real(src, uids, count, dst, dst_uids_r, true, error_r);
}
