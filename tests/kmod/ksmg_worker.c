// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Worker processes: children that map, fill and advise memory on request,
 * so that a test can add them to a group and watch what the module does
 * to their address spaces.
 *
 * A worker serves requests on a SOCK_SEQPACKET socket and exits when the
 * test closes its end or dies (EOF), so workers never outlive a test. It
 * closes every other file descriptor first: a worker holding a copy of a
 * group fd would keep the group alive after the test closes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "ksmg_test.h"

enum ksmg_worker_op {
	KSMG_W_PING,
	KSMG_W_MAP,		/* a = kind, b = pages, c = seed */
	KSMG_W_FILL,		/* a = addr, b = pages, c = seed */
	KSMG_W_ZERO,		/* a = addr, b = pages: write zeros */
	KSMG_W_MADVISE,		/* a = addr, b = pages, c = advice */
	KSMG_W_BRK,		/* b = pages */
	KSMG_W_DUMPABLE,	/* a = 0 or 1 */
	KSMG_W_EXEC,
	KSMG_W_EXIT,
};

struct ksmg_wreq {
	uint32_t op;
	uint32_t pad;
	uint64_t a, b, c;
};

struct ksmg_wresp {
	int64_t err;		/* 0 or an errno */
	uint64_t val;
};

/* Worker side. */

static int ksmg_w_map(const struct ksmg_wreq *req, uint64_t *val_r)
{
	size_t len = req->b * (size_t)ksmg_page_size();
	int prot = PROT_READ | PROT_WRITE, flags = MAP_PRIVATE | MAP_ANONYMOUS;
	int fd = -1, advice = -1;
	void *p;

	switch (req->a) {
	case KSMG_MAP_ANON:
		break;
	case KSMG_MAP_SHARED:
		flags = MAP_SHARED | MAP_ANONYMOUS;
		break;
	case KSMG_MAP_FILE_RO:
		prot = PROT_READ;
		/* fall through */
	case KSMG_MAP_FILE_RELRO:
	case KSMG_MAP_FILE:
		fd = memfd_create("ksmg-test", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, (off_t)len))
			return errno;
		flags = MAP_PRIVATE;
		break;
	case KSMG_MAP_DONTDUMP:
		advice = MADV_DONTDUMP;
		break;
	case KSMG_MAP_WIPEONFORK:
		advice = MADV_WIPEONFORK;
		break;
	default:
		return EINVAL;
	}
	p = mmap(NULL, len, prot, flags, fd, 0);
	if (fd >= 0)
		close(fd);
	if (p == MAP_FAILED)
		return errno;
	if (advice >= 0 && madvise(p, len, advice))
		return errno;
	if (req->c && (prot & PROT_WRITE))
		ksmg_fill_pattern(p, req->b, (uint32_t)req->c);
	if (req->a == KSMG_MAP_FILE_RELRO && mprotect(p, len, PROT_READ))
		return errno;
	*val_r = (uintptr_t)p;
	return 0;
}

static int ksmg_w_brk(const struct ksmg_wreq *req, uint64_t *val_r)
{
	size_t len = req->b * (size_t)ksmg_page_size();
	void *p = sbrk((intptr_t)len);

	if (p == (void *)-1)
		return errno;
	memset(p, 0x5a, len);
	*val_r = (uintptr_t)p;
	return 0;
}

static int ksmg_w_handle(const struct ksmg_wreq *req, uint64_t *val_r)
{
	size_t len = req->b * (size_t)ksmg_page_size();

	switch (req->op) {
	case KSMG_W_PING:
		*val_r = (uint64_t)getpid();
		return 0;
	case KSMG_W_MAP:
		return ksmg_w_map(req, val_r);
	case KSMG_W_FILL:
		ksmg_fill_pattern((void *)(uintptr_t)req->a, req->b,
				  (uint32_t)req->c);
		return 0;
	case KSMG_W_ZERO:
		memset((void *)(uintptr_t)req->a, 0, len);
		return 0;
	case KSMG_W_MADVISE:
		if (madvise((void *)(uintptr_t)req->a, len, (int)req->c))
			return errno;
		return 0;
	case KSMG_W_BRK:
		return ksmg_w_brk(req, val_r);
	case KSMG_W_DUMPABLE:
		if (prctl(PR_SET_DUMPABLE, (unsigned long)req->a, 0, 0, 0))
			return errno;
		return 0;
	default:
		return EINVAL;
	}
}

