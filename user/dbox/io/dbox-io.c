// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The I/O core: backend selection, request pool, the run loop that calls
 * callbacks, and request groups used by the synchronous storage calls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbox-io-private.h"
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
				 "(queue depth %u)", depth);
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

void dbox_io_req_complete(struct dbox_io *io, struct dbox_io_req *req,
			  int64_t result)
{
	req->result = result;
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

static void submit(struct dbox_io *io, enum dbox_io_op op, int fd, void *buf,
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
	dbox_io_req_list_append(&io->queued, req);
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

static void group_done(struct dbox_io_req *req)
{
	struct dbox_io_group *group = req->group;

	group->pending--;
	if (req->result < 0) {
		if (group->error == 0)
			group->error = (int)req->result;
	} else if (req->op == DBOX_IO_OP_READ &&
		   (uint64_t)req->result < req->len) {
		group->short_count++;
	}
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
		if (req->group != NULL)
			group_done(req);
		else
			req->cb(req->context, req->result);
		req->next = io->free_list;
		io->free_list = req;
		count++;
	}
	io->in_callbacks = false;
	return count;
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
	while (group->pending > 0) {
		if (dbox_io_run(io, -1) < 0) {
			/* Requests still point at the caller's buffers, which
			   are about to be freed: going on would let the kernel
			   write into freed memory. Only misuse (a wait from a
			   callback, EDEADLK) or a broken ring gets here. */
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
