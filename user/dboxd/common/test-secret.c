// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of secret memory: allocation, reuse, wiping, and that its
   mappings are MADV_DONTDUMP, without huge pages and not mergeable, also
   after prctl(PR_SET_MEMORY_MERGE) once dboxd_secret_reexclude() ran. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "secret.h"
#include "test-tap.h"

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif

/* The VmFlags of the mapping holding addr. */
static bool vmflags(const void *addr, char *flags, size_t size)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false;
	uintptr_t a = (uintptr_t)addr;

	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, ':') != NULL && line[8] != ':')
			in = a >= lo && a < hi;
		if (in && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(flags, size, "%s", line + 8);
			fclose(f);
			return true;
		}
	}
	fclose(f);
	return false;
}

static bool has_flag(const char *flags, const char *flag)
{
	char pat[8];

	snprintf(pat, sizeof(pat), " %s", flag);
	return strstr(flags, pat) != NULL;
}

int main(void)
{
	char flags[600];
	const char *error;
	char *a, *b, *big;

	tap_ok(dboxd_secret_init(&error) == 0, "init");
	a = dboxd_secret_alloc(100);
	memset(a, 'A', 100);
	tap_ok(dboxd_secret_in_use() == 100, "accounted");
	dboxd_secret_free(a);
	b = dboxd_secret_alloc(100);
	tap_ok(b == a, "a freed block is reused");
	tap_ok(b[0] == 0 && b[99] == 0, "and was wiped");
	big = dboxd_secret_alloc(3 << 20);
	memset(big, 'B', 3 << 20);
	tap_ok(vmflags(b, flags, sizeof(flags)) && has_flag(flags, "dd") &&
	       !has_flag(flags, "mg"), "small blocks: dontdump, not mergeable");
	tap_ok(vmflags(big, flags, sizeof(flags)) && has_flag(flags, "dd") &&
	       !has_flag(flags, "mg"), "a large block too");
	/* "nh": VM_NOHUGEPAGE, shown whether or not the kernel has THP on */
	tap_ok(vmflags(b, flags, sizeof(flags)) && has_flag(flags, "nh") &&
	       vmflags(big, flags, sizeof(flags)) && has_flag(flags, "nh"),
	       "no transparent huge pages in secret memory");
	b = dboxd_secret_realloc(b, 5000);
	tap_ok(b != NULL && vmflags(b, flags, sizeof(flags)) &&
	       has_flag(flags, "dd"), "realloc stays secret");
	if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0) < 0) {
		tap_skip("merge-any", "no PR_SET_MEMORY_MERGE");
	} else {
		vmflags(b, flags, sizeof(flags));
		tap_ok(has_flag(flags, "mg"),
		       "merge-any marks the secret region too (why reexclude)");
		tap_ok(dboxd_secret_reexclude(&error) == 0 &&
		       vmflags(b, flags, sizeof(flags)) &&
		       !has_flag(flags, "mg") && has_flag(flags, "dd"),
		       "reexclude takes it out again");
	}
	dboxd_secret_free(big);
	dboxd_secret_free(b);
	tap_ok(dboxd_secret_in_use() == 0, "all freed");
	return tap_done();
}
