// SPDX-License-Identifier: GPL-2.0-or-later
/* Mailbox records: counters, uidvalidity, keyword table. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbox-index-private.h"

void dbox_idx_mailbox_rec_free(struct dbox_idx_mailbox_rec *rec)
{
	uint32_t i;

	if (rec->keywords != NULL) {
		for (i = 0; i < rec->mb.keyword_count; i++)
			free(rec->keywords[i]);
		free(rec->keywords);
	}
	memset(rec, 0, sizeof(*rec));
}

static int decode(const MDB_val *val, struct dbox_idx_mailbox_rec *rec_r,
		  const char **error_r)
{
	const char *p, *end;
	uint32_t i;

	memset(rec_r, 0, sizeof(*rec_r));
	if (val->mv_size < sizeof(rec_r->mb))
		goto corrupt;
	memcpy(&rec_r->mb, val->mv_data, sizeof(rec_r->mb));
	if (rec_r->mb.version != DBOX_IDX_MAILBOX_VERSION ||
	    val->mv_size != sizeof(rec_r->mb) + rec_r->mb.keywords_size ||
	    rec_r->mb.keyword_count > DBOX_MAX_KEYWORDS)
		goto corrupt;
	rec_r->keywords = dbox_calloc(rec_r->mb.keyword_count + 1,
				      sizeof(char *));
	p = (const char *)val->mv_data + sizeof(rec_r->mb);
	end = p + rec_r->mb.keywords_size;
	for (i = 0; i < rec_r->mb.keyword_count; i++) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));

		if (nul == NULL) {
			rec_r->mb.keyword_count = i;
			dbox_idx_mailbox_rec_free(rec_r);
			goto corrupt;
		}
		rec_r->keywords[i] = dbox_strdup(p);
		p = nul + 1;
	}
	return 0;

corrupt:
	memset(rec_r, 0, sizeof(*rec_r));
	return dbox_fail(error_r, DBOX_ERROR_CORRUPTED,
			 "index mailbox record is damaged");
}

int dbox_idx_mailbox_get(struct dbox_txn *txn, const char *name,
			 struct dbox_idx_mailbox_rec *rec_r,
			 const char **error_r)
{
	MDB_val val;
	int ret;

	memset(rec_r, 0, sizeof(*rec_r));
	ret = dbox_index_get(txn, DBOX_DB_MAILBOXES, name, strlen(name), &val,
			     error_r);
	if (ret <= 0)
		return ret;
	return decode(&val, rec_r, error_r) < 0 ? -1 : 1;
}

int dbox_idx_mailbox_put(struct dbox_txn *txn, const char *name,
			 const struct dbox_idx_mailbox_rec *rec,
			 const char **error_r)
{
	struct dbox_idx_mailbox mb = rec->mb;
	struct dbox_buf buf = { 0 };
	uint32_t i;
	int ret;

	mb.version = DBOX_IDX_MAILBOX_VERSION;
	mb.keywords_size = 0;
	for (i = 0; i < mb.keyword_count; i++)
		mb.keywords_size += (uint32_t)strlen(rec->keywords[i]) + 1;
	dbox_buf_append(&buf, &mb, sizeof(mb));
	for (i = 0; i < mb.keyword_count; i++)
		dbox_buf_append(&buf, rec->keywords[i],
				strlen(rec->keywords[i]) + 1);
	ret = dbox_index_put(txn, DBOX_DB_MAILBOXES, name, strlen(name),
			     buf.data, buf.len, error_r);
	dbox_buf_free(&buf);
	return ret;
}

int dbox_idx_mailbox_delete(struct dbox_txn *txn, const char *name,
			    const char **error_r)
{
	return dbox_index_del(txn, DBOX_DB_MAILBOXES, name, strlen(name),
			      error_r);
}

int dbox_idx_mailbox_keyword(struct dbox_idx_mailbox_rec *rec,
			     const char *keyword, bool create,
			     const char **error_r)
{
	uint32_t i;

	/* keywords are case-insensitive (RFC 3501 2.3.2) */
	for (i = 0; i < rec->mb.keyword_count; i++) {
		if (strcasecmp(rec->keywords[i], keyword) == 0)
			return (int)i;
	}
	if (!create)
		return -1;
	if (rec->mb.keyword_count >= DBOX_MAX_KEYWORDS) {
		dbox_fail(error_r, DBOX_ERROR_LIMIT,
			  "Too many keywords in mailbox (max %d)",
			  DBOX_MAX_KEYWORDS);
		return -1;
	}
	rec->keywords = dbox_realloc(rec->keywords,
				     (rec->mb.keyword_count + 2) *
				     sizeof(char *));
	rec->keywords[rec->mb.keyword_count] = dbox_strdup(keyword);
	rec->keywords[rec->mb.keyword_count + 1] = NULL;
	return (int)rec->mb.keyword_count++;
}

int dbox_idx_mailbox_iter(struct dbox_txn *txn, dbox_idx_mailbox_iter_cb *cb,
			  void *ctx, const char **error_r)
{
	struct dbox_idx_mailbox_rec rec;
	MDB_cursor *cursor;
	MDB_val key, val;
	char *name;
	int ret, op = MDB_FIRST;

	ret = mdb_cursor_open(txn->txn, txn->dbis[DBOX_DB_MAILBOXES], &cursor);
	if (ret != 0)
		return dbox_index_fail(error_r, ret, "cursor_open");
	while ((ret = mdb_cursor_get(cursor, &key, &val, op)) == 0) {
		op = MDB_NEXT;
		if (decode(&val, &rec, error_r) < 0) {
			mdb_cursor_close(cursor);
			return -1;
		}
		name = dbox_strndup(key.mv_data, key.mv_size);
		ret = cb(ctx, name, &rec);
		free(name);
		dbox_idx_mailbox_rec_free(&rec);
		if (ret < 0) {
			mdb_cursor_close(cursor);
			return -1;
		}
	}
	mdb_cursor_close(cursor);
	if (ret != MDB_NOTFOUND)
		return dbox_index_fail(error_r, ret, "cursor_get");
	return 0;
}
