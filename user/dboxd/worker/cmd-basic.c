// SPDX-License-Identifier: GPL-2.0-or-later
/* CAPABILITY, NOOP, CHECK, LOGOUT, ID (RFC 2971), ENABLE (RFC 5161),
   NAMESPACE (RFC 2342), COMPRESS (RFC 4978), and what is too late now. */
#include <string.h>
#include <strings.h>

#include "imap-client.h"
#include "imap-commands.h"
#include "imap-compress.h"
#include "imap-sync.h"

static bool no_args(struct imap_cmd *cmd)
{
	return imap_arg_is_eol(cmd->args);
}

bool imap_cmd_capability(struct imap_cmd *cmd)
{
	if (!no_args(cmd))
		return imap_cmd_bad(cmd, "Unexpected arguments");
	imap_client_send(cmd->client, "* CAPABILITY %s",
			 imap_client_capabilities());
	return imap_cmd_ok(cmd, "Capability completed.");
}

bool imap_cmd_noop(struct imap_cmd *cmd)
{
	if (!no_args(cmd))
		return imap_cmd_bad(cmd, "Unexpected arguments");
	return imap_cmd_ok(cmd, "NOOP completed.");
}

bool imap_cmd_check(struct imap_cmd *cmd)
{
	if (!no_args(cmd))
		return imap_cmd_bad(cmd, "Unexpected arguments");
	/* Everything is durable once acknowledged; nothing to do. */
	return imap_cmd_ok(cmd, "Check completed.");
}

bool imap_cmd_logout(struct imap_cmd *cmd)
{
	if (!no_args(cmd))
		return imap_cmd_bad(cmd, "Unexpected arguments");
	imap_client_send(cmd->client, "* BYE Logging out");
	imap_client_send(cmd->client, "%s OK Logout completed.", cmd->tag);
	imap_client_disconnect(cmd->client, NULL);
	return true;
}

bool imap_cmd_id(struct imap_cmd *cmd)
{
	const struct imap_arg *list;
	unsigned int count;

	if (!imap_arg_is_nil(&cmd->args[0]) &&
	    (!imap_arg_get_list(&cmd->args[0], &list, &count) ||
	     count % 2 != 0 || count > 60))
		return imap_cmd_bad(cmd, "Invalid ID parameters");
	if (!imap_arg_is_eol(&cmd->args[1]))
		return imap_cmd_bad(cmd, "Unexpected arguments");
	imap_client_send(cmd->client, "* ID (\"name\" \"dboxd\")");
	return imap_cmd_ok(cmd, "ID completed.");
}

bool imap_cmd_enable(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;
	struct dboxd_buf *out = &c->out;
	const char *name;

	if (imap_arg_is_eol(cmd->args))
		return imap_cmd_bad(cmd, "ENABLE needs capability names");
	dboxd_buf_append_str(out, "* ENABLED");
	for (const struct imap_arg *a = cmd->args; !imap_arg_is_eol(a); a++) {
		if (!imap_arg_get_atom(a, &name)) {
			dboxd_buf_append_str(out, "\r\n");
			return imap_cmd_bad(cmd, "Invalid capability name");
		}
		if (strcasecmp(name, "CONDSTORE") == 0 && !c->condstore) {
			c->condstore = true;
			dboxd_buf_append_str(out, " CONDSTORE");
		} else if (strcasecmp(name, "QRESYNC") == 0 && !c->qresync) {
			c->qresync = true;
			dboxd_buf_append_str(out, " QRESYNC");
			if (!c->condstore) {
				c->condstore = true;
				dboxd_buf_append_str(out, " CONDSTORE");
			}
		} else if (strcasecmp(name, "UTF8=ACCEPT") == 0 && !c->utf8) {
			c->utf8 = true;
			dboxd_buf_append_str(out, " UTF8=ACCEPT");
		}
	}
	dboxd_buf_append_str(out, "\r\n");
	if (c->sel != NULL && c->condstore)
		c->sel->condstore = true;
	return imap_cmd_ok(cmd, "Enabled.");
}

bool imap_cmd_namespace(struct imap_cmd *cmd)
{
	if (!no_args(cmd))
		return imap_cmd_bad(cmd, "Unexpected arguments");
	/* One personal namespace, "/" separated, no others. */
	imap_client_send(cmd->client, "* NAMESPACE ((\"\" \"/\")) NIL NIL");
	return imap_cmd_ok(cmd, "Namespace completed.");
}

bool imap_cmd_login_again(struct imap_cmd *cmd)
{
	return imap_cmd_bad(cmd, "Already logged in.");
}

bool imap_cmd_starttls_late(struct imap_cmd *cmd)
{
	return imap_cmd_bad(cmd, "STARTTLS is only possible before login.");
}

bool imap_cmd_compress(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;
	const char *mech, *error;

	if (!imap_arg_get_atom(&cmd->args[0], &mech) ||
	    !imap_arg_is_eol(&cmd->args[1]))
		return imap_cmd_bad(cmd, "COMPRESS needs a mechanism");
	if (strcasecmp(mech, "DEFLATE") != 0)
		return imap_cmd_no(cmd, "[CANNOT] Unknown compression mechanism");
	if (c->compress != NULL)
		return imap_cmd_no(cmd, "[COMPRESSIONACTIVE] Compression already active");
	imap_client_send(c, "%s OK DEFLATE active", cmd->tag);
	if (imap_compress_start(c, &error) < 0)
		imap_client_disconnect(c, error);
	return true;
}
