// SPDX-License-Identifier: GPL-2.0-or-later
/* The epoll backend of the event loop: level-triggered. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"
#include "loop-private.h"

#define EPOLL_BATCH 64

struct loop_epoll {
	int epfd;
};

static uint32_t epoll_mask(unsigned int events)
{
	uint32_t mask = 0;

	if (events & DBOXD_IO_READ)
		mask |= EPOLLIN | EPOLLRDHUP;
	if (events & DBOXD_IO_WRITE)
		mask |= EPOLLOUT;
	return mask;
}

static int epoll_init(struct dboxd_loop *loop, const char **error_r)
{
	struct loop_epoll *ep = calloc(1, sizeof(*ep));

	if (ep == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	ep->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ep->epfd < 0) {
		*error_r = strerror(errno);
		free(ep);
		return -1;
	}
	loop->backend = ep;
	return 0;
}

static void epoll_deinit(struct dboxd_loop *loop)
{
	struct loop_epoll *ep = loop->backend;

	close(ep->epfd);
	free(ep);
}

static int epoll_io_add(struct dboxd_io *io)
{
	struct loop_epoll *ep = io->loop->backend;
	struct epoll_event ev = { .events = epoll_mask(io->events),
				  .data.ptr = io };

	return epoll_ctl(ep->epfd, EPOLL_CTL_ADD, io->fd, &ev);
}

static void epoll_io_update(struct dboxd_io *io,
			    unsigned int old_events __attribute__((unused)))
{
	struct loop_epoll *ep = io->loop->backend;
	struct epoll_event ev = { .events = epoll_mask(io->events),
				  .data.ptr = io };

	if (epoll_ctl(ep->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		dboxd_fatal("epoll_ctl(MOD, %d): %m", io->fd);
}

static void epoll_io_remove(struct dboxd_io *io)
{
	struct loop_epoll *ep = io->loop->backend;

	/* The fd must still be open: a registration belongs to the open
	   file, and one closed (or passed away) first would keep reporting
	   events for an io that is gone. */
	if (epoll_ctl(ep->epfd, EPOLL_CTL_DEL, io->fd, NULL) < 0 &&
	    errno != ENOENT)
		dboxd_fatal("epoll_ctl(DEL, %d): %m (closed before removal?)",
			    io->fd);
}

static int epoll_wait_events(struct dboxd_loop *loop, int timeout_msecs)
{
	struct loop_epoll *ep = loop->backend;
	struct epoll_event events[EPOLL_BATCH];
	int n;

	n = epoll_wait(ep->epfd, events, EPOLL_BATCH, timeout_msecs);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n && !loop->stop; i++) {
		uint32_t e = events[i].events;
		unsigned int ev = 0;

		if (e & (EPOLLIN | EPOLLRDHUP))
			ev |= DBOXD_IO_READ;
		if (e & EPOLLOUT)
			ev |= DBOXD_IO_WRITE;
		if (e & (EPOLLERR | EPOLLHUP))
			ev |= DBOXD_IO_ERROR;
		dboxd_loop_io_ready(events[i].data.ptr, ev);
	}
	return 0;
}

const struct loop_backend_ops dboxd_loop_epoll_ops = {
	.backend = DBOXD_LOOP_EPOLL,
	.init = epoll_init,
	.deinit = epoll_deinit,
	.io_add = epoll_io_add,
	.io_update = epoll_io_update,
	.io_remove = epoll_io_remove,
	.wait = epoll_wait_events,
};
