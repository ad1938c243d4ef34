// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * multi-dbox: COPY adds a reference to the same stored message, EXPUNGE
 * drops one; the bytes stay until purge rewrites the file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../dbox-log.h"
#include "mdbox.h"

static int mdbox_init(struct dbox_storage *storage,
		      const char **error_r ATTR_UNUSED)
{
	struct mdbox_storage *ms = dbox_calloc(1, sizeof(*ms));
	unsigned int i;

	for (i = 0; i < MDBOX_FD_CACHE_SIZE; i++)
		ms->cache[i].fd = -1;
	storage->format_ctx = ms;
	return 0;
}

static void mdbox_deinit(struct dbox_storage *storage)
{
	mdbox_file_cache_free(storage);
	free(storage->format_ctx);
	storage->format_ctx = NULL;
}

int mdbox_map_ref(struct dbox_txn *txn, uint32_t map_uid, int delta,
		  const char **error_r)
{
	struct dbox_idx_map map;
	int ret;

	ret = dbox_idx_map_get(txn, map_uid, &map, error_r);
	if (ret < 0)
		return -1;
	if (ret == 0)
		return dbox_fail(error_r, delta > 0 ? DBOX_ERROR_EXPUNGED :
				 DBOX_ERROR_CORRUPTED,
				 "map uid %u is missing", map_uid);
	if (delta < 0 && map.refcount < (uint32_t)-delta) {
		dbox_log(DBOX_LOG_WARNING, "map uid %u: refcount underflow",
			 map_uid);
		map.refcount = 0;
	} else {
		map.refcount = (uint32_t)((int64_t)map.refcount + delta);
	}
	return dbox_idx_map_put(txn, map_uid, &map, error_r);
}

static int lookup(struct dbox_storage *storage, struct dbox_txn *txn,
		  uint32_t map_uid, struct dbox_idx_map *map_r,
		  const char **error_r)
{
	struct dbox_txn *own = NULL;
	int ret;

	if (txn == NULL) {
		if (dbox_txn_begin(storage->index, false, &own, error_r) < 0)
			return -1;
		txn = own;
	}
	ret = dbox_idx_map_get(txn, map_uid, map_r, error_r);
	dbox_txn_abort(&own);
	if (ret == 0)
		return dbox_fail(error_r, DBOX_ERROR_EXPUNGED,
				 "Message was expunged (map uid %u)", map_uid);
	return ret < 0 ? -1 : 0;
}

static int mdbox_open_mail(struct dbox_mailbox *box, struct dbox_txn *txn,
			   uint32_t uid ATTR_UNUSED,
			   const struct dbox_mail_priv *priv,
			   struct dbox_mail_loc *loc_r, const char **error_r)
{
	struct dbox_storage *storage = box->storage;
	struct dbox_idx_map map;
	unsigned int try;

	/* a purge may move the message between our lookup and open: the
	   old file is gone then, and a fresh lookup has the new place */
	for (try = 0; try < 2; try++) {
		if (lookup(storage, try == 0 ? txn : NULL, priv->map_uid, &map,
			   error_r) < 0)
			return -1;
		if (mdbox_file_get_fd(storage, map.file_id, &loc_r->fd,
				      error_r) == 0) {
			loc_r->offset = map.offset;
			loc_r->msg_header_size = map.reserved != 0 ?
				map.reserved : DBOX_MSG_HEADER_SIZE;
			loc_r->cached = true;
			return 0;
		}
		if (dbox_last_error() != DBOX_ERROR_NOTFOUND)
			return -1;
	}
	return dbox_fail(error_r, DBOX_ERROR_CORRUPTED,
			 "storage file m.%u is missing", map.file_id);
}

