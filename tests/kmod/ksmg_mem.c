// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Looking at a process's memory from outside: page patterns that KSM can
 * merge, the VmFlags of its mappings in /proc/PID/smaps ("mg" is
 * VM_MERGEABLE, "dd" VM_DONTDUMP, "wf" VM_WIPEONFORK), and whether its
 * pages share frames with another process's (/proc/PID/pagemap, root only).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ksmg_test.h"

#define PM_PRESENT		(1ULL << 63)
#define PM_PFN_MASK		((1ULL << 55) - 1)

long ksmg_page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/*
 * Page i gets the word (seed << 32 | i + 1) everywhere: pages differ from
 * each other within a process (no merging inside one process), equal
 * across processes that use the same seed, and never zero (zero pages
 * would go to the zero page, not to the group's KSM pages).
 */
void ksmg_fill_pattern(void *addr, size_t pages, uint32_t seed)
{
	size_t words = (size_t)ksmg_page_size() / sizeof(uint64_t);
	uint64_t *p = addr;
	size_t i, j;

	for (i = 0; i < pages; i++) {
		uint64_t v = (uint64_t)seed << 32 | (uint64_t)(i + 1);

		for (j = 0; j < words; j++)
			*p++ = v;
	}
}

/*
 * Walk /proc/PID/smaps: @fn sees each mapping's header line and VmFlags
 * line; a non-zero return stops the walk and is returned.
 */
static int ksmg_smaps_walk(pid_t pid,
			   int (*fn)(const char *head, const char *flags,
				     void *arg),
			   void *arg)
{
	char path[64], head[512] = "", line[512];
	int ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			snprintf(head, sizeof(head), "%s", line);
			continue;
		}
		if (strncmp(line, "VmFlags:", 8))
			continue;
		ret = fn(head, line + 8, arg);
		if (ret)
			break;
	}
	fclose(f);
	return ret;
}

struct ksmg_vma_find {
	uintptr_t addr;
	char *buf;
	size_t size;
};

static int ksmg_vma_find_fn(const char *head, const char *flags, void *arg)
{
	struct ksmg_vma_find *find = arg;
	unsigned long start, end;

	if (sscanf(head, "%lx-%lx", &start, &end) != 2 ||
	    find->addr < start || find->addr >= end)
		return 0;
	snprintf(find->buf, find->size, "%s", flags);
	return 1;
}

/* The VmFlags of the mapping of @pid that holds @addr. */
int ksmg_vma_flags(pid_t pid, uintptr_t addr, char *buf, size_t size)
{
	struct ksmg_vma_find find = { .addr = addr, .buf = buf,
				      .size = size };
	int ret = ksmg_smaps_walk(pid, ksmg_vma_find_fn, &find);

	if (ret < 0)
		return -1;
	if (ret == 0) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

static bool ksmg_flags_have(const char *flags, const char *flag)
{
	char copy[512], *tok, *save = NULL;

	snprintf(copy, sizeof(copy), "%s", flags);
	for (tok = strtok_r(copy, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save))
		if (!strcmp(tok, flag))
			return true;
	return false;
}

/* 1 when @pid's mapping at @addr has @flag in VmFlags, 0 if not, -1. */
int ksmg_vma_has_flag(pid_t pid, uintptr_t addr, const char *flag)
{
	char flags[512];

	if (ksmg_vma_flags(pid, addr, flags, sizeof(flags)))
		return -1;
	return ksmg_flags_have(flags, flag);
}

struct ksmg_anon_count {
	unsigned int total, marked, unmarked;
};

/* Private, no file, not a special mapping ([vdso], [vvar], ...). */
static bool ksmg_head_is_private_anon(const char *head)
{
	char perms[8] = "", name[256] = "";
	unsigned long start, end, off, inode;
	unsigned int maj, min;
	int n;

	n = sscanf(head, "%lx-%lx %7s %lx %x:%x %lu %255s", &start, &end,
		   perms, &off, &maj, &min, &inode, name);
	if (n < 7 || perms[3] != 'p' || inode != 0)
		return false;
	return name[0] == '\0' || !strcmp(name, "[heap]") ||
	       !strcmp(name, "[stack]") || !strncmp(name, "[anon:", 6);
}

static int ksmg_anon_count_fn(const char *head, const char *flags, void *arg)
{
	struct ksmg_anon_count *c = arg;

	if (!ksmg_head_is_private_anon(head) ||
	    ksmg_flags_have(flags, "dd") || ksmg_flags_have(flags, "wf"))
		return 0;
	c->total++;
	if (ksmg_flags_have(flags, "mg"))
		c->marked++;
	else
		c->unmarked++;
	return 0;
}

/*
 * Count @pid's private anonymous mappings that the module should mark
 * (those without "dd" or "wf"), and how many of them carry "mg".
 */
int ksmg_anon_vmas(pid_t pid, unsigned int *total_r, unsigned int *marked_r,
		   unsigned int *unmarked_r)
{
	struct ksmg_anon_count c = { 0 };

	if (ksmg_smaps_walk(pid, ksmg_anon_count_fn, &c) < 0)
		return -1;
	*total_r = c.total;
	*marked_r = c.marked;
	*unmarked_r = c.unmarked;
	return 0;
}

/*
 * The page frame numbers of @pages pages of @pid from @addr, 0 for a page
 * not present. Two processes share a page (KSM merged it, or fork did)
 * exactly when they map the same frame. KPF_KSM of /proc/kpageflags would
 * be more direct, but 6.12 sets it on every anonymous page (it tests
 * mapping & PAGE_MAPPING_KSM, which PAGE_MAPPING_ANON alone satisfies).
 */
int ksmg_page_pfns(pid_t pid, uintptr_t addr, size_t pages, uint64_t *pfns)
{
	uint64_t vpn = addr / (uint64_t)ksmg_page_size();
	size_t want = pages * sizeof(*pfns), i;
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = pread(fd, pfns, want, (off_t)(vpn * sizeof(*pfns)));
	close(fd);
	if (n != (ssize_t)want) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	for (i = 0; i < pages; i++) {
		if (!(pfns[i] & PM_PRESENT)) {
			pfns[i] = 0;
			continue;
		}
		pfns[i] &= PM_PFN_MASK;
		if (!pfns[i]) {
			/* PFNs hidden: not root, cannot tell. */
			errno = EPERM;
			return -1;
		}
	}
	return 0;
}
