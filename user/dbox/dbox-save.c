// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * APPEND. Order of work, which is what makes an acknowledged append
 * survive any crash:
 *   1. convert to LF, compute sizes (no I/O);
 *   2. the format writes the data and fsyncs it (not yet visible);
 *   3. an index write transaction assigns uids, the format places the data
 *      (sdbox: rename to u.<uid> + directory fsync; mdbox: map entries),
 *      the mail records go in, the commit fsyncs;
 *   4. success is returned only after that commit.
 */
#include <stdlib.h>
#include <string.h>

#include "dbox-keywords.h"
#include "dbox-private.h"

#define DBOX_GUID_MAX 127

static int check_guid(const char *guid, const char **error_r)
{
	const unsigned char *p;

	if (*guid == '\0' || strlen(guid) > DBOX_GUID_MAX)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "GUID length must be 1..%d", DBOX_GUID_MAX);
	for (p = (const unsigned char *)guid; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7f)
			return dbox_fail(error_r, DBOX_ERROR_PARAMS,
					 "GUID has invalid characters");
	}
	return 0;
}

static int prepare_item(struct dbox_storage *storage,
			const struct dbox_append_msg *msg,
			struct dbox_save_item *item, int64_t now,
			const char **error_r)
{
	const struct dbox_append_params *p = &msg->params;
	size_t phys_size;

	if (msg->size > storage->set.max_message_size)
		return dbox_fail(error_r, DBOX_ERROR_LIMIT,
				 "Message is too large (%zu > %llu bytes)",
				 msg->size, (unsigned long long)
				 storage->set.max_message_size);
	if ((p->flags & ~DBOX_MAIL_FLAGS_MASK) != 0)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Unknown message flags");
	if (dbox_keywords_validate(p->keywords, error_r) < 0)
		return -1;
	if (p->guid != NULL) {
		if (check_guid(p->guid, error_r) < 0)
			return -1;
		strcpy(item->guid, p->guid);
	} else {
		dbox_guid_generate(item->guid);
	}
	item->body = dbox_malloc(msg->size);
	phys_size = dbox_crlf_to_lf(msg->data, msg->size, item->body);
	dbox_msg_sizes_compute(item->body, phys_size, &item->sizes);
	item->internal_date = p->internal_date != 0 ? p->internal_date : now;
	item->flags = p->flags;
	item->keywords = p->keywords;
	return 0;
}

static void save_ctx_free(struct dbox_save_ctx *ctx)
{
	unsigned int i;

	for (i = 0; i < ctx->count; i++) {
		free(ctx->items[i].body);
		free(ctx->items[i].temp_name);
	}
	free(ctx->items);
}

/* Add the mail records for placed items (uids set by save_place). */
static int add_records(struct dbox_save_ctx *ctx, struct dbox_txn *txn,
		       struct dbox_idx_mailbox_rec *rec, const char **error_r)
{
	struct dbox_idx_mail_rec mail;
	struct dbox_save_item *item;
	uint64_t modseq = ++rec->mb.highest_modseq;
	uint16_t *kw;
	unsigned int i, kw_count;
	int ret;

	for (i = 0; i < ctx->count; i++) {
		item = &ctx->items[i];
		if (dbox_keywords_to_indexes(rec, item->keywords, &kw,
					     &kw_count, error_r) < 0)
			return -1;
		memset(&mail, 0, sizeof(mail));
		mail.uid = item->uid;
		mail.m.guid_len = (uint16_t)strlen(item->guid);
		mail.m.keyword_count = (uint16_t)kw_count;
		mail.m.reserved = DBOX_MSG_HEADER_SIZE;
		mail.m.flags = item->flags;
		mail.m.map_uid = item->map_uid;
		mail.m.modseq = modseq;
		mail.m.internal_date = item->internal_date;
		mail.m.save_date = ctx->save_date;
		mail.m.phys_size = item->sizes.phys_size;
		mail.m.virt_size = item->sizes.virt_size;
		mail.m.hdr_phys_size = item->sizes.hdr_phys_size;
		mail.m.hdr_virt_size = item->sizes.hdr_virt_size;
		mail.m.offset = item->offset;
		mail.guid = item->guid;
		mail.keywords = kw;
		ret = dbox_idx_mail_put(txn, ctx->box->id, &mail, error_r);
		free(kw);
		if (ret < 0)
			return -1;
		dbox_mailbox_rec_account(rec, &mail.m, 1);
	}
	return 0;
}

static int save_commit(struct dbox_save_ctx *ctx, const char **error_r)
{
	const struct dbox_format_ops *ops = ctx->box->storage->ops;
	struct dbox_idx_mailbox_rec rec;
	struct dbox_txn *txn;

	if (dbox_mailbox_txn_begin(ctx->box, &txn, &rec, error_r) < 0)
		return -1;
	if (ops->save_place(ctx, txn, &rec, error_r) < 0 ||
	    add_records(ctx, txn, &rec, error_r) < 0) {
		dbox_mailbox_txn_abort(&txn, &rec);
		return -1;
	}
	return dbox_mailbox_txn_commit(ctx->box, &txn, &rec, error_r);
}

int dbox_mail_append_many(struct dbox_mailbox *box,
			  const struct dbox_append_msg *msgs,
			  unsigned int count, uint32_t *uids_r,
			  const char **error_r)
{
	const struct dbox_format_ops *ops = box->storage->ops;
	struct dbox_save_ctx ctx;
	unsigned int i;
	int ret = -1;

	if ((box->flags & DBOX_OPEN_READONLY) != 0)
		return dbox_fail(error_r, DBOX_ERROR_NOTPOSSIBLE,
				 "Mailbox is open read-only");
	if (count == 0)
		return 0;
	memset(&ctx, 0, sizeof(ctx));
	ctx.box = box;
	ctx.save_date = dbox_now();
	ctx.items = dbox_calloc(count, sizeof(*ctx.items));
	ctx.count = count;
	for (i = 0; i < count; i++) {
		if (prepare_item(box->storage, &msgs[i], &ctx.items[i],
				 ctx.save_date, error_r) < 0)
			goto out;
	}
	/* save_finish cleans up after a partial save_write too */
	if (ops->save_write(&ctx, error_r) == 0)
		ret = save_commit(&ctx, error_r);
	ops->save_finish(&ctx, ret == 0);
	if (ret == 0 && uids_r != NULL) {
		for (i = 0; i < count; i++)
			uids_r[i] = ctx.items[i].uid;
	}
out:
	save_ctx_free(&ctx);
	return ret;
}

int dbox_mail_append(struct dbox_mailbox *box, const void *data, size_t size,
		     const struct dbox_append_params *params, uint32_t *uid_r,
		     const char **error_r)
{
	struct dbox_append_msg msg;

	memset(&msg, 0, sizeof(msg));
	msg.data = data;
	msg.size = size;
	if (params != NULL)
		msg.params = *params;
	return dbox_mail_append_many(box, &msg, 1, uid_r, error_r);
}
