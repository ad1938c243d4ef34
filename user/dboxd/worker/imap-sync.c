// SPDX-License-Identifier: GPL-2.0-or-later
/* The selected mailbox and its change reports; see imap-sync.h. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "imap-client.h"
#include "imap-sync.h"
#include "imap-util.h"
#include "log.h"
#include "storage.h"

static void recent_add(struct imap_selected *sel, uint32_t first,
		       uint32_t last)
{
	if (first > last)
		return;
	sel->recent_first = realloc(sel->recent_first,
				    (sel->recent_count + 1) * sizeof(uint32_t));
	sel->recent_last = realloc(sel->recent_last,
				   (sel->recent_count + 1) * sizeof(uint32_t));
	if (sel->recent_first == NULL || sel->recent_last == NULL)
		dboxd_fatal("out of memory");
	sel->recent_first[sel->recent_count] = first;
	sel->recent_last[sel->recent_count] = last;
	sel->recent_count++;
}

bool imap_selected_is_recent(const struct imap_selected *sel, uint32_t uid)
{
	for (unsigned int i = 0; i < sel->recent_count; i++) {
		if (uid >= sel->recent_first[i] && uid <= sel->recent_last[i])
			return true;
	}
	return false;
}

/* Claim \Recent for new uids (not for EXAMINE). */
static void recent_claim(struct imap_selected *sel)
{
	struct dbox_status st;
	uint32_t first;
	const char *error;

	if (sel->readonly)
		return;
	if (dbox_mailbox_claim_recent(sel->box, &first, &error) < 0) {
		dboxd_warn("claiming \\Recent in %s: %s", sel->name, error);
		return;
	}
	dbox_mailbox_get_status(sel->box, &st);
	if (first < st.uidnext)
		recent_add(sel, first, st.uidnext - 1);
}

static unsigned int recent_count_view(const struct imap_selected *sel)
{
	const struct dbox_mail *mails;
	unsigned int count, n = 0;

	if (sel->recent_count == 0)
		return 0;
	dbox_mailbox_get_mails(sel->box, &mails, &count);
	for (unsigned int i = 0; i < count; i++)
		n += imap_selected_is_recent(sel, mails[i].uid);
	return n;
}

