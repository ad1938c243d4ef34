// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The io_uring backend of the event loop: one ring per process, a one-shot
 * POLL_ADD per watched descriptor, armed again as its completion is
 * dispatched. The request context (struct loop_poll) is what user_data
 * carries; an io that is removed or changes its events cancels its request
 * and detaches it (req->io = NULL), and the request is freed when its
 * completion arrives, so a late completion never reaches freed memory.
 *
 * Not multishot: POLL_REMOVE fails with EALREADY when it meets a request
 * whose wake-up is queued but not yet run (with deferred task work: the
 * peer wrote just before we removed the watch), and a multishot request
 * then stays armed for good, holding a reference to a file we closed. For
 * a connection that means no FIN after LOGOUT for as long as the worker
 * lives. A one-shot request ends with that very wake-up instead.
 *
 * The ring is shared with the storage (dboxd_loop_share_uring): its
 * requests have the low bit of user_data set (our loop_poll pointers never
 * do), their completions go to its callback; ours that the storage reaped
 * while it waited come back through foreign_cqe and wait in `pending`
 * until the next round.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <liburing.h>

#include "log.h"
#include "loop-private.h"
#include "io/dbox-io.h"

#define URING_ENTRIES	256
#define URING_BATCH	64
/* user_data of requests whose completion we ignore (poll removal). */
#define URING_UD_IGNORE	0

struct loop_poll {
	struct dboxd_io *io;	/* NULL once cancelled */
};

struct uring_done {
	struct loop_poll *req;
	int res;
	unsigned int flags;
};

struct loop_uring {
	struct io_uring ring;
	char setup_note[64];
	/* the ring's other user */
	dboxd_loop_cqe_cb_t *share_cb;
	void *share_context;
	/* our completions the other user reaped */
	struct uring_done *pending;
	unsigned int pending_count, pending_size;
};

/* The loop's own operations; the storage's (file I/O) are added by
   dbox_io_restrict_ring(), which refuses every other request. io_uring
   requests are not system calls, so the worker's seccomp filter never sees
   them: without the restriction a hijacked process could openat, connect or
   socket through its ring. */
static const uint8_t uring_loop_ops[] = {
	IORING_OP_POLL_ADD, IORING_OP_POLL_REMOVE,
};

static int uring_try_init(struct loop_uring *u, unsigned int flags)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = flags | IORING_SETUP_R_DISABLED;
	ret = io_uring_queue_init_params(URING_ENTRIES, &u->ring, &p);
	if (ret < 0)
		return ret;
	ret = dbox_io_restrict_ring(&u->ring, uring_loop_ops,
				    sizeof(uring_loop_ops));
	if (ret < 0) {
		io_uring_queue_exit(&u->ring);
		/* Not EINVAL: that would make the caller retry with fewer
		   setup flags, which cannot help. */
		return ret == -EINVAL ? -EOPNOTSUPP : ret;
	}
	return 0;
}

