/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event loop of a dboxd process: file descriptor readiness and timers.
 *
 * Two backends behind one ops table:
 *   uring  one io_uring per process (liburing): a one-shot POLL_ADD per
 *          watched descriptor, armed again when it fires, whose request
 *          context (struct loop_poll) is packed into user_data; timers by
 *          the wait timeout. (Not multishot: see loop-uring.c.)
 *   epoll  level-triggered epoll, the fallback where io_uring is refused
 *          (ENOSYS, EPERM from kernel.io_uring_disabled or seccomp, or
 *          ENOMEM from RLIMIT_MEMLOCK on older kernels).
 * AUTO tries uring then epoll and says why it fell back. The worker uses
 * AUTO (one ring per worker); the other roles use epoll.
 *
 * Readiness contract, the same for both backends: a callback for READ must
 * either read until EAGAIN or drop READ from the events it watches; setting
 * the events again re-checks readiness at once. (Code following this rule
 * does not depend on whether a backend reports edges or levels.)
 *
 * Callbacks may add and remove any io or timer, including their own.
 */
#ifndef DBOXD_LOOP_H
#define DBOXD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct dboxd_loop;
struct dboxd_io;
struct dboxd_timer;

enum dboxd_loop_backend {
	DBOXD_LOOP_AUTO,
	DBOXD_LOOP_URING,
	DBOXD_LOOP_EPOLL,
};

#define DBOXD_IO_READ	0x1
#define DBOXD_IO_WRITE	0x2
/* Reported only: hang-up or error on the descriptor. */
#define DBOXD_IO_ERROR	0x4

typedef void dboxd_io_cb_t(void *context, unsigned int events);
typedef void dboxd_timer_cb_t(void *context);

int dboxd_loop_create(enum dboxd_loop_backend backend,
		      struct dboxd_loop **loop_r, const char **error_r);
void dboxd_loop_destroy(struct dboxd_loop **loop);
enum dboxd_loop_backend dboxd_loop_get_backend(const struct dboxd_loop *loop);
const char *dboxd_loop_backend_name(enum dboxd_loop_backend backend);
/* Why AUTO fell back to epoll, or NULL. */
const char *dboxd_loop_fallback_reason(const struct dboxd_loop *loop);
int dboxd_loop_backend_parse(const char *name,
			     enum dboxd_loop_backend *backend_r);

/* Run until dboxd_loop_stop(). Returns 0, or -1 on a loop failure. */
int dboxd_loop_run(struct dboxd_loop *loop);
void dboxd_loop_stop(struct dboxd_loop *loop);
/* Wait for and handle one round of events; timeout in ms, -1 forever. */
int dboxd_loop_run_once(struct dboxd_loop *loop, int timeout_msecs);
/*
 * Work the loop must do before it sleeps, for a library with its own
 * completion queue (the storage's dbox_io: requests queued but not yet
 * submitted, or completions whose callbacks have not run, make no
 * descriptor readable). Called once per round before waiting; returns true
 * when it has more to do, and the round then does not sleep. One hook per
 * loop; NULL removes it.
 */
typedef bool dboxd_loop_work_cb_t(void *context);
void dboxd_loop_set_work(struct dboxd_loop *loop, dboxd_loop_work_cb_t *cb,
			 void *context);

/*
 * One ring per worker: another user of the process (the storage's dbox_io)
 * may submit into the uring backend's ring. Its requests carry user_data
 * with the low bit set; the loop hands their completions to cb (which must
 * not run callbacks of its own, only note the completion). The other user,
 * when it reaps the ring itself while waiting, hands the loop's completions
 * back through dboxd_loop_uring_foreign_cqe(), and the loop dispatches them
 * in its next round. NULL for the epoll backend.
 */
#define DBOXD_LOOP_UD_FOREIGN 1ULL
typedef void dboxd_loop_cqe_cb_t(void *context, uint64_t user_data,
				 int32_t res);
struct io_uring *dboxd_loop_share_uring(struct dboxd_loop *loop,
					dboxd_loop_cqe_cb_t *cb,
					void *context);
/* The foreign_cqe callback for dbox_io_settings (context: the loop). */
void dboxd_loop_uring_foreign_cqe(void *loop, uint64_t user_data,
				  int32_t res, uint32_t flags);

/* Milliseconds of CLOCK_MONOTONIC, as the loop sees it. */
uint64_t dboxd_loop_now_msecs(void);

struct dboxd_io *dboxd_io_add(struct dboxd_loop *loop, int fd,
			      unsigned int events, dboxd_io_cb_t *cb,
			      void *context);
void dboxd_io_set_events(struct dboxd_io *io, unsigned int events);
unsigned int dboxd_io_get_events(const struct dboxd_io *io);
/* Stops watching; the descriptor is not closed, and must still be open
   (close or pass it away only after this). NULL is fine. */
void dboxd_io_remove(struct dboxd_io **io);

/* One-shot timer. */
struct dboxd_timer *dboxd_timer_add(struct dboxd_loop *loop,
				    unsigned int msecs, dboxd_timer_cb_t *cb,
				    void *context);
void dboxd_timer_remove(struct dboxd_timer **timer);
/* Restart an armed or expired timer with a new delay. */
void dboxd_timer_reset(struct dboxd_timer *timer, unsigned int msecs);

#endif
