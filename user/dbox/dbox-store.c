// SPDX-License-Identifier: GPL-2.0-or-later
/* STORE (flags, keywords, CONDSTORE) and EXPUNGE. */
#include <stdlib.h>
#include <string.h>

#include "dbox-keywords.h"
#include "dbox-mailcopy.h"
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

int dbox_mail_store(struct dbox_mailbox *box, const uint32_t *uids,
		    unsigned int count, const struct dbox_store_params *params,
		    uint32_t **failed_uids_r, unsigned int *failed_count_r,
		    const char **error_r)
{
	struct store_run run = { .params = params };
	struct dbox_idx_mailbox_rec rec;
	struct dbox_txn *txn;
	unsigned int i;
	int ret = 0;

	if ((params->flags & ~DBOX_MAIL_FLAGS_MASK) != 0)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Unknown message flags");
	if (dbox_keywords_validate(params->keywords, error_r) < 0 ||
	    dbox_mailbox_txn_begin(box, &txn, &rec, error_r) < 0)
		return -1;
	run.modseq = rec.mb.highest_modseq + 1;
	ret = store_prepare(&rec, &run, error_r);
	for (i = 0; ret == 0 && i < count; i++)
		ret = store_one(box, txn, &rec, &run, uids[i], error_r);
	if (ret < 0) {
		dbox_mailbox_txn_abort(&txn, &rec);
	} else if (!run.changed) {
		dbox_mailbox_txn_abort(&txn, &rec);
	} else {
		rec.mb.highest_modseq = run.modseq;
		ret = dbox_mailbox_txn_commit(box, &txn, &rec, error_r);
	}
	free(run.kw);
	if (ret == 0 && failed_uids_r != NULL) {
		*failed_uids_r = run.failed;
		*failed_count_r = run.failed_count;
	} else {
		free(run.failed);
	}
	return ret < 0 ? -1 : 0;
}

int dbox_mail_expunge(struct dbox_mailbox *box, const uint32_t *uids,
		      unsigned int count, const char **error_r)
{
	const struct dbox_format_ops *ops = box->storage->ops;
	struct dbox_idx_mailbox_rec rec;
	struct dbox_mail_copy mail;
	struct dbox_txn *txn;
	uint32_t *done;
	unsigned int i, n = 0;
	uint64_t modseq;
	int ret = 0;

	if (dbox_mailbox_txn_begin(box, &txn, &rec, error_r) < 0)
		return -1;
	modseq = ++rec.mb.highest_modseq;
	done = dbox_calloc(count, sizeof(*done));
	for (i = 0; ret >= 0 && i < count; i++) {
		ret = dbox_mail_copy_get(txn, box->id, uids[i], &mail, error_r);
		if (ret <= 0)
			continue;
		ret = ops->expunge_one(box, txn, &mail.rec, error_r);
		if (ret == 0)
			ret = dbox_idx_mail_delete(txn, box->id, uids[i],
						   error_r);
		if (ret == 0)
			ret = dbox_idx_expunged_add(txn, box->id, modseq,
						    uids[i], error_r);
		if (ret == 0) {
			dbox_mailbox_rec_account(&rec, &mail.rec.m, -1);
			done[n++] = uids[i];
		}
		dbox_mail_copy_free(&mail);
	}
	if (ret < 0 || n == 0) {
		dbox_mailbox_txn_abort(&txn, &rec);
	} else {
		ret = dbox_mailbox_txn_commit(box, &txn, &rec, error_r);
		if (ret == 0)
			ops->expunge_finish(box, done, n);
	}
	free(done);
	return ret < 0 ? -1 : 0;
}
