// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /sys/kernel/ksmgroup: the global files, the per-group directory, and
 * the group's figures against /proc/PID/ksm_stat and friends.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "ksmg_harness.h"

FIXTURE(sysfs) {
	struct ksmg_base b;
};

FIXTURE_SETUP(sysfs)
{
	KSMG_SKIP_WITHOUT_MODULE();
	ksmg_base_setup(_metadata, &self->b);
}

FIXTURE_TEARDOWN(sysfs)
{
	ksmg_base_teardown(_metadata, &self->b);
}

static const char *const ksmg_group_files[] = {
	"name", "members", "pids", "merging_pages", "rmap_items",
	"anon_pages", "profit", "vmas_marked", "sweeps", "members_joined",
	"members_exited", "policy", "sweep_ms", "state",
};

TEST_F(sysfs, version_is_api_version)
{
	uint64_t v;

	ASSERT_EQ(0, ksmg_global_u64("version", &v));
	EXPECT_EQ(KSMG_API_VERSION, v);
}

TEST_F(sysfs, group_dir_has_every_file)
{
	bool zero = self->b.info.features & KSMG_FEATURE_ZERO_PAGES;
	char path[256];
	unsigned int i;

	for (i = 0; i < KSMG_ARRAY_SIZE(ksmg_group_files); i++) {
		ASSERT_EQ(0, ksmg_group_path(self->b.id, ksmg_group_files[i],
					     path, sizeof(path)));
		EXPECT_EQ(0, access(path, R_OK))
			TH_LOG("%s is missing", path);
	}
	/* zero_pages exactly where the kernel counts them. */
	ASSERT_EQ(0, ksmg_group_path(self->b.id, "zero_pages", path,
				     sizeof(path)));
	EXPECT_EQ(zero, access(path, R_OK) == 0)
		TH_LOG("zero_pages %s but the feature is %s",
		       zero ? "absent" : "present", zero ? "on" : "off");
}

TEST_F(sysfs, group_files_are_read_only)
{
	char path[256];
	unsigned int i;
	int fd;

	for (i = 0; i < KSMG_ARRAY_SIZE(ksmg_group_files); i++) {
		ASSERT_EQ(0, ksmg_group_path(self->b.id, ksmg_group_files[i],
					     path, sizeof(path)));
		fd = open(path, O_WRONLY);
		EXPECT_GT(0, fd) TH_LOG("%s opens for writing", path);
		if (fd >= 0)
			close(fd);
	}
}

TEST_F(sysfs, global_counts_follow_groups_and_members)
{
	struct ksmg_worker *w1 = ksmg_spawn_pages(_metadata, &self->b, 1, 1);
	struct ksmg_worker *w2 = ksmg_spawn_pages(_metadata, &self->b, 1, 2);
	struct ksmg_worker *w3 = ksmg_spawn_pages(_metadata, &self->b, 1, 3);
	uint64_t groups0, members0, v;
	uint32_t id2;
	int fd2;

	ASSERT_EQ(0, ksmg_global_u64("groups", &groups0));
	ASSERT_EQ(0, ksmg_global_u64("members", &members0));
	EXPECT_EQ(groups0, (uint64_t)ksmg_count_group_dirs());

	fd2 = ksmg_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ksmg_group_id(fd2, &id2));
	ASSERT_EQ(0, ksmg_global_u64("groups", &v));
	EXPECT_EQ(groups0 + 1, v);
	EXPECT_EQ(v, (uint64_t)ksmg_count_group_dirs());

	ASSERT_EQ(0, ksmg_add(self->b.fd, w1->pid));
	ASSERT_EQ(0, ksmg_add(self->b.fd, w2->pid));
	ASSERT_EQ(0, ksmg_add(fd2, w3->pid));
	ASSERT_EQ(0, ksmg_global_u64("members", &v));
	EXPECT_EQ(members0 + 3, v);
	EXPECT_EQ(2, ksmg_members_of(self->b.id));
	EXPECT_EQ(1, ksmg_members_of(id2));

	/* Closing a group with a member drops both counts. */
	close(fd2);
	ASSERT_EQ(0, ksmg_global_u64("groups", &v));
	EXPECT_EQ(groups0, v);
	ASSERT_EQ(0, ksmg_global_u64("members", &v));
	EXPECT_EQ(members0 + 2, v);
	EXPECT_FALSE(ksmg_group_exists(id2));
}

