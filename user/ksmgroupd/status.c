// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the governor needs to know: whether any group is settling. Every
 * group on the host counts, not only ours (dboxd's groups share ksmd), so
 * the netlink dump is the source; without netlink the daemon falls back
 * to its own groups' figures through the ioctls.
 */
#include <errno.h>

#include "ksmgd.h"
#include "log.h"

static int note_group(const struct ksmg_nl_attrs *g, void *arg)
{
	bool *settling = arg;

	if (ksmg_nl_has(g, KSMG_A_STATE) && g->state == KSMG_STATE_SETTLING &&
	    (!ksmg_nl_has(g, KSMG_A_MEMBERS) || g->members > 0))
		*settling = true;
	return 0;
}

static bool own_groups_settling(struct ksmgd *d)
{
	struct ksmg_stats stats;
	size_t i;

	for (i = 0; i < d->groups.n; i++) {
		if (d->groups.v[i].group == NULL ||
		    ksmg_group_get_stats(d->groups.v[i].group, &stats) < 0)
			continue;
		if (stats.members > 0 && stats.state == KSMG_STATE_SETTLING)
			return true;
	}
	return false;
}

bool ksmgd_any_settling(struct ksmgd *d)
{
	bool settling = false;
	const char *error;

	if (d->nl == NULL)
		return own_groups_settling(d);
	if (ksmg_nl_request(d->nl, KSMG_CMD_GROUP_GET, true, NULL, note_group,
			    &settling, &error) == 0)
		return settling;
	ksmgd_warning("netlink group dump failed (%s): using our own groups' figures",
		      error);
	return own_groups_settling(d);
}

static int note_event(const struct ksmg_nl_attrs *ev, void *arg)
{
	bool *any = arg;

	if (ev->cmd == KSMG_CMD_EVENT)
		*any = true;
	return 0;
}

bool ksmgd_read_module_events(struct ksmgd *d)
{
	const char *error;
	bool any = false;

	if (ksmg_nl_receive(d->events, note_event, &any, &error) < 0) {
		/* Lost events only cost promptness: the timer still ticks. */
		ksmgd_debug("module events: %s", error);
		return errno == ENOBUFS;
	}
	return any;
}
