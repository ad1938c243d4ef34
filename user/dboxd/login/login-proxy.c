// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * After a TLS client logged in, the login process keeps its TLS session and
 * relays plaintext to the worker over a socketpair (the worker cannot take
 * over OpenSSL's state, and this host's kernel has no kernel TLS; the
 * trade-off is in docs/dboxd.md). Each direction has a bounded buffer in
 * secret memory (it holds mail) that is freed whenever it drains, so an
 * idle proxied connection holds only its SSL object.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "login.h"
#include "net.h"

#define PROXY_BUF_MAX (64 * 1024)
#define PROXY_CHUNK 16384

static void proxy_io_cb(void *context, unsigned int events);

int login_proxy_start(struct login_client *c, int *worker_end_r)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		dboxd_error("socketpair: %m");
		return -1;
	}
	if (dboxd_fd_set_nonblock(sv[0]) < 0) {
		dboxd_error("fcntl: %m");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	c->proxy_fd = sv[0];
	c->proxy_io = dboxd_io_add(login_g->loop, sv[0], 0, proxy_io_cb, c);
	*worker_end_r = sv[1];
	return 0;
}

/* Move bytes from the client (TLS) into to_worker. -1: client gone. */
static int proxy_from_client(struct login_client *c, bool *moved)
{
	while (!c->client_eof && dboxd_buf_len(&c->to_worker) < PROXY_BUF_MAX) {
		unsigned char *p = dboxd_buf_reserve(&c->to_worker, PROXY_CHUNK);
		ssize_t n = login_client_read(c, p, PROXY_CHUNK);

		if (n == -1)
			break;
		if (n <= 0) {
			c->client_eof = true;
			/* Tell the worker: it logs the client out. */
			shutdown(c->proxy_fd, SHUT_WR);
			return n == 0 ? 0 : -1;
		}
		dboxd_buf_commit(&c->to_worker, (size_t)n);
		*moved = true;
	}
	return 0;
}

static int proxy_to_worker(struct login_client *c, bool *moved)
{
	while (dboxd_buf_len(&c->to_worker) > 0) {
		ssize_t n = send(c->proxy_fd, dboxd_buf_ptr(&c->to_worker),
				 dboxd_buf_len(&c->to_worker),
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -1;
		}
		dboxd_buf_consume(&c->to_worker, (size_t)n);
		*moved = true;
	}
	if (dboxd_buf_len(&c->to_worker) == 0)
		dboxd_buf_free(&c->to_worker);
	return 0;
}

static int proxy_from_worker(struct login_client *c, bool *moved)
{
	while (!c->worker_eof && dboxd_buf_len(&c->to_client) < PROXY_BUF_MAX) {
		unsigned char *p = dboxd_buf_reserve(&c->to_client, PROXY_CHUNK);
		ssize_t n = recv(c->proxy_fd, p, PROXY_CHUNK, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			n = 0;
		}
		if (n == 0) {
			c->worker_eof = true;
			break;
		}
		dboxd_buf_commit(&c->to_client, (size_t)n);
		*moved = true;
	}
	return 0;
}

static int proxy_to_client(struct login_client *c, bool *moved)
{
	while (dboxd_buf_len(&c->to_client) > 0) {
		ssize_t n = login_client_write(c, dboxd_buf_ptr(&c->to_client),
					       dboxd_buf_len(&c->to_client));

		if (n == -1)
			break;
		if (n < 0)
			return -1;
		dboxd_buf_consume(&c->to_client, (size_t)n);
		*moved = true;
	}
	if (dboxd_buf_len(&c->to_client) == 0)
		dboxd_buf_free(&c->to_client);
	return 0;
}

void login_proxy_pump(struct login_client *c)
{
	unsigned int cev = 0, wev = 0;
	bool moved;

	do {
		moved = false;
		if (proxy_from_client(c, &moved) < 0 ||
		    proxy_to_worker(c, &moved) < 0 ||
		    proxy_from_worker(c, &moved) < 0 ||
		    proxy_to_client(c, &moved) < 0) {
			login_client_destroy(c);
			return;
		}
	} while (moved);

	/* The worker closed and everything it said is out: done. Or the
	   client left: the worker was told; nothing more can flow. */
	if ((c->worker_eof && dboxd_buf_len(&c->to_client) == 0) ||
	    (c->client_eof && dboxd_buf_len(&c->to_worker) == 0)) {
		login_client_destroy(c);
		return;
	}
	if ((!c->client_eof && dboxd_buf_len(&c->to_worker) < PROXY_BUF_MAX) ||
	    c->ssl_write_wants_read)
		cev |= DBOXD_IO_READ;
	if (dboxd_buf_len(&c->to_client) > 0 || c->ssl_read_wants_write)
		cev |= DBOXD_IO_WRITE;
	if (!c->worker_eof && dboxd_buf_len(&c->to_client) < PROXY_BUF_MAX)
		wev |= DBOXD_IO_READ;
	if (dboxd_buf_len(&c->to_worker) > 0)
		wev |= DBOXD_IO_WRITE;
	dboxd_io_set_events(c->io, cev);
	dboxd_io_set_events(c->proxy_io, wev);
}

static void proxy_io_cb(void *context, unsigned int events)
{
	(void)events;
	login_proxy_pump(context);
}
