// SPDX-License-Identifier: GPL-2.0-or-later
/* Per-message records and the expunge log used for QRESYNC. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dbox-index-private.h"

#define MAIL_KEY_SIZE 8
#define EXPUNGED_KEY_SIZE 16

static void mail_key(unsigned char key[MAIL_KEY_SIZE], uint32_t mailbox_id,
		     uint32_t uid)
{
	dbox_be32_put(key, mailbox_id);
	dbox_be32_put(key + 4, uid);
}

static int decode(const MDB_val *key, const MDB_val *val,
		  struct dbox_idx_mail_rec *rec_r, const char **error_r)
{
	const unsigned char *p = val->mv_data;

	memset(rec_r, 0, sizeof(*rec_r));
	if (key->mv_size != MAIL_KEY_SIZE || val->mv_size < sizeof(rec_r->m))
		goto corrupt;
	memcpy(&rec_r->m, p, sizeof(rec_r->m));
	if (rec_r->m.version != DBOX_IDX_MAIL_VERSION ||
	    val->mv_size != sizeof(rec_r->m) + rec_r->m.guid_len +
	    (size_t)rec_r->m.keyword_count * 2)
		goto corrupt;
	rec_r->uid = dbox_be32_get((const unsigned char *)key->mv_data + 4);
	rec_r->guid = (const char *)p + sizeof(rec_r->m);
	rec_r->keywords = (const uint16_t *)(p + sizeof(rec_r->m) +
					     rec_r->m.guid_len);
	return 0;

corrupt:
	return dbox_fail(error_r, DBOX_ERROR_CORRUPTED,
			 "index mail record is damaged");
}

uint16_t dbox_idx_mail_keyword(const struct dbox_idx_mail_rec *rec,
			       unsigned int i)
{
	uint16_t idx;

	/* records follow a guid of any length: no alignment guarantee */
	memcpy(&idx, (const unsigned char *)rec->keywords + i * 2, 2);
	return idx;
}

int dbox_idx_mail_get(struct dbox_txn *txn, uint32_t mailbox_id,
		      uint32_t uid, struct dbox_idx_mail_rec *rec_r,
		      const char **error_r)
{
	unsigned char key[MAIL_KEY_SIZE];
	MDB_val k = { sizeof(key), key }, val;
	int ret;

	mail_key(key, mailbox_id, uid);
	ret = dbox_index_get(txn, DBOX_DB_MAILS, key, sizeof(key), &val,
			     error_r);
	if (ret <= 0)
		return ret;
	return decode(&k, &val, rec_r, error_r) < 0 ? -1 : 1;
}

int dbox_idx_mail_put(struct dbox_txn *txn, uint32_t mailbox_id,
		      const struct dbox_idx_mail_rec *rec,
		      const char **error_r)
{
	unsigned char key[MAIL_KEY_SIZE];
	struct dbox_idx_mail m = rec->m;
	struct dbox_buf buf = { 0 };
	int ret;

	m.version = DBOX_IDX_MAIL_VERSION;
	mail_key(key, mailbox_id, rec->uid);
	dbox_buf_append(&buf, &m, sizeof(m));
	dbox_buf_append(&buf, rec->guid, m.guid_len);
	dbox_buf_append(&buf, rec->keywords, (size_t)m.keyword_count * 2);
	ret = dbox_index_put(txn, DBOX_DB_MAILS, key, sizeof(key), buf.data,
			     buf.len, error_r);
	dbox_buf_free(&buf);
	return ret;
}

int dbox_idx_mail_delete(struct dbox_txn *txn, uint32_t mailbox_id,
			 uint32_t uid, const char **error_r)
{
	unsigned char key[MAIL_KEY_SIZE];

	mail_key(key, mailbox_id, uid);
	return dbox_index_del(txn, DBOX_DB_MAILS, key, sizeof(key), error_r);
}

/* Walk keys starting with a 4-byte mailbox id prefix. */
typedef int prefix_iter_cb(void *ctx, const MDB_val *key, const MDB_val *val);

static int prefix_iter(struct dbox_txn *txn, enum dbox_index_db db,
		       const unsigned char *start, size_t start_size,
		       prefix_iter_cb *cb, void *ctx, const char **error_r)
{
	MDB_val key = { start_size, (void *)start }, val;
	MDB_cursor *cursor;
	int ret, op = MDB_SET_RANGE;

	ret = mdb_cursor_open(txn->txn, txn->dbis[db], &cursor);
	if (ret != 0)
		return dbox_index_fail(error_r, ret, "cursor_open");
	while ((ret = mdb_cursor_get(cursor, &key, &val, op)) == 0) {
		op = MDB_NEXT;
		if (key.mv_size < 4 || memcmp(key.mv_data, start, 4) != 0)
			break;
		if (cb(ctx, &key, &val) < 0) {
			mdb_cursor_close(cursor);
			return -1;
		}
	}
	mdb_cursor_close(cursor);
	if (ret != 0 && ret != MDB_NOTFOUND)
		return dbox_index_fail(error_r, ret, "cursor_get");
	return 0;
}

