/* SPDX-License-Identifier: GPL-2.0-or-later */
/* single-dbox internals. */
#ifndef SDBOX_H
#define SDBOX_H

#include "../dbox-private.h"

int sdbox_save_write(struct dbox_save_ctx *ctx, unsigned int stage,
		     struct dbox_io_batch *batch, const char **error_r);
int sdbox_save_place(struct dbox_save_ctx *ctx, struct dbox_txn *txn,
		     struct dbox_idx_mailbox_rec *rec, const char **error_r);
void sdbox_save_finish(struct dbox_save_ctx *ctx, bool committed);

/* Add u.<uid> of the box to the index as a message (uid kept); raises
   rec's uidnext past it. A file that cannot be parsed is renamed to
   u.<uid>.broken and skipped. */
int sdbox_adopt_file(struct dbox_mailbox *box, struct dbox_txn *txn,
		     struct dbox_idx_mailbox_rec *rec, uint32_t uid,
		     const char **error_r);
int sdbox_mailbox_import(struct dbox_mailbox *box, struct dbox_txn *txn,
			 struct dbox_idx_mailbox_rec *rec,
			 const struct dbox_idx_mailbox_rec *old,
			 const char **error_r);
struct dbox_rebuild_ctx;
int sdbox_rebuild(struct dbox_storage *storage, struct dbox_rebuild_ctx *ctx,
		  const char **error_r);

int sdbox_copy_one(struct dbox_copy_ctx *ctx, struct dbox_txn *txn,
		   struct dbox_idx_mailbox_rec *dst_rec,
		   const struct dbox_idx_mail_rec *src,
		   struct dbox_idx_mail_rec *dst, const char **error_r);
int sdbox_copy_sync(struct dbox_copy_ctx *ctx, const char **error_r);
void sdbox_copy_finish(struct dbox_copy_ctx *ctx, bool committed);

#endif
