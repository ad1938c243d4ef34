// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A pre-login connection: I/O over the socket or TLS, the greeting,
 * reading commands within limits, timeouts, handoff. See login.h.
 *
 * Everything happens in login_client_pump(): write what is queued, read
 * what is there, run complete commands, then watch for what is missing.
 * Reading stops while the master or auth is being asked (pipelined input
 * waits in the socket and goes to the worker with the connection).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>

#include "hash.h"
#include "imap-reader.h"
#include "log.h"
#include "login-tls.h"
#include "login.h"
#include "net.h"
#include "secret.h"

/* Pre-login commands are short: credentials and a few atoms. */
#define LOGIN_MAX_LINE		8192
#define LOGIN_MAX_LITERAL	8192
#define LOGIN_MAX_BAD_COMMANDS	10
#define LOGIN_MAX_AUTH_FAILURES	5
/* Stop reading when this much output waits (a client not reading). */
#define LOGIN_OUT_HIGH		(64 * 1024)

static void client_io_cb(void *context, unsigned int events);
static void client_timeout_cb(void *context);

void login_client_create(int fd, bool implicit_tls)
{
	static const struct imap_reader_settings reader_set = {
		.max_line = LOGIN_MAX_LINE,
		.max_literal = LOGIN_MAX_LITERAL,
		.max_literals_total = 2 * LOGIN_MAX_LITERAL,
		.max_literals = 4,
	};
	struct login_client *c = calloc(1, sizeof(*c));
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct dboxd_ipc_msg msg;

	if (c == NULL)
		dboxd_fatal("out of memory");
	c->fd = fd;
	c->proxy_fd = -1;
	c->implicit_tls = implicit_tls;
	/* the option stays with the socket when it is passed to the worker */
	dboxd_socket_set_nodelay(fd);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		dboxd_sockaddr_format((struct sockaddr *)&ss, c->ip,
				      sizeof(c->ip), &c->port);
		c->secured = dboxd_sockaddr_is_loopback((struct sockaddr *)&ss);
	} else {
		strcpy(c->ip, "unknown");
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		dboxd_sockaddr_format((struct sockaddr *)&ss, c->local_ip,
				      sizeof(c->local_ip), &c->local_port);
	dboxd_buf_init(&c->in, true);
	dboxd_buf_init(&c->out, false);
	dboxd_buf_init(&c->to_worker, true);
	dboxd_buf_init(&c->to_client, true);
	dboxd_pool_init(&c->pool);
	c->reader = imap_reader_create(&reader_set);
	c->state = LC_WAIT_MASTER;
	c->login_cid = ++login_g->next_cid;
	c->io = dboxd_io_add(login_g->loop, fd, 0, client_io_cb, c);
	c->timeout = dboxd_timer_add(login_g->loop,
				     login_g->config->set.login_timeout,
				     client_timeout_cb, c);
	c->next = login_g->clients;
	if (c->next != NULL)
		c->next->prev = c;
	login_g->clients = c;
	login_g->client_count++;
	dboxd_hash_set_id(login_g->pending, c->login_cid, c);
	login_accept_update();

	dboxd_ipc_msg_init(&msg, DBOXD_IPC_CONN_OPEN, false);
	dboxd_ipc_put_u32(&msg, c->login_cid);
	dboxd_ipc_put_str(&msg, c->ip);
	dboxd_ipc_put_u32(&msg, c->port);
	dboxd_ipc_put_str(&msg, c->local_ip);
	dboxd_ipc_put_u32(&msg, c->local_port);
	dboxd_ipc_put_u32(&msg, implicit_tls ? DBOXD_CONN_TLS : 0);
	dboxd_ipc_send(login_g->ipc, &msg, -1);
}

