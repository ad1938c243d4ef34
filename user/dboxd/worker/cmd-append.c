// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * APPEND (RFC 3501 6.3.11) with MULTIAPPEND (RFC 3502: all messages or
 * none), UIDPLUS's APPENDUID (RFC 4315) and literal8 (RFC 3516). The
 * messages arrive as literals already read by imap-reader (secret memory);
 * bare LF line ends are turned into CRLF, the wire form the storage takes.
 * The storage copies them at dbox_mail_append_start(); the command then
 * waits for the append to be durable without holding up the worker's
 * other connections, and answers from append_cont().
 */
#include <stdlib.h>
#include <string.h>

#include "dbox.h"
#include "imap-client.h"
#include "imap-commands.h"
#include "imap-util.h"
#include "log.h"
#include "secret.h"
#include "storage.h"
#include "worker.h"

struct append_msg {
	struct dbox_append_msg msg;
	void *converted;	/* secret copy with CRLF, or NULL */
};

/* CRLF line ends; a copy only when the message needs one. */
static void normalize_crlf(struct append_msg *am, const char *data, size_t len)
{
	size_t extra = 0, n = 0;
	char *out;

	am->msg.data = data;
	am->msg.size = len;
	for (size_t i = 0; i < len; i++) {
		if ((data[i] == '\n' && (i == 0 || data[i - 1] != '\r')) ||
		    (data[i] == '\r' && (i + 1 == len || data[i + 1] != '\n')))
			extra++;
	}
	if (extra == 0)
		return;
	out = dboxd_secret_alloc(len + extra);
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r')) {
			out[n++] = '\r';
			out[n++] = '\n';
		} else if (data[i] == '\r' &&
			   (i + 1 == len || data[i + 1] != '\n')) {
			out[n++] = '\r';
			out[n++] = '\n';
		} else {
			out[n++] = data[i];
		}
	}
	am->converted = out;
	am->msg.data = out;
	am->msg.size = n;
}

/* One "[flags] [date] literal" group at args; returns the args used, or
   -1 with the BAD reply sent. */
static int parse_one(struct imap_cmd *cmd, const struct imap_arg *args,
		     struct append_msg *am)
{
	struct imap_client *c = cmd->client;
	const struct imap_arg *list;
	const char *s, *error;
	const char **keywords;
	time_t t;
	int used = 0;

	memset(am, 0, sizeof(*am));
	if (imap_arg_get_list(&args[used], &list, NULL)) {
		if (imap_flags_parse(list, &c->pool, &am->msg.params.flags,
				     &keywords, &error) < 0) {
			imap_cmd_bad(cmd, "%s", error);
			return -1;
		}
		am->msg.params.keywords = keywords;
		used++;
	}
	if (args[used].type == IMAP_ARG_STRING) {
		s = args[used].str;
		if (imap_parse_datetime(s, &t) < 0) {
			imap_cmd_bad(cmd, "Invalid date-time");
			return -1;
		}
		am->msg.params.internal_date = t;
		used++;
	}
	if (args[used].type != IMAP_ARG_LITERAL) {
		imap_cmd_bad(cmd, "APPEND needs the message as a literal");
		return -1;
	}
	if (!args[used].literal8 &&
	    memchr(args[used].str, '\0', args[used].len) != NULL) {
		imap_cmd_bad(cmd, "NUL bytes need a literal8 (~{n})");
		return -1;
	}
	normalize_crlf(am, args[used].str, args[used].len);
	used++;
	return used;
}

struct append_ctx {
	struct imap_cmd *cmd;
	const char *name;
	struct dbox_op *op;
	uint32_t uidvalidity;
	unsigned int count;
	/* the result */
	int ret;
	enum dbox_error err;
	char *error;
	uint32_t first_uid, last_uid;
};

static void append_done(void *context, const struct dbox_op_result *r)
{
	struct append_ctx *ctx = context;

	ctx->op = NULL;
	ctx->ret = r->ret;
	ctx->err = r->err;
	if (r->ret < 0)
		ctx->error = strdup(r->error);
	else if (r->uid_count > 0) {
		ctx->first_uid = r->uids[0];
		ctx->last_uid = r->uids[r->uid_count - 1];
	}
	imap_cmd_storage_done(ctx->cmd);
}

