// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * loadgen: one client connection. Non-blocking socket, output buffered
 * until the kernel takes it, input framed by imap_rbuf. The session
 * (greeting, LOGIN, SELECT, then ops or IDLE) is driven by the tagged
 * responses; untagged ones go to untagged.c. Any failure closes the
 * connection: in load mode it reconnects 100 ms later, in idle mode it
 * stays dead (and is reported).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loadgen.h"

#define LG_RETRY_NS 100000000ULL

static const char *const lg_state_names[] = {
	[LG_S_WAITING] = "waiting", [LG_S_CONNECTING] = "connecting",
	[LG_S_GREETING] = "greeting", [LG_S_LOGIN] = "login",
	[LG_S_SELECT] = "select", [LG_S_READY] = "ready", [LG_S_CMD] = "command",
	[LG_S_IDLE_START] = "idle-start", [LG_S_IDLING] = "idling",
	[LG_S_CLOSING] = "closing", [LG_S_DEAD] = "dead",
};

static bool lg_in_setup(enum lg_state s)
{
	return s == LG_S_CONNECTING || s == LG_S_GREETING || s == LG_S_LOGIN ||
	       s == LG_S_SELECT || s == LG_S_IDLE_START;
}

/* Latencies and command counts only inside the measured window. */
static bool lg_counting(const struct lg_run *run, uint64_t now)
{
	return run->measuring && now <= run->t_end;
}

