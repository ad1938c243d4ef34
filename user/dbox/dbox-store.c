// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * STORE (flags, keywords, CONDSTORE) and EXPUNGE: index-only changes, one
 * transaction each, run in the writer slot of dbox-op.h (so they wait for
 * an sdbox append or copy of this process that holds the index writer);
 * EXPUNGE's sdbox unlink and directory fsync come after the commit.
 */
#include <stdlib.h>
#include <string.h>

#include "dbox-keywords.h"
#include "dbox-mailcopy.h"
#include "dbox-op.h"
#include "dbox-private.h"

struct store_run {
	const struct dbox_store_params *params;
	uint16_t *kw;			/* the keywords argument as indexes */
	unsigned int kw_count;
	uint64_t modseq;
	bool changed;
	uint32_t *failed;
	unsigned int failed_count;
};

static bool kw_has(const uint16_t *set, unsigned int count, uint16_t idx)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		if (set[i] == idx)
			return true;
	}
	return false;
}

/* The new keyword set of a message; NULL/0 when it stays the same. */
static uint16_t *new_keywords(const struct store_run *run,
			      const struct dbox_mail_copy *mail,
			      unsigned int *count_r, bool *same_r)
{
	const uint16_t *cur = mail->keywords;
	unsigned int cur_count = mail->rec.m.keyword_count, i, n = 0;
	uint16_t *set = dbox_calloc(cur_count + run->kw_count, sizeof(*set));

	switch (run->params->mode) {
	case DBOX_STORE_REPLACE:
		memcpy(set, run->kw, run->kw_count * sizeof(*set));
		n = run->kw_count;
		break;
	case DBOX_STORE_ADD:
		memcpy(set, cur, cur_count * sizeof(*set));
		n = cur_count;
		for (i = 0; i < run->kw_count; i++) {
			if (!kw_has(set, n, run->kw[i]))
				set[n++] = run->kw[i];
		}
		break;
	case DBOX_STORE_REMOVE:
		for (i = 0; i < cur_count; i++) {
			if (!kw_has(run->kw, run->kw_count, cur[i]))
				set[n++] = cur[i];
		}
		break;
	}
	*same_r = n == cur_count;
	for (i = 0; *same_r && i < n; i++)
		*same_r = kw_has(cur, cur_count, set[i]);
	*count_r = n;
	return set;
}

static uint32_t new_flags(const struct store_run *run, uint32_t flags)
{
	switch (run->params->mode) {
	case DBOX_STORE_ADD:
		return flags | run->params->flags;
	case DBOX_STORE_REMOVE:
		return flags & ~run->params->flags;
	case DBOX_STORE_REPLACE:
		break;
	}
	return run->params->flags;
}

static int store_one(struct dbox_mailbox *box, struct dbox_txn *txn,
		     struct dbox_idx_mailbox_rec *rec, struct store_run *run,
		     uint32_t uid, const char **error_r)
{
	struct dbox_mail_copy mail;
	unsigned int kw_count;
	uint32_t flags;
	uint16_t *kw;
	bool same_kw;
	int ret;

	ret = dbox_mail_copy_get(txn, box->id, uid, &mail, error_r);
	if (ret <= 0)
		return ret;
	if (run->params->unchanged_since != 0 &&
	    mail.rec.m.modseq > run->params->unchanged_since) {
		run->failed = dbox_realloc(run->failed, (run->failed_count + 1) *
					   sizeof(uint32_t));
		run->failed[run->failed_count++] = uid;
		dbox_mail_copy_free(&mail);
		return 0;
	}
	flags = new_flags(run, mail.rec.m.flags);
	kw = new_keywords(run, &mail, &kw_count, &same_kw);
	if (flags == mail.rec.m.flags && same_kw) {
		free(kw);
		dbox_mail_copy_free(&mail);
		return 0;
	}
	dbox_mailbox_rec_account(rec, &mail.rec.m, -1);
	mail.rec.m.flags = flags;
	mail.rec.m.modseq = run->modseq;
	dbox_mail_copy_set_keywords(&mail, kw, kw_count);
	dbox_mailbox_rec_account(rec, &mail.rec.m, 1);
	ret = dbox_idx_mail_put(txn, box->id, &mail.rec, error_r);
	run->changed = true;
	dbox_mail_copy_free(&mail);
	return ret;
}

static int store_prepare(struct dbox_idx_mailbox_rec *rec,
			 struct store_run *run, const char **error_r)
{
	const char *const *kws = run->params->keywords;
	unsigned int i, n = 0;
	int idx;

