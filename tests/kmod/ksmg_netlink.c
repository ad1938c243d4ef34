// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The "ksmgroup" generic netlink family: dumps that agree with sysfs and
 * /proc, events in the order things happened, and admin-only operations.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>
#include "ksmg_harness.h"
#include "ksmg_nl.h"

#define KSMG_EVENT_WAIT_MS	10000

FIXTURE(netlink) {
	struct ksmg_base b;
	struct ksmg_nl nl;
};

FIXTURE_SETUP(netlink)
{
	int ret;

	KSMG_SKIP_WITHOUT_MODULE();
	ksmg_base_setup(_metadata, &self->b);
	ret = ksmg_nl_open(&self->nl);
	ASSERT_EQ(0, ret) TH_LOG("family %s: %s", KSMG_GENL_NAME,
				 strerror(-ret));
}

FIXTURE_TEARDOWN(netlink)
{
	ksmg_nl_close(&self->nl);
	ksmg_base_teardown(_metadata, &self->b);
}

static const struct ksmg_nl_obj *ksmg_find_group(const struct ksmg_nl_obj *v,
						 size_t n, uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (KSMG_NL_HAS(&v[i], KSMG_A_GROUP_ID) && v[i].group_id == id)
			return &v[i];
	return NULL;
}

/* Group @id's message against its sysfs directory. */
static void ksmg_check_group_msg(struct __test_metadata *_metadata,
				 const struct ksmg_nl_obj *g, uint32_t id,
				 bool zero_pages)
{
	char name[64], state[32];
	uint64_t v;
	int64_t s;

	ASSERT_NE(NULL, g) TH_LOG("group %u missing from the dump", id);
	EXPECT_EQ(KSMG_CMD_GROUP_GET, g->cmd);
	ASSERT_EQ(0, ksmg_group_str(id, "name", name, sizeof(name)));
	EXPECT_STREQ(name, g->name);
	ASSERT_EQ(0, ksmg_group_str(id, "state", state, sizeof(state)));
	EXPECT_EQ(!strcmp(state, "converged") ? KSMG_STATE_CONVERGED :
		  KSMG_STATE_SETTLING, g->state);
	EXPECT_TRUE(KSMG_NL_HAS(g, KSMG_A_POLICY));
	EXPECT_EQ(KSMG_POLICY_ANON, g->policy);
#define KSMG_CHECK_U64(_file, _field, _attr) do {			\
		ASSERT_EQ(0, ksmg_group_u64(id, _file, &v));		\
		EXPECT_TRUE(KSMG_NL_HAS(g, _attr));			\
		EXPECT_EQ(v, g->_field) TH_LOG("%s", _file);		\
	} while (0)
	KSMG_CHECK_U64("members", members, KSMG_A_MEMBERS);
	KSMG_CHECK_U64("merging_pages", merging_pages, KSMG_A_MERGING_PAGES);
	KSMG_CHECK_U64("rmap_items", rmap_items, KSMG_A_RMAP_ITEMS);
	KSMG_CHECK_U64("anon_pages", anon_pages, KSMG_A_ANON_PAGES);
	KSMG_CHECK_U64("vmas_marked", vmas_marked, KSMG_A_VMAS_MARKED);
	KSMG_CHECK_U64("sweeps", sweeps, KSMG_A_SWEEPS);
	if (zero_pages)
		KSMG_CHECK_U64("zero_pages", zero_pages, KSMG_A_ZERO_PAGES);
#undef KSMG_CHECK_U64
	ASSERT_EQ(0, ksmg_group_s64(id, "profit", &s));
	EXPECT_EQ(s, g->profit);
}

/*
 * Two groups with members, sweeps held off (sweep_ms at its maximum) and
 * ksmd paused, so that nothing moves between the dump and sysfs.
 */
