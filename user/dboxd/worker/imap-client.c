// SPDX-License-Identifier: GPL-2.0-or-later
/* A logged-in connection: I/O, reading commands, replies. See
   imap-client.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "imap-client.h"
#include "imap-compress.h"
#include "imap-reader.h"
#include "imap-sync.h"
#include "log.h"
#include "net.h"
#include "secret.h"
#include "storage.h"
#include "worker.h"

/* A connection sending only bad commands is not a real client. */
#define IMAP_MAX_BAD_COMMANDS 20
#define IMAP_READ_CHUNK 16384

static void client_io_cb(void *context, unsigned int events);
static void client_timeout_cb(void *context);

const char *imap_client_capabilities(void)
{
	static char caps[512];

	if (caps[0] == '\0')
		snprintf(caps, sizeof(caps),
			 "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE "
			 "LITERAL+ NAMESPACE UIDPLUS UNSELECT CHILDREN "
			 "LIST-EXTENDED LIST-STATUS SPECIAL-USE MOVE ESEARCH "
			 "CONDSTORE QRESYNC BINARY STATUS=SIZE "
			 "APPENDLIMIT=%llu MULTIAPPEND SORT "
			 "THREAD=REFERENCES THREAD=ORDEREDSUBJECT UTF8=ACCEPT "
			 "COMPRESS=DEFLATE",
			 (unsigned long long)worker_g->set->imap_max_literal_size);
	return caps;
}

void imap_client_create(uint64_t conn_id, int fd, const char *tag,
			const void *pending, size_t pending_len,
			uint32_t flags, const char *ip)
{
	struct imap_reader_settings rs = {
		.max_line = worker_g->set->imap_max_line_length,
		.max_literal = worker_g->set->imap_max_literal_size,
		.max_literals_total = 4 * worker_g->set->imap_max_literal_size,
		.max_literals = 1000,
	};
	struct imap_client *c = calloc(1, sizeof(*c));

	if (c == NULL)
		dboxd_fatal("out of memory");
	if (dboxd_fd_set_nonblock(fd) < 0)
		dboxd_fatal("fcntl: %m");
	c->conn_id = conn_id;
	c->fd = fd;
	c->flags = flags;
	snprintf(c->ip, sizeof(c->ip), "%s", ip);
	dboxd_buf_init(&c->in, true);
	dboxd_buf_init(&c->out, true);
	dboxd_pool_init_secret(&c->pool);
	c->reader = imap_reader_create(&rs);
	c->state = IMAP_STATE_AUTH;
	c->next = worker_g->clients;
	if (c->next != NULL)
		c->next->prev = c;
	worker_g->clients = c;
	worker_g->client_count++;
	c->io = dboxd_io_add(worker_g->loop, fd, 0, client_io_cb, c);
	c->timeout = dboxd_timer_add(worker_g->loop, worker_g->set->imap_timeout,
				     client_timeout_cb, c);
	dboxd_buf_append(&c->in, pending, pending_len);
	imap_client_send(c, "%s OK [CAPABILITY %s] Logged in", tag,
			 imap_client_capabilities());
	dboxd_debug("connection %llu from %s", (unsigned long long)conn_id,
		    ip);
	imap_client_pump(c);
}

static void client_cmd_free(struct imap_client *c)
{
	struct imap_cmd *cmd = c->cmd;

	if (cmd == NULL)
		return;
	c->cmd = NULL;
	if (cmd->free_context != NULL)
		cmd->free_context(cmd);
	free(cmd);
	imap_reader_done(c->reader);
	dboxd_pool_clear(&c->pool);
}

