// SPDX-License-Identifier: GPL-2.0-or-later
/* The uAPI's errno contract in words, shared by every ksmgroup tool. */
#include <string.h>

#include "lib-private.h"

struct errno_text {
	int errnum;
	const char *text;
};

static const struct errno_text errno_texts[] = {
	{ ENOTTY, "not a ksmgroup request (wrong device or module too old)" },
	{ EINVAL, "invalid argument (unknown flag or policy, reserved field set, or value out of range)" },
	{ E2BIG, "the running module does not know this request's newer fields" },
	{ EFAULT, "bad address" },
	{ EOPNOTSUPP, "the running kernel cannot do this" },
	{ EPERM, "permission denied: the caller could not ptrace the process" },
	{ EACCES, "permission denied" },
	{ ESRCH, "no such process, no address space, or not a member of this group" },
	{ EEXIST, "the process is already a member of this group" },
	{ EBUSY, "the process is a member of another group" },
	{ ENOSPC, "the group is full" },
	{ ENOMEM, "out of memory" },
	{ EINTR, "interrupted by a fatal signal; nothing was changed" },
	{ EPROTONOSUPPORT, "the module speaks an API version this library does not know" },
};

KSMG_EXPORT const char *ksmg_strerror(int errnum)
{
	size_t i;

	for (i = 0; i < sizeof(errno_texts) / sizeof(errno_texts[0]); i++) {
		if (errno_texts[i].errnum == errnum)
			return errno_texts[i].text;
	}
	return strerror(errnum);
}
