// SPDX-License-Identifier: GPL-2.0-or-later
/* Keeping a range of the caller's memory out of merging. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib-private.h"

KSMG_EXPORT int ksmg_exclude_self(void *addr, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);

	if (addr == NULL || len == 0 || page <= 0 ||
	    ((uintptr_t)addr & (uintptr_t)(page - 1)) != 0) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * Order matters: VM_DONTDUMP first is what tells the module's sweeps
	 * to leave the mapping alone; if UNMERGEABLE came first a sweep
	 * running in between could mark the range mergeable again.
	 */
	if (madvise(addr, len, MADV_DONTDUMP) < 0)
		return -1;
	return madvise(addr, len, MADV_UNMERGEABLE) < 0 ? -1 : 0;
}
