/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksmgroupctl: shared state of one run and the command table.
 *
 * Command functions return the process exit status (enum ksmg_ctl_exit),
 * which ksmgroupctl(8) documents; that is why they do not follow the 0/-1
 * rule of the rest of user space.
 */
#ifndef KSMG_CTL_H
#define KSMG_CTL_H

#include <stdbool.h>
#include <stdint.h>

#include "json.h"
#include "nl.h"

#define KSMG_CTL_VERSION "1.0.0"

enum ksmg_ctl_exit {
	KSMG_EXIT_OK		= 0,
	KSMG_EXIT_FAILED	= 1,	/* any other failure */
	KSMG_EXIT_USAGE		= 2,	/* bad command line */
	KSMG_EXIT_NO_MODULE	= 3,	/* module not loaded */
	KSMG_EXIT_PERM		= 4,	/* permission denied */
	KSMG_EXIT_NOT_FOUND	= 5,	/* no such group or process */
	KSMG_EXIT_UNSUPPORTED	= 6,	/* kernel or module lacks a feature */
	KSMG_EXIT_CONFLICT	= 7,	/* already a member, here or elsewhere */
};

struct ksmg_ctl {
	const char *command;
	bool json;
	/* watch: stop after this many events (0: no limit) or seconds. */
	unsigned long count;
	unsigned long timeout_s;
	struct ksmg_json out;
	struct ksmg_nl *nl;	/* request handle, opened by ksmg_ctl_connect() */
};

struct ksmg_ctl_cmd {
	const char *name;
	const char *args;
	const char *help;
	int min_args;
	int max_args;		/* -1: no limit */
	int (*run)(struct ksmg_ctl *ctl, int argc, char **argv);
};

/* What to do about errnum, or NULL when there is nothing to add. */
const char *ksmg_ctl_advice(const struct ksmg_ctl *ctl, int errnum);
/* Exit status for an errno from the kernel or from nl.h. */
int ksmg_ctl_exit_code(int errnum);
/*
 * Report a failure on stderr (and as a JSON error object on stdout with
 * --json) and return the exit status for errnum. The message is fmt, then
 * ": " and detail when detail is not NULL.
 */
int ksmg_ctl_fail(struct ksmg_ctl *ctl, int errnum, const char *detail,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int ksmg_ctl_usage_error(struct ksmg_ctl *ctl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Open ctl->nl; returns an exit status. */
int ksmg_ctl_connect(struct ksmg_ctl *ctl);
/*
 * Find GROUP (an id, or a name) in a dump of the groups; returns an exit
 * status. A numeric argument is an id first and a name second.
 */
int ksmg_ctl_resolve_group(struct ksmg_ctl *ctl, const char *arg,
			   struct ksmg_nl_attrs *group_r);
/* Dump every group into a malloc()ed array sorted by id. */
int ksmg_ctl_dump_groups(struct ksmg_ctl *ctl, struct ksmg_nl_attrs **groups_r,
			 size_t *count_r);
/* Whether the kernel counts zero_pages (else they are shown as absent). */
bool ksmg_ctl_zero_pages_counted(uint32_t group_id);
/* Strict positive decimal; -1 with errno EINVAL otherwise. */
int ksmg_ctl_parse_ulong(const char *text, unsigned long max,
			 unsigned long *value_r);
/* "12.5 MiB": profit and other byte counts for humans. */
void ksmg_ctl_format_bytes(int64_t bytes, char *buf, size_t size);

int ksmg_ctl_cmd_list(struct ksmg_ctl *ctl, int argc, char **argv);
int ksmg_ctl_cmd_show(struct ksmg_ctl *ctl, int argc, char **argv);
int ksmg_ctl_cmd_watch(struct ksmg_ctl *ctl, int argc, char **argv);
int ksmg_ctl_cmd_attach(struct ksmg_ctl *ctl, int argc, char **argv);
int ksmg_ctl_cmd_detach(struct ksmg_ctl *ctl, int argc, char **argv);
int ksmg_ctl_cmd_sweep(struct ksmg_ctl *ctl, int argc, char **argv);
int ksmg_ctl_cmd_version(struct ksmg_ctl *ctl, int argc, char **argv);

#endif /* KSMG_CTL_H */
