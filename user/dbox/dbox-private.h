/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internals shared by the generic storage code and the two formats.
 *
 * Layout of a mail root (the same as Dovecot's, plus our index):
 *   <root>/mailboxes/<name in mUTF-7>/dbox-Mails/   one per mailbox
 *          sdbox: u.<uid> message files, temp.* files being written
 *   <root>/storage/m.<file id>                      mdbox message files
 *   <root>/dovecot-uidvalidity[.<hex>]              UIDVALIDITY allocator
 *   <root>/subscriptions                            Dovecot's format
 *   <root>/dboxd-index/{data,lock}.mdb              our LMDB index
 *   <root>/dboxd-trash/                             deleted mailboxes
 *
 * Truth: directories say which mailboxes exist; message files say which
 * messages can exist; the index says which of them are in which mailbox
 * with which uid, flags and modseq. A mutation writes and fsyncs files
 * first, then commits the index (which fsyncs), so an acknowledged change
 * is on disk and a crash leaves at worst unreferenced files (sdbox u.*
 * beyond uidnext, which the next append adopts; mdbox bytes past a file's
 * committed end, which the next append truncates and purge drops).
 */
#ifndef DBOX_PRIVATE_H
#define DBOX_PRIVATE_H

#include <sys/types.h>

#include "dbox.h"
#include "dbox-crlf.h"
#include "dbox-file.h"
#include "dbox-util.h"
#include "index/dbox-index.h"
#include "io/dbox-io-internal.h"

#define DBOX_MAILBOXES_DIR "mailboxes"
#define DBOX_STORAGE_DIR "storage"
#define DBOX_TRASH_DIR "dboxd-trash"
#define DBOX_SUBSCRIPTIONS_FILE "subscriptions"
#define SDBOX_MAIL_PREFIX "u."
#define MDBOX_MAIL_PREFIX "m."

#define DBOX_DEFAULT_MAX_MESSAGE_SIZE (64ULL * 1024 * 1024)
#define DBOX_DEFAULT_ROTATE_SIZE (10ULL * 1024 * 1024)
#define DBOX_DEFAULT_FETCH_WINDOW 16
/* Hard ceiling for max_message_size: sizes are kept in memory whole. */
#define DBOX_MAX_MESSAGE_SIZE_LIMIT (1ULL << 31)

struct dbox_save_ctx;
struct dbox_copy_ctx;
struct dbox_op;
struct dbox_io_batch;
struct dbox_mail_priv;
struct dbox_rebuild_ctx;

/* Where to read a message: its msg header is at offset in fd. */
struct dbox_mail_loc {
	int fd;
	uint64_t offset;
	uint32_t msg_header_size;
	bool cached;			/* fd belongs to a cache: don't close */
};

/* One message being appended. */
struct dbox_save_item {
	unsigned char *body;		/* stored form (LF) */
	struct dbox_msg_sizes sizes;
	char guid[128];
	int64_t internal_date;
	uint32_t flags;
	const char *const *keywords;	/* = keywords_copy */
	char **keywords_copy;		/* owned: the caller's may go */
	uint32_t uid;			/* assigned at commit */
	/* set by the format's save_write */
	char *temp_name;		/* sdbox */
	uint64_t offset;		/* msg header offset in its file */
	uint32_t map_uid;		/* mdbox */
	uint32_t file_id;		/* mdbox */
	uint64_t total_size;		/* mdbox: header + body + metadata */
};

struct dbox_save_ctx {
	struct dbox_op *op;
	struct dbox_mailbox *box;
	struct dbox_save_item *items;
	unsigned int count;
	int64_t save_date;
	void *format_ctx;		/* the format's per-save state */
};

/*
 * What differs between single- and multi-dbox. Write-side hooks that take
 * a transaction run inside the index write transaction (so the index's
 * writer lock serialises them across processes); the "finish" hooks run
 * after the commit.
 */
struct dbox_format_ops {
	enum dbox_format format;
	const char *name;

	int (*init)(struct dbox_storage *storage, const char **error_r);
	void (*deinit)(struct dbox_storage *storage);

	/* Write every item's data durably (not yet visible), in stages:
	   submit stage n's requests into batch and return 1, or 0 when
	   there is no stage n, or -1. Stage n+1 is asked for once all of
	   stage n completed (io_uring does not order requests in flight). */
	int (*save_write)(struct dbox_save_ctx *ctx, unsigned int stage,
			  struct dbox_io_batch *batch, const char **error_r);
	/* Make the data belong to the uids the caller assigned (items[i].uid,
	   may be raised: the hook sets *uidnext past anything it used).
	   Directories to fsync before the commit are asked for with
	   dbox_op_fsync_before_commit(ctx->op, fd). */
	int (*save_place)(struct dbox_save_ctx *ctx, struct dbox_txn *txn,
			  struct dbox_idx_mailbox_rec *rec,
			  const char **error_r);
	/* After commit (committed) or failure: release/remove leftovers. */
	void (*save_finish)(struct dbox_save_ctx *ctx, bool committed);

	/* Copy one message: the caller filled dst from src; the hook picks
	   dst->uid from dst_rec (raising uidnext) and moves location and
	   references. DBOX_ERROR_EXPUNGED means skip this message. */
	int (*copy_one)(struct dbox_copy_ctx *ctx, struct dbox_txn *txn,
			struct dbox_idx_mailbox_rec *dst_rec,
			const struct dbox_idx_mail_rec *src,
			struct dbox_idx_mail_rec *dst, const char **error_r);
	/* Before commit: ask for what makes the copies durable
	   (dbox_op_fsync_before_commit). */
	int (*copy_sync)(struct dbox_copy_ctx *ctx, const char **error_r);
	/* After commit (committed) or failure. */
	void (*copy_finish)(struct dbox_copy_ctx *ctx, bool committed);

	/* Inside the transaction, for each expunged message. */
	int (*expunge_one)(struct dbox_mailbox *box, struct dbox_txn *txn,
			   const struct dbox_idx_mail_rec *rec,
			   const char **error_r);
	/* After commit: remove what the expunged messages left on disk;
	   returns 1 when it submitted requests (a directory fsync) into
	   batch, 0 when not. */
	int (*expunge_finish)(struct dbox_mailbox *box, const uint32_t *uids,
			      unsigned int count, struct dbox_io_batch *batch);

	/* Where a message's msg header is. txn may be NULL. */
	int (*open_mail)(struct dbox_mailbox *box, struct dbox_txn *txn,
			 uint32_t uid, const struct dbox_mail_priv *priv,
			 struct dbox_mail_loc *loc_r, const char **error_r);

	/* A mailbox directory appeared without (or with a different) index
	   record: fill the record from files. */
	int (*mailbox_import)(struct dbox_mailbox *box, struct dbox_txn *txn,
			      struct dbox_idx_mailbox_rec *rec,
			      const struct dbox_idx_mailbox_rec *old,
			      const char **error_r);
	/* Inside the transaction deleting a mailbox's records. */
	int (*mailbox_delete)(struct dbox_storage *storage,
			      struct dbox_txn *txn, uint32_t mailbox_id,
			      const char **error_r);

	/* Fill the (emptied) index from the files; ctx lists the mailbox
	   directories with fresh records and what the old index knew. */
	int (*rebuild)(struct dbox_storage *storage,
		       struct dbox_rebuild_ctx *ctx, const char **error_r);
	int (*purge)(struct dbox_storage *storage, const char **error_r);
};

extern const struct dbox_format_ops sdbox_format_ops;
extern const struct dbox_format_ops mdbox_format_ops;

struct dbox_storage {
	char *root;
	int root_fd;
	int mailboxes_fd;
	int storage_fd;			/* mdbox only, else -1 */
	const struct dbox_format_ops *ops;
	struct dbox_storage_settings set;
	struct dbox_io *io;
	bool own_io;
	/* set.mail_alloc points here, or is NULL (malloc) */
	struct dbox_allocator mail_alloc;
	struct dbox_index *index;
	int notify_fd;
	void *format_ctx;		/* mdbox: open file cache */
	unsigned int open_boxes;
	/* asynchronous operations (dbox-op.h): the one in its transaction
	   phase, those waiting for it in start order, and all not yet
	   delivered */
	struct dbox_op *writer;
	struct dbox_op *writer_waiters, *writer_waiters_tail;
	unsigned int ops_in_flight;
	/* committed operations waiting for the index fdatasync: those the
	   one in flight covers (NULL: none in flight), and those committed
	   since (dbox-op.c) */
	struct dbox_op *synced_by_flight, *sync_waiters, *sync_waiters_tail;
	struct dbox_io_batch index_sync;
};

/* Internal per-message data kept alongside the public view. */
struct dbox_mail_priv {
	uint32_t map_uid;
	uint32_t msg_header_size;
	uint64_t offset;
	uint64_t hdr_phys_size, hdr_virt_size;
};

/*
 * Lifetime: the caller's handle is one reference (dbox_mailbox_close drops
 * it); asynchronous operations and fetches in flight hold one each, so a
 * mailbox closed under them stays until they are done.
 */
struct dbox_mailbox {
	struct dbox_storage *storage;
	unsigned int refcount;
	char *name;			/* normalised UTF-8 */
	char *disk_name;		/* mUTF-7 path below mailboxes/ */
	int dir_fd;			/* .../dbox-Mails */
	unsigned int flags;		/* enum dbox_open_flags */
	uint32_t id;			/* index mailbox id */

	/* the view, as of the last sync */
	struct dbox_mail *mails;
	struct dbox_mail_priv *priv;
	unsigned int count;
	struct dbox_status status;
	char **keywords;		/* keyword table of the last sync */
	unsigned int keyword_count;
	struct dbox_arena *view_strings; /* guids, keyword arrays */
};

struct dbox_copy_ctx {
	struct dbox_op *op;
	struct dbox_mailbox *src, *dst;
	bool move;
	uint32_t *created_uids;		/* dst uids linked so far (sdbox) */
	unsigned int created_count;
};

/* dbox-storage.c */
int dbox_storage_fsync_fd(struct dbox_storage *storage, int fd,
			  bool datasync, const char *what,
			  const char **error_r);
uint32_t dbox_storage_next_uidvalidity(struct dbox_storage *storage);

/* dbox-mailbox.c */
struct dbox_mailbox *dbox_mailbox_ref(struct dbox_mailbox *box);
void dbox_mailbox_unref(struct dbox_mailbox **box);

/* dbox-mailbox.c: index record plumbing */
int dbox_mailbox_txn_begin(struct dbox_mailbox *box, struct dbox_txn **txn_r,
			   struct dbox_idx_mailbox_rec *rec_r,
			   const char **error_r);
int dbox_mailbox_txn_commit(struct dbox_mailbox *box, struct dbox_txn **txn,
			    struct dbox_idx_mailbox_rec *rec,
			    const char **error_r);
void dbox_mailbox_txn_abort(struct dbox_txn **txn,
			    struct dbox_idx_mailbox_rec *rec);
/* A fresh record: new id, new uidvalidity, uidnext 1. */
int dbox_mailbox_rec_init(struct dbox_storage *storage, struct dbox_txn *txn,
			  struct dbox_idx_mailbox_rec *rec_r,
			  const char **error_r);
/* Adjust rec's counters for a mail record added (+1) or removed (-1). */
void dbox_mailbox_rec_account(struct dbox_idx_mailbox_rec *rec,
			      const struct dbox_idx_mail *m, int sign);

/* dbox-mailbox-ops.c */
/* Remove a record whose directory is gone, with its messages. */
int dbox_mailbox_drop_record(struct dbox_storage *storage,
			     struct dbox_txn *txn, const char *name,
			     const char **error_r);
/* "a/b/c" -> fd of mailboxes/a/b (created if asked) and "c". */
int dbox_mailbox_open_parent(struct dbox_storage *storage, const char *disk,
			     bool create, int *parent_fd_r,
			     const char **last_r, const char **error_r);
/* rmdir empty levels of disk, deepest first, up to mailboxes/. */
void dbox_mailbox_remove_empty_levels(struct dbox_storage *storage,
				      const char *disk);

/* dbox-list.c */
int dbox_mailbox_dir_open(struct dbox_storage *storage, const char *disk_name,
			  bool create, int *fd_r, const char **error_r);

/* dbox-import.c: a message file read back into an index record */
struct dbox_import_msg {
	struct dbox_idx_mail_rec rec;
	char *guid;
	char *orig_mailbox;		/* B, mdbox */
	uint64_t total_size;		/* msg header + body + metadata */
};
/* Parse a message at offset of a file held in memory, compute its sizes. */
int dbox_import_parse(const unsigned char *file, size_t file_size,
		      uint64_t offset, uint32_t msg_header_size,
		      int64_t fallback_date, struct dbox_import_msg *msg_r,
		      const char **error_r);
void dbox_import_msg_free(struct dbox_import_msg *msg);
/* Read a whole file through the storage's io. */
int dbox_read_file(struct dbox_storage *storage, int fd, size_t max,
		   unsigned char **data_r, size_t *size_r,
		   const char **error_r);


#endif
