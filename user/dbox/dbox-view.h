/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The per-mailbox view of messages (dbox-view.c). */
#ifndef DBOX_VIEW_H
#define DBOX_VIEW_H

struct dbox_mailbox;

void dbox_view_free(struct dbox_mailbox *box);
/* Index of uid in the view, or -1. */
int dbox_view_find(const struct dbox_mailbox *box, uint32_t uid);

#endif
