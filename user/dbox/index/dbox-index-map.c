// SPDX-License-Identifier: GPL-2.0-or-later
/* The multi-dbox map (map uid -> file, offset, size, refcount) and the
   per-file committed end. */
#include <string.h>

#include "dbox-index-private.h"

/* LMDB only guarantees 2-byte alignment of values */
static uint32_t read_version(const MDB_val *val)
{
	uint32_t version;

	memcpy(&version, val->mv_data, sizeof(version));
	return version;
}

static int get_fixed(struct dbox_txn *txn, enum dbox_index_db db,
		     uint32_t id, void *out, size_t size, uint32_t version,
		     const char **error_r)
{
	unsigned char key[4];
	MDB_val val;
	int ret;

	dbox_be32_put(key, id);
	ret = dbox_index_get(txn, db, key, sizeof(key), &val, error_r);
	if (ret <= 0)
		return ret;
	/* every fixed record starts with a uint32_t version */
	if (val.mv_size != size || read_version(&val) != version)
		return dbox_fail(error_r, DBOX_ERROR_CORRUPTED,
				 "index map record %u is damaged", id);
	memcpy(out, val.mv_data, size);
	return 1;
}

static int put_fixed(struct dbox_txn *txn, enum dbox_index_db db,
		     uint32_t id, const void *rec, size_t size,
		     const char **error_r)
{
	unsigned char key[4];

	dbox_be32_put(key, id);
	return dbox_index_put(txn, db, key, sizeof(key), rec, size, error_r);
}

static int del_fixed(struct dbox_txn *txn, enum dbox_index_db db,
		     uint32_t id, const char **error_r)
{
	unsigned char key[4];

	dbox_be32_put(key, id);
	return dbox_index_del(txn, db, key, sizeof(key), error_r);
}

typedef int fixed_iter_cb(void *ctx, uint32_t id, const void *rec);

static int iter_fixed(struct dbox_txn *txn, enum dbox_index_db db,
		      size_t size, uint32_t version, fixed_iter_cb *cb,
		      void *ctx, const char **error_r)
{
	MDB_cursor *cursor;
	MDB_val key, val;
	int ret, op = MDB_FIRST;
	uint64_t buf[8];

	ret = mdb_cursor_open(txn->txn, txn->dbis[db], &cursor);
	if (ret != 0)
		return dbox_index_fail(error_r, ret, "cursor_open");
	while ((ret = mdb_cursor_get(cursor, &key, &val, op)) == 0) {
		op = MDB_NEXT;
		if (key.mv_size != 4 || val.mv_size != size ||
		    size > sizeof(buf) ||
		    read_version(&val) != version) {
			mdb_cursor_close(cursor);
			return dbox_fail(error_r, DBOX_ERROR_CORRUPTED,
					 "index map record is damaged");
		}
		memcpy(buf, val.mv_data, size);
		if (cb(ctx, dbox_be32_get(key.mv_data), buf) < 0) {
			mdb_cursor_close(cursor);
			return -1;
		}
	}
	mdb_cursor_close(cursor);
	if (ret != MDB_NOTFOUND)
		return dbox_index_fail(error_r, ret, "cursor_get");
	return 0;
}

int dbox_idx_map_get(struct dbox_txn *txn, uint32_t map_uid,
		     struct dbox_idx_map *map_r, const char **error_r)
{
	return get_fixed(txn, DBOX_DB_MAP, map_uid, map_r, sizeof(*map_r),
			 DBOX_IDX_MAP_VERSION, error_r);
}

int dbox_idx_map_put(struct dbox_txn *txn, uint32_t map_uid,
		     const struct dbox_idx_map *map, const char **error_r)
{
	struct dbox_idx_map copy = *map;

	copy.version = DBOX_IDX_MAP_VERSION;
	return put_fixed(txn, DBOX_DB_MAP, map_uid, &copy, sizeof(copy),
			 error_r);
}

int dbox_idx_map_delete(struct dbox_txn *txn, uint32_t map_uid,
			const char **error_r)
{
	return del_fixed(txn, DBOX_DB_MAP, map_uid, error_r);
}

struct map_iter_ctx {
	dbox_idx_map_iter_cb *cb;
	void *ctx;
};

static int map_iter_one(void *_ctx, uint32_t id, const void *rec)
{
	struct map_iter_ctx *ctx = _ctx;

	return ctx->cb(ctx->ctx, id, rec);
}

int dbox_idx_map_iter(struct dbox_txn *txn, dbox_idx_map_iter_cb *cb,
		      void *ctx, const char **error_r)
{
	struct map_iter_ctx ictx = { cb, ctx };

	return iter_fixed(txn, DBOX_DB_MAP, sizeof(struct dbox_idx_map),
			  DBOX_IDX_MAP_VERSION, map_iter_one, &ictx, error_r);
}

int dbox_idx_file_get(struct dbox_txn *txn, uint32_t file_id,
		      struct dbox_idx_file *file_r, const char **error_r)
{
	return get_fixed(txn, DBOX_DB_FILES, file_id, file_r, sizeof(*file_r),
			 DBOX_IDX_FILE_VERSION, error_r);
}

int dbox_idx_file_put(struct dbox_txn *txn, uint32_t file_id,
		      const struct dbox_idx_file *file, const char **error_r)
{
	struct dbox_idx_file copy = *file;

	copy.version = DBOX_IDX_FILE_VERSION;
	return put_fixed(txn, DBOX_DB_FILES, file_id, &copy, sizeof(copy),
			 error_r);
}

int dbox_idx_file_delete(struct dbox_txn *txn, uint32_t file_id,
			 const char **error_r)
{
	return del_fixed(txn, DBOX_DB_FILES, file_id, error_r);
}

struct file_iter_ctx {
	dbox_idx_file_iter_cb *cb;
	void *ctx;
};

static int file_iter_one(void *_ctx, uint32_t id, const void *rec)
{
	struct file_iter_ctx *ctx = _ctx;

	return ctx->cb(ctx->ctx, id, rec);
}

int dbox_idx_file_iter(struct dbox_txn *txn, dbox_idx_file_iter_cb *cb,
		       void *ctx, const char **error_r)
{
	struct file_iter_ctx ictx = { cb, ctx };

	return iter_fixed(txn, DBOX_DB_FILES, sizeof(struct dbox_idx_file),
			  DBOX_IDX_FILE_VERSION, file_iter_one, &ictx,
			  error_r);
}

