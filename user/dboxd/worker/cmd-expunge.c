// SPDX-License-Identifier: GPL-2.0-or-later
/* EXPUNGE, UID EXPUNGE (RFC 4315) and CLOSE. The untagged EXPUNGE (or
   VANISHED) responses come from the sync before the tagged OK; CLOSE
   expunges silently. The expunge runs asynchronously
   (dbox_mail_expunge_start); the command waits for it. */
#include <stdlib.h>
#include <string.h>

#include "dbox.h"
#include "imap-client.h"
#include "imap-commands.h"
#include "imap-sync.h"
#include "imap-util.h"
#include "storage.h"
#include "worker.h"

struct expunge_ctx {
	struct imap_cmd *cmd;
	struct dbox_op *op;
	int ret;
	enum dbox_error err;
	char *error;
};

static void expunge_done(void *context, const struct dbox_op_result *r)
{
	struct expunge_ctx *ctx = context;

	ctx->op = NULL;
	ctx->ret = r->ret;
	ctx->err = r->err;
	if (r->ret < 0)
		ctx->error = strdup(r->error);
	imap_cmd_storage_done(ctx->cmd);
}

static void expunge_free(struct imap_cmd *cmd)
{
	struct expunge_ctx *ctx = cmd->context;

	dbox_op_abandon(&ctx->op);
	free(ctx->error);
}

static bool expunge_failed(struct imap_cmd *cmd, struct expunge_ctx *ctx)
{
	return imap_cmd_no(cmd, "%s %s", imap_storage_resp_code_for(ctx->err),
			   ctx->error != NULL ? ctx->error : "Internal error");
}

static bool expunge_cont(struct imap_cmd *cmd)
{
	struct expunge_ctx *ctx = cmd->context;
	struct imap_client *c = cmd->client;

	if (ctx->ret < 0)
		return expunge_failed(cmd, ctx);
	worker_notify_change(c, c->sel->name);
	return imap_cmd_ok(cmd, "Expunge completed.");
}

/* Start expunging uids; false with a reply sent if it could not start. */
static bool expunge_start(struct imap_cmd *cmd, const uint32_t *uids,
			  unsigned int n, imap_cmd_func_t *cont)
{
	struct imap_client *c = cmd->client;
	struct expunge_ctx *ctx;
	const char *error;

	ctx = dboxd_pool_alloc(&c->pool, sizeof(*ctx));
	memset(ctx, 0, sizeof(*ctx));
	ctx->cmd = cmd;
	if (dbox_mail_expunge_start(c->sel->box, uids, n, expunge_done, ctx,
				    &ctx->op, &error) < 0) {
		imap_cmd_storage_error(cmd, error);
		return false;
	}
	cmd->context = ctx;
	cmd->free_context = expunge_free;
	cmd->cont = cont;
	imap_cmd_wait_storage(cmd);
	return true;
}

bool imap_cmd_expunge(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;
	const struct dbox_mail *mails;
	unsigned int count, n = 0, set_count = 0;
	uint32_t *uids, *set_uids = NULL;
	const char *set, *error;

	if (cmd->uid) {
		if (!imap_arg_get_atom(&cmd->args[0], &set) ||
		    !imap_arg_is_eol(&cmd->args[1]))
			return imap_cmd_bad(cmd, "UID EXPUNGE needs a UID set");
		if (imap_seqset_to_uids(c, set, true, &c->pool, &set_uids,
					&set_count, &error) < 0)
			return imap_cmd_bad(cmd, "%s", error);
	} else if (!imap_arg_is_eol(cmd->args)) {
		return imap_cmd_bad(cmd, "Unexpected arguments");
	}
	if (c->sel->readonly)
		return imap_cmd_no(cmd, "[READ-ONLY] Mailbox is read-only.");
	dbox_mailbox_get_mails(c->sel->box, &mails, &count);
	uids = dboxd_pool_alloc(&c->pool, (count + 1) * sizeof(*uids));
	for (unsigned int i = 0, j = 0; i < count; i++) {
		if ((mails[i].flags & DBOX_MAIL_DELETED) == 0)
			continue;
		if (cmd->uid) {
			while (j < set_count && set_uids[j] < mails[i].uid)
				j++;
			if (j == set_count || set_uids[j] != mails[i].uid)
				continue;
		}
		uids[n++] = mails[i].uid;
	}
	if (n == 0)
		return imap_cmd_ok(cmd, "Expunge completed.");
	return !expunge_start(cmd, uids, n, expunge_cont);
}

/* CLOSE: unselect once the \Deleted messages are gone (silently). */
static bool close_finish(struct imap_cmd *cmd)
{
	struct expunge_ctx *ctx = cmd->context;
	struct imap_client *c = cmd->client;
	char *name;

	if (ctx != NULL && ctx->ret < 0)
		return expunge_failed(cmd, ctx);
	name = strdup(c->sel->name);
	imap_selected_close(c);
	if (name != NULL)
		worker_notify_change(c, name);
	free(name);
	return imap_cmd_ok(cmd, "Close completed.");
}

bool imap_cmd_close(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;
	const struct dbox_mail *mails;
	unsigned int count, n = 0;
	uint32_t *uids;

	if (!imap_arg_is_eol(cmd->args))
		return imap_cmd_bad(cmd, "Unexpected arguments");
	if (c->sel->readonly)
		return close_finish(cmd);
	dbox_mailbox_get_mails(c->sel->box, &mails, &count);
	uids = dboxd_pool_alloc(&c->pool, (count + 1) * sizeof(*uids));
	for (unsigned int i = 0; i < count; i++) {
		if (mails[i].flags & DBOX_MAIL_DELETED)
			uids[n++] = mails[i].uid;
	}
	if (n == 0)
		return close_finish(cmd);
	return !expunge_start(cmd, uids, n, close_finish);
}
