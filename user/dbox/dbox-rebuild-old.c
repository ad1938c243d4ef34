// SPDX-License-Identifier: GPL-2.0-or-later
/* Reading the old index into memory before a rebuild empties it. */
#include <stdlib.h>
#include <string.h>

#include "dbox-rebuild.h"
#include "dbox-rebuild-old.h"

struct collect_ctx {
	struct dbox_rebuild_old *old;
	struct dbox_txn *txn;
	const char **error_r;
};

static int collect_mail(void *_ctx, const struct dbox_idx_mail_rec *rec)
{
	struct dbox_rebuild_old_box *box = _ctx;
	struct dbox_rebuild_carry *c;
	unsigned int i, n = 0;
	uint16_t idx;

	box->mails = dbox_realloc(box->mails, (box->count + 1) *
				  sizeof(*box->mails));
	c = &box->mails[box->count++];
	memset(c, 0, sizeof(*c));
	c->uid = rec->uid;
	c->flags = rec->m.flags;
	c->map_uid = rec->m.map_uid;
	c->save_date = rec->m.save_date;
	c->guid = dbox_strndup(rec->guid, rec->m.guid_len);
	c->keywords = dbox_calloc(rec->m.keyword_count + 1, sizeof(char *));
	for (i = 0; i < rec->m.keyword_count; i++) {
		idx = dbox_idx_mail_keyword(rec, i);
		/* names are owned by box->rec.keywords */
		if (idx < box->rec.mb.keyword_count)
			c->keywords[n++] = box->rec.keywords[idx];
	}
	return 0;
}

static int collect_box(void *_ctx, const char *name,
		       const struct dbox_idx_mailbox_rec *rec)
{
	struct collect_ctx *ctx = _ctx;
	struct dbox_rebuild_old *old = ctx->old;
	struct dbox_rebuild_old_box *box;
	uint32_t i;

	old->boxes = dbox_realloc(old->boxes, (old->count + 1) *
				  sizeof(*old->boxes));
	box = &old->boxes[old->count++];
	memset(box, 0, sizeof(*box));
	box->name = dbox_strdup(name);
	box->rec.mb = rec->mb;
	box->rec.keywords = dbox_calloc(rec->mb.keyword_count + 1,
					sizeof(char *));
	for (i = 0; i < rec->mb.keyword_count; i++)
		box->rec.keywords[i] = dbox_strdup(rec->keywords[i]);
	return dbox_idx_mail_iter(ctx->txn, rec->mb.id, 0, collect_mail, box,
				  ctx->error_r);
}

static int collect_map(void *_ctx, uint32_t map_uid,
		       const struct dbox_idx_map *map)
{
	struct dbox_rebuild_old *old = _ctx;

	old->maps = dbox_realloc(old->maps, (old->map_count + 1) *
				 sizeof(*old->maps));
	old->maps[old->map_count].map_uid = map_uid;
	old->maps[old->map_count].map = *map;
	old->map_count++;
	return 0;
}

int dbox_rebuild_old_collect(struct dbox_txn *txn,
			     struct dbox_rebuild_old **old_r,
			     const char **error_r)
{
	struct dbox_rebuild_old *old = dbox_calloc(1, sizeof(*old));
	struct collect_ctx ctx = { old, txn, error_r };

	if (dbox_idx_mailbox_iter(txn, collect_box, &ctx, error_r) < 0 ||
	    dbox_idx_map_iter(txn, collect_map, old, error_r) < 0) {
		dbox_rebuild_old_free(&old);
		return -1;
	}
	*old_r = old;
	return 0;
}

void dbox_rebuild_old_free(struct dbox_rebuild_old **_old)
{
	struct dbox_rebuild_old *old = *_old;
	unsigned int i, j;

	if (old == NULL)
		return;
	*_old = NULL;
	for (i = 0; i < old->count; i++) {
		for (j = 0; j < old->boxes[i].count; j++) {
			free(old->boxes[i].mails[j].guid);
			free(old->boxes[i].mails[j].keywords);
		}
		free(old->boxes[i].mails);
		free(old->boxes[i].name);
		dbox_idx_mailbox_rec_free(&old->boxes[i].rec);
	}
	free(old->boxes);
	free(old->maps);
	free(old);
}

const struct dbox_rebuild_old_box *
dbox_rebuild_old_find_box(const struct dbox_rebuild_old *old,
			  const char *name)
{
	unsigned int i;

	for (i = 0; old != NULL && i < old->count; i++) {
		if (strcmp(old->boxes[i].name, name) == 0)
			return &old->boxes[i];
	}
	return NULL;
}

const struct dbox_rebuild_carry *
dbox_rebuild_carry_find(const struct dbox_rebuild_old_box *old, uint32_t uid,
			const char *guid)
{
	unsigned int lo = 0, hi, mid;

	if (old == NULL)
		return NULL;
	hi = old->count;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (old->mails[mid].uid < uid)
			lo = mid + 1;
		else if (old->mails[mid].uid > uid)
			hi = mid;
		else
			return strcmp(old->mails[mid].guid, guid) == 0 ?
				&old->mails[mid] : NULL;
	}
	return NULL;
}

const struct dbox_idx_map *
dbox_rebuild_old_find_map(const struct dbox_rebuild_old *old, uint32_t map_uid)
{
	unsigned int lo = 0, hi, mid;

	if (old == NULL)
		return NULL;
	hi = old->map_count;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (old->maps[mid].map_uid < map_uid)
			lo = mid + 1;
		else if (old->maps[mid].map_uid > map_uid)
			hi = mid;
		else
			return &old->maps[mid].map;
	}
	return NULL;
}
