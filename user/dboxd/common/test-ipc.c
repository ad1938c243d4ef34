// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the IPC layer: typed messages with descriptors go through;
   every kind of malformed message is fatal for the peer. */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"
#include "loop.h"
#include "secret.h"
#include "test-tap.h"

struct ctx {
	struct dboxd_loop *loop;
	int handled;
	char str[64];
	uint64_t id;
	int fd;
	bool failed;
	char reason[256];
};

static int h_conn_closed(void *context, struct dboxd_ipc_reader *r, int fd)
{
	struct ctx *ctx = context;

	(void)fd;
	ctx->id = dboxd_ipc_get_u64(r);
	ctx->handled++;
	dboxd_loop_stop(ctx->loop);
	return dboxd_ipc_get_end(r);
}

static int h_passwd(void *context, struct dboxd_ipc_reader *r, int fd)
{
	struct ctx *ctx = context;
	const char *s = dboxd_ipc_get_str(r);

	snprintf(ctx->str, sizeof(ctx->str), "%s", s);
	ctx->fd = fd;
	ctx->handled++;
	dboxd_loop_stop(ctx->loop);
	return 0;
}

static const struct dboxd_ipc_handler handlers[] = {
	{ DBOXD_IPC_CONN_CLOSED, h_conn_closed },
	{ DBOXD_IPC_PASSWD_FILE, h_passwd },
	{ DBOXD_IPC_NONE, NULL },
};

static void on_error(void *context, const char *reason)
{
	struct ctx *ctx = context;

	ctx->failed = true;
	snprintf(ctx->reason, sizeof(ctx->reason), "%s", reason);
	dboxd_loop_stop(ctx->loop);
}

/* Send raw bytes (with an optional fd) on s; run the loop until the
   receiving endpoint handled or refused it. */
static void send_raw(int s, const void *data, size_t len, int fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cmsg;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		memset(&cmsg, 0, sizeof(cmsg));
		mh.msg_control = cmsg.buf;
		mh.msg_controllen = sizeof(cmsg.buf);
		cmsg.hdr.cmsg_level = SOL_SOCKET;
		cmsg.hdr.cmsg_type = SCM_RIGHTS;
		cmsg.hdr.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cmsg.hdr), &fd, sizeof(int));
	}
	if (sendmsg(s, &mh, 0) < 0)
		perror("sendmsg");
}

static bool refused(const void *data, size_t len, int fd, const char *want)
{
	struct dboxd_ipc_pair pair;
	struct ctx ctx = { .fd = -1 };
	struct dboxd_ipc *ipc;
	const char *error;
	bool ok;

	dboxd_loop_create(DBOXD_LOOP_EPOLL, &ctx.loop, &error);
	dboxd_ipc_pair_create(&pair, &error);
	ipc = dboxd_ipc_create(ctx.loop, pair.parent_fd, "peer", handlers,
			       on_error, &ctx);
	send_raw(pair.child_fd, data, len, fd);
	/* The handler may have run (fields are checked after it read them);
	   what matters is that the channel failed. */
	for (int i = 0; i < 20 && !ctx.failed; i++)
		dboxd_loop_run_once(ctx.loop, 100);
	ok = ctx.failed && strstr(ctx.reason, want);
	if (!ok)
		printf("# reason: %s (handled %d)\n", ctx.reason, ctx.handled);
	dboxd_ipc_destroy(&ipc);
	close(pair.child_fd);
	dboxd_loop_destroy(&ctx.loop);
	return ok;
}

static void test_roundtrip(void)
{
	struct dboxd_ipc_pair pair;
	struct ctx ctx = { .fd = -1 }, peer_ctx = { 0 };
	struct dboxd_ipc *a, *b;
	struct dboxd_ipc_msg msg;
	const char *error;
	int fd = open("/dev/null", O_RDONLY);

	dboxd_loop_create(DBOXD_LOOP_EPOLL, &ctx.loop, &error);
	peer_ctx.loop = ctx.loop;
	dboxd_ipc_pair_create(&pair, &error);
	a = dboxd_ipc_create(ctx.loop, pair.parent_fd, "a", handlers,
			     on_error, &ctx);
	b = dboxd_ipc_create(ctx.loop, pair.child_fd, "b", handlers,
			     on_error, &peer_ctx);
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_PASSWD_FILE, false);
	dboxd_ipc_put_str(&msg, "/etc/x");
	dboxd_ipc_send(b, &msg, fd);
	dboxd_loop_run(ctx.loop);
	tap_ok(ctx.handled == 1 && strcmp(ctx.str, "/etc/x") == 0 &&
	       ctx.fd >= 0 && fcntl(ctx.fd, F_GETFD) >= 0,
	       "a message with a string and a descriptor arrives");
	if (ctx.fd >= 0)
		close(ctx.fd);
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_CONN_CLOSED, false);
	dboxd_ipc_put_u64(&msg, 0x123456789abcULL);
	dboxd_ipc_send(b, &msg, -1);
	dboxd_loop_run(ctx.loop);
	tap_ok(ctx.handled == 2 && ctx.id == 0x123456789abcULL,
	       "a 64-bit field arrives intact");
	dboxd_ipc_destroy(&b);
	dboxd_loop_run(ctx.loop);
	tap_ok(ctx.failed && strstr(ctx.reason, "closed the channel"),
	       "the peer closing is reported");
	dboxd_ipc_destroy(&a);
	dboxd_loop_destroy(&ctx.loop);
}

