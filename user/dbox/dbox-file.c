// SPDX-License-Identifier: GPL-2.0-or-later
/* dbox framing; the format is described in dbox-file.h. */
#include <stdlib.h>
#include <string.h>

#include "dbox-file.h"

static int corrupted(const char **error_r, const char *reason)
{
	return dbox_fail(error_r, DBOX_ERROR_CORRUPTED,
			 "Corrupted dbox file: %s", reason);
}

static int parse_header_field(const char *field, size_t len,
			      struct dbox_file_header *hdr,
			      const char **error_r)
{
	uint64_t value;

	if (len < 2 || (field[0] != 'M' && field[0] != 'C'))
		return 0;	/* unknown or old (A) keys are skipped */
	if (dbox_hex_to_u64(field + 1, len - 1, &value) < 0)
		return corrupted(error_r, "invalid header field");
	if (field[0] == 'M') {
		if (value < DBOX_MSG_HEADER_SIZE || value > 1024)
			return corrupted(error_r,
					 "invalid message header size");
		hdr->msg_header_size = (uint32_t)value;
	} else {
		hdr->create_stamp = (int64_t)value;
	}
	return 0;
}

int dbox_file_header_parse(const unsigned char *data, size_t size,
			   struct dbox_file_header *hdr_r,
			   const char **error_r)
{
	const char *line = (const char *)data, *p, *end, *sp;

	memset(hdr_r, 0, sizeof(*hdr_r));
	if (size > DBOX_FILE_HEADER_MAX)
		size = DBOX_FILE_HEADER_MAX;
	end = memchr(line, '\n', size);
	if (end == NULL)
		return corrupted(error_r, "EOF while reading file header");
	if (line[0] != '0' + DBOX_VERSION || (line[1] != ' ' && line + 1 != end))
		return corrupted(error_r, "invalid dbox version");
	hdr_r->version = DBOX_VERSION;
	for (p = line + 1; p < end; p = sp) {
		while (p < end && *p == ' ')
			p++;
		for (sp = p; sp < end && *sp != ' '; sp++)
			;
		if (sp > p &&
		    parse_header_field(p, (size_t)(sp - p), hdr_r, error_r) < 0)
			return -1;
	}
	if (hdr_r->msg_header_size == 0)
		return corrupted(error_r, "missing message header size");
	hdr_r->header_len = (size_t)(end - line) + 1;
	return 0;
}

void dbox_file_header_write(struct dbox_buf *buf, int64_t create_stamp)
{
	dbox_buf_printf(buf, "%u M%x C%llx\n", DBOX_VERSION,
			DBOX_MSG_HEADER_SIZE, (unsigned long long)create_stamp);
}

void dbox_msg_header_write(unsigned char out[DBOX_MSG_HEADER_SIZE],
			   uint64_t body_size)
{
	static const char hex[] = "0123456789ABCDEF";
	int i;

	memset(out, ' ', DBOX_MSG_HEADER_SIZE);
	memcpy(out, DBOX_MAGIC_PRE, 2);
	out[2] = 'N';
	/* out[3] space, out[4..11] old v1 uid (blank), out[12] space */
	for (i = 0; i < 16; i++)
		out[13 + 15 - i] = (unsigned char)hex[(body_size >> (i * 4)) & 0xf];
	out[DBOX_MSG_HEADER_SIZE - 1] = '\n';
}

int dbox_msg_header_parse(const unsigned char *data, size_t size,
			  uint32_t msg_header_size, uint64_t *body_size_r,
			  const char **error_r)
{
	if (size < msg_header_size || msg_header_size < DBOX_MSG_HEADER_SIZE)
		return corrupted(error_r, "EOF reading msg header");
	if (memcmp(data, DBOX_MAGIC_PRE, 2) != 0)
		return corrupted(error_r, "msg header has bad magic value");
	if (data[msg_header_size - 1] != '\n')
		return corrupted(error_r, "msg header doesn't end with LF");
	if (dbox_hex_to_u64((const char *)data + 13, 16, body_size_r) < 0)
		return corrupted(error_r, "msg header has invalid size");
	return 0;
}

void dbox_metadata_add(struct dbox_metadata *md, char key, const char *value)
{
	md->items = dbox_realloc(md->items,
				 (md->count + 1) * sizeof(*md->items));
	md->items[md->count].key = key;
	md->items[md->count].value = dbox_strdup(value);
	md->count++;
}

int dbox_metadata_parse(const unsigned char *data, size_t size,
			struct dbox_metadata *md_r, size_t *consumed_r,
			const char **error_r)
{
	const unsigned char *p, *nl, *end;

	memset(md_r, 0, sizeof(*md_r));
	if (size < DBOX_MAGIC_POST_LEN ||
	    memcmp(data, DBOX_MAGIC_POST, DBOX_MAGIC_POST_LEN) != 0)
		return corrupted(error_r, "metadata header has bad magic value");
	if (size > DBOX_METADATA_MAX)
		size = DBOX_METADATA_MAX;
	end = data + size;
	for (p = data + DBOX_MAGIC_POST_LEN; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;
		/* an empty line ends the block; so does a v1 ' ' line */
		if (nl == p || *p == ' ') {
			*consumed_r = (size_t)(nl + 1 - data);
			return 0;
		}
		{
			char *value = dbox_strndup((const char *)p + 1,
						   (size_t)(nl - p - 1));

			dbox_metadata_add(md_r, (char)*p, value);
			free(value);
		}
	}
	dbox_metadata_free(md_r);
	return corrupted(error_r, "metadata block has no end");
}

const char *dbox_metadata_get(const struct dbox_metadata *md, char key)
{
	unsigned int i;

	for (i = 0; i < md->count; i++) {
		if (md->items[i].key == key)
			return md->items[i].value;
	}
	return NULL;
}

void dbox_metadata_write(struct dbox_buf *buf, const struct dbox_metadata *md)
{
	unsigned int i;

	dbox_buf_append(buf, DBOX_MAGIC_POST, DBOX_MAGIC_POST_LEN);
	for (i = 0; i < md->count; i++)
		dbox_buf_printf(buf, "%c%s\n", md->items[i].key,
				md->items[i].value);
	dbox_buf_append(buf, "\n", 1);
}

void dbox_metadata_free(struct dbox_metadata *md)
{
	unsigned int i;

	for (i = 0; i < md->count; i++)
		free(md->items[i].value);
	free(md->items);
	memset(md, 0, sizeof(*md));
}

int dbox_file_parse_msg(const unsigned char *file, size_t file_size,
			uint64_t offset, uint32_t msg_header_size,
			struct dbox_parsed_msg *msg_r, const char **error_r)
{
	uint64_t body_size, md_offset;
	size_t consumed;

	memset(msg_r, 0, sizeof(*msg_r));
	if (offset > file_size)
		return corrupted(error_r, "message offset beyond end of file");
	if (dbox_msg_header_parse(file + offset, file_size - offset,
				  msg_header_size, &body_size, error_r) < 0)
		return -1;
	md_offset = offset + msg_header_size + body_size;
	if (body_size > file_size || md_offset > file_size)
		return corrupted(error_r, "message extends beyond end of file");
	if (dbox_metadata_parse(file + md_offset, file_size - md_offset,
				&msg_r->md, &consumed, error_r) < 0)
		return -1;
	msg_r->offset = offset;
	msg_r->body_offset = offset + msg_header_size;
	msg_r->body_size = body_size;
	msg_r->total_size = md_offset + consumed - offset;
	return 0;
}