	if (run->params->mode != DBOX_STORE_REMOVE)
		return dbox_keywords_to_indexes(rec, kws, &run->kw,
						&run->kw_count, error_r);
	/* removing a keyword the mailbox never had must not add it */
	for (i = 0; kws != NULL && kws[i] != NULL; i++)
		;
	run->kw = dbox_calloc(i, sizeof(*run->kw));
	for (i = 0; kws != NULL && kws[i] != NULL; i++) {
		idx = dbox_idx_mailbox_keyword(rec, kws[i], false, NULL);
		if (idx >= 0)
			run->kw[n++] = (uint16_t)idx;
	}
	run->kw_count = n;
	return 0;
}

/* The request, copied at start: the transaction may run later. */
struct store_op {
	struct dbox_store_params params;
	char **keywords;
	uint32_t *uids;
	unsigned int count;
	struct store_run run;
	struct dbox_txn *txn;
	struct dbox_idx_mailbox_rec rec;
	uint32_t *done;			/* expunge: uids removed */
	unsigned int done_count;
};

static void store_op_free(struct dbox_op *op)
{
	struct store_op *sop = op->priv;

	dbox_keywords_free(sop->keywords);
	free(sop->uids);
	free(sop->run.kw);
	free(sop->run.failed);
	free(sop->done);
	free(sop);
}

static struct store_op *store_op_new(const uint32_t *uids, unsigned int count)
{
	struct store_op *sop = dbox_calloc(1, sizeof(*sop));

	sop->uids = dbox_calloc(count, sizeof(uint32_t));
	if (count > 0)
		memcpy(sop->uids, uids, count * sizeof(uint32_t));
	sop->count = count;
	return sop;
}

static int store_txn(struct dbox_op *op, const char **error_r)
{
	struct store_op *sop = op->priv;
	struct store_run *run = &sop->run;
	unsigned int i;
	int ret;

	if (dbox_mailbox_txn_begin(op->box, &sop->txn, &sop->rec, error_r) < 0)
		return -1;
	run->params = &sop->params;
	run->modseq = sop->rec.mb.highest_modseq + 1;
	ret = store_prepare(&sop->rec, run, error_r);
	for (i = 0; ret == 0 && i < sop->count; i++)
		ret = store_one(op->box, sop->txn, &sop->rec, run, sop->uids[i],
				error_r);
	if (ret < 0 || !run->changed) {
		dbox_mailbox_txn_abort(&sop->txn, &sop->rec);
		if (ret < 0)
			return -1;
		/* nothing changed: done, with the failed uids */
		op->failed_uids = run->failed;
		op->failed_count = run->failed_count;
		run->failed = NULL;
		return 1;
	}
	sop->rec.mb.highest_modseq = run->modseq;
	return 0;
}

static int store_commit(struct dbox_op *op, const char **error_r)
{
	struct store_op *sop = op->priv;

	if (dbox_mailbox_txn_commit(op->box, &sop->txn, &sop->rec,
				    error_r) < 0)
		return -1;
	op->failed_uids = sop->run.failed;
	op->failed_count = sop->run.failed_count;
	sop->run.failed = NULL;
	return 0;
}

static void store_abort(struct dbox_op *op)
{
	struct store_op *sop = op->priv;

	dbox_mailbox_txn_abort(&sop->txn, &sop->rec);
}

static const struct dbox_op_kind store_kind = {
	.name = "store",
	.txn = store_txn,
	.commit = store_commit,
	.abort = store_abort,
	.free = store_op_free,
};

static int store_start(struct dbox_mailbox *box, const uint32_t *uids,
		       unsigned int count,
		       const struct dbox_store_params *params,
		       dbox_op_callback_t *cb, void *context,
		       struct dbox_op **op_r, const char **error_r)
{
	struct store_op *sop;
	struct dbox_op *op;

	if ((box->flags & DBOX_OPEN_READONLY) != 0)
		return dbox_fail(error_r, DBOX_ERROR_NOTPOSSIBLE,
				 "Mailbox is open read-only");
	if ((params->flags & ~DBOX_MAIL_FLAGS_MASK) != 0)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Unknown message flags");
	if (dbox_keywords_validate(params->keywords, error_r) < 0)
		return -1;
	sop = store_op_new(uids, count);
	sop->params = *params;
	sop->keywords = dbox_keywords_dup(params->keywords);
	sop->params.keywords = (const char *const *)sop->keywords;
	op = dbox_op_new(&store_kind, box, NULL, cb, context);
	op->priv = sop;
	dbox_op_start(op, op_r);
	return 0;
}

