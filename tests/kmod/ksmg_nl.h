/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small libnl-genl client of the "ksmgroup" generic netlink family, for
 * the tests: dumps, member operations and the events multicast group.
 * Functions return 0 or a negative errno (the kernel's, where it sent one).
 */
#ifndef KSMG_NL_H
#define KSMG_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nl_sock;

/* One message of the family, its attributes decoded. */
struct ksmg_nl_obj {
	uint8_t cmd;
	uint64_t present;	/* bit n set: attribute n was there */
	uint32_t group_id;
	char name[64];
	uint64_t policy;
	uint32_t state;
	uint32_t members;
	int32_t pid;
	uint64_t merging_pages;
	uint64_t rmap_items;
	uint64_t zero_pages;
	uint64_t anon_pages;
	int64_t profit;
	uint64_t vmas_marked;
	uint64_t sweeps;
	uint32_t event;
};

#define KSMG_NL_HAS(obj, attr)	(!!((obj)->present & (1ULL << (attr))))

#define KSMG_NL_QUEUE	256

struct ksmg_nl {
	struct nl_sock *sk;	/* requests and their replies */
	struct nl_sock *ev;	/* events, once subscribed */
	int family;
	/* Events received and not yet taken by ksmg_nl_next_event(). */
	struct ksmg_nl_obj queue[KSMG_NL_QUEUE];
	unsigned int head, len;
	bool overrun;
};

int ksmg_nl_open(struct ksmg_nl *nl);
void ksmg_nl_close(struct ksmg_nl *nl);

int ksmg_nl_get_group(struct ksmg_nl *nl, uint32_t id,
		      struct ksmg_nl_obj *obj);
int ksmg_nl_dump_groups(struct ksmg_nl *nl, struct ksmg_nl_obj *out,
			size_t max, size_t *n_r);
int ksmg_nl_dump_members(struct ksmg_nl *nl, bool one_group, uint32_t id,
			 struct ksmg_nl_obj *out, size_t max, size_t *n_r);
int ksmg_nl_member_add(struct ksmg_nl *nl, uint32_t id, int32_t pid);
int ksmg_nl_member_del(struct ksmg_nl *nl, uint32_t id, int32_t pid);
int ksmg_nl_sweep(struct ksmg_nl *nl, uint32_t id);

int ksmg_nl_subscribe(struct ksmg_nl *nl);
int ksmg_nl_next_event(struct ksmg_nl *nl, int timeout_ms,
		       struct ksmg_nl_obj *ev);

#endif /* KSMG_NL_H */
