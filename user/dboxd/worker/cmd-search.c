// SPDX-License-Identifier: GPL-2.0-or-later
/* SEARCH and UID SEARCH, with CHARSET, and the RETURN options of ESEARCH
   (RFC 4731: MIN MAX COUNT ALL). A search that needs message data waits
   for its reads on the loop (imap_search_run_step). */
#include <iconv.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "dbox.h"
#include "imap-client.h"
#include "imap-commands.h"
#include "imap-search.h"
#include "imap-sync.h"
#include "imap-util.h"

#define RET_MIN		0x01
#define RET_MAX		0x02
#define RET_ALL		0x04
#define RET_COUNT	0x08

static bool charset_known(const char *charset)
{
	iconv_t cd;

	if (strcasecmp(charset, "UTF-8") == 0 ||
	    strcasecmp(charset, "US-ASCII") == 0)
		return true;
	cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return false;
	iconv_close(cd);
	return true;
}

static int parse_return(const struct imap_arg *list, unsigned int *ret_r)
{
	*ret_r = 0;
	for (; !imap_arg_is_eol(list); list++) {
		if (imap_arg_atom_equals(list, "MIN"))
			*ret_r |= RET_MIN;
		else if (imap_arg_atom_equals(list, "MAX"))
			*ret_r |= RET_MAX;
		else if (imap_arg_atom_equals(list, "ALL"))
			*ret_r |= RET_ALL;
		else if (imap_arg_atom_equals(list, "COUNT"))
			*ret_r |= RET_COUNT;
		else
			return -1;
	}
	if (*ret_r == 0)
		*ret_r = RET_ALL;
	return 0;
}

/* Shared by SEARCH, SORT and THREAD: "[CHARSET x] keys" into prog. */
int imap_cmd_search_program(struct imap_cmd *cmd, const struct imap_arg *args,
			    bool charset_required, struct search_program *prog)
{
	const char *charset = NULL, *error;

	if (charset_required) {
		if (!imap_arg_get_astring(args, &charset)) {
			imap_cmd_bad(cmd, "Missing charset");
			return -1;
		}
		args++;
	} else if (imap_arg_atom_equals(args, "CHARSET")) {
		if (!imap_arg_get_astring(&args[1], &charset)) {
			imap_cmd_bad(cmd, "Missing charset");
			return -1;
		}
		args += 2;
	}
	if (charset != NULL && !charset_known(charset)) {
		imap_cmd_no(cmd, "[BADCHARSET (US-ASCII UTF-8)] Unknown charset");
		return -1;
	}
	if (imap_search_parse(cmd->client, args, charset, &cmd->client->pool,
			      prog, &error) < 0) {
		imap_cmd_bad(cmd, "%s", error);
		return -1;
	}
	if (prog->uses_modseq)
		cmd->client->sel->condstore = true;
	return 0;
}

struct search_ctx {
	struct search_program prog;
	struct imap_search_run *run;
	unsigned int ret;	/* RET_* */
	bool esearch;
};

static bool search_reply(struct imap_cmd *cmd, struct search_ctx *ctx,
			 const unsigned int *idx, unsigned int count)
{
	struct imap_client *c = cmd->client;
	struct dboxd_buf *out = &c->out;
	const struct dbox_mail *mails;
	unsigned int total, ret = ctx->ret;
	uint64_t max_modseq = 0;

	dbox_mailbox_get_mails(c->sel->box, &mails, &total);
	for (unsigned int i = 0; i < count; i++) {
		if (mails[idx[i]].modseq > max_modseq)
			max_modseq = mails[idx[i]].modseq;
	}
#define NUM(i) (cmd->uid ? mails[idx[i]].uid : idx[i] + 1)
	if (!ctx->esearch) {
		dboxd_buf_append_str(out, "* SEARCH");
		for (unsigned int i = 0; i < count; i++)
			dboxd_buf_printf(out, " %u", NUM(i));
		if (ctx->prog.uses_modseq && count > 0)
			dboxd_buf_printf(out, " (MODSEQ %" PRIu64 ")",
					 max_modseq);
		dboxd_buf_append_str(out, "\r\n");
		return imap_cmd_ok(cmd, "Search completed.");
	}
	dboxd_buf_printf(out, "* ESEARCH (TAG \"%s\")%s", cmd->tag,
			 cmd->uid ? " UID" : "");
	if ((ret & RET_MIN) && count > 0)
		dboxd_buf_printf(out, " MIN %u", NUM(0));
	if ((ret & RET_MAX) && count > 0)
		dboxd_buf_printf(out, " MAX %u", NUM(count - 1));
	if (ret & RET_COUNT)
		dboxd_buf_printf(out, " COUNT %u", count);
	if ((ret & RET_ALL) && count > 0) {
		uint32_t *nums = dboxd_pool_alloc(&c->pool,
						  count * sizeof(*nums));

		for (unsigned int i = 0; i < count; i++)
			nums[i] = NUM(i);
		dboxd_buf_append_str(out, " ALL ");
		imap_append_uidset(out, nums, count);
	}
	if (ctx->prog.uses_modseq && count > 0)
		dboxd_buf_printf(out, " MODSEQ %" PRIu64, max_modseq);
#undef NUM
	dboxd_buf_append_str(out, "\r\n");
	return imap_cmd_ok(cmd, "Search completed.");
}

/* Runs until the search is done, suspended while message data is read. */
static bool search_cont(struct imap_cmd *cmd)
{
	struct search_ctx *ctx = cmd->context;
	unsigned int *idx, count;
	const char *error;
	int ret;

	ret = imap_search_run_step(ctx->run, &idx, &count, &error);
	if (ret < 0)
		return imap_cmd_storage_error(cmd, error);
	if (ret > 0) {
		imap_cmd_wait_storage(cmd);
		return false;
	}
	return search_reply(cmd, ctx, idx, count);
}

static void search_free(struct imap_cmd *cmd)
{
	struct search_ctx *ctx = cmd->context;

	imap_search_run_free(ctx->run);
}

bool imap_cmd_search(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;
	const struct imap_arg *args = cmd->args, *list;
	struct search_ctx *ctx;

	ctx = dboxd_pool_alloc(&c->pool, sizeof(*ctx));
	memset(ctx, 0, sizeof(*ctx));
	if (imap_arg_atom_equals(args, "RETURN")) {
		if (!imap_arg_get_list(&args[1], &list, NULL) ||
		    parse_return(list, &ctx->ret) < 0)
			return imap_cmd_bad(cmd, "Invalid RETURN options");
		ctx->esearch = true;
		args += 2;
	}
	if (imap_cmd_search_program(cmd, args, false, &ctx->prog) < 0)
		return true;
	ctx->run = imap_search_run_begin(cmd, &ctx->prog, &c->pool);
	cmd->context = ctx;
	cmd->free_context = search_free;
	cmd->cont = search_cont;
	return search_cont(cmd);
}
