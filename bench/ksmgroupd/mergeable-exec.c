// SPDX-License-Identifier: GPL-2.0-or-later
/* Set PR_SET_MEMORY_MERGE on this process and exec ARGV[1..]: the peer of
 * ksmgroupd in the benchmark (children of the exec'd program inherit it). */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/prctl.h>

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PROGRAM [ARGS...]\n", argv[0]);
		return 2;
	}
	if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0) < 0) {
		/* 6.1 has no such prctl: say so, the caller reports "unavailable". */
		fprintf(stderr, "mergeable-exec: prctl(PR_SET_MEMORY_MERGE): %s\n",
			strerror(errno));
		return 3;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "mergeable-exec: exec %s: %s\n", argv[1], strerror(errno));
	return 127;
}