static void ksmg_quiet_groups(struct __test_metadata *_metadata,
			      FIXTURE_DATA(netlink) *self, int fd2,
			      pid_t pids[3])
{
	uint32_t max = self->b.info.sweep_ms_max;
	unsigned int i;

	ASSERT_EQ(0, ksmg_ksm_start(&self->b.ksm));
	for (i = 0; i < 3; i++)
		pids[i] = ksmg_spawn_pages(_metadata, &self->b, 64, 3)->pid;
	ASSERT_EQ(0, ksmg_set_name(self->b.fd, "nl-one"));
	ASSERT_EQ(0, ksmg_set_name(fd2, "nl-two"));
	ASSERT_EQ(0, ksmg_add(self->b.fd, pids[0]));
	ASSERT_EQ(0, ksmg_add(self->b.fd, pids[1]));
	ASSERT_EQ(0, ksmg_add(fd2, pids[2]));
	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON, max));
	ASSERT_EQ(0, ksmg_set_policy(fd2, KSMG_POLICY_ANON, max));
	/* Give ksmd a moment so that some figures are not zero. */
	ksmg_sleep_ms(2000);
	ASSERT_EQ(0, ksmg_ksm_pause());
}

TEST_F(netlink, group_dump_agrees_with_sysfs)
{
	bool zero = self->b.info.features & KSMG_FEATURE_ZERO_PAGES;
	static struct ksmg_nl_obj v[256];
	uint64_t groups;
	pid_t pids[3];
	uint32_t id2;
	size_t n;
	int fd2, ret;

	fd2 = ksmg_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ksmg_group_id(fd2, &id2));
	ksmg_quiet_groups(_metadata, self, fd2, pids);

	ret = ksmg_nl_dump_groups(&self->nl, v, KSMG_ARRAY_SIZE(v), &n);
	ASSERT_EQ(0, ret) TH_LOG("dump: %s", strerror(-ret));
	ASSERT_EQ(0, ksmg_global_u64("groups", &groups));
	EXPECT_EQ(groups, n);
	ksmg_check_group_msg(_metadata, ksmg_find_group(v, n, self->b.id),
			     self->b.id, zero);
	ksmg_check_group_msg(_metadata, ksmg_find_group(v, n, id2), id2, zero);

	/* The doit form says the same about one group. */
	ret = ksmg_nl_get_group(&self->nl, id2, &v[0]);
	ASSERT_EQ(0, ret) TH_LOG("get: %s", strerror(-ret));
	ksmg_check_group_msg(_metadata, &v[0], id2, zero);
	close(fd2);
	/* A closed group is gone from both. */
	EXPECT_GT(0, ksmg_nl_get_group(&self->nl, id2, &v[0]));
	ASSERT_EQ(0, ksmg_nl_dump_groups(&self->nl, v, KSMG_ARRAY_SIZE(v), &n));
	EXPECT_EQ(NULL, ksmg_find_group(v, n, id2));
}

/* A member's message against /proc/PID. */
static void ksmg_check_member_msg(struct __test_metadata *_metadata,
				  const struct ksmg_nl_obj *m)
{
	uint64_t v, page_kb = (uint64_t)ksmg_page_size() / 1024;

	EXPECT_EQ(KSMG_CMD_MEMBER_GET, m->cmd);
	ASSERT_EQ(0, ksmg_proc_u64(m->pid, "ksm_merging_pages", &v));
	EXPECT_EQ(v, m->merging_pages);
	ASSERT_EQ(0, ksmg_proc_key_u64(m->pid, "ksm_stat", "ksm_rmap_items",
				       &v));
	EXPECT_EQ(v, m->rmap_items);
	ASSERT_EQ(0, ksmg_proc_key_u64(m->pid, "status", "RssAnon", &v));
	EXPECT_EQ(v / page_kb, m->anon_pages);
}

TEST_F(netlink, member_dump_agrees_with_proc)
{
	static struct ksmg_nl_obj v[512];
	pid_t pids[3];
	uint32_t id2;
	size_t n, i, j, seen;
	int fd2, ret;

	fd2 = ksmg_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ksmg_group_id(fd2, &id2));
	ksmg_quiet_groups(_metadata, self, fd2, pids);

	/* One group: exactly its two members. */
	ret = ksmg_nl_dump_members(&self->nl, true, self->b.id, v,
				   KSMG_ARRAY_SIZE(v), &n);
	ASSERT_EQ(0, ret) TH_LOG("dump: %s", strerror(-ret));
	ASSERT_EQ(2, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(self->b.id, v[i].group_id);
		EXPECT_TRUE(v[i].pid == pids[0] || v[i].pid == pids[1]);
		ksmg_check_member_msg(_metadata, &v[i]);
	}
	EXPECT_NE(v[0].pid, v[1].pid);

	/* Every group: ours are there with the right group ids. */
	ret = ksmg_nl_dump_members(&self->nl, false, 0, v, KSMG_ARRAY_SIZE(v),
				   &n);
	ASSERT_EQ(0, ret);
	for (j = 0, seen = 0; j < 3; j++)
		for (i = 0; i < n && i < KSMG_ARRAY_SIZE(v); i++)
			if (v[i].pid == pids[j]) {
				seen++;
				EXPECT_EQ(j < 2 ? self->b.id : id2,
					  v[i].group_id);
			}
	EXPECT_EQ(3, seen);
	close(fd2);
}

