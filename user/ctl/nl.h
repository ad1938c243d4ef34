/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small client of the "ksmgroup" generic netlink family over libnl-genl-3,
 * shared by ksmgroupctl and ksmgroupd.
 *
 * Every message of the family (group, member, event) is a bag of the same
 * attributes, so one struct carries any of them, with a bit per attribute
 * saying whether it came.
 *
 * Errors: functions return 0 or -1 with errno set to the kernel's errno
 * (the contract of <linux/ksmgroup.h>) or to one of these:
 *   ENOPKG      the family "ksmgroup" is not registered: module not loaded.
 *   EOPNOTSUPP  the family lacks the events multicast group or the command.
 *   EPROTO      a malformed reply.
 *   ECOMM       the netlink socket failed (error_r says how).
 * error_r gets a sentence; when the kernel sent an extended ack message it
 * is that message. It stays valid until the next call on the same handle.
 */
#ifndef KSMG_CTL_NL_H
#define KSMG_CTL_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/ksmgroup.h>

struct ksmg_nl;

struct ksmg_nl_attrs {
	/* Bit (1u << KSMG_A_x) is set when attribute KSMG_A_x came. */
	uint32_t present;
	uint8_t cmd;
	uint32_t group_id;
	char name[KSMG_NAME_MAX];
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

static inline bool ksmg_nl_has(const struct ksmg_nl_attrs *attrs, int attr)
{
	return (attrs->present & (1u << attr)) != 0;
}

/* Called for every message; a negative return stops the receive with
 * that value as -errno. */
typedef int ksmg_nl_cb_t(const struct ksmg_nl_attrs *attrs, void *ctx);

int ksmg_nl_open(struct ksmg_nl **nl_r, const char **error_r);
void ksmg_nl_close(struct ksmg_nl **nl);
/* The family's version as the kernel registered it. */
unsigned int ksmg_nl_family_version(const struct ksmg_nl *nl);

/*
 * Send cmd with the attributes of req that are present (GROUP_ID and PID
 * are the only request attributes), as a dump when dump is true, and call
 * cb (may be NULL) for every reply until the kernel's ack or end of dump.
 */
int ksmg_nl_request(struct ksmg_nl *nl, uint8_t cmd, bool dump,
		    const struct ksmg_nl_attrs *req, ksmg_nl_cb_t *cb,
		    void *ctx, const char **error_r);

/*
 * Turn the handle into an event listener: join the "events" multicast
 * group and make the socket non-blocking. Use a second handle for requests.
 */
int ksmg_nl_subscribe(struct ksmg_nl *nl, const char **error_r);
int ksmg_nl_fd(const struct ksmg_nl *nl);
/*
 * Read what is queued on a subscribed handle and call cb for each event.
 * Returns 0 when the queue is drained. errno ENOBUFS means the socket
 * overflowed and events were lost; the handle stays usable.
 */
int ksmg_nl_receive(struct ksmg_nl *nl, ksmg_nl_cb_t *cb, void *ctx,
		    const char **error_r);

#endif /* KSMG_CTL_NL_H */
