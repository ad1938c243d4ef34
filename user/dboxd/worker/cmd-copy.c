// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * COPY, MOVE (RFC 6851) and their UID forms, with COPYUID (RFC 4315). The
 * copy runs asynchronously (dbox_mail_copy_start): the command waits for
 * it to be durable while the worker's other connections go on, and
 * answers from copy_cont().
 */
#include <stdlib.h>
#include <string.h>

#include "dbox.h"
#include "imap-client.h"
#include "imap-commands.h"
#include "imap-sync.h"
#include "imap-util.h"
#include "storage.h"
#include "worker.h"

struct copy_ctx {
	struct imap_cmd *cmd;
	bool move;
	const char *name;
	uint32_t *uids;
	unsigned int count;
	uint32_t uidvalidity;
	struct dbox_op *op;
	/* the result */
	int ret;
	enum dbox_error err;
	char *error;
	uint32_t *dst_uids;
};

static void copy_done(void *context, const struct dbox_op_result *r)
{
	struct copy_ctx *ctx = context;

	ctx->op = NULL;
	ctx->ret = r->ret;
	ctx->err = r->err;
	if (r->ret < 0)
		ctx->error = strdup(r->error);
	else if (r->uid_count == ctx->count)
		memcpy(ctx->dst_uids, r->uids, r->uid_count * sizeof(uint32_t));
	imap_cmd_storage_done(ctx->cmd);
}

static void copy_free(struct imap_cmd *cmd)
{
	struct copy_ctx *ctx = cmd->context;

	dbox_op_abandon(&ctx->op);
	free(ctx->error);
}

static bool copy_reply(struct copy_ctx *ctx, unsigned int n,
		       const uint32_t *src_ok, const uint32_t *dst_ok)
{
	struct imap_cmd *cmd = ctx->cmd;
	struct dboxd_buf codes;

	dboxd_buf_init(&codes, false);
	dboxd_buf_printf(&codes, "COPYUID %u ", ctx->uidvalidity);
	/* Both sets in the same order: as ranges only where both run. */
	for (unsigned int i = 0; i < n; i++)
		dboxd_buf_printf(&codes, "%s%u", i == 0 ? "" : ",", src_ok[i]);
	dboxd_buf_append(&codes, " ", 1);
	for (unsigned int i = 0; i < n; i++)
		dboxd_buf_printf(&codes, "%s%u", i == 0 ? "" : ",", dst_ok[i]);
	dboxd_buf_append(&codes, "", 1);
	if (ctx->move) {
		/* RFC 6851: COPYUID in an untagged OK before the expunges */
		imap_client_send(cmd->client, "* OK [%s] Moved UIDs.",
				 (const char *)codes.data);
		imap_cmd_ok(cmd, "Move completed.");
	} else {
		imap_cmd_ok(cmd, "[%s] Copy completed.",
			    (const char *)codes.data);
	}
	dboxd_buf_free(&codes);
	return true;
}

static bool copy_cont(struct imap_cmd *cmd)
{
	struct copy_ctx *ctx = cmd->context;
	struct imap_client *c = cmd->client;
	uint32_t *src_ok, *dst_ok;
	unsigned int n = 0;

	if (ctx->ret < 0)
		return imap_cmd_no(cmd, "%s %s",
				   imap_storage_resp_code_for(ctx->err),
				   ctx->error != NULL ? ctx->error :
				   "Internal error");
	/* uids that vanished meanwhile got dst uid 0: leave them out */
	src_ok = dboxd_pool_alloc(&c->pool, ctx->count * sizeof(*src_ok));
	dst_ok = dboxd_pool_alloc(&c->pool, ctx->count * sizeof(*dst_ok));
	for (unsigned int i = 0; i < ctx->count; i++) {
		if (ctx->dst_uids[i] != 0) {
			src_ok[n] = ctx->uids[i];
			dst_ok[n++] = ctx->dst_uids[i];
		}
	}
	worker_notify_change(c, ctx->name);
	if (ctx->move)
		worker_notify_change(c, c->sel->name);
	if (n == 0)
		return imap_cmd_ok(cmd, "No messages found.");
	return copy_reply(ctx, n, src_ok, dst_ok);
}

static bool cmd_copy_full(struct imap_cmd *cmd, bool move)
{
	struct imap_client *c = cmd->client;
	const char *set, *name, *error;
	struct dbox_mailbox *dst;
	struct dbox_status st;
	struct copy_ctx *ctx;
	int ret;

	if (!imap_arg_get_atom(&cmd->args[0], &set))
		return imap_cmd_bad(cmd, "%s needs a message set",
				    move ? "MOVE" : "COPY");
	if (!imap_cmd_get_mailbox(cmd, &cmd->args[1], &name))
		return true;
	if (!imap_arg_is_eol(&cmd->args[2]))
		return imap_cmd_bad(cmd, "Unexpected arguments");
	ctx = dboxd_pool_alloc(&c->pool, sizeof(*ctx));
	memset(ctx, 0, sizeof(*ctx));
	ctx->cmd = cmd;
	ctx->move = move;
	ctx->name = name;
	if (imap_seqset_to_uids(c, set, cmd->uid, &c->pool, &ctx->uids,
				&ctx->count, &error) < 0)
		return imap_cmd_bad(cmd, "%s", error);
	if (move && c->sel->readonly)
		return imap_cmd_no(cmd, "[READ-ONLY] Mailbox is read-only.");
	if (dbox_mailbox_open(imap_storage(), name, 0, &dst, &error) < 0) {
		return dbox_last_error() == DBOX_ERROR_NOTFOUND ?
		       imap_cmd_no(cmd, "[TRYCREATE] Mailbox doesn't exist") :
		       imap_cmd_storage_error(cmd, error);
	}
	if (ctx->count == 0) {
		dbox_mailbox_close(&dst);
		return imap_cmd_ok(cmd, "No messages found.");
	}
	dbox_mailbox_get_status(dst, &st);
	ctx->uidvalidity = st.uidvalidity;
	ctx->dst_uids = dboxd_pool_alloc(&c->pool,
					 ctx->count * sizeof(uint32_t));
	memset(ctx->dst_uids, 0, ctx->count * sizeof(uint32_t));
	ret = (move ? dbox_mail_move_start : dbox_mail_copy_start)
		(c->sel->box, ctx->uids, ctx->count, dst, copy_done, ctx,
		 &ctx->op, &error);
	/* the operation holds both mailboxes while it needs them */
	dbox_mailbox_close(&dst);
	if (ret < 0)
		return imap_cmd_storage_error(cmd, error);
	cmd->context = ctx;
	cmd->free_context = copy_free;
	cmd->cont = copy_cont;
	imap_cmd_wait_storage(cmd);
	return false;
}

bool imap_cmd_copy(struct imap_cmd *cmd)
{
	return cmd_copy_full(cmd, false);
}

bool imap_cmd_move(struct imap_cmd *cmd)
{
	return cmd_copy_full(cmd, true);
}
