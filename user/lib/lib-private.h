/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libksmgroup internals shared by its source files; not installed. */
#ifndef KSMG_LIB_PRIVATE_H
#define KSMG_LIB_PRIVATE_H

#include <errno.h>
#include <sys/ioctl.h>

#include "ksmgroup.h"

/* Only the ksmg_ functions marked so leave the shared object. */
#define KSMG_EXPORT __attribute__((visibility("default")))

struct ksmg_group {
	int fd;
	struct ksmg_info info;
};

/* Every entry point starts here, so that a NULL group is EINVAL. */
static inline int ksmg_group_check(const struct ksmg_group *group)
{
	if (group == NULL || group->fd < 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* ioctl() returning 0/-1; the ksmgroup ioctls return 0 on success. */
static inline int ksmg_ioctl(const struct ksmg_group *group,
			     unsigned long request, void *arg)
{
	return ioctl(group->fd, request, arg) < 0 ? -1 : 0;
}

#endif /* KSMG_LIB_PRIVATE_H */
