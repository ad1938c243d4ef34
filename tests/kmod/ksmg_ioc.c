// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Thin wrappers around the ksmgroup ioctls with well-formed commands. The
 * contract tests (ksmg_uapi.c) build their malformed commands by hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include "ksmg_test.h"

int ksmg_open(void)
{
	return open(KSMG_DEV, O_RDWR | O_CLOEXEC);
}

int ksmg_get_info(int fd, struct ksmg_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return ioctl(fd, KSMG_IOC_GET_INFO, info);
}

int ksmg_group_id(int fd, uint32_t *id_r)
{
	struct ksmg_info info;

	if (ksmg_get_info(fd, &info))
		return -1;
	*id_r = info.group_id;
	return 0;
}

int ksmg_set_name(int fd, const char *name)
{
	struct ksmg_name_cmd cmd = { .size = sizeof(cmd) };

	strncpy(cmd.name, name, sizeof(cmd.name) - 1);
	return ioctl(fd, KSMG_IOC_SET_NAME, &cmd);
}

int ksmg_set_policy(int fd, uint64_t policy, uint32_t sweep_ms)
{
	struct ksmg_policy_cmd cmd = {
		.size = sizeof(cmd),
		.policy = policy,
		.sweep_ms = sweep_ms,
	};

	return ioctl(fd, KSMG_IOC_SET_POLICY, &cmd);
}

int ksmg_add(int fd, pid_t pid)
{
	struct ksmg_member_cmd cmd = { .size = sizeof(cmd), .pid = pid };

	return ioctl(fd, KSMG_IOC_ADD_MEMBER, &cmd);
}

int ksmg_remove(int fd, pid_t pid)
{
	struct ksmg_member_cmd cmd = { .size = sizeof(cmd), .pid = pid };

	return ioctl(fd, KSMG_IOC_REMOVE_MEMBER, &cmd);
}

int ksmg_get_stats(int fd, struct ksmg_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	stats->size = sizeof(*stats);
	return ioctl(fd, KSMG_IOC_GET_STATS, stats);
}

int ksmg_list(int fd, int32_t *pids, uint32_t room, uint32_t *count_r)
{
	struct ksmg_list_cmd cmd = {
		.size = sizeof(cmd),
		.count = room,
		.pids = (uintptr_t)pids,
	};

	if (ioctl(fd, KSMG_IOC_LIST_MEMBERS, &cmd))
		return -1;
	*count_r = cmd.count;
	return 0;
}

int ksmg_sweep(int fd, uint32_t *marked_r)
{
	struct ksmg_sweep_cmd cmd = { .size = sizeof(cmd) };

	if (ioctl(fd, KSMG_IOC_SWEEP, &cmd))
		return -1;
	if (marked_r)
		*marked_r = cmd.vmas_marked;
	return 0;
}

/* Is @pid among the members LIST_MEMBERS reports? */
bool ksmg_list_has(int fd, pid_t pid)
{
	int32_t pids[256];
	uint32_t n, i;

	if (ksmg_list(fd, pids, KSMG_ARRAY_SIZE(pids), &n))
		return false;
	if (n > KSMG_ARRAY_SIZE(pids))
		n = KSMG_ARRAY_SIZE(pids);
	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}
