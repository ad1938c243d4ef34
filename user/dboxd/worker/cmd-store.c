// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * STORE and UID STORE (RFC 3501 6.4.6) with UNCHANGEDSINCE (RFC 7162). The
 * untagged FETCH responses come from the sync before the tagged OK, which
 * reports every flag change the view sees, this command's included (unless
 * .SILENT) and other connections' too.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbox.h"
#include "imap-client.h"
#include "imap-commands.h"
#include "imap-sync.h"
#include "imap-util.h"
#include "worker.h"

static int parse_unchangedsince(const struct imap_arg *arg, uint64_t *v_r)
{
	const struct imap_arg *list;
	unsigned int count;
	const char *s;
	char *end;

	if (!imap_arg_get_list(arg, &list, &count) || count != 2 ||
	    !imap_arg_atom_equals(&list[0], "UNCHANGEDSINCE") ||
	    !imap_arg_get_atom(&list[1], &s) || *s < '0' || *s > '9')
		return -1;
	*v_r = strtoull(s, &end, 10);
	return *end == '\0' ? 0 : -1;
}

static void write_modified(struct imap_cmd *cmd, const uint32_t *failed,
			   unsigned int count, struct dboxd_buf *out)
{
	uint32_t *ids = malloc((count + 1) * sizeof(*ids));

	if (ids == NULL)
		return;
	for (unsigned int i = 0; i < count; i++) {
		uint32_t seq = 0;

		if (cmd->uid ||
		    dbox_mailbox_lookup_uid(cmd->client->sel->box, failed[i],
					    &seq) == NULL)
			seq = failed[i];
		ids[i] = cmd->uid ? failed[i] : seq;
	}
	imap_append_uidset(out, ids, count);
	free(ids);
}

bool imap_cmd_store(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;
	const struct imap_arg *args = cmd->args, *list;
	struct dbox_store_params params;
	const char *set, *item, *error;
	const char **keywords;
	uint32_t *uids, *failed = NULL;
	unsigned int count, failed_count = 0;
	struct dboxd_buf modified;
	bool silent = false;
	size_t len;

	memset(&params, 0, sizeof(params));
	if (!imap_arg_get_atom(&args[0], &set))
		return imap_cmd_bad(cmd, "STORE needs a message set");
	args++;
	if (args[0].type == IMAP_ARG_LIST) {
		if (parse_unchangedsince(&args[0], &params.unchanged_since) < 0)
			return imap_cmd_bad(cmd, "Invalid STORE modifiers");
		c->sel->condstore = true;
		args++;
	}
	if (!imap_arg_get_atom(&args[0], &item))
		return imap_cmd_bad(cmd, "STORE needs a data item");
	params.mode = DBOX_STORE_REPLACE;
	if (item[0] == '+' || item[0] == '-') {
		params.mode = item[0] == '+' ? DBOX_STORE_ADD : DBOX_STORE_REMOVE;
		item++;
	}
	len = strlen(item);
	if (len > 7 && strcasecmp(item + len - 7, ".SILENT") == 0) {
		silent = true;
		len -= 7;
	}
	if (len != 5 || strncasecmp(item, "FLAGS", 5) != 0)
		return imap_cmd_bad(cmd, "Invalid STORE data item");
	args++;
	/* "(\Seen \Flagged)" or the flags without parentheses */
	list = args;
	if (args[0].type == IMAP_ARG_LIST) {
		list = args[0].list;
		if (!imap_arg_is_eol(&args[1]))
			return imap_cmd_bad(cmd, "Unexpected arguments");
	}
	if (imap_flags_parse(list, &c->pool, &params.flags, &keywords,
			     &error) < 0)
		return imap_cmd_bad(cmd, "%s", error);
	params.keywords = keywords;
	if (imap_seqset_to_uids(c, set, cmd->uid, &c->pool, &uids, &count,
				&error) < 0)
		return imap_cmd_bad(cmd, "%s", error);
	if (c->sel->readonly)
		return imap_cmd_no(cmd, "[READ-ONLY] Mailbox is read-only.");
	if (count > 0 &&
	    dbox_mail_store(c->sel->box, uids, count, &params, &failed,
			    &failed_count, &error) < 0)
		return imap_cmd_storage_error(cmd, error);
	if (count > 0)
		worker_notify_change(c, c->sel->name);
	if (silent) {
		c->sel->silent_uids = uids;
		c->sel->silent_count = count;
	}
	if (failed_count == 0) {
		free(failed);
		imap_cmd_ok(cmd, "Store completed.");
		c->sel->silent_uids = NULL;
		c->sel->silent_count = 0;
		return true;
	}
	dboxd_buf_init(&modified, false);
	write_modified(cmd, failed, failed_count, &modified);
	dboxd_buf_append(&modified, "", 1);
	imap_cmd_ok(cmd, "[MODIFIED %s] Conditional STORE failed.",
		    (const char *)modified.data);
	c->sel->silent_uids = NULL;
	c->sel->silent_count = 0;
	dboxd_buf_free(&modified);
	free(failed);
	return true;
}
