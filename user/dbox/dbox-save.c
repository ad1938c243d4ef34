// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * APPEND. Order of work, which is what makes an acknowledged append
 * survive any crash:
 *   1. convert to LF, compute sizes (no I/O; in the start function);
 *   2. the format writes the data and fsyncs it (not yet visible);
 *   3. an index write transaction assigns uids, the format places the data
 *      (sdbox: rename to u.<uid>, then the directory fsync with the
 *      transaction still open; mdbox: map entries), the mail records go
 *      in, the commit fsyncs;
 *   4. success is reported only after that commit.
 * Steps 2 and 3's directory fsync are asynchronous (dbox-op.h).
 */
#include <stdlib.h>
#include <string.h>

#include "dbox-keywords.h"
#include "dbox-op.h"
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
	/* message content: in the caller's memory for mail */
	item->body = dbox_mail_malloc(storage->set.mail_alloc, msg->size);
	phys_size = dbox_crlf_to_lf(msg->data, msg->size, item->body);
	dbox_msg_sizes_compute(item->body, phys_size, &item->sizes);
	item->internal_date = p->internal_date != 0 ? p->internal_date : now;
	item->flags = p->flags;
	/* the transaction may run after the caller's arrays are gone */
	item->keywords_copy = dbox_keywords_dup(p->keywords);
	item->keywords = (const char *const *)item->keywords_copy;
	return 0;
}

struct append_op {
	struct dbox_save_ctx ctx;
	struct dbox_txn *txn;
	struct dbox_idx_mailbox_rec rec;
};

static void save_ctx_free(struct dbox_save_ctx *ctx)
{
	const struct dbox_allocator *alloc = ctx->box->storage->set.mail_alloc;
	unsigned int i;

	for (i = 0; i < ctx->count; i++) {
		dbox_mail_free(alloc, ctx->items[i].body);
		dbox_keywords_free(ctx->items[i].keywords_copy);
		free(ctx->items[i].temp_name);
	}
	free(ctx->items);
}

static void append_op_free(struct append_op *aop)
{
	save_ctx_free(&aop->ctx);
	free(aop);
}

static void append_free(struct dbox_op *op)
{
	append_op_free(op->priv);
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

static int append_write(struct dbox_op *op, unsigned int stage,
			const char **error_r)
{
	struct append_op *aop = op->priv;

	return op->storage->ops->save_write(&aop->ctx, stage, &op->batch,
					    error_r);
}

static int append_txn(struct dbox_op *op, const char **error_r)
{
	struct append_op *aop = op->priv;
	const struct dbox_format_ops *ops = op->storage->ops;

	if (dbox_mailbox_txn_begin(op->box, &aop->txn, &aop->rec, error_r) < 0)
		return -1;
	if (ops->save_place(&aop->ctx, aop->txn, &aop->rec, error_r) < 0 ||
	    add_records(&aop->ctx, aop->txn, &aop->rec, error_r) < 0) {
		dbox_mailbox_txn_abort(&aop->txn, &aop->rec);
		return -1;
	}
	return 0;
}

static int append_commit(struct dbox_op *op, const char **error_r)
{
	struct append_op *aop = op->priv;
	unsigned int i;

	if (dbox_mailbox_txn_commit(op->box, &aop->txn, &aop->rec,
				    error_r) < 0)
		return -1;
	op->uids = dbox_calloc(aop->ctx.count, sizeof(uint32_t));
	op->uid_count = aop->ctx.count;
	for (i = 0; i < aop->ctx.count; i++)
		op->uids[i] = aop->ctx.items[i].uid;
	return 0;
}

static void append_abort(struct dbox_op *op)
{
	struct append_op *aop = op->priv;

	dbox_mailbox_txn_abort(&aop->txn, &aop->rec);
}

static int append_finish(struct dbox_op *op, bool committed)
{
	struct append_op *aop = op->priv;

	/* also after a partial save_write */
	op->storage->ops->save_finish(&aop->ctx, committed);
	return 0;
}

static const struct dbox_op_kind append_kind = {
	.name = "append",
	.write = append_write,
	.txn = append_txn,
	.commit = append_commit,
	.abort = append_abort,
	.finish = append_finish,
	.free = append_free,
};

static int append_start(struct dbox_mailbox *box,
			const struct dbox_append_msg *msgs, unsigned int count,
			dbox_op_callback_t *cb, void *context,
			struct dbox_op **op_r, const char **error_r)
{
	struct append_op *aop;
	struct dbox_op *op;
	unsigned int i;

	if ((box->flags & DBOX_OPEN_READONLY) != 0)
		return dbox_fail(error_r, DBOX_ERROR_NOTPOSSIBLE,
				 "Mailbox is open read-only");
	if (count == 0)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Nothing to append");
	aop = dbox_calloc(1, sizeof(*aop));
	aop->ctx.box = box;
	aop->ctx.save_date = dbox_now();
	aop->ctx.items = dbox_calloc(count, sizeof(*aop->ctx.items));
	aop->ctx.count = count;
	for (i = 0; i < count; i++) {
		if (prepare_item(box->storage, &msgs[i], &aop->ctx.items[i],
				 aop->ctx.save_date, error_r) < 0) {
			append_op_free(aop);
			return -1;
		}
	}
	op = dbox_op_new(&append_kind, box, NULL, cb, context);
	op->priv = aop;
	aop->ctx.op = op;
	dbox_op_start(op, op_r);
	return 0;
}

int dbox_mail_append_start(struct dbox_mailbox *box,
			   const struct dbox_append_msg *msgs,
			   unsigned int count, dbox_op_callback_t *cb,
			   void *context, struct dbox_op **op_r,
			   const char **error_r)
{
	if (cb == NULL)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS, "No callback");
	return append_start(box, msgs, count, cb, context, op_r, error_r);
}

int dbox_mail_append_many(struct dbox_mailbox *box,
			  const struct dbox_append_msg *msgs,
			  unsigned int count, uint32_t *uids_r,
			  const char **error_r)
{
	struct dbox_op *op;
	int ret;

	if (count == 0 && (box->flags & DBOX_OPEN_READONLY) == 0)
		return 0;
	/* no callback: a synchronous wrapper */
	if (append_start(box, msgs, count, NULL, NULL, &op, error_r) < 0)
		return -1;
	ret = dbox_op_wait(op, error_r);
	if (ret == 0 && uids_r != NULL)
		memcpy(uids_r, op->uids, count * sizeof(uint32_t));
	if (op->sync)
		dbox_op_free(op);
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
