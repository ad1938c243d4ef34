/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The worker's link to the storage library (libdbox, user/dbox/dbox.h):
 * opening the user's mail root from mail_location, wiring the library's
 * I/O and change notification into the worker's loop, and mapping its
 * error classes to IMAP response codes. Commands call dbox_*() directly
 * for mailbox operations; changes and message reads use the library's
 * asynchronous calls (dbox_mail_*_start, dbox_fetch_start), whose
 * completions run from this loop (see storage.c and imap_cmd_wait_storage).
 */
#ifndef DBOXD_STORAGE_H
#define DBOXD_STORAGE_H

#include "dbox.h"

/* mail: the user's userdb_mail, or "" for mail_location. */
int imap_storage_open(const char *user, const char *home, const char *mail,
		      const char **error_r);
void imap_storage_close(void);
struct dbox_storage *imap_storage(void);
/* "[NONEXISTENT]" etc. for dbox_last_error(); "" for none. */
const char *imap_storage_resp_code(void);
/* The same for an error class kept from an asynchronous result. */
const char *imap_storage_resp_code_for(enum dbox_error err);
/* Expand a mail location ("sdbox:~/dbox") for a user; malloc'd root. */
int imap_storage_parse_location(const char *location, const char *user,
				const char *home, enum dbox_format *format_r,
				char **root_r, const char **error_r);

#endif
