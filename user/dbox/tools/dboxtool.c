// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dboxtool: command-line access to a dbox mail root through libdbox, for
 * administrators and the interop tests. Message bodies are only ever
 * written to stdout by "fetch", never logged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbox.h"

struct cmd_ctx {
	struct dbox_storage *storage;
	int argc;
	char **argv;
};

struct cmd {
	const char *name;
	int min_args;
	const char *usage;
	int (*run)(struct cmd_ctx *ctx);
};

static int fail(const char *what, const char *error)
{
	fprintf(stderr, "dboxtool: %s: %s\n", what, error);
	return -1;
}

static int read_all(FILE *f, char **data_r, size_t *size_r)
{
	size_t cap = 65536, size = 0, n;
	char *data = malloc(cap);

	while (data != NULL && (n = fread(data + size, 1, cap - size, f)) > 0) {
		size += n;
		if (size == cap) {
			char *bigger = realloc(data, cap * 2);

			if (bigger == NULL)
				break;
			data = bigger;
			cap *= 2;
		}
	}
	if (data == NULL || ferror(f)) {
		free(data);
		return -1;
	}
	*data_r = data;
	*size_r = size;
	return 0;
}

static int open_box(struct cmd_ctx *ctx, const char *name,
		    struct dbox_mailbox **box_r)
{
	const char *error;

	if (dbox_mailbox_open(ctx->storage, name, 0, box_r, &error) < 0)
		return fail(name, error);
	return 0;
}

static int cmd_list(struct cmd_ctx *ctx)
{
	struct dbox_mailbox_info *infos;
	unsigned int i, count;
	const char *error;

	if (dbox_mailbox_list(ctx->storage, &infos, &count, &error) < 0)
		return fail("list", error);
	for (i = 0; i < count; i++)
		printf("%s\t%s%s%s%s\n", infos[i].name,
		       (infos[i].attrs & DBOX_MAILBOX_NOSELECT) ? "\\Noselect " : "",
		       (infos[i].attrs & DBOX_MAILBOX_HASCHILDREN) ? "\\HasChildren " : "",
		       (infos[i].attrs & DBOX_MAILBOX_SUBSCRIBED) ? "\\Subscribed " : "",
		       (infos[i].attrs & DBOX_MAILBOX_NONEXISTENT) ? "\\NonExistent" : "");
	dbox_mailbox_list_free(&infos, count);
	return 0;
}

static int cmd_create(struct cmd_ctx *ctx)
{
	const char *error;

	if (dbox_mailbox_create(ctx->storage, ctx->argv[0], 0, &error) < 0)
		return fail("create", error);
	return 0;
}

static int cmd_delete(struct cmd_ctx *ctx)
{
	const char *error;

	if (dbox_mailbox_delete(ctx->storage, ctx->argv[0], &error) < 0)
		return fail("delete", error);
	return 0;
}

static int cmd_rename(struct cmd_ctx *ctx)
{
	const char *error;

	if (dbox_mailbox_rename(ctx->storage, ctx->argv[0], ctx->argv[1],
				&error) < 0)
		return fail("rename", error);
	return 0;
}

static int cmd_subscribe(struct cmd_ctx *ctx)
{
	const char *error;

	if (dbox_mailbox_subscribe(ctx->storage, ctx->argv[0], true,
				   &error) < 0)
		return fail("subscribe", error);
	return 0;
}

static int cmd_status(struct cmd_ctx *ctx)
{
	struct dbox_status st;
	const char *error;

	if (dbox_mailbox_status(ctx->storage, ctx->argv[0], &st, &error) < 0)
		return fail("status", error);
	printf("messages=%u recent=%u uidnext=%u uidvalidity=%u unseen=%u "
	       "highestmodseq=%llu size=%llu\n", st.messages, st.recent,
	       st.uidnext, st.uidvalidity, st.unseen,
	       (unsigned long long)st.highest_modseq,
	       (unsigned long long)st.size);
	return 0;
}

