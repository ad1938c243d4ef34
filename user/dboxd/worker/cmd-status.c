// SPDX-License-Identifier: GPL-2.0-or-later
/* STATUS (RFC 3501 6.3.10, with HIGHESTMODSEQ of RFC 7162, SIZE of RFC
   8438 and APPENDLIMIT of RFC 7889). */
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "dbox.h"
#include "imap-client.h"
#include "imap-commands.h"
#include "imap-status.h"
#include "imap-sync.h"
#include "imap-util.h"
#include "storage.h"
#include "worker.h"

static const struct {
	const char *name;
	unsigned int item;
} status_items[] = {
	{ "MESSAGES", IMAP_STATUS_MESSAGES },
	{ "RECENT", IMAP_STATUS_RECENT },
	{ "UIDNEXT", IMAP_STATUS_UIDNEXT },
	{ "UIDVALIDITY", IMAP_STATUS_UIDVALIDITY },
	{ "UNSEEN", IMAP_STATUS_UNSEEN },
	{ "HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ },
	{ "SIZE", IMAP_STATUS_SIZE },
	{ "APPENDLIMIT", IMAP_STATUS_APPENDLIMIT },
};

int imap_status_parse(const struct imap_arg *list, unsigned int *items_r)
{
	*items_r = 0;
	for (; !imap_arg_is_eol(list); list++) {
		const char *s;
		unsigned int i;

		if (!imap_arg_get_atom(list, &s))
			return -1;
		for (i = 0; i < sizeof(status_items) / sizeof(status_items[0]); i++) {
			if (strcasecmp(s, status_items[i].name) == 0)
				break;
		}
		if (i == sizeof(status_items) / sizeof(status_items[0]))
			return -1;
		*items_r |= status_items[i].item;
	}
	return 0;
}

int imap_status_write(struct imap_client *c, const char *name,
		      unsigned int items, const char **error_r)
{
	struct dbox_status st;
	bool first = true;

	if (dbox_mailbox_status(imap_storage(), name, &st, error_r) < 0)
		return -1;
	dboxd_buf_append_str(&c->out, "* STATUS ");
	imap_append_mailbox(c, &c->out, name);
	dboxd_buf_append_str(&c->out, " (");
#define ITEM(flag, fmt, value) do { \
	if (items & (flag)) { \
		dboxd_buf_printf(&c->out, "%s" fmt, first ? "" : " ", value); \
		first = false; \
	} } while (0)
	ITEM(IMAP_STATUS_MESSAGES, "MESSAGES %u", st.messages);
	ITEM(IMAP_STATUS_RECENT, "RECENT %u", st.recent);
	ITEM(IMAP_STATUS_UIDNEXT, "UIDNEXT %u", st.uidnext);
	ITEM(IMAP_STATUS_UIDVALIDITY, "UIDVALIDITY %u", st.uidvalidity);
	ITEM(IMAP_STATUS_UNSEEN, "UNSEEN %u", st.unseen);
	ITEM(IMAP_STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ %" PRIu64,
	     st.highest_modseq);
	ITEM(IMAP_STATUS_SIZE, "SIZE %" PRIu64, st.size);
	ITEM(IMAP_STATUS_APPENDLIMIT, "APPENDLIMIT %llu",
	     (unsigned long long)worker_g->set->imap_max_literal_size);
#undef ITEM
	dboxd_buf_append_str(&c->out, ")\r\n");
	return 0;
}

bool imap_cmd_status(struct imap_cmd *cmd)
{
	const struct imap_arg *list;
	const char *name, *error;
	unsigned int items;

	if (!imap_cmd_get_mailbox(cmd, &cmd->args[0], &name))
		return true;
	if (!imap_arg_get_list(&cmd->args[1], &list, NULL) ||
	    !imap_arg_is_eol(&cmd->args[2]))
		return imap_cmd_bad(cmd, "STATUS needs a list of items");
	if (imap_status_parse(list, &items) < 0 || items == 0)
		return imap_cmd_bad(cmd, "Invalid STATUS item");
	if (imap_status_write(cmd->client, name, items, &error) < 0)
		return imap_cmd_storage_error(cmd, error);
	return imap_cmd_ok(cmd, "Status completed.");
}
