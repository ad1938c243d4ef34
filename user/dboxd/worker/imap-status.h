/* SPDX-License-Identifier: GPL-2.0-or-later */
/* STATUS items, shared by STATUS and LIST-STATUS (RFC 5819). */
#ifndef DBOXD_IMAP_STATUS_H
#define DBOXD_IMAP_STATUS_H

#include "imap-parser.h"

struct imap_client;

#define IMAP_STATUS_MESSAGES		0x01
#define IMAP_STATUS_RECENT		0x02
#define IMAP_STATUS_UIDNEXT		0x04
#define IMAP_STATUS_UIDVALIDITY		0x08
#define IMAP_STATUS_UNSEEN		0x10
#define IMAP_STATUS_HIGHESTMODSEQ	0x20
#define IMAP_STATUS_SIZE		0x40
#define IMAP_STATUS_APPENDLIMIT		0x80

/* Parse "(MESSAGES UNSEEN ...)" members. -1 on an unknown item. */
int imap_status_parse(const struct imap_arg *list, unsigned int *items_r);
/* Write "* STATUS name (...)"; -1 with *error_r if the storage failed. */
int imap_status_write(struct imap_client *client, const char *name,
		      unsigned int items, const char **error_r);

#endif
