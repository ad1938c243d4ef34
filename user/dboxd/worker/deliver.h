/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Saving a delivered message (LMTP in a worker, and `dboxd -d`). */
#ifndef DBOXD_DELIVER_H
#define DBOXD_DELIVER_H

#include <stdint.h>

#include "buf.h"
#include "dbox.h"

/* Append what fd holds (from its start) to msg; more than max bytes is an
   error (DBOX_ERROR_LIMIT-like: *error_r says "too large"). */
int imap_deliver_read_fd(int fd, struct dboxd_buf *msg, uint64_t max,
			 const char **error_r);
/* Save msg (any line ends; stored as CRLF) into mailbox, or INBOX if that
   mailbox does not exist. Needs imap_storage_open() first. */
int imap_deliver(const struct dboxd_buf *msg, const char *mailbox,
		 const char **error_r);
/* The same without waiting (LMTP into a running worker): the append runs
   on the storage's io and cb(context, result) runs once, later, from
   dbox_io_run() -- never from inside this call, and no storage calls are
   allowed in it. msg is copied. -1 with *error_r (cb not called) when the
   delivery could not start. */
int imap_deliver_start(const struct dboxd_buf *msg, const char *mailbox,
		       dbox_op_callback_t *cb, void *context,
		       const char **error_r);

#endif
