// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * multi-dbox append: all messages of one save go to the end of one locked
 * storage file in one write, fsync'd (and the directory too for a new
 * file) before the index transaction adds their map entries, moves the
 * file's committed end and adds the mail records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../dbox-log.h"
#include "../io/dbox-io-internal.h"
#include "mdbox.h"

static void append_msg(const struct dbox_save_item *item, const char *orig_box,
		       struct dbox_buf *buf)
{
	unsigned char hdr[DBOX_MSG_HEADER_SIZE];
	struct dbox_metadata md = { NULL, 0 };
	char value[32];

	dbox_msg_header_write(hdr, item->sizes.phys_size);
	dbox_buf_append(buf, hdr, sizeof(hdr));
	dbox_buf_append(buf, item->body, item->sizes.phys_size);
	/* Dovecot's order; B lets a rebuild put the message back */
	snprintf(value, sizeof(value), "%llx",
		 (unsigned long long)item->internal_date);
	dbox_metadata_add(&md, DBOX_METADATA_RECEIVED_TIME, value);
	snprintf(value, sizeof(value), "%llx",
		 (unsigned long long)item->sizes.virt_size);
	dbox_metadata_add(&md, DBOX_METADATA_VIRTUAL_SIZE, value);
	dbox_metadata_add(&md, DBOX_METADATA_GUID, item->guid);
	dbox_metadata_add(&md, DBOX_METADATA_ORIG_MAILBOX, orig_box);
	dbox_metadata_write(buf, &md);
	dbox_metadata_free(&md);
}

/* The locked file and the bytes being written to it. */
struct mdbox_save {
	struct mdbox_append app;
	struct dbox_buf buf;
	bool locked;
};

/* Stage 0: lock a file (or create one) and write all messages to its end. */
static int write_messages(struct dbox_save_ctx *ctx,
			  struct dbox_io_batch *batch, const char **error_r)
{
	struct dbox_storage *storage = ctx->box->storage;
	struct mdbox_save *st = dbox_calloc(1, sizeof(*st));
	struct mdbox_append *app = &st->app;
	uint64_t need = 0;
	unsigned int i;

	for (i = 0; i < ctx->count; i++)
		need += DBOX_MSG_HEADER_SIZE + ctx->items[i].sizes.phys_size +
			200;
	st->buf.alloc = storage->set.mail_alloc;
	ctx->format_ctx = st;
	if (mdbox_append_begin(storage, need, app, error_r) < 0)
		return -1;
	st->locked = true;
	if (app->created)
		dbox_file_header_write(&st->buf, ctx->save_date);
	for (i = 0; i < ctx->count; i++) {
		struct dbox_save_item *item = &ctx->items[i];

		item->offset = app->offset + st->buf.len;
		item->file_id = app->file_id;
		append_msg(item, ctx->box->disk_name, &st->buf);
		item->total_size = app->offset + st->buf.len - item->offset;
	}
	app->end = app->offset + st->buf.len;
	dbox_io_batch_write(storage->io, batch, app->fd, st->buf.data,
			    st->buf.len, app->offset);
	return 1;
}

int mdbox_save_write(struct dbox_save_ctx *ctx, unsigned int stage,
		     struct dbox_io_batch *batch, const char **error_r)
{
	struct dbox_storage *storage = ctx->box->storage;
	struct mdbox_save *st = ctx->format_ctx;

	switch (stage) {
	case 0:
		return write_messages(ctx, batch, error_r);
	case 1:
		/* the bytes, and for a new file its name in storage/ */
		dbox_io_batch_fsync(storage->io, batch, st->app.fd, true);
		if (st->app.created)
			dbox_io_batch_fsync(storage->io, batch,
					    storage->storage_fd, false);
		return 1;
	default:
		return 0;
	}
}

int mdbox_save_place(struct dbox_save_ctx *ctx, struct dbox_txn *txn,
		     struct dbox_idx_mailbox_rec *rec, const char **error_r)
{
	struct mdbox_save *st = ctx->format_ctx;
	struct mdbox_append *app = &st->app;
	struct dbox_idx_file file = { 0, 0, 0 };
	struct dbox_idx_map map;
	uint32_t map_uid;
	unsigned int i;
	int ret;

	/* we hold the file's lock: nobody can have moved its end */
	ret = dbox_idx_file_get(txn, app->file_id, &file, error_r);
	if (ret < 0)
		return -1;
	if (!app->created && (ret == 0 || file.committed_end != app->offset))
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "m.%u changed while locked", app->file_id);
	if (dbox_idx_meta_alloc(txn, "next_map_uid", ctx->count, &map_uid,
				error_r) < 0)
		return -1;
	for (i = 0; i < ctx->count; i++) {
		struct dbox_save_item *item = &ctx->items[i];

		memset(&map, 0, sizeof(map));
		map.file_id = app->file_id;
		map.refcount = 1;
		map.reserved = DBOX_MSG_HEADER_SIZE;
		map.offset = item->offset;
		map.size = item->total_size;
		item->map_uid = map_uid + i;
		if (dbox_idx_map_put(txn, item->map_uid, &map, error_r) < 0)
			return -1;
		item->uid = rec->mb.uidnext++;
	}
	file.committed_end = app->end;
	if (dbox_idx_file_put(txn, app->file_id, &file, error_r) < 0)
		return -1;
	if (app->created &&
	    dbox_idx_meta_set(txn, "append_file_id", app->file_id,
			      error_r) < 0)
		return -1;
	return 0;
}

void mdbox_save_finish(struct dbox_save_ctx *ctx, bool committed)
{
	struct mdbox_save *st = ctx->format_ctx;

	if (st == NULL)
		return;
	if (st->locked)
		mdbox_append_end(ctx->box->storage, &st->app, committed);
	dbox_buf_free(&st->buf);
	free(st);
	ctx->format_ctx = NULL;
}