static bool append_cont(struct imap_cmd *cmd)
{
	struct append_ctx *ctx = cmd->context;
	struct imap_client *c = cmd->client;

	if (ctx->ret < 0) {
		const char *error = ctx->error != NULL ? ctx->error :
				    "Internal error";

		return ctx->err == DBOX_ERROR_LIMIT ?
		       imap_cmd_no(cmd, "[TOOBIG] %s", error) :
		       imap_cmd_no(cmd, "%s %s",
				   imap_storage_resp_code_for(ctx->err), error);
	}
	worker_notify_change(c, ctx->name);
	if (ctx->count == 1)
		return imap_cmd_ok(cmd, "[APPENDUID %u %u] Append completed.",
				   ctx->uidvalidity, ctx->first_uid);
	return imap_cmd_ok(cmd, "[APPENDUID %u %u:%u] Append completed.",
			   ctx->uidvalidity, ctx->first_uid, ctx->last_uid);
}

static void append_free(struct imap_cmd *cmd)
{
	struct append_ctx *ctx = cmd->context;

	/* the client went: the append completes (or not) on its own */
	dbox_op_abandon(&ctx->op);
	free(ctx->error);
}

/* Open the mailbox and start the append; false with a reply sent. */
static bool append_start(struct imap_cmd *cmd, struct append_ctx *ctx,
			 const struct dbox_append_msg *msgs)
{
	struct dbox_mailbox *box;
	struct dbox_status st;
	const char *error;
	int ret;

	if (dbox_mailbox_open(imap_storage(), ctx->name, 0, &box,
			      &error) < 0) {
		if (dbox_last_error() == DBOX_ERROR_NOTFOUND)
			imap_cmd_no(cmd, "[TRYCREATE] Mailbox doesn't exist");
		else
			imap_cmd_storage_error(cmd, error);
		return false;
	}
	dbox_mailbox_get_status(box, &st);
	ctx->uidvalidity = st.uidvalidity;
	ret = dbox_mail_append_start(box, msgs, ctx->count, append_done, ctx,
				     &ctx->op, &error);
	/* the operation holds the mailbox as long as it needs it */
	dbox_mailbox_close(&box);
	if (ret < 0) {
		if (dbox_last_error() == DBOX_ERROR_LIMIT)
			imap_cmd_no(cmd, "[TOOBIG] %s", error);
		else
			imap_cmd_storage_error(cmd, error);
		return false;
	}
	return true;
}

bool imap_cmd_append(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;
	const struct imap_arg *args = cmd->args + 1;
	struct append_msg *msgs;
	struct dbox_append_msg *plain;
	struct append_ctx *ctx;
	unsigned int count = 0, max;
	const char *name;
	bool started;

	if (!imap_cmd_get_mailbox(cmd, &cmd->args[0], &name))
		return true;
	max = imap_args_count(args);
	if (max == 0)
		return imap_cmd_bad(cmd, "APPEND needs a message");
	msgs = dboxd_pool_alloc(&c->pool, max * sizeof(*msgs));
	plain = dboxd_pool_alloc(&c->pool, max * sizeof(*plain));
	ctx = dboxd_pool_alloc(&c->pool, sizeof(*ctx));
	memset(ctx, 0, sizeof(*ctx));
	ctx->cmd = cmd;
	ctx->name = name;
	while (!imap_arg_is_eol(args)) {
		int used = parse_one(cmd, args, &msgs[count]);

		if (used < 0) {
			started = false;
			goto free_msgs;
		}
		if (msgs[count].msg.size == 0) {
			count++;
			imap_cmd_no(cmd, "Can't save a zero byte message.");
			started = false;
			goto free_msgs;
		}
		plain[count] = msgs[count].msg;
		count++;
		args += used;
	}
	ctx->count = count;
	started = append_start(cmd, ctx, plain);
	if (started) {
		cmd->context = ctx;
		cmd->free_context = append_free;
		cmd->cont = append_cont;
		imap_cmd_wait_storage(cmd);
	}
free_msgs:
	/* the storage has its own copy */
	for (unsigned int i = 0; i < count; i++)
		dboxd_secret_free(msgs[i].converted);
	return !started;
}
