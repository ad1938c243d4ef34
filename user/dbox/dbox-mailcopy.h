/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A mail record copied out of the index: LMDB's returned values are valid
 * only until the next write in the transaction, so anything that reads a
 * record and then writes takes a copy first.
 */
#ifndef DBOX_MAILCOPY_H
#define DBOX_MAILCOPY_H

#include "index/dbox-index.h"

struct dbox_mail_copy {
	struct dbox_idx_mail_rec rec;	/* guid/keywords point below */
	char *guid;
	uint16_t *keywords;
};

void dbox_mail_copy_init(struct dbox_mail_copy *copy,
			 const struct dbox_idx_mail_rec *rec);
/* Replace the keyword list (takes ownership of kw). */
void dbox_mail_copy_set_keywords(struct dbox_mail_copy *copy, uint16_t *kw,
				 unsigned int count);
void dbox_mail_copy_free(struct dbox_mail_copy *copy);
/* 1 found (copy filled), 0 not found, -1 error. */
int dbox_mail_copy_get(struct dbox_txn *txn, uint32_t mailbox_id,
		       uint32_t uid, struct dbox_mail_copy *copy_r,
		       const char **error_r);

#endif