TEST_F(sysfs, pids_lists_members)
{
	struct ksmg_worker *w1 = ksmg_spawn_pages(_metadata, &self->b, 1, 1);
	struct ksmg_worker *w2 = ksmg_spawn_pages(_metadata, &self->b, 1, 2);
	char buf[4096], *line, *save = NULL;
	bool seen1 = false, seen2 = false;
	int lines = 0;

	ASSERT_EQ(0, ksmg_group_str(self->b.id, "pids", buf, sizeof(buf)));
	EXPECT_STREQ("", buf);
	ASSERT_EQ(0, ksmg_add(self->b.fd, w1->pid));
	ASSERT_EQ(0, ksmg_add(self->b.fd, w2->pid));
	ASSERT_EQ(0, ksmg_group_str(self->b.id, "pids", buf, sizeof(buf)));
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		pid_t pid = atoi(line);

		lines++;
		seen1 |= pid == w1->pid;
		seen2 |= pid == w2->pid;
	}
	EXPECT_EQ(2, lines);
	EXPECT_TRUE(seen1);
	EXPECT_TRUE(seen2);
}

/* Sums over @pids of /proc figures, as the module defines its own. */
struct ksmg_proc_sums {
	uint64_t merging, merging_stat, rmap, zero, anon;
	int64_t profit, profit_formula;
	bool have_zero, have_profit, have_merging_stat;
};

static int ksmg_sum_proc(const pid_t *pids, unsigned int n,
			 struct ksmg_proc_sums *s)
{
	uint64_t page_kb = (uint64_t)ksmg_page_size() / 1024, v;
	unsigned int i;
	int64_t p;

	memset(s, 0, sizeof(*s));
	s->have_zero = s->have_profit = s->have_merging_stat = true;
	for (i = 0; i < n; i++) {
		uint64_t merging, rmap, zero = 0;

		if (ksmg_proc_u64(pids[i], "ksm_merging_pages", &merging) ||
		    ksmg_proc_key_u64(pids[i], "ksm_stat", "ksm_rmap_items",
				      &rmap) ||
		    ksmg_proc_key_u64(pids[i], "status", "RssAnon", &v))
			return -1;
		s->merging += merging;
		s->rmap += rmap;
		s->anon += v / page_kb;
		v = 0;
		p = 0;
		if (ksmg_proc_key_u64(pids[i], "ksm_stat", "ksm_zero_pages",
				      &zero))
			s->have_zero = false;
		s->zero += zero;
		if (ksmg_proc_key_u64(pids[i], "ksm_stat", "ksm_merging_pages",
				      &v))
			s->have_merging_stat = false;
		s->merging_stat += v;
		if (ksmg_proc_key_s64(pids[i], "ksm_stat", "ksm_process_profit",
				      &p))
			s->have_profit = false;
		s->profit += p;
		s->profit_formula += (int64_t)((merging + zero) *
					       (uint64_t)ksmg_page_size()) -
				     (int64_t)rmap * 64;
	}
	return 0;
}

