// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * multi-dbox rebuild, after Dovecot's mdbox-storage-rebuild.c: scan every
 * storage file; keep each mail record of the old index whose message is
 * still where the old map said (same GUID); every message nobody refers to
 * goes to the mailbox in its B metadata (created if needed) or INBOX. A
 * second copy of a GUID nobody refers to is left unreferenced (refcount 0)
 * for purge, as Dovecot does.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../dbox-fs.h"
#include "../dbox-keywords.h"
#include "../dbox-log.h"
#include "../dbox-name.h"
#include "../dbox-rebuild.h"
#include "../dbox-rebuild-old.h"
#include "mdbox.h"

struct scanned {
	uint32_t file_id;
	uint32_t map_uid;
	uint32_t refcount;
	struct dbox_import_msg msg;
};

struct scan {
	struct scanned *msgs;
	unsigned int count;
	struct scanned **by_guid;
};

static int scan_file(struct dbox_storage *storage, struct dbox_txn *txn,
		     uint32_t file_id, struct scan *scan, const char **error_r)
{
	struct dbox_file_header hdr;
	struct dbox_idx_file file = { 0, 0, 0 };
	struct scanned *s;
	unsigned char *data;
	const char *error;
	char name[32];
	size_t size;
	uint64_t offset;
	int fd, ret;

	mdbox_file_name(file_id, name);
	if (dbox_fs_open_file(storage->storage_fd, name, O_RDONLY, 0, &fd) < 0)
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "open(%s) failed: %m", name);
	ret = dbox_read_file(storage, fd, SIZE_MAX / 2, &data, &size, error_r);
	close(fd);
	if (ret < 0)
		return -1;
	if (dbox_file_header_parse(data, size, &hdr, &error) < 0) {
		dbox_log(DBOX_LOG_WARNING, "rebuild: skipping %s: %s", name,
			 error);
		free(data);
		return 0;
	}
	offset = hdr.header_len;
	while (offset < size) {
		scan->msgs = dbox_realloc(scan->msgs, (scan->count + 1) *
					  sizeof(*scan->msgs));
		s = &scan->msgs[scan->count];
		memset(s, 0, sizeof(*s));
		if (dbox_import_parse(data, size, offset, hdr.msg_header_size,
				      hdr.create_stamp, &s->msg, &error) < 0) {
			/* a torn tail (or damage): what follows is not
			   reachable without a message size to trust */
			dbox_log(DBOX_LOG_WARNING, "rebuild: %s at offset %llu: "
				 "%s", name, (unsigned long long)offset, error);
			break;
		}
		s->file_id = file_id;
		offset += s->msg.total_size;
		scan->count++;
	}
	free(data);
	file.committed_end = offset;
	return dbox_idx_file_put(txn, file_id, &file, error_r);
}

static int id_cmp(const void *p1, const void *p2)
{
	uint32_t a = *(const uint32_t *)p1, b = *(const uint32_t *)p2;

	return a < b ? -1 : a > b;
}

/* A rebuilt (or fresh) index must not hand out the id of a storage file
   that exists: the next new file would fail with EEXIST. */
static int keep_file_ids_unique(struct dbox_txn *txn, uint32_t max_id,
				const char **error_r)
{
	uint64_t next;

	if (dbox_idx_meta_get(txn, "next_file_id", &next, error_r) < 0)
		return -1;
	if (next > max_id)
		return 0;
	return dbox_idx_meta_set(txn, "next_file_id", (uint64_t)max_id + 1,
				 error_r);
}

static int scan_storage(struct dbox_storage *storage, struct dbox_txn *txn,
			struct scan *scan, const char **error_r)
{
	uint32_t *ids = NULL, id;
	unsigned int i, count = 0;
	struct dirent *d;
	char *end;
	DIR *dir;
	int ret = 0;

