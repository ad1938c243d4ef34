/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Secret memory: an allocator for everything that holds mail content,
 * credentials or TLS material. Its pages are kept out of KSM merging and out
 * of core dumps (MADV_DONTDUMP then MADV_UNMERGEABLE, through libksmgroup's
 * ksmg_exclude_self() when it is linked in), so that a merge group of
 * workers never shares a page of one user's mail with another's, and a
 * crashing worker does not dump mail.
 *
 * Everything else (parsers, tables, the event loop) uses plain malloc and
 * stays mergeable: that is the memory workers have in common.
 *
 * Blocks are wiped when freed. Small blocks come from size classes carved
 * out of large reserved regions (so the whole region is one excluded
 * mapping, not one mapping per block); big blocks get their own excluded
 * mapping, unmapped on free. Single-threaded, like every dboxd process.
 */
#ifndef DBOXD_SECRET_H
#define DBOXD_SECRET_H

#include <stddef.h>

/* Reserve the first region now, so that a worker template's children all
   inherit it (and its exclusion). Safe to call more than once. */
int dboxd_secret_init(const char **error_r);
/* Exclude every region again. prctl(PR_SET_MEMORY_MERGE) marks all of a
   process's mappings mergeable, earlier exclusions included, so a worker
   calls this right after it. */
int dboxd_secret_reexclude(const char **error_r);
/* How exclusion is done: "ksmg_exclude_self" or "madvise". */
const char *dboxd_secret_method(void);

/* Like malloc/realloc/free; allocation failure is fatal (logged). */
void *dboxd_secret_alloc(size_t size);
void *dboxd_secret_realloc(void *ptr, size_t size);
void dboxd_secret_free(void *ptr);
char *dboxd_secret_strdup(const char *str);
/* Bytes currently handed out, for tests and statistics. */
size_t dboxd_secret_in_use(void);

#endif
