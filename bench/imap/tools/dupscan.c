// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dupscan: how many anonymous pages of a set of processes are truly
 * duplicate, i.e. the most any page merger (KSM) could save.
 *
 *   dupscan [-r LO-HI] [-v] PID...
 *
 * For every private mapping of every PID, /proc/PID/pagemap says which
 * pages are present and anonymous (not file-backed, not the shared zero
 * page) and gives their frame numbers; the contents of those pages are
 * read from /proc/PID/mem and hashed (SHA-256, first 128 bits). A frame
 * mapped by several processes (fork's copy-on-write, or a page KSM already
 * merged) is counted once. Output, one line of key=value:
 *
 *   procs      processes scanned
 *   vpages     present anonymous pages, counted per mapping
 *   frames     distinct physical frames among them (the memory used)
 *   contents   distinct contents among those frames
 *   dup        frames - contents: frames a perfect merger would free
 *   zero       frames whose content is all zero bytes
 *   ksm        frames that are KSM pages already (/proc/kpageflags; not
 *              on 6.12, which flags every anonymous page KSM: it tests
 *              mapping & PAGE_MAPPING_KSM, which ANON alone satisfies)
 *   thp        frames inside transparent huge pages
 *
 * -r limits the scan to addresses [LO, HI) (hex), for tests. Reading
 * another process's memory needs ptrace access; frame numbers need
 * CAP_SYS_ADMIN (without it frames are counted per virtual page and ksm
 * and thp are 0). Pages the process changes while we read are counted as
 * they were read; scan idle processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#define PM_PFN_MASK ((1ULL << 55) - 1)
#define PM_FILE (1ULL << 61)
#define PM_PRESENT (1ULL << 63)
#define KPF_THP 22
#define KPF_KSM 21
#define KPF_ZERO_PAGE 24
#define DS_CHUNK 256	/* pages per read */

struct ds_page {
	uint64_t frame;		/* pfn, or a unique virtual key without one */
	uint8_t hash[16];
	bool zero, ksm, thp;
};

struct ds_scan {
	struct ds_page *pages;
	size_t n, cap;
	uint64_t lo, hi, vpages, vkey;
	long page_size;
	int kpageflags;		/* -1 if unreadable */
	bool have_pfn, verbose;
	EVP_MD_CTX *md;
};

static int ds_push(struct ds_scan *s, const struct ds_page *p)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 65536;
		struct ds_page *n = realloc(s->pages, cap * sizeof(*n));

		if (n == NULL)
			return -1;
		s->pages = n;
		s->cap = cap;
	}
	s->pages[s->n++] = *p;
	return 0;
}

static uint64_t ds_kflags(struct ds_scan *s, uint64_t pfn)
{
	uint64_t f = 0;

	if (s->kpageflags < 0 ||
	    pread(s->kpageflags, &f, 8, pfn * 8) != 8)
		return 0;
	return f;
}

static int ds_hash(struct ds_scan *s, const unsigned char *data, struct ds_page *p)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	bool zero = true;

	for (long i = 0; i < s->page_size && zero; i += 8)
		zero = *(const uint64_t *)(data + i) == 0;
	p->zero = zero;
	if (EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(s->md, data, s->page_size) != 1 ||
	    EVP_DigestFinal_ex(s->md, md, &mdlen) != 1)
		return -1;
	memcpy(p->hash, md, sizeof(p->hash));
	return 0;
}

/* One mapping [start, end) of PID. */
static int ds_scan_range(struct ds_scan *s, int pagemap, int mem,
			 uint64_t start, uint64_t end)
{
	uint64_t pm[DS_CHUNK];
	unsigned char *buf = malloc(DS_CHUNK * s->page_size);
	int ret = -1;

	if (buf == NULL)
		return -1;
	for (uint64_t va = start; va < end; va += DS_CHUNK * s->page_size) {
		size_t np = (end - va) / s->page_size;
		ssize_t got;

		if (np > DS_CHUNK)
			np = DS_CHUNK;
		got = pread(pagemap, pm, np * 8, va / s->page_size * 8);
		if (got != (ssize_t)(np * 8))
			goto out;
		for (size_t i = 0; i < np; i++) {
			uint64_t addr = va + i * s->page_size, flags;
			struct ds_page p = { 0 };

			if (!(pm[i] & PM_PRESENT) || (pm[i] & PM_FILE))
				continue;
			p.frame = pm[i] & PM_PFN_MASK;
			flags = s->have_pfn ? ds_kflags(s, p.frame) : 0;
			/* the shared zero page costs nothing */
			if (flags & (1ULL << KPF_ZERO_PAGE))
				continue;
			/* reading a page that vanished meanwhile is no error */
			if (pread(mem, buf, s->page_size, addr) != s->page_size)
				continue;
			if (!s->have_pfn)
				p.frame = s->vkey++;
			p.ksm = flags & (1ULL << KPF_KSM);
			p.thp = flags & (1ULL << KPF_THP);
			if (ds_hash(s, buf, &p) < 0 || ds_push(s, &p) < 0)
				goto out;
			s->vpages++;
		}
	}
	ret = 0;
out:
	free(buf);
	return ret;
}

/* Mappings whose anonymous pages KSM could ever see: private ones, but
 * not the kernel's special areas. */
