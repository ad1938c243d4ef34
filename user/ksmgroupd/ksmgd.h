/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksmgroupd's state, shared by its main loop and the files that act on it.
 * The daemon is a single thread around one poll() loop: process events,
 * module events, signals and the governor's timer are all file descriptors.
 */
#ifndef KSMGD_H
#define KSMGD_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "config.h"
#include "governor.h"
#include "groups.h"
#include "nl.h"
#include "procmon.h"

#define KSMGD_VERSION "1.0.0"

/* Exit statuses, documented in ksmgroupd(8). */
enum ksmgd_exit {
	KSMGD_EXIT_OK		= 0,
	KSMGD_EXIT_FAILED	= 1,
	KSMGD_EXIT_USAGE	= 2,
	KSMGD_EXIT_NO_MODULE	= 3,
	KSMGD_EXIT_PERM		= 4,
	KSMGD_EXIT_CONFIG	= 5,
	KSMGD_EXIT_UNSUPPORTED	= 6,
};

struct ksmgd {
	const char *config_path;
	bool verbose;
	struct ksmgd_config *config;
	struct ksmgd_groups groups;
	struct ksmgd_procmon *procmon;
	struct ksmg_nl *nl;		/* requests; NULL: use the ioctls */
	struct ksmg_nl *events;		/* module events; may be NULL */
	struct ksmgd_governor *gov;
	int sigfd;
	int timerfd;
	bool use_uid_events;		/* some rule looks at the user */
	time_t next_ksmtuned_check;
};

/* loop.c: the poll() loop until SIGTERM/SIGINT; returns an exit status. */
int ksmgd_loop(struct ksmgd *d);
/* loop.c: (re)arm the governor's timer from the configuration. */
int ksmgd_timer_set(struct ksmgd *d);

/* attach.c: match a process and attach it to its group. */
void ksmgd_attach_pid(struct ksmgd *d, pid_t pid, const char *why,
		      uint64_t event_ns);
void ksmgd_on_proc_event(const struct ksmgd_proc_event *ev, void *ctx);
/* Every running process, at start, after a reload or lost events. */
void ksmgd_scan_all(struct ksmgd *d);

/* status.c: whether any group with members is still settling. */
bool ksmgd_any_settling(struct ksmgd *d);
/* status.c: read queued module events; true if any came. */
bool ksmgd_read_module_events(struct ksmgd *d);

/* ksmtuned.c: warn (once per process) when ksmtuned runs. */
void ksmgd_check_ksmtuned(void);

/* notify.c: sd_notify(3) without libsystemd; a no-op outside systemd. */
void ksmgd_notify(const char *state);

#endif /* KSMGD_H */