TEST_F_TIMEOUT(sysfs, figures_agree_with_proc, 150)
{
	enum { N = 3, PAGES = 256 };
	struct ksmg_proc_sums sums;
	struct ksmg_stats st;
	uint64_t merging, rmap, zero, anon, members;
	int64_t profit;
	pid_t pids[N];
	unsigned int i;
	bool merged;

	ASSERT_EQ(0, ksmg_ksm_start(&self->b.ksm));
	for (i = 0; i < N; i++) {
		pids[i] = ksmg_spawn_pages(_metadata, &self->b, PAGES, 42)->pid;
		ASSERT_EQ(0, ksmg_add(self->b.fd, pids[i]));
	}
	/* Let ksmd merge something, so that the figures are not all zero. */
	merged = KSMG_POLL(!ksmg_group_u64(self->b.id, "merging_pages",
					   &merging) &&
			   merging >= N * PAGES / 2, 120000, 500);
	EXPECT_TRUE(merged) TH_LOG("merging_pages only %llu of %u",
				   (unsigned long long)merging, N * PAGES);

	/* Freeze KSM (run=0 keeps merged pages) and compare. */
	ASSERT_EQ(0, ksmg_ksm_pause());
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "members", &members));
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "merging_pages", &merging));
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "rmap_items", &rmap));
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "anon_pages", &anon));
	ASSERT_EQ(0, ksmg_group_s64(self->b.id, "profit", &profit));
	ASSERT_EQ(0, ksmg_get_stats(self->b.fd, &st));
	ASSERT_EQ(0, ksmg_sum_proc(pids, N, &sums));
	ksmg_ksm_resume();

	EXPECT_EQ(N, members);
	EXPECT_EQ(sums.merging, merging);
	EXPECT_EQ(sums.rmap, rmap);
	EXPECT_EQ(sums.anon, anon);
	EXPECT_EQ(sums.profit_formula, profit);
	if (sums.have_merging_stat)
		EXPECT_EQ(sums.merging_stat, merging);
	if (sums.have_profit)
		EXPECT_EQ(sums.profit, profit);
	if (self->b.info.features & KSMG_FEATURE_ZERO_PAGES) {
		ASSERT_EQ(0, ksmg_group_u64(self->b.id, "zero_pages", &zero));
		EXPECT_TRUE(sums.have_zero);
		EXPECT_EQ(sums.zero, zero);
		EXPECT_EQ(zero, st.zero_pages);
	} else {
		EXPECT_EQ(0, st.zero_pages);
	}
	EXPECT_LE(N * PAGES, anon);
	/* GET_STATS says the same as sysfs. */
	EXPECT_EQ(members, st.members);
	EXPECT_EQ(merging, st.merging_pages);
	EXPECT_EQ(rmap, st.rmap_items);
	EXPECT_EQ(anon, st.anon_pages);
	EXPECT_EQ(profit, st.profit);
}

/* Pages of zeros merged with the zero page (use_zero_pages=1), 6.10+. */
TEST_F_TIMEOUT(sysfs, zero_pages_agree_with_proc, 150)
{
	enum { N = 3, PAGES = 256 };
	struct ksmg_proc_sums sums;
	uint64_t zero = 0;
	int64_t profit;
	pid_t pids[N];
	uintptr_t addr;
	unsigned int i;
	bool merged;

	if (!(self->b.info.features & KSMG_FEATURE_ZERO_PAGES))
		SKIP(return, "the kernel counts no ksm_zero_pages per process");
	ASSERT_EQ(0, ksmg_ksm_start(&self->b.ksm));
	ASSERT_EQ(0, ksmg_ksm_set("use_zero_pages", 1));
	for (i = 0; i < N; i++) {
		struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b,
							 0, 0);

		ASSERT_EQ(0, ksmg_worker_map(w, KSMG_MAP_ANON, PAGES, 0, &addr));
		ASSERT_EQ(0, ksmg_worker_zero(w, addr, PAGES));
		pids[i] = w->pid;
		ASSERT_EQ(0, ksmg_add(self->b.fd, pids[i]));
	}
	merged = KSMG_POLL(!ksmg_group_u64(self->b.id, "zero_pages", &zero) &&
			   zero >= N * PAGES / 2, 120000, 500);
	EXPECT_TRUE(merged) TH_LOG("zero_pages only %llu of %u",
				   (unsigned long long)zero, N * PAGES);

	ASSERT_EQ(0, ksmg_ksm_pause());
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "zero_pages", &zero));
	ASSERT_EQ(0, ksmg_group_s64(self->b.id, "profit", &profit));
	ASSERT_EQ(0, ksmg_sum_proc(pids, N, &sums));
	ksmg_ksm_resume();
	ASSERT_TRUE(sums.have_zero);
	EXPECT_EQ(sums.zero, zero);
	EXPECT_EQ(sums.profit_formula, profit);
	if (sums.have_profit)
		EXPECT_EQ(sums.profit, profit);
}

