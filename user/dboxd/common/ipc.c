// SPDX-License-Identifier: GPL-2.0-or-later
/* IPC endpoints: framing, descriptor passing and validation; see ipc.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "loop.h"

struct ipc_out {
	struct ipc_out *next;
	struct dboxd_buf buf;	/* header + payload */
	int fd;
};

struct dboxd_ipc {
	int fd;
	char peer[48];
	struct dboxd_loop *loop;
	struct dboxd_io *io;
	/* on_error runs from this timer, never from inside an ipc call,
	   so that the owner may destroy the endpoint there */
	struct dboxd_timer *fail_timer;
	char fail_reason[256];
	const struct dboxd_ipc_handler *handlers;
	dboxd_ipc_error_cb_t *on_error;
	void *context;
	struct ipc_out *out_head, **out_tail;
	unsigned char *in;	/* receive buffer, DBOXD_IPC_MAX_PAYLOAD+hdr */
	bool failed;
	/* The peer is gone (a send met EPIPE, a receive ECONNRESET): send
	   nothing more, but read what it sent before it went, then fail on
	   the end of the stream. A dead worker's last messages (the
	   connections it took) matter to the master. */
	bool peer_gone;
	struct dboxd_timer *drain_timer;
	/* set while a handler runs, so destroy() from inside it is safe */
	bool dispatching, destroy_pending;
};

static void ipc_io_cb(void *context, unsigned int events);

