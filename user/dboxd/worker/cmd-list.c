// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * LIST (RFC 3501 6.3.8 with LIST-EXTENDED RFC 5258, CHILDREN RFC 3348,
 * SPECIAL-USE RFC 6154, LIST-STATUS RFC 5819) and LSUB. Names are matched
 * in the form the client uses (modified UTF-7, or UTF-8 after ENABLE
 * UTF8=ACCEPT); "*" matches anything, "%" anything but the separator; INBOX
 * matches case-insensitively.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbox.h"
#include "imap-client.h"
#include "imap-commands.h"
#include "imap-quote.h"
#include "imap-status.h"
#include "imap-util.h"
#include "storage.h"

#define LIST_SEL_SUBSCRIBED	0x01
#define LIST_SEL_RECURSIVE	0x02
#define LIST_SEL_SPECIAL_USE	0x04
#define LIST_RET_SUBSCRIBED	0x01
#define LIST_RET_CHILDREN	0x02
#define LIST_RET_SPECIAL_USE	0x04
#define LIST_RET_STATUS		0x08

struct list_ctx {
	struct imap_cmd *cmd;
	unsigned int sel, ret, status_items;
	bool extended;
	const char **patterns;
	unsigned int pattern_count;
	struct dbox_mailbox_info *infos;
	unsigned int info_count;
	char **client_names;	/* infos[i].name as the client sees it */
};

static bool glob_match(const char *p, const char *s)
{
	for (; *p != '\0'; p++, s++) {
		if (*p == '*' || *p == '%') {
			bool any = *p == '*';

			while (p[1] == '*' || p[1] == '%') {
				any |= p[1] == '*';
				p++;
			}
			for (;; s++) {
				if (glob_match(p + 1, s))
					return true;
				if (*s == '\0' || (!any && *s == '/'))
					return false;
			}
		}
		if (*s != *p)
			return false;
	}
	return *s == '\0';
}

/* INBOX (and its children) match case-insensitively: compare with the
   pattern's "inbox" prefix upper-cased. */
static bool list_match(const char *pattern, const char *name)
{
	char buf[2048];

	if (strncasecmp(pattern, "INBOX", 5) == 0 &&
	    strncmp(name, "INBOX", 5) == 0 &&
	    (name[5] == '\0' || name[5] == '/') && strlen(pattern) < sizeof(buf)) {
		strcpy(buf, pattern);
		memcpy(buf, "INBOX", 5);
		return glob_match(buf, name);
	}
	return glob_match(pattern, name);
}

static bool any_match(const struct list_ctx *ctx, const char *name)
{
	for (unsigned int i = 0; i < ctx->pattern_count; i++) {
		if (list_match(ctx->patterns[i], name))
			return true;
	}
	return false;
}

static char *client_name(struct imap_client *c, const char *utf8)
{
	char *out;
	const char *error;

	if (c->utf8 || dbox_utf8_to_mutf7(utf8, &out, &error) < 0)
		return strdup(utf8);
	return out;
}

static void list_write(struct list_ctx *ctx, const struct dbox_mailbox_info *info,
		       const char *verb, bool childinfo)
{
	struct imap_client *c = ctx->cmd->client;
	struct dboxd_buf *out = &c->out;
	bool first = true;
	unsigned int a = info->attrs;

#define ATTR(s) do { \
	if (!first) dboxd_buf_append(out, " ", 1); \
	dboxd_buf_append_str(out, s); first = false; } while (0)
	dboxd_buf_printf(out, "* %s (", verb);
	if (a & DBOX_MAILBOX_NONEXISTENT)
		ATTR(ctx->extended ? "\\NonExistent" : "\\Noselect");
	else if (a & DBOX_MAILBOX_NOSELECT)
		ATTR("\\Noselect");
	if ((a & DBOX_MAILBOX_NONEXISTENT) == 0 || !ctx->extended) {
		if (a & DBOX_MAILBOX_HASCHILDREN)
			ATTR("\\HasChildren");
		else if (a & DBOX_MAILBOX_HASNOCHILDREN)
			ATTR("\\HasNoChildren");
	}
	if ((a & DBOX_MAILBOX_SUBSCRIBED) &&
	    ((ctx->ret & LIST_RET_SUBSCRIBED) || (ctx->sel & LIST_SEL_SUBSCRIBED)))
		ATTR("\\Subscribed");
	imap_special_use_write(out, info->special_use, &first);
#undef ATTR
	dboxd_buf_append_str(out, ") \"/\" ");
	imap_append_mailbox(c, out, info->name);
	if (childinfo)
		dboxd_buf_append_str(out, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	dboxd_buf_append_str(out, "\r\n");
	if ((ctx->ret & LIST_RET_STATUS) &&
	    (a & (DBOX_MAILBOX_NOSELECT | DBOX_MAILBOX_NONEXISTENT)) == 0) {
		const char *error;

		(void)imap_status_write(c, info->name, ctx->status_items,
					&error);
	}
}

