// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The view: a snapshot of a mailbox's messages taken in one read
 * transaction, replaced only by dbox_mailbox_sync(), which also says what
 * changed (the EXISTS/EXPUNGE/FETCH FLAGS another connection must hear).
 * A sync is cheap when nothing changed: every change raises the mailbox's
 * HIGHESTMODSEQ, so an equal value means the view is current.
 */
#include <stdlib.h>
#include <string.h>

#include "dbox-private.h"
#include "dbox-view.h"

struct view {
	struct dbox_mail *mails;
	struct dbox_mail_priv *priv;
	unsigned int count, alloc;
	struct dbox_arena *arena;
	char **keywords;
	unsigned int keyword_count;
	uint32_t first_recent_uid;
};

static const char *const no_keywords[] = { NULL };

static int view_add(void *ctx, const struct dbox_idx_mail_rec *rec)
{
	struct view *view = ctx;
	struct dbox_mail *mail;
	struct dbox_mail_priv *priv;
	const char **kws;
	unsigned int i, n = 0;
	uint16_t idx;

	if (view->count == view->alloc) {
		view->alloc = view->alloc == 0 ? 64 : view->alloc * 2;
		view->mails = dbox_realloc(view->mails,
					   view->alloc * sizeof(*view->mails));
		view->priv = dbox_realloc(view->priv,
					  view->alloc * sizeof(*view->priv));
	}
	mail = &view->mails[view->count];
	priv = &view->priv[view->count++];
	mail->uid = rec->uid;
	mail->flags = rec->m.flags;
	mail->modseq = rec->m.modseq;
	mail->internal_date = rec->m.internal_date;
	mail->save_date = rec->m.save_date;
	mail->physical_size = rec->m.phys_size;
	mail->virtual_size = rec->m.virt_size;
	mail->guid = dbox_arena_strndup(view->arena, rec->guid,
					rec->m.guid_len);
	if (rec->m.keyword_count == 0) {
		mail->keywords = no_keywords;
	} else {
		kws = dbox_arena_alloc(view->arena, (rec->m.keyword_count + 1) *
				       sizeof(*kws));
		for (i = 0; i < rec->m.keyword_count; i++) {
			idx = dbox_idx_mail_keyword(rec, i);
			if (idx < view->keyword_count)
				kws[n++] = view->keywords[idx];
		}
		kws[n] = NULL;
		mail->keywords = kws;
	}
	priv->map_uid = rec->m.map_uid;
	priv->msg_header_size = rec->m.reserved != 0 ? rec->m.reserved :
		DBOX_MSG_HEADER_SIZE;
	priv->offset = rec->m.offset;
	priv->hdr_phys_size = rec->m.hdr_phys_size;
	priv->hdr_virt_size = rec->m.hdr_virt_size;
	return 0;
}

static void view_set_keywords(struct view *view,
			      const struct dbox_idx_mailbox_rec *rec)
{
	uint32_t i;

	view->keyword_count = rec->mb.keyword_count;
	view->keywords = dbox_arena_alloc(view->arena,
					  (rec->mb.keyword_count + 1) *
					  sizeof(char *));
	for (i = 0; i < rec->mb.keyword_count; i++)
		view->keywords[i] = dbox_arena_strndup(view->arena,
						       rec->keywords[i],
						       strlen(rec->keywords[i]));
	view->keywords[i] = NULL;
}

void dbox_view_free(struct dbox_mailbox *box)
{
	free(box->mails);
	free(box->priv);
	dbox_arena_free(&box->view_strings);
	box->mails = NULL;
	box->priv = NULL;
	box->count = 0;
	box->keywords = NULL;
	box->keyword_count = 0;
}

int dbox_view_find(const struct dbox_mailbox *box, uint32_t uid)
{
	unsigned int lo = 0, hi = box->count, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (box->mails[mid].uid < uid)
			lo = mid + 1;
		else if (box->mails[mid].uid > uid)
			hi = mid;
		else
			return (int)mid;
	}
	return -1;
}

static void result_add(uint32_t **arr, unsigned int *count, uint32_t value)
{
	*arr = dbox_realloc(*arr, (*count + 1) * sizeof(**arr));
	(*arr)[(*count)++] = value;
}

static void result_add_expunge(struct dbox_sync_result *result, uint32_t seq,
			       uint32_t uid)
{
	unsigned int n = result->expunged_count + 1;

	result->expunged_seqs = dbox_realloc(result->expunged_seqs,
					     n * sizeof(uint32_t));
	result->expunged_uids = dbox_realloc(result->expunged_uids,
					     n * sizeof(uint32_t));
	result->expunged_seqs[n - 1] = seq;
	result->expunged_uids[n - 1] = uid;
	result->expunged_count = n;
}

/* Both views are in uid order: one merge finds every difference. */
static void view_diff(struct dbox_mailbox *box, const struct view *view,
		      struct dbox_sync_result *result)
{
	unsigned int i = 0, j = 0, k;

