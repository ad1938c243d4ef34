// SPDX-License-Identifier: GPL-2.0-or-later
/* Adding, removing and listing the members of a group. */
#include <stdlib.h>
#include <string.h>

#include "lib-private.h"

static int member_cmd(struct ksmg_group *group, unsigned long request,
		      pid_t pid)
{
	struct ksmg_member_cmd cmd;

	if (ksmg_group_check(group) < 0)
		return -1;
	if (pid <= 0) {
		errno = EINVAL;
		return -1;
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	cmd.pid = pid;
	return ksmg_ioctl(group, request, &cmd);
}

KSMG_EXPORT int ksmg_group_add_member(struct ksmg_group *group, pid_t pid)
{
	return member_cmd(group, KSMG_IOC_ADD_MEMBER, pid);
}

KSMG_EXPORT int ksmg_group_remove_member(struct ksmg_group *group, pid_t pid)
{
	return member_cmd(group, KSMG_IOC_REMOVE_MEMBER, pid);
}

/* One LIST_MEMBERS call into a buffer of room entries. */
static int list_once(struct ksmg_group *group, __s32 *buf, unsigned int room,
		     unsigned int *count_r)
{
	struct ksmg_list_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	cmd.count = room;
	cmd.pids = (__u64)(uintptr_t)buf;
	if (ksmg_ioctl(group, KSMG_IOC_LIST_MEMBERS, &cmd) < 0)
		return -1;
	*count_r = cmd.count;
	return 0;
}

KSMG_EXPORT int ksmg_group_list_members(struct ksmg_group *group,
					pid_t **pids_r, unsigned int *count_r)
{
	unsigned int room = 64, count, i;
	__s32 *buf = NULL, *bigger;
	pid_t *pids;

	if (ksmg_group_check(group) < 0)
		return -1;
	if (pids_r == NULL || count_r == NULL) {
		errno = EINVAL;
		return -1;
	}
	/* Members may join between two calls: grow until everything fits. */
	for (;;) {
		bigger = realloc(buf, room * sizeof(*buf));
		if (bigger == NULL)
			goto free_buf;
		buf = bigger;
		if (list_once(group, buf, room, &count) < 0)
			goto free_buf;
		if (count <= room)
			break;
		if (count > KSMG_MAX_MEMBERS) {
			/* The kernel promised never to hold more. */
			errno = EPROTO;
			goto free_buf;
		}
		room = count + 16;
	}
	if (count == 0) {
		free(buf);
		*pids_r = NULL;
		*count_r = 0;
		return 0;
	}
	/* pid_t is int on Linux, but copy rather than assume the layout. */
	pids = malloc(count * sizeof(*pids));
	if (pids == NULL)
		goto free_buf;
	for (i = 0; i < count; i++)
		pids[i] = buf[i];
	free(buf);
	*pids_r = pids;
	*count_r = count;
	return 0;

free_buf:
	{
		int saved_errno = errno;

		free(buf);
		errno = saved_errno;
	}
	return -1;
}