/* Does some subscribed mailbox lie below infos[i]? */
static bool has_subscribed_child(const struct list_ctx *ctx, unsigned int i)
{
	size_t len = strlen(ctx->infos[i].name);

	for (unsigned int j = 0; j < ctx->info_count; j++) {
		const char *n = ctx->infos[j].name;

		if ((ctx->infos[j].attrs & DBOX_MAILBOX_SUBSCRIBED) &&
		    strncmp(n, ctx->infos[i].name, len) == 0 && n[len] == '/')
			return true;
	}
	return false;
}

static void list_run(struct list_ctx *ctx)
{
	for (unsigned int i = 0; i < ctx->info_count; i++) {
		const struct dbox_mailbox_info *info = &ctx->infos[i];
		bool subscribed = info->attrs & DBOX_MAILBOX_SUBSCRIBED;
		bool childinfo = false;

		if (!any_match(ctx, ctx->client_names[i]))
			continue;
		if ((info->attrs & DBOX_MAILBOX_NONEXISTENT) &&
		    (ctx->sel & LIST_SEL_SUBSCRIBED) == 0)
			continue;
		if (ctx->sel & LIST_SEL_SPECIAL_USE && info->special_use == 0)
			continue;
		if (ctx->sel & LIST_SEL_SUBSCRIBED && !subscribed) {
			if ((ctx->sel & LIST_SEL_RECURSIVE) == 0 ||
			    !has_subscribed_child(ctx, i))
				continue;
			childinfo = true;
		} else if ((ctx->sel & LIST_SEL_SUBSCRIBED) &&
			   (ctx->sel & LIST_SEL_RECURSIVE) &&
			   has_subscribed_child(ctx, i)) {
			childinfo = true;
		}
		list_write(ctx, info, "LIST", childinfo);
	}
}

static int parse_return(struct list_ctx *ctx, const struct imap_arg *args)
{
	const struct imap_arg *list, *items;

	if (!imap_arg_atom_equals(args, "RETURN") ||
	    !imap_arg_get_list(&args[1], &list, NULL) ||
	    !imap_arg_is_eol(&args[2]))
		return -1;
	for (; !imap_arg_is_eol(list); list++) {
		if (imap_arg_atom_equals(list, "SUBSCRIBED")) {
			ctx->ret |= LIST_RET_SUBSCRIBED;
		} else if (imap_arg_atom_equals(list, "CHILDREN")) {
			ctx->ret |= LIST_RET_CHILDREN;
		} else if (imap_arg_atom_equals(list, "SPECIAL-USE")) {
			ctx->ret |= LIST_RET_SPECIAL_USE;
		} else if (imap_arg_atom_equals(list, "STATUS") &&
			   imap_arg_get_list(&list[1], &items, NULL)) {
			if (imap_status_parse(items, &ctx->status_items) < 0)
				return -1;
			ctx->ret |= LIST_RET_STATUS;
			list++;
		} else {
			return -1;
		}
	}
	return 0;
}

static int parse_selection(struct list_ctx *ctx, const struct imap_arg *list)
{
	for (; !imap_arg_is_eol(list); list++) {
		if (imap_arg_atom_equals(list, "SUBSCRIBED"))
			ctx->sel |= LIST_SEL_SUBSCRIBED;
		else if (imap_arg_atom_equals(list, "RECURSIVEMATCH"))
			ctx->sel |= LIST_SEL_RECURSIVE;
		else if (imap_arg_atom_equals(list, "SPECIAL-USE"))
			ctx->sel |= LIST_SEL_SPECIAL_USE;
		else if (imap_arg_atom_equals(list, "REMOTE"))
			continue;
		else
			return -1;
	}
	/* RECURSIVEMATCH alone means nothing (RFC 5258 3). */
	if (ctx->sel == LIST_SEL_RECURSIVE)
		return -1;
	return 0;
}

/* reference + pattern, in the client's encoding (RFC 3501 6.3.8). */
static const char *full_pattern(struct imap_client *c, const char *ref,
				const char *pattern)
{
	if (ref[0] == '\0' || pattern[0] == '/')
		return pattern;
	return dboxd_pool_printf(&c->pool, "%s%s", ref, pattern);
}

static int list_load(struct list_ctx *ctx, const char **error_r)
{
	if (dbox_mailbox_list(imap_storage(), &ctx->infos, &ctx->info_count,
			      error_r) < 0)
		return -1;
	ctx->client_names = calloc(ctx->info_count + 1, sizeof(char *));
	if (ctx->client_names == NULL)
		return -1;
	for (unsigned int i = 0; i < ctx->info_count; i++)
		ctx->client_names[i] = client_name(ctx->cmd->client,
						   ctx->infos[i].name);
	return 0;
}

static void list_free(struct list_ctx *ctx)
{
	for (unsigned int i = 0; ctx->client_names != NULL &&
			      i < ctx->info_count; i++)
		free(ctx->client_names[i]);
	free(ctx->client_names);
	dbox_mailbox_list_free(&ctx->infos, ctx->info_count);
}

