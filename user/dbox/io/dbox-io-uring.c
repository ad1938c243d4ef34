// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The io_uring backend. A ring of our own, or the caller's (one ring per
 * process, dbox-io.h); the request pointer with DBOX_IO_UD_TAG set is the
 * SQE's user_data either way. Requests that do not fit (no free SQE, or as
 * many in flight as the completion queue holds) stay on io->queued and are
 * started as completions free room, so submitting never fails for lack of
 * space. On a shared ring the CQ is shared too: we count only our own
 * requests against it and leave the owner a quarter of it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <liburing.h>

#include "dbox-io-private.h"

/* io_uring's read/write length is 32-bit; split larger transfers. */
#define URING_MAX_CHUNK (1U << 30)

struct uring_state {
	struct io_uring own_ring;
	struct io_uring *ring;		/* &own_ring, or the caller's */
	unsigned int cq_entries;	/* how many of ours may be in flight */
};

/* Why setup failed; read once by dbox_io_create() right after the failure. */
static char uring_error[128];

static int uring_setup(struct uring_state *st, unsigned int depth)
{
	struct io_uring_params params;
	int ret;

	/* COOP_TASKRUN (5.19) avoids interrupting the task for completions;
	   older kernels refuse the flag with EINVAL, so retry without. */
	memset(&params, 0, sizeof(params));
	params.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_R_DISABLED;
	ret = io_uring_queue_init_params(depth, &st->own_ring, &params);
	if (ret == -EINVAL) {
		memset(&params, 0, sizeof(params));
		params.flags = IORING_SETUP_R_DISABLED;
		ret = io_uring_queue_init_params(depth, &st->own_ring, &params);
	}
	if (ret < 0)
		return ret;
	ret = dbox_io_restrict_ring(&st->own_ring, NULL, 0);
	if (ret < 0) {
		io_uring_queue_exit(&st->own_ring);
		return ret;
	}
	st->ring = &st->own_ring;
	st->cq_entries = params.cq_entries;
	return 0;
}

static int uring_probe_ops(struct uring_state *st)
{
	static const int needed[] = {
		IORING_OP_READ, IORING_OP_WRITE, IORING_OP_FSYNC
	};
	struct io_uring_probe *probe;
	unsigned int i;
	int ret = 0;

	probe = io_uring_get_probe_ring(st->ring);
	if (probe == NULL)
		return -EOPNOTSUPP;
	for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (!io_uring_opcode_supported(probe, needed[i]))
			ret = -EOPNOTSUPP;
	}
	io_uring_free_probe(probe);
	return ret;
}

static int uring_init(struct dbox_io *io, unsigned int depth,
		      const char **error_r)
{
	struct uring_state *st;
	int ret;

	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		*error_r = "out of memory";
		return -ENOMEM;
	}
	if (io->attach_ring != NULL) {
		st->ring = io->attach_ring;
		st->cq_entries = st->ring->cq.ring_entries * 3 / 4;
		ret = 0;
	} else {
		ret = uring_setup(st, depth);
	}
	if (ret < 0) {
		snprintf(uring_error, sizeof(uring_error),
			 "io_uring_queue_init: %s", strerror(-ret));
		goto err_free;
	}
	ret = uring_probe_ops(st);
	if (ret < 0) {
		snprintf(uring_error, sizeof(uring_error),
			 "io_uring lacks read/write/fsync opcodes");
		goto err_exit_ring;
	}
	io->backend = st;
	return 0;

err_exit_ring:
	if (st->ring == &st->own_ring)
		io_uring_queue_exit(&st->own_ring);
err_free:
	*error_r = uring_error;
	free(st);
	return ret;
}

static struct dbox_io_req *req_of(uint64_t user_data)
{
	return (struct dbox_io_req *)(uintptr_t)(user_data & ~DBOX_IO_UD_TAG);
}

static void foreign(struct dbox_io *io, struct io_uring_cqe *cqe)
{
	if (io->foreign_cqe != NULL)
		io->foreign_cqe(io->foreign_context, cqe->user_data, cqe->res,
				cqe->flags);
}