void imap_client_destroy(struct imap_client *c, const char *reason)
{
	if (c->destroyed)
		return;
	c->destroyed = true;
	dboxd_debug("connection %llu closed: %s",
		    (unsigned long long)c->conn_id, reason);
	client_cmd_free(c);
	imap_selected_close(c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		worker_g->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	worker_g->client_count--;
	dboxd_timer_remove(&c->timeout);
	dboxd_timer_remove(&c->wakeup);
	dboxd_io_remove(&c->io);
	close(c->fd);
	imap_compress_free(&c->compress);
	imap_reader_destroy(&c->reader);
	dboxd_pool_free(&c->pool);
	dboxd_buf_free(&c->in);
	dboxd_buf_free(&c->out);
	worker_client_closed(c);
	free(c);
}

void imap_client_send(struct imap_client *c, const char *fmt, ...)
{
	va_list args;
	int n;

	va_start(args, fmt);
	n = vsnprintf(NULL, 0, fmt, args);
	va_end(args);
	if (n < 0)
		return;
	va_start(args, fmt);
	vsnprintf((char *)dboxd_buf_reserve(&c->out, (size_t)n + 3), n + 1,
		  fmt, args);
	va_end(args);
	dboxd_buf_commit(&c->out, (size_t)n);
	dboxd_buf_append(&c->out, "\r\n", 2);
}

void imap_client_disconnect(struct imap_client *c, const char *bye)
{
	if (c->disconnecting)
		return;
	if (bye != NULL)
		imap_client_send(c, "* BYE %s", bye);
	c->disconnecting = true;
}

void imap_client_set_timeout(struct imap_client *c, unsigned int msecs)
{
	dboxd_timer_reset(c->timeout, msecs);
}

static void client_timeout_cb(void *context)
{
	struct imap_client *c = context;

	imap_client_disconnect(c, "Disconnected for inactivity.");
	imap_client_pump(c);
}

/* ---- commands waiting for the storage ----------------------------------- */

void imap_cmd_wait_storage(struct imap_cmd *cmd)
{
	cmd->storage_wait = true;
}

static void client_wakeup_cb(void *context)
{
	struct imap_client *c = context;

	dboxd_timer_remove(&c->wakeup);
	imap_client_pump(c);
}

void imap_cmd_storage_done(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;

	cmd->storage_wait = false;
	/* we are inside dbox_io_run(): continue from a timer of our own */
	if (c->wakeup == NULL)
		c->wakeup = dboxd_timer_add(worker_g->loop, 0, client_wakeup_cb,
					    c);
}

/* ---- replies ------------------------------------------------------------ */

static bool cmd_reply(struct imap_cmd *cmd, const char *status,
		      const char *fmt, va_list args)
{
	char text[1024];

	vsnprintf(text, sizeof(text), fmt, args);
	imap_client_send(cmd->client, "%s %s %s", cmd->tag, status, text);
	imap_compress_tagged_reply(cmd->client);
	return true;
}

bool imap_cmd_ok(struct imap_cmd *cmd, const char *fmt, ...)
{
	va_list args;
	bool ret;

	if (cmd->client->sel != NULL)
		imap_sync(cmd->client, (cmd->def->flags & IMAP_CMD_NO_EXPUNGE) == 0 ||
				       cmd->uid);
	va_start(args, fmt);
	ret = cmd_reply(cmd, "OK", fmt, args);
	va_end(args);
	return ret;
}

bool imap_cmd_no(struct imap_cmd *cmd, const char *fmt, ...)
{
	va_list args;
	bool ret;

	va_start(args, fmt);
	ret = cmd_reply(cmd, "NO", fmt, args);
	va_end(args);
	return ret;
}

bool imap_cmd_bad(struct imap_cmd *cmd, const char *fmt, ...)
{
	va_list args;
	bool ret;

	va_start(args, fmt);
	ret = cmd_reply(cmd, "BAD", fmt, args);
	va_end(args);
	cmd->client->bad_commands++;
	return ret;
}

bool imap_cmd_storage_error(struct imap_cmd *cmd, const char *error)
{
	return imap_cmd_no(cmd, "%s %s", imap_storage_resp_code(), error);
}

/* ---- I/O ---------------------------------------------------------------- */

static int client_write(struct imap_client *c, const void *data, size_t len,
			size_t *written_r)
{
	ssize_t n = send(c->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	*written_r = 0;
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		return -1;
	}
	*written_r = (size_t)n;
	return 0;
}

/* Returns -1 when the connection broke. */
static int client_flush(struct imap_client *c)
{
	if (c->compress != NULL)
		return imap_compress_flush(c, client_write);
	while (dboxd_buf_len(&c->out) > 0) {
		size_t n;

		if (client_write(c, dboxd_buf_ptr(&c->out),
				 dboxd_buf_len(&c->out), &n) < 0)
			return -1;
		if (n == 0)
			break;
		dboxd_buf_consume(&c->out, n);
	}
	if (dboxd_buf_len(&c->out) == 0 && c->out.size > IMAP_OUT_HIGH)
		dboxd_buf_free(&c->out);	/* give a big buffer back */
	return 0;
}

static size_t client_pending_out(struct imap_client *c)
{
	return dboxd_buf_len(&c->out) +
	       (c->compress != NULL ? imap_compress_pending(c->compress) : 0);
}

/* Read what the socket has, within bounds. Returns -1 on EOF/error, 1 if
   it stopped at the bound with more possibly waiting (the loop reports
   edges: the caller must come back after consuming input), 0 at EAGAIN. */
static int client_read(struct imap_client *c)
{
	size_t cap = worker_g->set->imap_max_line_length + 65536;

	for (;;) {
		if (dboxd_buf_len(&c->in) >= cap)
			return 1;
		unsigned char buf[IMAP_READ_CHUNK];
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return 0;
			return -1;
		}
		if (n == 0)
			return -1;
		if (c->compress != NULL) {
			if (imap_compress_input(c, buf, (size_t)n) < 0) {
				imap_client_disconnect(c, "Invalid compressed data.");
				return 0;
			}
		} else {
			dboxd_buf_append(&c->in, buf, (size_t)n);
		}
		if (c->cmd == NULL || c->cmd->line == NULL)
			dboxd_timer_reset(c->timeout, worker_g->set->imap_timeout);
	}
}

