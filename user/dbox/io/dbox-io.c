// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The I/O core: backend selection, request pool, the run loop that calls
 * callbacks, request groups used by the synchronous storage calls, and the
 * storage's internal batches and deferred steps (dbox-io-internal.h).
 *
 * Three kinds of completion, and where each may run:
 *   group     accounted the moment the backend finishes it; no code runs,
 *             so dbox_io_group_wait() is safe anywhere, callbacks included;
 *   internal  the storage's own steps (batches, deferred steps): run by
 *             dbox_io_run() and by dbox_io_run_internal(), which the
 *             storage's synchronous calls use to wait without running any
 *             caller's callback;
 *   external  the caller's callbacks: run only by dbox_io_run().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbox-io-private.h"
#include "dbox-io-internal.h"
#include "../dbox-log.h"

#define DBOX_IO_DEFAULT_DEPTH 256

const char *dbox_io_backend_name(enum dbox_io_backend backend)
{
	switch (backend) {
	case DBOX_IO_BACKEND_AUTO:
		return "auto";
	case DBOX_IO_BACKEND_URING:
		return "io_uring";
	case DBOX_IO_BACKEND_SYNC:
		return "sync";
	}
	return "unknown";
}

static int backend_from_env(enum dbox_io_backend *backend_r,
			    const char **error_r)
{
	const char *env = getenv("DBOX_IO_BACKEND");

	if (env == NULL || *env == '\0' || strcmp(env, "auto") == 0)
		return 0;
	if (strcmp(env, "uring") == 0 || strcmp(env, "io_uring") == 0)
		*backend_r = DBOX_IO_BACKEND_URING;
	else if (strcmp(env, "sync") == 0)
		*backend_r = DBOX_IO_BACKEND_SYNC;
	else {
		*error_r = "DBOX_IO_BACKEND must be uring, sync or auto";
		return -1;
	}
	return 0;
}

/* Test knobs (docs/dbox.md): with io_uring, every fsync (or read)
   completes only after this many more milliseconds, by a timeout request
   on the ring, so a test can prove that nothing waits for an fsync (or a
   read) on the event loop. They only delay, never change a result; absent
   in production configs. */
static unsigned int test_delay_from_env(const char *name, const char *what)
{
	const char *env = getenv(name);
	unsigned long ms;
	char *end;

	if (env == NULL || *env == '\0')
		return 0;
	ms = strtoul(env, &end, 10);
	if (*end != '\0' || ms > 60000)
		return 0;
	if (ms > 0)
		dbox_log(DBOX_LOG_WARNING, "dbox-io: %s=%lu (test knob) delays "
			 "every io_uring %s", name, ms, what);
	return (unsigned int)ms;
}

static int io_init_backend(struct dbox_io *io, enum dbox_io_backend want,
			   unsigned int depth, const char **error_r)
{
	const char *uring_error = NULL;
	int ret;

	if (want != DBOX_IO_BACKEND_SYNC) {
		io->ops = &dbox_io_uring_ops;
		ret = io->ops->init(io, depth, &uring_error);
		if (ret == 0) {
			dbox_log(DBOX_LOG_DEBUG, "dbox-io: using io_uring "
				 "(%s)", io->attach_ring != NULL ?
				 "the caller's ring" : "a ring of its own");
			return 0;
		}
		if (want == DBOX_IO_BACKEND_URING) {
			*error_r = uring_error;
			return -1;
		}
		io->fallback_reason = strdup(uring_error);
		dbox_log(DBOX_LOG_INFO, "dbox-io: io_uring unavailable (%s), "
			 "falling back to synchronous I/O", uring_error);
	}
	io->ops = &dbox_io_sync_ops;
	return io->ops->init(io, depth, error_r) < 0 ? -1 : 0;
}

int dbox_io_create(const struct dbox_io_settings *set, struct dbox_io **io_r,
		   const char **error_r)
{
	return dbox_io_create_on_ring(set, NULL, io_r, error_r);
}

int dbox_io_create_on_ring(const struct dbox_io_settings *set,
			   const struct dbox_io_ring *ring,
			   struct dbox_io **io_r, const char **error_r)
{
	enum dbox_io_backend want = set == NULL ? DBOX_IO_BACKEND_AUTO :
		set->backend;
	unsigned int depth = set == NULL || set->queue_depth == 0 ?
		DBOX_IO_DEFAULT_DEPTH : set->queue_depth;
	struct dbox_io *io;

