// SPDX-License-Identifier: GPL-2.0-or-later
/* IDLE (RFC 2177): changes are reported as they happen (imap_client_notify)
   until the client sends DONE; the connection may stay idle for
   imap_idle_timeout. */
#include <strings.h>

#include "imap-client.h"
#include "imap-commands.h"
#include "imap-sync.h"
#include "worker.h"

static bool idle_line(struct imap_cmd *cmd, const char *line)
{
	struct imap_client *c = cmd->client;

	imap_client_set_timeout(c, worker_g->set->imap_timeout);
	if (strcasecmp(line, "DONE") != 0)
		return imap_cmd_bad(cmd, "Expected DONE.");
	return imap_cmd_ok(cmd, "Idle completed.");
}

bool imap_cmd_idle(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;

	if (!imap_arg_is_eol(cmd->args))
		return imap_cmd_bad(cmd, "Unexpected arguments");
	imap_sync(c, true);
	imap_client_send(c, "+ idling");
	imap_client_set_timeout(c, worker_g->set->imap_idle_timeout);
	cmd->line = idle_line;
	return false;
}
