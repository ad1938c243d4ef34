// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * FETCH and UID FETCH. Messages are read in batches through the storage's
 * asynchronous fetch (dbox_fetch_start: several reads in flight, the
 * read-ahead window) and each response is written as its data arrives; a
 * batch is bounded in count and bytes. The command waits for each batch
 * (imap_cmd_wait_storage) without holding up the worker's other
 * connections; one message is simply a batch of one. When the output
 * buffer is full the command pauses (cmd->cont) until the client has read
 * it, so a FETCH of a large mailbox neither holds it all in memory nor
 * starves the user's other connections. \Seen set by a non-PEEK body
 * fetch is stored asynchronously too, before the first batch.
 */
#include <stdlib.h>
#include <string.h>

#include "dbox.h"
#include "imap-client.h"
#include "imap-commands.h"
#include "imap-fetch.h"
#include "imap-sync.h"
#include "imap-util.h"
#include "log.h"
#include "worker.h"

#define FETCH_BATCH_MAX		32
#define FETCH_BATCH_BYTES	(4 * 1024 * 1024)

struct fetch_ctx {
	struct fetch_request req;
	uint32_t *uids;
	unsigned int count, next;
	uint32_t *seen_uids;	/* \Seen set by this FETCH, ascending */
	unsigned int seen_count;
	bool expunged;		/* some message vanished meanwhile */
	const char *error;	/* UNKNOWN-CTE */
	/* the batch being read */
	struct imap_cmd *cmd;
	struct dbox_fetch *fetch;
	const struct dbox_mail *batch_mails[FETCH_BATCH_MAX];
	uint32_t batch_seqs[FETCH_BATCH_MAX];
	unsigned int batch_count;
	/* the \Seen store */
	struct dbox_op *seen_op;
	const char *seen_error;
};

