/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Mailbox names: validation, and the mapping to directories on disk. */
#ifndef DBOX_NAME_H
#define DBOX_NAME_H

#include <stdbool.h>

#define DBOX_MAILBOX_NAME_MAX 1024	/* bytes of UTF-8 */
#define DBOX_MAILBOX_COMPONENT_MAX 255	/* bytes on disk (NAME_MAX) */
#define DBOX_MAILBOX_DEPTH_MAX 32
#define DBOX_MAILDIR_NAME "dbox-Mails"	/* Dovecot's DBOX_MAILDIR_NAME */

/* The directory under <root>/mailboxes for a normalised name: modified
   UTF-7, '/' between components. Rejects components too long for the
   filesystem. */
int dbox_name_to_disk(const char *name, char **disk_r, const char **error_r);
/* The reverse, for listing directories (Dovecot-created ones included). */
int dbox_name_from_disk(const char *disk, char **name_r, const char **error_r);
/* Is child inside parent's hierarchy ("a/b" in "a")? */
bool dbox_name_is_child(const char *parent, const char *child);

#endif
