// SPDX-License-Identifier: GPL-2.0-or-later
/* Bump allocator; see pool.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pool.h"
#include "secret.h"

#define POOL_CHUNK 4096

struct dboxd_pool_chunk {
	struct dboxd_pool_chunk *next;
	size_t size;
	/* 16-byte aligned payload follows */
	unsigned char pad[16 - 2 * sizeof(size_t) % 16];
};

void dboxd_pool_init(struct dboxd_pool *pool)
{
	memset(pool, 0, sizeof(*pool));
}

void dboxd_pool_init_secret(struct dboxd_pool *pool)
{
	memset(pool, 0, sizeof(*pool));
	pool->secret = true;
}

static void chunk_free(const struct dboxd_pool *pool,
		       struct dboxd_pool_chunk *c)
{
	if (pool->secret)
		dboxd_secret_free(c);
	else
		free(c);
}

static void pool_add_chunk(struct dboxd_pool *pool, size_t need)
{
	size_t size = need > POOL_CHUNK - sizeof(struct dboxd_pool_chunk) ?
		      need + sizeof(struct dboxd_pool_chunk) : POOL_CHUNK;
	struct dboxd_pool_chunk *c = pool->secret ? dboxd_secret_alloc(size) :
				     malloc(size);

	if (c == NULL)
		dboxd_fatal("out of memory");
	c->size = size;
	c->next = pool->chunks;
	pool->chunks = c;
	pool->next = (unsigned char *)(c + 1);
	pool->left = size - sizeof(*c);
}

void *dboxd_pool_alloc(struct dboxd_pool *pool, size_t size)
{
	void *p;

	size = (size + 15) & ~(size_t)15;
	if (size == 0)
		size = 16;
	if (size > pool->left)
		pool_add_chunk(pool, size);
	p = pool->next;
	pool->next += size;
	pool->left -= size;
	memset(p, 0, size);
	return p;
}

char *dboxd_pool_strndup(struct dboxd_pool *pool, const char *str, size_t len)
{
	char *p = dboxd_pool_alloc(pool, len + 1);

	memcpy(p, str, len);
	p[len] = '\0';
	return p;
}

char *dboxd_pool_strdup(struct dboxd_pool *pool, const char *str)
{
	return dboxd_pool_strndup(pool, str, strlen(str));
}

char *dboxd_pool_printf(struct dboxd_pool *pool, const char *fmt, ...)
{
	va_list args;
	char *p;
	int n;

	va_start(args, fmt);
	n = vsnprintf(NULL, 0, fmt, args);
	va_end(args);
	p = dboxd_pool_alloc(pool, (size_t)n + 1);
	va_start(args, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, args);
	va_end(args);
	return p;
}

void dboxd_pool_clear(struct dboxd_pool *pool)
{
	struct dboxd_pool_chunk *keep;

	if (pool->chunks == NULL)
		return;
	/* Keep the oldest chunk (the last in the list) if it is a normal
	   one; big one-off chunks go. */
	while (pool->chunks->next != NULL) {
		struct dboxd_pool_chunk *c = pool->chunks;

		pool->chunks = c->next;
		chunk_free(pool, c);
	}
	keep = pool->chunks;
	if (keep->size != POOL_CHUNK) {
		chunk_free(pool, keep);
		pool->chunks = NULL;
		pool->left = 0;
		pool->next = NULL;
		return;
	}
	pool->next = (unsigned char *)(keep + 1);
	pool->left = keep->size - sizeof(*keep);
}

void dboxd_pool_free(struct dboxd_pool *pool)
{
	bool secret = pool->secret;

	while (pool->chunks != NULL) {
		struct dboxd_pool_chunk *c = pool->chunks;

		pool->chunks = c->next;
		chunk_free(pool, c);
	}
	dboxd_pool_init(pool);
	pool->secret = secret;
}
