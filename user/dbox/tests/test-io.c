// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dbox-io, run once per backend (DBOX_IO_BACKEND=sync|uring): full reads
 * and writes, end of file, errors, the backlog beyond the ring, callback
 * ordering rules, groups; with io_uring also a ring owned by the caller
 * (one ring per process), completions handed over both ways.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <liburing.h>

#include "dbox.h"
#include "tap.h"

static struct dbox_io *io;
static bool in_submit;
static bool called_in_submit;

struct result {
	bool done;
	int64_t result;
};

static void store_result(void *context, int64_t result)
{
	struct result *r = context;

	if (in_submit)
		called_in_submit = true;
	r->done = true;
	r->result = result;
}

static void wait_for(struct result *r)
{
	while (!r->done) {
		if (dbox_io_run(io, -1) < 0) {
			perror("dbox_io_run");
			exit(2);
		}
	}
}

static int temp_file(const char *dir)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror(path);
		exit(2);
	}
	unlink(path);
	return fd;
}

static void test_backend_matches_env(void)
{
	const char *env = getenv("DBOX_IO_BACKEND");
	enum dbox_io_backend b = dbox_io_get_backend(io);

	tap_diag("backend: %s", dbox_io_backend_name(b));
	if (env == NULL || strcmp(env, "auto") == 0)
		tap_ok(b == DBOX_IO_BACKEND_URING || b == DBOX_IO_BACKEND_SYNC,
		       "auto picks a backend");
	else
		tap_ok(strcmp(env, "sync") == 0 ? b == DBOX_IO_BACKEND_SYNC :
		       b == DBOX_IO_BACKEND_URING,
		       "backend follows DBOX_IO_BACKEND=%s", env);
}

static void test_write_read_roundtrip(int fd)
{
	size_t len = 3 * 1024 * 1024 + 17, i;
	unsigned char *out = malloc(len), *in = calloc(1, len);
	struct result w = { 0 }, r = { 0 };

	for (i = 0; i < len; i++)
		out[i] = (unsigned char)(i * 7 + i / 4096);
	in_submit = true;
	dbox_io_write(io, fd, out, len, 4096, store_result, &w);
	in_submit = false;
	wait_for(&w);
	tap_ok(w.result == (int64_t)len, "write completes with full length");
	in_submit = true;
	dbox_io_read(io, fd, in, len, 4096, store_result, &r);
	in_submit = false;
	wait_for(&r);
	tap_ok(r.result == (int64_t)len && memcmp(in, out, len) == 0,
	       "read returns the bytes written at that offset");
	tap_ok(!called_in_submit, "callbacks never run inside submit");
	free(out);
	free(in);
}

static void test_read_past_eof_is_short(int fd)
{
	unsigned char buf[100];
	struct result r = { 0 }, r2 = { 0 };
	off_t size = lseek(fd, 0, SEEK_END);

	dbox_io_read(io, fd, buf, sizeof(buf), (uint64_t)size - 10,
		     store_result, &r);
	wait_for(&r);
	tap_ok(r.result == 10, "read across end of file returns the rest");
	dbox_io_read(io, fd, buf, sizeof(buf), (uint64_t)size + 100,
		     store_result, &r2);
	wait_for(&r2);
	tap_ok(r2.result == 0, "read beyond end of file returns 0");
}

static void test_bad_fd_is_ebadf(void)
{
	unsigned char buf[10];
	struct result r = { 0 };

	dbox_io_read(io, 987654, buf, sizeof(buf), 0, store_result, &r);
	wait_for(&r);
	tap_ok(r.result == -EBADF, "read on a closed fd completes with -EBADF");
}

static void test_fsync_variants(int fd)
{
	struct result a = { 0 }, b = { 0 };

	dbox_io_fsync(io, fd, false, store_result, &a);
	dbox_io_fsync(io, fd, true, store_result, &b);
	wait_for(&a);
	wait_for(&b);
	tap_ok(a.result == 0 && b.result == 0, "fsync and fdatasync succeed");
}

struct many {
	unsigned int done, bad;
};

struct many_req {
	struct many *m;
	unsigned int idx;
	unsigned char buf[64];
};

static void many_cb(void *context, int64_t result)
{
	struct many_req *req = context;
	unsigned int i;

	req->m->done++;
	if (result != 64)
		req->m->bad++;
	for (i = 0; i < 64; i++) {
		if (req->buf[i] != (unsigned char)(req->idx + i))
			req->m->bad++;
	}
}

