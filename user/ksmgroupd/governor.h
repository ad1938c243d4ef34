/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ksmd governor: while any group is settling it raises ksmd's scan
 * rate (pages_to_scan up, sleep_millisecs down) as far as the CPU budget
 * allows, measured from ksmd's own CPU time, but no faster than one pass
 * of ksmd over the mergeable memory per interval; once every group has
 * converged it drops ksmd back to idle. docs/ksmgroupd.md explains the
 * control law. The admin's KSM settings are saved when the governor starts
 * and restored when it stops.
 */
#ifndef KSMGD_GOVERNOR_H
#define KSMGD_GOVERNOR_H

#include <stdbool.h>

#include "config.h"

struct ksmgd_governor;

/*
 * Start governing (or, with mode = off, create a governor that touches
 * nothing). A state file left by a daemon that crashed is honoured first:
 * the settings it holds are the admin's and are restored before anything
 * else. On failure *error_r is a static sentence.
 */
int ksmgd_governor_start(struct ksmgd_governor **gov_r,
			 const struct ksmgd_config *config,
			 const char **error_r);
/* Restore the admin's settings, remove the state file, free. */
void ksmgd_governor_stop(struct ksmgd_governor **gov);
/* New settings after a reload; a mode change starts or stops governing. */
int ksmgd_governor_reconfigure(struct ksmgd_governor *gov,
			       const struct ksmgd_config *config,
			       const char **error_r);
/* The periodic step, every interval_ms: measure, then set the rate. */
void ksmgd_governor_tick(struct ksmgd_governor *gov, bool settling);
/* Called on events: moves between idle and busy at once, if needed. */
void ksmgd_governor_kick(struct ksmgd_governor *gov, bool settling);
unsigned int ksmgd_governor_interval_ms(const struct ksmgd_governor *gov);

#endif /* KSMGD_GOVERNOR_H */
