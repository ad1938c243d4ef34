/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dbox file framing, byte-compatible with Dovecot 2.3
 * (src/lib-storage/index/dbox-common/dbox-file.h):
 *
 *   file    := header-line message*            (sdbox: exactly one message)
 *   header-line := "2" (" " key hex)* LF       keys: M msg header size,
 *                                              C create time (UNIX, hex)
 *   message := msg-header body metadata
 *   msg-header (30 bytes) := 0x01 0x02 "N" " " 8*" " " " 16*HEXDIG LF
 *              (the 8 blanks were the v1 uid; the hex is the body size,
 *               zero-padded, upper case as Dovecot's dec2hex writes it)
 *   body    := the message as stored (LF line ends)
 *   metadata := LF 0x01 0x03 LF *(key value LF) LF
 *
 * Metadata keys: G guid, R received (internal) date hex, V virtual size
 * hex, Z physical size hex when it differs from the header's, P POP3 UIDL,
 * O POP3 order, B original mailbox (mdbox), X external refs. Unknown keys
 * are kept in order.
 */
#ifndef DBOX_FILE_H
#define DBOX_FILE_H

#include <stdint.h>

#include "dbox-util.h"

#define DBOX_VERSION 2
#define DBOX_MSG_HEADER_SIZE 30
#define DBOX_MAGIC_PRE "\001\002"
#define DBOX_MAGIC_POST "\n\001\003\n"
#define DBOX_MAGIC_POST_LEN 4
/* Longest file header line we accept: far above anything Dovecot writes. */
#define DBOX_FILE_HEADER_MAX 512
/* Longest metadata block we parse. */
#define DBOX_METADATA_MAX (64 * 1024)

enum dbox_metadata_key {
	DBOX_METADATA_GUID = 'G',
	DBOX_METADATA_POP3_UIDL = 'P',
	DBOX_METADATA_POP3_ORDER = 'O',
	DBOX_METADATA_RECEIVED_TIME = 'R',
	DBOX_METADATA_PHYSICAL_SIZE = 'Z',
	DBOX_METADATA_VIRTUAL_SIZE = 'V',
	DBOX_METADATA_EXT_REF = 'X',
	DBOX_METADATA_ORIG_MAILBOX = 'B',
};

struct dbox_file_header {
	unsigned int version;
	uint32_t msg_header_size;
	int64_t create_stamp;
	size_t header_len;	/* bytes of the header line, LF included */
};

struct dbox_metadata_item {
	char key;
	char *value;
};

struct dbox_metadata {
	struct dbox_metadata_item *items;
	unsigned int count;
};

/* The first line of a file. Fails (CORRUPTED) without a complete line. */
int dbox_file_header_parse(const unsigned char *data, size_t size,
			   struct dbox_file_header *hdr_r,
			   const char **error_r);
void dbox_file_header_write(struct dbox_buf *buf, int64_t create_stamp);

void dbox_msg_header_write(unsigned char out[DBOX_MSG_HEADER_SIZE],
			   uint64_t body_size);
/* size must be at least msg_header_size. */
int dbox_msg_header_parse(const unsigned char *data, size_t size,
			  uint32_t msg_header_size, uint64_t *body_size_r,
			  const char **error_r);

/* Parse a metadata block that starts at data (the magic). *consumed_r is
   the block's length. Fails (CORRUPTED) on bad magic or no end line. */
int dbox_metadata_parse(const unsigned char *data, size_t size,
			struct dbox_metadata *md_r, size_t *consumed_r,
			const char **error_r);
const char *dbox_metadata_get(const struct dbox_metadata *md, char key);
void dbox_metadata_add(struct dbox_metadata *md, char key, const char *value);
/* Magic, the items in order, the final empty line. */
void dbox_metadata_write(struct dbox_buf *buf, const struct dbox_metadata *md);
void dbox_metadata_free(struct dbox_metadata *md);

/* One message parsed out of a file buffer. */
struct dbox_parsed_msg {
	uint64_t offset;	/* of the msg header in the file */
	uint64_t body_offset;
	uint64_t body_size;	/* physical size */
	uint64_t total_size;	/* msg header + body + metadata */
	struct dbox_metadata md;
};

/* Parse the message at offset within a file held in memory. */
int dbox_file_parse_msg(const unsigned char *file, size_t file_size,
			uint64_t offset, uint32_t msg_header_size,
			struct dbox_parsed_msg *msg_r, const char **error_r);

#endif