/* The next event about group @id that is not a convergence signal. */
static int ksmg_next_group_event(struct ksmg_nl *nl, uint32_t id,
				 struct ksmg_nl_obj *ev)
{
	uint64_t end = ksmg_now_ms() + KSMG_EVENT_WAIT_MS;
	int ret;

	do {
		ret = ksmg_nl_next_event(nl, KSMG_EVENT_WAIT_MS, ev);
		if (ret)
			return ret;
		if (ev->group_id == id &&
		    ev->event != KSMG_EVENT_GROUP_CONVERGED &&
		    ev->event != KSMG_EVENT_GROUP_SETTLING)
			return 0;
	} while (ksmg_now_ms() < end);
	return -ETIMEDOUT;
}

#define ASSERT_EVENT(_nl, _id, _event, _pid) do {			\
		struct ksmg_nl_obj __ev;				\
		int __ret = ksmg_next_group_event(_nl, _id, &__ev);	\
		ASSERT_EQ(0, __ret) TH_LOG("waiting for event %d: %s",	\
					   _event, strerror(-__ret));	\
		EXPECT_EQ(KSMG_CMD_EVENT, __ev.cmd);			\
		EXPECT_EQ(_event, __ev.event);				\
		if (_pid) {						\
			EXPECT_EQ(_pid, __ev.pid);			\
		} else {						\
			EXPECT_FALSE(KSMG_NL_HAS(&__ev, KSMG_A_PID));	\
		}							\
	} while (0)

TEST_F(netlink, events_arrive_in_order)
{
	struct ksmg_worker *w1 = ksmg_spawn_pages(_metadata, &self->b, 4, 1);
	struct ksmg_worker *w2 = ksmg_spawn_pages(_metadata, &self->b, 4, 2);
	struct ksmg_worker *w3 = ksmg_spawn_pages(_metadata, &self->b, 4, 3);
	pid_t p1 = w1->pid, p2 = w2->pid, p3 = w3->pid;
	uint32_t id;
	int fd, ret;

	ret = ksmg_nl_subscribe(&self->nl);
	ASSERT_EQ(0, ret) TH_LOG("subscribe: %s", strerror(-ret));
	fd = ksmg_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ksmg_group_id(fd, &id));
	ASSERT_EQ(0, ksmg_add(fd, p1));
	ASSERT_EQ(0, ksmg_remove(fd, p1));
	ASSERT_EQ(0, ksmg_add(fd, p2));
	ksmg_worker_kill(w2);
	ASSERT_TRUE(KSMG_POLL(ksmg_members_exited(id) == 1, 10000, 20));
	ASSERT_EQ(0, ksmg_add(fd, p3));
	ASSERT_EQ(0, ksmg_worker_exec(w3));
	ASSERT_TRUE(KSMG_POLL(ksmg_members_exited(id) == 2, 10000, 20));
	close(fd);

	ASSERT_EVENT(&self->nl, id, KSMG_EVENT_GROUP_CREATED, 0);
	ASSERT_EVENT(&self->nl, id, KSMG_EVENT_MEMBER_JOINED, p1);
	ASSERT_EVENT(&self->nl, id, KSMG_EVENT_MEMBER_LEFT, p1);
	ASSERT_EVENT(&self->nl, id, KSMG_EVENT_MEMBER_JOINED, p2);
	ASSERT_EVENT(&self->nl, id, KSMG_EVENT_MEMBER_EXITED, p2);
	ASSERT_EVENT(&self->nl, id, KSMG_EVENT_MEMBER_JOINED, p3);
	ASSERT_EVENT(&self->nl, id, KSMG_EVENT_MEMBER_EXITED, p3);
	ASSERT_EVENT(&self->nl, id, KSMG_EVENT_GROUP_DESTROYED, 0);
	EXPECT_FALSE(self->nl.overrun);
}

