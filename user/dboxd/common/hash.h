/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A small hash table keyed by strings or 64-bit ids (chaining, grows). */
#ifndef DBOXD_HASH_H
#define DBOXD_HASH_H

#include <stdbool.h>
#include <stdint.h>

struct dboxd_hash;

struct dboxd_hash *dboxd_hash_create(void);
/* Values are not freed. */
void dboxd_hash_destroy(struct dboxd_hash **hash);
unsigned int dboxd_hash_count(const struct dboxd_hash *hash);

void *dboxd_hash_get_str(const struct dboxd_hash *hash, const char *key);
/* Replaces an existing value. */
void dboxd_hash_set_str(struct dboxd_hash *hash, const char *key, void *value);
void dboxd_hash_remove_str(struct dboxd_hash *hash, const char *key);

void *dboxd_hash_get_id(const struct dboxd_hash *hash, uint64_t key);
void dboxd_hash_set_id(struct dboxd_hash *hash, uint64_t key, void *value);
void dboxd_hash_remove_id(struct dboxd_hash *hash, uint64_t key);

/* Call cb for every value; cb must not change the table. */
void dboxd_hash_foreach(struct dboxd_hash *hash,
			void (*cb)(void *value, void *context), void *context);
/* Copy out every value (malloc'd array) so the caller may change the
   table while going through them. */
void **dboxd_hash_values(struct dboxd_hash *hash, unsigned int *count_r);

#endif
