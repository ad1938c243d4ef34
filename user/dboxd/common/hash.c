// SPDX-License-Identifier: GPL-2.0-or-later
/* Hash table; see hash.h. */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "log.h"

struct hash_node {
	struct hash_node *next;
	uint64_t hash;
	uint64_t id;		/* id keys */
	char *key;		/* string keys; NULL for id keys */
	void *value;
};

struct dboxd_hash {
	struct hash_node **buckets;
	unsigned int size, count;
};

static uint64_t hash_bytes(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t hash_id(uint64_t id)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return id;
}

struct dboxd_hash *dboxd_hash_create(void)
{
	struct dboxd_hash *h = calloc(1, sizeof(*h));

	if (h == NULL)
		dboxd_fatal("out of memory");
	h->size = 64;
	h->buckets = calloc(h->size, sizeof(*h->buckets));
	if (h->buckets == NULL)
		dboxd_fatal("out of memory");
	return h;
}

void dboxd_hash_destroy(struct dboxd_hash **_h)
{
	struct dboxd_hash *h = *_h;

	if (h == NULL)
		return;
	*_h = NULL;
	for (unsigned int i = 0; i < h->size; i++) {
		while (h->buckets[i] != NULL) {
			struct hash_node *n = h->buckets[i];

			h->buckets[i] = n->next;
			free(n->key);
			free(n);
		}
	}
	free(h->buckets);
	free(h);
}

unsigned int dboxd_hash_count(const struct dboxd_hash *h)
{
	return h->count;
}

static struct hash_node **hash_find(const struct dboxd_hash *h, uint64_t hv,
				    const char *key, uint64_t id)
{
	struct hash_node **np = &h->buckets[hv & (h->size - 1)];

	for (; *np != NULL; np = &(*np)->next) {
		struct hash_node *n = *np;

		if (n->hash != hv)
			continue;
		if (key != NULL ? (n->key != NULL && strcmp(n->key, key) == 0) :
				  (n->key == NULL && n->id == id))
			return np;
	}
	return np;
}

static void hash_grow(struct dboxd_hash *h)
{
	unsigned int new_size = h->size * 2;
	struct hash_node **nb = calloc(new_size, sizeof(*nb));

	if (nb == NULL)
		dboxd_fatal("out of memory");
	for (unsigned int i = 0; i < h->size; i++) {
		while (h->buckets[i] != NULL) {
			struct hash_node *n = h->buckets[i];

			h->buckets[i] = n->next;
			n->next = nb[n->hash & (new_size - 1)];
			nb[n->hash & (new_size - 1)] = n;
		}
	}
	free(h->buckets);
	h->buckets = nb;
	h->size = new_size;
}

static void hash_set(struct dboxd_hash *h, uint64_t hv, const char *key,
		     uint64_t id, void *value)
{
	struct hash_node **np = hash_find(h, hv, key, id), *n;

	if (*np != NULL) {
		(*np)->value = value;
		return;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL || (key != NULL && (n->key = strdup(key)) == NULL))
		dboxd_fatal("out of memory");
	n->hash = hv;
	n->id = id;
	n->value = value;
	*np = n;
	if (++h->count > h->size)
		hash_grow(h);
}

static void hash_remove(struct dboxd_hash *h, uint64_t hv, const char *key,
			uint64_t id)
{
	struct hash_node **np = hash_find(h, hv, key, id), *n = *np;

	if (n == NULL)
		return;
	*np = n->next;
	free(n->key);
	free(n);
	h->count--;
}

void *dboxd_hash_get_str(const struct dboxd_hash *h, const char *key)
{
	struct hash_node *n = *hash_find(h, hash_bytes(key), key, 0);

	return n == NULL ? NULL : n->value;
}

void dboxd_hash_set_str(struct dboxd_hash *h, const char *key, void *value)
{
	hash_set(h, hash_bytes(key), key, 0, value);
}

void dboxd_hash_remove_str(struct dboxd_hash *h, const char *key)
{
	hash_remove(h, hash_bytes(key), key, 0);
}

void *dboxd_hash_get_id(const struct dboxd_hash *h, uint64_t key)
{
	struct hash_node *n = *hash_find(h, hash_id(key), NULL, key);

	return n == NULL ? NULL : n->value;
}

void dboxd_hash_set_id(struct dboxd_hash *h, uint64_t key, void *value)
{
	hash_set(h, hash_id(key), NULL, key, value);
}

void dboxd_hash_remove_id(struct dboxd_hash *h, uint64_t key)
{
	hash_remove(h, hash_id(key), NULL, key);
}

void dboxd_hash_foreach(struct dboxd_hash *h,
			void (*cb)(void *value, void *context), void *context)
{
	for (unsigned int i = 0; i < h->size; i++) {
		for (struct hash_node *n = h->buckets[i]; n != NULL;
		     n = n->next)
			cb(n->value, context);
	}
}

void **dboxd_hash_values(struct dboxd_hash *h, unsigned int *count_r)
{
	void **values = malloc((h->count + 1) * sizeof(*values));
	unsigned int k = 0;

	if (values == NULL)
		dboxd_fatal("out of memory");
	for (unsigned int i = 0; i < h->size; i++) {
		for (struct hash_node *n = h->buckets[i]; n != NULL;
		     n = n->next)
			values[k++] = n->value;
	}
	*count_r = k;
	return values;
}