struct mail_iter_ctx {
	dbox_idx_mail_iter_cb *cb;
	void *ctx;
	const char **error_r;
};

static int mail_iter_one(void *_ctx, const MDB_val *key, const MDB_val *val)
{
	struct mail_iter_ctx *ctx = _ctx;
	struct dbox_idx_mail_rec rec;

	if (decode(key, val, &rec, ctx->error_r) < 0)
		return -1;
	return ctx->cb(ctx->ctx, &rec);
}

int dbox_idx_mail_iter(struct dbox_txn *txn, uint32_t mailbox_id,
		       uint32_t first_uid, dbox_idx_mail_iter_cb *cb,
		       void *ctx, const char **error_r)
{
	struct mail_iter_ctx ictx = { cb, ctx, error_r };
	unsigned char key[MAIL_KEY_SIZE];

	mail_key(key, mailbox_id, first_uid);
	return prefix_iter(txn, DBOX_DB_MAILS, key, sizeof(key),
			   mail_iter_one, &ictx, error_r);
}

static int delete_prefix(struct dbox_txn *txn, enum dbox_index_db db,
			 uint32_t mailbox_id, const char **error_r)
{
	unsigned char prefix[4];
	MDB_val key = { sizeof(prefix), prefix }, val;
	MDB_cursor *cursor;
	int ret;

	dbox_be32_put(prefix, mailbox_id);
	ret = mdb_cursor_open(txn->txn, txn->dbis[db], &cursor);
	if (ret != 0)
		return dbox_index_fail(error_r, ret, "cursor_open");
	/* after a delete the cursor sits on the next item */
	ret = mdb_cursor_get(cursor, &key, &val, MDB_SET_RANGE);
	while (ret == 0 && key.mv_size >= 4 &&
	       memcmp(key.mv_data, prefix, 4) == 0) {
		ret = mdb_cursor_del(cursor, 0);
		if (ret == 0)
			ret = mdb_cursor_get(cursor, &key, &val,
					     MDB_GET_CURRENT);
	}
	mdb_cursor_close(cursor);
	if (ret != 0 && ret != MDB_NOTFOUND && ret != EINVAL)
		return dbox_index_fail(error_r, ret, "cursor_del");
	return 0;
}

int dbox_idx_mail_delete_all(struct dbox_txn *txn, uint32_t mailbox_id,
			     const char **error_r)
{
	if (delete_prefix(txn, DBOX_DB_MAILS, mailbox_id, error_r) < 0)
		return -1;
	return delete_prefix(txn, DBOX_DB_EXPUNGED, mailbox_id, error_r);
}

int dbox_idx_expunged_add(struct dbox_txn *txn, uint32_t mailbox_id,
			  uint64_t modseq, uint32_t uid,
			  const char **error_r)
{
	unsigned char key[EXPUNGED_KEY_SIZE];

	dbox_be32_put(key, mailbox_id);
	dbox_be64_put(key + 4, modseq);
	dbox_be32_put(key + 12, uid);
	return dbox_index_put(txn, DBOX_DB_EXPUNGED, key, sizeof(key), "", 0,
			      error_r);
}

struct expunged_iter_ctx {
	dbox_idx_expunged_iter_cb *cb;
	void *ctx;
};

static int expunged_iter_one(void *_ctx, const MDB_val *key,
			     const MDB_val *val ATTR_UNUSED)
{
	struct expunged_iter_ctx *ctx = _ctx;
	const unsigned char *k = key->mv_data;

	if (key->mv_size != EXPUNGED_KEY_SIZE)
		return dbox_fail(NULL, DBOX_ERROR_CORRUPTED,
				 "index expunge record is damaged");
	return ctx->cb(ctx->ctx, dbox_be64_get(k + 4), dbox_be32_get(k + 12));
}

int dbox_idx_expunged_iter(struct dbox_txn *txn, uint32_t mailbox_id,
			   uint64_t since, dbox_idx_expunged_iter_cb *cb,
			   void *ctx, const char **error_r)
{
	struct expunged_iter_ctx ictx = { cb, ctx };
	unsigned char key[EXPUNGED_KEY_SIZE];

	if (since == UINT64_MAX)
		return 0;
	dbox_be32_put(key, mailbox_id);
	dbox_be64_put(key + 4, since + 1);
	dbox_be32_put(key + 12, 0);
	if (prefix_iter(txn, DBOX_DB_EXPUNGED, key, sizeof(key),
			expunged_iter_one, &ictx, error_r) < 0) {
		if (error_r != NULL)
			*error_r = dbox_last_error_str();
		return -1;
	}
	return 0;
}
