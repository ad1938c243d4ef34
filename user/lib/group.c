// SPDX-License-Identifier: GPL-2.0-or-later
/* Opening a group, the version handshake, naming and policy. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib-private.h"

/* Turn an open() failure into advice; errno is left as open() set it. */
static const char *open_advice(int err)
{
	switch (err) {
	case ENOENT:
	case ENXIO:
	case ENODEV:
		return "the ksmgroup module is not loaded: run modprobe ksmgroup";
	case EACCES:
	case EPERM:
		return "permission denied opening the ksmgroup device: run as root or get access to it";
	default:
		return "cannot open the ksmgroup device";
	}
}

static int handshake(struct ksmg_group *group, const char **error_r)
{
	memset(&group->info, 0, sizeof(group->info));
	group->info.size = sizeof(group->info);
	if (ksmg_ioctl(group, KSMG_IOC_GET_INFO, &group->info) < 0) {
		*error_r = errno == ENOTTY ?
			"not a ksmgroup device (KSMG_IOC_GET_INFO refused)" :
			"the ksmgroup handshake (KSMG_IOC_GET_INFO) failed";
		return -1;
	}
	/*
	 * A later API version may change what the structs mean, not only
	 * grow them, so anything but the version this library was written
	 * for is refused rather than guessed at.
	 */
	if (group->info.api_version != KSMG_API_VERSION) {
		*error_r = "the ksmgroup module speaks an API version this libksmgroup does not know: update libksmgroup";
		errno = EPROTONOSUPPORT;
		return -1;
	}
	return 0;
}

KSMG_EXPORT int ksmg_group_open(const char *path, struct ksmg_group **group_r,
				const char **error_r)
{
	const char *dummy_error;
	struct ksmg_group *group;
	int saved_errno;

	if (error_r == NULL)
		error_r = &dummy_error;
	if (group_r == NULL) {
		*error_r = "ksmg_group_open: group_r is NULL";
		errno = EINVAL;
		return -1;
	}
	*group_r = NULL;
	if (path == NULL)
		path = KSMG_DEVICE_PATH;

	group = calloc(1, sizeof(*group));
	if (group == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	group->fd = open(path, O_RDWR | O_CLOEXEC);
	if (group->fd < 0) {
		*error_r = open_advice(errno);
		goto free_group;
	}
	if (handshake(group, error_r) < 0)
		goto close_fd;
	*group_r = group;
	return 0;

close_fd:
	saved_errno = errno;
	close(group->fd);
	errno = saved_errno;
free_group:
	saved_errno = errno;
	free(group);
	errno = saved_errno;
	return -1;
}

KSMG_EXPORT void ksmg_group_close(struct ksmg_group **group)
{
	int saved_errno = errno;

	if (group == NULL || *group == NULL)
		return;
	/* close() of a device file cannot fail in a way we could act on. */
	close((*group)->fd);
	free(*group);
	*group = NULL;
	errno = saved_errno;
}

KSMG_EXPORT int ksmg_group_fd(const struct ksmg_group *group)
{
	if (ksmg_group_check(group) < 0)
		return -1;
	return group->fd;
}

KSMG_EXPORT const struct ksmg_info *
ksmg_group_info(const struct ksmg_group *group)
{
	if (ksmg_group_check(group) < 0)
		return NULL;
	return &group->info;
}

KSMG_EXPORT uint32_t ksmg_group_id(const struct ksmg_group *group)
{
	if (ksmg_group_check(group) < 0)
		return 0;
	return group->info.group_id;
}

KSMG_EXPORT int ksmg_name_check(const char *name)
{
	size_t i, len;

	if (name == NULL)
		goto invalid;
	len = strlen(name);
	if (len == 0 || len >= KSMG_NAME_MAX)
		goto invalid;
	for (i = 0; i < len; i++) {
		/* Printable ASCII without space (0x20) and without '/'. */
		if (name[i] <= 0x20 || name[i] >= 0x7f || name[i] == '/')
			goto invalid;
	}
	return 0;
invalid:
	errno = EINVAL;
	return -1;
}

KSMG_EXPORT int ksmg_group_set_name(struct ksmg_group *group, const char *name)
{
	struct ksmg_name_cmd cmd;

	if (ksmg_group_check(group) < 0 || ksmg_name_check(name) < 0)
		return -1;
	/* The kernel wants the tail of the array zeroed, hence memset. */
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	memcpy(cmd.name, name, strlen(name));
	return ksmg_ioctl(group, KSMG_IOC_SET_NAME, &cmd);
}

KSMG_EXPORT int ksmg_group_set_policy(struct ksmg_group *group,
				      uint64_t policy, uint32_t sweep_ms)
{
	struct ksmg_policy_cmd cmd;

	if (ksmg_group_check(group) < 0)
		return -1;
	/*
	 * Refuse what the handshake said the module does not accept, so the
	 * caller learns it without a round trip; the kernel checks again.
	 */
	if ((policy & ~group->info.policies) != 0 ||
	    (sweep_ms != 0 && (sweep_ms < group->info.sweep_ms_min ||
			       sweep_ms > group->info.sweep_ms_max))) {
		errno = EINVAL;
		return -1;
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	cmd.policy = policy;
	cmd.sweep_ms = sweep_ms;
	return ksmg_ioctl(group, KSMG_IOC_SET_POLICY, &cmd);
}
