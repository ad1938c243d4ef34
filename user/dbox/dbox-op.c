// SPDX-License-Identifier: GPL-2.0-or-later
/* The asynchronous operation engine; see dbox-op.h for the phases. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dbox-log.h"
#include "dbox-op.h"

static void op_write_next(struct dbox_op *op);
static void op_txn(struct dbox_op *op);
static void op_finish(struct dbox_op *op, bool committed);

struct dbox_op *dbox_op_new(const struct dbox_op_kind *kind,
			    struct dbox_mailbox *box, struct dbox_mailbox *dst,
			    dbox_op_callback_t *cb, void *context)
{
	struct dbox_op *op = dbox_calloc(1, sizeof(*op));

	op->storage = box->storage;
	op->kind = kind;
	op->box = dbox_mailbox_ref(box);
	op->dst = dst == NULL ? NULL : dbox_mailbox_ref(dst);
	op->cb = cb;
	op->context = context;
	/* the synchronous wrappers start without a callback and wait */
	op->sync = cb == NULL;
	op->storage->ops_in_flight++;
	return op;
}

void dbox_op_free(struct dbox_op *op)
{
	if (op->kind->free != NULL)
		op->kind->free(op);
	op->storage->ops_in_flight--;
	dbox_mailbox_unref(&op->box);
	dbox_mailbox_unref(&op->dst);
	free(op->commit_fsyncs);
	free(op->error);
	free(op->uids);
	free(op->failed_uids);
	free(op);
}

/* Keep the error the last dbox_fail() recorded. */
static void op_set_error(struct dbox_op *op)
{
	if (op->ret < 0)
		return;
	op->ret = -1;
	op->err = dbox_last_error();
	op->error = dbox_strdup(dbox_last_error_str());
}

static void op_fail_errno(struct dbox_op *op, int error, const char *what)
{
	errno = -error;
	dbox_fail(NULL, DBOX_ERROR_TEMP, "%s failed: %m", what);
	op_set_error(op);
}

/* ---- delivery ------------------------------------------------------------ */

static void op_deliver_cb(void *context, int64_t result ATTR_UNUSED)
{
	struct dbox_op *op = context;
	struct dbox_op_result res;

	if (!op->abandoned) {
		memset(&res, 0, sizeof(res));
		res.ret = op->ret;
		res.err = op->ret < 0 ? op->err : DBOX_ERROR_NONE;
		res.error = op->ret < 0 ? op->error : NULL;
		if (op->ret == 0) {
			res.uids = op->uids;
			res.uid_count = op->uid_count;
			res.failed_uids = op->failed_uids;
			res.failed_count = op->failed_count;
		}
		op->cb(op->context, &res);
	}
	dbox_op_free(op);
}

static void op_deliver(struct dbox_op *op)
{
	op->finished = true;
	if (op->sync)
		return;		/* dbox_op_wait() picks the result up */
	/* external: the caller's callback runs only from its dbox_io_run() */
	dbox_io_defer(op->storage->io, false, op_deliver_cb, op);
}

void dbox_op_abandon(struct dbox_op **_op)
{
	struct dbox_op *op = *_op;

	if (op == NULL)
		return;
	*_op = NULL;
	op->abandoned = true;
}

unsigned int dbox_storage_ops_in_flight(const struct dbox_storage *storage)
{
	return storage->ops_in_flight;
}

/* ---- post-commit ----------------------------------------------------------- */

static void op_post_done(void *context, int error)
{
	struct dbox_op *op = context;

	/* after the commit the change is durable; what failed here only
	   leaves an unreferenced file behind */
	if (error != 0) {
		errno = -error;
		dbox_log(DBOX_LOG_WARNING, "%s: cleanup after the commit "
			 "failed: %m", op->kind->name);
	}
	op_deliver(op);
}