static bool client_wants_input(struct imap_client *c)
{
	if (c->disconnecting || client_pending_out(c) > IMAP_OUT_LOW)
		return false;
	if (c->cmd != NULL && c->cmd->line == NULL)
		return false;
	return dboxd_buf_len(&c->in) <
	       worker_g->set->imap_max_line_length + 65536;
}

/* Handle the reader's verdict on the input. Returns true if it did
   something (a command ran, a reply went out). */
static bool client_process_one(struct imap_client *c)
{
	struct imap_parsed_command parsed;
	const char *error;

	if (c->cmd != NULL) {
		char *line;
		int ret;

		if (c->cmd->line == NULL)
			return false;
		ret = imap_read_raw_line(&c->in, 1024, &line, true);
		if (ret == 0)
			return false;
		if (ret < 0) {
			imap_client_disconnect(c, "Line too long.");
			return true;
		}
		if (c->cmd->line(c->cmd, line))
			client_cmd_free(c);
		dboxd_secret_free(line);
		return true;
	}
	switch (imap_reader_feed(c->reader, &c->in)) {
	case IMAP_READER_NEED_MORE:
		return false;
	case IMAP_READER_CONTINUE:
		imap_client_send(c, "+ OK");
		return true;
	case IMAP_READER_TOOBIG:
		imap_client_send(c, "%s NO [TOOBIG] %s",
				 imap_reader_tag(c->reader),
				 imap_reader_error(c->reader));
		return true;
	case IMAP_READER_BAD:
		imap_client_send(c, "%s BAD %s", imap_reader_tag(c->reader),
				 imap_reader_error(c->reader));
		c->bad_commands++;
		return true;
	case IMAP_READER_FATAL:
		imap_client_disconnect(c, imap_reader_error(c->reader));
		return true;
	case IMAP_READER_COMMAND:
		break;
	}
	if (imap_parse_command(imap_reader_command(c->reader), &c->pool,
			       &parsed, &error) < 0) {
		struct imap_parsed_command tagonly;

		if (imap_parse_tag_name(imap_reader_command(c->reader),
					&c->pool, &tagonly, &error) < 0)
			imap_client_send(c, "%s BAD %s",
					 imap_reader_tag(c->reader), error);
		else
			imap_client_send(c, "%s BAD %s", tagonly.tag, error);
		c->bad_commands++;
		imap_reader_done(c->reader);
		dboxd_pool_clear(&c->pool);
		return true;
	}
	imap_client_run_command(c, &parsed);
	return true;
}

