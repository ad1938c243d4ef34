/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Between loop.c and its backends. */
#ifndef DBOXD_LOOP_PRIVATE_H
#define DBOXD_LOOP_PRIVATE_H

#include "loop.h"

struct dboxd_io {
	struct dboxd_loop *loop;
	int fd;
	unsigned int events;
	dboxd_io_cb_t *cb;
	void *context;
	/* backend state: the armed poll request (uring) */
	void *backend_req;
	/* removed during a round: freed when the round ends */
	bool removed;
	struct dboxd_io *next_removed;
};

struct dboxd_timer {
	struct dboxd_loop *loop;
	uint64_t due;
	dboxd_timer_cb_t *cb;
	void *context;
	unsigned int heap_idx;	/* UINT32_MAX when not armed */
};

struct loop_backend_ops {
	enum dboxd_loop_backend backend;
	int (*init)(struct dboxd_loop *loop, const char **error_r);
	void (*deinit)(struct dboxd_loop *loop);
	int (*io_add)(struct dboxd_io *io);
	void (*io_update)(struct dboxd_io *io, unsigned int old_events);
	void (*io_remove)(struct dboxd_io *io);
	/* Wait up to timeout_msecs and dispatch through dboxd_loop_io_ready(). */
	int (*wait)(struct dboxd_loop *loop, int timeout_msecs);
	/* uring only (NULL for epoll): see dboxd_loop_share_uring() */
	struct io_uring *(*share)(struct dboxd_loop *loop,
				  dboxd_loop_cqe_cb_t *cb, void *context);
	void (*foreign_cqe)(struct dboxd_loop *loop, uint64_t user_data,
			    int32_t res, uint32_t flags);
};

struct dboxd_loop {
	const struct loop_backend_ops *ops;
	void *backend;
	const char *fallback_reason;
	bool stop;
	struct dboxd_timer **heap;
	unsigned int heap_count, heap_size;
	struct dboxd_io *removed;
	dboxd_loop_work_cb_t *work_cb;
	void *work_context;
};

extern const struct loop_backend_ops dboxd_loop_epoll_ops;
extern const struct loop_backend_ops dboxd_loop_uring_ops;

/* Called by backends for each ready descriptor. */
void dboxd_loop_io_ready(struct dboxd_io *io, unsigned int events);

#endif
