// SPDX-License-Identifier: GPL-2.0-or-later
/* The secret-memory allocator; see secret.h for what it is for. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "secret.h"
#ifdef HAVE_KSMGROUP
#include "ksmgroup.h"
#endif

/* 256 MiB of address space per region; pages cost only when touched. */
#define SECRET_REGION_SIZE	(256UL << 20)
#define SECRET_MIN_SHIFT	5	/* 32-byte blocks */
#define SECRET_MAX_SHIFT	20	/* 1 MiB blocks */
#define SECRET_CLASSES		(SECRET_MAX_SHIFT - SECRET_MIN_SHIFT + 1)
#define SECRET_LARGE		0xffU
#define SECRET_MAGIC		0x5ec7e7U

/* Precedes every block; 16 bytes keeps the payload 16-byte aligned. */
struct secret_hdr {
	uint32_t magic;
	uint32_t class;		/* size class, or SECRET_LARGE */
	uint64_t size;		/* payload bytes the caller asked for, or the
				   mapping length for a large block */
};

struct secret_free {
	struct secret_free *next;
};

struct secret_region {
	unsigned char *base;
	size_t used;
};

static struct secret_region regions[64];
static unsigned int region_count;
static struct secret_free *free_lists[SECRET_CLASSES];
static size_t in_use;
static long page_size;

static int secret_exclude(void *addr, size_t len)
{
#ifdef HAVE_KSMGROUP
	return ksmg_exclude_self(addr, len);
#else
	if (madvise(addr, len, MADV_DONTDUMP) < 0)
		return -1;
	/* EINVAL: the kernel has no KSM; nothing to keep out of. */
	if (madvise(addr, len, MADV_UNMERGEABLE) < 0 && errno != EINVAL)
		return -1;
	return 0;
#endif
}

const char *dboxd_secret_method(void)
{
#ifdef HAVE_KSMGROUP
	return "ksmg_exclude_self";
#else
	return "madvise";
#endif
}

/*
 * Secret blocks are small and scattered over a 256 MiB region, and never
 * merge: with transparent huge pages set to "always" (Debian's kernels)
 * the first block touched in each 2 MiB of the region would cost 2 MiB,
 * which made every worker 2 MiB bigger. EINVAL: a kernel without THP.
 */
static int secret_no_huge_pages(void *addr, size_t len)
{
	if (madvise(addr, len, MADV_NOHUGEPAGE) < 0 && errno != EINVAL)
		return -1;
	return 0;
}

static void *secret_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (secret_no_huge_pages(p, len) < 0 || secret_exclude(p, len) < 0) {
		int err = errno;

		munmap(p, len);
		errno = err;
		return NULL;
	}
	return p;
}

static int secret_add_region(void)
{
	void *p;

	if (region_count == sizeof(regions) / sizeof(regions[0])) {
		errno = ENOMEM;
		return -1;
	}
	p = secret_map(SECRET_REGION_SIZE);
	if (p == NULL)
		return -1;
	regions[region_count].base = p;
	regions[region_count].used = 0;
	region_count++;
	return 0;
}

