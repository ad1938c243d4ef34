/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The index: one LMDB environment per mail root, <root>/dboxd-index/.
 *
 * Why LMDB (docs/dbox.md has the long form): transactions are atomic and
 * durable (fdatasync at commit, the last one possibly off the caller's
 * path: dbox_index_defer_sync()) with copy-on-write pages, so a SIGKILL or
 * power cut leaves the last committed state; one writer at a time across
 * processes (a robust mutex in lock.mdb, released if the holder dies);
 * readers never block and share pages through the page cache, which is
 * what several connections of a user plus LMTP delivery need.
 *
 * Sub-databases (keys are big-endian so they sort numerically):
 *   meta       string -> u64 counters (next ids, format, version)
 *   mailboxes  UTF-8 name -> struct dbox_idx_mailbox + keyword names
 *   mails      be32 mailbox id, be32 uid -> struct dbox_idx_mail + guid +
 *              u16 keyword indexes
 *   expunged   be32 mailbox id, be64 modseq, be32 uid -> (empty)
 *   map        be32 map uid -> struct dbox_idx_map       (mdbox)
 *   files      be32 file id -> struct dbox_idx_file      (mdbox)
 *
 * Records are native-endian (LMDB files are not portable between
 * architectures anyway) and start with a version; a record of the wrong
 * size or version is reported as corruption, which triggers a rebuild.
 *
 * Lifetime: LMDB forbids opening one environment twice in a process, so
 * environments are shared through a per-process registry keyed by the
 * index directory's device/inode and reference counted. A process must not
 * use an environment it inherited through fork().
 */
#ifndef DBOX_INDEX_H
#define DBOX_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "../dbox-util.h"

#define DBOX_INDEX_DIR "dboxd-index"
#define DBOX_INDEX_VERSION 1

struct dbox_index;
struct dbox_txn;

/* ---- environment and transactions ---- */

/* Open or create <root_fd>/dboxd-index. *created_r: the index had no
   format recorded yet (new or emptied), so it must be filled from files. */
int dbox_index_open(int root_fd, struct dbox_index **index_r,
		    bool *created_r, const char **error_r);
void dbox_index_close(struct dbox_index **index);
/* The path of the data file, for inotify. */
const char *dbox_index_data_path(const struct dbox_index *index);

int dbox_txn_begin(struct dbox_index *index, bool write,
		   struct dbox_txn **txn_r, const char **error_r);

/*
 * An asynchronous operation keeps its write transaction open while the
 * directory fsync it needs before the commit is in flight (LMDB's writer
 * lock is what makes sdbox's rename-then-commit safe). Meanwhile another
 * write transaction of this process would deadlock on that lock, so a
 * write dbox_txn_begin() calls the wait hook first: the storage runs its
 * own steps until the holder committed, or fails (INUSE). The flag is per
 * LMDB environment, shared by every handle of the root in this process;
 * busy_r says which handle holds it.
 */
typedef int dbox_index_writer_wait_t(void *context, const char **error_r);
void dbox_index_set_writer_wait(struct dbox_index *index,
				dbox_index_writer_wait_t *wait, void *context);
/* Mark the write transaction of this handle as kept across I/O (or no
   longer). */
void dbox_index_writer_hold(struct dbox_index *index, bool hold);
/* The handle holding its write transaction across I/O, or NULL. */
const struct dbox_index *dbox_index_writer_holder(const struct dbox_index *index);
/* Durable on return, unless the handle defers the sync. */
int dbox_txn_commit(struct dbox_txn **txn, const char **error_r);
void dbox_txn_abort(struct dbox_txn **txn);

/*
 * While deferred (a flag per environment, like the writer hold), a write
 * commit returns once the change is consistent on disk but before it is
 * durable: a crash may undo the last such commit until the caller has
 * fdatasync'ed dbox_index_sync_fd(). The asynchronous changes do that
 * through dbox-io, so the second of LMDB's two disk waits per commit stays
 * off the event loop (dbox-op.c).
 */
