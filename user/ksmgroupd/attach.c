// SPDX-License-Identifier: GPL-2.0-or-later
/* Attaching processes to groups by rule, from events and from /proc. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ksmgd.h"
#include "log.h"
#include "rules.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void log_attach_error(pid_t pid, const struct ksmgd_group *g, int err)
{
	switch (err) {
	case ESRCH:	/* gone already, or a zombie */
	case EEXIST:	/* attached already (the /proc scan raced an event) */
		ksmgd_debug("pid %d, group '%s': %s", (int)pid, g->name,
			    ksmg_strerror(err));
		return;
	case EBUSY:
		ksmgd_info("pid %d matches group '%s' but is in another group already",
			   (int)pid, g->name);
		return;
	default:
		ksmgd_warning("cannot attach pid %d to group '%s': %s",
			      (int)pid, g->name, ksmg_strerror(err));
	}
}

void ksmgd_attach_pid(struct ksmgd *d, pid_t pid, const char *why,
		      uint64_t event_ns)
{
	const struct ksmgd_group_conf *conf;
	const struct ksmgd_rule *rule;
	struct ksmgd_proc proc;
	struct ksmgd_group *g;
	uint64_t done;

	if (pid == getpid())
		return;
	ksmgd_proc_init(&proc, pid);
	conf = ksmgd_rules_match(d->config, &proc, &rule);
	if (conf == NULL)
		return;
	g = ksmgd_groups_find(&d->groups, conf->name);
	if (g == NULL || g->group == NULL)
		return;
	if (ksmg_group_add_member(g->group, pid) < 0) {
		log_attach_error(pid, g, errno);
		return;
	}
	g->attached++;
	done = now_ns();
	/* The latency from the kernel's event to the end of ADD_MEMBER. */
	if (event_ns != 0 && done >= event_ns)
		ksmgd_info("attached pid %d (%s) to group '%s' by %s:%u on %s, %.3f ms after the event",
			   (int)pid, proc.have_exe == 1 ? proc.exe : "?",
			   g->name, d->config->path, rule->line, why,
			   (double)(done - event_ns) / 1e6);
	else
		ksmgd_info("attached pid %d (%s) to group '%s' by %s:%u on %s",
			   (int)pid, proc.have_exe == 1 ? proc.exe : "?",
			   g->name, d->config->path, rule->line, why);
}

static const char *const event_names[] = {
	[KSMGD_PROC_EXEC] = "exec",
	[KSMGD_PROC_FORK] = "fork",
	[KSMGD_PROC_UID] = "uid change",
};

void ksmgd_on_proc_event(const struct ksmgd_proc_event *ev, void *ctx)
{
	struct ksmgd *d = ctx;

	if (ev->what == KSMGD_PROC_UID && !d->use_uid_events)
		return;
	ksmgd_attach_pid(d, ev->pid, event_names[ev->what], ev->timestamp_ns);
}

void ksmgd_scan_all(struct ksmgd *d)
{
	struct dirent *de;
	DIR *dir;
	long pid;
	char *end;

	dir = opendir("/proc");
	if (dir == NULL) {
		ksmgd_warning("cannot read /proc: %m");
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (*end == '\0' && pid > 0)
			ksmgd_attach_pid(d, (pid_t)pid, "scan", 0);
	}
	closedir(dir);
}
