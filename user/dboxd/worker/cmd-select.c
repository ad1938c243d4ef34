// SPDX-License-Identifier: GPL-2.0-or-later
/* SELECT, EXAMINE (RFC 3501 6.3.1-2, CONDSTORE/QRESYNC parameters of
   RFC 7162), CLOSE, UNSELECT (RFC 3691). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbox.h"
#include "imap-client.h"
#include "imap-commands.h"
#include "imap-sync.h"
#include "imap-util.h"
#include "storage.h"
#include "worker.h"

struct select_params {
	bool condstore;
	bool qresync;
	uint32_t uidvalidity;
	uint64_t modseq;
	const char *known_uids;
};

static int parse_u64(const char *s, uint64_t *v_r)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	*v_r = strtoull(s, &end, 10);
	return *end == '\0' ? 0 : -1;
}

/* "(CONDSTORE)" or "(QRESYNC (uidvalidity modseq [known-uids ...]))" */
static int parse_params(struct imap_cmd *cmd, const struct imap_arg *args,
			struct select_params *p, const char **error_r)
{
	const struct imap_arg *list, *q;
	unsigned int count, qcount;
	const char *s;
	uint64_t v;

	memset(p, 0, sizeof(*p));
	if (imap_arg_is_eol(args))
		return 0;
	if (!imap_arg_get_list(args, &list, &count) ||
	    !imap_arg_is_eol(&args[1])) {
		*error_r = "Invalid SELECT parameters";
		return -1;
	}
	for (unsigned int i = 0; i < count; i++) {
		if (imap_arg_atom_equals(&list[i], "CONDSTORE")) {
			p->condstore = true;
			continue;
		}
		if (!imap_arg_atom_equals(&list[i], "QRESYNC") ||
		    !imap_arg_get_list(&list[i + 1], &q, &qcount) ||
		    qcount < 2 || qcount > 4) {
			*error_r = "Unknown SELECT parameter";
			return -1;
		}
		if (!cmd->client->qresync) {
			*error_r = "QRESYNC needs ENABLE QRESYNC first";
			return -1;
		}
		i++;
		if (!imap_arg_get_atom(&q[0], &s) || parse_u64(s, &v) < 0 ||
		    v == 0 || v > UINT32_MAX ||
		    !imap_arg_get_atom(&q[1], &s) ||
		    parse_u64(s, &p->modseq) < 0 || p->modseq == 0) {
			*error_r = "Invalid QRESYNC parameters";
			return -1;
		}
		p->uidvalidity = (uint32_t)v;
		if (qcount >= 3 && !imap_arg_get_atom(&q[2], &p->known_uids)) {
			*error_r = "Invalid QRESYNC known-uids";
			return -1;
		}
		p->qresync = true;
		p->condstore = true;
	}
	return 0;
}

static bool in_known(struct imap_cmd *cmd, const char *known, uint32_t uid)
{
	struct imap_seq_range *r;
	unsigned int n;

	if (known == NULL)
		return true;
	if (imap_seqset_parse(known, &cmd->client->pool, &r, &n) < 0)
		return true;
	for (unsigned int i = 0; i < n; i++) {
		if (uid >= r[i].first && uid <= r[i].last)
			return true;
	}
	return false;
}

/* QRESYNC (RFC 7162 3.2.5): what changed since the client's modseq. */
static void select_qresync(struct imap_cmd *cmd, const struct select_params *p)
{
	struct imap_client *c = cmd->client;
	const struct dbox_mail *mails;
	struct dbox_status st;
	unsigned int count, n = 0;
	uint32_t *uids, *vanished;
	bool complete;
	const char *error;

	dbox_mailbox_get_status(c->sel->box, &st);
	if (st.uidvalidity != p->uidvalidity)
		return;
	if (dbox_mailbox_expunged_since(c->sel->box, p->modseq, &uids, &count,
					&complete, &error) == 0) {
		vanished = malloc((count + 1) * sizeof(*vanished));
		for (unsigned int i = 0; vanished != NULL && i < count; i++) {
			if (in_known(cmd, p->known_uids, uids[i]))
				vanished[n++] = uids[i];
		}
		if (n > 0) {
			dboxd_buf_append_str(&c->out, "* VANISHED (EARLIER) ");
			imap_append_uidset(&c->out, vanished, n);
			dboxd_buf_append_str(&c->out, "\r\n");
		}
		free(vanished);
		free(uids);
	}
	dbox_mailbox_get_mails(c->sel->box, &mails, &count);
	for (unsigned int i = 0; i < count; i++) {
		if (mails[i].modseq > p->modseq)
			imap_sync_send_flags(c, i + 1, &mails[i]);
	}
}

static bool cmd_select_full(struct imap_cmd *cmd, bool readonly)
{
	struct imap_client *c = cmd->client;
	struct select_params p;
	const char *name, *error;
	bool had_selected = c->sel != NULL;

	if (!imap_cmd_get_mailbox(cmd, &cmd->args[0], &name))
		return true;
	if (parse_params(cmd, &cmd->args[1], &p, &error) < 0)
		return imap_cmd_bad(cmd, "%s", error);
	imap_selected_close(c);
	if (had_selected && c->qresync)
		imap_client_send(c, "* OK [CLOSED] Previous mailbox closed.");
	if (imap_selected_open(c, name, readonly, p.condstore, &error) < 0)
		return imap_cmd_storage_error(cmd, error);
	if (p.qresync)
		select_qresync(cmd, &p);
	return imap_cmd_ok(cmd, "[%s] %s completed.",
			   readonly ? "READ-ONLY" : "READ-WRITE",
			   readonly ? "Examine" : "Select");
}

bool imap_cmd_select(struct imap_cmd *cmd)
{
	return cmd_select_full(cmd, false);
}

bool imap_cmd_examine(struct imap_cmd *cmd)
{
	return cmd_select_full(cmd, true);
}

/* CLOSE is in cmd-expunge.c: its expunge is asynchronous. */

bool imap_cmd_unselect(struct imap_cmd *cmd)
{
	if (!imap_arg_is_eol(cmd->args))
		return imap_cmd_bad(cmd, "Unexpected arguments");
	imap_selected_close(cmd->client);
	return imap_cmd_ok(cmd, "Unselect completed.");
}
