/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's merge groups: one open /dev/ksmgroup file per [group NAME]
 * of the configuration. A group lives as long as its file, so the daemon
 * keeps the files open across reloads for groups whose name stays.
 */
#ifndef KSMGD_GROUPS_H
#define KSMGD_GROUPS_H

#include <stddef.h>
#include <stdint.h>

#include "ksmgroup.h"
#include "config.h"

struct ksmgd_group {
	char name[KSMG_NAME_MAX];
	struct ksmg_group *group;
	uint64_t policy;		/* as last applied */
	unsigned int sweep_ms;
	unsigned long attached;		/* processes attached by the daemon */
};

struct ksmgd_groups {
	struct ksmgd_group *v;
	size_t n;
};

/*
 * Make the open groups those of config: keep the ones whose name stays
 * (applying a changed policy), open new ones, close dropped ones. On
 * failure returns -1 with errno and an allocated *error_r naming the
 * group's file and line; groups already open stay as they were.
 */
int ksmgd_groups_sync(struct ksmgd_groups *gs,
		      const struct ksmgd_config *config, char **error_r);
struct ksmgd_group *ksmgd_groups_find(struct ksmgd_groups *gs,
				      const char *name);
/* Close every group (which dissolves them) and free the array. */
void ksmgd_groups_close(struct ksmgd_groups *gs);

#endif /* KSMGD_GROUPS_H */