static void lg_epoll(struct lg_conn *c, bool out)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0),
		.data.ptr = c,
	};

	if (out == c->want_out)
		return;
	c->want_out = out;
	epoll_ctl(c->run->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void lg_close(struct lg_conn *c)
{
	if (lg_in_setup(c->state))
		c->run->in_setup--;
	if (c->state == LG_S_IDLING)
		c->run->ready--;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->in.start = c->in.len = c->in.scan = c->in.taken = 0;
	c->out.len = c->out.off = 0;
	c->want_out = false;
	c->exists = 0;
	c->tags_left = 0;
}

void lg_conn_fail(struct lg_conn *c, enum lg_err err, const char *fmt, ...)
{
	struct lg_run *run = c->run;
	va_list ap;

	run->errors[err]++;
	if (run->errors_logged < run->o.max_errors) {
		run->errors_logged++;
		fprintf(stderr, "loadgen: conn %u (user %u, %s%s%s, %s): ", c->id,
			c->user, lg_state_names[c->state],
			c->state == LG_S_CMD ? " " : "",
			c->state == LG_S_CMD ? lg_cmd_names[c->cmd] : "",
			lg_err_names[err]);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	lg_close(c);
	if (run->o.idle) {
		c->state = LG_S_DEAD;
		run->dead++;
	} else {
		c->state = LG_S_WAITING;
		c->next_at = lg_now() + LG_RETRY_NS;
		run->reconnects++;
	}
}

static int lg_flush(struct lg_conn *c)
{
	while (c->out.off < c->out.len) {
		ssize_t n = write(c->fd, c->out.data + c->out.off,
				  c->out.len - c->out.off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			lg_conn_fail(c, LG_E_CLOSED, "write: %s", strerror(errno));
			return -1;
		}
		c->out.off += n;
	}
	if (c->out.off == c->out.len)
		c->out.off = c->out.len = 0;
	lg_epoll(c, c->out.len > 0);
	return 0;
}

int lg_conn_send(struct lg_conn *c, const void *data, size_t len)
{
	if (c->out.len + len > c->out.cap) {
		size_t cap = c->out.cap ? c->out.cap : 4096;
		char *n;

		while (cap < c->out.len + len)
			cap *= 2;
		n = realloc(c->out.data, cap);
		if (n == NULL)
			return -1;
		c->out.data = n;
		c->out.cap = cap;
	}
	memcpy(c->out.data + c->out.len, data, len);
	c->out.len += len;
	/* the caller sends more before returning to the loop; flushing is
	 * the loop's (lg_conn_event) or lg_conn_cmdf's job */
	return 0;
}

static int lg_vcmd(struct lg_conn *c, const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "L%u ", c->tag_next);
	int m = vsnprintf(line + n, sizeof(line) - n - 2, fmt, ap);

	if (m < 0 || (size_t)(n + m) >= sizeof(line) - 2)
		return -1;
	memcpy(line + n + m, "\r\n", 2);
	if (lg_conn_send(c, line, n + m + 2) < 0)
		return -1;
	if ((int)c->id == c->run->o.trace)
		fprintf(stderr, "C%u: %.*s\n", c->id, n + m, line);
	if (c->tags_left == 0)
		c->tag_wait = c->tag_next;
	c->tag_next++;
	c->run->tags_sent++;
	c->tags_left++;
	c->tags_total++;
	return 0;
}

int lg_conn_cmdf(struct lg_conn *c, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = lg_vcmd(c, fmt, ap);
	va_end(ap);
	return ret;
}

int lg_conn_sendf(struct lg_conn *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	return lg_conn_send(c, line, n);
}

/* Starts a session step (LOGIN, SELECT, IDLE) that is not an op. */
static int lg_step(struct lg_conn *c, enum lg_state state, enum lg_cmd cmd,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int lg_step(struct lg_conn *c, enum lg_state state, enum lg_cmd cmd,
		   const char *fmt, ...)
{
	uint64_t now = lg_now();
	va_list ap;
	int ret;

	c->state = state;
	c->cmd = cmd;
	c->tags_total = 0;
	c->t_start = now;
	c->deadline = now + (uint64_t)(c->run->o.timeout * 1e9);
	va_start(ap, fmt);
	ret = lg_vcmd(c, fmt, ap);
	va_end(ap);
	if (ret < 0) {
		lg_conn_fail(c, LG_E_PROTOCOL, "cannot build a command");
		return -1;
	}
	return lg_flush(c);
}

static void lg_next_op(struct lg_conn *c)
{
	uint64_t now = lg_now();

	c->op = lg_op_pick(c);
	c->cmd = c->op->cmd;
	memset(&c->os, 0, sizeof(c->os));
	c->tags_total = 0;
	c->state = LG_S_CMD;
	c->t_start = now;
	c->deadline = now + (uint64_t)(c->run->o.timeout * 1e9);
	if (c->op->start(c) < 0) {
		lg_conn_fail(c, LG_E_PROTOCOL, "cannot build a command");
		return;
	}
	lg_flush(c);
}

/* The connection is selected and has nothing in flight. */
static void lg_ready(struct lg_conn *c, uint64_t now)
{
	struct lg_run *run = c->run;

	c->state = LG_S_READY;
	c->next_at = now + (uint64_t)(run->o.think_ms * 1e6);
	if (!run->stop && !run->draining && run->o.think_ms <= 0)
		lg_next_op(c);
}

int lg_conn_start(struct lg_conn *c)
{
	struct lg_run *run = c->run;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP,
				  .data.ptr = c };

	c->fd = socket(run->addr.ss_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		c->state = LG_S_CONNECTING;
		run->in_setup++;
		lg_conn_fail(c, LG_E_CONNECT, "socket: %s", strerror(errno));
		return -1;
	}
	c->state = LG_S_CONNECTING;
	run->in_setup++;
	c->want_out = true;
	c->t_start = lg_now();
	c->deadline = c->t_start + (uint64_t)(run->o.timeout * 1e9);
	c->literal_plus = c->uidplus = c->bye_seen = false;
	c->select_exists = c->select_uidvalidity = false;
	if (epoll_ctl(run->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0 ||
	    (connect(c->fd, (struct sockaddr *)&run->addr, run->addrlen) < 0 &&
	     errno != EINPROGRESS)) {
		lg_conn_fail(c, LG_E_CONNECT, "connect: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void lg_greeting(struct lg_conn *c, const struct imap_resp *r)
{
	struct lg_run *run = c->run;
	char user[256];
	uint64_t now = lg_now();

	if (r->len < 5 || strncasecmp(r->data, "* OK ", 5) != 0) {
		lg_conn_fail(c, r->len >= 5 && strncasecmp(r->data, "* BYE", 5) == 0 ?
			     LG_E_CLOSED : LG_E_PROTOCOL, "greeting: %.*s",
			     (int)(r->len > 100 ? 100 : r->len), r->data);
		return;
	}
	if (lg_counting(run, now) || run->o.idle)
		lg_record(run, LG_C_CONNECT, now - c->t_start);
	c->literal_plus = lg_resp_has_cap(r->data, r->len, "LITERAL+");
	c->uidplus = lg_resp_has_cap(r->data, r->len, "UIDPLUS");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(user, sizeof(user), run->o.user_fmt, c->user);
#pragma GCC diagnostic pop
	lg_step(c, LG_S_LOGIN, LG_C_LOGIN, "LOGIN \"%s\" \"%s\"", user,
		run->o.password);
}

/* A session step (LOGIN, SELECT, IDLE's end) answered. */
static void lg_step_done(struct lg_conn *c, const struct lg_tagged *t)
{
	struct lg_run *run = c->run;
	uint64_t now = lg_now();

	if (t->status != LG_OK) {
		lg_conn_fail(c, t->status == LG_NO ? LG_E_NO : LG_E_BAD, "%s: %.*s",
			     lg_cmd_names[c->cmd], (int)(t->text_len > 100 ? 100 :
							 t->text_len), t->text);
		return;
	}
	if (lg_counting(run, now) || run->o.idle) {
		lg_record(run, c->cmd, now - c->t_start);
		run->commands += lg_counting(run, now);
	}
	if (c->state == LG_S_LOGIN) {
		lg_step(c, LG_S_SELECT, LG_C_SELECT, "SELECT \"%s\"", run->o.mailbox);
		return;
	}
	/* SELECT */
	if (!c->select_exists || !c->select_uidvalidity) {
		lg_conn_fail(c, LG_E_PROTOCOL, "SELECT without %s",
			     c->select_exists ? "UIDVALIDITY" : "EXISTS");
		return;
	}
	if (run->o.expect_exists >= 0 && c->exists != run->o.expect_exists) {
		lg_conn_fail(c, LG_E_PROTOCOL, "SELECT: %u messages, expected %ld",
			     c->exists, run->o.expect_exists);
		return;
	}
	if (run->o.idle) {
		lg_step(c, LG_S_IDLE_START, LG_C_IDLE, "IDLE");
		return;
	}
	run->in_setup--;
	if (!c->setup_done)
		run->setup_once++;
	c->setup_done = true;
	lg_ready(c, now);
}

static void lg_op_tagged(struct lg_conn *c, const struct lg_tagged *t)
{
	struct lg_run *run = c->run;
	enum lg_err err = LG_E_PROTOCOL;
	const char *error = "";
	uint64_t now;

	if (c->op->tagged(c, t, &err, &error) < 0) {
		lg_conn_fail(c, err, "%s", error);
		return;
	}
	if (c->tags_left > 0)
		return;
	now = lg_now();
	if (c->os.race)
		run->races++;
	if (c->cmd == LG_C_APPEND)
		run->appended++;
	else if (c->cmd == LG_C_EXPUNGE)
		run->expunged += c->os.expunges;
	if (lg_counting(run, now)) {
		lg_record(run, c->cmd, now - c->t_start);
		run->commands += c->tags_total;
	}
	if (c->cmd == LG_C_LOGOUT) {
		c->state = LG_S_CLOSING;
		return;
	}
	lg_ready(c, now);
}

static int lg_parse_tagged(const struct imap_resp *r, struct lg_tagged *t,
			   unsigned int *tag_r, const char **error_r)
{
	struct imap_tok tok;
	const char *s;
	size_t len;

	imap_tok_init(&tok, r->data, r->len);
	if (imap_tok_atom(&tok, &s, &len, error_r) < 0)
		return -1;
	if (len < 2 || s[0] != 'L' || imap_atom_u32(s + 1, len - 1, tag_r) < 0) {
		*error_r = "response with a tag we never sent";
		return -1;
	}
	if (imap_tok_char(&tok, ' ', error_r) < 0 ||
	    imap_tok_atom(&tok, &s, &len, error_r) < 0)
		return -1;
	if (imap_atom_eq(s, len, "OK"))
		t->status = LG_OK;
	else if (imap_atom_eq(s, len, "NO"))
		t->status = LG_NO;
	else if (imap_atom_eq(s, len, "BAD"))
		t->status = LG_BAD;
	else {
		*error_r = "tagged response is not OK, NO or BAD";
		return -1;
	}
	if (imap_tok_char(&tok, ' ', error_r) < 0 ||
	    imap_tok_resp_code(&tok, &t->code, &t->code_len, error_r) < 0)
		return -1;
	t->text = tok.p;
	t->text_len = tok.end - tok.p;
	return 0;
}

static void lg_tagged(struct lg_conn *c, const struct imap_resp *r)
{
	struct lg_tagged t = { 0 };
	const char *error;
	unsigned int tag;

	if (lg_parse_tagged(r, &t, &tag, &error) < 0) {
		lg_conn_fail(c, LG_E_PROTOCOL, "%s: %.*s", error,
			     (int)(r->len > 100 ? 100 : r->len), r->data);
		return;
	}
	if (c->tags_left == 0 || tag != c->tag_wait) {
		lg_conn_fail(c, LG_E_PROTOCOL, "tag L%u, expected %s%u", tag,
			     c->tags_left ? "L" : "none after L", c->tag_wait);
		return;
	}
	t.index = c->tags_total - c->tags_left;
	c->run->tags_checked++;
	c->tag_wait++;
	c->tags_left--;
	if (t.status == LG_OK && t.code_len > 11 &&
	    strncasecmp(t.code, "CAPABILITY ", 11) == 0) {
		c->literal_plus = lg_resp_has_cap(t.code - 1, t.code_len + 1, "LITERAL+");
		c->uidplus = lg_resp_has_cap(t.code - 1, t.code_len + 1, "UIDPLUS");
	}
	switch (c->state) {
	case LG_S_LOGIN:
	case LG_S_SELECT:
		lg_step_done(c, &t);
		break;
	case LG_S_CMD:
		lg_op_tagged(c, &t);
		break;
	default:
		lg_conn_fail(c, LG_E_PROTOCOL, "tagged response while %s",
			     lg_state_names[c->state]);
	}
}

static void lg_continuation(struct lg_conn *c)
{
	struct lg_run *run = c->run;
	const char *error = "continuation request out of place";
	uint64_t now = lg_now();

	if (c->state == LG_S_IDLE_START) {
		lg_record(run, LG_C_IDLE, now - c->t_start);
		c->state = LG_S_IDLING;
		run->in_setup--;
		run->ready++;
		if (!c->setup_done)
			run->setup_once++;
		c->setup_done = true;
		return;
	}
	if (c->state == LG_S_CMD && c->op->cont != NULL &&
	    c->op->cont(c, &error) == 0) {
		lg_flush(c);
		return;
	}
	lg_conn_fail(c, LG_E_PROTOCOL, "%s", error);
}

/* Returns -1 once the connection failed (and was closed). */
static int lg_response(struct lg_conn *c, const struct imap_resp *r)
{
	enum lg_err err;
	const char *error;
	int fd = c->fd;

	if ((int)c->id == c->run->o.trace)
		fprintf(stderr, "S%u: %.*s%s\n", c->id, (int)(r->len > 300 ? 300 : r->len),
			r->data, r->len > 300 ? "..." : "");
	if (c->state == LG_S_GREETING)
		lg_greeting(c, r);
	else if (r->len >= 1 && r->data[0] == '+')
		lg_continuation(c);
	else if (r->len >= 2 && r->data[0] == '*' && r->data[1] == ' ') {
		if (lg_untagged(c, r, &err, &error) < 0)
			lg_conn_fail(c, err, "%s", error);
	} else
		lg_tagged(c, r);
	return c->fd == fd && c->fd >= 0 ? 0 : -1;
}

static void lg_input(struct lg_conn *c)
{
	struct imap_resp r;
	const char *error;

	for (;;) {
		ssize_t n = imap_rbuf_fill(&c->in, c->fd);

		/* diagnostic: acknowledge at once, so that a server whose
		 * small writes wait for our ACK (Nagle) is not held up by
		 * our delayed ACK; the kernel clears the flag by itself */
		if (n > 0 && c->run->o.quickack)
			setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &(int){ 1 },
				   sizeof(int));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* LOGOUT done: log in again right away. Dovecot
			 * sometimes ends the connection with a reset rather
			 * than a FIN once LOGOUT is answered; either is the
			 * end the client asked for. */
			if (c->state == LG_S_CLOSING &&
			    (n == 0 || errno == ECONNRESET)) {
				lg_close(c);
				c->state = LG_S_WAITING;
				c->next_at = 0;
				return;
			}
			lg_conn_fail(c, LG_E_CLOSED, "%s", n == 0 ?
				     "server closed the connection" : strerror(errno));
			return;
		}
		for (;;) {
			if (imap_rbuf_next(&c->in, &r, &error) < 0) {
				lg_conn_fail(c, LG_E_PROTOCOL, "%s", error);
				return;
			}
			if (r.data == NULL)
				break;
			if (lg_response(c, &r) < 0)
				return;
		}
	}
}

static void lg_connected(struct lg_conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err != 0) {
		lg_conn_fail(c, LG_E_CONNECT, "connect: %s", strerror(err));
		return;
	}
	c->state = LG_S_GREETING;
	lg_epoll(c, false);
}

void lg_conn_event(struct lg_conn *c, uint32_t events)
{
	int fd = c->fd;

	if (c->state == LG_S_CONNECTING) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			lg_connected(c);
		if (c->fd != fd)
			return;
	}
	if ((events & EPOLLOUT) && lg_flush(c) < 0)
		return;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		lg_input(c);
}

void lg_conn_tick(struct lg_conn *c, uint64_t now)
{
	struct lg_run *run = c->run;

	switch (c->state) {
	case LG_S_WAITING:
		if (!run->stop && !run->draining && now >= c->next_at &&
		    run->in_setup < run->o.ramp)
			lg_conn_start(c);
		break;
	case LG_S_READY:
		if (!run->stop && !run->draining && now >= c->next_at)
			lg_next_op(c);
		break;
	case LG_S_IDLING:
	case LG_S_DEAD:
		break;
	default:
		if (now > c->deadline)
			lg_conn_fail(c, LG_E_TIMEOUT, "no response after %.0f s",
				     run->o.timeout);
	}
}
