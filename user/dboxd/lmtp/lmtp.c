// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The lmtp role: LMTP (RFC 2033) for an MTA such as Postfix to hand mail to
 * dboxd. It runs as login_user, chrooted into the empty directory, on the
 * listeners the master opened (lmtp_listen: TCP or a Unix socket). It asks
 * the master whether each recipient is a local user (auth answers), reads
 * the message into a memfd and hands it to the master, which has the
 * user's worker save it into INBOX; the answer per recipient follows
 * (RFC 2033 4.2: one reply per accepted recipient after DATA).
 *
 * Supported: LHLO, MAIL FROM (SIZE=, BODY=), RCPT TO, DATA, RSET, NOOP,
 * QUIT, VRFY (252), STARTTLS; PIPELINING, ENHANCEDSTATUSCODES, 8BITMIME,
 * SIZE.
 *
 * STARTTLS (RFC 3207) uses the login processes' TLS context (ssl_cert,
 * ssl_key, ssl_min_protocol, ssl_cipher_list; built before the privilege
 * drop, like login's). Input pipelined after STARTTLS is discarded and the
 * session starts over (LHLO again). lmtp_require_tls refuses MAIL from
 * clients that are neither on a loopback address nor on the Unix socket
 * until they secured the session: an MTA on another host must not hand
 * mail over in the clear.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "config.h"
#include "hash.h"
#include "ipc.h"
#include "log.h"
#include "login/login-tls.h"
#include "loop.h"
#include "net.h"
#include "privsep.h"
#include "roles.h"
#include "seccomp.h"
#include "secret.h"

#define LMTP_MAX_LINE		4096
#define LMTP_MAX_RCPTS		100
#define LMTP_TIMEOUT_MSECS	(5 * 60 * 1000)

enum rcpt_state {
	RCPT_LOOKING_UP,
	RCPT_OK,
	RCPT_DELIVERING,
	RCPT_DONE,
};

struct lmtp_rcpt {
	char *address;
	char *user;
	enum rcpt_state state;
	uint64_t req_id;
	/* the reply after DATA, sent in recipient order (RFC 2033 4.2) */
	char *reply;
	bool accepted;		/* got 250 at RCPT */
};

enum session_state {
	S_GREETED,	/* before LHLO */
	S_READY,	/* LHLO done */
	S_MAIL,		/* MAIL FROM given */
	S_DATA,		/* reading the message */
	S_DELIVERING,	/* waiting for the workers */
	S_CLOSING,
};

struct lmtp_session {
	struct lmtp_session *next, *prev;
	int fd;
	struct dboxd_io *io;
	struct dboxd_timer *timeout;
	enum session_state state;
	struct dboxd_buf in, out;
	char *sender;
	struct lmtp_rcpt rcpts[LMTP_MAX_RCPTS];
	unsigned int rcpt_count;
	/* a RCPT waiting for the master holds further input back */
	bool waiting;
	struct dboxd_buf data;	/* secret: the message */
	bool data_too_big;
	unsigned int pending;	/* deliveries not answered */
	unsigned int next_reply;	/* rcpt index to answer next */
	/* TLS: ssl is set from the STARTTLS reply on */
	SSL *ssl;
	bool starttls_pending;	/* 220 queued; handshake once it is out */
	bool tls_handshaking;
	bool ssl_read_wants_write, ssl_write_wants_read;
	bool local;		/* loopback address or the Unix socket */
};

struct lmtp_state {
	struct dboxd_config *config;
	struct dboxd_loop *loop;
	struct dboxd_ipc *ipc;
	struct dboxd_io **listen_ios;
	const int *listen_fds;
	unsigned int listen_count;
	struct lmtp_session *sessions;
	struct dboxd_hash *requests;	/* req id -> session */
	SSL_CTX *ssl_ctx;		/* NULL: no STARTTLS */
	uint64_t next_req;
	char hostname[256];
	bool shutting_down;
	int signal_fd;
	struct dboxd_io *signal_io;
};