void dbox_index_defer_sync(struct dbox_index *index, bool defer);
/* The index data file, for that fdatasync; -1 if LMDB has none. */
int dbox_index_sync_fd(const struct dbox_index *index);

/* Empty every sub-database but meta (whose counters must never go back,
   so ids are not reused). */
int dbox_index_clear(struct dbox_txn *txn, const char **error_r);

/* ---- meta counters ---- */

/* Returns 1 found, 0 missing (*value_r = 0), -1 error. */
int dbox_idx_meta_get(struct dbox_txn *txn, const char *key,
		      uint64_t *value_r, const char **error_r);
int dbox_idx_meta_set(struct dbox_txn *txn, const char *key, uint64_t value,
		      const char **error_r);
/* Return the current value (starting at 1) and store value + count. */
int dbox_idx_meta_alloc(struct dbox_txn *txn, const char *key,
			uint32_t count, uint32_t *first_r,
			const char **error_r);

/* ---- mailboxes ---- */

#define DBOX_IDX_MAILBOX_VERSION 1
struct dbox_idx_mailbox {
	uint32_t version;
	uint32_t id;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highest_modseq;
	uint32_t messages;
	uint32_t unseen;
	uint64_t vsize;
	uint32_t special_use;
	uint32_t first_recent_uid;
	uint64_t dir_dev, dir_ino;	/* the dbox-Mails directory */
	uint32_t keyword_count;
	uint32_t keywords_size;		/* bytes of NUL-terminated names */
};

struct dbox_idx_mailbox_rec {
	struct dbox_idx_mailbox mb;
	char **keywords;		/* keyword_count names, malloc'd */
};

/* 1 found, 0 not found, -1 error. */
int dbox_idx_mailbox_get(struct dbox_txn *txn, const char *name,
			 struct dbox_idx_mailbox_rec *rec_r,
			 const char **error_r);
int dbox_idx_mailbox_put(struct dbox_txn *txn, const char *name,
			 const struct dbox_idx_mailbox_rec *rec,
			 const char **error_r);
int dbox_idx_mailbox_delete(struct dbox_txn *txn, const char *name,
			    const char **error_r);
void dbox_idx_mailbox_rec_free(struct dbox_idx_mailbox_rec *rec);
/* Index of keyword (adding it when create); -1 when missing or when the
   table is full (DBOX_ERROR_LIMIT). */
int dbox_idx_mailbox_keyword(struct dbox_idx_mailbox_rec *rec,
			     const char *keyword, bool create,
			     const char **error_r);
#define DBOX_MAX_KEYWORDS 1024

/* Call cb for every mailbox record; cb returns 0 to go on, -1 to stop
   with an error. Names are NUL-terminated copies valid during the call. */
typedef int dbox_idx_mailbox_iter_cb(void *ctx, const char *name,
				     const struct dbox_idx_mailbox_rec *rec);
int dbox_idx_mailbox_iter(struct dbox_txn *txn, dbox_idx_mailbox_iter_cb *cb,
			  void *ctx, const char **error_r);

/* ---- mails ---- */

#define DBOX_IDX_MAIL_VERSION 1
struct dbox_idx_mail {
	uint16_t version;
	uint16_t guid_len;
	uint16_t keyword_count;
	uint16_t reserved;
	uint32_t flags;
	uint32_t map_uid;		/* mdbox */
	uint64_t modseq;
	int64_t internal_date;
	int64_t save_date;
	uint64_t phys_size, virt_size;
	uint64_t hdr_phys_size, hdr_virt_size;
	uint64_t offset;		/* sdbox: msg header in u.<uid> */
};

/* A decoded mail record; guid and keywords point into the transaction's
   memory (valid until it ends) or to the caller's buffers when writing. */
struct dbox_idx_mail_rec {
	uint32_t uid;
	struct dbox_idx_mail m;
	const char *guid;		/* guid_len bytes, not terminated */
	const uint16_t *keywords;	/* keyword_count, maybe unaligned */
};

