// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the event loop, once per backend: readiness, changing and
   removing watches from callbacks, timers in order; the uring backend's
   ring carries only the operations it was built for. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop.h"
#include "test-tap.h"

struct ctx {
	struct dboxd_loop *loop;
	struct dboxd_io *io;
	int fd;
	int reads, writes;
	int order[4], norder;
	struct dboxd_timer *t[3];
};

static void read_cb(void *context, unsigned int events)
{
	struct ctx *ctx = context;
	char buf[64];

	if (events & DBOXD_IO_READ) {
		while (read(ctx->fd, buf, sizeof(buf)) > 0)
			;
		ctx->reads++;
	}
	if (events & DBOXD_IO_WRITE)
		ctx->writes++;
	/* removing our own watch from inside the callback is allowed */
	if (ctx->reads == 2)
		dboxd_io_remove(&ctx->io);
	dboxd_loop_stop(ctx->loop);
}

static struct ctx *order_ctx;

static void order_cb(void *context)
{
	int v = (int)(intptr_t)context;

	order_ctx->order[order_ctx->norder++] = v;
	if (order_ctx->norder == 3)
		dboxd_loop_stop(order_ctx->loop);
}

static void test_backend(enum dboxd_loop_backend backend)
{
	const char *name = dboxd_loop_backend_name(backend), *error;
	struct ctx ctx;
	int sv[2];
	uint64_t start;

	memset(&ctx, 0, sizeof(ctx));
	if (dboxd_loop_create(backend, &ctx.loop, &error) < 0) {
		tap_skip(name, error);
		return;
	}
	tap_ok(dboxd_loop_get_backend(ctx.loop) == backend, "%s: created",
	       name);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	ctx.fd = sv[0];
	ctx.io = dboxd_io_add(ctx.loop, sv[0], DBOXD_IO_READ, read_cb, &ctx);
	(void)write(sv[1], "x", 1);
	dboxd_loop_run(ctx.loop);
	tap_ok(ctx.reads == 1 && ctx.writes == 0, "%s: readable reported",
	       name);
	dboxd_io_set_events(ctx.io, DBOXD_IO_WRITE);
	dboxd_loop_run(ctx.loop);
	tap_ok(ctx.writes == 1, "%s: changed to writable", name);
	dboxd_io_set_events(ctx.io, DBOXD_IO_READ);
	(void)write(sv[1], "y", 1);
	dboxd_loop_run(ctx.loop);
	tap_ok(ctx.reads == 2 && ctx.io == NULL,
	       "%s: removed from its own callback", name);
	/* nothing may arrive for the removed watch */
	(void)write(sv[1], "z", 1);
	dboxd_loop_run_once(ctx.loop, 100);
	tap_ok(ctx.reads == 2, "%s: no event after removal", name);

	order_ctx = &ctx;
	start = dboxd_loop_now_msecs();
	ctx.t[0] = dboxd_timer_add(ctx.loop, 60, order_cb, (void *)3);
	ctx.t[1] = dboxd_timer_add(ctx.loop, 20, order_cb, (void *)1);
	ctx.t[2] = dboxd_timer_add(ctx.loop, 40, order_cb, (void *)2);
	dboxd_loop_run(ctx.loop);
	tap_ok(ctx.norder == 3 && ctx.order[0] == 1 && ctx.order[1] == 2 &&
	       ctx.order[2] == 3 && dboxd_loop_now_msecs() - start >= 55,
	       "%s: timers fire in order, not early", name);
	ctx.norder = 0;
	dboxd_timer_reset(ctx.t[0], 10);
	dboxd_timer_remove(&ctx.t[1]);
	dboxd_loop_run_once(ctx.loop, 50);
	tap_ok(ctx.norder == 1 && ctx.order[0] == 3,
	       "%s: reset and removed timers", name);
	dboxd_timer_remove(&ctx.t[0]);
	dboxd_timer_remove(&ctx.t[2]);
	close(sv[0]);
	close(sv[1]);
	dboxd_loop_destroy(&ctx.loop);
}

static void nop_cb(void *context, unsigned int events)
{
	(void)context;
	(void)events;
}

/*
 * A watch removed and its descriptor closed while an event for it is on
 * its way (the peer wrote just before): the socket must really close, so
 * the peer reads end-of-file. A poll request the removal failed to cancel
 * would keep the file open for as long as the loop lives; a server then
 * never ends a connection after LOGOUT. With the uring backend's deferred
 * task work the race is deterministic: the peer's write queues the
 * completion, the removal is submitted before it runs.
 */