static void uring_deinit(struct dbox_io *io)
{
	struct uring_state *st = io->backend;
	struct io_uring_cqe *cqe;

	/* Requests in flight point into callers' buffers: wait for them
	   before going away, without calling their callbacks. */
	while (io->in_flight > 0) {
		if (io_uring_wait_cqe(st->ring, &cqe) < 0)
			break;
		if ((cqe->user_data & DBOX_IO_UD_TAG) != 0) {
			free(req_of(cqe->user_data));
			io->in_flight--;
		} else {
			foreign(io, cqe);
		}
		io_uring_cqe_seen(st->ring, cqe);
	}
	if (st->ring == &st->own_ring)
		io_uring_queue_exit(&st->own_ring);
	free(st);
	io->backend = NULL;
}

static void prep_sqe(struct io_uring_sqe *sqe, struct dbox_io_req *req)
{
	size_t chunk = req->len - req->done;

	if (chunk > URING_MAX_CHUNK)
		chunk = URING_MAX_CHUNK;
	if (req->delaying) {
		io_uring_prep_timeout(sqe, &req->delay_ts, 0, 0);
		io_uring_sqe_set_data64(sqe, (uintptr_t)req | DBOX_IO_UD_TAG);
		return;
	}
	switch (req->op) {
	case DBOX_IO_OP_READ:
		io_uring_prep_read(sqe, req->fd, req->buf + req->done,
				   (unsigned int)chunk, req->offset + req->done);
		break;
	case DBOX_IO_OP_WRITE:
		io_uring_prep_write(sqe, req->fd, req->buf + req->done,
				    (unsigned int)chunk,
				    req->offset + req->done);
		break;
	case DBOX_IO_OP_FSYNC:
		io_uring_prep_fsync(sqe, req->fd, 0);
		break;
	case DBOX_IO_OP_FDATASYNC:
		io_uring_prep_fsync(sqe, req->fd, IORING_FSYNC_DATASYNC);
		break;
	case DBOX_IO_OP_NOP:
		/* completed by the core at submit, never queued */
		io_uring_prep_nop(sqe);
		break;
	}
	io_uring_sqe_set_data64(sqe, (uintptr_t)req | DBOX_IO_UD_TAG);
}

/* Move queued requests into free SQEs; returns how many were prepared. */
static unsigned int uring_fill(struct dbox_io *io, struct uring_state *st)
{
	struct io_uring_sqe *sqe;
	unsigned int count = 0;

	while (io->queued.count > 0 && io->in_flight < st->cq_entries) {
		sqe = io_uring_get_sqe(st->ring);
		if (sqe == NULL)
			break;
		prep_sqe(sqe, dbox_io_req_list_pop(&io->queued));
		io->in_flight++;
		count++;
	}
	return count;
}

static unsigned int test_delay_msecs(const struct dbox_io *io,
				     const struct dbox_io_req *req)
{
	switch (req->op) {
	case DBOX_IO_OP_FSYNC:
	case DBOX_IO_OP_FDATASYNC:
		return io->fsync_delay_msecs;
	case DBOX_IO_OP_READ:
		return io->read_delay_msecs;
	default:
		return 0;
	}
}

/* DBOX_TEST_{FSYNC,READ}_DELAY_MS: keep the result and queue a timeout
   that hands it back later. Returns true if the request was delayed. */
static bool test_delay(struct dbox_io *io, struct dbox_io_req *req, int res)
{
	unsigned int msecs = test_delay_msecs(io, req);

	if (msecs == 0 || req->delayed)
		return false;
	req->delaying = req->delayed = true;
	req->result = res;
	req->delay_ts.tv_sec = msecs / 1000;
	req->delay_ts.tv_nsec = (long long)(msecs % 1000) * 1000000;
	dbox_io_req_list_append(&io->queued, req);
	return true;
}

