/* SPDX-License-Identifier: GPL-2.0-or-later */
/* LMDB handles shared by the index source files. */
#ifndef DBOX_INDEX_PRIVATE_H
#define DBOX_INDEX_PRIVATE_H

#include <lmdb.h>

#include "dbox-index.h"

enum dbox_index_db {
	DBOX_DB_META,
	DBOX_DB_MAILBOXES,
	DBOX_DB_MAILS,
	DBOX_DB_EXPUNGED,
	DBOX_DB_MAP,
	DBOX_DB_FILES,
	DBOX_DB_COUNT
};

struct dbox_index_env;

struct dbox_index {
	struct dbox_index_env *env;
	/* called by a write dbox_txn_begin() while an asynchronous operation
	   of this process keeps its write transaction open across I/O */
	dbox_index_writer_wait_t *writer_wait;
	void *writer_wait_ctx;
};

struct dbox_txn {
	MDB_txn *txn;
	MDB_dbi *dbis;
	struct dbox_index_env *env;
	bool write;
};

/* Record an LMDB failure (corruption errors get DBOX_ERROR_CORRUPTED). */
int dbox_index_fail(const char **error_r, int mdb_err, const char *what);
bool dbox_index_err_is_corruption(int mdb_err);

/* Small helpers: 1 found, 0 not found, -1 error. */
int dbox_index_get(struct dbox_txn *txn, enum dbox_index_db db,
		   const void *key, size_t key_size, MDB_val *val_r,
		   const char **error_r);
int dbox_index_put(struct dbox_txn *txn, enum dbox_index_db db,
		   const void *key, size_t key_size, const void *val,
		   size_t val_size, const char **error_r);
/* Deleting a missing key is not an error. */
int dbox_index_del(struct dbox_txn *txn, enum dbox_index_db db,
		   const void *key, size_t key_size, const char **error_r);

static inline void dbox_be32_put(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline uint32_t dbox_be32_get(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
		((uint32_t)p[2] << 8) | p[3];
}

static inline void dbox_be64_put(unsigned char *p, uint64_t v)
{
	dbox_be32_put(p, (uint32_t)(v >> 32));
	dbox_be32_put(p + 4, (uint32_t)v);
}

static inline uint64_t dbox_be64_get(const unsigned char *p)
{
	return ((uint64_t)dbox_be32_get(p) << 32) | dbox_be32_get(p + 4);
}

#endif