TEST_F(sysfs, counters_match_get_stats)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 4, 1);
	struct ksmg_stats st;
	uint64_t v;

	ASSERT_EQ(0, ksmg_add(self->b.fd, w->pid));
	ASSERT_EQ(0, ksmg_remove(self->b.fd, w->pid));
	ASSERT_EQ(0, ksmg_add(self->b.fd, w->pid));
	ASSERT_EQ(0, ksmg_get_stats(self->b.fd, &st));
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "members_joined", &v));
	EXPECT_EQ(2, v);
	EXPECT_EQ(st.members_joined, v);
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "members_exited", &v));
	EXPECT_EQ(0, v);
	EXPECT_EQ(st.members_exited, v);
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "vmas_marked", &v));
	EXPECT_LE(1, v);
	/* Sweeps run in the background: sysfs is read after, so >=. */
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "sweeps", &v));
	EXPECT_LE(st.sweeps, v);
}

TEST_F(sysfs, sweeps_follow_sweep_ms)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 4, 1);
	uint32_t min = self->b.info.sweep_ms_min;
	uint32_t max = self->b.info.sweep_ms_max;
	uint32_t fast = min > 100 ? min : 100;
	uint64_t s0, s1;

	ASSERT_EQ(0, ksmg_add(self->b.fd, w->pid));
	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON, fast));
	ksmg_sleep_ms(300);
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "sweeps", &s0));
	ksmg_sleep_ms(2000);
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "sweeps", &s1));
	/* 2000 / fast sweeps are due; TCG may lose some, not most. */
	EXPECT_LE(s0 + 2000 / fast / 4, s1)
		TH_LOG("%llu sweeps in 2 s at sweep_ms %u",
		       (unsigned long long)(s1 - s0), fast);

	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON, max));
	ksmg_sleep_ms(300);
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "sweeps", &s0));
	ksmg_sleep_ms(2000);
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "sweeps", &s1));
	EXPECT_GE(s0 + 1, s1) TH_LOG("%llu sweeps in 2 s at sweep_ms %u",
				     (unsigned long long)(s1 - s0), max);
}

static bool ksmg_state_is(uint32_t id, const char *want)
{
	char state[32];

	return !ksmg_group_str(id, "state", state, sizeof(state)) &&
	       !strcmp(state, want);
}

TEST_F_TIMEOUT(sysfs, state_converges_when_idle_and_settles_on_growth, 90)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 64, 7);
	uint64_t converge_ms = 3000;
	char state[32];
	uintptr_t addr;

	ASSERT_EQ(0, ksmg_group_str(self->b.id, "state", state,
				    sizeof(state)));
	EXPECT_TRUE(!strcmp(state, "settling") || !strcmp(state, "converged"));
	ksmg_param_u64("converge_ms", &converge_ms);
	ASSERT_EQ(0, ksmg_add(self->b.fd, w->pid));
	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON, 100));
	EXPECT_TRUE(ksmg_state_is(self->b.id, "settling"));
	ASSERT_TRUE(KSMG_POLL(ksmg_state_is(self->b.id, "converged"),
			      converge_ms + 40000, 200))
		TH_LOG("not converged %llu ms after an idle member joined",
		       (unsigned long long)converge_ms + 40000);

	/* New memory, well over a sixteenth of what it had: settling again. */
	ASSERT_EQ(0, ksmg_worker_map(w, KSMG_MAP_ANON, 1024, 8, &addr));
	EXPECT_TRUE(KSMG_POLL(ksmg_state_is(self->b.id, "settling"), 5000,
			      50));
}

TEST_F(sysfs, module_parameters_readable)
{
	uint64_t sweep_ms, converge_ms;

	ASSERT_EQ(0, ksmg_param_u64("sweep_ms", &sweep_ms));
	ASSERT_EQ(0, ksmg_param_u64("converge_ms", &converge_ms));
	EXPECT_LT(0, sweep_ms);
	EXPECT_LT(0, converge_ms);
	/* A group without its own sweep_ms uses the parameter. */
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "sweep_ms", &sweep_ms));
	EXPECT_EQ(ksmg_default_sweep_ms(), sweep_ms);
}

TEST_HARNESS_MAIN
