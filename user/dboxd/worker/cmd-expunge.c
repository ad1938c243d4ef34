// SPDX-License-Identifier: GPL-2.0-or-later
/* EXPUNGE and UID EXPUNGE (RFC 4315). The untagged EXPUNGE (or VANISHED)
   responses come from the sync before the tagged OK. */
#include <stdlib.h>

#include "dbox.h"
#include "imap-client.h"
#include "imap-commands.h"
#include "imap-sync.h"
#include "imap-util.h"
#include "worker.h"

bool imap_cmd_expunge(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;
	const struct dbox_mail *mails;
	unsigned int count, n = 0, set_count = 0;
	uint32_t *uids, *set_uids = NULL;
	const char *set, *error;

	if (cmd->uid) {
		if (!imap_arg_get_atom(&cmd->args[0], &set) ||
		    !imap_arg_is_eol(&cmd->args[1]))
			return imap_cmd_bad(cmd, "UID EXPUNGE needs a UID set");
		if (imap_seqset_to_uids(c, set, true, &c->pool, &set_uids,
					&set_count, &error) < 0)
			return imap_cmd_bad(cmd, "%s", error);
	} else if (!imap_arg_is_eol(cmd->args)) {
		return imap_cmd_bad(cmd, "Unexpected arguments");
	}
	if (c->sel->readonly)
		return imap_cmd_no(cmd, "[READ-ONLY] Mailbox is read-only.");
	dbox_mailbox_get_mails(c->sel->box, &mails, &count);
	uids = dboxd_pool_alloc(&c->pool, (count + 1) * sizeof(*uids));
	for (unsigned int i = 0, j = 0; i < count; i++) {
		if ((mails[i].flags & DBOX_MAIL_DELETED) == 0)
			continue;
		if (cmd->uid) {
			while (j < set_count && set_uids[j] < mails[i].uid)
				j++;
			if (j == set_count || set_uids[j] != mails[i].uid)
				continue;
		}
		uids[n++] = mails[i].uid;
	}
	if (n > 0) {
		if (dbox_mail_expunge(c->sel->box, uids, n, &error) < 0)
			return imap_cmd_storage_error(cmd, error);
		worker_notify_change(c, c->sel->name);
	}
	return imap_cmd_ok(cmd, "Expunge completed.");
}