/* append NAME [FILE...]: each file (or stdin) is one message. */
static int cmd_append(struct cmd_ctx *ctx)
{
	struct dbox_mailbox *box;
	const char *error;
	uint32_t uid;
	char *data;
	size_t size;
	int i, ret = 0;

	if (open_box(ctx, ctx->argv[0], &box) < 0)
		return -1;
	for (i = ctx->argc == 1 ? 0 : 1; ret == 0 && i < ctx->argc; i++) {
		FILE *f = i == 0 ? stdin : fopen(ctx->argv[i], "rb");

		if (f == NULL || read_all(f, &data, &size) < 0) {
			ret = fail(i == 0 ? "stdin" : ctx->argv[i],
				   strerror(errno));
			break;
		}
		if (f != stdin)
			fclose(f);
		if (dbox_mail_append(box, data, size, NULL, &uid, &error) < 0)
			ret = fail("append", error);
		else
			printf("%u\n", uid);
		free(data);
	}
	dbox_mailbox_close(&box);
	return ret;
}

static void print_flags(uint32_t flags)
{
	static const char *const names[] = {
		"\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"
	};
	unsigned int i;
	bool first = true;

	for (i = 0; i < 5; i++) {
		if ((flags & (1U << i)) != 0) {
			printf("%s%s", first ? "" : " ", names[i]);
			first = false;
		}
	}
}

/* dump NAME: one line per message, no content. */
static int cmd_dump(struct cmd_ctx *ctx)
{
	const struct dbox_mail *mails;
	struct dbox_mailbox *box;
	struct dbox_status st;
	unsigned int i, j, count;

	if (open_box(ctx, ctx->argv[0], &box) < 0)
		return -1;
	dbox_mailbox_get_status(box, &st);
	printf("uidvalidity=%u uidnext=%u highestmodseq=%llu\n",
	       st.uidvalidity, st.uidnext,
	       (unsigned long long)st.highest_modseq);
	dbox_mailbox_get_mails(box, &mails, &count);
	for (i = 0; i < count; i++) {
		printf("%u guid=%s modseq=%llu date=%lld phys=%llu virt=%llu "
		       "flags=(", mails[i].uid, mails[i].guid,
		       (unsigned long long)mails[i].modseq,
		       (long long)mails[i].internal_date,
		       (unsigned long long)mails[i].physical_size,
		       (unsigned long long)mails[i].virtual_size);
		print_flags(mails[i].flags);
		for (j = 0; mails[i].keywords[j] != NULL; j++)
			printf(" %s", mails[i].keywords[j]);
		printf(")\n");
	}
	dbox_mailbox_close(&box);
	return 0;
}

/* fetch NAME UID [whole|header|text]: the part in wire form on stdout. */
static int cmd_fetch(struct cmd_ctx *ctx)
{
	struct dbox_fetch_req req = { 0, DBOX_FETCH_WHOLE, 0, UINT64_MAX };
	struct dbox_mailbox *box;
	const char *error;
	void *data;
	size_t size;
	int ret = 0;

	req.uid = (uint32_t)strtoul(ctx->argv[1], NULL, 10);
	if (ctx->argc > 2 && strcmp(ctx->argv[2], "header") == 0)
		req.part = DBOX_FETCH_HEADER;
	else if (ctx->argc > 2 && strcmp(ctx->argv[2], "text") == 0)
		req.part = DBOX_FETCH_TEXT;
	if (open_box(ctx, ctx->argv[0], &box) < 0)
		return -1;
	if (dbox_mail_fetch(box, &req, &data, &size, &error) < 0) {
		ret = fail("fetch", error);
	} else {
		if (fwrite(data, 1, size, stdout) != size)
			ret = fail("fetch", "write failed");
		free(data);
	}
	dbox_mailbox_close(&box);
	return ret;
}

static int uid_args(struct cmd_ctx *ctx, int first, uint32_t **uids_r)
{
	int i, n = ctx->argc - first;

	*uids_r = calloc((size_t)n + 1, sizeof(uint32_t));
	if (*uids_r == NULL)
		return 0;
	for (i = 0; i < n; i++)
		(*uids_r)[i] = (uint32_t)strtoul(ctx->argv[first + i], NULL, 10);
	return n;
}

static int cmd_expunge(struct cmd_ctx *ctx)
{
	struct dbox_mailbox *box;
	const char *error;
	uint32_t *uids;
	int n, ret = 0;

	if (open_box(ctx, ctx->argv[0], &box) < 0)
		return -1;
	n = uid_args(ctx, 1, &uids);
	if (dbox_mail_expunge(box, uids, (unsigned int)n, &error) < 0)
		ret = fail("expunge", error);
	free(uids);
	dbox_mailbox_close(&box);
	return ret;
}