	while (i < box->count || j < view->count) {
		if (j == view->count ||
		    (i < box->count && box->mails[i].uid < view->mails[j].uid)) {
			result_add_expunge(result, i + 1, box->mails[i].uid);
			i++;
		} else if (i == box->count ||
			   box->mails[i].uid > view->mails[j].uid) {
			result->new_count++;
			j++;
		} else {
			if (box->mails[i].modseq != view->mails[j].modseq)
				result_add(&result->changed_uids,
					   &result->changed_count,
					   view->mails[j].uid);
			i++;
			j++;
		}
	}
	/* descending sequence order, so no renumbering is needed */
	for (k = 0; k < result->expunged_count / 2; k++) {
		unsigned int o = result->expunged_count - 1 - k;
		uint32_t tmp = result->expunged_seqs[k];

		result->expunged_seqs[k] = result->expunged_seqs[o];
		result->expunged_seqs[o] = tmp;
		tmp = result->expunged_uids[k];
		result->expunged_uids[k] = result->expunged_uids[o];
		result->expunged_uids[o] = tmp;
	}
}

static void view_status(struct dbox_mailbox *box,
			const struct dbox_idx_mailbox_rec *rec,
			uint32_t first_recent_uid)
{
	struct dbox_status *st = &box->status;
	unsigned int i;

	memset(st, 0, sizeof(*st));
	st->messages = box->count;
	st->uidnext = rec->mb.uidnext;
	st->uidvalidity = rec->mb.uidvalidity;
	st->highest_modseq = rec->mb.highest_modseq;
	for (i = 0; i < box->count; i++) {
		if ((box->mails[i].flags & DBOX_MAIL_SEEN) == 0)
			st->unseen++;
		if (box->mails[i].uid >= first_recent_uid)
			st->recent++;
		st->size += box->mails[i].virtual_size;
	}
}

static void view_install(struct dbox_mailbox *box, struct view *view)
{
	dbox_view_free(box);
	box->mails = view->mails;
	box->priv = view->priv;
	box->count = view->count;
	box->view_strings = view->arena;
	box->keywords = view->keywords;
	box->keyword_count = view->keyword_count;
}

static int view_load(struct dbox_mailbox *box, struct dbox_txn *txn,
		     const struct dbox_idx_mailbox_rec *rec,
		     struct dbox_sync_result *result, const char **error_r)
{
	struct view view = { 0 };

	view.arena = dbox_arena_create();
	view_set_keywords(&view, rec);
	if (dbox_idx_mail_iter(txn, rec->mb.id, 0, view_add, &view,
			       error_r) < 0) {
		free(view.mails);
		free(view.priv);
		dbox_arena_free(&view.arena);
		return -1;
	}
	if (box->status.uidvalidity != 0 &&
	    box->status.uidvalidity != rec->mb.uidvalidity) {
		/* a different mailbox now: everything old is gone */
		struct view empty = { 0 };

		result->uidvalidity_changed = true;
		view_diff(box, &empty, result);
		result->new_count = view.count;
	} else {
		view_diff(box, &view, result);
	}
	result->keywords_changed = view.keyword_count != box->keyword_count;
	view_install(box, &view);
	view_status(box, rec, rec->mb.first_recent_uid);
	return 0;
}

int dbox_mailbox_sync(struct dbox_mailbox *box,
		      struct dbox_sync_result *result_r, const char **error_r)
{
	struct dbox_idx_mailbox_rec rec;
	struct dbox_txn *txn;
	int ret;

	memset(result_r, 0, sizeof(*result_r));
	if (dbox_txn_begin(box->storage->index, false, &txn, error_r) < 0)
		return -1;
	ret = dbox_idx_mailbox_get(txn, box->name, &rec, error_r);
	if (ret <= 0) {
		dbox_txn_abort(&txn);
		return ret < 0 ? -1 : dbox_fail(error_r, DBOX_ERROR_NOTFOUND,
						"Mailbox %s was deleted",
						box->name);
	}
	if (box->view_strings != NULL &&
	    rec.mb.highest_modseq == box->status.highest_modseq &&
	    rec.mb.uidvalidity == box->status.uidvalidity &&
	    rec.mb.id == box->id) {
		/* nothing changed but maybe the recent marker */
		view_status(box, &rec, rec.mb.first_recent_uid);
		ret = 0;
	} else {
		box->id = rec.mb.id;
		ret = view_load(box, txn, &rec, result_r, error_r);
	}
	dbox_txn_abort(&txn);
	dbox_idx_mailbox_rec_free(&rec);
	return ret;
}

void dbox_sync_result_free(struct dbox_sync_result *result)
{
	free(result->expunged_seqs);
	free(result->expunged_uids);
	free(result->changed_uids);
	memset(result, 0, sizeof(*result));
}

void dbox_mailbox_get_mails(const struct dbox_mailbox *box,
			    const struct dbox_mail **mails_r,
			    unsigned int *count_r)
{
	*mails_r = box->mails;
	*count_r = box->count;
}

const struct dbox_mail *dbox_mailbox_lookup_uid(const struct dbox_mailbox *box,
						uint32_t uid, uint32_t *seq_r)
{
	int idx = dbox_view_find(box, uid);

	if (idx < 0)
		return NULL;
	if (seq_r != NULL)
		*seq_r = (uint32_t)idx + 1;
	return &box->mails[idx];
}

void dbox_mailbox_get_status(const struct dbox_mailbox *box,
			     struct dbox_status *status_r)
{
	*status_r = box->status;
}

void dbox_mailbox_get_keywords(const struct dbox_mailbox *box,
			       const char *const **names_r,
			       unsigned int *count_r)
{
	static const char *const none[] = { NULL };

	*names_r = box->keywords != NULL ?
		(const char *const *)box->keywords : none;
	*count_r = box->keyword_count;
}