int dboxd_ipc_pair_create(struct dboxd_ipc_pair *pair, const char **error_r)
{
	int fds[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	pair->parent_fd = fds[0];
	pair->child_fd = fds[1];
	return 0;
}

#define IPC_IN_SIZE (sizeof(struct dboxd_ipc_hdr) + DBOXD_IPC_MAX_PAYLOAD)

/*
 * The receive buffer holds the largest message, but most are a few hundred
 * bytes, so only its first pages are ever touched. It is mapped without
 * huge pages: the master has one per worker, the mappings lie side by side,
 * and with THP "always" (Debian's kernels) each 2 MiB of them cost a huge
 * page (48 MiB in a master of 200 workers). EINVAL: a kernel without THP.
 */
static unsigned char *ipc_in_map(void)
{
	void *p = mmap(NULL, IPC_IN_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		dboxd_fatal("out of memory");
	if (madvise(p, IPC_IN_SIZE, MADV_NOHUGEPAGE) < 0 && errno != EINVAL)
		dboxd_fatal("madvise(ipc buffer): %m");
	return p;
}

struct dboxd_ipc *dboxd_ipc_create(struct dboxd_loop *loop, int fd,
				   const char *peer_name,
				   const struct dboxd_ipc_handler *handlers,
				   dboxd_ipc_error_cb_t *on_error,
				   void *context)
{
	struct dboxd_ipc *ipc = calloc(1, sizeof(*ipc));
	int flags = fcntl(fd, F_GETFL);

	if (ipc == NULL)
		dboxd_fatal("out of memory");
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		dboxd_fatal("fcntl(ipc %s): %m", peer_name);
	ipc->in = ipc_in_map();
	ipc->fd = fd;
	ipc->loop = loop;
	snprintf(ipc->peer, sizeof(ipc->peer), "%s", peer_name);
	ipc->handlers = handlers;
	ipc->on_error = on_error;
	ipc->context = context;
	ipc->out_tail = &ipc->out_head;
	ipc->io = dboxd_io_add(loop, fd, DBOXD_IO_READ, ipc_io_cb, ipc);
	return ipc;
}

static void ipc_out_free(struct ipc_out *out)
{
	if (out->fd >= 0)
		close(out->fd);
	dboxd_buf_free(&out->buf);
	free(out);
}

static void ipc_free(struct dboxd_ipc *ipc)
{
	while (ipc->out_head != NULL) {
		struct ipc_out *out = ipc->out_head;

		ipc->out_head = out->next;
		ipc_out_free(out);
	}
	dboxd_io_remove(&ipc->io);
	dboxd_timer_remove(&ipc->fail_timer);
	dboxd_timer_remove(&ipc->drain_timer);
	close(ipc->fd);
	munmap(ipc->in, IPC_IN_SIZE);
	free(ipc);
}

void dboxd_ipc_destroy(struct dboxd_ipc **_ipc)
{
	struct dboxd_ipc *ipc = *_ipc;

	if (ipc == NULL)
		return;
	*_ipc = NULL;
	if (ipc->dispatching) {
		ipc->destroy_pending = true;
		ipc->failed = true;
		return;
	}
	ipc_free(ipc);
}

int dboxd_ipc_fd(const struct dboxd_ipc *ipc)
{
	return ipc->fd;
}

const char *dboxd_ipc_peer_name(const struct dboxd_ipc *ipc)
{
	return ipc->peer;
}

static void ipc_fail_timeout(void *context)
{
	struct dboxd_ipc *ipc = context;

	dboxd_timer_remove(&ipc->fail_timer);
	ipc->on_error(ipc->context, ipc->fail_reason);
}

/* The channel is dead: stop using it and tell the owner once, from the
   loop, so that callers of this file never see the endpoint vanish. */
static void ipc_fail(struct dboxd_ipc *ipc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void ipc_fail(struct dboxd_ipc *ipc, const char *fmt, ...)
{
	va_list args;

	if (ipc->failed)
		return;
	ipc->failed = true;
	va_start(args, fmt);
	vsnprintf(ipc->fail_reason, sizeof(ipc->fail_reason), fmt, args);
	va_end(args);
	dboxd_io_set_events(ipc->io, 0);
	ipc->fail_timer = dboxd_timer_add(ipc->loop, 0, ipc_fail_timeout, ipc);
}

static void ipc_drain_timeout(void *context)
{
	struct dboxd_ipc *ipc = context;

	dboxd_timer_remove(&ipc->drain_timer);
	ipc_io_cb(ipc, DBOXD_IO_READ);
}

/* Drop what is queued for the peer, and read (from the loop, never from
   inside a send) until the stream ends. */
static void ipc_peer_gone(struct dboxd_ipc *ipc)
{
	if (ipc->peer_gone)
		return;
	ipc->peer_gone = true;
	while (ipc->out_head != NULL) {
		struct ipc_out *out = ipc->out_head;

		ipc->out_head = out->next;
		ipc_out_free(out);
	}
	ipc->out_tail = &ipc->out_head;
	dboxd_io_set_events(ipc->io, DBOXD_IO_READ);
	ipc->drain_timer = dboxd_timer_add(ipc->loop, 0, ipc_drain_timeout,
					   ipc);
}

/* ---- sending ------------------------------------------------------------ */

void dboxd_ipc_msg_init(struct dboxd_ipc_msg *msg, enum dboxd_ipc_type type,
			bool secret)
{
	struct dboxd_ipc_hdr hdr = { .type = type, .len = 0 };

	dboxd_buf_init(&msg->buf, secret);
	dboxd_buf_append(&msg->buf, &hdr, sizeof(hdr));
}

void dboxd_ipc_put_u32(struct dboxd_ipc_msg *msg, uint32_t value)
{
	dboxd_buf_append(&msg->buf, &value, sizeof(value));
}

void dboxd_ipc_put_u64(struct dboxd_ipc_msg *msg, uint64_t value)
{
	dboxd_buf_append(&msg->buf, &value, sizeof(value));
}

void dboxd_ipc_put_bytes(struct dboxd_ipc_msg *msg, const void *data,
			 size_t len)
{
	if (len > DBOXD_IPC_MAX_PAYLOAD)
		dboxd_fatal("ipc: a %zu-byte field", len);
	dboxd_ipc_put_u32(msg, (uint32_t)len);
	dboxd_buf_append(&msg->buf, data, len);
}

void dboxd_ipc_put_str(struct dboxd_ipc_msg *msg, const char *str)
{
	size_t len = strlen(str);

	dboxd_ipc_put_u32(msg, (uint32_t)len);
	dboxd_buf_append(&msg->buf, str, len + 1);
}

static int ipc_try_send(struct dboxd_ipc *ipc, struct ipc_out *out)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cmsg;
	struct iovec iov = {
		.iov_base = (void *)dboxd_buf_ptr(&out->buf),
		.iov_len = dboxd_buf_len(&out->buf),
	};
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (out->fd >= 0) {
		memset(&cmsg, 0, sizeof(cmsg));
		mh.msg_control = cmsg.buf;
		mh.msg_controllen = sizeof(cmsg.buf);
		cmsg.hdr.cmsg_level = SOL_SOCKET;
		cmsg.hdr.cmsg_type = SCM_RIGHTS;
		cmsg.hdr.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cmsg.hdr), &out->fd, sizeof(int));
	}
	return sendmsg(ipc->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/* Returns false when the socket is full (or the channel failed). */
static bool ipc_flush(struct dboxd_ipc *ipc)
{
	while (ipc->out_head != NULL && !ipc->failed) {
		struct ipc_out *out = ipc->out_head;

		if (ipc_try_send(ipc, out) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS)
				return false;
			if (errno == EPIPE || errno == ECONNRESET) {
				ipc_peer_gone(ipc);
				return true;
			}
			ipc_fail(ipc, "send to %s: %s", ipc->peer,
				 strerror(errno));
			return false;
		}
		ipc->out_head = out->next;
		if (ipc->out_head == NULL)
			ipc->out_tail = &ipc->out_head;
		ipc_out_free(out);
	}
	return true;
}

void dboxd_ipc_send(struct dboxd_ipc *ipc, struct dboxd_ipc_msg *msg, int fd)
{
	struct dboxd_ipc_hdr *hdr = (void *)msg->buf.data;
	const struct dboxd_ipc_msg_def *def = dboxd_ipc_msg_def(hdr->type);
	struct ipc_out *out;
	size_t len = dboxd_buf_len(&msg->buf) - sizeof(*hdr);

	if (def == NULL || len > def->max_len ||
	    (def->fd == DBOXD_IPC_FD_REQUIRED) != (fd >= 0))
		dboxd_fatal("ipc: building a bad %s message (%zu bytes, fd %d)",
			    def == NULL ? "unknown" : def->name, len, fd);
	hdr->len = (uint32_t)len;
	if (ipc->failed || ipc->peer_gone) {
		/* The owner learnt already, or will; drop quietly. */
		if (fd >= 0)
			close(fd);
		dboxd_buf_free(&msg->buf);
		return;
	}
	out = calloc(1, sizeof(*out));
	if (out == NULL)
		dboxd_fatal("out of memory");
	out->buf = msg->buf;
	out->fd = fd;
	dboxd_buf_init(&msg->buf, false);
	*ipc->out_tail = out;
	ipc->out_tail = &out->next;
	if (!ipc_flush(ipc) && !ipc->failed)
		dboxd_io_set_events(ipc->io, DBOXD_IO_READ | DBOXD_IO_WRITE);
}

void dboxd_ipc_send_empty(struct dboxd_ipc *ipc, enum dboxd_ipc_type type)
{
	struct dboxd_ipc_msg msg;

	dboxd_ipc_msg_init(&msg, type, false);
	dboxd_ipc_send(ipc, &msg, -1);
}

void dboxd_ipc_flush_blocking(struct dboxd_ipc *ipc)
{
	while (!ipc_flush(ipc) && !ipc->failed) {
		struct pollfd pfd = { .fd = ipc->fd, .events = POLLOUT };

		if (poll(&pfd, 1, 1000) <= 0)
			break;
	}
}

/* ---- receiving ---------------------------------------------------------- */

uint32_t dboxd_ipc_get_u32(struct dboxd_ipc_reader *r)
{
	uint32_t v;

	if (r->error || r->left < sizeof(v)) {
		r->error = true;
		return 0;
	}
	memcpy(&v, r->p, sizeof(v));
	r->p += sizeof(v);
	r->left -= sizeof(v);
	return v;
}

uint64_t dboxd_ipc_get_u64(struct dboxd_ipc_reader *r)
{
	uint64_t v;

	if (r->error || r->left < sizeof(v)) {
		r->error = true;
		return 0;
	}
	memcpy(&v, r->p, sizeof(v));
	r->p += sizeof(v);
	r->left -= sizeof(v);
	return v;
}

const void *dboxd_ipc_get_bytes(struct dboxd_ipc_reader *r, size_t *len_r)
{
	uint32_t len = dboxd_ipc_get_u32(r);
	const void *p;

	*len_r = 0;
	if (r->error || len > r->left) {
		r->error = true;
		return "";
	}
	p = r->p;
	r->p += len;
	r->left -= len;
	*len_r = len;
	return p;
}

const char *dboxd_ipc_get_str(struct dboxd_ipc_reader *r)
{
	uint32_t len = dboxd_ipc_get_u32(r);
	const char *s;

	/* The terminating NUL must be there, and no NUL before it. */
	if (r->error || len >= r->left || r->p[len] != '\0' ||
	    memchr(r->p, '\0', len) != NULL) {
		r->error = true;
		return "";
	}
	s = (const char *)r->p;
	r->p += len + 1;
	r->left -= len + 1;
	return s;
}

int dboxd_ipc_get_end(struct dboxd_ipc_reader *r)
{
	return r->error || r->left != 0 ? -1 : 0;
}

static const struct dboxd_ipc_handler *
ipc_find_handler(const struct dboxd_ipc *ipc, uint32_t type)
{
	for (const struct dboxd_ipc_handler *h = ipc->handlers;
	     h->type != DBOXD_IPC_NONE; h++) {
		if (h->type == type)
			return h;
	}
	return NULL;
}

/* Receive one message. Returns 1 if one was handled, 0 on EAGAIN, -1 when
   the channel failed. */
static int ipc_receive_one(struct dboxd_ipc *ipc)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cmsg;
	struct iovec iov = {
		.iov_base = ipc->in,
		.iov_len = IPC_IN_SIZE,
	};
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cmsg.buf, .msg_controllen = sizeof(cmsg.buf),
	};
	const struct dboxd_ipc_msg_def *def;
	const struct dboxd_ipc_handler *h;
	struct dboxd_ipc_hdr hdr;
	struct dboxd_ipc_reader r;
	int fds[4], nfds = 0, fd = -1, ret;
	ssize_t n;

	n = recvmsg(ipc->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		/* The peer closed with our messages unread. A datagram
		   socket reports that once, before the messages the peer
		   sent: read on to them and to the end of the stream. */
		if (errno == ECONNRESET) {
			ipc_peer_gone(ipc);
			return 1;
		}
		ipc_fail(ipc, "receive from %s: %s", ipc->peer,
			 strerror(errno));
		return -1;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL;
	     c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (int i = 0; i < cnt && nfds < 4; i++)
				memcpy(&fds[nfds++],
				       CMSG_DATA(c) + i * sizeof(int),
				       sizeof(int));
		}
	}
	if (n == 0) {
		ipc_fail(ipc, "%s closed the channel", ipc->peer);
		goto close_fds;
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
		ipc_fail(ipc, "malformed message from %s: truncated",
			 ipc->peer);
		goto close_fds;
	}
	if ((size_t)n < sizeof(hdr)) {
		ipc_fail(ipc, "malformed message from %s: %zd bytes",
			 ipc->peer, n);
		goto close_fds;
	}
	memcpy(&hdr, ipc->in, sizeof(hdr));
	def = dboxd_ipc_msg_def(hdr.type);
	h = ipc_find_handler(ipc, hdr.type);
	if (def == NULL || h == NULL) {
		ipc_fail(ipc, "malformed message from %s: unexpected type %u",
			 ipc->peer, hdr.type);
		goto close_fds;
	}
	if (hdr.len != (size_t)n - sizeof(hdr) || hdr.len > def->max_len) {
		ipc_fail(ipc, "malformed %s from %s: length %u (got %zd, max %u)",
			 def->name, ipc->peer, hdr.len, n - (ssize_t)sizeof(hdr),
			 def->max_len);
		goto close_fds;
	}
	if (nfds > 1 || (def->fd == DBOXD_IPC_FD_REQUIRED) != (nfds == 1)) {
		ipc_fail(ipc, "malformed %s from %s: %d descriptors",
			 def->name, ipc->peer, nfds);
		goto close_fds;
	}
	if (nfds == 1)
		fd = fds[0];
	r.p = ipc->in + sizeof(hdr);
	r.left = hdr.len;
	r.error = false;
	ipc->dispatching = true;
	ret = h->handle(ipc->context, &r, fd);
	ipc->dispatching = false;
	if (ipc->destroy_pending) {
		ipc_free(ipc);
		return -1;
	}
	if (ret < 0 || dboxd_ipc_get_end(&r) < 0) {
		ipc_fail(ipc, "malformed %s from %s: bad fields", def->name,
			 ipc->peer);
		return -1;
	}
	return ipc->failed ? -1 : 1;

close_fds:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	return -1;
}

static void ipc_io_cb(void *context, unsigned int events)
{
	struct dboxd_ipc *ipc = context;

	if (ipc->failed)
		return;
	if (events & DBOXD_IO_WRITE) {
		if (ipc_flush(ipc))
			dboxd_io_set_events(ipc->io, DBOXD_IO_READ);
		if (ipc->failed)
			return;
	}
	if (events & (DBOXD_IO_READ | DBOXD_IO_ERROR)) {
		/* Drain: the loop reports readiness edges (loop.h). */
		while (ipc_receive_one(ipc) > 0)
			;
	}
}