void login_client_destroy(struct login_client *c)
{
	if (c->state == LC_WAIT_MASTER) {
		dboxd_hash_remove_id(login_g->pending, c->login_cid);
		dboxd_hash_set_id(login_g->orphans, c->login_cid, (void *)1);
	} else if (c->conn_id != 0) {
		dboxd_hash_remove_id(login_g->conns, c->conn_id);
		if (c->state != LC_PROXY) {
			struct dboxd_ipc_msg msg;

			dboxd_ipc_msg_init(&msg, DBOXD_IPC_CONN_CLOSED, false);
			dboxd_ipc_put_u64(&msg, c->conn_id);
			dboxd_ipc_send(login_g->ipc, &msg, -1);
		}
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		login_g->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	login_g->client_count--;

	dboxd_timer_remove(&c->timeout);
	dboxd_io_remove(&c->io);
	dboxd_io_remove(&c->proxy_io);
	if (c->ssl != NULL) {
		/* Best effort close_notify; the socket is non-blocking. */
		if (SSL_is_init_finished(c->ssl))
			(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		ERR_clear_error();
	}
	if (c->fd >= 0)
		close(c->fd);
	if (c->proxy_fd >= 0)
		close(c->proxy_fd);
	imap_reader_destroy(&c->reader);
	dboxd_pool_free(&c->pool);
	dboxd_buf_free(&c->in);
	dboxd_buf_free(&c->out);
	dboxd_buf_free(&c->to_worker);
	dboxd_buf_free(&c->to_client);
	free(c->auth_tag);
	dboxd_secret_free(c->sasl_authcid);
	free(c);
	login_client_closed_hook();
}

void login_client_send(struct login_client *c, const char *fmt, ...)
{
	va_list args;
	char line[1024];
	int n;

	va_start(args, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, args);
	va_end(args);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 3)
		n = sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	dboxd_buf_append(&c->out, line, (size_t)n);
}

void login_client_close(struct login_client *c, const char *bye)
{
	/* No pump here: callers inside command processing must not see
	   the client vanish; those outside pump themselves. */
	if (bye != NULL)
		login_client_send(c, "* BYE %s", bye);
	c->state = LC_CLOSING;
}

void login_clients_shutdown(const char *bye)
{
	while (login_g->clients != NULL) {
		struct login_client *c = login_g->clients;

		if (c->state != LC_PROXY && c->state != LC_WAIT_MASTER) {
			login_client_send(c, "* BYE %s", bye);
			(void)login_client_write(c, dboxd_buf_ptr(&c->out),
						 dboxd_buf_len(&c->out));
		}
		login_client_destroy(c);
	}
}

static void client_timeout_cb(void *context)
{
	struct login_client *c = context;

	if (c->state == LC_PROXY) {
		/* Logged in: the worker keeps the time now. */
		dboxd_timer_remove(&c->timeout);
		return;
	}
	dboxd_debug("%s: pre-login timeout", c->ip);
	if (c->state == LC_CLOSING) {
		login_client_destroy(c);
		return;
	}
	login_client_close(c, "Disconnected for inactivity.");
	login_client_pump(c);
}

/* ---- raw I/O ------------------------------------------------------------ */

static ssize_t tls_result(struct login_client *c, int ret, bool reading)
{
	int err = SSL_get_error(c->ssl, ret);

	switch (err) {
	case SSL_ERROR_WANT_READ:
		if (!reading)
			c->ssl_write_wants_read = true;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		if (reading)
			c->ssl_read_wants_write = true;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		dboxd_debug("%s: TLS: %s", c->ip,
			    err == SSL_ERROR_SYSCALL ? strerror(errno) :
			    login_tls_error());
		ERR_clear_error();
		return -2;
	}
}

ssize_t login_client_read(struct login_client *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->ssl != NULL) {
		int ret;

		c->ssl_read_wants_write = false;
		ret = SSL_read(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
		return ret > 0 ? ret : tls_result(c, ret, true);
	}
	n = recv(c->fd, buf, len, MSG_DONTWAIT);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return -2;
	if (n < 0)
		errno = EAGAIN;
	return n;
}

ssize_t login_client_write(struct login_client *c, const void *buf,
			   size_t len)
{
	ssize_t n;

	if (len == 0)
		return 0;
	if (c->ssl != NULL) {
		int ret;

		c->ssl_write_wants_read = false;
		ret = SSL_write(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
		if (ret > 0)
			return ret;
		n = tls_result(c, ret, false);
		return n == 0 ? -2 : n;
	}
	n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return -2;
	if (n < 0)
		errno = EAGAIN;
	return n;
}

/* Returns -1 if the connection broke. */
static int client_flush(struct login_client *c)
{
	while (dboxd_buf_len(&c->out) > 0) {
		ssize_t n = login_client_write(c, dboxd_buf_ptr(&c->out),
					       dboxd_buf_len(&c->out));

		if (n == -1)
			return 0;
		if (n < 0)
			return -1;
		dboxd_buf_consume(&c->out, (size_t)n);
	}
	if (dboxd_buf_len(&c->out) == 0)
		dboxd_buf_free(&c->out);
	return 0;
}

/* Returns -1 on EOF or error. */
static int client_read_input(struct login_client *c)
{
	for (;;) {
		unsigned char *p;
		ssize_t n;

		/* Unparsed input never grows past one line plus a bit: the
		   reader consumes literals as they come. */
		if (dboxd_buf_len(&c->in) > LOGIN_MAX_LINE + 4096)
			return 0;
		p = dboxd_buf_reserve(&c->in, 4096);
		n = login_client_read(c, p, 4096);
		if (n == -1)
			return 0;
		if (n <= 0)
			return -1;
		dboxd_buf_commit(&c->in, (size_t)n);
		dboxd_timer_reset(c->timeout, login_g->config->set.login_timeout);
	}
}

/* ---- TLS handshake ------------------------------------------------------ */

static int client_tls_begin(struct login_client *c)
{
	c->ssl = SSL_new(login_g->ssl_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		dboxd_error("SSL_new: %s", login_tls_error());
		return -1;
	}
	c->state = LC_TLS_HANDSHAKE;
	c->secured = true;
	return 0;
}

static void client_greet(struct login_client *c)
{
	struct dboxd_buf caps;

	dboxd_buf_init(&caps, false);
	login_client_capability(c, &caps);
	dboxd_buf_append(&caps, "", 1);
	login_client_send(c, "* OK [CAPABILITY %s] %s", caps.data,
			  login_g->config->set.imap_greeting);
	dboxd_buf_free(&caps);
}

/* Returns -1 if the handshake failed. */
static int client_tls_handshake(struct login_client *c)
{
	int ret = SSL_accept(c->ssl);

	c->ssl_read_wants_write = c->ssl_write_wants_read = false;
	if (ret == 1) {
		dboxd_debug("%s: TLS %s established", c->ip,
			    SSL_get_version(c->ssl));
		c->state = LC_COMMANDS;
		if (c->implicit_tls)
			client_greet(c);
		return 0;
	}
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return 0;
	case SSL_ERROR_WANT_WRITE:
		c->ssl_read_wants_write = true;
		return 0;
	default:
		dboxd_info("%s: TLS handshake failed: %s", c->ip,
			   login_tls_error());
		return -1;
	}
}

void login_client_starttls(struct login_client *c)
{
	/* Whatever the client sent after STARTTLS must not be taken as
	   coming over TLS (the STARTTLS command injection attack). */
	dboxd_buf_reset(&c->in);
	imap_reader_done(c->reader);
	c->starttls_pending = true;
}

/* ---- master answers ----------------------------------------------------- */

void login_client_master_open_reply(struct login_client *c, uint64_t conn_id,
				    const char *reason)
{
	if (conn_id == 0) {
		c->state = LC_COMMANDS;
		if (c->implicit_tls) {
			/* No TLS yet: a plain BYE would be garbage. */
			login_client_destroy(c);
			return;
		}
		login_client_close(c, reason);
		login_client_pump(c);
		return;
	}
	c->conn_id = conn_id;
	dboxd_hash_set_id(login_g->conns, conn_id, c);
	if (c->implicit_tls) {
		if (login_g->ssl_ctx == NULL || client_tls_begin(c) < 0) {
			login_client_destroy(c);
			return;
		}
	} else {
		c->state = LC_COMMANDS;
		client_greet(c);
	}
	login_client_pump(c);
}

static void client_handoff(struct login_client *c)
{
	struct dboxd_ipc_msg msg;
	uint32_t flags = 0;
	int fd;

	if (c->ssl != NULL)
		flags |= DBOXD_CONN_TLS | DBOXD_CONN_PROXIED;
	if (c->secured)
		flags |= DBOXD_CONN_SECURED;
	if (dboxd_buf_len(&c->out) > 0 && client_flush(c) < 0) {
		login_client_destroy(c);
		return;
	}
	if (c->ssl != NULL) {
		if (login_proxy_start(c, &fd) < 0) {
			login_client_send(c, "%s NO [UNAVAILABLE] Internal error",
					  c->auth_tag);
			c->state = LC_COMMANDS;
			return;
		}
	} else {
		/* The socket itself goes; nothing of it stays here. Stop
		   watching it first: an epoll registration follows the open
		   file, which lives on in the worker. */
		dboxd_io_remove(&c->io);
		fd = c->fd;
		c->fd = -1;
	}
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_HANDOFF, true);
	dboxd_ipc_put_u64(&msg, c->conn_id);
	dboxd_ipc_put_str(&msg, c->auth_tag);
	dboxd_ipc_put_bytes(&msg, dboxd_buf_ptr(&c->in), dboxd_buf_len(&c->in));
	dboxd_ipc_put_u32(&msg, flags);
	dboxd_ipc_send(login_g->ipc, &msg, fd);
	dboxd_buf_free(&c->in);
	if (c->ssl == NULL) {
		/* The worker owns it now and reports its end. */
		dboxd_hash_remove_id(login_g->conns, c->conn_id);
		c->conn_id = 0;
		login_client_destroy(c);
		return;
	}
	c->state = LC_PROXY;
	dboxd_timer_remove(&c->timeout);
	login_proxy_pump(c);
}