/* More requests than the ring holds: the backlog must absorb them. */
static void test_backlog_beyond_ring(const char *dir)
{
	struct dbox_io_settings set = { .queue_depth = 8 };
	unsigned int n = 1000, i, j;
	struct many m = { 0, 0 };
	struct many_req *reqs = calloc(n, sizeof(*reqs));
	unsigned char block[64];
	struct dbox_io *small;
	const char *error;
	int fd = temp_file(dir);

	for (i = 0; i < n; i++) {
		for (j = 0; j < 64; j++)
			block[j] = (unsigned char)(i + j);
		if (pwrite(fd, block, 64, (off_t)i * 64) != 64)
			exit(2);
	}
	if (dbox_io_create(&set, &small, &error) < 0) {
		tap_ok(false, "create io with depth 8: %s", error);
		return;
	}
	for (i = 0; i < n; i++) {
		reqs[i].m = &m;
		reqs[i].idx = i;
		dbox_io_read(small, fd, reqs[i].buf, 64, (uint64_t)i * 64,
			     many_cb, &reqs[i]);
	}
	tap_ok(dbox_io_pending(small) == n, "all %u requests are pending", n);
	while (m.done < n && dbox_io_run(small, -1) >= 0)
		;
	tap_ok(m.done == n && m.bad == 0,
	       "%u reads through a depth-8 queue all complete correctly", n);
	tap_ok(dbox_io_pending(small) == 0, "nothing pending afterwards");
	dbox_io_destroy(&small);
	close(fd);
	free(reqs);
}

struct chain {
	int fd;
	unsigned int left;
	unsigned char buf[16];
	bool run_failed_with_edeadlk;
};

static void chain_cb(void *context, int64_t result)
{
	struct chain *c = context;

	(void)result;
	if (dbox_io_run(io, 0) < 0 && errno == EDEADLK)
		c->run_failed_with_edeadlk = true;
	if (--c->left > 0)
		dbox_io_read(io, c->fd, c->buf, sizeof(c->buf), 0, chain_cb, c);
}

static void test_callbacks_may_submit(int fd)
{
	struct chain c = { fd, 50, { 0 }, false };

	dbox_io_read(io, fd, c.buf, sizeof(c.buf), 0, chain_cb, &c);
	while (c.left > 0 && dbox_io_run(io, -1) >= 0)
		;
	tap_ok(c.left == 0, "a callback can submit the next request");
	tap_ok(c.run_failed_with_edeadlk,
	       "running the loop from a callback fails with EDEADLK");
}

static void test_run_idle(void)
{
	tap_ok(dbox_io_run(io, -1) == 0,
	       "waiting with nothing pending returns at once");
	tap_ok(dbox_io_run(io, 0) == 0, "polling with nothing pending is 0");
}

static void test_group_reports_first_error(int fd)
{
	struct dbox_io_group group;
	unsigned char buf[32];

	dbox_io_group_init(&group);
	dbox_io_group_read(io, &group, fd, buf, sizeof(buf), 0);
	dbox_io_group_read(io, &group, -1, buf, sizeof(buf), 0);
	errno = 0;
	tap_ok(dbox_io_group_wait(io, &group) < 0 && errno == EBADF,
	       "a group wait fails with the failing request's errno");
	dbox_io_group_init(&group);
	dbox_io_group_write(io, &group, fd, "abc", 3, 0);
	tap_ok(dbox_io_group_wait(io, &group) == 0 && group.pending == 0,
	       "a group of good requests succeeds");
}

static void test_destroy_with_pending_requests(int fd)
{
	struct dbox_io *tmp;
	const char *error;
	unsigned char *buf = malloc(1 << 20);
	struct result r = { 0 };

	if (dbox_io_create(NULL, &tmp, &error) < 0) {
		tap_ok(false, "create: %s", error);
		return;
	}
	dbox_io_read(tmp, fd, buf, 1 << 20, 0, store_result, &r);
	dbox_io_destroy(&tmp);
	tap_ok(tmp == NULL && !r.done,
	       "destroy drops pending requests without their callbacks");
	free(buf);
}

/* The caller's completions that dbox-io reaped while it waited. */
static uint64_t foreign_seen[8];
static unsigned int foreign_count;

static void foreign_cqe(void *context, uint64_t user_data, int32_t res,
			uint32_t flags)
{
	(void)context;
	(void)res;
	(void)flags;
	if (foreign_count < 8)
		foreign_seen[foreign_count++] = user_data;
}

/* The owner's loop: hand tagged completions to dbox-io. */
static unsigned int owner_reap(struct io_uring *ring, struct dbox_io *shared)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(ring, head, cqe) {
		if ((cqe->user_data & DBOX_IO_UD_TAG) != 0)
			dbox_io_uring_cqe(shared, cqe->user_data, cqe->res);
		else
			foreign_cqe(NULL, cqe->user_data, cqe->res, cqe->flags);
		n++;
	}
	io_uring_cq_advance(ring, n);
	return n;
}