static int uring_init(struct dboxd_loop *loop, const char **error_r)
{
	static char error[128];
	struct loop_uring *u = calloc(1, sizeof(*u));
	int ret;

	if (u == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	/* The cheapest setup first (6.1+); older kernels refuse the flags
	   with EINVAL, and we try again with fewer. */
	ret = uring_try_init(u, IORING_SETUP_SINGLE_ISSUER |
				IORING_SETUP_DEFER_TASKRUN);
	if (ret == -EINVAL)
		ret = uring_try_init(u, IORING_SETUP_COOP_TASKRUN);
	if (ret == -EINVAL)
		ret = uring_try_init(u, 0);
	if (ret < 0) {
		snprintf(error, sizeof(error), "io_uring_queue_init: %s%s",
			 strerror(-ret),
			 ret == -EPERM ? " (kernel.io_uring_disabled or seccomp)" :
			 ret == -ENOSYS ? " (kernel without io_uring)" : "");
		*error_r = error;
		free(u);
		return -1;
	}
	if ((u->ring.features & IORING_FEAT_EXT_ARG) == 0 ||
	    (u->ring.features & IORING_FEAT_FAST_POLL) == 0) {
		/* Timed waits and fast poll need 5.11+; such a kernel gets
		   epoll rather than a half-working ring. */
		io_uring_queue_exit(&u->ring);
		free(u);
		*error_r = "io_uring lacks EXT_ARG/FAST_POLL (kernel older than 5.11)";
		return -1;
	}
	loop->backend = u;
	return 0;
}

static void uring_deinit(struct dboxd_loop *loop)
{
	struct loop_uring *u = loop->backend;

	/* Outstanding loop_poll structs die with the ring: their io's are
	   gone already, and no completion will be read any more. */
	io_uring_queue_exit(&u->ring);
	free(u->pending);
	free(u);
}

static struct io_uring_sqe *uring_sqe(struct loop_uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (sqe == NULL) {
		/* SQ full: push what is queued to the kernel and retry. */
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
		if (sqe == NULL)
			dboxd_fatal("io_uring: no submission entry");
	}
	return sqe;
}

static unsigned int uring_poll_mask(unsigned int events)
{
	unsigned int mask = 0;

	if (events & DBOXD_IO_READ)
		mask |= POLLIN | POLLRDHUP;
	if (events & DBOXD_IO_WRITE)
		mask |= POLLOUT;
	return mask;
}

static void uring_arm(struct dboxd_io *io)
{
	struct loop_uring *u = io->loop->backend;
	struct loop_poll *req;
	struct io_uring_sqe *sqe;

	if (io->events == 0)
		return;
	req = malloc(sizeof(*req));
	if (req == NULL)
		dboxd_fatal("out of memory");
	req->io = io;
	sqe = uring_sqe(u);
	io_uring_prep_poll_add(sqe, io->fd, uring_poll_mask(io->events));
	io_uring_sqe_set_data(sqe, req);
	io->backend_req = req;
}

static void uring_disarm(struct dboxd_io *io)
{
	struct loop_uring *u = io->loop->backend;
	struct loop_poll *req = io->backend_req;
	struct io_uring_sqe *sqe;

	if (req == NULL)
		return;
	io->backend_req = NULL;
	req->io = NULL;
	sqe = uring_sqe(u);
	io_uring_prep_poll_remove(sqe, (__u64)(uintptr_t)req);
	io_uring_sqe_set_data64(sqe, URING_UD_IGNORE);
}

static int uring_io_add(struct dboxd_io *io)
{
	uring_arm(io);
	return 0;
}

static void uring_io_update(struct dboxd_io *io,
			    unsigned int old_events __attribute__((unused)))
{
	/* A new request also re-checks readiness at once, which is what
	   the readiness contract in loop.h promises. */
	uring_disarm(io);
	uring_arm(io);
}

static void uring_io_remove(struct dboxd_io *io)
{
	uring_disarm(io);
}

static void uring_dispatch(struct uring_done *d)
{
	struct loop_poll *req = d->req;
	struct dboxd_io *io = req->io;
	unsigned int ev = 0;

	if (io != NULL) {
		if (d->res < 0) {
			ev = d->res == -ECANCELED ? 0 : DBOXD_IO_ERROR;
		} else {
			if (d->res & (POLLIN | POLLRDHUP))
				ev |= DBOXD_IO_READ;
			if (d->res & POLLOUT)
				ev |= DBOXD_IO_WRITE;
			if (d->res & (POLLERR | POLLHUP | POLLNVAL))
				ev |= DBOXD_IO_ERROR;
		}
	}
	if ((d->flags & IORING_CQE_F_MORE) == 0) {
		/* The request ended (one-shot). If it was still the io's
		   current one, arm the next before the callback runs: the
		   callback may change or remove it, and a descriptor still
		   ready is reported again at once (level-triggered). */
		if (io != NULL && io->backend_req == req) {
			io->backend_req = NULL;
			uring_arm(io);
		}
		free(req);
	}
	if (io != NULL && ev != 0)
		dboxd_loop_io_ready(io, ev);
}

/* Dispatch what the storage reaped for us, in the order it came. The
   callbacks may make the storage reap again (a synchronous storage call),
   appending more: take the list first. */
static void uring_run_pending(struct loop_uring *u)
{
	struct uring_done *list = u->pending;
	unsigned int count = u->pending_count;

	if (count == 0)
		return;
	u->pending = NULL;
	u->pending_count = u->pending_size = 0;
	for (unsigned int i = 0; i < count; i++)
		uring_dispatch(&list[i]);
	free(list);
}

static int uring_wait(struct dboxd_loop *loop, int timeout_msecs)
{
	struct loop_uring *u = loop->backend;
	struct __kernel_timespec ts, *tsp = NULL;
	struct uring_done done[URING_BATCH];
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;
	int ret;

	/* completions the storage reaped for us: no sleeping before them */
	if (u->pending_count > 0)
		timeout_msecs = 0;
	if (timeout_msecs >= 0) {
		ts.tv_sec = timeout_msecs / 1000;
		ts.tv_nsec = (long long)(timeout_msecs % 1000) * 1000000;
		tsp = &ts;
	}
	ret = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, tsp, NULL);
	if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN &&
	    ret != -EBUSY) {
		errno = -ret;
		return -1;
	}
	uring_run_pending(u);
	/* Copy the batch out before running callbacks, which submit. */
	io_uring_for_each_cqe(&u->ring, head, cqe) {
		if (n == URING_BATCH)
			break;
		if ((cqe->user_data & DBOXD_LOOP_UD_FOREIGN) != 0) {
			/* the storage's: it only notes it, runs nothing */
			u->share_cb(u->share_context, cqe->user_data, cqe->res);
		} else if (cqe->user_data != URING_UD_IGNORE) {
			done[n].req = io_uring_cqe_get_data(cqe);
			done[n].res = cqe->res;
			done[n].flags = cqe->flags;
			n++;
		}
		io_uring_cq_advance(&u->ring, 1);
	}
	for (unsigned int i = 0; i < n; i++)
		uring_dispatch(&done[i]);
	/* Submit re-arms and removals made by the callbacks now rather than
	   at the next wait. */
	io_uring_submit(&u->ring);
	return 0;
}