static void ksmg_w_reply(int sock, int64_t err, uint64_t val)
{
	struct ksmg_wresp resp = { .err = err, .val = val };

	if (send(sock, &resp, sizeof(resp), MSG_NOSIGNAL) < 0)
		_exit(0);
}

static void __attribute__((noreturn)) ksmg_w_exec(int sock)
{
	/* The socket is close-on-exec: the test sees EOF once exec is done. */
	execl("/bin/sleep", "sleep", "600", (char *)NULL);
	ksmg_w_reply(sock, errno, 0);
	_exit(1);
}

static void __attribute__((noreturn)) ksmg_w_serve(int sock)
{
	struct ksmg_wreq req;
	uint64_t val;
	ssize_t n;
	int err;

	for (;;) {
		n = recv(sock, &req, sizeof(req), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(req))
			_exit(0);
		if (req.op == KSMG_W_EXIT)
			_exit((int)req.a);
		if (req.op == KSMG_W_EXEC)
			ksmg_w_exec(sock);
		val = 0;
		err = ksmg_w_handle(&req, &val);
		ksmg_w_reply(sock, err, val);
	}
}

static int ksmg_w_setup(int sock, const struct ksmg_worker_opts *opts,
			uint64_t *addr_r)
{
	struct ksmg_wreq req = { .op = KSMG_W_MAP, .a = KSMG_MAP_ANON };

	/* Keep stdio and the socket (moved to fd 3); close the rest. */
	if (sock != 3 && (dup3(sock, 3, O_CLOEXEC) < 0))
		return errno;
	if (close_range(4, ~0U, 0))
		return errno;
	if (opts->uid || opts->gid) {
		if (setgroups(0, NULL) ||
		    setresgid(opts->gid, opts->gid, opts->gid) ||
		    setresuid(opts->uid, opts->uid, opts->uid))
			return errno;
	}
	/* After the id change, which clears the parent-death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		return errno;
	if (opts->dumpable >= 0 &&
	    prctl(PR_SET_DUMPABLE, (unsigned long)opts->dumpable, 0, 0, 0))
		return errno;
	*addr_r = 0;
	if (!opts->pages)
		return 0;
	req.b = opts->pages;
	req.c = opts->seed;
	return ksmg_w_map(&req, addr_r);
}

/* Test side. */

int ksmg_worker_start(struct ksmg_worker *w,
		      const struct ksmg_worker_opts *opts)
{
	struct ksmg_wresp resp;
	int sv[2], saved;
	uint64_t addr;
	ssize_t n;
	pid_t pid;

	w->pid = -1;
	w->sock = -1;
	w->addr = 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	pid = opts->want_pid ? ksmg_fork_at(opts->want_pid) : fork();
	if (pid < 0)
		goto err_close;
	if (pid == 0) {
		int err;

		close(sv[0]);
		err = ksmg_w_setup(sv[1], opts, &addr);
		ksmg_w_reply(3, err, addr);
		if (err)
			_exit(1);
		ksmg_w_serve(3);
	}
	close(sv[1]);
	w->pid = pid;
	w->sock = sv[0];
	n = recv(w->sock, &resp, sizeof(resp), 0);
	if (n != (ssize_t)sizeof(resp)) {
		ksmg_worker_kill(w);
		errno = EPROTO;
		return -1;
	}
	if (resp.err) {
		ksmg_worker_kill(w);
		errno = (int)resp.err;
		return -1;
	}
	w->addr = (uintptr_t)resp.val;
	return 0;

err_close:
	saved = errno;
	close(sv[0]);
	close(sv[1]);
	errno = saved;
	return -1;
}

static int ksmg_worker_call(struct ksmg_worker *w, struct ksmg_wreq *req,
			    uint64_t *val_r)
{
	struct ksmg_wresp resp;
	ssize_t n;

	if (send(w->sock, req, sizeof(*req), MSG_NOSIGNAL) != sizeof(*req))
		return -1;
	do
		n = recv(w->sock, &resp, sizeof(resp), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(resp)) {
		errno = n < 0 ? errno : EPIPE;
		return -1;
	}
	if (resp.err) {
		errno = (int)resp.err;
		return -1;
	}
	if (val_r)
		*val_r = resp.val;
	return 0;
}

int ksmg_worker_map(struct ksmg_worker *w, enum ksmg_map_kind kind,
		    size_t pages, uint32_t seed, uintptr_t *addr_r)
{
	struct ksmg_wreq req = { .op = KSMG_W_MAP, .a = kind, .b = pages,
				 .c = seed };
	uint64_t val;

	if (ksmg_worker_call(w, &req, &val))
		return -1;
	*addr_r = (uintptr_t)val;
	return 0;
}

int ksmg_worker_fill(struct ksmg_worker *w, uintptr_t addr, size_t pages,
		     uint32_t seed)
{
	struct ksmg_wreq req = { .op = KSMG_W_FILL, .a = addr, .b = pages,
				 .c = seed };

	return ksmg_worker_call(w, &req, NULL);
}

/* Write zeros: real pages of zeros, not the shared zero page. */
int ksmg_worker_zero(struct ksmg_worker *w, uintptr_t addr, size_t pages)
{
	struct ksmg_wreq req = { .op = KSMG_W_ZERO, .a = addr, .b = pages };

	return ksmg_worker_call(w, &req, NULL);
}

int ksmg_worker_madvise(struct ksmg_worker *w, uintptr_t addr, size_t pages,
			int advice)
{
	struct ksmg_wreq req = { .op = KSMG_W_MADVISE, .a = addr, .b = pages,
				 .c = (uint64_t)advice };

	return ksmg_worker_call(w, &req, NULL);
}

int ksmg_worker_brk(struct ksmg_worker *w, size_t pages, uintptr_t *addr_r)
{
	struct ksmg_wreq req = { .op = KSMG_W_BRK, .b = pages };
	uint64_t val;

	if (ksmg_worker_call(w, &req, &val))
		return -1;
	*addr_r = (uintptr_t)val;
	return 0;
}

int ksmg_worker_dumpable(struct ksmg_worker *w, int dumpable)
{
	struct ksmg_wreq req = { .op = KSMG_W_DUMPABLE,
				 .a = (uint64_t)dumpable };

	return ksmg_worker_call(w, &req, NULL);
}

int ksmg_worker_ping(struct ksmg_worker *w)
{
	struct ksmg_wreq req = { .op = KSMG_W_PING };

	return ksmg_worker_call(w, &req, NULL);
}

/* Make the worker exec /bin/sleep; returns once the exec happened. */
int ksmg_worker_exec(struct ksmg_worker *w)
{
	struct ksmg_wreq req = { .op = KSMG_W_EXEC };
	struct ksmg_wresp resp;
	ssize_t n;

	if (send(w->sock, &req, sizeof(req), MSG_NOSIGNAL) != sizeof(req))
		return -1;
	n = recv(w->sock, &resp, sizeof(resp), 0);
	if (n == 0)
		return 0;	/* EOF: the close-on-exec socket went away */
	errno = n > 0 ? (int)resp.err : errno;
	return -1;
}

/* Ask the worker to exit and reap it. */
int ksmg_worker_exit(struct ksmg_worker *w)
{
	struct ksmg_wreq req = { .op = KSMG_W_EXIT };
	int status;

	if (w->pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	send(w->sock, &req, sizeof(req), MSG_NOSIGNAL);
	if (waitpid(w->pid, &status, 0) != w->pid)
		return -1;
	close(w->sock);
	w->sock = -1;
	w->pid = -1;
	return 0;
}

/* Kill and reap; safe on a worker that is already gone. */
void ksmg_worker_kill(struct ksmg_worker *w)
{
	if (w->pid > 0) {
		kill(w->pid, SIGKILL);
		waitpid(w->pid, NULL, 0);
	}
	if (w->sock >= 0)
		close(w->sock);
	w->pid = -1;
	w->sock = -1;
}