static void test_callers_ring(int fd)
{
	struct dbox_io_settings set = {
		.backend = DBOX_IO_BACKEND_URING, .ignore_env = true,
	};
	struct dbox_io_ring on = { .foreign_cqe = foreign_cqe };
	struct dbox_io_group group;
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct dbox_io *shared;
	struct result r = { false, 0 };
	const char *error;
	char buf[4] = "";
	unsigned int spins = 0;

	if (dbox_io_get_backend(io) != DBOX_IO_BACKEND_URING ||
	    io_uring_queue_init(64, &ring, 0) < 0) {
		tap_skip("io_uring backend only", "dbox-io on the caller's ring");
		return;
	}
	on.ring = &ring;
	if (dbox_io_create_on_ring(&set, &on, &shared, &error) < 0) {
		tap_ok(false, "attach to the caller's ring: %s", error);
		io_uring_queue_exit(&ring);
		return;
	}
	tap_ok(dbox_io_get_backend(shared) == DBOX_IO_BACKEND_URING &&
	       dbox_io_get_fd(shared) == -1,
	       "dbox-io attaches to the caller's ring and leaves it to watch");
	/* one request of the owner's in the ring, then a group wait of ours:
	   its completion must come back to the owner, not be lost */
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, 0x1000);
	dbox_io_group_init(&group);
	dbox_io_group_write(shared, &group, fd, "ring", 4, 0);
	tap_ok(dbox_io_group_wait(shared, &group) == 0,
	       "a group wait works on the caller's ring");
	while (foreign_count == 0 && spins++ < 100)
		owner_reap(&ring, shared);
	tap_ok(foreign_count == 1 && foreign_seen[0] == 0x1000,
	       "the owner's completion is handed back, not lost");
	/* the owner's loop reaps ours and hands them over */
	dbox_io_read(shared, fd, buf, 4, 0, store_result, &r);
	(void)dbox_io_run(shared, 0);	/* submit */
	spins = 0;
	while (!r.done && spins++ < 1000) {
		struct io_uring_cqe *cqe;

		if (io_uring_wait_cqe(&ring, &cqe) < 0)
			break;
		owner_reap(&ring, shared);
		(void)dbox_io_run(shared, 0);
	}
	tap_ok(r.done && r.result == 4 && memcmp(buf, "ring", 4) == 0,
	       "a read completes through the owner's reaping");
	dbox_io_destroy(&shared);
	io_uring_queue_exit(&ring);
}

/* Submit one prepared request on ring and return its result. */
static int32_t ring_result(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int32_t res;

	io_uring_submit(ring);
	if (io_uring_wait_cqe(ring, &cqe) < 0)
		return INT32_MIN;
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

/* dbox_io_restrict_ring(): what the storage submits passes, the rest is
   refused (seccomp filters cannot see ring requests). */
static void test_restricted_ring(int fd)
{
	struct io_uring_params p = { .flags = IORING_SETUP_R_DISABLED };
	const uint8_t extra = IORING_OP_POLL_ADD;
	struct io_uring ring;
	char buf[4];

	if (io_uring_queue_init_params(8, &ring, &p) < 0) {
		tap_skip("no io_uring", "restricted ring");
		return;
	}
	tap_ok(dbox_io_restrict_ring(&ring, &extra, 1) == 0,
	       "restrict and enable a disabled ring");
	io_uring_prep_read(io_uring_get_sqe(&ring), fd, buf, sizeof(buf), 0);
	tap_ok(ring_result(&ring) >= 0, "restricted ring: READ passes");
	io_uring_prep_fsync(io_uring_get_sqe(&ring), fd, 0);
	tap_ok(ring_result(&ring) == 0, "restricted ring: FSYNC passes");
	io_uring_prep_poll_add(io_uring_get_sqe(&ring), fd, POLLIN);
	tap_ok(ring_result(&ring) >= 0,
	       "restricted ring: the caller's extra POLL_ADD passes");
	io_uring_prep_openat(io_uring_get_sqe(&ring), AT_FDCWD, "/etc/passwd",
			     O_RDONLY, 0);
	tap_ok(ring_result(&ring) == -EACCES,
	       "restricted ring: OPENAT is refused with EACCES");
	io_uring_prep_unlinkat(io_uring_get_sqe(&ring), AT_FDCWD,
			       "/nonexistent", 0);
	tap_ok(ring_result(&ring) == -EACCES,
	       "restricted ring: UNLINKAT is refused with EACCES");
	io_uring_queue_exit(&ring);
}

int main(void)
{
	const char *error;
	char *dir;
	int fd;

	tap_quiet_logs();
	if (dbox_io_create(NULL, &io, &error) < 0) {
		tap_ok(false, "create io: %s", error);
		return tap_done();
	}
	dir = tap_tempdir("io");
	fd = temp_file(dir);
	test_backend_matches_env();
	test_write_read_roundtrip(fd);
	test_read_past_eof_is_short(fd);
	test_bad_fd_is_ebadf();
	test_fsync_variants(fd);
	test_backlog_beyond_ring(dir);
	test_callbacks_may_submit(fd);
	test_run_idle();
	test_group_reports_first_error(fd);
	test_destroy_with_pending_requests(fd);
	test_callers_ring(fd);
	test_restricted_ring(fd);
	close(fd);
	dbox_io_destroy(&io);
	free(dir);
	return tap_done();
}
