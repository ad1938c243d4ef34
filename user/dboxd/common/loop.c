// SPDX-License-Identifier: GPL-2.0-or-later
/* Event loop core: backend choice, io bookkeeping and timers (a binary heap
   ordered by due time). See loop.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "loop-private.h"

#define TIMER_UNARMED UINT32_MAX

uint64_t dboxd_loop_now_msecs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *dboxd_loop_backend_name(enum dboxd_loop_backend backend)
{
	switch (backend) {
	case DBOXD_LOOP_AUTO:
		return "auto";
	case DBOXD_LOOP_URING:
		return "io_uring";
	case DBOXD_LOOP_EPOLL:
		return "epoll";
	}
	return "?";
}

int dboxd_loop_backend_parse(const char *name,
			     enum dboxd_loop_backend *backend_r)
{
	if (strcasecmp(name, "auto") == 0)
		*backend_r = DBOXD_LOOP_AUTO;
	else if (strcasecmp(name, "uring") == 0 ||
		 strcasecmp(name, "io_uring") == 0)
		*backend_r = DBOXD_LOOP_URING;
	else if (strcasecmp(name, "epoll") == 0)
		*backend_r = DBOXD_LOOP_EPOLL;
	else
		return -1;
	return 0;
}

int dboxd_loop_create(enum dboxd_loop_backend backend,
		      struct dboxd_loop **loop_r, const char **error_r)
{
	struct dboxd_loop *loop = calloc(1, sizeof(*loop));
	const char *uring_error = NULL;

	if (loop == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	if (backend != DBOXD_LOOP_EPOLL) {
		loop->ops = &dboxd_loop_uring_ops;
		if (loop->ops->init(loop, &uring_error) == 0)
			goto done;
		if (backend == DBOXD_LOOP_URING) {
			*error_r = uring_error;
			goto free_loop;
		}
		loop->fallback_reason = uring_error;
	}
	loop->ops = &dboxd_loop_epoll_ops;
	if (loop->ops->init(loop, error_r) < 0)
		goto free_loop;
done:
	*loop_r = loop;
	return 0;

free_loop:
	free(loop);
	return -1;
}

static void loop_free_removed(struct dboxd_loop *loop)
{
	while (loop->removed != NULL) {
		struct dboxd_io *io = loop->removed;

		loop->removed = io->next_removed;
		free(io);
	}
}

void dboxd_loop_destroy(struct dboxd_loop **_loop)
{
	struct dboxd_loop *loop = *_loop;

	if (loop == NULL)
		return;
	*_loop = NULL;
	loop->ops->deinit(loop);
	loop_free_removed(loop);
	for (unsigned int i = 0; i < loop->heap_count; i++)
		loop->heap[i]->heap_idx = TIMER_UNARMED;
	free(loop->heap);
	free(loop);
}

enum dboxd_loop_backend dboxd_loop_get_backend(const struct dboxd_loop *loop)
{
	return loop->ops->backend;
}

const char *dboxd_loop_fallback_reason(const struct dboxd_loop *loop)
{
	return loop->fallback_reason;
}

/* ---- io ----------------------------------------------------------------- */

struct dboxd_io *dboxd_io_add(struct dboxd_loop *loop, int fd,
			      unsigned int events, dboxd_io_cb_t *cb,
			      void *context)
{
	struct dboxd_io *io = calloc(1, sizeof(*io));

	if (io == NULL)
		dboxd_fatal("out of memory");
	io->loop = loop;
	io->fd = fd;
	io->events = events & (DBOXD_IO_READ | DBOXD_IO_WRITE);
	io->cb = cb;
	io->context = context;
	if (loop->ops->io_add(io) < 0)
		dboxd_fatal("cannot watch fd %d: %m", fd);
	return io;
}

void dboxd_io_set_events(struct dboxd_io *io, unsigned int events)
{
	unsigned int old = io->events;

	events &= DBOXD_IO_READ | DBOXD_IO_WRITE;
	if (events == old)
		return;
	io->events = events;
	io->loop->ops->io_update(io, old);
}

unsigned int dboxd_io_get_events(const struct dboxd_io *io)
{
	return io->events;
}

void dboxd_io_remove(struct dboxd_io **_io)
{
	struct dboxd_io *io = *_io;

	if (io == NULL)
		return;
	*_io = NULL;
	io->loop->ops->io_remove(io);
	/* Events of this round may still name it: free after the round. */
	io->removed = true;
	io->next_removed = io->loop->removed;
	io->loop->removed = io;
}

void dboxd_loop_io_ready(struct dboxd_io *io, unsigned int events)
{
	if (io->removed)
		return;
	/* Report only what is watched, plus errors. */
	if ((events & DBOXD_IO_ERROR) == 0)
		events &= io->events;
	if (events == 0)
		return;
	io->cb(io->context, events);
}

/* ---- timers ------------------------------------------------------------- */

static void heap_swap(struct dboxd_loop *loop, unsigned int a, unsigned int b)
{
	struct dboxd_timer *t = loop->heap[a];

	loop->heap[a] = loop->heap[b];
	loop->heap[b] = t;
	loop->heap[a]->heap_idx = a;
	loop->heap[b]->heap_idx = b;
}

static void heap_up(struct dboxd_loop *loop, unsigned int i)
{
	while (i > 0) {
		unsigned int parent = (i - 1) / 2;

		if (loop->heap[parent]->due <= loop->heap[i]->due)
			break;
		heap_swap(loop, i, parent);
		i = parent;
	}
}

