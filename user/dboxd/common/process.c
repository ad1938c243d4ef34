// SPDX-License-Identifier: GPL-2.0-or-later
/* Process helpers shared by the roles; see roles.h. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "roles.h"

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void close_range_simple(unsigned int first, unsigned int last)
{
	if (first > last)
		return;
	if (syscall(SYS_close_range, first, last, 0) == 0)
		return;
	/* No close_range (before 5.9): one by one up to the limit. */
	for (unsigned int fd = first; fd <= last && fd < 65536; fd++)
		close((int)fd);
}

void dboxd_close_fds_except(const int *keep, unsigned int count)
{
	int sorted[64];
	unsigned int n = 0, next = 3;

	for (unsigned int i = 0; i < count && n < 64; i++) {
		if (keep[i] >= 3)
			sorted[n++] = keep[i];
	}
	qsort(sorted, n, sizeof(int), cmp_int);
	for (unsigned int i = 0; i < n; i++) {
		if ((unsigned int)sorted[i] > next)
			close_range_simple(next, (unsigned int)sorted[i] - 1);
		next = (unsigned int)sorted[i] + 1;
	}
	close_range_simple(next, ~0U);
}

void dboxd_reset_signals(void)
{
	sigset_t set;

	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		signal(sig, SIG_DFL);
	}
	/* Peers closing sockets must not kill us; writes report EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

int dboxd_signalfd_open(int extra_signo)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (extra_signo > 0)
		sigaddset(&set, extra_signo);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd;
}
