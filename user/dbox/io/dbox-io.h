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
 * refuses with EDEADLK) nor the synchronous dbox storage functions, which
 * run the loop themselves.
 */
#ifndef DBOX_IO_H
#define DBOX_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dbox_io;

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

int dbox_io_create(const struct dbox_io_settings *set, struct dbox_io **io_r,
		   const char **error_r);
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
/* A file descriptor that becomes readable when dbox_io_run() has work (the
   ring fd), or -1 for the sync backend, whose work is always ready. */
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
/* Run the loop until the group is done. Returns 0, or -1 with errno set to
   the first error of the group. Other requests' callbacks run meanwhile. */
int dbox_io_group_wait(struct dbox_io *io, struct dbox_io_group *group);

#endif
