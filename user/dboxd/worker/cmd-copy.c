// SPDX-License-Identifier: GPL-2.0-or-later
/* COPY, MOVE (RFC 6851) and their UID forms, with COPYUID (RFC 4315). */
#include <stdlib.h>
#include <string.h>

#include "dbox.h"
#include "imap-client.h"
#include "imap-commands.h"
#include "imap-sync.h"
#include "imap-util.h"
#include "storage.h"
#include "worker.h"

static bool cmd_copy_full(struct imap_cmd *cmd, bool move)
{
	struct imap_client *c = cmd->client;
	const char *set, *name, *error;
	struct dbox_mailbox *dst;
	struct dbox_status st;
	struct dboxd_buf codes;
	uint32_t *uids, *dst_uids, *src_ok, *dst_ok;
	unsigned int count, n = 0;
	int ret;

	if (!imap_arg_get_atom(&cmd->args[0], &set))
		return imap_cmd_bad(cmd, "%s needs a message set",
				    move ? "MOVE" : "COPY");
	if (!imap_cmd_get_mailbox(cmd, &cmd->args[1], &name))
		return true;
	if (!imap_arg_is_eol(&cmd->args[2]))
		return imap_cmd_bad(cmd, "Unexpected arguments");
	if (imap_seqset_to_uids(c, set, cmd->uid, &c->pool, &uids, &count,
				&error) < 0)
		return imap_cmd_bad(cmd, "%s", error);
	if (move && c->sel->readonly)
		return imap_cmd_no(cmd, "[READ-ONLY] Mailbox is read-only.");
	if (dbox_mailbox_open(imap_storage(), name, 0, &dst, &error) < 0) {
		return dbox_last_error() == DBOX_ERROR_NOTFOUND ?
		       imap_cmd_no(cmd, "[TRYCREATE] Mailbox doesn't exist") :
		       imap_cmd_storage_error(cmd, error);
	}
	if (count == 0) {
		dbox_mailbox_close(&dst);
		return imap_cmd_ok(cmd, "No messages found.");
	}
	dst_uids = dboxd_pool_alloc(&c->pool, count * sizeof(*dst_uids));
	ret = move ? dbox_mail_move(c->sel->box, uids, count, dst, dst_uids,
				    &error) :
		     dbox_mail_copy(c->sel->box, uids, count, dst, dst_uids,
				    &error);
	if (ret < 0) {
		dbox_mailbox_close(&dst);
		return imap_cmd_storage_error(cmd, error);
	}
	dbox_mailbox_get_status(dst, &st);
	dbox_mailbox_close(&dst);
	/* uids that vanished meanwhile got dst uid 0: leave them out */
	src_ok = dboxd_pool_alloc(&c->pool, count * sizeof(*src_ok));
	dst_ok = dboxd_pool_alloc(&c->pool, count * sizeof(*dst_ok));
	for (unsigned int i = 0; i < count; i++) {
		if (dst_uids[i] != 0) {
			src_ok[n] = uids[i];
			dst_ok[n++] = dst_uids[i];
		}
	}
	worker_notify_change(c, name);
	if (move)
		worker_notify_change(c, c->sel->name);
	if (n == 0)
		return imap_cmd_ok(cmd, "No messages found.");
	dboxd_buf_init(&codes, false);
	dboxd_buf_printf(&codes, "COPYUID %u ", st.uidvalidity);
	/* Both sets in the same order: as ranges only where both run. */
	for (unsigned int i = 0; i < n; i++)
		dboxd_buf_printf(&codes, "%s%u", i == 0 ? "" : ",", src_ok[i]);
	dboxd_buf_append(&codes, " ", 1);
	for (unsigned int i = 0; i < n; i++)
		dboxd_buf_printf(&codes, "%s%u", i == 0 ? "" : ",", dst_ok[i]);
	dboxd_buf_append(&codes, "", 1);
	if (move) {
		/* RFC 6851: COPYUID in an untagged OK before the expunges */
		imap_client_send(c, "* OK [%s] Moved UIDs.",
				 (const char *)codes.data);
		imap_cmd_ok(cmd, "Move completed.");
	} else {
		imap_cmd_ok(cmd, "[%s] Copy completed.",
			    (const char *)codes.data);
	}
	dboxd_buf_free(&codes);
	return true;
}

bool imap_cmd_copy(struct imap_cmd *cmd)
{
	return cmd_copy_full(cmd, false);
}

bool imap_cmd_move(struct imap_cmd *cmd)
{
	return cmd_copy_full(cmd, true);
}