	dir = dbox_fs_opendir_at(storage->storage_fd);
	if (dir == NULL)
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "opendir(storage) failed: %m");
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, MDBOX_MAIL_PREFIX, 2) != 0)
			continue;
		errno = 0;
		id = (uint32_t)strtoul(d->d_name + 2, &end, 10);
		if (errno != 0 || *end != '\0' || id == 0)
			continue;
		ids = dbox_realloc(ids, (count + 1) * sizeof(*ids));
		ids[count++] = id;
	}
	closedir(dir);
	if (count > 0)	/* qsort(NULL, 0) is undefined */
		qsort(ids, count, sizeof(*ids), id_cmp);
	for (i = 0; i < count && ret == 0; i++)
		ret = scan_file(storage, txn, ids[i], scan, error_r);
	if (ret == 0 && count > 0)
		ret = keep_file_ids_unique(txn, ids[count - 1], error_r);
	free(ids);
	return ret;
}

static int guid_cmp(const void *p1, const void *p2)
{
	const struct scanned *const *a = p1, *const *b = p2;

	return strcmp((*a)->msg.guid, (*b)->msg.guid);
}

static struct scanned *find_by_location(struct scan *scan, uint32_t file_id,
					uint64_t offset, const char *guid)
{
	unsigned int lo = 0, hi = scan->count, mid;
	struct scanned *s;

	/* msgs are in (file id, offset) order: files sorted, then read in
	   order */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		s = &scan->msgs[mid];
		if (s->file_id < file_id ||
		    (s->file_id == file_id && s->msg.rec.m.offset < offset))
			lo = mid + 1;
		else if (s->file_id == file_id && s->msg.rec.m.offset == offset)
			return strcmp(s->msg.guid, guid) == 0 ? s : NULL;
		else
			hi = mid;
	}
	return NULL;
}

/* The first of the messages with this GUID in by_guid order. */
static struct scanned **find_guid_range(struct scan *scan, const char *guid)
{
	struct scanned key, *keyp = &key, **found;

	key.msg.guid = (char *)guid;
	found = bsearch(&keyp, scan->by_guid, scan->count,
			sizeof(*scan->by_guid), guid_cmp);
	while (found != NULL && found > scan->by_guid &&
	       strcmp(found[-1]->msg.guid, guid) == 0)
		found--;
	return found;
}

static struct scanned *find_by_guid(struct scan *scan, const char *guid)
{
	struct scanned **found = find_guid_range(scan, guid);

	return found == NULL ? NULL : *found;
}

/* Does any copy of this GUID have a reference already? */
static bool guid_referenced(struct scan *scan, const char *guid)
{
	struct scanned **p = find_guid_range(scan, guid);

	for (; p != NULL && p < scan->by_guid + scan->count &&
	     strcmp((*p)->msg.guid, guid) == 0; p++) {
		if ((*p)->refcount > 0)
			return true;
	}
	return false;
}

static int put_mail(struct dbox_rebuild_ctx *ctx, struct dbox_rebuild_box *box,
		    struct scanned *s, uint32_t uid,
		    const struct dbox_rebuild_carry *carry,
		    const char **error_r)
{
	struct dbox_idx_mail_rec rec = s->msg.rec;
	uint16_t *kw = NULL;
	unsigned int kw_count = 0;
	int ret;

	if (carry != NULL) {
		rec.m.flags = carry->flags;
		rec.m.save_date = carry->save_date;
		if (dbox_keywords_to_indexes(&box->rec, carry->keywords, &kw,
					     &kw_count, error_r) < 0)
			return -1;
	}
	rec.uid = uid;
	rec.m.map_uid = s->map_uid;
	rec.m.modseq = box->rec.mb.highest_modseq;
	rec.m.keyword_count = (uint16_t)kw_count;
	rec.keywords = kw;
	ret = dbox_idx_mail_put(ctx->txn, box->rec.mb.id, &rec, error_r);
	free(kw);
	if (ret == 0) {
		dbox_mailbox_rec_account(&box->rec, &rec.m, 1);
		s->refcount++;
	}
	return ret;
}