static void op_finish(struct dbox_op *op, bool committed)
{
	if (op->kind->finish == NULL) {
		op_deliver(op);
		return;
	}
	dbox_io_batch_init(&op->batch, op_post_done, op);
	if (op->kind->finish(op, committed) > 0)
		dbox_io_batch_close(op->storage->io, &op->batch);
	else
		op_deliver(op);
}

/* ---- the writer slot ------------------------------------------------------- */

static void op_txn_deferred(void *context, int64_t result ATTR_UNUSED)
{
	op_txn(context);
}

/* Both queues of operations (for the writer slot, for the index
   fdatasync) are linked through next_waiter, in start order. */
static void op_queue_append(struct dbox_op **head, struct dbox_op **tail,
			    struct dbox_op *op)
{
	if (*tail == NULL)
		*head = op;
	else
		(*tail)->next_waiter = op;
	*tail = op;
}

static void op_acquire(struct dbox_op *op)
{
	struct dbox_storage *storage = op->storage;

	if (storage->writer != NULL) {
		op_queue_append(&storage->writer_waiters,
				&storage->writer_waiters_tail, op);
		return;
	}
	storage->writer = op;
	op_txn(op);
}

static void op_release(struct dbox_op *op)
{
	struct dbox_storage *storage = op->storage;
	struct dbox_op *next = storage->writer_waiters;

	storage->writer = next;
	if (next == NULL)
		return;
	/* reserved for the next in start order; it runs from a step of its
	   own rather than nested in ours */
	storage->writer_waiters = next->next_waiter;
	if (storage->writer_waiters == NULL)
		storage->writer_waiters_tail = NULL;
	next->next_waiter = NULL;
	dbox_io_defer(storage->io, true, op_txn_deferred, next);
}

/* ---- transaction and commit ------------------------------------------------ */

static void op_index_synced(struct dbox_op *op, int error)
{
	if (error != 0) {
		/* The change is in the index but may not survive a crash.
		   Report the failure and keep every file the index could
		   still name: no clean-up, no post-commit unlinks. */
		op_fail_errno(op, error, "fdatasync of the index");
		op_deliver(op);
		return;
	}
	op_finish(op, true);
}

static void index_sync_start(struct dbox_storage *storage);

static void index_sync_done(void *context, int error)
{
	struct dbox_storage *storage = context;
	struct dbox_op *op = storage->synced_by_flight, *next;

	storage->synced_by_flight = NULL;
	if (storage->sync_waiters != NULL)
		index_sync_start(storage);
	for (; op != NULL; op = next) {
		next = op->next_waiter;
		op->next_waiter = NULL;
		op_index_synced(op, error);
	}
}

/* One fdatasync for everything committed so far (never nothing): while it
   is in flight, synced_by_flight lists what it covers. */
static void index_sync_start(struct dbox_storage *storage)
{
	int fd = dbox_index_sync_fd(storage->index);

	storage->synced_by_flight = storage->sync_waiters;
	storage->sync_waiters = storage->sync_waiters_tail = NULL;
	dbox_io_batch_init(&storage->index_sync, index_sync_done, storage);
	if (fd < 0)
		storage->index_sync.error = -EBADF;
	else
		dbox_io_batch_fsync(storage->io, &storage->index_sync, fd,
				    true);
	dbox_io_batch_close(storage->io, &storage->index_sync);
}

/*
 * The commit returns with the change consistent on disk; its durability
 * (the index's fdatasync) is waited for through dbox-io, off the loop and
 * after the writer slot went to the next operation, and before anything
 * that relies on it: post-commit unlinks and the caller's "done". Commits
 * made while an fdatasync is in flight share the next one (group commit),
 * and operations are reported in commit order.
 */
static void op_commit(struct dbox_op *op)
{
	struct dbox_storage *storage = op->storage;
	const char *error;
	int ret;

	dbox_index_defer_sync(storage->index, true);
	ret = op->kind->commit(op, &error);
	dbox_index_defer_sync(storage->index, false);
	if (ret < 0)
		op_set_error(op);
	op_release(op);
	if (ret < 0) {
		op_finish(op, false);
		return;
	}
	op_queue_append(&storage->sync_waiters, &storage->sync_waiters_tail,
			op);
	if (storage->synced_by_flight == NULL)
		index_sync_start(storage);
}