void login_client_auth_result(struct login_client *c, uint32_t result,
			      const char *reason)
{
	if (result == DBOXD_AUTH_OK) {
		client_handoff(c);
		return;
	}
	c->state = LC_COMMANDS;
	if (result == DBOXD_AUTH_TEMPFAIL) {
		login_client_send(c, "%s NO %s", c->auth_tag,
				  reason[0] != '\0' ? reason :
				  "[UNAVAILABLE] Temporary authentication failure");
	} else {
		login_client_send(c, "%s NO %s", c->auth_tag,
				  reason[0] != '\0' ? reason :
				  "[AUTHENTICATIONFAILED] Authentication failed.");
		c->auth_failures++;
	}
	free(c->auth_tag);
	c->auth_tag = NULL;
	if (c->auth_failures >= LOGIN_MAX_AUTH_FAILURES)
		login_client_close(c, "Too many failed logins.");
	login_client_pump(c);
}

/* ---- commands ----------------------------------------------------------- */

static void client_bad(struct login_client *c, const char *tag,
		       const char *error)
{
	login_client_send(c, "%s BAD %s", tag, error);
	if (++c->bad_commands >= LOGIN_MAX_BAD_COMMANDS)
		login_client_close(c, "Too many invalid commands.");
}

/* Run what input holds; stops when the state leaves LC_COMMANDS/SASL. */
static void client_process_input(struct login_client *c)
{
	while (c->state == LC_COMMANDS || c->state == LC_SASL) {
		struct imap_parsed_command cmd;
		const char *error;

		if (dboxd_buf_len(&c->out) > LOGIN_OUT_HIGH ||
		    c->starttls_pending)
			return;
		if (c->state == LC_SASL) {
			char *line;
			int ret = imap_read_raw_line(&c->in, LOGIN_MAX_LINE,
						     &line, true);

			if (ret == 0)
				return;
			if (ret < 0) {
				login_client_close(c, "SASL response too long.");
				return;
			}
			login_client_sasl_line(c, line);
			dboxd_secret_free(line);
			continue;
		}
		switch (imap_reader_feed(c->reader, &c->in)) {
		case IMAP_READER_NEED_MORE:
			return;
		case IMAP_READER_CONTINUE:
			login_client_send(c, "+ OK");
			continue;
		case IMAP_READER_TOOBIG:
			login_client_send(c, "%s NO [TOOBIG] %s",
					  imap_reader_tag(c->reader),
					  imap_reader_error(c->reader));
			continue;
		case IMAP_READER_BAD:
			client_bad(c, imap_reader_tag(c->reader),
				   imap_reader_error(c->reader));
			continue;
		case IMAP_READER_FATAL:
			login_client_close(c, imap_reader_error(c->reader));
			return;
		case IMAP_READER_COMMAND:
			break;
		}
		if (imap_parse_command(imap_reader_command(c->reader),
				       &c->pool, &cmd, &error) < 0) {
			struct imap_parsed_command tagonly;

			if (imap_parse_tag_name(imap_reader_command(c->reader),
						&c->pool, &tagonly, &error) < 0)
				client_bad(c, imap_reader_tag(c->reader),
					   error);
			else
				client_bad(c, tagonly.tag, error);
		} else {
			login_client_command(c, &cmd);
		}
		imap_reader_done(c->reader);
		dboxd_pool_clear(&c->pool);
	}
}