/* Mail records of the old index whose message is still there. */
static int restore_old(struct dbox_rebuild_ctx *ctx, struct scan *scan,
		       const char **error_r)
{
	const struct dbox_rebuild_carry *c;
	const struct dbox_idx_map *map;
	struct dbox_rebuild_box *box;
	struct scanned *s;
	unsigned int i, j;

	for (i = 0; i < ctx->count; i++) {
		box = &ctx->boxes[i];
		box->rec.mb.highest_modseq++;
		for (j = 0; box->old != NULL && j < box->old->count; j++) {
			c = &box->old->mails[j];
			map = dbox_rebuild_old_find_map(ctx->old, c->map_uid);
			s = map == NULL ? NULL :
				find_by_location(scan, map->file_id,
						 map->offset, c->guid);
			if (s == NULL)
				s = find_by_guid(scan, c->guid);
			if (s != NULL && put_mail(ctx, box, s, c->uid, c,
						  error_r) < 0)
				return -1;
		}
	}
	return 0;
}

/* Messages nobody refers to go to their B mailbox, or INBOX. */
static int restore_lost(struct dbox_rebuild_ctx *ctx, struct scan *scan,
			const char **error_r)
{
	struct dbox_rebuild_box *box;
	struct scanned *s;
	const char *error;
	char *name;
	unsigned int i;

	for (i = 0; i < scan->count; i++) {
		s = &scan->msgs[i];
		if (guid_referenced(scan, s->msg.guid))
			continue;
		name = NULL;
		if (s->msg.orig_mailbox == NULL ||
		    dbox_name_from_disk(s->msg.orig_mailbox, &name,
					&error) < 0)
			name = dbox_strdup("INBOX");
		box = dbox_rebuild_get_box(ctx, name, true, error_r);
		if (box == NULL) {
			/* the B name cannot be created: INBOX then */
			box = dbox_rebuild_get_box(ctx, "INBOX", true, error_r);
		}
		free(name);
		if (box == NULL ||
		    put_mail(ctx, box, s, box->rec.mb.uidnext++, NULL,
			     error_r) < 0)
			return -1;
	}
	return 0;
}

static int put_map(struct dbox_rebuild_ctx *ctx, struct scan *scan,
		   const char **error_r)
{
	struct dbox_idx_map map;
	unsigned int i;

	for (i = 0; i < scan->count; i++) {
		memset(&map, 0, sizeof(map));
		map.file_id = scan->msgs[i].file_id;
		map.refcount = scan->msgs[i].refcount;
		map.reserved = scan->msgs[i].msg.rec.m.reserved;
		map.offset = scan->msgs[i].msg.rec.m.offset;
		map.size = scan->msgs[i].msg.total_size;
		if (dbox_idx_map_put(ctx->txn, scan->msgs[i].map_uid, &map,
				     error_r) < 0)
			return -1;
	}
	return 0;
}

static void scan_free(struct scan *scan)
{
	unsigned int i;

	for (i = 0; i < scan->count; i++)
		dbox_import_msg_free(&scan->msgs[i].msg);
	free(scan->msgs);
	free(scan->by_guid);
}

int mdbox_rebuild(struct dbox_storage *storage, struct dbox_rebuild_ctx *ctx,
		  const char **error_r)
{
	struct scan scan = { NULL, 0, NULL };
	uint32_t first = 0;
	unsigned int i;
	int ret = -1;

	mdbox_file_cache_free(storage);
	if (scan_storage(storage, ctx->txn, &scan, error_r) < 0)
		goto out;
	if (scan.count > 0 &&
	    dbox_idx_meta_alloc(ctx->txn, "next_map_uid", scan.count, &first,
				error_r) < 0)
		goto out;
	scan.by_guid = dbox_calloc(scan.count, sizeof(*scan.by_guid));
	for (i = 0; i < scan.count; i++) {
		scan.msgs[i].map_uid = first + i;
		scan.by_guid[i] = &scan.msgs[i];
	}
	if (scan.count > 0)
		qsort(scan.by_guid, scan.count, sizeof(*scan.by_guid),
		      guid_cmp);
	if (restore_old(ctx, &scan, error_r) < 0 ||
	    restore_lost(ctx, &scan, error_r) < 0 ||
	    put_map(ctx, &scan, error_r) < 0)
		goto out;
	ret = 0;
out:
	scan_free(&scan);
	return ret;
}
