// SPDX-License-Identifier: GPL-2.0-or-later
/* Matching processes against rules; see rules.h. */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rules.h"

void ksmgd_proc_init(struct ksmgd_proc *proc, pid_t pid)
{
	memset(proc, 0, sizeof(*proc));
	proc->pid = pid;
}

static int load_exe(struct ksmgd_proc *proc)
{
	char path[64];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)proc->pid);
	/* Kernel threads have no exe: they never match an exe rule. */
	len = readlink(path, proc->exe, sizeof(proc->exe) - 1);
	if (len < 0)
		return -1;
	proc->exe[len] = '\0';
	return 0;
}

/* The cgroup v2 line "0::/path"; hybrid hosts have it too. */
static int load_cgroup(struct ksmgd_proc *proc)
{
	char path[64], line[PATH_MAX + 32];
	int ret = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)proc->pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		/* A path too long to hold is one no rule can be sure of. */
		if (strlen(line + 3) < sizeof(proc->cgroup)) {
			strcpy(proc->cgroup, line + 3);
			ret = 0;
		}
		break;
	}
	fclose(f);
	return ret;
}

static int load_uid(struct ksmgd_proc *proc)
{
	unsigned int real, effective;
	char path[64], line[256];
	int ret = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)proc->pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Uid: %u %u", &real, &effective) == 2) {
			proc->euid = (uid_t)effective;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* Load a fact once; afterwards its state says whether it is usable. */
static bool have(int *state, int (*load)(struct ksmgd_proc *),
		 struct ksmgd_proc *proc)
{
	if (*state == 0)
		*state = load(proc) == 0 ? 1 : -1;
	return *state == 1;
}

static bool cgroup_matches(const char *pattern, const char *cgroup)
{
	/* "/" is the root: every process is below it. */
	if (strcmp(pattern, "/") == 0)
		return true;
	/* FNM_LEADING_DIR: the pattern also matches the whole subtree. */
	return fnmatch(pattern, cgroup, FNM_PATHNAME | FNM_LEADING_DIR) == 0;
}

static bool rule_matches(const struct ksmgd_rule *rule,
			 struct ksmgd_proc *proc)
{
	if (rule->exe != NULL &&
	    (!have(&proc->have_exe, load_exe, proc) ||
	     fnmatch(rule->exe, proc->exe, FNM_PATHNAME) != 0))
		return false;
	if (rule->cgroup != NULL &&
	    (!have(&proc->have_cgroup, load_cgroup, proc) ||
	     !cgroup_matches(rule->cgroup, proc->cgroup)))
		return false;
	if (rule->has_uid &&
	    (!have(&proc->have_uid, load_uid, proc) || proc->euid != rule->uid))
		return false;
	return true;
}

const struct ksmgd_group_conf *
ksmgd_rules_match(const struct ksmgd_config *config, struct ksmgd_proc *proc,
		  const struct ksmgd_rule **rule_r)
{
	size_t i, j;

	for (i = 0; i < config->n_groups; i++) {
		for (j = 0; j < config->groups[i].n_rules; j++) {
			if (rule_matches(&config->groups[i].rules[j], proc)) {
				*rule_r = &config->groups[i].rules[j];
				return &config->groups[i];
			}
		}
	}
	return NULL;
}

bool ksmgd_rules_use_uid(const struct ksmgd_config *config)
{
	size_t i, j;

	for (i = 0; i < config->n_groups; i++) {
		for (j = 0; j < config->groups[i].n_rules; j++) {
			if (config->groups[i].rules[j].has_uid)
				return true;
		}
	}
	return false;
}
