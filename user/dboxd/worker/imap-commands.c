// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The command table of the worker and dispatch. A name not in the table is
 * BAD; a command that needs a selected mailbox gets BAD without one (RFC
 * 3501 says the command is "not valid in this state").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap-client.h"
#include "imap-commands.h"
#include "log.h"

static const struct imap_cmd_def imap_cmds[] = {
	/* any state */
	{ "CAPABILITY",	imap_cmd_capability,	0 },
	{ "NOOP",	imap_cmd_noop,	0 },
	{ "LOGOUT",	imap_cmd_logout,	0 },
	{ "ID",		imap_cmd_id,		0 },
	{ "ENABLE",	imap_cmd_enable,	0 },
	{ "COMPRESS",	imap_cmd_compress,	0 },
	{ "LOGIN",	imap_cmd_login_again, 0 },
	{ "AUTHENTICATE", imap_cmd_login_again, 0 },
	{ "STARTTLS",	imap_cmd_starttls_late, 0 },
	/* authenticated */
	{ "SELECT",	imap_cmd_select,	0 },
	{ "EXAMINE",	imap_cmd_examine,	0 },
	{ "CREATE",	imap_cmd_create,	0 },
	{ "DELETE",	imap_cmd_delete,	0 },
	{ "RENAME",	imap_cmd_rename,	0 },
	{ "SUBSCRIBE",	imap_cmd_subscribe,	0 },
	{ "UNSUBSCRIBE", imap_cmd_unsubscribe, 0 },
	{ "LIST",	imap_cmd_list,	0 },
	{ "LSUB",	imap_cmd_lsub,	0 },
	{ "STATUS",	imap_cmd_status,	0 },
	{ "APPEND",	imap_cmd_append,	0 },
	{ "NAMESPACE",	imap_cmd_namespace,	0 },
	{ "IDLE",	imap_cmd_idle,	0 },
	/* selected */
	{ "CHECK",	imap_cmd_check,	IMAP_CMD_SELECTED },
	{ "CLOSE",	imap_cmd_close,	IMAP_CMD_SELECTED },
	{ "UNSELECT",	imap_cmd_unselect,	IMAP_CMD_SELECTED },
	{ "EXPUNGE",	imap_cmd_expunge,	IMAP_CMD_SELECTED | IMAP_CMD_UID },
	{ "SEARCH",	imap_cmd_search,	IMAP_CMD_SELECTED | IMAP_CMD_UID |
					IMAP_CMD_NO_EXPUNGE },
	{ "FETCH",	imap_cmd_fetch,	IMAP_CMD_SELECTED | IMAP_CMD_UID |
					IMAP_CMD_NO_EXPUNGE },
	{ "STORE",	imap_cmd_store,	IMAP_CMD_SELECTED | IMAP_CMD_UID |
					IMAP_CMD_NO_EXPUNGE },
	{ "COPY",	imap_cmd_copy,	IMAP_CMD_SELECTED | IMAP_CMD_UID },
	{ "MOVE",	imap_cmd_move,	IMAP_CMD_SELECTED | IMAP_CMD_UID },
	{ "SORT",	imap_cmd_sort,	IMAP_CMD_SELECTED | IMAP_CMD_UID |
					IMAP_CMD_NO_EXPUNGE },
	{ "THREAD",	imap_cmd_thread,	IMAP_CMD_SELECTED | IMAP_CMD_UID |
					IMAP_CMD_NO_EXPUNGE },
};

const struct imap_cmd_def *imap_command_find(const char *name)
{
	for (unsigned int i = 0; i < sizeof(imap_cmds) / sizeof(imap_cmds[0]); i++) {
		if (strcasecmp(imap_cmds[i].name, name) == 0)
			return &imap_cmds[i];
	}
	return NULL;
}

void imap_client_run_command(struct imap_client *c,
			     const struct imap_parsed_command *parsed)
{
	const struct imap_arg *args = parsed->args;
	const struct imap_cmd_def *def;
	struct imap_cmd *cmd;
	const char *name = parsed->name;
	bool uid = false;
	char upper[64];

	if (strcasecmp(name, "UID") == 0) {
		if (!imap_arg_get_atom(&args[0], &name)) {
			imap_client_send(c, "%s BAD UID needs a command",
					 parsed->tag);
			goto bad;
		}
		args++;
		uid = true;
	}
	def = imap_command_find(name);
	if (def == NULL || (uid && (def->flags & IMAP_CMD_UID) == 0)) {
		imap_client_send(c, "%s BAD Unknown command %s%.40s",
				 parsed->tag, uid ? "UID " : "", name);
		goto bad;
	}
	if ((def->flags & IMAP_CMD_SELECTED) && c->sel == NULL) {
		imap_client_send(c, "%s BAD No mailbox selected", parsed->tag);
		goto bad;
	}
	cmd = calloc(1, sizeof(*cmd));
	if (cmd == NULL)
		dboxd_fatal("out of memory");
	snprintf(upper, sizeof(upper), "%s%s", uid ? "UID " : "", def->name);
	cmd->client = c;
	cmd->def = def;
	cmd->tag = parsed->tag;
	cmd->name = dboxd_pool_strdup(&c->pool, upper);
	cmd->args = args;
	cmd->uid = uid;
	c->cmd = cmd;
	if (def->func(cmd) && c->cmd == cmd) {
		/* done: the reply is out */
		c->cmd = NULL;
		if (cmd->free_context != NULL)
			cmd->free_context(cmd);
		free(cmd);
		imap_reader_done(c->reader);
		dboxd_pool_clear(&c->pool);
	}
	return;
bad:
	c->bad_commands++;
	imap_reader_done(c->reader);
	dboxd_pool_clear(&c->pool);
}
