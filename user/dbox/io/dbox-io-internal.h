/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the storage itself needs from dbox-io beyond the public interface:
 * batches of requests with one completion, deferred steps, and a way for
 * the storage's synchronous calls to wait for its own steps without running
 * any caller's callback.
 *
 * An asynchronous storage operation is a chain of internal steps (each a
 * batch of writes/fsyncs, or a deferred step), and ends with one external
 * completion: the caller's callback. Internal steps never call the caller.
 */
#ifndef DBOX_IO_INTERNAL_H
#define DBOX_IO_INTERNAL_H

#include "dbox-io.h"

/* error: 0, or the first -errno of the batch. */
typedef void dbox_io_batch_callback_t(void *context, int error);

/*
 * Requests submitted together whose completion is one internal step: the
 * callback runs once all of them completed and dbox_io_batch_close() was
 * called (from a later dbox_io_run(), never from the submit or close
 * call). The batch must stay in place until then.
 */
struct dbox_io_batch {
	unsigned int pending;
	int error;
	bool closed;
	dbox_io_batch_callback_t *done_cb;
	void *context;
};
void dbox_io_batch_init(struct dbox_io_batch *batch,
			dbox_io_batch_callback_t *cb, void *context);
void dbox_io_batch_write(struct dbox_io *io, struct dbox_io_batch *batch,
			 int fd, const void *buf, size_t len, uint64_t offset);
void dbox_io_batch_fsync(struct dbox_io *io, struct dbox_io_batch *batch,
			 int fd, bool datasync);
void dbox_io_batch_close(struct dbox_io *io, struct dbox_io_batch *batch);

/* Run cb(context, 0) from a later dbox_io_run() (or, when internal, also
   dbox_io_run_internal()). */
void dbox_io_defer(struct dbox_io *io, bool internal, dbox_io_callback_t *cb,
		   void *context);

/* Like dbox_io_run(), but runs internal completions only; the caller's
   callbacks stay queued for its next dbox_io_run(). EDEADLK inside a
   callback. */
int dbox_io_run_internal(struct dbox_io *io, int timeout_msecs);
bool dbox_io_in_callback(const struct dbox_io *io);
/* Requests queued or in flight (completions may still come). */
bool dbox_io_busy(const struct dbox_io *io);
/* Internal completions waiting to run. */
bool dbox_io_has_internal(const struct dbox_io *io);

#endif
