// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * STORE and UID STORE (RFC 3501 6.4.6) with UNCHANGEDSINCE (RFC 7162). The
 * untagged FETCH responses come from the sync before the tagged OK, which
 * reports every flag change the view sees, this command's included (unless
 * .SILENT) and other connections' too. The change runs asynchronously
 * (dbox_mail_store_start); the command waits for it in store_cont().
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbox.h"
#include "imap-client.h"
#include "imap-commands.h"
#include "imap-sync.h"
#include "imap-util.h"
#include "storage.h"
#include "worker.h"

static int parse_unchangedsince(const struct imap_arg *arg, uint64_t *v_r)
{
	const struct imap_arg *list;
	unsigned int count;
	const char *s;
	char *end;

	if (!imap_arg_get_list(arg, &list, &count) || count != 2 ||
	    !imap_arg_atom_equals(&list[0], "UNCHANGEDSINCE") ||
	    !imap_arg_get_atom(&list[1], &s) || *s < '0' || *s > '9')
		return -1;
	*v_r = strtoull(s, &end, 10);
	return *end == '\0' ? 0 : -1;
}

static void write_modified(struct imap_cmd *cmd, const uint32_t *failed,
			   unsigned int count, struct dboxd_buf *out)
{
	uint32_t *ids = malloc((count + 1) * sizeof(*ids));

	if (ids == NULL)
		return;
	for (unsigned int i = 0; i < count; i++) {
		uint32_t seq = 0;

		if (cmd->uid ||
		    dbox_mailbox_lookup_uid(cmd->client->sel->box, failed[i],
					    &seq) == NULL)
			seq = failed[i];
		ids[i] = cmd->uid ? failed[i] : seq;
	}
	imap_append_uidset(out, ids, count);
	free(ids);
}

struct store_ctx {
	struct imap_cmd *cmd;
	struct dbox_op *op;
	uint32_t *uids;
	unsigned int count;
	bool silent;
	/* the result */
	int ret;
	enum dbox_error err;
	char *error;
	uint32_t *failed;
	unsigned int failed_count;
};

static void store_done(void *context, const struct dbox_op_result *r)
{
	struct store_ctx *ctx = context;

	ctx->op = NULL;
	ctx->ret = r->ret;
	ctx->err = r->err;
	if (r->ret < 0) {
		ctx->error = strdup(r->error);
	} else if (r->failed_count > 0) {
		ctx->failed = malloc(r->failed_count * sizeof(uint32_t));
		if (ctx->failed != NULL) {
			memcpy(ctx->failed, r->failed_uids,
			       r->failed_count * sizeof(uint32_t));
			ctx->failed_count = r->failed_count;
		}
	}
	imap_cmd_storage_done(ctx->cmd);
}

static void store_free(struct imap_cmd *cmd)
{
	struct store_ctx *ctx = cmd->context;

	dbox_op_abandon(&ctx->op);
	free(ctx->error);
	free(ctx->failed);
}

static bool store_cont(struct imap_cmd *cmd)
{
	struct store_ctx *ctx = cmd->context;
	struct imap_client *c = cmd->client;
	struct dboxd_buf modified;

	if (ctx->ret < 0)
		return imap_cmd_no(cmd, "%s %s",
				   imap_storage_resp_code_for(ctx->err),
				   ctx->error != NULL ? ctx->error :
				   "Internal error");
	worker_notify_change(c, c->sel->name);
	if (ctx->silent) {
		c->sel->silent_uids = ctx->uids;
		c->sel->silent_count = ctx->count;
	}
	if (ctx->failed_count == 0) {
		imap_cmd_ok(cmd, "Store completed.");
	} else {
		dboxd_buf_init(&modified, false);
		write_modified(cmd, ctx->failed, ctx->failed_count, &modified);
		dboxd_buf_append(&modified, "", 1);
		imap_cmd_ok(cmd, "[MODIFIED %s] Conditional STORE failed.",
			    (const char *)modified.data);
		dboxd_buf_free(&modified);
	}
	c->sel->silent_uids = NULL;
	c->sel->silent_count = 0;
	return true;
}

bool imap_cmd_store(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;
	const struct imap_arg *args = cmd->args, *list;
	struct dbox_store_params params;
	const char *set, *item, *error;
	const char **keywords;
	struct store_ctx *ctx;
	uint32_t *uids;
	unsigned int count;
	bool silent = false;
	size_t len;

	memset(&params, 0, sizeof(params));
	if (!imap_arg_get_atom(&args[0], &set))
		return imap_cmd_bad(cmd, "STORE needs a message set");
	args++;
	if (args[0].type == IMAP_ARG_LIST) {
		if (parse_unchangedsince(&args[0], &params.unchanged_since) < 0)
			return imap_cmd_bad(cmd, "Invalid STORE modifiers");
		c->sel->condstore = true;
		args++;
	}
	if (!imap_arg_get_atom(&args[0], &item))
		return imap_cmd_bad(cmd, "STORE needs a data item");
	params.mode = DBOX_STORE_REPLACE;
	if (item[0] == '+' || item[0] == '-') {
		params.mode = item[0] == '+' ? DBOX_STORE_ADD : DBOX_STORE_REMOVE;
		item++;
	}
	len = strlen(item);
	if (len > 7 && strcasecmp(item + len - 7, ".SILENT") == 0) {
		silent = true;
		len -= 7;
	}
	if (len != 5 || strncasecmp(item, "FLAGS", 5) != 0)
		return imap_cmd_bad(cmd, "Invalid STORE data item");
	args++;
	/* "(\Seen \Flagged)" or the flags without parentheses */
	list = args;
	if (args[0].type == IMAP_ARG_LIST) {
		list = args[0].list;
		if (!imap_arg_is_eol(&args[1]))
			return imap_cmd_bad(cmd, "Unexpected arguments");
	}
	if (imap_flags_parse(list, &c->pool, &params.flags, &keywords,
			     &error) < 0)
		return imap_cmd_bad(cmd, "%s", error);
	params.keywords = keywords;
	if (imap_seqset_to_uids(c, set, cmd->uid, &c->pool, &uids, &count,
				&error) < 0)
		return imap_cmd_bad(cmd, "%s", error);
	if (c->sel->readonly)
		return imap_cmd_no(cmd, "[READ-ONLY] Mailbox is read-only.");
	if (count == 0)
		return imap_cmd_ok(cmd, "Store completed.");
	ctx = dboxd_pool_alloc(&c->pool, sizeof(*ctx));
	memset(ctx, 0, sizeof(*ctx));
	ctx->cmd = cmd;
	ctx->uids = uids;
	ctx->count = count;
	ctx->silent = silent;
	if (dbox_mail_store_start(c->sel->box, uids, count, &params, store_done,
				  ctx, &ctx->op, &error) < 0)
		return imap_cmd_storage_error(cmd, error);
	cmd->context = ctx;
	cmd->free_context = store_free;
	cmd->cont = store_cont;
	imap_cmd_wait_storage(cmd);
	return false;
}