static bool ds_mapping_wanted(const char *perms, const char *name)
{
	if (perms[3] != 'p')
		return false;
	return strcmp(name, "[vsyscall]") != 0 && strcmp(name, "[vvar]") != 0 &&
	       strcmp(name, "[vdso]") != 0 && strcmp(name, "[vvar_vclock]") != 0;
}

static int ds_scan_pid(struct ds_scan *s, int pid)
{
	char path[64], line[4096], perms[8], name[4096];
	int pagemap = -1, mem = -1, ret = -1;
	uint64_t before = s->vpages;
	FILE *maps = NULL;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = fopen(path, "re");
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pagemap = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (maps == NULL || pagemap < 0 || mem < 0) {
		fprintf(stderr, "dupscan: pid %d: %s\n", pid, strerror(errno));
		goto out;
	}
	while (fgets(line, sizeof(line), maps) != NULL) {
		uint64_t start, end;

		name[0] = '\0';
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %*s %*s %*s %4095[^\n]",
			   &start, &end, perms, name) < 3)
			continue;
		if (!ds_mapping_wanted(perms, name))
			continue;
		if (start < s->lo)
			start = s->lo;
		if (end > s->hi)
			end = s->hi;
		if (start >= end)
			continue;
		if (ds_scan_range(s, pagemap, mem, start, end) < 0) {
			fprintf(stderr, "dupscan: pid %d: %s\n", pid, strerror(errno));
			goto out;
		}
	}
	if (s->verbose)
		printf("pid=%d vpages=%" PRIu64 "\n", pid, s->vpages - before);
	ret = 0;
out:
	if (maps != NULL)
		fclose(maps);
	if (pagemap >= 0)
		close(pagemap);
	if (mem >= 0)
		close(mem);
	return ret;
}

static int ds_by_frame(const void *a, const void *b)
{
	const struct ds_page *x = a, *y = b;

	return x->frame < y->frame ? -1 : x->frame > y->frame;
}

static int ds_by_hash(const void *a, const void *b)
{
	return memcmp(((const struct ds_page *)a)->hash,
		      ((const struct ds_page *)b)->hash, 16);
}

static void ds_report(struct ds_scan *s, int procs)
{
	uint64_t frames = 0, contents = 0, zero = 0, ksm = 0, thp = 0;

	/* one entry per frame first, then count contents among them */
	qsort(s->pages, s->n, sizeof(*s->pages), ds_by_frame);
	for (size_t i = 0; i < s->n; i++) {
		if (i && s->pages[i].frame == s->pages[frames - 1].frame)
			continue;
		s->pages[frames++] = s->pages[i];
	}
	qsort(s->pages, frames, sizeof(*s->pages), ds_by_hash);
	for (size_t i = 0; i < frames; i++) {
		if (i == 0 || ds_by_hash(&s->pages[i - 1], &s->pages[i]) != 0)
			contents++;
		zero += s->pages[i].zero;
		ksm += s->pages[i].ksm;
		thp += s->pages[i].thp;
	}
	printf("procs=%d vpages=%" PRIu64 " frames=%" PRIu64 " contents=%" PRIu64
	       " dup=%" PRIu64 " zero=%" PRIu64 " ksm=%" PRIu64 " thp=%" PRIu64
	       " page_size=%ld pfn=%s\n", procs, s->vpages, frames, contents,
	       frames - contents, zero, ksm, thp, s->page_size,
	       s->have_pfn ? "yes" : "no");
}

/* Without CAP_SYS_ADMIN pagemap reports frame 0 for every page. */
static bool ds_probe_pfn(void)
{
	static volatile uint64_t probe = 1;
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = pread(fd, &e, 8, (uintptr_t)&probe / sysconf(_SC_PAGESIZE) * 8) == 8 &&
	     (e & PM_PRESENT) && (e & PM_PFN_MASK) != 0;
	close(fd);
	return ok;
}

int main(int argc, char **argv)
{
	struct ds_scan s = { .hi = UINT64_MAX, .kpageflags = -1 };
	int o, procs = 0, ret = 1;

	while ((o = getopt(argc, argv, "r:v")) != -1) {
		switch (o) {
		case 'r':
			if (sscanf(optarg, "%" SCNx64 "-%" SCNx64, &s.lo, &s.hi) != 2)
				goto usage;
			break;
		case 'v':
			s.verbose = true;
			break;
		default:
			goto usage;
		}
	}
	if (optind == argc)
		goto usage;
	s.page_size = sysconf(_SC_PAGESIZE);
	s.have_pfn = ds_probe_pfn();
	if (s.have_pfn)
		s.kpageflags = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	s.md = EVP_MD_CTX_new();
	if (s.md == NULL)
		goto out;
	for (int i = optind; i < argc; i++) {
		if (ds_scan_pid(&s, atoi(argv[i])) < 0)
			goto out;
		procs++;
	}
	ds_report(&s, procs);
	ret = 0;
out:
	EVP_MD_CTX_free(s.md);
	if (s.kpageflags >= 0)
		close(s.kpageflags);
	free(s.pages);
	return ret;
usage:
	fprintf(stderr, "usage: dupscan [-r LO-HI] [-v] PID...\n");
	return 2;
}
