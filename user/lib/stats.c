// SPDX-License-Identifier: GPL-2.0-or-later
/* A group's figures and on-demand sweeps. */
#include <string.h>

#include "lib-private.h"

KSMG_EXPORT int ksmg_group_get_stats(struct ksmg_group *group,
				     struct ksmg_stats *stats_r)
{
	if (ksmg_group_check(group) < 0)
		return -1;
	if (stats_r == NULL) {
		errno = EINVAL;
		return -1;
	}
	memset(stats_r, 0, sizeof(*stats_r));
	stats_r->size = sizeof(*stats_r);
	return ksmg_ioctl(group, KSMG_IOC_GET_STATS, stats_r);
}

KSMG_EXPORT int ksmg_group_sweep(struct ksmg_group *group,
				 unsigned int *vmas_marked_r)
{
	struct ksmg_sweep_cmd cmd;

	if (ksmg_group_check(group) < 0)
		return -1;
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	if (ksmg_ioctl(group, KSMG_IOC_SWEEP, &cmd) < 0)
		return -1;
	if (vmas_marked_r != NULL)
		*vmas_marked_r = cmd.vmas_marked;
	return 0;
}