	if (want == DBOX_IO_BACKEND_AUTO && (set == NULL || !set->ignore_env) &&
	    backend_from_env(&want, error_r) < 0)
		return -1;

	io = calloc(1, sizeof(*io));
	if (io == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	io->fsync_delay_msecs = test_delay_from_env("DBOX_TEST_FSYNC_DELAY_MS",
						    "fsync");
	io->read_delay_msecs = test_delay_from_env("DBOX_TEST_READ_DELAY_MS",
						   "read");
	if (ring != NULL && ring->ring != NULL) {
		io->attach_ring = ring->ring;
		io->foreign_cqe = ring->foreign_cqe;
		io->foreign_context = ring->foreign_context;
	}
	if (io_init_backend(io, want, depth, error_r) < 0) {
		free(io->fallback_reason);
		free(io);
		return -1;
	}
	*io_r = io;
	return 0;
}

void dbox_io_destroy(struct dbox_io **_io)
{
	struct dbox_io *io = *_io;
	struct dbox_io_req *req;

	if (io == NULL)
		return;
	*_io = NULL;
	io->ops->deinit(io);
	while ((req = dbox_io_req_list_pop(&io->queued)) != NULL)
		free(req);
	while ((req = dbox_io_req_list_pop(&io->done)) != NULL)
		free(req);
	while ((req = io->free_list) != NULL) {
		io->free_list = req->next;
		free(req);
	}
	free(io->fallback_reason);
	free(io);
}

enum dbox_io_backend dbox_io_get_backend(const struct dbox_io *io)
{
	return io->ops->backend;
}

const char *dbox_io_get_fallback_reason(const struct dbox_io *io)
{
	return io->fallback_reason;
}

int dbox_io_get_fd(const struct dbox_io *io)
{
	return io->ops->get_fd(io);
}

unsigned int dbox_io_pending(const struct dbox_io *io)
{
	return io->queued.count + io->in_flight + io->done.count;
}

bool dbox_io_has_ready(const struct dbox_io *io)
{
	return io->queued.count > 0 || io->done.count > 0;
}

void dbox_io_req_list_append(struct dbox_io_req_list *list,
			     struct dbox_io_req *req)
{
	req->next = NULL;
	if (list->tail == NULL)
		list->head = req;
	else
		list->tail->next = req;
	list->tail = req;
	list->count++;
}

struct dbox_io_req *dbox_io_req_list_pop(struct dbox_io_req_list *list)
{
	struct dbox_io_req *req = list->head;

	if (req == NULL)
		return NULL;
	list->head = req->next;
	if (list->head == NULL)
		list->tail = NULL;
	list->count--;
	req->next = NULL;
	return req;
}

static void req_put(struct dbox_io *io, struct dbox_io_req *req)
{
	req->next = io->free_list;
	io->free_list = req;
}

static void group_done(struct dbox_io_req *req)
{
	struct dbox_io_group *group = req->group;

	group->pending--;
	if (req->result > 0)
		group->bytes += (uint64_t)req->result;
	if (req->result < 0) {
		if (group->error == 0)
			group->error = (int)req->result;
	} else if (req->op == DBOX_IO_OP_READ &&
		   (uint64_t)req->result < req->len) {
		group->short_count++;
	}
}

void dbox_io_req_complete(struct dbox_io *io, struct dbox_io_req *req,
			  int64_t result)
{
	req->result = result;
	if (req->group != NULL) {
		/* no code to run: account now, so a group wait never has to
		   run anybody's callback (and works inside one) */
		group_done(req);
		req_put(io, req);
		return;
	}
	dbox_io_req_list_append(&io->done, req);
}

static struct dbox_io_req *req_alloc(struct dbox_io *io)
{
	struct dbox_io_req *req = io->free_list;