/* An idle connection keeps no buffers: give them back between
   commands (idle connections should cost as little as possible). */
static void client_trim(struct imap_client *c)
{
	if (c->cmd != NULL || imap_reader_in_command(c->reader))
		return;
	if (dboxd_buf_len(&c->in) == 0)
		dboxd_buf_free(&c->in);
	if (dboxd_buf_len(&c->out) == 0)
		dboxd_buf_free(&c->out);
	dboxd_pool_free(&c->pool);
}

static void client_update_events(struct imap_client *c)
{
	unsigned int ev = 0;

	if (client_wants_input(c))
		ev |= DBOXD_IO_READ;
	if (client_pending_out(c) > 0)
		ev |= DBOXD_IO_WRITE;
	dboxd_io_set_events(c->io, ev);
}

void imap_client_pump(struct imap_client *c)
{
	for (unsigned int rounds = 0;; rounds++) {
		bool progress = false;

		if (client_flush(c) < 0) {
			imap_client_destroy(c, "write failed");
			return;
		}
		if (c->disconnecting) {
			if (client_pending_out(c) == 0) {
				imap_client_destroy(c, "logged out");
				return;
			}
			break;
		}
		if (c->bad_commands >= IMAP_MAX_BAD_COMMANDS) {
			imap_client_disconnect(c, "Too many invalid commands.");
			continue;
		}
		if (client_pending_out(c) > IMAP_OUT_LOW)
			break;	/* wait until the client reads */
		/* Let other connections of this user have a turn. */
		if (rounds > 64) {
			client_update_events(c);
			dboxd_io_set_events(c->io, DBOXD_IO_WRITE |
					    dboxd_io_get_events(c->io));
			return;
		}
		if (c->cmd != NULL && c->cmd->storage_wait)
			break;	/* imap_cmd_storage_done() wakes us */
		if (c->cmd != NULL && c->cmd->cont != NULL) {
			if (c->cmd->cont(c->cmd))
				client_cmd_free(c);
			continue;
		}
		if (client_wants_input(c)) {
			int ret = client_read(c);

			if (ret < 0) {
				imap_client_destroy(c, "disconnected");
				return;
			}
			/* stopped at the bound: come back once the input
			   below is consumed */
			if (ret > 0)
				progress = true;
		}
		while (!c->disconnecting && client_pending_out(c) <= IMAP_OUT_HIGH &&
		       (c->cmd == NULL || c->cmd->line != NULL) &&
		       client_process_one(c))
			progress = true;
		if (!progress && (c->cmd == NULL || c->cmd->cont == NULL ||
				  c->cmd->storage_wait))
			break;
	}
	client_trim(c);
	client_update_events(c);
}

static void client_io_cb(void *context, unsigned int events)
{
	struct imap_client *c = context;

	(void)events;
	imap_client_pump(c);
}

void imap_client_notify(struct imap_client *c)
{
	c->changes_pending = true;
	if (c->cmd != NULL && c->cmd->line != NULL) {
		/* IDLE: report now. */
		imap_sync(c, true);
		imap_client_pump(c);
	}
}