/* Run the loop until the endpoint failed (handlers stop it too). */
static void run_until_failed(struct ctx *ctx)
{
	for (int i = 0; i < 20 && !ctx->failed; i++)
		dboxd_loop_run_once(ctx->loop, 100);
}

static void send_conn_closed(struct dboxd_ipc *ipc, uint64_t id)
{
	struct dboxd_ipc_msg msg;

	dboxd_ipc_msg_init(&msg, DBOXD_IPC_CONN_CLOSED, false);
	dboxd_ipc_put_u64(&msg, id);
	dboxd_ipc_send(ipc, &msg, -1);
}

/*
 * A peer that sent a message and died: its message is still handled,
 * then the end of the channel reported, whether the peer died with our
 * message unread (the socket reports ECONNRESET first) or we only learn
 * of its death by sending to it (EPIPE). The master relies on this: a
 * dead worker's last message says which connections it had taken.
 */
static void test_dead_peer_last_words(bool unread)
{
	struct {
		struct dboxd_ipc_hdr hdr;
		uint64_t id;
	} m = { { DBOXD_IPC_CONN_CLOSED, 8 }, 42 };
	struct dboxd_ipc_pair pair;
	struct ctx ctx = { .fd = -1 };
	struct dboxd_ipc *ipc;
	const char *error;

	dboxd_loop_create(DBOXD_LOOP_EPOLL, &ctx.loop, &error);
	dboxd_ipc_pair_create(&pair, &error);
	ipc = dboxd_ipc_create(ctx.loop, pair.parent_fd, "peer", handlers,
			       on_error, &ctx);
	send_raw(pair.child_fd, &m, sizeof(m), -1);
	if (unread)
		send_conn_closed(ipc, 7);
	close(pair.child_fd);
	if (!unread)
		send_conn_closed(ipc, 7);
	run_until_failed(&ctx);
	tap_ok(ctx.handled == 1 && ctx.id == 42,
	       "a peer that died %s: the message it sent first is handled",
	       unread ? "with ours unread" : "before we sent");
	tap_ok(ctx.failed && strstr(ctx.reason, "closed the channel"),
	       "a peer that died %s: then its end is reported (%s)",
	       unread ? "with ours unread" : "before we sent", ctx.reason);
	dboxd_ipc_destroy(&ipc);
	dboxd_loop_destroy(&ctx.loop);
}

int main(void)
{
	struct {
		struct dboxd_ipc_hdr hdr;
		unsigned char payload[64];
	} m;
	const char *error;
	int fd = open("/dev/null", O_RDONLY);

	dboxd_secret_init(&error);
	test_roundtrip();
	test_dead_peer_last_words(true);
	test_dead_peer_last_words(false);

	memset(&m, 0, sizeof(m));
	m.hdr.type = DBOXD_IPC_CONN_CLOSED;
	m.hdr.len = 4;
	tap_ok(refused(&m, sizeof(m.hdr) + 4, -1, "bad fields"),
	       "a truncated field is fatal");
	m.hdr.len = 12;
	tap_ok(refused(&m, sizeof(m.hdr) + 12, -1, "malformed"),
	       "bytes beyond the message's size are fatal");
	m.hdr.len = 8;
	tap_ok(refused(&m, sizeof(m.hdr) + 4, -1, "length"),
	       "a length that disagrees with the datagram is fatal");
	m.hdr.type = DBOXD_IPC_AUTH_REQUEST;
	tap_ok(refused(&m, sizeof(m.hdr) + 8, -1, "unexpected type"),
	       "a type this endpoint does not take is fatal");
	m.hdr.type = 9999;
	tap_ok(refused(&m, sizeof(m.hdr) + 8, -1, "unexpected type"),
	       "an unknown type is fatal");
	m.hdr.type = DBOXD_IPC_CONN_CLOSED;
	tap_ok(refused(&m, sizeof(m.hdr) + 8, fd, "descriptors"),
	       "an unexpected descriptor is fatal");
	/* PASSWD_FILE: u32 length 3, "abc" with no NUL */
	m.hdr.type = DBOXD_IPC_PASSWD_FILE;
	m.hdr.len = 8;
	memcpy(m.payload, "\3\0\0\0abcd", 8);
	tap_ok(refused(&m, sizeof(m.hdr) + 8, fd, "bad fields"),
	       "a string without its NUL is fatal");
	memcpy(m.payload, "\3\0\0\0a\0c\0", 8);
	tap_ok(refused(&m, sizeof(m.hdr) + 8, fd, "bad fields"),
	       "a string with a NUL inside is fatal");
	memcpy(m.payload, "\3\0\0\0abc\0", 8);
	tap_ok(refused(&m, sizeof(m.hdr) + 8, -1, "descriptors"),
	       "a missing descriptor is fatal");
	tap_ok(refused(&m, 3, -1, "bytes"), "a datagram shorter than a header");
	close(fd);
	return tap_done();
}