static bool was_seen_now(const struct fetch_ctx *ctx, uint32_t uid)
{
	unsigned int lo = 0, hi = ctx->seen_count;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (ctx->seen_uids[mid] == uid)
			return true;
		if (ctx->seen_uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static void fetch_write(struct fetch_ctx *ctx, uint32_t seq,
			const struct dbox_mail *mail, const void *data,
			size_t size)
{
	struct imap_client *c = ctx->cmd->client;
	uint32_t flags = mail->flags;
	const char *error;

	if (was_seen_now(ctx, mail->uid))
		flags |= DBOX_MAIL_SEEN;
	if (imap_fetch_write(c, &ctx->req, seq, mail, flags, data, size,
			     &error) < 0)
		ctx->error = error;
}

static void fetch_cb(void *context, unsigned int idx, const void *data,
		     size_t size, enum dbox_error err, const char *error)
{
	struct fetch_ctx *ctx = context;

	if (error != NULL) {
		if (err != DBOX_ERROR_EXPUNGED)
			dboxd_warn("fetch uid %u: %s",
				   ctx->batch_mails[idx]->uid, error);
		ctx->expunged = true;
		return;
	}
	fetch_write(ctx, ctx->batch_seqs[idx], ctx->batch_mails[idx], data,
		    size);
}

/* Every message of the batch was delivered: the command continues. */
static void fetch_batch_cb(void *context, unsigned int idx, const void *data,
			   size_t size, enum dbox_error err, const char *error)
{
	struct fetch_ctx *ctx = context;

	fetch_cb(context, idx, data, size, err, error);
	if (idx + 1 == ctx->batch_count)
		imap_cmd_storage_done(ctx->cmd);
}

static void seen_done(void *context, const struct dbox_op_result *r)
{
	struct fetch_ctx *ctx = context;

	ctx->seen_op = NULL;
	if (r->ret < 0)
		ctx->seen_error = dboxd_pool_strdup(&ctx->cmd->client->pool,
						    r->error);
	imap_cmd_storage_done(ctx->cmd);
}

/* Mark the non-\Seen messages of the set seen (RFC 3501: BODY[] sets
   \Seen) before answering, so the answer can include the new flags.
   Returns 1 when a store was started (the command waits for it). */
static int fetch_set_seen(struct imap_client *c, struct fetch_ctx *ctx,
			  const char **error_r)
{
	struct dbox_store_params params = {
		.mode = DBOX_STORE_ADD, .flags = DBOX_MAIL_SEEN,
	};

	ctx->seen_uids = dboxd_pool_alloc(&c->pool,
					  (ctx->count + 1) * sizeof(uint32_t));
	for (unsigned int i = 0; i < ctx->count; i++) {
		const struct dbox_mail *m =
			dbox_mailbox_lookup_uid(c->sel->box, ctx->uids[i], NULL);

		if (m != NULL && (m->flags & DBOX_MAIL_SEEN) == 0)
			ctx->seen_uids[ctx->seen_count++] = m->uid;
	}
	if (ctx->seen_count == 0)
		return 0;
	if (dbox_mail_store_start(c->sel->box, ctx->seen_uids,
				  ctx->seen_count, &params, seen_done, ctx,
				  &ctx->seen_op, error_r) < 0)
		return -1;
	return 1;
}

/* One batch: index-only items directly, the rest through the storage.
   Returns 1 when reads were started (the command waits for them). */
static int fetch_batch(struct fetch_ctx *ctx)
{
	struct imap_client *c = ctx->cmd->client;
	struct dbox_fetch_req reqs[FETCH_BATCH_MAX];
	uint64_t bytes = 0;
	unsigned int n = 0;
	const char *error;

	while (ctx->next < ctx->count && n < FETCH_BATCH_MAX &&
	       (n == 0 || bytes < FETCH_BATCH_BYTES)) {
		uint32_t seq;
		const struct dbox_mail *m =
			dbox_mailbox_lookup_uid(c->sel->box,
						ctx->uids[ctx->next++], &seq);

		if (m == NULL)
			continue;
		if (ctx->req.changedsince != 0 &&
		    m->modseq <= ctx->req.changedsince)
			continue;
		if (ctx->req.need == FETCH_NEED_NONE) {
			fetch_write(ctx, seq, m, NULL, 0);
			continue;
		}
		memset(&reqs[n], 0, sizeof(reqs[n]));
		reqs[n].uid = m->uid;
		reqs[n].part = ctx->req.need == FETCH_NEED_HEADER ?
			       DBOX_FETCH_HEADER : DBOX_FETCH_WHOLE;
		reqs[n].length = UINT64_MAX;
		ctx->batch_mails[n] = m;
		ctx->batch_seqs[n] = seq;
		bytes += m->virtual_size;
		n++;
	}
	if (n == 0)
		return 0;
	ctx->batch_count = n;
	if (dbox_fetch_start(c->sel->box, reqs, n, fetch_batch_cb, ctx,
			     &ctx->fetch, &error) < 0) {
		dboxd_warn("fetch: %s", error);
		return -1;
	}
	return 1;
}

static void fetch_free(struct imap_cmd *cmd)
{
	struct fetch_ctx *ctx = cmd->context;

	/* reads in flight finish into the library's buffers, not ours */
	dbox_fetch_free(&ctx->fetch);
	dbox_op_abandon(&ctx->seen_op);
}

static bool fetch_cont(struct imap_cmd *cmd)
{
	struct fetch_ctx *ctx = cmd->context;
	struct imap_client *c = cmd->client;
	int ret;

	if (ctx->seen_error != NULL)
		return imap_cmd_no(cmd, "[SERVERBUG] %s", ctx->seen_error);
	/* the batch that woke us is delivered */
	dbox_fetch_free(&ctx->fetch);
	while (ctx->next < ctx->count) {
		if (dboxd_buf_len(&c->out) > IMAP_OUT_HIGH)
			return false;
		ret = fetch_batch(ctx);
		if (ret < 0)
			return imap_cmd_no(cmd, "[SERVERBUG] Internal error reading messages.");
		if (ret > 0) {
			imap_cmd_wait_storage(cmd);
			return false;
		}
	}
	if (ctx->error != NULL)
		return imap_cmd_no(cmd, "%s", ctx->error);
	/* The \Seen we set was in the answers already. */
	c->sel->silent_uids = ctx->seen_uids;
	c->sel->silent_count = ctx->seen_count;
	if (ctx->expunged)
		imap_cmd_no(cmd, "[EXPUNGEISSUED] Some of the requested messages no longer exist.");
	else
		imap_cmd_ok(cmd, "Fetch completed.");
	c->sel->silent_uids = NULL;
	c->sel->silent_count = 0;
	return true;
}

/* VANISHED (EARLIER): uids of the set expunged since CHANGEDSINCE. */
static void fetch_vanished(struct imap_cmd *cmd, const char *set,
			   uint64_t modseq)
{
	struct imap_client *c = cmd->client;
	struct imap_seq_range *ranges;
	unsigned int nranges, count, n = 0;
	uint32_t *uids;
	bool complete;
	const char *error;

	if (imap_seqset_parse(set, &c->pool, &ranges, &nranges) < 0 ||
	    dbox_mailbox_expunged_since(c->sel->box, modseq, &uids, &count,
					&complete, &error) < 0)
		return;
	for (unsigned int i = 0; i < count; i++) {
		for (unsigned int r = 0; r < nranges; r++) {
			if (uids[i] >= ranges[r].first &&
			    uids[i] <= ranges[r].last) {
				uids[n++] = uids[i];
				break;
			}
		}
	}
	if (n > 0) {
		dboxd_buf_append_str(&c->out, "* VANISHED (EARLIER) ");
		imap_append_uidset(&c->out, uids, n);
		dboxd_buf_append_str(&c->out, "\r\n");
	}
	free(uids);
}

bool imap_cmd_fetch(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;
	struct fetch_ctx *ctx;
	const char *set, *error;
	int ret = 0;

	ctx = dboxd_pool_alloc(&c->pool, sizeof(*ctx));
	memset(ctx, 0, sizeof(*ctx));
	ctx->cmd = cmd;
	if (!imap_arg_get_atom(&cmd->args[0], &set))
		return imap_cmd_bad(cmd, "FETCH needs a message set");
	if (imap_fetch_parse(c, &cmd->args[1], cmd->uid, &c->pool, &ctx->req,
			     &error) < 0)
		return imap_cmd_bad(cmd, "%s", error);
	if (imap_seqset_to_uids(c, set, cmd->uid, &c->pool, &ctx->uids,
				&ctx->count, &error) < 0)
		return imap_cmd_bad(cmd, "%s", error);
	if (ctx->req.vanished)
		fetch_vanished(cmd, set, ctx->req.changedsince);
	cmd->context = ctx;
	cmd->free_context = fetch_free;
	cmd->cont = fetch_cont;
	if (ctx->req.sets_seen && !c->sel->readonly)
		ret = fetch_set_seen(c, ctx, &error);
	if (ret < 0)
		return imap_cmd_no(cmd, "[SERVERBUG] %s", error);
	if (ret > 0) {
		imap_cmd_wait_storage(cmd);
		return false;
	}
	return fetch_cont(cmd);
}