static void op_synced(void *context, int error)
{
	struct dbox_op *op = context;

	dbox_index_writer_hold(op->storage->index, false);
	if (error != 0) {
		op_fail_errno(op, error, "fsync of a mailbox directory");
		op->kind->abort(op);
		op_release(op);
		op_finish(op, false);
		return;
	}
	op_commit(op);
}

void dbox_op_fsync_before_commit(struct dbox_op *op, int dir_fd)
{
	unsigned int i;

	for (i = 0; i < op->commit_fsync_count; i++) {
		if (op->commit_fsyncs[i] == dir_fd)
			return;
	}
	op->commit_fsyncs = dbox_realloc(op->commit_fsyncs,
					 (op->commit_fsync_count + 1) *
					 sizeof(int));
	op->commit_fsyncs[op->commit_fsync_count++] = dir_fd;
}

static void op_txn(struct dbox_op *op)
{
	struct dbox_io *io = op->storage->io;
	const char *error;
	unsigned int i;
	int ret;

	op->commit_fsync_count = 0;
	ret = op->kind->txn(op, &error);
	if (ret != 0) {
		if (ret < 0)
			op_set_error(op);
		op_release(op);
		op_finish(op, false);
		return;
	}
	if (op->commit_fsync_count == 0) {
		op_commit(op);
		return;
	}
	/* The transaction stays open while the directory entries it made
	   become durable; other write transactions of this process wait
	   (the index's writer-wait hook). */
	dbox_index_writer_hold(op->storage->index, true);
	dbox_io_batch_init(&op->batch, op_synced, op);
	for (i = 0; i < op->commit_fsync_count; i++)
		dbox_io_batch_fsync(io, &op->batch, op->commit_fsyncs[i], false);
	dbox_io_batch_close(io, &op->batch);
}

/* ---- pre-commit data I/O --------------------------------------------------- */

static void op_written(void *context, int error)
{
	struct dbox_op *op = context;

	if (error != 0) {
		op_fail_errno(op, error, "writing message data");
		op_finish(op, false);
		return;
	}
	op_write_next(op);
}

static void op_write_next(struct dbox_op *op)
{
	const char *error;
	int ret = 0;

	if (op->kind->write != NULL) {
		dbox_io_batch_init(&op->batch, op_written, op);
		ret = op->kind->write(op, op->stage++, &error);
	}
	if (ret < 0) {
		op_set_error(op);
		op_finish(op, false);
	} else if (ret > 0) {
		dbox_io_batch_close(op->storage->io, &op->batch);
	} else {
		op_acquire(op);
	}
}

void dbox_op_start(struct dbox_op *op, struct dbox_op **op_r)
{
	if (op_r != NULL)
		*op_r = op;
	op_write_next(op);
}

/* ---- synchronous wrappers -------------------------------------------------- */

int dbox_op_wait(struct dbox_op *op, const char **error_r)
{
	struct dbox_io *io = op->storage->io;

	while (!op->finished) {
		if (dbox_io_run_internal(io, -1) < 0) {
			/* called from a callback (EDEADLK): the op copied
			   its arguments, let it finish on its own */
			op->sync = false;
			op->abandoned = true;
			return dbox_fail(error_r, DBOX_ERROR_TEMP,
					 "storage call from a dbox-io callback: "
					 "%m");
		}
		if (!op->finished && !dbox_io_busy(io) &&
		    !dbox_io_has_internal(io)) {
			/* nothing could ever finish it: a bug, not a state
			   to wait in forever */
			dbox_log(DBOX_LOG_ERROR, "dbox: %s operation stalled",
				 op->kind->name);
			abort();
		}
	}
	if (op->ret < 0)
		return dbox_fail(error_r, op->err, "%s", op->error);
	return 0;
}