static int mdbox_copy_one(struct dbox_copy_ctx *ctx ATTR_UNUSED,
			  struct dbox_txn *txn,
			  struct dbox_idx_mailbox_rec *dst_rec,
			  const struct dbox_idx_mail_rec *src,
			  struct dbox_idx_mail_rec *dst, const char **error_r)
{
	if (mdbox_map_ref(txn, src->m.map_uid, 1, error_r) < 0)
		return -1;
	dst->uid = dst_rec->mb.uidnext++;
	return 0;
}

static int mdbox_copy_sync(struct dbox_copy_ctx *ctx ATTR_UNUSED,
			   const char **error_r ATTR_UNUSED)
{
	return 0;	/* index-only: the commit makes it durable */
}

static void mdbox_copy_finish(struct dbox_copy_ctx *ctx ATTR_UNUSED,
			      bool committed ATTR_UNUSED)
{
}

static int mdbox_expunge_one(struct dbox_mailbox *box ATTR_UNUSED,
			     struct dbox_txn *txn,
			     const struct dbox_idx_mail_rec *rec,
			     const char **error_r)
{
	return mdbox_map_ref(txn, rec->m.map_uid, -1, error_r);
}

static int mdbox_expunge_finish(struct dbox_mailbox *box ATTR_UNUSED,
				const uint32_t *uids ATTR_UNUSED,
				unsigned int count ATTR_UNUSED,
				struct dbox_io_batch *batch ATTR_UNUSED)
{
	return 0;	/* the bytes go at purge */
}

static int mdbox_mailbox_import(struct dbox_mailbox *box ATTR_UNUSED,
				struct dbox_txn *txn ATTR_UNUSED,
				struct dbox_idx_mailbox_rec *rec ATTR_UNUSED,
				const struct dbox_idx_mailbox_rec *old ATTR_UNUSED,
				const char **error_r ATTR_UNUSED)
{
	/* Which stored messages belong to a mailbox is known only to the
	   index (or Dovecot's): a new directory starts empty, and a storage
	   rebuild places messages by their B metadata. */
	return 0;
}

struct map_uid_list {
	uint32_t *map_uids;
	unsigned int count;
};

static int collect_map_uid(void *ctx, const struct dbox_idx_mail_rec *rec)
{
	struct map_uid_list *list = ctx;

	list->map_uids = dbox_realloc(list->map_uids, (list->count + 1) *
				      sizeof(uint32_t));
	list->map_uids[list->count++] = rec->m.map_uid;
	return 0;
}

static int mdbox_mailbox_delete(struct dbox_storage *storage ATTR_UNUSED,
				struct dbox_txn *txn, uint32_t mailbox_id,
				const char **error_r)
{
	struct map_uid_list list = { NULL, 0 };
	unsigned int i;
	int ret;

	/* collect first: map writes would invalidate the cursor's values */
	ret = dbox_idx_mail_iter(txn, mailbox_id, 0, collect_map_uid, &list,
				 error_r);
	for (i = 0; ret == 0 && i < list.count; i++) {
		ret = mdbox_map_ref(txn, list.map_uids[i], -1, error_r);
		/* a missing map entry has nothing left to release */
		if (ret < 0 && dbox_last_error() == DBOX_ERROR_CORRUPTED)
			ret = 0;
	}
	free(list.map_uids);
	return ret;
}

const struct dbox_format_ops mdbox_format_ops = {
	.format = DBOX_FORMAT_MDBOX,
	.name = "mdbox",
	.init = mdbox_init,
	.deinit = mdbox_deinit,
	.save_write = mdbox_save_write,
	.save_place = mdbox_save_place,
	.save_finish = mdbox_save_finish,
	.copy_one = mdbox_copy_one,
	.copy_sync = mdbox_copy_sync,
	.copy_finish = mdbox_copy_finish,
	.expunge_one = mdbox_expunge_one,
	.expunge_finish = mdbox_expunge_finish,
	.open_mail = mdbox_open_mail,
	.mailbox_import = mdbox_mailbox_import,
	.mailbox_delete = mdbox_mailbox_delete,
	.rebuild = mdbox_rebuild,
	.purge = mdbox_purge,
};
