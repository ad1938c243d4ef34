// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * APPEND (RFC 3501 6.3.11) with MULTIAPPEND (RFC 3502: all messages or
 * none), UIDPLUS's APPENDUID (RFC 4315) and literal8 (RFC 3516). The
 * messages arrive as literals already read by imap-reader (secret memory);
 * bare LF line ends are turned into CRLF, the wire form the storage takes.
 */
#include <stdlib.h>
#include <string.h>

#include "dbox.h"
#include "imap-client.h"
#include "imap-commands.h"
#include "imap-util.h"
#include "log.h"
#include "secret.h"
#include "storage.h"
#include "worker.h"

struct append_msg {
	struct dbox_append_msg msg;
	void *converted;	/* secret copy with CRLF, or NULL */
};

/* CRLF line ends; a copy only when the message needs one. */
static void normalize_crlf(struct append_msg *am, const char *data, size_t len)
{
	size_t extra = 0, n = 0;
	char *out;

	am->msg.data = data;
	am->msg.size = len;
	for (size_t i = 0; i < len; i++) {
		if ((data[i] == '\n' && (i == 0 || data[i - 1] != '\r')) ||
		    (data[i] == '\r' && (i + 1 == len || data[i + 1] != '\n')))
			extra++;
	}
	if (extra == 0)
		return;
	out = dboxd_secret_alloc(len + extra);
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r')) {
			out[n++] = '\r';
			out[n++] = '\n';
		} else if (data[i] == '\r' &&
			   (i + 1 == len || data[i + 1] != '\n')) {
			out[n++] = '\r';
			out[n++] = '\n';
		} else {
			out[n++] = data[i];
		}
	}
	am->converted = out;
	am->msg.data = out;
	am->msg.size = n;
}

/* One "[flags] [date] literal" group at args; returns the args used, or
   -1 with the BAD reply sent. */
static int parse_one(struct imap_cmd *cmd, const struct imap_arg *args,
		     struct append_msg *am)
{
	struct imap_client *c = cmd->client;
	const struct imap_arg *list;
	const char *s, *error;
	const char **keywords;
	time_t t;
	int used = 0;

	memset(am, 0, sizeof(*am));
	if (imap_arg_get_list(&args[used], &list, NULL)) {
		if (imap_flags_parse(list, &c->pool, &am->msg.params.flags,
				     &keywords, &error) < 0) {
			imap_cmd_bad(cmd, "%s", error);
			return -1;
		}
		am->msg.params.keywords = keywords;
		used++;
	}
	if (args[used].type == IMAP_ARG_STRING) {
		s = args[used].str;
		if (imap_parse_datetime(s, &t) < 0) {
			imap_cmd_bad(cmd, "Invalid date-time");
			return -1;
		}
		am->msg.params.internal_date = t;
		used++;
	}
	if (args[used].type != IMAP_ARG_LITERAL) {
		imap_cmd_bad(cmd, "APPEND needs the message as a literal");
		return -1;
	}
	if (!args[used].literal8 &&
	    memchr(args[used].str, '\0', args[used].len) != NULL) {
		imap_cmd_bad(cmd, "NUL bytes need a literal8 (~{n})");
		return -1;
	}
	normalize_crlf(am, args[used].str, args[used].len);
	used++;
	return used;
}

bool imap_cmd_append(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;
	const struct imap_arg *args = cmd->args + 1;
	struct append_msg *msgs;
	struct dbox_append_msg *plain;
	struct dbox_mailbox *box;
	struct dbox_status st;
	unsigned int count = 0, max;
	const char *name, *error;
	uint32_t *uids;
	bool ret;

	if (!imap_cmd_get_mailbox(cmd, &cmd->args[0], &name))
		return true;
	max = imap_args_count(args);
	if (max == 0)
		return imap_cmd_bad(cmd, "APPEND needs a message");
	msgs = dboxd_pool_alloc(&c->pool, max * sizeof(*msgs));
	plain = dboxd_pool_alloc(&c->pool, max * sizeof(*plain));
	while (!imap_arg_is_eol(args)) {
		int used = parse_one(cmd, args, &msgs[count]);

		if (used < 0) {
			ret = true;
			goto free_msgs;
		}
		if (msgs[count].msg.size == 0) {
			count++;
			ret = imap_cmd_no(cmd, "Can't save a zero byte message.");
			goto free_msgs;
		}
		plain[count] = msgs[count].msg;
		count++;
		args += used;
	}
	if (dbox_mailbox_open(imap_storage(), name, 0, &box, &error) < 0) {
		ret = dbox_last_error() == DBOX_ERROR_NOTFOUND ?
		      imap_cmd_no(cmd, "[TRYCREATE] Mailbox doesn't exist") :
		      imap_cmd_storage_error(cmd, error);
		goto free_msgs;
	}
	uids = dboxd_pool_alloc(&c->pool, count * sizeof(*uids));
	if (dbox_mail_append_many(box, plain, count, uids, &error) < 0) {
		ret = dbox_last_error() == DBOX_ERROR_LIMIT ?
		      imap_cmd_no(cmd, "[TOOBIG] %s", error) :
		      imap_cmd_storage_error(cmd, error);
		dbox_mailbox_close(&box);
		goto free_msgs;
	}
	dbox_mailbox_get_status(box, &st);
	dbox_mailbox_close(&box);
	worker_notify_change(c, name);
	if (count == 1) {
		ret = imap_cmd_ok(cmd, "[APPENDUID %u %u] Append completed.",
				  st.uidvalidity, uids[0]);
	} else {
		ret = imap_cmd_ok(cmd, "[APPENDUID %u %u:%u] Append completed.",
				  st.uidvalidity, uids[0], uids[count - 1]);
	}
free_msgs:
	for (unsigned int i = 0; i < count; i++)
		dboxd_secret_free(msgs[i].converted);
	return ret;
}