/* A completion: finish the request or queue the rest of a short transfer. */
static void uring_handle(struct dbox_io *io, struct dbox_io_req *req, int res)
{
	if (req->delaying) {
		/* the timeout (-ETIME) of a delayed request: handle the
		   result it held as if it had just arrived */
		req->delaying = false;
		res = (int)req->result;
	} else if (test_delay(io, req, res)) {
		return;
	}
	if (res == -EINTR || res == -EAGAIN) {
		dbox_io_req_list_append(&io->queued, req);
		return;
	}
	if (req->op == DBOX_IO_OP_FSYNC || req->op == DBOX_IO_OP_FDATASYNC ||
	    res < 0) {
		dbox_io_req_complete(io, req, res);
		return;
	}
	if (res == 0) {
		/* end of file on read; no progress on write */
		dbox_io_req_complete(io, req, req->op == DBOX_IO_OP_READ ?
				     (int64_t)req->done : -EIO);
		return;
	}
	req->done += (size_t)res;
	if (req->done < req->len)
		dbox_io_req_list_append(&io->queued, req);
	else
		dbox_io_req_complete(io, req, (int64_t)req->done);
}

void dbox_io_uring_cqe(struct dbox_io *io, uint64_t user_data, int32_t res)
{
	io->in_flight--;
	uring_handle(io, req_of(user_data), res);
}

/* Returns how many of our requests completed (the owner's, on a shared
   ring, are handed over and not counted). */
static unsigned int uring_reap(struct dbox_io *io, struct uring_state *st)
{
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0, count = 0;

	io_uring_for_each_cqe(st->ring, head, cqe) {
		seen++;
		if ((cqe->user_data & DBOX_IO_UD_TAG) == 0) {
			foreign(io, cqe);
			continue;
		}
		dbox_io_uring_cqe(io, cqe->user_data, cqe->res);
		count++;
	}
	io_uring_cq_advance(st->ring, seen);
	return count;
}

static int uring_submit_wait(struct uring_state *st, int timeout_msecs)
{
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts;
	int ret;

	if (timeout_msecs == 0)
		ret = io_uring_submit(st->ring);
	else if (timeout_msecs < 0)
		ret = io_uring_submit_and_wait(st->ring, 1);
	else {
		ts.tv_sec = timeout_msecs / 1000;
		ts.tv_nsec = (long long)(timeout_msecs % 1000) * 1000000;
		ret = io_uring_submit_and_wait_timeout(st->ring, &cqe, 1,
						       &ts, NULL);
	}
	if (ret == -ETIME || ret == -EINTR || ret == -EBUSY)
		return 0;
	return ret < 0 ? ret : 0;
}

static int uring_process(struct dbox_io *io, int timeout_msecs)
{
	struct uring_state *st = io->backend;
	int ret;

	uring_fill(io, st);
	ret = uring_submit_wait(st, io->in_flight > 0 ? timeout_msecs : 0);
	if (ret < 0)
		return ret;
	/* keep reaping while short transfers are resubmitted and nothing
	   completed for good yet, so a wait (-1) returns with a result */
	while (uring_reap(io, st) > 0 && io->done.count == 0 &&
	       io->queued.count > 0) {
		uring_fill(io, st);
		ret = uring_submit_wait(st, timeout_msecs);
		if (ret < 0)
			return ret;
	}
	/* start whatever the completions made room for */
	if (uring_fill(io, st) > 0) {
		ret = io_uring_submit(st->ring);
		if (ret < 0 && ret != -EBUSY && ret != -EINTR)
			return ret;
	}
	return 0;
}

static int uring_get_fd(const struct dbox_io *io)
{
	const struct uring_state *st = io->backend;

	/* a caller's ring is watched by the caller */
	return st->ring == &st->own_ring ? st->ring->ring_fd : -1;
}

const struct dbox_io_backend_ops dbox_io_uring_ops = {
	.backend = DBOX_IO_BACKEND_URING,
	.init = uring_init,
	.deinit = uring_deinit,
	.process = uring_process,
	.get_fd = uring_get_fd,
};