static struct lmtp_state *lmtp;

static void session_pump(struct lmtp_session *s);

static void session_send(struct lmtp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void session_send(struct lmtp_session *s, const char *fmt, ...)
{
	char line[1024];
	va_list args;
	int n;

	va_start(args, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, args);
	va_end(args);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 3)
		n = sizeof(line) - 3;
	memcpy(line + n, "\r\n", 2);
	dboxd_buf_append(&s->out, line, (size_t)n + 2);
}

static void session_reset(struct lmtp_session *s)
{
	for (unsigned int i = 0; i < s->rcpt_count; i++) {
		if (s->rcpts[i].state == RCPT_LOOKING_UP ||
		    s->rcpts[i].state == RCPT_DELIVERING)
			dboxd_hash_remove_id(lmtp->requests,
					     s->rcpts[i].req_id);
		free(s->rcpts[i].address);
		free(s->rcpts[i].user);
		free(s->rcpts[i].reply);
	}
	s->rcpt_count = 0;
	free(s->sender);
	s->sender = NULL;
	dboxd_buf_free(&s->data);
	s->data_too_big = false;
	s->pending = 0;
	s->next_reply = 0;
	s->waiting = false;
}

static void session_destroy(struct lmtp_session *s)
{
	session_reset(s);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		lmtp->sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	dboxd_timer_remove(&s->timeout);
	dboxd_io_remove(&s->io);
	if (s->ssl != NULL) {
		if (SSL_is_init_finished(s->ssl))
			(void)SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
		ERR_clear_error();
	}
	close(s->fd);
	dboxd_buf_free(&s->in);
	dboxd_buf_free(&s->out);
	free(s);
	if (lmtp->shutting_down && lmtp->sessions == NULL)
		exit(0);
}

/* <address> after "FROM:" / "TO:", with optional parameters after it. */
static char *parse_path(const char *arg, const char **params_r)
{
	const char *lt, *gt;

	while (*arg == ' ')
		arg++;
	if (*arg != '<')
		return NULL;
	lt = arg;
	gt = strchr(lt, '>');
	if (gt == NULL)
		return NULL;
	for (const char *p = lt + 1; p < gt; p++) {
		if ((unsigned char)*p < 0x20 || *p == '\\')
			return NULL;
	}
	*params_r = gt + 1;
	return strndup(lt + 1, gt - lt - 1);
}

static uint64_t max_size(void)
{
	return lmtp->config->set.imap_max_literal_size;
}