void imap_selected_send_flags(struct imap_client *c)
{
	struct imap_selected *sel = c->sel;
	const char *const *names;
	unsigned int count;

	dbox_mailbox_get_keywords(sel->box, &names, &count);
	dboxd_buf_append_str(&c->out,
			     "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	for (unsigned int i = 0; i < count; i++)
		dboxd_buf_printf(&c->out, " %s", names[i]);
	dboxd_buf_append_str(&c->out, ")\r\n");
	if (sel->readonly) {
		dboxd_buf_append_str(&c->out,
				     "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n");
	} else {
		dboxd_buf_append_str(&c->out,
				     "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
		for (unsigned int i = 0; i < count; i++)
			dboxd_buf_printf(&c->out, " %s", names[i]);
		dboxd_buf_append_str(&c->out, " \\*)] Flags permitted.\r\n");
	}
	sel->keywords_announced = count;
}

int imap_selected_open(struct imap_client *c, const char *name, bool readonly,
		       bool condstore, const char **error_r)
{
	struct imap_selected *sel;
	const struct dbox_mail *mails;
	struct dbox_status st;
	unsigned int count;

	imap_selected_close(c);
	sel = calloc(1, sizeof(*sel));
	if (sel == NULL)
		dboxd_fatal("out of memory");
	if (dbox_mailbox_open(imap_storage(), name,
			      readonly ? DBOX_OPEN_READONLY : 0, &sel->box,
			      error_r) < 0) {
		free(sel);
		return -1;
	}
	sel->name = strdup(name);
	if (sel->name == NULL)
		dboxd_fatal("out of memory");
	sel->readonly = readonly;
	sel->condstore = condstore || c->condstore;
	c->sel = sel;
	c->state = IMAP_STATE_SELECTED;
	recent_claim(sel);
	dbox_mailbox_get_mails(sel->box, &mails, &count);
	dbox_mailbox_get_status(sel->box, &st);
	imap_selected_send_flags(c);
	imap_client_send(c, "* %u EXISTS", count);
	imap_client_send(c, "* %u RECENT", recent_count_view(sel));
	for (unsigned int i = 0; i < count; i++) {
		if ((mails[i].flags & DBOX_MAIL_SEEN) == 0) {
			imap_client_send(c, "* OK [UNSEEN %u] First unseen.",
					 i + 1);
			break;
		}
	}
	imap_client_send(c, "* OK [UIDVALIDITY %u] UIDs valid", st.uidvalidity);
	imap_client_send(c, "* OK [UIDNEXT %u] Predicted next UID", st.uidnext);
	if (sel->condstore) {
		if (st.highest_modseq == 0)
			imap_client_send(c, "* OK [NOMODSEQ] No permanent modsequences");
		else
			imap_client_send(c, "* OK [HIGHESTMODSEQ %" PRIu64 "] Highest",
					 st.highest_modseq);
	}
	return 0;
}

void imap_selected_close(struct imap_client *c)
{
	struct imap_selected *sel = c->sel;

	if (sel == NULL)
		return;
	c->sel = NULL;
	c->state = IMAP_STATE_AUTH;
	dbox_mailbox_close(&sel->box);
	free(sel->recent_first);
	free(sel->recent_last);
	free(sel->name);
	free(sel);
}

void imap_sync_send_flags(struct imap_client *c, uint32_t seq,
			  const struct dbox_mail *mail)
{
	dboxd_buf_printf(&c->out, "* %u FETCH (UID %u FLAGS ", seq, mail->uid);
	imap_flags_write(&c->out, mail->flags, mail->keywords,
			 imap_selected_is_recent(c->sel, mail->uid));
	if (c->sel->condstore)
		dboxd_buf_printf(&c->out, " MODSEQ (%" PRIu64 ")", mail->modseq);
	dboxd_buf_append_str(&c->out, ")\r\n");
}

static bool is_silent(const struct imap_selected *sel, uint32_t uid)
{
	for (unsigned int i = 0; i < sel->silent_count; i++) {
		if (sel->silent_uids[i] == uid)
			return true;
	}
	return false;
}

/* May we sync now without an expunge appearing? */
static bool sync_without_expunges(struct imap_selected *sel)
{
	struct dbox_status st;
	uint32_t *uids;
	unsigned int count;
	bool complete;
	const char *error;

	dbox_mailbox_get_status(sel->box, &st);
	if (dbox_mailbox_expunged_since(sel->box, st.highest_modseq, &uids,
					&count, &complete, &error) < 0)
		return false;
	free(uids);
	return count == 0 && complete;
}

static void sync_report_expunges(struct imap_client *c,
				 const struct dbox_sync_result *res)
{
	if (res->expunged_count == 0)
		return;
	if (c->qresync) {
		uint32_t *uids = malloc(res->expunged_count * sizeof(*uids));

		if (uids == NULL)
			dboxd_fatal("out of memory");
		/* expunged_uids follow the descending sequence numbers,
		   so they are descending too. */
		for (unsigned int i = 0; i < res->expunged_count; i++)
			uids[i] = res->expunged_uids[res->expunged_count - 1 - i];
		dboxd_buf_append_str(&c->out, "* VANISHED ");
		imap_append_uidset(&c->out, uids, res->expunged_count);
		dboxd_buf_append_str(&c->out, "\r\n");
		free(uids);
		return;
	}
	for (unsigned int i = 0; i < res->expunged_count; i++)
		imap_client_send(c, "* %u EXPUNGE", res->expunged_seqs[i]);
}

void imap_sync(struct imap_client *c, bool allow_expunge)
{
	struct imap_selected *sel = c->sel;
	struct dbox_sync_result res;
	const struct dbox_mail *mails;
	const char *const *names;
	unsigned int count, kwcount;
	const char *error;

	if (sel == NULL)
		return;
	if (!allow_expunge && !sync_without_expunges(sel))
		return;
	if (dbox_mailbox_sync(sel->box, &res, &error) < 0) {
		dboxd_warn("sync of %s: %s", sel->name, error);
		return;
	}
	c->changes_pending = false;
	if (res.uidvalidity_changed) {
		imap_client_disconnect(c, "Mailbox was rebuilt; please reconnect.");
		dbox_sync_result_free(&res);
		return;
	}
	sync_report_expunges(c, &res);
	dbox_mailbox_get_keywords(sel->box, &names, &kwcount);
	if (res.keywords_changed || kwcount != sel->keywords_announced)
		imap_selected_send_flags(c);
	dbox_mailbox_get_mails(sel->box, &mails, &count);
	if (res.new_count > 0 || res.expunged_count > 0) {
		if (res.new_count > 0)
			recent_claim(sel);
		imap_client_send(c, "* %u EXISTS", count);
		if (res.new_count > 0)
			imap_client_send(c, "* %u RECENT",
					 recent_count_view(sel));
	}
	for (unsigned int i = 0; i < res.changed_count; i++) {
		uint32_t seq;
		const struct dbox_mail *m =
			dbox_mailbox_lookup_uid(sel->box, res.changed_uids[i],
						&seq);

		if (m != NULL && !is_silent(sel, m->uid))
			imap_sync_send_flags(c, seq, m);
	}
	dbox_sync_result_free(&res);
}