static void client_update_events(struct login_client *c)
{
	unsigned int ev = 0;
	bool reading = false;

	switch (c->state) {
	case LC_TLS_HANDSHAKE:
		reading = true;
		break;
	case LC_COMMANDS:
	case LC_SASL:
		/* Pre-login output is small: read again once it is out. */
		reading = !c->starttls_pending && dboxd_buf_len(&c->out) == 0;
		break;
	default:
		break;
	}
	if (reading || c->ssl_write_wants_read)
		ev |= DBOXD_IO_READ;
	if (dboxd_buf_len(&c->out) > 0 || c->ssl_read_wants_write)
		ev |= DBOXD_IO_WRITE;
	dboxd_io_set_events(c->io, ev);
}

void login_client_pump(struct login_client *c)
{
	if (c->state == LC_PROXY) {
		login_proxy_pump(c);
		return;
	}
	for (;;) {
		if (client_flush(c) < 0) {
			login_client_destroy(c);
			return;
		}
		if (c->state == LC_CLOSING) {
			if (dboxd_buf_len(&c->out) == 0) {
				login_client_destroy(c);
				return;
			}
			break;
		}
		if (dboxd_buf_len(&c->out) > 0)
			break;	/* socket full: wait until writable */
		if (c->starttls_pending) {
			c->starttls_pending = false;
			if (client_tls_begin(c) < 0) {
				login_client_destroy(c);
				return;
			}
		}
		if (c->state == LC_TLS_HANDSHAKE) {
			if (client_tls_handshake(c) < 0) {
				login_client_destroy(c);
				return;
			}
			if (c->state == LC_TLS_HANDSHAKE)
				break;
			continue;	/* the greeting may be queued */
		}
		if (c->state != LC_COMMANDS && c->state != LC_SASL)
			break;
		if (client_read_input(c) < 0) {
			login_client_destroy(c);
			return;
		}
		client_process_input(c);
		if (c->state == LC_PROXY)
			return;
		/* Input is drained and handled; stop unless there is
		   output to write or TLS to start. */
		if (dboxd_buf_len(&c->out) == 0 && !c->starttls_pending)
			break;
	}
	client_update_events(c);
}

static void client_io_cb(void *context, unsigned int events)
{
	struct login_client *c = context;

	(void)events;
	login_client_pump(c);
}
