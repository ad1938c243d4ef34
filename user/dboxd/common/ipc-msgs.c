// SPDX-License-Identifier: GPL-2.0-or-later
/* The limits of every IPC message; see ipc-msgs.h for their fields. */
#include <stddef.h>

#include "ipc-msgs.h"

/* Strings in messages are bounded by these, so a length is never a guess:
   user names and paths 1 KiB each, a tag 1 KiB (well above any line a
   login accepts for it), pending input up to 128 KiB. */
#define S 1036U			/* one string field: 4 + 1024 + NUL */
#define PENDING (128U * 1024)

static const struct dboxd_ipc_msg_def defs[DBOXD_IPC_TYPE_COUNT] = {
	[DBOXD_IPC_SHUTDOWN]		= { "SHUTDOWN", 0, DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_CONN_OPEN]		= { "CONN_OPEN", 4 * 4 + 2 * S,
					    DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_CONN_OPEN_REPLY]	= { "CONN_OPEN_REPLY", 4 + 8 + S,
					    DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_CONN_CLOSED]		= { "CONN_CLOSED", 8,
					    DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_AUTH_REQUEST]	= { "AUTH_REQUEST", 8 + 4 + 5 * S,
					    DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_AUTH_REPLY]		= { "AUTH_REPLY", 8 + 3 * 4 + 4 * S,
					    DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_AUTH_RESULT]		= { "AUTH_RESULT", 8 + 4 + S,
					    DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_PASSWD_FILE]		= { "PASSWD_FILE", S,
					    DBOXD_IPC_FD_REQUIRED },
	[DBOXD_IPC_HANDOFF]		= { "HANDOFF", 8 + 4 + S + 4 + PENDING,
					    DBOXD_IPC_FD_REQUIRED },
	[DBOXD_IPC_CLIENT]		= { "CLIENT",
					    8 + 2 * 4 + 2 * S + 4 + PENDING,
					    DBOXD_IPC_FD_REQUIRED },
	[DBOXD_IPC_CLIENT_TAKEN]	= { "CLIENT_TAKEN", 8,
					    DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_SPAWN]		= { "SPAWN", 8 + 2 * 4 + S,
					    DBOXD_IPC_FD_REQUIRED },
	[DBOXD_IPC_SPAWNED]		= { "SPAWNED", 8 + 4 + S,
					    DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_SETTING]		= { "SETTING", 2 * S + 4096,
					    DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_WORKER_INIT]		= { "WORKER_INIT", 3 * S + 4,
					    DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_WORKER_READY]	= { "WORKER_READY", 4 + 2 * S,
					    DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_WORKER_FAILED]	= { "WORKER_FAILED", S,
					    DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_WORKER_IDLE]		= { "WORKER_IDLE", 0,
					    DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_RCPT_LOOKUP]		= { "RCPT_LOOKUP", 8 + S,
					    DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_USER_LOOKUP]		= { "USER_LOOKUP", 8 + S,
					    DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_USER_REPLY]		= { "USER_REPLY", 8 + 3 * 4 + 3 * S,
					    DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_RCPT_RESULT]		= { "RCPT_RESULT", 8 + 4 + S,
					    DBOXD_IPC_FD_NONE },
	[DBOXD_IPC_DELIVER]		= { "DELIVER", 8 + 3 * S,
					    DBOXD_IPC_FD_REQUIRED },
	[DBOXD_IPC_DELIVERED]		= { "DELIVERED", 8 + 4 + S,
					    DBOXD_IPC_FD_NONE },
};

const struct dboxd_ipc_msg_def *dboxd_ipc_msg_def(uint32_t type)
{
	if (type == DBOXD_IPC_NONE || type >= DBOXD_IPC_TYPE_COUNT)
		return NULL;
	return &defs[type];
}
