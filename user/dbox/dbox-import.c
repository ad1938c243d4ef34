// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading message files back into index records: used when a mailbox
 * directory has no record yet (made by Dovecot, or the index was lost),
 * when an interrupted append left a file behind, and by rebuild.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dbox-log.h"
#include "dbox-private.h"

int dbox_read_file(struct dbox_storage *storage, int fd, size_t max,
		   unsigned char **data_r, size_t *size_r,
		   const char **error_r)
{
	struct dbox_io_group group;
	unsigned char *data;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return dbox_fail(error_r, DBOX_ERROR_TEMP, "fstat failed: %m");
	if ((uint64_t)st.st_size > max)
		return dbox_fail(error_r, DBOX_ERROR_LIMIT,
				 "file is larger than %zu bytes", max);
	data = dbox_malloc((size_t)st.st_size + 1);
	/* a group wait runs no callbacks: fine inside a transaction step
	   (adopting a dead writer's file), it blocks only for this read */
	dbox_io_group_init(&group);
	dbox_io_group_read(storage->io, &group, fd, data, (size_t)st.st_size,
			   0);
	if (dbox_io_group_wait(storage->io, &group) < 0) {
		free(data);
		return dbox_fail(error_r, DBOX_ERROR_TEMP, "read failed: %m");
	}
	/* a file that shrank under us is read up to its new end */
	*size_r = (size_t)group.bytes;
	data[*size_r] = '\0';
	*data_r = data;
	return 0;
}

/* Bodies Dovecot's zlib plugin compressed (or anything else we cannot
   serve as text) start with a compression magic, never with a header. */
static bool body_is_compressed(const unsigned char *body, uint64_t size)
{
	if (size < 3)
		return false;
	return body[0] == 0x1f || body[0] == 0x28 || body[0] == 0xfd ||
		body[0] == 0xff || memcmp(body, "BZh", 3) == 0;
}

static int import_fields(const struct dbox_metadata *md,
			 int64_t fallback_date, struct dbox_import_msg *msg,
			 const char **error_r)
{
	const char *value;
	uint64_t v;
	char guid[33];

	if (dbox_metadata_get(md, DBOX_METADATA_EXT_REF) != NULL ||
	    dbox_metadata_get(md, DBOX_METADATA_PHYSICAL_SIZE) != NULL)
		return dbox_fail(error_r, DBOX_ERROR_NOTPOSSIBLE,
				 "message uses external attachments or "
				 "compression, which are not supported");
	value = dbox_metadata_get(md, DBOX_METADATA_GUID);
	if (value == NULL || *value == '\0' || strlen(value) > 127) {
		/* Dovecot's sdbox generates one as well */
		dbox_guid_generate(guid);
		value = guid;
	}
	msg->guid = dbox_strdup(value);
	value = dbox_metadata_get(md, DBOX_METADATA_RECEIVED_TIME);
	msg->rec.m.internal_date = value != NULL &&
		dbox_hex_to_u64(value, strlen(value), &v) == 0 ?
		(int64_t)v : fallback_date;
	value = dbox_metadata_get(md, DBOX_METADATA_ORIG_MAILBOX);
	if (value != NULL)
		msg->orig_mailbox = dbox_strdup(value);
	return 0;
}

int dbox_import_parse(const unsigned char *file, size_t file_size,
		      uint64_t offset, uint32_t msg_header_size,
		      int64_t fallback_date, struct dbox_import_msg *msg_r,
		      const char **error_r)
{
	struct dbox_parsed_msg parsed;
	struct dbox_msg_sizes sizes;
	const unsigned char *body;

	memset(msg_r, 0, sizeof(*msg_r));
	if (dbox_file_parse_msg(file, file_size, offset, msg_header_size,
				&parsed, error_r) < 0)
		return -1;
	body = file + parsed.body_offset;
	if (body_is_compressed(body, parsed.body_size)) {
		dbox_metadata_free(&parsed.md);
		return dbox_fail(error_r, DBOX_ERROR_NOTPOSSIBLE,
				 "message body is compressed, which is not "
				 "supported");
	}
	if (import_fields(&parsed.md, fallback_date, msg_r, error_r) < 0) {
		dbox_metadata_free(&parsed.md);
		dbox_import_msg_free(msg_r);
		return -1;
	}
	dbox_metadata_free(&parsed.md);
	dbox_msg_sizes_compute(body, parsed.body_size, &sizes);
	msg_r->rec.m.reserved = (uint16_t)msg_header_size;
	msg_r->rec.m.save_date = fallback_date;
	msg_r->rec.m.phys_size = sizes.phys_size;
	msg_r->rec.m.virt_size = sizes.virt_size;
	msg_r->rec.m.hdr_phys_size = sizes.hdr_phys_size;
	msg_r->rec.m.hdr_virt_size = sizes.hdr_virt_size;
	msg_r->rec.m.offset = offset;
	msg_r->rec.m.guid_len = (uint16_t)strlen(msg_r->guid);
	msg_r->rec.guid = msg_r->guid;
	msg_r->total_size = parsed.total_size;
	return 0;
}

void dbox_import_msg_free(struct dbox_import_msg *msg)
{
	free(msg->guid);
	free(msg->orig_mailbox);
	memset(msg, 0, sizeof(*msg));
}