/* 1 found, 0 not found, -1 error. */
int dbox_idx_mail_get(struct dbox_txn *txn, uint32_t mailbox_id,
		      uint32_t uid, struct dbox_idx_mail_rec *rec_r,
		      const char **error_r);
int dbox_idx_mail_put(struct dbox_txn *txn, uint32_t mailbox_id,
		      const struct dbox_idx_mail_rec *rec,
		      const char **error_r);
int dbox_idx_mail_delete(struct dbox_txn *txn, uint32_t mailbox_id,
			 uint32_t uid, const char **error_r);
/* Keyword index i of rec (handles unaligned storage). */
uint16_t dbox_idx_mail_keyword(const struct dbox_idx_mail_rec *rec,
			       unsigned int i);

typedef int dbox_idx_mail_iter_cb(void *ctx,
				  const struct dbox_idx_mail_rec *rec);
/* Mails of one mailbox in uid order, from first_uid on. */
int dbox_idx_mail_iter(struct dbox_txn *txn, uint32_t mailbox_id,
		       uint32_t first_uid, dbox_idx_mail_iter_cb *cb,
		       void *ctx, const char **error_r);
/* Remove every mail and expunge record of a mailbox. */
int dbox_idx_mail_delete_all(struct dbox_txn *txn, uint32_t mailbox_id,
			     const char **error_r);

int dbox_idx_expunged_add(struct dbox_txn *txn, uint32_t mailbox_id,
			  uint64_t modseq, uint32_t uid,
			  const char **error_r);
typedef int dbox_idx_expunged_iter_cb(void *ctx, uint64_t modseq,
				      uint32_t uid);
/* Expunge records with modseq > since, in modseq order. */
int dbox_idx_expunged_iter(struct dbox_txn *txn, uint32_t mailbox_id,
			   uint64_t since, dbox_idx_expunged_iter_cb *cb,
			   void *ctx, const char **error_r);

/* ---- mdbox map and files ---- */

#define DBOX_IDX_MAP_VERSION 1
struct dbox_idx_map {
	uint32_t version;
	uint32_t file_id;
	uint32_t refcount;
	uint32_t reserved;
	uint64_t offset;		/* msg header in m.<file_id> */
	uint64_t size;			/* header + body + metadata */
};

int dbox_idx_map_get(struct dbox_txn *txn, uint32_t map_uid,
		     struct dbox_idx_map *map_r, const char **error_r);
int dbox_idx_map_put(struct dbox_txn *txn, uint32_t map_uid,
		     const struct dbox_idx_map *map, const char **error_r);
int dbox_idx_map_delete(struct dbox_txn *txn, uint32_t map_uid,
			const char **error_r);
typedef int dbox_idx_map_iter_cb(void *ctx, uint32_t map_uid,
				 const struct dbox_idx_map *map);
int dbox_idx_map_iter(struct dbox_txn *txn, dbox_idx_map_iter_cb *cb,
		      void *ctx, const char **error_r);

#define DBOX_IDX_FILE_VERSION 1
struct dbox_idx_file {
	uint32_t version;
	uint32_t reserved;
	uint64_t committed_end;		/* bytes of the file in use */
};

int dbox_idx_file_get(struct dbox_txn *txn, uint32_t file_id,
		      struct dbox_idx_file *file_r, const char **error_r);
int dbox_idx_file_put(struct dbox_txn *txn, uint32_t file_id,
		      const struct dbox_idx_file *file, const char **error_r);
int dbox_idx_file_delete(struct dbox_txn *txn, uint32_t file_id,
			 const char **error_r);
typedef int dbox_idx_file_iter_cb(void *ctx, uint32_t file_id,
				  const struct dbox_idx_file *file);
int dbox_idx_file_iter(struct dbox_txn *txn, dbox_idx_file_iter_cb *cb,
		       void *ctx, const char **error_r);

#endif
