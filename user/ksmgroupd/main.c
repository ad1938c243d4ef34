// SPDX-License-Identifier: GPL-2.0-or-later
/* ksmgroupd: options, start-up and shut-down. See ksmgroupd(8). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "ksmgd.h"
#include "log.h"
#include "rules.h"

struct options {
	const char *config_path;
	bool check_only;
	bool verbose;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ksmgroupd [-c FILE] [-n] [-v]\n"
		   "  -c FILE  configuration (default " KSMGD_DEFAULT_CONFIG ")\n"
		   "  -n       check the configuration and exit\n"
		   "  -v       verbose: debug log; with -n print the effective configuration\n"
		   "  -V       print the version\n"
		   "signals: SIGHUP reloads, SIGTERM/SIGINT stop (KSM settings are restored)\n");
}

/* Returns -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
	int opt;

	o->config_path = KSMGD_DEFAULT_CONFIG;
	while ((opt = getopt(argc, argv, "c:nvVh")) != -1) {
		switch (opt) {
		case 'c':
			o->config_path = optarg;
			break;
		case 'n':
			o->check_only = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'V':
			printf("ksmgroupd %s\n", KSMGD_VERSION);
			return KSMGD_EXIT_OK;
		case 'h':
			usage(stdout);
			return KSMGD_EXIT_OK;
		default:
			usage(stderr);
			return KSMGD_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ksmgroupd: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return KSMGD_EXIT_USAGE;
	}
	return -1;
}

/* Signals arrive through a signalfd, blocked from here on. */
static int signals_open(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -1;
	return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int exit_for_open_errno(int err)
{
	switch (err) {
	case ENOENT:
	case ENXIO:
	case ENODEV:
		return KSMGD_EXIT_NO_MODULE;
	case EPERM:
	case EACCES:
		return KSMGD_EXIT_PERM;
	case EINVAL:
		return KSMGD_EXIT_CONFIG;
	case EOPNOTSUPP:
	case EPROTONOSUPPORT:
		return KSMGD_EXIT_UNSUPPORTED;
	default:
		return KSMGD_EXIT_FAILED;
	}
}

/*
 * The module must be loaded even with no [group] (the governor then serves
 * other daemons' groups); past that, netlink is optional: without it the
 * governor reads this daemon's groups only.
 */
static int open_netlink(struct ksmgd *d)
{
	const char *error;

	if (ksmg_nl_open(&d->nl, &error) < 0) {
		if (errno == ENOPKG) {
			ksmgd_error("%s", error);
			return -1;
		}
		ksmgd_warning("netlink: %s: the governor sees only this daemon's groups",
			      error);
		return 0;
	}
	if (ksmg_nl_open(&d->events, &error) < 0 ||
	    ksmg_nl_subscribe(d->events, &error) < 0) {
		ksmgd_warning("module events: %s: the governor reacts at its interval only",
			      error);
		ksmg_nl_close(&d->events);
	}
	return 0;
}

static void close_netlink(struct ksmgd *d)
{
	ksmg_nl_close(&d->events);
	ksmg_nl_close(&d->nl);
}

static size_t count_rules(const struct ksmgd_config *c)
{
	size_t i, n = 0;

	for (i = 0; i < c->n_groups; i++)
		n += c->groups[i].n_rules;
	return n;
}

/* Everything after the configuration, in order, undone in reverse. */
static int run(struct ksmgd *d)
{
	const char *error;
	char *group_error;
	int ret;

	d->sigfd = signals_open();
	if (d->sigfd < 0) {
		ksmgd_error("signalfd: %m");
		return KSMGD_EXIT_FAILED;
	}
	/* Before the groups and the /proc scan, so no exec falls between. */
	if (ksmgd_procmon_open(&d->procmon, &error) < 0) {
		ret = exit_for_open_errno(errno);
		ksmgd_error("process events: %s (%m)", error);
		goto close_signals;
	}
	if (open_netlink(d) < 0) {
		ret = KSMGD_EXIT_NO_MODULE;
		goto close_procmon;
	}
	if (ksmgd_groups_sync(&d->groups, d->config, &group_error) < 0) {
		ret = exit_for_open_errno(errno);
		ksmgd_error("%s", group_error ? group_error : "out of memory");
		free(group_error);
		goto close_netlink;
	}
	ksmgd_check_ksmtuned();
	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->timerfd < 0 || ksmgd_timer_set(d) < 0) {
		ret = KSMGD_EXIT_FAILED;
		ksmgd_error("timerfd: %m");
		goto close_timer;
	}
	/* Last, so that no failure above leaves the KSM knobs changed. */
	if (ksmgd_governor_start(&d->gov, d->config, &error) < 0) {
		ret = exit_for_open_errno(errno);
		ksmgd_error("governor: %s", error);
		goto close_timer;
	}
	ksmgd_scan_all(d);
	ksmgd_info("ready: %zu groups, %zu rules, governor %s",
		   d->config->n_groups, count_rules(d->config),
		   d->config->governor.mode == KSMGD_GOVERNOR_OFF ? "off" : "builtin");
	ksmgd_notify("READY=1");
	ret = ksmgd_loop(d);
	ksmgd_notify("STOPPING=1");
	ksmgd_governor_stop(&d->gov);
close_timer:
	if (d->timerfd >= 0)
		close(d->timerfd);
	ksmgd_groups_close(&d->groups);
close_netlink:
	close_netlink(d);
close_procmon:
	ksmgd_procmon_close(&d->procmon);
close_signals:
	close(d->sigfd);
	return ret;
}

int main(int argc, char **argv)
{
	struct ksmgd d = { .sigfd = -1, .timerfd = -1 };
	struct options o = { 0 };
	char *error;
	int ret;

	ret = parse_options(argc, argv, &o);
	if (ret >= 0)
		return ret;
	ksmgd_log_init(o.verbose);
	if (ksmgd_config_load(o.config_path, &d.config, &error) < 0) {
		fprintf(stderr, "ksmgroupd: %s\n", error ? error : "out of memory");
		free(error);
		return KSMGD_EXIT_CONFIG;
	}
	if (o.check_only) {
		if (o.verbose)
			ksmgd_config_dump(d.config, stdout);
		fprintf(stderr, "%s: configuration OK (%zu groups, %zu rules)\n",
		       o.config_path, d.config->n_groups, count_rules(d.config));
		ksmgd_config_free(&d.config);
		return KSMGD_EXIT_OK;
	}
	d.config_path = o.config_path;
	d.verbose = o.verbose;
	d.use_uid_events = ksmgd_rules_use_uid(d.config);
	ksmgd_info("ksmgroupd %s starting with %s", KSMGD_VERSION, o.config_path);
	ret = run(&d);
	ksmgd_config_free(&d.config);
	return ret;
}
