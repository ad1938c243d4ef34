// SPDX-License-Identifier: GPL-2.0-or-later
/* ksmgroupctl watch: the module's events, one line each, as they come. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "names.h"

struct watch {
	struct ksmg_ctl *ctl;
	unsigned long seen;
	unsigned long lost;
};

static void timestamp(bool iso, char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	size_t len;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (iso)
		gmtime_r(&ts.tv_sec, &tm);
	else
		localtime_r(&ts.tv_sec, &tm);
	len = strftime(buf, size, iso ? "%Y-%m-%dT%H:%M:%S" : "%H:%M:%S",
		       &tm);
	snprintf(buf + len, size - len, ".%03ld%s", ts.tv_nsec / 1000000,
		 iso ? "Z" : "");
}

static void event_json(struct ksmg_json *j, const struct ksmg_nl_attrs *a,
		       const char *name)
{
	char when[40];

	timestamp(true, when, sizeof(when));
	ksmg_json_object_begin(j, NULL);
	ksmg_json_string(j, "time", when);
	if (name != NULL)
		ksmg_json_string(j, "event", name);
	else
		ksmg_json_u64(j, "event", a->event);
	if (ksmg_nl_has(a, KSMG_A_GROUP_ID))
		ksmg_json_u64(j, "group_id", a->group_id);
	if (ksmg_nl_has(a, KSMG_A_NAME))
		ksmg_json_string(j, "name", a->name);
	if (ksmg_nl_has(a, KSMG_A_PID))
		ksmg_json_s64(j, "pid", a->pid);
	if (ksmg_nl_has(a, KSMG_A_MEMBERS))
		ksmg_json_u64(j, "members", a->members);
	if (ksmg_nl_has(a, KSMG_A_MERGING_PAGES))
		ksmg_json_u64(j, "merging_pages", a->merging_pages);
	ksmg_json_object_end(j);
	ksmg_json_finish(j);
}

static void event_human(const struct ksmg_nl_attrs *a, const char *name)
{
	char when[40];

	timestamp(false, when, sizeof(when));
	printf("%s %-16s", when, name != NULL ? name : "unknown");
	if (ksmg_nl_has(a, KSMG_A_GROUP_ID))
		printf(" group %" PRIu32, a->group_id);
	if (ksmg_nl_has(a, KSMG_A_NAME) && a->name[0] != '\0')
		printf(" '%s'", a->name);
	if (ksmg_nl_has(a, KSMG_A_PID))
		printf(" pid %" PRId32, a->pid);
	if (ksmg_nl_has(a, KSMG_A_MEMBERS))
		printf(" members %" PRIu32, a->members);
	if (ksmg_nl_has(a, KSMG_A_MERGING_PAGES))
		printf(" merging %" PRIu64, a->merging_pages);
	if (name == NULL)
		printf(" (event %" PRIu32 ")", a->event);
	printf("\n");
	/* One line each, visible at once even through a pipe. */
	fflush(stdout);
}

static int on_event(const struct ksmg_nl_attrs *a, void *arg)
{
	struct watch *w = arg;
	const char *name;

	if (a->cmd != KSMG_CMD_EVENT || !ksmg_nl_has(a, KSMG_A_EVENT))
		return 0;
	/* --count is exact even when a batch holds more events. */
	if (w->ctl->count != 0 && w->seen >= w->ctl->count)
		return 0;
	name = ksmg_event_name(a->event);
	if (w->ctl->json)
		event_json(&w->ctl->out, a, name);
	else
		event_human(a, name);
	w->seen++;
	return 0;
}

/* SIGINT and SIGTERM arrive through a signalfd so that poll sees them. */
static int signals_open(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -1;
	return signalfd(-1, &mask, SFD_CLOEXEC);
}

static long remaining_ms(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000 +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms;
}

static int receive(struct watch *w, struct ksmg_nl *events)
{
	const char *error;

	if (ksmg_nl_receive(events, on_event, w, &error) == 0)
		return KSMG_EXIT_OK;
	if (errno == ENOBUFS) {
		/* Keep watching, but never pretend the stream was whole. */
		w->lost++;
		fprintf(stderr, "ksmgroupctl: %s\n", error);
		return KSMG_EXIT_OK;
	}
	return ksmg_ctl_fail(w->ctl, errno, error, "watch");
}

static int watch_loop(struct watch *w, struct ksmg_nl *events, int sigfd)
{
	struct pollfd fds[2] = {
		{ .fd = ksmg_nl_fd(events), .events = POLLIN },
		{ .fd = sigfd, .events = POLLIN },
	};
	struct ksmg_ctl *ctl = w->ctl;
	struct timespec deadline;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)ctl->timeout_s;
	for (;;) {
		if (ctl->count != 0 && w->seen >= ctl->count)
			return KSMG_EXIT_OK;
		ret = poll(fds, 2, ctl->timeout_s ? (int)remaining_ms(&deadline) : -1);
		if (ret < 0 && errno != EINTR)
			return ksmg_ctl_fail(ctl, errno, NULL, "poll");
		if (fds[1].revents & POLLIN)
			return KSMG_EXIT_OK;
		if (ret == 0)
			break;
		if (fds[0].revents & (POLLIN | POLLERR)) {
			ret = receive(w, events);
			if (ret != KSMG_EXIT_OK)
				return ret;
		}
	}
	if (ctl->count != 0)
		return ksmg_ctl_fail(ctl, ETIMEDOUT, NULL,
				     "timed out after %lu s with %lu of %lu events",
				     ctl->timeout_s, w->seen, ctl->count);
	return KSMG_EXIT_OK;
}

int ksmg_ctl_cmd_watch(struct ksmg_ctl *ctl, int argc, char **argv)
{
	struct watch w = { .ctl = ctl };
	struct ksmg_nl *events;
	const char *error;
	int sigfd, ret;

	(void)argc;
	(void)argv;
	ret = ksmg_ctl_connect(ctl);
	if (ret != KSMG_EXIT_OK)
		return ret;
	/* Requests and events on separate sockets, so replies never mix. */
	if (ksmg_nl_open(&events, &error) < 0)
		return ksmg_ctl_fail(ctl, errno, error, "watch");
	if (ksmg_nl_subscribe(events, &error) < 0) {
		ret = ksmg_ctl_fail(ctl, errno, error, "watch");
		goto close_events;
	}
	sigfd = signals_open();
	if (sigfd < 0) {
		ret = ksmg_ctl_fail(ctl, errno, NULL, "signalfd");
		goto close_events;
	}
	/* Tests wait for this line before causing events. */
	fprintf(stderr, "ksmgroupctl: watching ksmgroup events (Ctrl-C stops)\n");
	ret = watch_loop(&w, events, sigfd);
	if (w.lost != 0)
		fprintf(stderr, "ksmgroupctl: events were lost %lu time(s)\n",
			w.lost);
	close(sigfd);
close_events:
	ksmg_nl_close(&events);
	return ret;
}
