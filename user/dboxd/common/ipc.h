/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Typed, length-checked messages between dboxd processes (OpenSMTPD's
 * mproc, smaller): one SOCK_SEQPACKET socketpair per parent/child pair, one
 * datagram per message, at most one file descriptor passed with it.
 *
 * Wire form: struct dboxd_ipc_hdr, then the payload, a sequence of fields
 * written by the dboxd_ipc_put_*() functions and read back in the same
 * order by dboxd_ipc_get_*(): u32 and u64 in host order (both ends are the
 * same binary on the same host), strings as u32 length + bytes + NUL, byte
 * blobs as u32 length + bytes.
 *
 * Every message type is declared in ipc-msgs.c with its maximum length and
 * whether it carries a descriptor; each endpoint lists the types it accepts
 * with a handler. A message that is truncated, too long, of a type the
 * endpoint does not accept, with a missing or unexpected descriptor, with a
 * string that is not NUL-terminated or holds a NUL, or with bytes left over
 * after its handler read its fields is malformed: the endpoint stops reading
 * and calls its on_error callback, which ends the peer (the master kills the
 * child; a child exits). Nothing is ever guessed.
 */
#ifndef DBOXD_IPC_H
#define DBOXD_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ipc-msgs.h"

struct dboxd_loop;
struct dboxd_ipc;

struct dboxd_ipc_hdr {
	uint32_t type;		/* enum dboxd_ipc_type */
	uint32_t len;		/* payload bytes after the header */
};

/* A message being built. */
struct dboxd_ipc_msg {
	struct dboxd_buf buf;
};

/* A message being read; error is set by the first failed get. */
struct dboxd_ipc_reader {
	const unsigned char *p;
	size_t left;
	bool error;
};

/* Returns 0, or -1 if the message is malformed (fatal for the peer). fd is
   the received descriptor or -1; the handler owns it. */
typedef int dboxd_ipc_handler_t(void *context, struct dboxd_ipc_reader *r,
				int fd);

struct dboxd_ipc_handler {
	enum dboxd_ipc_type type;	/* 0 ends the table */
	dboxd_ipc_handler_t *handle;
};

/* reason: why the channel ended (peer closed, malformed message, I/O
   error). The endpoint is unusable afterwards; destroy it. */
typedef void dboxd_ipc_error_cb_t(void *context, const char *reason);

struct dboxd_ipc *dboxd_ipc_create(struct dboxd_loop *loop, int fd,
				   const char *peer_name,
				   const struct dboxd_ipc_handler *handlers,
				   dboxd_ipc_error_cb_t *on_error,
				   void *context);
/* Closes the socket; queued messages are dropped. NULL is fine. */
void dboxd_ipc_destroy(struct dboxd_ipc **ipc);
int dboxd_ipc_fd(const struct dboxd_ipc *ipc);
const char *dboxd_ipc_peer_name(const struct dboxd_ipc *ipc);
/* Write out queued messages, blocking; for a process about to exit. */
void dboxd_ipc_flush_blocking(struct dboxd_ipc *ipc);

/* secret: the payload carries a password; build it in secret memory. */
void dboxd_ipc_msg_init(struct dboxd_ipc_msg *msg, enum dboxd_ipc_type type,
			bool secret);
void dboxd_ipc_put_u32(struct dboxd_ipc_msg *msg, uint32_t value);
void dboxd_ipc_put_u64(struct dboxd_ipc_msg *msg, uint64_t value);
void dboxd_ipc_put_str(struct dboxd_ipc_msg *msg, const char *str);
void dboxd_ipc_put_bytes(struct dboxd_ipc_msg *msg, const void *data,
			 size_t len);
/* Queue the message (consumed) with fd (-1 for none; passed and then
   closed here). A message over its type's limit is a bug: fatal. */
void dboxd_ipc_send(struct dboxd_ipc *ipc, struct dboxd_ipc_msg *msg, int fd);
/* A message with no payload. */
void dboxd_ipc_send_empty(struct dboxd_ipc *ipc, enum dboxd_ipc_type type);

uint32_t dboxd_ipc_get_u32(struct dboxd_ipc_reader *r);
uint64_t dboxd_ipc_get_u64(struct dboxd_ipc_reader *r);
/* Never NULL: "" after an error. */
const char *dboxd_ipc_get_str(struct dboxd_ipc_reader *r);
const void *dboxd_ipc_get_bytes(struct dboxd_ipc_reader *r, size_t *len_r);
/* 0 if every field was read and nothing is left over. */
int dboxd_ipc_get_end(struct dboxd_ipc_reader *r);

/* For a child after fork: the socket without an endpoint. */
struct dboxd_ipc_pair {
	int parent_fd;
	int child_fd;
};
int dboxd_ipc_pair_create(struct dboxd_ipc_pair *pair, const char **error_r);

#endif
