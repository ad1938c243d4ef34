/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The worker's link to the storage library (libdbox, user/dbox/dbox.h):
 * opening the user's mail root from mail_location, wiring the library's
 * I/O and change notification into the worker's loop, and mapping its
 * error classes to IMAP response codes. Commands call dbox_*() directly
 * for mailbox operations.
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
/* Expand a mail location ("sdbox:~/dbox") for a user; malloc'd root. */
int imap_storage_parse_location(const char *location, const char *user,
				const char *home, enum dbox_format *format_r,
				char **root_r, const char **error_r);

#endif
