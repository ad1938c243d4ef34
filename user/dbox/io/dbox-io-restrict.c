// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Opcode restrictions for an io_uring: a process's seccomp filter never
 * sees io_uring requests (they are not system calls), so without them code
 * that took over the process could openat, connect or socket through its
 * ring whatever its filter says. A ring created with IORING_SETUP_R_DISABLED
 * is given the list of the only operations it will carry, then enabled;
 * anything else completes with EACCES.
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <liburing.h>

#include "dbox-io.h"

/* What dbox-io submits: file I/O, and TIMEOUT/NOP for its test delays and
   wake-ups. */
static const uint8_t storage_ops[] = {
	IORING_OP_READ, IORING_OP_WRITE, IORING_OP_FSYNC, IORING_OP_TIMEOUT,
	IORING_OP_NOP,
};

int dbox_io_restrict_ring(struct io_uring *ring, const uint8_t *extra_ops,
			  unsigned int extra_count)
{
	struct io_uring_restriction res[IORING_OP_LAST + 1];
	unsigned int n = 0;

	if (extra_count > IORING_OP_LAST - sizeof(storage_ops))
		return -EINVAL;
	memset(res, 0, sizeof(res));
	for (size_t i = 0; i < sizeof(storage_ops); i++, n++) {
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n].sqe_op = storage_ops[i];
	}
	for (unsigned int i = 0; i < extra_count; i++, n++) {
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n].sqe_op = extra_ops[i];
	}
	/* The one registration left: the read-only opcode probe that
	   dbox_io_create_on_ring() makes. */
	res[n].opcode = IORING_RESTRICTION_REGISTER_OP;
	res[n++].register_op = IORING_REGISTER_PROBE;
	/* Debian's liburing 2.3 declares io_uring_register_restrictions()
	   and io_uring_enable_rings() but does not export them. */
	if (syscall(__NR_io_uring_register, ring->ring_fd,
		    IORING_REGISTER_RESTRICTIONS, res, n) < 0 ||
	    syscall(__NR_io_uring_register, ring->ring_fd,
		    IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0)
		return -errno;
	return 0;
}
