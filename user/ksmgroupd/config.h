/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksmgroupd's configuration: the parsed form of ksmgroupd.conf(5).
 *
 * The file has three kinds of section: [daemon], [governor] and any number
 * of [group NAME]; settings are "key = value" and are declared in tables in
 * config.c with their defaults, ranges and help. Every error names the file
 * and line. A config is immutable once parsed; a reload parses a new one
 * and swaps it in only when it is valid.
 */
#ifndef KSMGD_CONFIG_H
#define KSMGD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/ksmgroup.h>

#define KSMGD_DEFAULT_CONFIG "/etc/ksmgroupd.conf"

/* One "match = ..." line: every condition present must hold. */
struct ksmgd_rule {
	unsigned int line;
	char *exe;		/* fnmatch() pattern on /proc/PID/exe, or NULL */
	char *cgroup;		/* cgroup v2 path, its subtree matches too */
	bool has_uid;
	uid_t uid;		/* effective uid */
	char *text;		/* the line as written, for logs */
};

struct ksmgd_group_conf {
	unsigned int line;
	char name[KSMG_NAME_MAX];
	uint64_t policy;
	unsigned int sweep_ms;
	struct ksmgd_rule *rules;
	size_t n_rules;
};

enum ksmgd_governor_mode {
	KSMGD_GOVERNOR_OFF,	/* never touch /sys/kernel/mm/ksm */
	KSMGD_GOVERNOR_BUILTIN,	/* the governor of docs/ksmgroupd.md */
};

struct ksmgd_governor_conf {
	unsigned int mode;		/* enum ksmgd_governor_mode */
	unsigned int cpu_budget_pm;	/* share of one core, in per mille */
	unsigned int pages_to_scan_min;
	unsigned int pages_to_scan_max;
	unsigned int sleep_millisecs_min;
	unsigned int sleep_millisecs_max;
	unsigned int interval_ms;
	bool run_ksmd;
};

struct ksmgd_daemon_conf {
	char *device;
	char *state_file;
};

struct ksmgd_config {
	char *path;
	struct ksmgd_daemon_conf daemon;
	struct ksmgd_governor_conf governor;
	struct ksmgd_group_conf *groups;
	size_t n_groups;
};

/*
 * Parse path. On failure *error_r is an allocated "FILE:LINE: message"
 * (or "FILE: message") that the caller frees.
 */
int ksmgd_config_load(const char *path, struct ksmgd_config **config_r,
		      char **error_r);
void ksmgd_config_free(struct ksmgd_config **config);
/* Print the effective configuration, defaults included, as a valid file. */
void ksmgd_config_dump(const struct ksmgd_config *config, FILE *f);

#endif /* KSMGD_CONFIG_H */
