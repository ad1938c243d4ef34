/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The subscriptions file, in Dovecot 2.3's format. */
#ifndef DBOX_SUBS_H
#define DBOX_SUBS_H

struct dbox_storage;

/* Subscribed names (UTF-8, '/' separated), malloc'd. A missing file is an
   empty list; unreadable lines are skipped. */
int dbox_subs_read(struct dbox_storage *storage, char ***names_r,
		   unsigned int *count_r, const char **error_r);

#endif
