// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ksm-exec: run a program with KSM enabled for all of its memory.
 *
 *   ksm-exec PROGRAM [ARGS...]
 *
 * prctl(PR_SET_MEMORY_MERGE, 1) (Linux 6.4+) marks every present and
 * future anonymous mapping of this process mergeable; the flag survives
 * fork, and execve since Linux 6.7, so a server started through this
 * wrapper (Dovecot's master) passes it to every process it forks and
 * execs. Whether ksmd actually runs is /sys/kernel/mm/ksm/run's business.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: ksm-exec PROGRAM [ARGS...]\n");
		return 2;
	}
	if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0) < 0) {
		fprintf(stderr, "ksm-exec: prctl(PR_SET_MEMORY_MERGE): %s\n",
			strerror(errno));
		return 126;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "ksm-exec: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
