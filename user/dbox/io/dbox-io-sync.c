// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The synchronous backend: each queued request is performed with
 * pread/pwrite/fsync when the loop runs. It is the fallback where io_uring
 * is unavailable, and the baseline the benchmark compares against.
 */
#include <errno.h>
#include <unistd.h>

#include "dbox-io-private.h"

/* Larger transfers are split so one request cannot hold the loop for long. */
#define SYNC_MAX_CHUNK (1U << 30)

static int sync_init(struct dbox_io *io ATTR_UNUSED_IO,
		     unsigned int depth ATTR_UNUSED_IO,
		     const char **error_r ATTR_UNUSED_IO)
{
	return 0;
}

static void sync_deinit(struct dbox_io *io ATTR_UNUSED_IO)
{
}

static int64_t sync_transfer(struct dbox_io_req *req)
{
	ssize_t ret;
	size_t chunk;

	while (req->done < req->len) {
		chunk = req->len - req->done;
		if (chunk > SYNC_MAX_CHUNK)
			chunk = SYNC_MAX_CHUNK;
		if (req->op == DBOX_IO_OP_READ)
			ret = pread(req->fd, req->buf + req->done, chunk,
				    (off_t)(req->offset + req->done));
		else
			ret = pwrite(req->fd, req->buf + req->done, chunk,
				     (off_t)(req->offset + req->done));
		if (ret < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (ret == 0) {
			/* end of file for a read; a write that makes no
			   progress would loop forever */
			if (req->op == DBOX_IO_OP_READ)
				break;
			return -EIO;
		}
		req->done += (size_t)ret;
	}
	return (int64_t)req->done;
}

static int64_t sync_perform(struct dbox_io_req *req)
{
	int ret;

	switch (req->op) {
	case DBOX_IO_OP_READ:
	case DBOX_IO_OP_WRITE:
		return sync_transfer(req);
	case DBOX_IO_OP_FSYNC:
		ret = fsync(req->fd);
		break;
	case DBOX_IO_OP_FDATASYNC:
		ret = fdatasync(req->fd);
		break;
	default:
		return -EINVAL;
	}
	return ret < 0 ? -errno : 0;
}

static int sync_process(struct dbox_io *io, int timeout_msecs ATTR_UNUSED_IO)
{
	struct dbox_io_req *req;
	unsigned int count = io->queued.count;

	/* only what was queued on entry: callbacks queue more for next time */
	while (count-- > 0 && (req = dbox_io_req_list_pop(&io->queued)) != NULL)
		dbox_io_req_complete(io, req, sync_perform(req));
	return 0;
}

static int sync_get_fd(const struct dbox_io *io ATTR_UNUSED_IO)
{
	return -1;
}

const struct dbox_io_backend_ops dbox_io_sync_ops = {
	.backend = DBOX_IO_BACKEND_SYNC,
	.init = sync_init,
	.deinit = sync_deinit,
	.process = sync_process,
	.get_fd = sync_get_fd,
};