static void heap_down(struct dboxd_loop *loop, unsigned int i)
{
	for (;;) {
		unsigned int l = 2 * i + 1, r = l + 1, min = i;

		if (l < loop->heap_count &&
		    loop->heap[l]->due < loop->heap[min]->due)
			min = l;
		if (r < loop->heap_count &&
		    loop->heap[r]->due < loop->heap[min]->due)
			min = r;
		if (min == i)
			break;
		heap_swap(loop, i, min);
		i = min;
	}
}

static void timer_arm(struct dboxd_timer *timer, unsigned int msecs)
{
	struct dboxd_loop *loop = timer->loop;

	timer->due = dboxd_loop_now_msecs() + msecs;
	if (loop->heap_count == loop->heap_size) {
		loop->heap_size = loop->heap_size == 0 ? 16 :
				  loop->heap_size * 2;
		loop->heap = realloc(loop->heap,
				     loop->heap_size * sizeof(*loop->heap));
		if (loop->heap == NULL)
			dboxd_fatal("out of memory");
	}
	timer->heap_idx = loop->heap_count;
	loop->heap[loop->heap_count++] = timer;
	heap_up(loop, timer->heap_idx);
}

static void timer_disarm(struct dboxd_timer *timer)
{
	struct dboxd_loop *loop = timer->loop;
	unsigned int i = timer->heap_idx;

	if (i == TIMER_UNARMED)
		return;
	timer->heap_idx = TIMER_UNARMED;
	loop->heap_count--;
	if (i == loop->heap_count)
		return;
	loop->heap[i] = loop->heap[loop->heap_count];
	loop->heap[i]->heap_idx = i;
	heap_down(loop, i);
	heap_up(loop, i);
}

struct dboxd_timer *dboxd_timer_add(struct dboxd_loop *loop,
				    unsigned int msecs, dboxd_timer_cb_t *cb,
				    void *context)
{
	struct dboxd_timer *timer = calloc(1, sizeof(*timer));

	if (timer == NULL)
		dboxd_fatal("out of memory");
	timer->loop = loop;
	timer->cb = cb;
	timer->context = context;
	timer->heap_idx = TIMER_UNARMED;
	timer_arm(timer, msecs);
	return timer;
}

void dboxd_timer_remove(struct dboxd_timer **_timer)
{
	struct dboxd_timer *timer = *_timer;

	if (timer == NULL)
		return;
	*_timer = NULL;
	timer_disarm(timer);
	free(timer);
}

void dboxd_timer_reset(struct dboxd_timer *timer, unsigned int msecs)
{
	timer_disarm(timer);
	timer_arm(timer, msecs);
}

/* Milliseconds until the first timer, capped by timeout (-1 = none). */
static int loop_wait_time(struct dboxd_loop *loop, int timeout)
{
	uint64_t now;
	uint64_t left;

	if (loop->heap_count == 0)
		return timeout;
	now = dboxd_loop_now_msecs();
	left = loop->heap[0]->due > now ? loop->heap[0]->due - now : 0;
	if (left > 24 * 3600 * 1000)
		left = 24 * 3600 * 1000;
	if (timeout >= 0 && (uint64_t)timeout < left)
		return timeout;
	return (int)left;
}

static void loop_run_timers(struct dboxd_loop *loop)
{
	uint64_t now = dboxd_loop_now_msecs();
	unsigned int budget = loop->heap_count;

	/* A callback may re-arm its own timer for "now": run at most the
	   timers that existed when we started. */
	while (budget-- > 0 && loop->heap_count > 0 &&
	       loop->heap[0]->due <= now && !loop->stop) {
		struct dboxd_timer *timer = loop->heap[0];

		timer_disarm(timer);
		timer->cb(timer->context);
	}
}

struct io_uring *dboxd_loop_share_uring(struct dboxd_loop *loop,
					dboxd_loop_cqe_cb_t *cb,
					void *context)
{
	if (loop->ops->share == NULL)
		return NULL;
	return loop->ops->share(loop, cb, context);
}

void dboxd_loop_uring_foreign_cqe(void *context, uint64_t user_data,
				  int32_t res, uint32_t flags)
{
	struct dboxd_loop *loop = context;

	loop->ops->foreign_cqe(loop, user_data, res, flags);
}

void dboxd_loop_set_work(struct dboxd_loop *loop, dboxd_loop_work_cb_t *cb,
			 void *context)
{
	loop->work_cb = cb;
	loop->work_context = context;
}

int dboxd_loop_run_once(struct dboxd_loop *loop, int timeout_msecs)
{
	int ret;

	/* A stop asked for in an earlier round is for dboxd_loop_run();
	   this round runs in full. */
	loop->stop = false;
	if (loop->work_cb != NULL) {
		/* more work at once: look at descriptors, don't sleep */
		if (loop->work_cb(loop->work_context))
			timeout_msecs = 0;
		loop_free_removed(loop);
	}
	ret = loop->ops->wait(loop, loop_wait_time(loop, timeout_msecs));
	loop_free_removed(loop);
	if (ret < 0)
		return -1;
	loop_run_timers(loop);
	loop_free_removed(loop);
	return 0;
}

int dboxd_loop_run(struct dboxd_loop *loop)
{
	loop->stop = false;
	while (!loop->stop) {
		if (dboxd_loop_run_once(loop, -1) < 0)
			return -1;
	}
	return 0;
}

void dboxd_loop_stop(struct dboxd_loop *loop)
{
	loop->stop = true;
}
