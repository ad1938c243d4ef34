/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The selected mailbox of a connection and reporting its changes.
 *
 * Each connection has its own view (dbox_mailbox_open) that changes only in
 * imap_sync(): new messages become "* N EXISTS" (and RECENT), expunged ones
 * "* n EXPUNGE" (or "* VANISHED" once QRESYNC is enabled), flag changes
 * "* n FETCH (UID u FLAGS (...))". Changes by the user's other connections
 * in this worker are noticed at once (worker_notify_change), changes by
 * other processes through the storage's notify descriptor.
 *
 * RFC 3501 7.4.1 forbids EXPUNGE while answering FETCH, STORE and SEARCH:
 * with allow_expunge false, imap_sync() syncs only if the index shows no
 * expunge since the view's modseq, and otherwise reports nothing now.
 */
#ifndef DBOXD_IMAP_SYNC_H
#define DBOXD_IMAP_SYNC_H

#include <stdbool.h>
#include <stdint.h>

struct dbox_mailbox;
struct dbox_mail;
struct imap_client;

struct imap_selected {
	struct dbox_mailbox *box;
	char *name;		/* storage (UTF-8) name */
	bool readonly;
	/* \Recent: the uids this session claimed, as ranges */
	uint32_t *recent_first, *recent_last;
	unsigned int recent_count;
	/* keywords announced in the last "* FLAGS" */
	unsigned int keywords_announced;
	/* report MODSEQ in FETCH (CONDSTORE used or enabled) */
	bool condstore;
	/* uids the current STORE .SILENT changed: not reported back */
	const uint32_t *silent_uids;
	unsigned int silent_count;
};

/* Open name for the client (SELECT/EXAMINE) and write the untagged
   responses of RFC 3501 6.3.1. On failure nothing is selected. */
int imap_selected_open(struct imap_client *client, const char *name,
		       bool readonly, bool condstore, const char **error_r);
void imap_selected_close(struct imap_client *client);
bool imap_selected_is_recent(const struct imap_selected *sel, uint32_t uid);
/* Write "* FLAGS" and "* OK [PERMANENTFLAGS ...]". */
void imap_selected_send_flags(struct imap_client *client);
void imap_sync(struct imap_client *client, bool allow_expunge);
/* Write one "* n FETCH (UID u FLAGS (...) [MODSEQ (m)])". */
void imap_sync_send_flags(struct imap_client *client, uint32_t seq,
			  const struct dbox_mail *mail);

#endif
