/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Matching a process against the rules of the configuration. The facts
 * about the process are read from /proc lazily, only as far as the rules
 * need them, because this runs for every exec and fork on the host.
 */
#ifndef KSMGD_RULES_H
#define KSMGD_RULES_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "config.h"

struct ksmgd_proc {
	pid_t pid;
	/* 0: not read yet, 1: read, -1: could not be read (process gone) */
	int have_exe, have_cgroup, have_uid;
	char exe[PATH_MAX];
	char cgroup[PATH_MAX];
	uid_t euid;
};

void ksmgd_proc_init(struct ksmgd_proc *proc, pid_t pid);
/*
 * The first group (in file order) with a rule that the process matches,
 * or NULL. *rule_r gets that rule.
 */
const struct ksmgd_group_conf *
ksmgd_rules_match(const struct ksmgd_config *config, struct ksmgd_proc *proc,
		  const struct ksmgd_rule **rule_r);
/* Whether any rule looks at the user (UID events only matter then). */
bool ksmgd_rules_use_uid(const struct ksmgd_config *config);

#endif /* KSMGD_RULES_H */