bool imap_cmd_list(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;
	const struct imap_arg *args = cmd->args, *list;
	struct list_ctx ctx = { .cmd = cmd };
	const char *ref, *pattern, *error;
	unsigned int count;

	if (imap_arg_get_list(args, &list, NULL)) {
		if (parse_selection(&ctx, list) < 0)
			return imap_cmd_bad(cmd, "Invalid LIST selection options");
		ctx.extended = true;
		args++;
	}
	if (!imap_arg_get_astring(args, &ref))
		return imap_cmd_bad(cmd, "Invalid LIST reference");
	args++;
	if (imap_arg_get_list(args, &list, &count)) {
		ctx.extended = true;
		ctx.patterns = dboxd_pool_alloc(&c->pool, (count + 1) * sizeof(char *));
		for (unsigned int i = 0; i < count; i++) {
			if (!imap_arg_get_string(&list[i], &pattern) &&
			    !imap_arg_get_atom(&list[i], &pattern))
				return imap_cmd_bad(cmd, "Invalid LIST pattern");
			ctx.patterns[ctx.pattern_count++] =
				full_pattern(c, ref, pattern);
		}
	} else if (imap_arg_get_string(args, &pattern) ||
		   imap_arg_get_atom(args, &pattern)) {
		ctx.patterns = dboxd_pool_alloc(&c->pool, sizeof(char *));
		ctx.patterns[ctx.pattern_count++] = full_pattern(c, ref, pattern);
	} else {
		return imap_cmd_bad(cmd, "Invalid LIST pattern");
	}
	args++;
	if (!imap_arg_is_eol(args)) {
		if (parse_return(&ctx, args) < 0)
			return imap_cmd_bad(cmd, "Invalid LIST return options");
		ctx.extended = true;
	}
	if (ctx.pattern_count == 1 && ctx.patterns[0][0] == '\0' &&
	    ctx.sel == 0) {
		/* The hierarchy delimiter and root (RFC 3501 6.3.8). */
		imap_client_send(c, "* LIST (\\Noselect) \"/\" \"\"");
		return imap_cmd_ok(cmd, "List completed.");
	}
	if (list_load(&ctx, &error) < 0) {
		list_free(&ctx);
		return imap_cmd_storage_error(cmd, "Cannot list mailboxes");
	}
	list_run(&ctx);
	list_free(&ctx);
	return imap_cmd_ok(cmd, "List completed.");
}

bool imap_cmd_lsub(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;
	struct list_ctx ctx = { .cmd = cmd, .sel = LIST_SEL_SUBSCRIBED };
	const char *ref, *pattern, *error;
	char **sent;
	unsigned int nsent = 0;

	if (!imap_arg_get_astring(&cmd->args[0], &ref) ||
	    (!imap_arg_get_string(&cmd->args[1], &pattern) &&
	     !imap_arg_get_atom(&cmd->args[1], &pattern)) ||
	    !imap_arg_is_eol(&cmd->args[2]))
		return imap_cmd_bad(cmd, "LSUB needs a reference and a pattern");
	ctx.patterns = dboxd_pool_alloc(&c->pool, sizeof(char *));
	ctx.patterns[ctx.pattern_count++] = full_pattern(c, ref, pattern);
	if (list_load(&ctx, &error) < 0) {
		list_free(&ctx);
		return imap_cmd_storage_error(cmd, "Cannot list mailboxes");
	}
	sent = calloc(ctx.info_count + 1, sizeof(char *));
	for (unsigned int i = 0; sent != NULL && i < ctx.info_count; i++) {
		struct dbox_mailbox_info info = ctx.infos[i];
		char *name = ctx.client_names[i];
		bool dup = false;

		if ((info.attrs & DBOX_MAILBOX_SUBSCRIBED) == 0)
			continue;
		if (!list_match(ctx.patterns[0], name)) {
			/* With "%", a subscribed child shows its parent as
			   \Noselect (RFC 3501 6.3.9). */
			char *slash;

			while ((slash = strrchr(name, '/')) != NULL) {
				*slash = '\0';
				if (list_match(ctx.patterns[0], name))
					break;
			}
			if (slash == NULL)
				continue;
			/* Cut the storage name after as many levels
			   as the client name kept (encodings differ). */
			{
				unsigned int levels = 0;
				char *u = ctx.infos[i].name;

				for (char *q = name; *q != '\0'; q++)
					levels += *q == '/';
				for (; *u != '\0'; u++) {
					if (*u == '/' && levels-- == 0)
						break;
				}
				*u = '\0';
			}
			info.attrs = DBOX_MAILBOX_NOSELECT;
			info.name = ctx.infos[i].name;
		}
		for (unsigned int k = 0; k < nsent; k++)
			dup |= strcmp(sent[k], info.name) == 0;
		if (dup)
			continue;
		sent[nsent++] = info.name;
		if (info.attrs & DBOX_MAILBOX_NONEXISTENT)
			info.attrs = DBOX_MAILBOX_NOSELECT;
		info.attrs &= DBOX_MAILBOX_NOSELECT;
		info.special_use = 0;
		list_write(&ctx, &info, "LSUB", false);
	}
	free(sent);
	list_free(&ctx);
	return imap_cmd_ok(cmd, "Lsub completed.");
}