/* Wait for event @event of group @id, skipping others. */
static bool ksmg_wait_event(struct ksmg_nl *nl, uint32_t id, uint32_t event,
			    uint64_t timeout_ms)
{
	uint64_t end = ksmg_now_ms() + timeout_ms, now;
	struct ksmg_nl_obj ev;

	while ((now = ksmg_now_ms()) < end) {
		if (ksmg_nl_next_event(nl, (int)(end - now), &ev))
			return false;
		if (ev.group_id == id && ev.event == event)
			return true;
	}
	return false;
}

TEST_F_TIMEOUT(netlink, convergence_events, 90)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 64, 5);
	uint64_t converge_ms = 3000;
	uintptr_t addr;

	ksmg_param_u64("converge_ms", &converge_ms);
	ASSERT_EQ(0, ksmg_nl_subscribe(&self->nl));
	ASSERT_EQ(0, ksmg_add(self->b.fd, w->pid));
	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON, 100));
	ASSERT_TRUE(ksmg_wait_event(&self->nl, self->b.id,
				    KSMG_EVENT_GROUP_CONVERGED,
				    converge_ms + 40000))
		TH_LOG("no GROUP_CONVERGED event for an idle group");

	/* New memory, far more than a sixteenth: settling again. */
	ASSERT_EQ(0, ksmg_worker_map(w, KSMG_MAP_ANON, 1024, 6, &addr));
	EXPECT_TRUE(ksmg_wait_event(&self->nl, self->b.id,
				    KSMG_EVENT_GROUP_SETTLING, 5000))
		TH_LOG("no GROUP_SETTLING event after growth");
}

/*
 * A member that keeps most of its memory out of merging (here 8 MiB of
 * MADV_DONTDUMP, as dboxd's secret arena) never has rmap items for a
 * quarter of its anonymous pages; its group must converge all the same
 * once ksmd has been over it.
 */
TEST_F_TIMEOUT(netlink, convergence_with_most_memory_excluded, 90)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 64, 5);
	uint64_t converge_ms = 3000;
	uintptr_t addr;

	ksmg_param_u64("converge_ms", &converge_ms);
	ASSERT_EQ(0, ksmg_ksm_start(&self->b.ksm));
	ASSERT_EQ(0, ksmg_worker_map(w, KSMG_MAP_DONTDUMP, 2048, 7, &addr));
	ASSERT_EQ(0, ksmg_nl_subscribe(&self->nl));
	ASSERT_EQ(0, ksmg_add(self->b.fd, w->pid));
	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON, 100));
	EXPECT_TRUE(ksmg_wait_event(&self->nl, self->b.id,
				    KSMG_EVENT_GROUP_CONVERGED,
				    converge_ms + 40000))
		TH_LOG("no GROUP_CONVERGED event for a group of mostly excluded memory");
}

TEST_F(netlink, admin_adds_and_removes_members)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 4, 1);
	pid_t unused = ksmg_unused_pid();

	ASSERT_EQ(0, ksmg_nl_member_add(&self->nl, self->b.id, w->pid));
	EXPECT_TRUE(ksmg_list_has(self->b.fd, w->pid));
	EXPECT_EQ(1, ksmg_vma_has_flag(w->pid, w->addr, "mg"));
	EXPECT_EQ(-EEXIST, ksmg_nl_member_add(&self->nl, self->b.id, w->pid));
	EXPECT_EQ(0, ksmg_nl_member_del(&self->nl, self->b.id, w->pid));
	EXPECT_FALSE(ksmg_list_has(self->b.fd, w->pid));
	EXPECT_EQ(-ESRCH, ksmg_nl_member_del(&self->nl, self->b.id, w->pid));
	ASSERT_LT(0, unused);
	EXPECT_EQ(-ESRCH, ksmg_nl_member_add(&self->nl, self->b.id, unused));
	/* A group id nobody has is refused. */
	EXPECT_GT(0, ksmg_nl_member_add(&self->nl, 0x7ffffffe, w->pid));
	EXPECT_EQ(0, ksmg_members_of(self->b.id));
}

