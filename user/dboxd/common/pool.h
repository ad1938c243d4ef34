/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A bump allocator for things that die together (one command's parsed
   arguments, one message's MIME structure). */
#ifndef DBOXD_POOL_H
#define DBOXD_POOL_H

#include <stdbool.h>
#include <stddef.h>

struct dboxd_pool_chunk;

struct dboxd_pool {
	struct dboxd_pool_chunk *chunks;
	size_t left;
	unsigned char *next;
	bool secret;
};

void dboxd_pool_init(struct dboxd_pool *pool);
/* A pool for parsed mail (MIME structure, header values): its chunks
   come from secret memory and are wiped when freed. */
void dboxd_pool_init_secret(struct dboxd_pool *pool);
/* Zeroed memory, 16-byte aligned. */
void *dboxd_pool_alloc(struct dboxd_pool *pool, size_t size);
char *dboxd_pool_strndup(struct dboxd_pool *pool, const char *str, size_t len);
char *dboxd_pool_strdup(struct dboxd_pool *pool, const char *str);
char *dboxd_pool_printf(struct dboxd_pool *pool, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Free everything but keep the first chunk for reuse. */
void dboxd_pool_clear(struct dboxd_pool *pool);
void dboxd_pool_free(struct dboxd_pool *pool);

#endif