int dbox_mail_store_start(struct dbox_mailbox *box, const uint32_t *uids,
			  unsigned int count,
			  const struct dbox_store_params *params,
			  dbox_op_callback_t *cb, void *context,
			  struct dbox_op **op_r, const char **error_r)
{
	if (cb == NULL)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS, "No callback");
	return store_start(box, uids, count, params, cb, context, op_r,
			   error_r);
}

int dbox_mail_store(struct dbox_mailbox *box, const uint32_t *uids,
		    unsigned int count, const struct dbox_store_params *params,
		    uint32_t **failed_uids_r, unsigned int *failed_count_r,
		    const char **error_r)
{
	struct dbox_op *op;
	int ret;

	if (store_start(box, uids, count, params, NULL, NULL, &op,
			error_r) < 0)
		return -1;
	ret = dbox_op_wait(op, error_r);
	if (ret == 0 && failed_uids_r != NULL) {
		*failed_uids_r = op->failed_uids;
		*failed_count_r = op->failed_count;
		op->failed_uids = NULL;
	}
	if (op->sync)
		dbox_op_free(op);
	return ret;
}

static int expunge_txn(struct dbox_op *op, const char **error_r)
{
	const struct dbox_format_ops *ops = op->storage->ops;
	struct store_op *sop = op->priv;
	struct dbox_mailbox *box = op->box;
	struct dbox_mail_copy mail;
	uint64_t modseq;
	unsigned int i;
	int ret = 0;

	if (dbox_mailbox_txn_begin(box, &sop->txn, &sop->rec, error_r) < 0)
		return -1;
	modseq = ++sop->rec.mb.highest_modseq;
	sop->done = dbox_calloc(sop->count, sizeof(uint32_t));
	for (i = 0; ret >= 0 && i < sop->count; i++) {
		ret = dbox_mail_copy_get(sop->txn, box->id, sop->uids[i], &mail,
					 error_r);
		if (ret <= 0)
			continue;
		ret = ops->expunge_one(box, sop->txn, &mail.rec, error_r);
		if (ret == 0)
			ret = dbox_idx_mail_delete(sop->txn, box->id,
						   sop->uids[i], error_r);
		if (ret == 0)
			ret = dbox_idx_expunged_add(sop->txn, box->id, modseq,
						    sop->uids[i], error_r);
		if (ret == 0) {
			dbox_mailbox_rec_account(&sop->rec, &mail.rec.m, -1);
			sop->done[sop->done_count++] = sop->uids[i];
		}
		dbox_mail_copy_free(&mail);
	}
	if (ret < 0 || sop->done_count == 0) {
		dbox_mailbox_txn_abort(&sop->txn, &sop->rec);
		return ret < 0 ? -1 : 1;
	}
	return 0;
}

static int expunge_finish(struct dbox_op *op, bool committed)
{
	struct store_op *sop = op->priv;

	if (!committed)
		return 0;
	return op->storage->ops->expunge_finish(op->box, sop->done,
						sop->done_count, &op->batch);
}

static const struct dbox_op_kind expunge_kind = {
	.name = "expunge",
	.txn = expunge_txn,
	.commit = store_commit,
	.abort = store_abort,
	.finish = expunge_finish,
	.free = store_op_free,
};

static int expunge_start(struct dbox_mailbox *box, const uint32_t *uids,
			 unsigned int count, dbox_op_callback_t *cb,
			 void *context, struct dbox_op **op_r,
			 const char **error_r)
{
	struct dbox_op *op;

	if ((box->flags & DBOX_OPEN_READONLY) != 0)
		return dbox_fail(error_r, DBOX_ERROR_NOTPOSSIBLE,
				 "Mailbox is open read-only");
	op = dbox_op_new(&expunge_kind, box, NULL, cb, context);
	op->priv = store_op_new(uids, count);
	dbox_op_start(op, op_r);
	return 0;
}

int dbox_mail_expunge_start(struct dbox_mailbox *box, const uint32_t *uids,
			    unsigned int count, dbox_op_callback_t *cb,
			    void *context, struct dbox_op **op_r,
			    const char **error_r)
{
	if (cb == NULL)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS, "No callback");
	return expunge_start(box, uids, count, cb, context, op_r, error_r);
}

int dbox_mail_expunge(struct dbox_mailbox *box, const uint32_t *uids,
		      unsigned int count, const char **error_r)
{
	struct dbox_op *op;
	int ret;

	if (expunge_start(box, uids, count, NULL, NULL, &op, error_r) < 0)
		return -1;
	ret = dbox_op_wait(op, error_r);
	if (op->sync)
		dbox_op_free(op);
	return ret;
}
