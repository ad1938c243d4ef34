/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine behind the asynchronous changes (dbox.h, "asynchronous
 * changes"). An operation goes through fixed phases; what differs between
 * append, copy/move, expunge and store is a small table of hooks:
 *
 *   write    data I/O before the index transaction, in stages (sdbox
 *            append: write the temp files, then fdatasync them). Each stage
 *            submits into op->batch; the next stage starts once all of the
 *            previous one completed, because io_uring does not order
 *            requests in flight.
 *   txn      in the writer slot: begin the index write transaction and do
 *            the work (renames, links, records). Directory fsyncs that must
 *            precede the commit are asked for with dbox_op_fsync_before
 *            _commit(); the engine submits them while the transaction stays
 *            open, then calls
 *   commit   the LMDB commit (synchronous, but with the index's sync
 *            deferred: LMDB flushes the new pages, the engine then waits
 *            for an fdatasync of the index through dbox-io, one for all
 *            operations committed meanwhile, before finish);
 *   abort    instead of commit when such an fsync failed;
 *   finish   after commit or failure: remove left-overs; post-commit I/O
 *            (sdbox expunge: unlink, then fsync the directory) goes into
 *            op->batch and is waited for before the result is reported, so
 *            "done" means what it meant for the synchronous calls.
 *
 * Every phase after the start function runs as an internal dbox-io step
 * (dbox-io-internal.h); the caller's callback is the one external
 * completion at the end.
 *
 * Writer slot: at most one operation of a storage is between txn and
 * commit; the others wait in the order they became ready for it
 * (storage->writer_waiters), so a large append's data writes never hold
 * up a later STORE. A slot handed over on release is reserved for the
 * next waiter, which starts from a deferred step.
 *
 * Lifetime: the op holds references to its mailboxes (dbox_mailbox_ref)
 * and counts in storage->ops_in_flight until delivered; abandoning it only
 * drops the callback.
 */
#ifndef DBOX_OP_H
#define DBOX_OP_H

#include "dbox-private.h"
#include "io/dbox-io-internal.h"

struct dbox_op;

struct dbox_op_kind {
	const char *name;
	/* Submit stage n's requests into op->batch: 1 submitted, 0 no
	   stage n, -1 failed (error set with dbox_fail). May be NULL. */
	int (*write)(struct dbox_op *op, unsigned int stage,
		     const char **error_r);
	/* 0 proceed to commit (transaction open), 1 nothing to commit
	   (transaction closed, success), -1 failed (closed). */
	int (*txn)(struct dbox_op *op, const char **error_r);
	int (*commit)(struct dbox_op *op, const char **error_r);
	void (*abort)(struct dbox_op *op);
	/* 1 when it submitted post-commit requests into op->batch. May be
	   NULL. */
	int (*finish)(struct dbox_op *op, bool committed);
	void (*free)(struct dbox_op *op);
};

struct dbox_op {
	struct dbox_storage *storage;
	struct dbox_mailbox *box, *dst;	/* referenced; dst only for copy */
	const struct dbox_op_kind *kind;
	void *priv;			/* the kind's state */
	dbox_op_callback_t *cb;
	void *context;

	struct dbox_io_batch batch;
	unsigned int stage;
	int *commit_fsyncs;		/* directory fds, not owned */
	unsigned int commit_fsync_count;
	struct dbox_op *next_waiter;	/* writer queue, then sync queue */

	/* the result */
	int ret;
	enum dbox_error err;
	char *error;
	uint32_t *uids;
	unsigned int uid_count;
	uint32_t *failed_uids;
	unsigned int failed_count;

	bool sync;			/* a synchronous wrapper waits */
	bool finished;			/* result final */
	bool abandoned;
};

/* A new operation on box (and dst); the kind's priv is set by the caller.
   cb NULL: for a synchronous wrapper, which waits with dbox_op_wait(). */
struct dbox_op *dbox_op_new(const struct dbox_op_kind *kind,
			    struct dbox_mailbox *box, struct dbox_mailbox *dst,
			    dbox_op_callback_t *cb, void *context);
/* Start the phases. Never calls the callback. */
void dbox_op_start(struct dbox_op *op, struct dbox_op **op_r);
/* For the txn hook: fsync this directory before the commit. */
void dbox_op_fsync_before_commit(struct dbox_op *op, int dir_fd);
/* Synchronous wrappers: start without a callback, then wait. If op->sync
   is still set on return, the caller reads op's result and frees it with
   dbox_op_free(); otherwise (a wait refused inside a callback) the op
   finishes and frees itself. */
int dbox_op_wait(struct dbox_op *op, const char **error_r);
void dbox_op_free(struct dbox_op *op);

/* dbox-storage.c: the writer-wait hook the index calls. */
int dbox_storage_writer_wait(void *context, const char **error_r);

#endif