	if (req != NULL) {
		io->free_list = req->next;
		memset(req, 0, sizeof(*req));
		return req;
	}
	/* Out of memory here has no error path the caller could use;
	   running on without the request would lose a write silently. */
	req = calloc(1, sizeof(*req));
	if (req == NULL) {
		dbox_log(DBOX_LOG_ERROR, "dbox-io: out of memory");
		abort();
	}
	return req;
}

static struct dbox_io_req *
submit(struct dbox_io *io, enum dbox_io_op op, int fd, void *buf,
       size_t len, uint64_t offset, dbox_io_callback_t *cb,
       void *context, struct dbox_io_group *group)
{
	struct dbox_io_req *req = req_alloc(io);

	req->op = op;
	req->fd = fd;
	req->buf = buf;
	req->len = len;
	req->offset = offset;
	req->cb = cb;
	req->context = context;
	req->group = group;
	if (group != NULL)
		group->pending++;
	if (op == DBOX_IO_OP_NOP)
		dbox_io_req_complete(io, req, 0);
	else
		dbox_io_req_list_append(&io->queued, req);
	return req;
}

void dbox_io_read(struct dbox_io *io, int fd, void *buf, size_t len,
		  uint64_t offset, dbox_io_callback_t *cb, void *context)
{
	submit(io, DBOX_IO_OP_READ, fd, buf, len, offset, cb, context, NULL);
}

void dbox_io_write(struct dbox_io *io, int fd, const void *buf, size_t len,
		   uint64_t offset, dbox_io_callback_t *cb, void *context)
{
	/* the buffer is only read; the request struct is shared with reads */
	submit(io, DBOX_IO_OP_WRITE, fd, (void *)buf, len, offset, cb, context,
	       NULL);
}

void dbox_io_fsync(struct dbox_io *io, int fd, bool datasync,
		   dbox_io_callback_t *cb, void *context)
{
	submit(io, datasync ? DBOX_IO_OP_FDATASYNC : DBOX_IO_OP_FSYNC, fd,
	       NULL, 0, 0, cb, context, NULL);
}


static void run_one(struct dbox_io *io, struct dbox_io_req *req)
{
	req->cb(req->context, req->result);
	req_put(io, req);
}

int dbox_io_run(struct dbox_io *io, int timeout_msecs)
{
	struct dbox_io_req *req;
	int ret, count = 0;

	if (io->in_callbacks) {
		errno = EDEADLK;
		return -1;
	}
	if (io->done.count == 0 && (io->queued.count > 0 || io->in_flight > 0)) {
		ret = io->ops->process(io, timeout_msecs);
		if (ret < 0) {
			errno = -ret;
			return -1;
		}
	}
	io->in_callbacks = true;
	while ((req = dbox_io_req_list_pop(&io->done)) != NULL) {
		run_one(io, req);
		count++;
	}
	io->in_callbacks = false;
	return count;
}

static bool has_internal_done(const struct dbox_io *io)
{
	const struct dbox_io_req *req;

	for (req = io->done.head; req != NULL; req = req->next) {
		if (req->internal)
			return true;
	}
	return false;
}

int dbox_io_run_internal(struct dbox_io *io, int timeout_msecs)
{
	struct dbox_io_req_list keep = { NULL, NULL, 0 };
	struct dbox_io_req *req;
	unsigned int n;
	int ret, count = 0;

	if (io->in_callbacks) {
		errno = EDEADLK;
		return -1;
	}
	if (!has_internal_done(io) &&
	    (io->queued.count > 0 || io->in_flight > 0)) {
		ret = io->ops->process(io, timeout_msecs);
		if (ret < 0) {
			errno = -ret;
			return -1;
		}
	}
	/* one pass over what is done now; the caller's callbacks stay, in
	   order, ahead of whatever the internal steps add */
	io->in_callbacks = true;
	for (n = io->done.count; n > 0; n--) {
		req = dbox_io_req_list_pop(&io->done);
		if (!req->internal) {
			dbox_io_req_list_append(&keep, req);
			continue;
		}
		run_one(io, req);
		count++;
	}
	io->in_callbacks = false;
	if (keep.count > 0) {
		keep.tail->next = io->done.head;
		if (io->done.tail == NULL)
			io->done.tail = keep.tail;
		io->done.head = keep.head;
		io->done.count += keep.count;
	}
	return count;
}

bool dbox_io_in_callback(const struct dbox_io *io)
{
	return io->in_callbacks;
}

bool dbox_io_busy(const struct dbox_io *io)
{
	return io->queued.count > 0 || io->in_flight > 0;
}

bool dbox_io_has_internal(const struct dbox_io *io)
{
	return has_internal_done(io);
}

void dbox_io_defer(struct dbox_io *io, bool internal, dbox_io_callback_t *cb,
		   void *context)
{
	struct dbox_io_req *req;

	req = submit(io, DBOX_IO_OP_NOP, -1, NULL, 0, 0, cb, context, NULL);
	req->internal = internal;
}

/* ---- batches ------------------------------------------------------------ */

static void batch_finish(void *context, int64_t result ATTR_UNUSED_IO)
{
	struct dbox_io_batch *batch = context;

	batch->done_cb(batch->context, batch->error);
}

static void batch_req_done(void *context, int64_t result)
{
	struct dbox_io_batch *batch = context;

	batch->pending--;
	if (result < 0 && batch->error == 0)
		batch->error = (int)result;
	if (batch->pending == 0 && batch->closed)
		batch->done_cb(batch->context, batch->error);
}

void dbox_io_batch_init(struct dbox_io_batch *batch,
			dbox_io_batch_callback_t *cb, void *context)
{
	memset(batch, 0, sizeof(*batch));
	batch->done_cb = cb;
	batch->context = context;
}

static void batch_submit(struct dbox_io *io, struct dbox_io_batch *batch,
			 enum dbox_io_op op, int fd, void *buf, size_t len,
			 uint64_t offset)
{
	struct dbox_io_req *req;

	batch->pending++;
	req = submit(io, op, fd, buf, len, offset, batch_req_done, batch,
		     NULL);
	req->internal = true;
}

void dbox_io_batch_write(struct dbox_io *io, struct dbox_io_batch *batch,
			 int fd, const void *buf, size_t len, uint64_t offset)
{
	batch_submit(io, batch, DBOX_IO_OP_WRITE, fd, (void *)buf, len, offset);
}

void dbox_io_batch_fsync(struct dbox_io *io, struct dbox_io_batch *batch,
			 int fd, bool datasync)
{
	batch_submit(io, batch, datasync ? DBOX_IO_OP_FDATASYNC :
		     DBOX_IO_OP_FSYNC, fd, NULL, 0, 0);
}

void dbox_io_batch_close(struct dbox_io *io, struct dbox_io_batch *batch)
{
	batch->closed = true;
	if (batch->pending == 0)
		dbox_io_defer(io, true, batch_finish, batch);
}

void dbox_io_group_init(struct dbox_io_group *group)
{
	memset(group, 0, sizeof(*group));
}

void dbox_io_group_cb(void *context, int64_t result)
{
	struct dbox_io_group *group = context;

	group->pending--;
	if (result < 0 && group->error == 0)
		group->error = (int)result;
}

void dbox_io_group_read(struct dbox_io *io, struct dbox_io_group *group,
			int fd, void *buf, size_t len, uint64_t offset)
{
	submit(io, DBOX_IO_OP_READ, fd, buf, len, offset, NULL, NULL, group);
}

void dbox_io_group_write(struct dbox_io *io, struct dbox_io_group *group,
			 int fd, const void *buf, size_t len, uint64_t offset)
{
	submit(io, DBOX_IO_OP_WRITE, fd, (void *)buf, len, offset, NULL, NULL,
	       group);
}

void dbox_io_group_fsync(struct dbox_io *io, struct dbox_io_group *group,
			 int fd, bool datasync)
{
	submit(io, datasync ? DBOX_IO_OP_FDATASYNC : DBOX_IO_OP_FSYNC, fd,
	       NULL, 0, 0, NULL, NULL, group);
}

int dbox_io_group_wait(struct dbox_io *io, struct dbox_io_group *group)
{
	int ret;

	/* Group requests are accounted as the backend finishes them, so
	   waiting is running the backend only: no callback runs here, and
	   this is allowed inside one (it blocks the loop meanwhile: only the
	   synchronous API and rare recovery paths wait like this). */
	while (group->pending > 0) {
		ret = io->ops->process(io, -1);
		if (ret < 0) {
			/* Requests still point at the caller's buffers, which
			   are about to be freed: going on would let the kernel
			   write into freed memory. Only a broken ring gets
			   here. */
			errno = -ret;
			dbox_log(DBOX_LOG_ERROR, "dbox-io: loop failed with "
				 "requests in flight: %m");
			abort();
		}
	}
	if (group->error != 0) {
		errno = -group->error;
		return -1;
	}
	return 0;
}
