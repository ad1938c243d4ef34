/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dbox-io: asynchronous file I/O for the dbox storage and its event loop.
 *
 * One struct dbox_io per process (one io_uring per worker, house rule 12).
 * Requests are submitted with a completion callback and complete later,
 * inside dbox_io_run(); a callback is never called from inside the submit
 * function, whichever backend is in use, so callers can rely on one
 * ordering. Two backends:
 *
 *   uring  io_uring through liburing; many requests in flight, which is what
 *          gives FETCH its read-ahead window.
 *   sync   pread/pwrite/fsync performed one after the other inside
 *          dbox_io_run(). Used where io_uring is unavailable (ENOSYS on old
 *          kernels, EPERM with kernel.io_uring_disabled or a seccomp filter).
 *
 * One ring per process: a caller with an io_uring of its own (dboxd's
 * event loop) lets dbox-io submit into it (dbox_io_settings.ring) instead
 * of creating a second one (dbox_io_create_on_ring()). Requests are then
 * told apart by user_data:
 * dbox-io's have the low bit set (DBOX_IO_UD_TAG; the owner's must not,
 * e.g. pointers to malloc'd structs), and whoever reaps the ring hands each
 * completion to its owner: the caller passes tagged ones to
 * dbox_io_uring_cqe(); dbox-io, when it reaps while waiting (group waits,
 * the storage's own waits), passes the others to foreign_cqe, which queues
 * them for the owner's next round. dbox_io_get_fd() is then -1: the owner
 * watches its ring and runs dbox_io_run(io, 0) while dbox_io_has_ready().
 *
 * The backend is chosen once, at dbox_io_create(): AUTO tries io_uring and
 * falls back to sync, logging why. The environment variable DBOX_IO_BACKEND
 * (uring|sync|auto) overrides an AUTO request, which is how the tests run
 * everything once per backend.
 *
 * Reads and writes are "full": the backend resubmits short transfers, so a
 * read completes with the requested length or with fewer bytes only at end of
 * file; a write completes with the full length or an error. Results are the
 * byte count or -errno.
 *
 * Requests in flight run in any order (io_uring does not order them): an
 * fsync that must cover some writes is submitted after those writes have
 * completed.
 *
 * Callbacks may submit new requests. They must not call dbox_io_run() (it
 * refuses with EDEADLK) nor the dbox storage functions.
 *
 * Test knob: DBOX_TEST_FSYNC_DELAY_MS=n (1..60000) in the environment makes
 * the io_uring backend complete every fsync n ms late, through a timeout
 * request on the ring: the fsync itself is done at once and its result is
 * reported unchanged, so only latency changes. tests/imap uses it to prove
 * that an APPEND waiting for its fsync does not stop the worker's other
 * clients. DBOX_TEST_READ_DELAY_MS=n does the same for every read (once per
 * request; the data read is reported unchanged), so tests/imap can prove
 * that a SEARCH reading message bodies does not either. The sync backend
 * ignores both (it would have to sleep).
 */
#ifndef DBOX_IO_H
#define DBOX_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dbox_io;
struct io_uring;

enum dbox_io_backend {
	DBOX_IO_BACKEND_AUTO = 0,
	DBOX_IO_BACKEND_URING,
	DBOX_IO_BACKEND_SYNC,
};

/* result: bytes transferred (>= 0) or -errno. */
typedef void dbox_io_callback_t(void *context, int64_t result);

struct dbox_io_settings {
	enum dbox_io_backend backend;
	/* Submission queue entries for io_uring; 0 means 256. Requests beyond
	   what the ring holds wait in a backlog, they are never refused. */
	unsigned int queue_depth;
	/* Ignore DBOX_IO_BACKEND in the environment. */
	bool ignore_env;
};

/* A caller's io_uring to submit into (see above). */
struct dbox_io_ring {
	struct io_uring *ring;		/* must outlive the dbox_io */
	/* a completion of the owner's that dbox-io reaped: queue it */
	void (*foreign_cqe)(void *context, uint64_t user_data, int32_t res,
			    uint32_t flags);
	void *foreign_context;
};

/* The low bit of dbox-io's user_data on a shared ring. */
#define DBOX_IO_UD_TAG 1ULL
/* A completion of dbox-io's (user_data & DBOX_IO_UD_TAG) that the ring's
   owner reaped. Runs no callback: they run in the next dbox_io_run(). */
void dbox_io_uring_cqe(struct dbox_io *io, uint64_t user_data, int32_t res);

int dbox_io_create(const struct dbox_io_settings *set, struct dbox_io **io_r,
		   const char **error_r);
/* The same, with the io_uring backend on the caller's ring (queue_depth is
   then unused). A sync backend, forced or fallen back to, ignores it. */
int dbox_io_create_on_ring(const struct dbox_io_settings *set,
			   const struct dbox_io_ring *ring,
			   struct dbox_io **io_r, const char **error_r);
/*
 * Seccomp filters do not see io_uring requests. For a ring created with
 * IORING_SETUP_R_DISABLED: allow only the opcodes dbox-io submits plus
 * extra_ops (the owner's, e.g. IORING_OP_POLL_ADD), and of registrations
 * only the opcode probe, then enable the ring. Other requests complete
 * with -EACCES. 0 or -errno. dbox-io's own rings are restricted this way.
 */
int dbox_io_restrict_ring(struct io_uring *ring, const uint8_t *extra_ops,
			  unsigned int extra_count);

/* Requests still in flight are waited for (their callbacks are not called). */
void dbox_io_destroy(struct dbox_io **io);

enum dbox_io_backend dbox_io_get_backend(const struct dbox_io *io);
const char *dbox_io_backend_name(enum dbox_io_backend backend);
/* Why AUTO did not get io_uring, or NULL. */
const char *dbox_io_get_fallback_reason(const struct dbox_io *io);

void dbox_io_read(struct dbox_io *io, int fd, void *buf, size_t len,
		  uint64_t offset, dbox_io_callback_t *cb, void *context);
void dbox_io_write(struct dbox_io *io, int fd, const void *buf, size_t len,
		   uint64_t offset, dbox_io_callback_t *cb, void *context);
void dbox_io_fsync(struct dbox_io *io, int fd, bool datasync,
		   dbox_io_callback_t *cb, void *context);

/* Run completed requests' callbacks. timeout_msecs: 0 polls, -1 waits until
   at least one request completes (returns at once when none is pending).
   Returns the number of callbacks run, or -1 with errno. */
int dbox_io_run(struct dbox_io *io, int timeout_msecs);
unsigned int dbox_io_pending(const struct dbox_io *io);
/* True when dbox_io_run(io, 0) has work it can do at once: requests to
   submit (or, for sync, to perform) or completions whose callbacks have
   not run. An outer loop calls dbox_io_run(io, 0) before it sleeps while
   this is true: a ring fd becomes readable only for kernel completions. */
bool dbox_io_has_ready(const struct dbox_io *io);
/* A file descriptor that becomes readable when dbox_io_run() has work (the
   ring fd), or -1 for the sync backend, whose work is always ready, and for
   a caller's ring, which the caller watches. */
int dbox_io_get_fd(const struct dbox_io *io);

/*
 * A group of requests waited for together: the storage's synchronous
 * operations submit their reads/writes/fsyncs into a group and wait for it.
 * Use dbox_io_group_cb with the group as context.
 */
struct dbox_io_group {
	unsigned int pending;
	int error;		/* first -errno seen, 0 if none */
	uint64_t short_count;	/* reads that hit end of file early */
	uint64_t bytes;		/* transferred by the group's reads/writes */
};
void dbox_io_group_init(struct dbox_io_group *group);
dbox_io_callback_t dbox_io_group_cb;
/* Submit a read/write into the group; short reads count in short_count. */
void dbox_io_group_read(struct dbox_io *io, struct dbox_io_group *group,
			int fd, void *buf, size_t len, uint64_t offset);
void dbox_io_group_write(struct dbox_io *io, struct dbox_io_group *group,
			 int fd, const void *buf, size_t len, uint64_t offset);
void dbox_io_group_fsync(struct dbox_io *io, struct dbox_io_group *group,
			 int fd, bool datasync);
/* Wait until the group is done. Returns 0, or -1 with errno set to the
   first error of the group. No callback runs meanwhile (other requests'
   completions wait for the next dbox_io_run()), so this may be called from
   a callback; it blocks the caller's loop, which is why the storage uses it
   only in its synchronous calls and rare recovery paths. */
int dbox_io_group_wait(struct dbox_io *io, struct dbox_io_group *group);

#endif
