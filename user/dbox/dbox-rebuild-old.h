/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The old index's contents during a rebuild (dbox-rebuild-old.c). */
#ifndef DBOX_REBUILD_OLD_H
#define DBOX_REBUILD_OLD_H

#include "dbox-rebuild.h"

int dbox_rebuild_old_collect(struct dbox_txn *txn,
			     struct dbox_rebuild_old **old_r,
			     const char **error_r);
void dbox_rebuild_old_free(struct dbox_rebuild_old **old);
const struct dbox_rebuild_old_box *
dbox_rebuild_old_find_box(const struct dbox_rebuild_old *old,
			  const char *name);
const struct dbox_idx_map *
dbox_rebuild_old_find_map(const struct dbox_rebuild_old *old,
			  uint32_t map_uid);

#endif
