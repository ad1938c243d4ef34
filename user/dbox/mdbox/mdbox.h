/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * multi-dbox internals. Messages live in <root>/storage/m.<file id>; the
 * index's map says where each map uid is and how many mail records refer
 * to it, and each file's committed end (bytes past it are left-overs of a
 * writer that died; the next appender truncates them).
 *
 * Locking: whoever appends to or rewrites a file holds flock(LOCK_EX) on
 * it for the whole operation, taken non-blocking: a busy file is skipped
 * (append uses another one, purge tries next time).
 */
#ifndef MDBOX_H
#define MDBOX_H

#include "../dbox-private.h"

#define MDBOX_FD_CACHE_SIZE 32

struct mdbox_storage {
	struct mdbox_cached_fd {
		uint32_t file_id;
		int fd;
		uint64_t last_use;
	} cache[MDBOX_FD_CACHE_SIZE];
	uint64_t use_counter;
};

/* A file locked for appending. */
struct mdbox_append {
	int fd;
	uint32_t file_id;
	uint64_t offset;	/* where our bytes start */
	uint64_t end;		/* where they end (set by save_write) */
	bool created;
};

/* A read-only fd for m.<file_id> from the cache (don't close it). */
int mdbox_file_get_fd(struct dbox_storage *storage, uint32_t file_id,
		      int *fd_r, const char **error_r);
/* Forget a cached fd (the file was replaced). */
void mdbox_file_uncache(struct dbox_storage *storage, uint32_t file_id);
void mdbox_file_cache_free(struct dbox_storage *storage);

/* Lock a file with room for need more bytes, or create a new one. */
int mdbox_append_begin(struct dbox_storage *storage, uint64_t need,
		       struct mdbox_append *app_r, const char **error_r);
/* Failed (not committed): drop our bytes. Then unlock and close. */
void mdbox_append_end(struct dbox_storage *storage, struct mdbox_append *app,
		      bool committed);
/* Try to lock m.<file_id> for rewriting; 1 locked, 0 busy/missing. */
int mdbox_file_try_lock(struct dbox_storage *storage, uint32_t file_id,
			int *fd_r, const char **error_r);
/* Allocate a new file id and create its file, locked. */
int mdbox_file_create(struct dbox_storage *storage, uint32_t *file_id_r,
		      int *fd_r, const char **error_r);
void mdbox_file_name(uint32_t file_id, char name[32]);

int mdbox_save_write(struct dbox_save_ctx *ctx, unsigned int stage,
		     struct dbox_io_batch *batch, const char **error_r);
int mdbox_save_place(struct dbox_save_ctx *ctx, struct dbox_txn *txn,
		     struct dbox_idx_mailbox_rec *rec, const char **error_r);
void mdbox_save_finish(struct dbox_save_ctx *ctx, bool committed);

/* refcount += delta for a map uid. */
int mdbox_map_ref(struct dbox_txn *txn, uint32_t map_uid, int delta,
		  const char **error_r);

int mdbox_rebuild(struct dbox_storage *storage, struct dbox_rebuild_ctx *ctx,
		  const char **error_r);
int mdbox_purge(struct dbox_storage *storage, const char **error_r);

#endif