TEST_F(netlink, admin_sweep_marks_new_mappings)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 4, 1);
	uintptr_t addr;

	ASSERT_EQ(0, ksmg_add(self->b.fd, w->pid));
	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON,
				     self->b.info.sweep_ms_max));
	ksmg_sleep_ms(300);
	ASSERT_EQ(0, ksmg_worker_map(w, KSMG_MAP_ANON, 8, 2, &addr));
	EXPECT_EQ(0, ksmg_vma_has_flag(w->pid, addr, "mg"));
	ASSERT_EQ(0, ksmg_nl_sweep(&self->nl, self->b.id));
	EXPECT_EQ(1, ksmg_vma_has_flag(w->pid, addr, "mg"));
}

/* Verdicts of an unprivileged netlink caller. */
#define KSMG_NLV_SETUP	200

struct ksmg_nl_caller {
	uint32_t id;
	pid_t target;
	int caps[2];
	size_t n_caps;
	int op;			/* KSMG_CMD_MEMBER_ADD, _DEL or _GROUP_SWEEP */
	bool own_child;
};

static int ksmg_nl_caller_main(void *arg)
{
	struct ksmg_nl_caller *c = arg;
	struct ksmg_worker_opts opts = KSMG_WORKER_OPTS_DEFAULT;
	struct ksmg_worker w = { .pid = -1, .sock = -1 };
	static struct ksmg_nl nl;
	pid_t target = c->target;
	int ret;

	if (ksmg_drop_to(KSMG_NOBODY, KSMG_NOBODY, c->caps, c->n_caps))
		return KSMG_NLV_SETUP;
	if (c->own_child) {
		if (ksmg_worker_start(&w, &opts))
			return KSMG_NLV_SETUP;
		target = w.pid;
	}
	if (ksmg_nl_open(&nl))
		return KSMG_NLV_SETUP;
	switch (c->op) {
	case KSMG_CMD_MEMBER_ADD:
		ret = ksmg_nl_member_add(&nl, c->id, target);
		break;
	case KSMG_CMD_MEMBER_DEL:
		ret = ksmg_nl_member_del(&nl, c->id, target);
		break;
	default:
		ret = ksmg_nl_sweep(&nl, c->id);
		break;
	}
	ksmg_nl_close(&nl);
	ksmg_worker_kill(&w);
	return -ret;
}

TEST_F(netlink, unprivileged_changes_are_eperm)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 4, 1);
	struct ksmg_nl_caller c = { .id = self->b.id, .target = w->pid };

	c.op = KSMG_CMD_MEMBER_ADD;
	EXPECT_EQ(EPERM, ksmg_run_child(ksmg_nl_caller_main, &c));
	EXPECT_EQ(0, ksmg_members_of(self->b.id));
	/* Even for its own child, without CAP_NET_ADMIN. */
	c.own_child = true;
	EXPECT_EQ(EPERM, ksmg_run_child(ksmg_nl_caller_main, &c));
	c.own_child = false;

	ASSERT_EQ(0, ksmg_add(self->b.fd, w->pid));
	c.op = KSMG_CMD_MEMBER_DEL;
	EXPECT_EQ(EPERM, ksmg_run_child(ksmg_nl_caller_main, &c));
	EXPECT_TRUE(ksmg_list_has(self->b.fd, w->pid));
	c.op = KSMG_CMD_GROUP_SWEEP;
	EXPECT_EQ(EPERM, ksmg_run_child(ksmg_nl_caller_main, &c));
}

/* CAP_NET_ADMIN opens the door; the ptrace rule still applies behind it. */
TEST_F(netlink, net_admin_still_needs_ptrace_permission)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 4, 1);
	struct ksmg_nl_caller c = {
		.id = self->b.id, .target = w->pid, .op = KSMG_CMD_MEMBER_ADD,
		.caps = { CAP_NET_ADMIN }, .n_caps = 1,
	};

	EXPECT_EQ(EPERM, ksmg_run_child(ksmg_nl_caller_main, &c));
	EXPECT_EQ(0, ksmg_members_of(self->b.id));
	c.own_child = true;
	EXPECT_EQ(0, ksmg_run_child(ksmg_nl_caller_main, &c));
	c.caps[1] = CAP_SYS_PTRACE;
	c.n_caps = 2;
	c.own_child = false;
	EXPECT_EQ(0, ksmg_run_child(ksmg_nl_caller_main, &c));
	EXPECT_TRUE(ksmg_list_has(self->b.fd, w->pid));
}

TEST_HARNESS_MAIN
