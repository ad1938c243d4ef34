// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "dbox-util.h"

/* The last error of this thread; returned pointers stay valid until the
   next failure in the same thread. */
static __thread char last_error[512];
static __thread enum dbox_error last_error_class;

enum dbox_error dbox_last_error(void)
{
	return last_error_class;
}

const char *dbox_last_error_str(void)
{
	return last_error;
}

int dbox_fail(const char **error_r, enum dbox_error err, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, args);
	va_end(args);
	last_error_class = err;
	if (error_r != NULL)
		*error_r = last_error;
	return -1;
}

int dbox_fail_prefix(const char **error_r, const char *fmt, ...)
{
	char prefix[256], old[sizeof(last_error)];
	size_t plen, olen;
	va_list args;

	va_start(args, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, args);
	va_end(args);
	memcpy(old, last_error, sizeof(old));
	/* "prefix: old", cut to fit (snprintf would warn about the cut) */
	plen = strnlen(prefix, sizeof(prefix) - 1);
	memcpy(last_error, prefix, plen);
	memcpy(last_error + plen, ": ", 2);
	olen = strnlen(old, sizeof(last_error) - plen - 3);
	memcpy(last_error + plen + 2, old, olen);
	last_error[plen + 2 + olen] = '\0';
	if (error_r != NULL)
		*error_r = last_error;
	return -1;
}

static void *check_alloc(void *ptr)
{
	if (ptr == NULL) {
		fputs("dbox: out of memory\n", stderr);
		abort();
	}
	return ptr;
}

void *dbox_malloc(size_t size)
{
	return check_alloc(malloc(size == 0 ? 1 : size));
}

void *dbox_calloc(size_t n, size_t size)
{
	return check_alloc(calloc(n == 0 ? 1 : n, size == 0 ? 1 : size));
}

void *dbox_realloc(void *ptr, size_t size)
{
	return check_alloc(realloc(ptr, size == 0 ? 1 : size));
}

char *dbox_strdup(const char *s)
{
	return check_alloc(strdup(s));
}

char *dbox_strndup(const char *s, size_t n)
{
	return check_alloc(strndup(s, n));
}

char *dbox_printf(const char *fmt, ...)
{
	va_list args;
	char *str;
	int ret;

	va_start(args, fmt);
	ret = vasprintf(&str, fmt, args);
	va_end(args);
	return check_alloc(ret < 0 ? NULL : str);
}

void *dbox_mail_malloc(const struct dbox_allocator *alloc, size_t size)
{
	if (alloc == NULL)
		return dbox_malloc(size);
	return check_alloc(alloc->alloc(size == 0 ? 1 : size));
}

void dbox_mail_free(const struct dbox_allocator *alloc, void *ptr)
{
	if (alloc == NULL)
		free(ptr);
	else if (ptr != NULL)
		alloc->free(ptr);
}

void dbox_buf_reserve(struct dbox_buf *buf, size_t more)
{
	size_t cap = buf->cap == 0 ? 256 : buf->cap;

	if (buf->len + more + 1 <= buf->cap)
		return;
	while (cap < buf->len + more + 1)
		cap *= 2;
	if (buf->alloc == NULL)
		buf->data = dbox_realloc(buf->data, cap);
	else
		buf->data = check_alloc(buf->alloc->realloc(buf->data, cap));
	buf->cap = cap;
}

void dbox_buf_append(struct dbox_buf *buf, const void *data, size_t size)
{
	dbox_buf_reserve(buf, size);
	if (size > 0)
		memcpy(buf->data + buf->len, data, size);
	buf->len += size;
	buf->data[buf->len] = '\0';
}

void dbox_buf_printf(struct dbox_buf *buf, const char *fmt, ...)
{
	char small[256];
	va_list args;
	int len;

	/* most lines are short: format once on the stack */
	va_start(args, fmt);
	len = vsnprintf(small, sizeof(small), fmt, args);
	va_end(args);
	if (len < 0)
		return;
	if ((size_t)len < sizeof(small)) {
		dbox_buf_append(buf, small, (size_t)len);
		return;
	}
	dbox_buf_reserve(buf, (size_t)len);
	va_start(args, fmt);
	vsnprintf((char *)buf->data + buf->len, (size_t)len + 1, fmt, args);
	va_end(args);
	buf->len += (size_t)len;
}

void dbox_buf_free(struct dbox_buf *buf)
{
	const struct dbox_allocator *alloc = buf->alloc;

	dbox_mail_free(alloc, buf->data);
	memset(buf, 0, sizeof(*buf));
	buf->alloc = alloc;	/* reusable, still in the same memory */
}

int dbox_hex_to_u64(const char *str, size_t len, uint64_t *value_r)
{
	uint64_t value = 0;
	size_t i;
	int digit;

	if (len == 0 || len > 16)
		return -1;
	for (i = 0; i < len; i++) {
		char c = str[i];

		if (c >= '0' && c <= '9')
			digit = c - '0';
		else if (c >= 'a' && c <= 'f')
			digit = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			digit = c - 'A' + 10;
		else
			return -1;
		value = (value << 4) | (uint64_t)digit;
	}
	*value_r = value;
	return 0;
}

void dbox_guid_generate(char guid_r[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[16];
	size_t got = 0;
	ssize_t ret;
	unsigned int i;

	while (got < sizeof(raw)) {
		ret = getrandom(raw + got, sizeof(raw) - got, 0);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			/* getrandom cannot fail on Linux >= 3.17 except
			   EINTR; a GUID made of time would collide */
			abort();
		}
		got += (size_t)ret;
	}
	for (i = 0; i < sizeof(raw); i++) {
		guid_r[i * 2] = hex[raw[i] >> 4];
		guid_r[i * 2 + 1] = hex[raw[i] & 0xf];
	}
	guid_r[32] = '\0';
}

int64_t dbox_now(void)
{
	return (int64_t)time(NULL);
}

#define ARENA_CHUNK (64 * 1024)

struct dbox_arena_chunk {
	struct dbox_arena_chunk *next;
	size_t used, size;
	unsigned char data[];
};

struct dbox_arena {
	struct dbox_arena_chunk *chunks;
};

struct dbox_arena *dbox_arena_create(void)
{
	return dbox_calloc(1, sizeof(struct dbox_arena));
}

void *dbox_arena_alloc(struct dbox_arena *arena, size_t size)
{
	struct dbox_arena_chunk *chunk = arena->chunks;
	size_t chunk_size;
	void *ptr;

	size = (size + 7) & ~(size_t)7;
	if (chunk == NULL || chunk->size - chunk->used < size) {
		chunk_size = size > ARENA_CHUNK ? size : ARENA_CHUNK;
		chunk = dbox_malloc(sizeof(*chunk) + chunk_size);
		chunk->used = 0;
		chunk->size = chunk_size;
		chunk->next = arena->chunks;
		arena->chunks = chunk;
	}
	ptr = chunk->data + chunk->used;
	chunk->used += size;
	return ptr;
}

char *dbox_arena_strndup(struct dbox_arena *arena, const char *s, size_t n)
{
	char *p = dbox_arena_alloc(arena, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void dbox_arena_free(struct dbox_arena **_arena)
{
	struct dbox_arena *arena = *_arena;
	struct dbox_arena_chunk *chunk;

	if (arena == NULL)
		return;
	*_arena = NULL;
	while ((chunk = arena->chunks) != NULL) {
		arena->chunks = chunk->next;
		free(chunk);
	}
	free(arena);
}