static void test_remove_racing_event(enum dboxd_loop_backend backend)
{
	const char *name = dboxd_loop_backend_name(backend), *error;
	struct dboxd_loop *loop;
	struct dboxd_io *io;
	bool eof = false;
	char buf[8];
	int sv[2];

	if (dboxd_loop_create(backend, &loop, &error) < 0) {
		tap_skip(name, error);
		return;
	}
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	io = dboxd_io_add(loop, sv[0], DBOXD_IO_READ, nop_cb, NULL);
	dboxd_loop_run_once(loop, 0);		/* the watch is armed */
	(void)write(sv[1], "x", 1);
	dboxd_io_remove(&io);
	close(sv[0]);
	for (int i = 0; i < 20 && !eof; i++) {
		dboxd_loop_run_once(loop, 10);
		eof = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) == 0 ||
		      errno == ECONNRESET;
	}
	tap_ok(eof, "%s: a descriptor closed with an event in flight closes",
	       name);
	close(sv[1]);
	dboxd_loop_destroy(&loop);
}

struct ring_result {
	int done;
	int32_t res;
};

static void ring_cqe_cb(void *context, uint64_t user_data, int32_t res)
{
	struct ring_result *r = context;

	(void)user_data;
	r->done++;
	r->res = res;
}

/* Submit one prepared request with a foreign tag and run the loop until
   it completes; its result, or INT32_MIN when it never did. */
static int32_t ring_run(struct dboxd_loop *loop, struct io_uring *ring,
			struct io_uring_sqe *sqe, struct ring_result *r)
{
	r->done = 0;
	io_uring_sqe_set_data64(sqe, 2 | DBOXD_LOOP_UD_FOREIGN);
	io_uring_submit(ring);
	for (int i = 0; i < 50 && r->done == 0; i++)
		dboxd_loop_run_once(loop, 100);
	return r->done ? r->res : INT32_MIN;
}

/* The worker's seccomp filter cannot see io_uring requests, so the ring
   itself must refuse anything but polls and the storage's file I/O. */
static void test_uring_restrictions(void)
{
	struct ring_result r;
	struct dboxd_loop *loop;
	struct io_uring_probe *probe;
	struct io_uring_sqe *sqe;
	struct io_uring *ring;
	const char *error;
	char buf[8];
	int fd;

	if (dboxd_loop_create(DBOXD_LOOP_URING, &loop, &error) < 0) {
		tap_skip("io_uring: the ring's operations are restricted", error);
		return;
	}
	ring = dboxd_loop_share_uring(loop, ring_cqe_cb, &r);
	fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);

	sqe = io_uring_get_sqe(ring);
	io_uring_prep_read(sqe, fd, buf, sizeof(buf), 0);
	tap_ok(ring_run(loop, ring, sqe, &r) == (int32_t)sizeof(buf),
	       "io_uring: the ring carries a READ");
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_openat(sqe, AT_FDCWD, "/etc/passwd", O_RDONLY, 0);
	tap_ok(ring_run(loop, ring, sqe, &r) == -EACCES,
	       "io_uring: the ring refuses OPENAT with EACCES");
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_connect(sqe, fd, NULL, 0);
	tap_ok(ring_run(loop, ring, sqe, &r) == -EACCES,
	       "io_uring: the ring refuses CONNECT with EACCES");
	tap_ok(io_uring_register_files(ring, &fd, 1) < 0,
	       "io_uring: no files can be registered with the ring");
	probe = io_uring_get_probe_ring(ring);
	tap_ok(probe != NULL && io_uring_opcode_supported(probe,
							  IORING_OP_FSYNC),
	       "io_uring: the ring can be probed (libdbox does)");
	if (probe != NULL)
		io_uring_free_probe(probe);
	close(fd);
	dboxd_loop_destroy(&loop);
}

int main(void)
{
	struct dboxd_loop *loop;
	const char *error;

	test_backend(DBOXD_LOOP_URING);
	test_backend(DBOXD_LOOP_EPOLL);
	test_remove_racing_event(DBOXD_LOOP_URING);
	test_remove_racing_event(DBOXD_LOOP_EPOLL);
	test_uring_restrictions();
	if (dboxd_loop_create(DBOXD_LOOP_AUTO, &loop, &error) < 0) {
		tap_ok(false, "auto picks a backend: %s", error);
	} else {
		tap_ok(true, "auto picks a backend (%s)",
		       dboxd_loop_backend_name(dboxd_loop_get_backend(loop)));
		dboxd_loop_destroy(&loop);
	}
	return tap_done();
}