static void cmd_mail(struct lmtp_session *s, const char *arg)
{
	const char *params;
	char *sender;

	if (s->state != S_READY) {
		session_send(s, s->state == S_GREETED ?
			     "503 5.5.1 LHLO first" :
			     "503 5.5.1 MAIL already given");
		return;
	}
	if (lmtp->config->set.lmtp_require_tls && !s->local && s->ssl == NULL) {
		session_send(s, "530 5.7.0 Must issue a STARTTLS command first");
		return;
	}
	if (strncasecmp(arg, "FROM:", 5) != 0 ||
	    (sender = parse_path(arg + 5, &params)) == NULL) {
		session_send(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	for (const char *p = params; (p = strcasestr(p, "SIZE=")) != NULL;
	     p += 5) {
		if (strtoull(p + 5, NULL, 10) > max_size()) {
			free(sender);
			session_send(s, "552 5.3.4 Message too big (limit %llu)",
				     (unsigned long long)max_size());
			return;
		}
	}
	s->sender = sender;
	s->state = S_MAIL;
	session_send(s, "250 2.1.0 OK");
}

static void cmd_rcpt(struct lmtp_session *s, const char *arg)
{
	struct lmtp_rcpt *r;
	struct dboxd_ipc_msg msg;
	const char *params;
	char *address;

	if (s->state != S_MAIL) {
		session_send(s, "503 5.5.1 MAIL first");
		return;
	}
	if (strncasecmp(arg, "TO:", 3) != 0 ||
	    (address = parse_path(arg + 3, &params)) == NULL ||
	    address[0] == '\0' || strlen(address) > 512) {
		session_send(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (s->rcpt_count == LMTP_MAX_RCPTS) {
		free(address);
		session_send(s, "452 4.5.3 Too many recipients");
		return;
	}
	r = &s->rcpts[s->rcpt_count++];
	memset(r, 0, sizeof(*r));
	r->address = address;
	r->state = RCPT_LOOKING_UP;
	r->req_id = ++lmtp->next_req;
	dboxd_hash_set_id(lmtp->requests, r->req_id, s);
	s->waiting = true;
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_RCPT_LOOKUP, false);
	dboxd_ipc_put_u64(&msg, r->req_id);
	dboxd_ipc_put_str(&msg, address);
	dboxd_ipc_send(lmtp->ipc, &msg, -1);
}

static unsigned int rcpts_ok(const struct lmtp_session *s)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < s->rcpt_count; i++)
		n += s->rcpts[i].state == RCPT_OK;
	return n;
}

static void cmd_data(struct lmtp_session *s)
{
	if (s->state != S_MAIL) {
		session_send(s, "503 5.5.1 MAIL first");
		return;
	}
	if (rcpts_ok(s) == 0) {
		session_send(s, "503 5.5.1 No valid recipients");
		return;
	}
	dboxd_buf_init(&s->data, true);
	s->state = S_DATA;
	session_send(s, "354 OK");
}

static void cmd_starttls(struct lmtp_session *s, const char *arg)
{
	if (lmtp->ssl_ctx == NULL) {
		session_send(s, "454 4.7.0 TLS not available");
		return;
	}
	if (s->ssl != NULL) {
		session_send(s, "503 5.5.1 TLS already active");
		return;
	}
	if (arg[0] != '\0') {
		session_send(s, "501 5.5.4 Syntax: STARTTLS");
		return;
	}
	if (s->state == S_MAIL) {
		session_send(s, "503 5.5.1 MAIL transaction in progress");
		return;
	}
	session_send(s, "220 2.0.0 Ready to start TLS");
	/* Whatever came after STARTTLS in the clear must not be taken as
	   coming over TLS (command injection, CVE-2011-0411 style). */
	dboxd_buf_reset(&s->in);
	s->starttls_pending = true;
}

static void session_lhlo(struct lmtp_session *s)
{
	session_reset(s);
	s->state = S_READY;
	session_send(s, "250-%s", lmtp->hostname);
	session_send(s, "250-PIPELINING");
	session_send(s, "250-ENHANCEDSTATUSCODES");
	session_send(s, "250-8BITMIME");
	if (lmtp->ssl_ctx != NULL && s->ssl == NULL)
		session_send(s, "250-STARTTLS");
	session_send(s, "250 SIZE %llu", (unsigned long long)max_size());
}

static void session_command(struct lmtp_session *s, char *line)
{
	char *arg = strchr(line, ' ');

	if (arg != NULL)
		*arg++ = '\0';
	else
		arg = line + strlen(line);
	if (strcasecmp(line, "LHLO") == 0 && arg[0] != '\0') {
		session_lhlo(s);
	} else if (strcasecmp(line, "STARTTLS") == 0) {
		cmd_starttls(s, arg);
	} else if (strcasecmp(line, "MAIL") == 0) {
		cmd_mail(s, arg);
	} else if (strcasecmp(line, "RCPT") == 0) {
		cmd_rcpt(s, arg);
	} else if (strcasecmp(line, "DATA") == 0) {
		cmd_data(s);
	} else if (strcasecmp(line, "RSET") == 0) {
		session_reset(s);
		if (s->state != S_GREETED)
			s->state = S_READY;
		session_send(s, "250 2.0.0 OK");
	} else if (strcasecmp(line, "NOOP") == 0) {
		session_send(s, "250 2.0.0 OK");
	} else if (strcasecmp(line, "VRFY") == 0) {
		session_send(s, "252 2.3.3 Try RCPT instead");
	} else if (strcasecmp(line, "QUIT") == 0) {
		session_send(s, "221 2.0.0 Bye");
		s->state = S_CLOSING;
	} else {
		session_send(s, "500 5.5.2 Unknown command");
	}
}

/* The message is complete: hand it over, once per good recipient. */
static void rcpt_reply(struct lmtp_rcpt *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void rcpt_reply(struct lmtp_rcpt *r, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	if (vasprintf(&r->reply, fmt, args) < 0)
		dboxd_fatal("out of memory");
	va_end(args);
	r->state = RCPT_DONE;
}

static void session_replies(struct lmtp_session *s);

static void session_deliver(struct lmtp_session *s)
{
	int fd;

	s->state = S_DELIVERING;
	s->next_reply = 0;
	if (s->data_too_big) {
		for (unsigned int i = 0; i < s->rcpt_count; i++) {
			if (s->rcpts[i].state == RCPT_OK)
				rcpt_reply(&s->rcpts[i],
					   "552 5.3.4 <%s> Message too big",
					   s->rcpts[i].address);
		}
		dboxd_buf_free(&s->data);
		session_replies(s);
		return;
	}
	for (unsigned int i = 0; i < s->rcpt_count; i++) {
		struct lmtp_rcpt *r = &s->rcpts[i];
		struct dboxd_ipc_msg msg;
		size_t len = dboxd_buf_len(&s->data);

		if (r->state != RCPT_OK)
			continue;
		/* a memfd: the message crosses processes without copies
		   through the master's memory */
		fd = memfd_create("dboxd-lmtp", MFD_CLOEXEC);
		if (fd < 0 || write(fd, dboxd_buf_ptr(&s->data), len) !=
			      (ssize_t)len) {
			if (fd >= 0)
				close(fd);
			rcpt_reply(r, "451 4.3.0 <%s> Temporary failure",
				   r->address);
			continue;
		}
		r->state = RCPT_DELIVERING;
		r->req_id = ++lmtp->next_req;
		dboxd_hash_set_id(lmtp->requests, r->req_id, s);
		s->pending++;
		dboxd_ipc_msg_init(&msg, DBOXD_IPC_DELIVER, false);
		dboxd_ipc_put_u64(&msg, r->req_id);
		dboxd_ipc_put_str(&msg, r->user);
		dboxd_ipc_put_str(&msg, s->sender);
		dboxd_ipc_put_str(&msg, r->address);
		dboxd_ipc_send(lmtp->ipc, &msg, fd);
	}
	dboxd_buf_free(&s->data);
	session_replies(s);
}

/* One line of DATA (without CRLF). Returns true at the final ".". */
static bool session_data_line(struct lmtp_session *s, const char *line,
			      size_t len)
{
	if (len == 1 && line[0] == '.')
		return true;
	if (line[0] == '.')	/* dot-stuffing */
		line++, len--;
	if (dboxd_buf_len(&s->data) + len + 2 > max_size()) {
		s->data_too_big = true;
		dboxd_buf_free(&s->data);
	}
	if (!s->data_too_big) {
		dboxd_buf_append(&s->data, line, len);
		dboxd_buf_append(&s->data, "\r\n", 2);
	}
	return false;
}

/* The answers after DATA go in recipient order, as they become known. */
static void session_replies(struct lmtp_session *s)
{
	while (s->next_reply < s->rcpt_count) {
		struct lmtp_rcpt *r = &s->rcpts[s->next_reply];

		if (r->state == RCPT_DELIVERING)
			return;
		if (r->accepted && r->reply != NULL)
			session_send(s, "%s", r->reply);
		s->next_reply++;
	}
	if (s->state == S_DELIVERING && s->pending == 0) {
		session_reset(s);
		s->state = S_READY;
	}
}

static void session_process(struct lmtp_session *s)
{
	while (!s->waiting && !s->starttls_pending &&
	       s->state != S_DELIVERING && s->state != S_CLOSING) {
		const char *data = (const char *)dboxd_buf_ptr(&s->in);
		size_t avail = dboxd_buf_len(&s->in), len;
		const char *lf = memchr(data, '\n', avail);
		char line[LMTP_MAX_LINE + 1];

		if (lf == NULL) {
			if (avail > LMTP_MAX_LINE && s->state != S_DATA) {
				session_send(s, "500 5.5.2 Line too long");
				s->state = S_CLOSING;
			}
			if (avail > 1024 * 1024 && s->state == S_DATA) {
				/* a "line" of a megabyte: keep it as is */
				session_data_line(s, data, avail);
				dboxd_buf_consume(&s->in, avail);
			}
			return;
		}
		len = lf - data;
		if (len > 0 && data[len - 1] == '\r')
			len--;
		if (s->state == S_DATA) {
			bool end = session_data_line(s, data, len);

			dboxd_buf_consume(&s->in, lf - data + 1);
			if (end)
				session_deliver(s);
			continue;
		}
		if (len > LMTP_MAX_LINE) {
			session_send(s, "500 5.5.2 Line too long");
			dboxd_buf_consume(&s->in, lf - data + 1);
			continue;
		}
		memcpy(line, data, len);
		line[len] = '\0';
		dboxd_buf_consume(&s->in, lf - data + 1);
		session_command(s, line);
	}
}

/* ---- raw I/O, plain or TLS ---------------------------------------------- */

/* n > 0 bytes, 0 at EOF, -1 with nothing to do now, -2 broken. */
static ssize_t tls_result(struct lmtp_session *s, int ret, bool reading)
{
	int err = SSL_get_error(s->ssl, ret);

	switch (err) {
	case SSL_ERROR_WANT_READ:
		if (!reading)
			s->ssl_write_wants_read = true;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		if (reading)
			s->ssl_read_wants_write = true;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		dboxd_debug("TLS: %s", err == SSL_ERROR_SYSCALL ?
			    strerror(errno) : login_tls_error());
		ERR_clear_error();
		return -2;
	}
}

static ssize_t session_read(struct lmtp_session *s, void *buf, size_t len)
{
	ssize_t n;

	if (s->ssl != NULL) {
		int ret;

		s->ssl_read_wants_write = false;
		ret = SSL_read(s->ssl, buf, (int)len);
		return ret > 0 ? ret : tls_result(s, ret, true);
	}
	n = recv(s->fd, buf, len, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -1 : -2;
	return n;
}

static ssize_t session_write(struct lmtp_session *s, const void *buf,
			     size_t len)
{
	ssize_t n;

	if (s->ssl != NULL) {
		int ret;

		s->ssl_write_wants_read = false;
		ret = SSL_write(s->ssl, buf, (int)len);
		if (ret > 0)
			return ret;
		n = tls_result(s, ret, false);
		return n == 0 ? -2 : n;
	}
	n = send(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -1 : -2;
	return n;
}

/* Returns -1 if the handshake failed. */
static int session_tls_handshake(struct lmtp_session *s)
{
	int ret;

	if (s->ssl == NULL) {
		s->ssl = SSL_new(lmtp->ssl_ctx);
		if (s->ssl == NULL || SSL_set_fd(s->ssl, s->fd) != 1) {
			dboxd_error("SSL_new: %s", login_tls_error());
			return -1;
		}
		s->tls_handshaking = true;
	}
	ret = SSL_accept(s->ssl);
	s->ssl_read_wants_write = s->ssl_write_wants_read = false;
	if (ret == 1) {
		dboxd_debug("TLS %s established", SSL_get_version(s->ssl));
		s->tls_handshaking = false;
		/* RFC 3207 4.2: forget what the client said in the clear */
		session_reset(s);
		s->state = S_GREETED;
		return 0;
	}
	switch (SSL_get_error(s->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return 0;
	case SSL_ERROR_WANT_WRITE:
		s->ssl_read_wants_write = true;
		return 0;
	default:
		dboxd_info("TLS handshake failed: %s", login_tls_error());
		return -1;
	}
}

static bool session_wants_input(const struct lmtp_session *s)
{
	return !s->waiting && !s->starttls_pending && !s->tls_handshaking &&
	       s->state != S_DELIVERING && s->state != S_CLOSING &&
	       dboxd_buf_len(&s->out) == 0;
}

static void session_pump(struct lmtp_session *s)
{
	unsigned int ev = 0;

	for (;;) {
		while (dboxd_buf_len(&s->out) > 0) {
			ssize_t n = session_write(s, dboxd_buf_ptr(&s->out),
						  dboxd_buf_len(&s->out));

			if (n == -1)
				break;
			if (n < 0) {
				session_destroy(s);
				return;
			}
			dboxd_buf_consume(&s->out, (size_t)n);
		}
		if (s->state == S_CLOSING && dboxd_buf_len(&s->out) == 0) {
			session_destroy(s);
			return;
		}
		if (dboxd_buf_len(&s->out) > 0)
			break;
		if (s->starttls_pending) {
			/* the 220 is out: the next bytes are the handshake */
			s->starttls_pending = false;
			if (session_tls_handshake(s) < 0) {
				session_destroy(s);
				return;
			}
		} else if (s->tls_handshaking) {
			if (session_tls_handshake(s) < 0) {
				session_destroy(s);
				return;
			}
		}
		if (s->tls_handshaking || !session_wants_input(s))
			break;
		{
			unsigned char *p = dboxd_buf_reserve(&s->in, 65536);
			ssize_t n = session_read(s, p, 65536);

			if (n == 0 || n == -2) {
				session_destroy(s);
				return;
			}
			if (n < 0)
				break;
			dboxd_buf_commit(&s->in, (size_t)n);
			dboxd_timer_reset(s->timeout, LMTP_TIMEOUT_MSECS);
		}
		session_process(s);
	}
	if (session_wants_input(s) || s->ssl_write_wants_read ||
	    (s->tls_handshaking && !s->ssl_read_wants_write))
		ev |= DBOXD_IO_READ;
	if (dboxd_buf_len(&s->out) > 0 || s->ssl_read_wants_write)
		ev |= DBOXD_IO_WRITE;
	dboxd_io_set_events(s->io, ev);
}

static void session_io_cb(void *context, unsigned int events)
{
	(void)events;
	session_pump(context);
}

static void session_timeout_cb(void *context)
{
	struct lmtp_session *s = context;

	session_send(s, "421 4.4.2 Timeout");
	s->state = S_CLOSING;
	session_pump(s);
}

/* The Unix socket, or a loopback peer: the mail does not cross a
   network, lmtp_require_tls does not apply. */
static bool session_is_local(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return false;
	if (ss.ss_family == AF_UNIX)
		return true;
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return false;
	return dboxd_sockaddr_is_loopback((struct sockaddr *)&ss);
}

static void lmtp_listen_cb(void *context, unsigned int events)
{
	unsigned int idx = (unsigned int)(uintptr_t)context;

	(void)events;
	for (;;) {
		int fd = accept4(lmtp->listen_fds[idx], NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct lmtp_session *s;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;
		}
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			dboxd_fatal("out of memory");
		s->fd = fd;
		s->local = session_is_local(fd);
		dboxd_socket_set_nodelay(fd);
		dboxd_buf_init(&s->in, true);
		dboxd_buf_init(&s->out, false);
		dboxd_buf_init(&s->data, true);
		s->next = lmtp->sessions;
		if (s->next != NULL)
			s->next->prev = s;
		lmtp->sessions = s;
		s->io = dboxd_io_add(lmtp->loop, fd, 0, session_io_cb, s);
		s->timeout = dboxd_timer_add(lmtp->loop, LMTP_TIMEOUT_MSECS,
					     session_timeout_cb, s);
		session_send(s, "220 %s dboxd LMTP ready", lmtp->hostname);
		session_pump(s);
	}
}

/* ---- the master's answers ---------------------------------------------- */

static struct lmtp_rcpt *find_rcpt(struct lmtp_session *s, uint64_t req)
{
	for (unsigned int i = 0; i < s->rcpt_count; i++) {
		if (s->rcpts[i].req_id == req)
			return &s->rcpts[i];
	}
	return NULL;
}

static int master_rcpt_result(void *context __attribute__((unused)),
			      struct dboxd_ipc_reader *r,
			      int fd __attribute__((unused)))
{
	uint64_t req = dboxd_ipc_get_u64(r);
	uint32_t result = dboxd_ipc_get_u32(r);
	const char *user = dboxd_ipc_get_str(r);
	struct lmtp_session *s;
	struct lmtp_rcpt *rc;

	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	s = dboxd_hash_get_id(lmtp->requests, req);
	if (s == NULL)
		return 0;
	dboxd_hash_remove_id(lmtp->requests, req);
	rc = find_rcpt(s, req);
	if (rc == NULL || rc->state != RCPT_LOOKING_UP)
		return -1;
	if (result == DBOXD_AUTH_OK) {
		rc->state = RCPT_OK;
		rc->accepted = true;
		rc->user = strdup(user);
		session_send(s, "250 2.1.5 OK");
	} else {
		rc->state = RCPT_DONE;
		if (result == DBOXD_AUTH_FAIL)
			session_send(s, "550 5.1.1 <%s> User doesn't exist",
				     rc->address);
		else
			session_send(s, "451 4.3.0 <%s> Temporary user lookup failure",
				     rc->address);
	}
	s->waiting = false;
	session_pump(s);
	return 0;
}

static int master_delivered(void *context __attribute__((unused)),
			    struct dboxd_ipc_reader *r,
			    int fd __attribute__((unused)))
{
	uint64_t req = dboxd_ipc_get_u64(r);
	uint32_t result = dboxd_ipc_get_u32(r);
	const char *reason = dboxd_ipc_get_str(r);
	struct lmtp_session *s;
	struct lmtp_rcpt *rc;

	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	s = dboxd_hash_get_id(lmtp->requests, req);
	if (s == NULL)
		return 0;
	dboxd_hash_remove_id(lmtp->requests, req);
	rc = find_rcpt(s, req);
	if (rc == NULL || rc->state != RCPT_DELIVERING)
		return -1;
	s->pending--;
	if (result == DBOXD_AUTH_OK)
		rcpt_reply(rc, "250 2.0.0 <%s> Saved", rc->address);
	else if (result == DBOXD_AUTH_FAIL)
		rcpt_reply(rc, "552 5.2.2 <%s> %s", rc->address, reason);
	else
		rcpt_reply(rc, "451 4.2.0 <%s> %s", rc->address,
			   reason[0] != '\0' ? reason : "Try again later");
	/* replies keep recipient order: write those now due */
	session_replies(s);
	session_pump(s);
	return 0;
}

static int master_shutdown(void *context __attribute__((unused)),
			   struct dboxd_ipc_reader *r,
			   int fd __attribute__((unused)))
{
	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	lmtp->shutting_down = true;
	for (unsigned int i = 0; i < lmtp->listen_count; i++) {
		dboxd_io_remove(&lmtp->listen_ios[i]);
		close(lmtp->listen_fds[i]);
	}
	lmtp->listen_count = 0;
	if (lmtp->sessions == NULL)
		exit(0);
	return 0;
}

static const struct dboxd_ipc_handler lmtp_master_handlers[] = {
	{ DBOXD_IPC_RCPT_RESULT, master_rcpt_result },
	{ DBOXD_IPC_DELIVERED, master_delivered },
	{ DBOXD_IPC_SHUTDOWN, master_shutdown },
	{ DBOXD_IPC_NONE, NULL },
};

static void lmtp_master_error(void *context __attribute__((unused)),
			      const char *reason)
{
	dboxd_debug("master channel: %s", reason);
	exit(lmtp->shutting_down ? 0 : DBOXD_EXIT_FATAL);
}

static void lmtp_signal_cb(void *context __attribute__((unused)),
			   unsigned int events __attribute__((unused)))
{
	struct signalfd_siginfo si;

	while (read(lmtp->signal_fd, &si, sizeof(si)) == sizeof(si))
		exit(0);
}

void lmtp_main(const struct dboxd_role_env *env)
{
	const struct dboxd_settings *set = &env->config->set;
	const char *error;
	uid_t uid;
	gid_t gid;

	lmtp = calloc(1, sizeof(*lmtp));
	if (lmtp == NULL)
		dboxd_fatal("out of memory");
	lmtp->config = env->config;
	if (set->lmtp_hostname[0] != '\0')
		snprintf(lmtp->hostname, sizeof(lmtp->hostname), "%s",
			 set->lmtp_hostname);
	else if (gethostname(lmtp->hostname, sizeof(lmtp->hostname) - 1) < 0)
		strcpy(lmtp->hostname, "localhost");
	if (dboxd_secret_init(&error) < 0)
		dboxd_fatal("secret memory: %s", error);
	if (dboxd_user_parse(set->login_user, &uid, &gid, &error) < 0)
		dboxd_fatal("login_user: %s", error);
	/* The key is readable by root only: load it before the drop. */
	if (login_tls_ctx_create(env->config, &lmtp->ssl_ctx, &error) < 0)
		dboxd_fatal("%s", error);
	if (dboxd_drop_privileges(uid, gid, env->empty_dir, &error) < 0)
		dboxd_fatal("dropping privileges: %s", error);
	if (dboxd_loop_create(DBOXD_LOOP_EPOLL, &lmtp->loop, &error) < 0)
		dboxd_fatal("event loop: %s", error);
	lmtp->signal_fd = dboxd_signalfd_open(0);
	if (lmtp->signal_fd < 0)
		dboxd_fatal("signalfd: %m");
	lmtp->signal_io = dboxd_io_add(lmtp->loop, lmtp->signal_fd,
				       DBOXD_IO_READ, lmtp_signal_cb, NULL);
	lmtp->requests = dboxd_hash_create();
	lmtp->ipc = dboxd_ipc_create(lmtp->loop, env->ipc_fd, "master",
				     lmtp_master_handlers, lmtp_master_error,
				     NULL);
	lmtp->listen_fds = env->imap_fds;
	lmtp->listen_count = env->imap_count;
	lmtp->listen_ios = calloc(env->imap_count + 1,
				  sizeof(*lmtp->listen_ios));
	if (lmtp->listen_ios == NULL)
		dboxd_fatal("out of memory");
	for (unsigned int i = 0; i < env->imap_count; i++)
		lmtp->listen_ios[i] = dboxd_io_add(lmtp->loop, env->imap_fds[i],
						   DBOXD_IO_READ,
						   lmtp_listen_cb,
						   (void *)(uintptr_t)i);
	/* Set up: from here on only the syscalls serving clients. */
	if (dboxd_seccomp_apply(DBOXD_SECCOMP_LMTP, &error) < 0)
		dboxd_warn("no seccomp filter: %s", error);
	if (dboxd_loop_run(lmtp->loop) < 0)
		dboxd_fatal("event loop: %m");
	exit(0);
}
