// SPDX-License-Identifier: GPL-2.0-or-later
/* CREATE (with RFC 6154's USE), DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE. */
#include <string.h>
#include <strings.h>

#include "dbox.h"
#include "imap-client.h"
#include "imap-commands.h"
#include "imap-sync.h"
#include "imap-util.h"
#include "storage.h"

static const struct {
	const char *name;
	unsigned int flag;
} special_uses[] = {
	{ "\\All", DBOX_SPECIAL_ALL },
	{ "\\Archive", DBOX_SPECIAL_ARCHIVE },
	{ "\\Drafts", DBOX_SPECIAL_DRAFTS },
	{ "\\Flagged", DBOX_SPECIAL_FLAGGED },
	{ "\\Junk", DBOX_SPECIAL_JUNK },
	{ "\\Sent", DBOX_SPECIAL_SENT },
	{ "\\Trash", DBOX_SPECIAL_TRASH },
	{ "\\Important", DBOX_SPECIAL_IMPORTANT },
};

unsigned int imap_special_use_parse(const char *name)
{
	for (unsigned int i = 0; i < sizeof(special_uses) / sizeof(special_uses[0]); i++) {
		if (strcasecmp(special_uses[i].name, name) == 0)
			return special_uses[i].flag;
	}
	return 0;
}

void imap_special_use_write(struct dboxd_buf *out, unsigned int flags,
			    bool *first)
{
	for (unsigned int i = 0; i < sizeof(special_uses) / sizeof(special_uses[0]); i++) {
		if ((flags & special_uses[i].flag) == 0)
			continue;
		if (!*first)
			dboxd_buf_append(out, " ", 1);
		dboxd_buf_append_str(out, special_uses[i].name);
		*first = false;
	}
}

/* "(USE (\Sent \Drafts))" */
static int parse_create_params(const struct imap_arg *args,
			       unsigned int *special_r)
{
	const struct imap_arg *list, *uses;
	unsigned int count, ucount;

	*special_r = 0;
	if (imap_arg_is_eol(args))
		return 0;
	if (!imap_arg_get_list(args, &list, &count) || count != 2 ||
	    !imap_arg_atom_equals(&list[0], "USE") ||
	    !imap_arg_get_list(&list[1], &uses, &ucount) ||
	    !imap_arg_is_eol(&args[1]))
		return -1;
	for (unsigned int i = 0; i < ucount; i++) {
		const char *s;
		unsigned int flag;

		if (!imap_arg_get_atom(&uses[i], &s))
			return -1;
		flag = imap_special_use_parse(s);
		if (flag == 0)
			return -2;
		*special_r |= flag;
	}
	return 0;
}

bool imap_cmd_create(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;
	const char *raw, *name, *error;
	unsigned int special;
	size_t len;
	int ret;

	if (!imap_arg_get_astring(&cmd->args[0], &raw))
		return imap_cmd_bad(cmd, "Invalid mailbox name argument");
	/* "CREATE foo/" names foo, "the server's hierarchy separator at the
	   end is a hint that more names are to come" (RFC 3501 6.3.3). */
	len = strlen(raw);
	if (len > 1 && raw[len - 1] == '/')
		raw = dboxd_pool_strndup(&c->pool, raw, len - 1);
	if (imap_mailbox_from_client(c, raw, &c->pool, &name, &error) < 0)
		return imap_cmd_no(cmd, "[CANNOT] %s", error);
	ret = parse_create_params(&cmd->args[1], &special);
	if (ret == -1)
		return imap_cmd_bad(cmd, "Invalid CREATE parameters");
	if (ret == -2)
		return imap_cmd_no(cmd, "[USEATTR] Unknown special-use attribute");
	if (strcmp(name, "INBOX") == 0)
		return imap_cmd_no(cmd, "[ALREADYEXISTS] INBOX always exists");
	if (dbox_mailbox_create(imap_storage(), name, special, &error) < 0)
		return imap_cmd_storage_error(cmd, error);
	return imap_cmd_ok(cmd, "Create completed.");
}

bool imap_cmd_delete(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;
	const char *name, *error;

	if (!imap_cmd_get_mailbox(cmd, &cmd->args[0], &name))
		return true;
	if (!imap_arg_is_eol(&cmd->args[1]))
		return imap_cmd_bad(cmd, "Unexpected arguments");
	if (strcmp(name, "INBOX") == 0)
		return imap_cmd_no(cmd, "[CANNOT] INBOX can't be deleted.");
	/* Deleting the selected mailbox unselects it (as Dovecot does). */
	if (c->sel != NULL && strcmp(c->sel->name, name) == 0) {
		imap_selected_close(c);
		imap_client_send(c, "* BYE Selected mailbox was deleted, have to disconnect.");
		imap_client_disconnect(c, NULL);
	}
	if (dbox_mailbox_delete(imap_storage(), name, &error) < 0)
		return imap_cmd_storage_error(cmd, error);
	return imap_cmd_ok(cmd, "Delete completed.");
}

bool imap_cmd_rename(struct imap_cmd *cmd)
{
	const char *from, *to, *error;

	if (!imap_cmd_get_mailbox(cmd, &cmd->args[0], &from) ||
	    !imap_cmd_get_mailbox(cmd, &cmd->args[1], &to))
		return true;
	if (!imap_arg_is_eol(&cmd->args[2]))
		return imap_cmd_bad(cmd, "Unexpected arguments");
	if (strcmp(to, "INBOX") == 0)
		return imap_cmd_no(cmd, "[ALREADYEXISTS] INBOX always exists");
	if (dbox_mailbox_rename(imap_storage(), from, to, &error) < 0)
		return imap_cmd_storage_error(cmd, error);
	return imap_cmd_ok(cmd, "Rename completed.");
}

static bool cmd_subscribe_full(struct imap_cmd *cmd, bool subscribe)
{
	const char *name, *error;

	if (!imap_cmd_get_mailbox(cmd, &cmd->args[0], &name))
		return true;
	if (!imap_arg_is_eol(&cmd->args[1]))
		return imap_cmd_bad(cmd, "Unexpected arguments");
	if (dbox_mailbox_subscribe(imap_storage(), name, subscribe, &error) < 0)
		return imap_cmd_storage_error(cmd, error);
	return imap_cmd_ok(cmd, "%s completed.",
			   subscribe ? "Subscribe" : "Unsubscribe");
}

bool imap_cmd_subscribe(struct imap_cmd *cmd)
{
	return cmd_subscribe_full(cmd, true);
}

bool imap_cmd_unsubscribe(struct imap_cmd *cmd)
{
	return cmd_subscribe_full(cmd, false);
}
