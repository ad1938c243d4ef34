// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * COPY and MOVE in one index transaction. MOVE is COPY plus EXPUNGE of
 * the source in the same transaction, so a crash leaves the message in the
 * source only, or (after the commit) in the destination only; sdbox files
 * are unlinked from the source after the commit. Asynchronous through
 * dbox-op.h: no data I/O before the transaction; sdbox's directory fsync of
 * the new links runs with the transaction open, the source directory's
 * after the commit.
 */
#include <stdlib.h>
#include <string.h>

#include "dbox-keywords.h"
#include "dbox-mailcopy.h"
#include "dbox-op.h"
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
	uint32_t *uids;		/* the request, copied */
	unsigned int count;
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

static int copy_txn(struct dbox_op *op, const char **error_r)
{
	struct copy_run *run = op->priv;

	run->now = dbox_now();
	if (dbox_mailbox_txn_begin(run->ctx.dst, &run->txn, &run->dst_rec,
				   error_r) < 0)
		return -1;
	op->uids = dbox_calloc(run->count, sizeof(uint32_t));
	op->uid_count = run->count;
	if (load_source(run, error_r) < 0 ||
	    copy_all(run, run->uids, run->count, op->uids, error_r) < 0) {
		dbox_mailbox_txn_abort(&run->txn, &run->dst_rec);
		return -1;
	}
	return 0;
}

static int copy_commit(struct dbox_op *op, const char **error_r)
{
	struct copy_run *run = op->priv;

	return dbox_mailbox_txn_commit(run->ctx.dst, &run->txn, &run->dst_rec,
				       error_r);
}

static void copy_abort(struct dbox_op *op)
{
	struct copy_run *run = op->priv;

	dbox_mailbox_txn_abort(&run->txn, &run->dst_rec);
}

static int copy_finish(struct dbox_op *op, bool committed)
{
	const struct dbox_format_ops *ops = op->storage->ops;
	struct copy_run *run = op->priv;

	ops->copy_finish(&run->ctx, committed);
	if (!committed || run->moved_count == 0)
		return 0;
	return ops->expunge_finish(run->ctx.src, run->moved, run->moved_count,
				   &op->batch);
}

static void copy_free(struct dbox_op *op)
{
	struct copy_run *run = op->priv;

	dbox_idx_mailbox_rec_free(&run->src_rec);
	free(run->moved);
	free(run->ctx.created_uids);
	free(run->uids);
	free(run);
}

static const struct dbox_op_kind copy_kind = {
	.name = "copy",
	.txn = copy_txn,
	.commit = copy_commit,
	.abort = copy_abort,
	.finish = copy_finish,
	.free = copy_free,
};

static int copy_start(struct dbox_mailbox *src, const uint32_t *uids,
		      unsigned int count, struct dbox_mailbox *dst, bool move,
		      dbox_op_callback_t *cb, void *context,
		      struct dbox_op **op_r, const char **error_r)
{
	struct copy_run *run;
	struct dbox_op *op;

	if (src->storage != dst->storage)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Copy between different storages");
	if ((dst->flags & DBOX_OPEN_READONLY) != 0)
		return dbox_fail(error_r, DBOX_ERROR_NOTPOSSIBLE,
				 "Mailbox is open read-only");
	if (move && (src->flags & DBOX_OPEN_READONLY) != 0)
		return dbox_fail(error_r, DBOX_ERROR_NOTPOSSIBLE,
				 "Source mailbox is open read-only");
	if (move && src->id == dst->id)
		return dbox_fail(error_r, DBOX_ERROR_NOTPOSSIBLE,
				 "Can't move messages into the same mailbox");
	run = dbox_calloc(1, sizeof(*run));
	run->ctx.src = src;
	run->ctx.dst = dst;
	run->ctx.move = move;
	run->uids = dbox_calloc(count, sizeof(uint32_t));
	if (count > 0)
		memcpy(run->uids, uids, count * sizeof(uint32_t));
	run->count = count;
	op = dbox_op_new(&copy_kind, src, dst, cb, context);
	op->priv = run;
	run->ctx.op = op;
	dbox_op_start(op, op_r);
	return 0;
}

static int copy_sync_wrapper(struct dbox_mailbox *src, const uint32_t *uids,
			     unsigned int count, struct dbox_mailbox *dst,
			     uint32_t *dst_uids_r, bool move,
			     const char **error_r)
{
	struct dbox_op *op;
	int ret;

	if (copy_start(src, uids, count, dst, move, NULL, NULL, &op,
		       error_r) < 0)
		return -1;
	ret = dbox_op_wait(op, error_r);
	if (ret == 0 && dst_uids_r != NULL && count > 0)
		memcpy(dst_uids_r, op->uids, count * sizeof(uint32_t));
	if (op->sync)
		dbox_op_free(op);
	return ret;
}

int dbox_mail_copy_start(struct dbox_mailbox *src, const uint32_t *uids,
			 unsigned int count, struct dbox_mailbox *dst,
			 dbox_op_callback_t *cb, void *context,
			 struct dbox_op **op_r, const char **error_r)
{
	if (cb == NULL)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS, "No callback");
	return copy_start(src, uids, count, dst, false, cb, context, op_r,
			  error_r);
}

int dbox_mail_move_start(struct dbox_mailbox *src, const uint32_t *uids,
			 unsigned int count, struct dbox_mailbox *dst,
			 dbox_op_callback_t *cb, void *context,
			 struct dbox_op **op_r, const char **error_r)
{
	if (cb == NULL)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS, "No callback");
	return copy_start(src, uids, count, dst, true, cb, context, op_r,
			  error_r);
}

int dbox_mail_copy(struct dbox_mailbox *src, const uint32_t *uids,
		   unsigned int count, struct dbox_mailbox *dst,
		   uint32_t *dst_uids_r, const char **error_r)
{
	return copy_sync_wrapper(src, uids, count, dst, dst_uids_r, false,
				 error_r);
}

int dbox_mail_move(struct dbox_mailbox *src, const uint32_t *uids,
		   unsigned int count, struct dbox_mailbox *dst,
		   uint32_t *dst_uids_r, const char **error_r)
{
	return copy_sync_wrapper(src, uids, count, dst, dst_uids_r, true,
				 error_r);
}