static int copy_or_move(struct cmd_ctx *ctx, bool move)
{
	struct dbox_mailbox *src, *dst;
	const char *error;
	uint32_t *uids, *new_uids;
	int i, n, ret = 0;

	if (open_box(ctx, ctx->argv[0], &src) < 0)
		return -1;
	if (open_box(ctx, ctx->argv[1], &dst) < 0) {
		dbox_mailbox_close(&src);
		return -1;
	}
	n = uid_args(ctx, 2, &uids);
	new_uids = calloc((size_t)n + 1, sizeof(uint32_t));
	if ((move ? dbox_mail_move : dbox_mail_copy)(src, uids, (unsigned int)n,
						     dst, new_uids, &error) < 0)
		ret = fail(move ? "move" : "copy", error);
	for (i = 0; ret == 0 && i < n; i++)
		printf("%u\n", new_uids[i]);
	free(uids);
	free(new_uids);
	dbox_mailbox_close(&dst);
	dbox_mailbox_close(&src);
	return ret;
}

static int cmd_copy(struct cmd_ctx *ctx)
{
	return copy_or_move(ctx, false);
}

static int cmd_move(struct cmd_ctx *ctx)
{
	return copy_or_move(ctx, true);
}

static int cmd_rebuild(struct cmd_ctx *ctx)
{
	const char *error;

	if (dbox_storage_rebuild(ctx->storage, &error) < 0)
		return fail("rebuild", error);
	return 0;
}

static int cmd_purge(struct cmd_ctx *ctx)
{
	const char *error;

	if (dbox_storage_purge(ctx->storage, &error) < 0)
		return fail("purge", error);
	return 0;
}

static const struct cmd cmds[] = {
	{ "list", 0, "", cmd_list },
	{ "create", 1, "NAME", cmd_create },
	{ "delete", 1, "NAME", cmd_delete },
	{ "rename", 2, "OLD NEW", cmd_rename },
	{ "subscribe", 1, "NAME", cmd_subscribe },
	{ "status", 1, "NAME", cmd_status },
	{ "append", 1, "NAME [FILE...]", cmd_append },
	{ "dump", 1, "NAME", cmd_dump },
	{ "fetch", 2, "NAME UID [whole|header|text]", cmd_fetch },
	{ "expunge", 2, "NAME UID...", cmd_expunge },
	{ "copy", 3, "SRC DST UID...", cmd_copy },
	{ "move", 3, "SRC DST UID...", cmd_move },
	{ "rebuild", 0, "", cmd_rebuild },
	{ "purge", 0, "", cmd_purge },
};

static void usage(void)
{
	unsigned int i;

	fprintf(stderr, "usage: dboxtool [-f sdbox|mdbox] ROOT COMMAND ...\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(stderr, "  %s %s\n", cmds[i].name, cmds[i].usage);
	exit(2);
}

int main(int argc, char **argv)
{
	struct dbox_storage_settings set = { .format = DBOX_FORMAT_SDBOX };
	struct cmd_ctx ctx;
	const char *error;
	unsigned int i;
	int opt, ret;

	while ((opt = getopt(argc, argv, "f:")) != -1) {
		if (opt == 'f' && strcmp(optarg, "mdbox") == 0)
			set.format = DBOX_FORMAT_MDBOX;
		else if (opt != 'f' || strcmp(optarg, "sdbox") != 0)
			usage();
	}
	if (argc - optind < 2)
		usage();
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmds[i].name, argv[optind + 1]) == 0)
			break;
	}
	if (i == sizeof(cmds) / sizeof(cmds[0]) ||
	    argc - optind - 2 < cmds[i].min_args)
		usage();
	if (dbox_storage_open(argv[optind], &set, &ctx.storage, &error) < 0)
		return fail(argv[optind], error) < 0 ? 1 : 0;
	ctx.argc = argc - optind - 2;
	ctx.argv = argv + optind + 2;
	ret = cmds[i].run(&ctx);
	dbox_storage_close(&ctx.storage);
	return ret < 0 ? 1 : 0;
}
