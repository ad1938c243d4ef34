/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared between the I/O core (dbox-io.c) and its two backends.
 *
 * Lifetime: a request is taken from the free list at submit, owned by the
 * backend until it completes, then moved to the done list and given back to
 * the free list after its callback ran. Nothing here is thread-safe: one
 * dbox_io belongs to one thread of one process.
 */
#ifndef DBOX_IO_PRIVATE_H
#define DBOX_IO_PRIVATE_H

#include <linux/time_types.h>

#include "dbox-io.h"

#define ATTR_UNUSED_IO __attribute__((unused))

enum dbox_io_op {
	DBOX_IO_OP_READ,
	DBOX_IO_OP_WRITE,
	DBOX_IO_OP_FSYNC,
	DBOX_IO_OP_FDATASYNC,
	DBOX_IO_OP_NOP,		/* dbox_io_defer(): completes at once */
};

struct dbox_io_req {
	struct dbox_io_req *next;
	enum dbox_io_op op;
	int fd;
	unsigned char *buf;
	size_t len;
	uint64_t offset;
	size_t done;		/* bytes transferred so far */
	int64_t result;		/* set on completion */
	dbox_io_callback_t *cb;
	void *context;
	struct dbox_io_group *group;	/* when submitted into a group */
	/* the storage's own step, safe to run in dbox_io_run_internal() */
	bool internal;
	/* uring, DBOX_TEST_{FSYNC,READ}_DELAY_MS: the fsync (read) is done,
	   a timeout runs before it is handled; result holds its result
	   meanwhile. delayed: once per request (a short read's rest is not
	   delayed again). */
	bool delaying, delayed;
	struct __kernel_timespec delay_ts;
};

struct dbox_io_req_list {
	struct dbox_io_req *head, *tail;
	unsigned int count;
};

struct dbox_io_backend_ops {
	enum dbox_io_backend backend;
	/* returns 0 or -errno; error_r explains a failure */
	int (*init)(struct dbox_io *io, unsigned int depth, const char **error_r);
	void (*deinit)(struct dbox_io *io);
	/* Take requests from io->queued, start them; completed ones are
	   appended to io->done. timeout_msecs as in dbox_io_run(). Returns
	   0 or -errno. */
	int (*process)(struct dbox_io *io, int timeout_msecs);
	int (*get_fd)(const struct dbox_io *io);
};

struct dbox_io {
	const struct dbox_io_backend_ops *ops;
	void *backend;			/* backend private state */
	struct dbox_io_req_list queued;	/* submitted, not yet started */
	struct dbox_io_req_list done;	/* completed, callback not run yet */
	struct dbox_io_req *free_list;
	unsigned int in_flight;		/* started, not yet completed */
	bool in_callbacks;
	char *fallback_reason;
	/* DBOX_TEST_FSYNC_DELAY_MS, DBOX_TEST_READ_DELAY_MS (io_uring
	   only), 0 = off */
	unsigned int fsync_delay_msecs, read_delay_msecs;
	/* a caller's ring to attach to (dbox_io_create_on_ring) */
	struct io_uring *attach_ring;
	void (*foreign_cqe)(void *context, uint64_t user_data, int32_t res,
			    uint32_t flags);
	void *foreign_context;
};

extern const struct dbox_io_backend_ops dbox_io_uring_ops;
extern const struct dbox_io_backend_ops dbox_io_sync_ops;

void dbox_io_req_list_append(struct dbox_io_req_list *list,
			     struct dbox_io_req *req);
struct dbox_io_req *dbox_io_req_list_pop(struct dbox_io_req_list *list);
/* Record a finished request (result set) on io->done. */
void dbox_io_req_complete(struct dbox_io *io, struct dbox_io_req *req,
			  int64_t result);

#endif