int dboxd_secret_init(const char **error_r)
{
	if (page_size == 0)
		page_size = sysconf(_SC_PAGESIZE);
	if (region_count > 0)
		return 0;
	if (secret_add_region() < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	return 0;
}

int dboxd_secret_reexclude(const char **error_r)
{
	for (unsigned int i = 0; i < region_count; i++) {
		if (secret_exclude(regions[i].base, SECRET_REGION_SIZE) < 0) {
			*error_r = strerror(errno);
			return -1;
		}
	}
	/* Large blocks are mapped per allocation; a worker has none yet
	   when it calls this (it runs before any client). */
	return 0;
}

static unsigned int secret_class(size_t total)
{
	unsigned int shift = SECRET_MIN_SHIFT;

	while (((size_t)1 << shift) < total)
		shift++;
	return shift - SECRET_MIN_SHIFT;
}

/* Carve a new block of a class from the newest region, aligned to its
   size up to a page so that big blocks can give pages back on free. */
static void *secret_carve(unsigned int class)
{
	size_t size = (size_t)1 << (class + SECRET_MIN_SHIFT);
	size_t align = size < (size_t)page_size ? size : (size_t)page_size;
	struct secret_region *r;
	size_t off;

	if (region_count == 0 && secret_add_region() < 0)
		return NULL;
	r = &regions[region_count - 1];
	off = (r->used + align - 1) & ~(align - 1);
	if (off + size > SECRET_REGION_SIZE) {
		if (secret_add_region() < 0)
			return NULL;
		r = &regions[region_count - 1];
		off = 0;
	}
	r->used = off + size;
	return r->base + off;
}

static void *secret_alloc_large(size_t size)
{
	size_t len = (size + sizeof(struct secret_hdr) + page_size - 1) &
		     ~((size_t)page_size - 1);
	struct secret_hdr *hdr = secret_map(len);

	if (hdr == NULL)
		return NULL;
	hdr->magic = SECRET_MAGIC;
	hdr->class = SECRET_LARGE;
	hdr->size = len;
	in_use += len;
	return hdr + 1;
}

void *dboxd_secret_alloc(size_t size)
{
	size_t total = size + sizeof(struct secret_hdr);
	struct secret_hdr *hdr;
	unsigned int class;

	if (page_size == 0)
		page_size = sysconf(_SC_PAGESIZE);
	if (size > SIZE_MAX / 2)
		dboxd_fatal("secret alloc: %zu bytes is absurd", size);
	if (total > ((size_t)1 << SECRET_MAX_SHIFT)) {
		void *p = secret_alloc_large(size);

		if (p == NULL)
			dboxd_fatal("secret alloc(%zu): %m", size);
		return p;
	}
	class = secret_class(total);
	if (free_lists[class] != NULL) {
		hdr = (struct secret_hdr *)free_lists[class];
		free_lists[class] = free_lists[class]->next;
	} else {
		hdr = secret_carve(class);
		if (hdr == NULL)
			dboxd_fatal("secret alloc(%zu): %m", size);
	}
	hdr->magic = SECRET_MAGIC;
	hdr->class = class;
	hdr->size = size;
	in_use += size;
	return hdr + 1;
}

static struct secret_hdr *secret_hdr(void *ptr)
{
	struct secret_hdr *hdr = (struct secret_hdr *)ptr - 1;

	if (hdr->magic != SECRET_MAGIC)
		dboxd_fatal("secret free: %p is not a secret block", ptr);
	return hdr;
}

void dboxd_secret_free(void *ptr)
{
	struct secret_hdr *hdr;
	struct secret_free *f;
	size_t block;

	if (ptr == NULL)
		return;
	hdr = secret_hdr(ptr);
	if (hdr->class == SECRET_LARGE) {
		in_use -= hdr->size;
		/* munmap drops the pages; nothing to wipe. */
		munmap(hdr, hdr->size);
		return;
	}
	in_use -= hdr->size;
	block = (size_t)1 << (hdr->class + SECRET_MIN_SHIFT);
	if (block > (size_t)page_size) {
		/* Give whole pages back; they read as zeroes afterwards. */
		explicit_bzero(ptr, page_size - sizeof(*hdr));
		madvise((unsigned char *)hdr + page_size, block - page_size,
			MADV_DONTNEED);
	} else {
		explicit_bzero(ptr, hdr->size);
	}
	hdr->magic = 0;
	f = (struct secret_free *)hdr;
	f->next = free_lists[hdr->class];
	free_lists[hdr->class] = f;
}

void *dboxd_secret_realloc(void *ptr, size_t size)
{
	struct secret_hdr *hdr;
	size_t old_size, cap;
	void *p;

	if (ptr == NULL)
		return dboxd_secret_alloc(size);
	hdr = secret_hdr(ptr);
	if (hdr->class == SECRET_LARGE) {
		cap = hdr->size - sizeof(*hdr);
		old_size = cap;
	} else {
		cap = ((size_t)1 << (hdr->class + SECRET_MIN_SHIFT)) -
		      sizeof(*hdr);
		old_size = hdr->size;
	}
	if (size <= cap) {
		if (hdr->class != SECRET_LARGE) {
			in_use += size;
			in_use -= old_size;
			hdr->size = size;
		}
		return ptr;
	}
	p = dboxd_secret_alloc(size);
	memcpy(p, ptr, old_size < size ? old_size : size);
	dboxd_secret_free(ptr);
	return p;
}

char *dboxd_secret_strdup(const char *str)
{
	size_t len = strlen(str) + 1;
	char *p = dboxd_secret_alloc(len);

	memcpy(p, str, len);
	return p;
}

size_t dboxd_secret_in_use(void)
{
	return in_use;
}
