// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ksmgroupd's poll() loop and reload. poll() rather than io_uring: four
 * descriptors, each read is a few hundred bytes, and the work behind them
 * (procfs and sysfs reads, ioctls) is synchronous anyway.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "ksmgd.h"
#include "log.h"
#include "rules.h"

#define KSMTUNED_CHECK_S 60

int ksmgd_timer_set(struct ksmgd *d)
{
	unsigned int ms = d->config->governor.interval_ms;
	struct itimerspec its = {
		.it_interval = { ms / 1000, (long)(ms % 1000) * 1000000 },
		.it_value = { ms / 1000, (long)(ms % 1000) * 1000000 },
	};

	return timerfd_settime(d->timerfd, 0, &its, NULL);
}

static void reload(struct ksmgd *d)
{
	struct ksmgd_config *next;
	const char *gov_error;
	char *error;

	ksmgd_notify("RELOADING=1");
	if (ksmgd_config_load(d->config_path, &next, &error) < 0) {
		ksmgd_error("reload failed, keeping the running configuration: %s",
			    error ? error : "out of memory");
		free(error);
		goto done;
	}
	if (strcmp(next->daemon.device, d->config->daemon.device) != 0)
		ksmgd_warning("device changed to %s: new groups open there, kept groups stay on %s",
			      next->daemon.device, d->config->daemon.device);
	/*
	 * A group that fails here leaves the running configuration in place;
	 * policy changes already applied to earlier groups stay (they are
	 * what the new file asks for anyway).
	 */
	if (ksmgd_groups_sync(&d->groups, next, &error) < 0) {
		ksmgd_error("reload failed, keeping the running configuration: %s",
			    error ? error : strerror(errno));
		free(error);
		ksmgd_config_free(&next);
		goto done;
	}
	if (ksmgd_governor_reconfigure(d->gov, next, &gov_error) < 0)
		ksmgd_error("governor: %s", gov_error);
	ksmgd_config_free(&d->config);
	d->config = next;
	d->use_uid_events = ksmgd_rules_use_uid(d->config);
	if (ksmgd_timer_set(d) < 0)
		ksmgd_warning("cannot reset the governor timer: %m");
	ksmgd_info("reloaded %s: %zu groups", d->config_path,
		   d->config->n_groups);
	ksmgd_check_ksmtuned();
	ksmgd_scan_all(d);
done:
	ksmgd_notify("READY=1");
}

/* Returns true when the daemon should stop. */
static bool handle_signal(struct ksmgd *d)
{
	struct signalfd_siginfo si;

	if (read(d->sigfd, &si, sizeof(si)) != sizeof(si))
		return false;
	if (si.ssi_signo == SIGHUP) {
		ksmgd_info("SIGHUP: reloading %s", d->config_path);
		reload(d);
		return false;
	}
	ksmgd_info("%s: stopping", strsignal((int)si.ssi_signo));
	return true;
}

static void handle_proc_events(struct ksmgd *d)
{
	if (ksmgd_procmon_read(d->procmon, ksmgd_on_proc_event, d) == 0)
		return;
	if (errno == ENOBUFS) {
		/* Some execs went by unseen: look at everything again. */
		ksmgd_warning("process events were lost (socket overflow): rescanning /proc");
		ksmgd_scan_all(d);
		return;
	}
	ksmgd_error("process events: %m");
}

static void handle_timer(struct ksmgd *d)
{
	uint64_t expirations;
	time_t now = time(NULL);

	if (read(d->timerfd, &expirations, sizeof(expirations)) < 0)
		return;
	ksmgd_governor_tick(d->gov, ksmgd_any_settling(d));
	if (now >= d->next_ksmtuned_check) {
		ksmgd_check_ksmtuned();
		d->next_ksmtuned_check = now + KSMTUNED_CHECK_S;
	}
}

enum { FD_SIGNAL, FD_PROC, FD_TIMER, FD_EVENTS, N_FDS };

int ksmgd_loop(struct ksmgd *d)
{
	struct pollfd fds[N_FDS] = {
		[FD_SIGNAL] = { .fd = d->sigfd, .events = POLLIN },
		[FD_PROC] = { .fd = ksmgd_procmon_fd(d->procmon), .events = POLLIN },
		[FD_TIMER] = { .fd = d->timerfd, .events = POLLIN },
		[FD_EVENTS] = { .fd = d->events ? ksmg_nl_fd(d->events) : -1,
				.events = POLLIN },
	};

	d->next_ksmtuned_check = time(NULL) + KSMTUNED_CHECK_S;
	for (;;) {
		if (poll(fds, N_FDS, -1) < 0) {
			if (errno == EINTR)
				continue;
			ksmgd_error("poll: %m");
			return KSMGD_EXIT_FAILED;
		}
		/* Process events first: they are the 100 ms promise. */
		if (fds[FD_PROC].revents)
			handle_proc_events(d);
		if (fds[FD_EVENTS].revents && ksmgd_read_module_events(d))
			ksmgd_governor_kick(d->gov, ksmgd_any_settling(d));
		if (fds[FD_TIMER].revents)
			handle_timer(d);
		if (fds[FD_SIGNAL].revents && handle_signal(d))
			return KSMGD_EXIT_OK;
	}
}
