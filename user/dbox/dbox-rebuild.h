/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Rebuilding the index from the dbox files (dbox-rebuild.c), shared by
 * both formats. The old index, when it can still be read, is copied into
 * memory first so flags, keywords, uids and UIDVALIDITY survive where the
 * files prove the message is the same (same GUID).
 */
#ifndef DBOX_REBUILD_H
#define DBOX_REBUILD_H

#include "dbox-private.h"

/* What the old index said about one message. */
struct dbox_rebuild_carry {
	uint32_t uid;
	uint32_t flags;
	uint32_t map_uid;
	int64_t save_date;
	char *guid;
	const char **keywords;		/* NULL-terminated names */
};

struct dbox_rebuild_old_box {
	char *name;
	struct dbox_idx_mailbox_rec rec;
	struct dbox_rebuild_carry *mails;	/* uid order */
	unsigned int count;
};

struct dbox_rebuild_old_map {
	uint32_t map_uid;
	struct dbox_idx_map map;
};

struct dbox_rebuild_old {
	struct dbox_rebuild_old_box *boxes;
	unsigned int count;
	struct dbox_rebuild_old_map *maps;	/* map uid order */
	unsigned int map_count;
};

/* A mailbox directory found on disk, with its new record. */
struct dbox_rebuild_box {
	char *name;
	char *disk;
	int dir_fd;
	struct dbox_idx_mailbox_rec rec;
	const struct dbox_rebuild_old_box *old;
};

struct dbox_rebuild_ctx {
	struct dbox_storage *storage;
	struct dbox_txn *txn;
	struct dbox_rebuild_box *boxes;
	unsigned int count;
	const struct dbox_rebuild_old *old;	/* NULL: nothing to carry */
};

/* Empty the index (but its meta counters) and fill it from the files.
   keep_old: first read what the old index knows, to carry it over. */
int dbox_rebuild_in_txn(struct dbox_storage *storage, struct dbox_txn *txn,
			bool keep_old, const char **error_r);

/* The old record of uid in old (NULL-safe) if its GUID matches. */
const struct dbox_rebuild_carry *
dbox_rebuild_carry_find(const struct dbox_rebuild_old_box *old, uint32_t uid,
			const char *guid);
/* The rebuild mailbox of that name; create: make its directory and
   record when missing (mdbox restores into B mailboxes). NULL on error or
   when missing and !create. */
struct dbox_rebuild_box *dbox_rebuild_get_box(struct dbox_rebuild_ctx *ctx,
					      const char *name, bool create,
					      const char **error_r);

#endif
