// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * memhog: a process whose anonymous memory is known exactly, to check the
 * memory instruments against (tests/suites/loadgen.sh).
 *
 *   memhog [-a HEXADDR] [-u UNIQUE] [-s SAME] [-z ZERO] [-S SEED] [-f]
 *
 * Maps UNIQUE + SAME + ZERO private anonymous pages (at HEXADDR if given)
 * and writes them: UNIQUE pages of pseudo-random bytes, different in every
 * page and, for different SEEDs, in every process; SAME pages all holding
 * one fixed pattern (identical within and across processes); ZERO pages
 * written with zero bytes (present, all zero). THP is disabled for the
 * mapping so that every page is a page of its own. With -f a child is
 * forked after the writes and shares every page copy-on-write.
 * Prints "ready PID [CHILD]" and holds the memory until stdin reaches end
 * of file or a SIGTERM arrives.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rng.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static void hog_fill(unsigned char *mem, long ps, unsigned long unique,
		     unsigned long same, unsigned long zero, uint64_t seed)
{
	struct bench_rng r;

	bench_rng_init(&r, seed, 0);
	for (unsigned long i = 0; i < unique; i++) {
		uint64_t *w = (uint64_t *)(mem + i * ps);

		for (long j = 0; j < ps / 8; j++)
			w[j] = bench_rng_next(&r);
	}
	mem += unique * ps;
	for (unsigned long i = 0; i < same; i++)
		for (long j = 0; j < ps; j++)
			mem[i * ps + j] = (unsigned char)(0x5a ^ (j * 7));
	mem += same * ps;
	/* volatile: the writes of zero must fault the pages in */
	for (unsigned long i = 0; i < zero; i++)
		((volatile unsigned char *)mem)[i * ps] = 0;
}

int main(int argc, char **argv)
{
	unsigned long unique = 0, same = 0, zero = 0, addr = 0;
	long ps = sysconf(_SC_PAGESIZE);
	uint64_t seed = 1;
	bool fork_child = false;
	pid_t child = 0;
	size_t len;
	void *mem;
	char c;
	int o;

	while ((o = getopt(argc, argv, "a:u:s:z:S:f")) != -1) {
		switch (o) {
		case 'a': addr = strtoul(optarg, NULL, 16); break;
		case 'u': unique = strtoul(optarg, NULL, 0); break;
		case 's': same = strtoul(optarg, NULL, 0); break;
		case 'z': zero = strtoul(optarg, NULL, 0); break;
		case 'S': seed = strtoull(optarg, NULL, 0); break;
		case 'f': fork_child = true; break;
		default:
			fprintf(stderr, "usage: memhog [-a HEXADDR] [-u N] [-s N] [-z N] [-S SEED] [-f]\n");
			return 2;
		}
	}
	len = (unique + same + zero) * ps;
	if (len == 0)
		len = ps;
	mem = mmap((void *)addr, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | (addr ? MAP_FIXED_NOREPLACE : 0),
		   -1, 0);
	if (mem == MAP_FAILED) {
		fprintf(stderr, "memhog: mmap: %s\n", strerror(errno));
		return 1;
	}
	if (madvise(mem, len, MADV_NOHUGEPAGE) < 0)
		fprintf(stderr, "memhog: MADV_NOHUGEPAGE: %s\n", strerror(errno));
	hog_fill(mem, ps, unique, same, zero, seed);
	if (fork_child) {
		child = fork();
		if (child < 0) {
			fprintf(stderr, "memhog: fork: %s\n", strerror(errno));
			return 1;
		}
		if (child == 0) {
			pause();
			_exit(0);
		}
		printf("ready %d %d\n", getpid(), child);
	} else {
		printf("ready %d\n", getpid());
	}
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	if (child > 0) {
		kill(child, SIGTERM);
		waitpid(child, NULL, 0);
	}
	return 0;
}