static struct io_uring *uring_share(struct dboxd_loop *loop,
				    dboxd_loop_cqe_cb_t *cb, void *context)
{
	struct loop_uring *u = loop->backend;

	u->share_cb = cb;
	u->share_context = context;
	return cb == NULL ? NULL : &u->ring;
}

static void uring_foreign_cqe(struct dboxd_loop *loop, uint64_t user_data,
			      int32_t res, uint32_t flags)
{
	struct loop_uring *u = loop->backend;
	struct uring_done *d;

	if (user_data == URING_UD_IGNORE)
		return;
	if (u->pending_count == u->pending_size) {
		u->pending_size = u->pending_size == 0 ? 16 :
				  u->pending_size * 2;
		u->pending = realloc(u->pending,
				     u->pending_size * sizeof(*u->pending));
		if (u->pending == NULL)
			dboxd_fatal("out of memory");
	}
	d = &u->pending[u->pending_count++];
	d->req = (struct loop_poll *)(uintptr_t)user_data;
	d->res = res;
	d->flags = flags;
}

const struct loop_backend_ops dboxd_loop_uring_ops = {
	.backend = DBOXD_LOOP_URING,
	.init = uring_init,
	.deinit = uring_deinit,
	.io_add = uring_io_add,
	.io_update = uring_io_update,
	.io_remove = uring_io_remove,
	.wait = uring_wait,
	.share = uring_share,
	.foreign_cqe = uring_foreign_cqe,
};
