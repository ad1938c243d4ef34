/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One logged-in IMAP connection in a worker, and the command machinery
 * (Dovecot style: a table of commands, one file per command or group; a
 * command function returns true when it has sent its tagged reply, false
 * when it continues later through cmd->cont, e.g. a FETCH that filled the
 * output buffer, or an IDLE waiting for DONE).
 *
 * Commands run one at a time per connection, in the order they arrive.
 * While one continues, input is not read further (pipelined commands wait
 * in the socket). Output beyond IMAP_OUT_HIGH bytes stops the command until
 * the client has read it.
 *
 * A command waiting for the storage (an APPEND's fsyncs, a FETCH's reads)
 * calls imap_cmd_wait_storage() and returns false with cmd->cont set; its
 * storage callback records the result and calls imap_cmd_storage_done(),
 * and cont runs from the loop a moment later. Meanwhile this connection's
 * later commands wait (pipelining order is kept) and every other
 * connection of the worker is served.
 */
#ifndef DBOXD_IMAP_CLIENT_H
#define DBOXD_IMAP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "imap-parser.h"
#include "loop.h"
#include "pool.h"

#define IMAP_OUT_HIGH	(256 * 1024)
#define IMAP_OUT_LOW	(64 * 1024)

struct imap_client;
struct imap_cmd;
struct imap_selected;
struct imap_compress;

typedef bool imap_cmd_func_t(struct imap_cmd *cmd);
/* A line of input for a command waiting for one (IDLE's DONE). */
typedef bool imap_cmd_line_func_t(struct imap_cmd *cmd, const char *line);

#define IMAP_CMD_SELECTED	0x01	/* needs a selected mailbox */
#define IMAP_CMD_UID		0x02	/* has a UID form */
/* RFC 3501 7.4.1: no EXPUNGE while answering FETCH, STORE, SEARCH
   (their UID forms may). */
#define IMAP_CMD_NO_EXPUNGE	0x04

struct imap_cmd_def {
	const char *name;
	imap_cmd_func_t *func;
	unsigned int flags;
};

struct imap_cmd {
	struct imap_client *client;
	const struct imap_cmd_def *def;
	const char *tag;
	const char *name;	/* upper case, "UID " prefixed for UID forms */
	const struct imap_arg *args;
	bool uid;
	/* Set by a command that is not done yet. */
	imap_cmd_func_t *cont;
	imap_cmd_line_func_t *line;
	void *context;
	/* Called when the command is freed, also when the client goes. */
	void (*free_context)(struct imap_cmd *cmd);
	/* waiting for a storage completion: cont is not called */
	bool storage_wait;
};

enum imap_client_state {
	IMAP_STATE_AUTH,
	IMAP_STATE_SELECTED,
};

struct imap_client {
	struct imap_client *prev, *next;
	uint64_t conn_id;
	int fd;
	struct dboxd_io *io;
	uint32_t flags;			/* DBOXD_CONN_* */
	char ip[64];
	struct dboxd_buf in;		/* secret */
	struct dboxd_buf out;		/* secret */
	struct imap_reader *reader;
	struct dboxd_pool pool;		/* the current command's */
	enum imap_client_state state;
	struct imap_selected *sel;
	struct imap_cmd *cmd;		/* running, not yet done */
	struct dboxd_timer *timeout;
	unsigned int bad_commands;
	bool disconnecting;		/* close once out is written */
	bool destroyed;
	/* ENABLE'd (RFC 5161) */
	bool condstore, qresync, utf8;
	/* another connection changed the selected mailbox */
	bool changes_pending;
	struct imap_compress *compress;
	/* continues a command whose storage work completed (from the loop,
	   not from inside the storage's callback) */
	struct dboxd_timer *wakeup;
};

void imap_client_create(uint64_t conn_id, int fd, const char *tag,
			const void *pending, size_t pending_len,
			uint32_t flags, const char *ip);
void imap_client_destroy(struct imap_client *client, const char *reason);
/* Append a line (CRLF added). */
void imap_client_send(struct imap_client *client, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Send "* BYE text" and close once it is written. */
void imap_client_disconnect(struct imap_client *client, const char *bye);
/* Do what can be done now: write, read, run commands. */
void imap_client_pump(struct imap_client *client);
/* The capability list after login. */
const char *imap_client_capabilities(void);
/* Mail arrived or changed for the selected mailbox; an IDLE reports it. */
void imap_client_notify(struct imap_client *client);
/* Restart the inactivity timer with the given timeout. */
void imap_client_set_timeout(struct imap_client *client, unsigned int msecs);

/* Suspend cmd until imap_cmd_storage_done() (see the top). */
void imap_cmd_wait_storage(struct imap_cmd *cmd);
/* From a storage callback: run cmd->cont soon, from the loop. */
void imap_cmd_storage_done(struct imap_cmd *cmd);

/* Tagged replies; they return true so a command can end with them. */
bool imap_cmd_ok(struct imap_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool imap_cmd_no(struct imap_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool imap_cmd_bad(struct imap_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* NO with the response code for the last dbox error. */
bool imap_cmd_storage_error(struct imap_cmd *cmd, const char *error);

/* imap-commands.c */
const struct imap_cmd_def *imap_command_find(const char *name);
void imap_client_run_command(struct imap_client *client,
			     const struct imap_parsed_command *parsed);

#endif
