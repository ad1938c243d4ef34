// SPDX-License-Identifier: GPL-2.0-or-later
/* The daemon's merge groups; see groups.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "groups.h"
#include "log.h"

struct ksmgd_group *ksmgd_groups_find(struct ksmgd_groups *gs,
				      const char *name)
{
	size_t i;

	for (i = 0; i < gs->n; i++) {
		if (strcmp(gs->v[i].name, name) == 0)
			return &gs->v[i];
	}
	return NULL;
}

static int group_error(char **error_r, const struct ksmgd_config *config,
		       const struct ksmgd_group_conf *conf, const char *what,
		       const char *detail)
{
	int saved_errno = errno;

	if (asprintf(error_r, "%s:%u: group '%s': %s: %s", config->path,
		     conf->line, conf->name, what, detail) < 0)
		*error_r = NULL;
	errno = saved_errno;
	return -1;
}

static int apply_policy(struct ksmgd_group *g,
			const struct ksmgd_config *config,
			const struct ksmgd_group_conf *conf, char **error_r)
{
	const struct ksmg_info *info = ksmg_group_info(g->group);
	char detail[160];

	if (g->policy == conf->policy && g->sweep_ms == conf->sweep_ms)
		return 0;
	if (ksmg_group_set_policy(g->group, conf->policy, conf->sweep_ms) < 0) {
		if (errno == EINVAL)
			snprintf(detail, sizeof(detail),
				 "the module accepts policy bits 0x%llx and sweep_ms 0 or %u to %u",
				 (unsigned long long)info->policies,
				 info->sweep_ms_min, info->sweep_ms_max);
		else
			snprintf(detail, sizeof(detail), "%s",
				 ksmg_strerror(errno));
		return group_error(error_r, config, conf,
				   "policy or sweep_ms refused", detail);
	}
	g->policy = conf->policy;
	g->sweep_ms = conf->sweep_ms;
	return 0;
}

static int open_group(struct ksmgd_group *g, const struct ksmgd_config *config,
		      const struct ksmgd_group_conf *conf, char **error_r)
{
	const char *error;
	int saved_errno;

	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", conf->name);
	if (ksmg_group_open(config->daemon.device, &g->group, &error) < 0)
		return group_error(error_r, config, conf,
				   config->daemon.device, error);
	if (ksmg_group_set_name(g->group, conf->name) < 0) {
		group_error(error_r, config, conf, "cannot name the group",
			    ksmg_strerror(errno));
		goto close_group;
	}
	/* A fresh group has the module's defaults: force the first apply. */
	g->policy = UINT64_MAX;
	if (apply_policy(g, config, conf, error_r) < 0)
		goto close_group;
	ksmgd_info("group '%s' is id %u", g->name,
		   (unsigned int)ksmg_group_id(g->group));
	return 0;

close_group:
	saved_errno = errno;
	ksmg_group_close(&g->group);
	errno = saved_errno;
	return -1;
}

int ksmgd_groups_sync(struct ksmgd_groups *gs,
		      const struct ksmgd_config *config, char **error_r)
{
	struct ksmgd_group *next, *old;
	size_t i, j;

	*error_r = NULL;
	next = calloc(config->n_groups ? config->n_groups : 1, sizeof(*next));
	if (next == NULL)
		return -1;
	/* Build the new array first so a failure leaves gs untouched. */
	for (i = 0; i < config->n_groups; i++) {
		const struct ksmgd_group_conf *conf = &config->groups[i];

		old = ksmgd_groups_find(gs, conf->name);
		if (old == NULL) {
			if (open_group(&next[i], config, conf, error_r) < 0)
				goto close_new;
			continue;
		}
		if (apply_policy(old, config, conf, error_r) < 0)
			goto close_new;
		next[i] = *old;
		old->group = NULL;	/* moved to next[] */
	}
	for (i = 0; i < gs->n; i++) {
		if (gs->v[i].group != NULL)
			ksmgd_info("group '%s' is no longer configured: closing it",
				   gs->v[i].name);
		ksmg_group_close(&gs->v[i].group);
	}
	free(gs->v);
	gs->v = next;
	gs->n = config->n_groups;
	return 0;

close_new:
	/* Give back what was moved, close what was opened. */
	for (j = 0; j < i; j++) {
		old = ksmgd_groups_find(gs, next[j].name);
		if (old != NULL && old->group == NULL)
			*old = next[j];
		else
			ksmg_group_close(&next[j].group);
	}
	free(next);
	return -1;
}

void ksmgd_groups_close(struct ksmgd_groups *gs)
{
	size_t i;

	for (i = 0; i < gs->n; i++)
		ksmg_group_close(&gs->v[i].group);
	free(gs->v);
	gs->v = NULL;
	gs->n = 0;
}
