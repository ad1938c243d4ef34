// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Real merging by ksmd: members holding identical pages merge (the
 * machine's pages_sharing and the group's merging_pages rise), a process
 * outside the group with the same pages does not, and when the members
 * exit the figures fall again. Memory made after joining merges too, and
 * so do the copied pages of read-only file mappings (RELRO) under the
 * file_private policy.
 *
 * Sizes: KSMG_MERGE_WORKERS (8) children of KSMG_MERGE_MIB (16) MiB each;
 * both may be lowered through the environment on a slow machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include "ksmg_harness.h"

FIXTURE(merge) {
	struct ksmg_base b;
	unsigned int workers;
	size_t pages;
};

static unsigned int ksmg_env_uint(const char *name, unsigned int def,
				  unsigned int max)
{
	const char *v = getenv(name);
	unsigned long n;

	if (!v || !*v)
		return def;
	n = strtoul(v, NULL, 10);
	return n && n <= max ? (unsigned int)n : def;
}

FIXTURE_SETUP(merge)
{
	KSMG_SKIP_WITHOUT_MODULE();
	ksmg_base_setup(_metadata, &self->b);
	self->workers = ksmg_env_uint("KSMG_MERGE_WORKERS", 8, 32);
	self->pages = (size_t)ksmg_env_uint("KSMG_MERGE_MIB", 16, 256) *
		      (1 << 20) / (size_t)ksmg_page_size();
	ASSERT_EQ(0, ksmg_ksm_start(&self->b.ksm));
	/*
	 * The tests compare the machine's pages_sharing with what it was at
	 * the start, which the members of an earlier test, exited but not
	 * yet forgotten by ksmd, would pull down while the test runs.
	 */
	ASSERT_TRUE(ksmg_ksm_forget_exited(60000));
}

FIXTURE_TEARDOWN(merge)
{
	ksmg_base_teardown(_metadata, &self->b);
}

static uint64_t ksmg_sharing(void)
{
	uint64_t v = 0;

	ksmg_ksm_get("pages_sharing", &v);
	return v;
}

/* The group's merging_pages for a log line, 0 when it cannot be read. */
static uint64_t ksmg_merging(uint32_t id)
{
	uint64_t v;

	return ksmg_group_u64(id, "merging_pages", &v) ? 0 : v;
}

/* Wait until the group and the machine show half of what can merge. */
static bool ksmg_wait_merged(uint32_t id, uint64_t sharing0,
			     uint64_t merging_goal, uint64_t sharing_goal,
			     uint64_t *ms_r)
{
	uint64_t start = ksmg_now_ms(), merging;
	bool ok;

	ok = KSMG_POLL(!ksmg_group_u64(id, "merging_pages", &merging) &&
		       merging >= merging_goal &&
		       ksmg_sharing() >= sharing0 + sharing_goal,
		       150000, 250);
	*ms_r = ksmg_now_ms() - start;
	return ok;
}

TEST_F_TIMEOUT(merge, identical_members_merge_and_unmerge_on_exit, 300)
{
	unsigned int n = self->workers, i;
	size_t p = self->pages;
	struct ksmg_worker *w[32], *outsider;
	uint64_t sharing0, sharing, merging, ms, gained, v;

	sharing0 = ksmg_sharing();
	for (i = 0; i < n; i++)
		w[i] = ksmg_spawn_pages(_metadata, &self->b, p, 77);
	/* Same pages, not in the group: must stay unmerged. */
	outsider = ksmg_spawn_pages(_metadata, &self->b, p, 77);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, ksmg_add(self->b.fd, w[i]->pid));

	/* n copies of p distinct pages: n*p merging, (n-1)*p sharing. */
	ASSERT_TRUE(ksmg_wait_merged(self->b.id, sharing0, n * p / 2,
				     (n - 1) * p / 2, &ms))
		TH_LOG("after %llu ms: merging_pages %llu of %zu, pages_sharing +%llu",
		       (unsigned long long)ms,
		       (unsigned long long)ksmg_merging(self->b.id),
		       n * p, (unsigned long long)(ksmg_sharing() - sharing0));
	TH_LOG("%u members x %zu pages: half merged after %llu ms", n, p,
	       (unsigned long long)ms);
	ASSERT_EQ(0, ksmg_proc_u64(outsider->pid, "ksm_merging_pages", &v));
	EXPECT_EQ(0, v) TH_LOG("a process outside the group merged");

	/* Let it finish, then the members exit. */
	KSMG_POLL(!ksmg_group_u64(self->b.id, "merging_pages", &merging) &&
		  merging >= n * p * 9 / 10, 30000, 250);
	sharing = ksmg_sharing();
	gained = sharing > sharing0 ? sharing - sharing0 : 0;
	for (i = 0; i < n; i++)
		ksmg_worker_kill(w[i]);
	EXPECT_TRUE(KSMG_POLL(ksmg_members_exited(self->b.id) == n, 10000, 50));
	EXPECT_EQ(0, ksmg_members_of(self->b.id));
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "merging_pages", &merging));
	EXPECT_EQ(0, merging);
	/* ksmd drops the exited mms' rmap items on its next pass. */
	EXPECT_TRUE(KSMG_POLL(ksmg_sharing() <= sharing0 + gained / 10, 60000,
			      250))
		TH_LOG("pages_sharing %llu, was %llu before and %llu merged",
		       (unsigned long long)ksmg_sharing(),
		       (unsigned long long)sharing0,
		       (unsigned long long)sharing);
}

/*
 * Up to four members each map the same pages of KIND, after joining or
 * before, and ksmd merges at least half of them. Each test passes its own
 * SEED: pages alike to another test's would merge into that test's stable
 * pages while they last, which is not what is being tested.
 */
static void ksmg_alike_members_merge(struct __test_metadata *_metadata,
				     FIXTURE_DATA(merge) *self,
				     enum ksmg_map_kind kind, bool join_first,
				     uint32_t seed, const char *what)
{
	unsigned int n = self->workers < 4 ? self->workers : 4, i;
	size_t p = self->pages / 4;
	struct ksmg_worker *w[4];
	uint64_t sharing0 = ksmg_sharing(), ms;
	uintptr_t addr[4];

	for (i = 0; i < n; i++) {
		w[i] = ksmg_spawn_pages(_metadata, &self->b, 0, 0);
		if (join_first)
			ASSERT_EQ(0, ksmg_add(self->b.fd, w[i]->pid));
	}
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, ksmg_worker_map(w[i], kind, p, seed, &addr[i]));
		if (!join_first)
			ASSERT_EQ(0, ksmg_add(self->b.fd, w[i]->pid));
	}
	EXPECT_TRUE(ksmg_wait_merged(self->b.id, sharing0, n * p / 2,
				     (n - 1) * p / 2, &ms))
		TH_LOG("%s did not merge in %llu ms: merging_pages %llu of %zu, pages_sharing %llu, was %llu",
		       what, (unsigned long long)ms,
		       (unsigned long long)ksmg_merging(self->b.id),
		       n * p, (unsigned long long)ksmg_sharing(),
		       (unsigned long long)sharing0);
	TH_LOG("%u members x %zu pages of %s: half merged after %llu ms", n,
	       p, what, (unsigned long long)ms);
	for (i = 0; i < n; i++)
		EXPECT_EQ(1, ksmg_vma_has_flag(w[i]->pid, addr[i], "mg"));
}

TEST_F_TIMEOUT(merge, memory_mapped_after_joining_merges, 240)
{
	ksmg_alike_members_merge(_metadata, self, KSMG_MAP_ANON, true, 78,
				 "memory mapped after joining");
}

/*
 * What every dynamically linked process has: RELRO, private file pages
 * written once (relocations) and made read-only. Alike processes hold the
 * same copies; under the file_private policy they merge as prctl's
 * merge-any would merge them.
 */
TEST_F_TIMEOUT(merge, file_private_policy_merges_relro_copies, 240)
{
	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON |
				     KSMG_POLICY_FILE_PRIVATE, 0));
	ksmg_alike_members_merge(_metadata, self, KSMG_MAP_FILE_RELRO, false,
				 79, "RELRO-like copies");
}

TEST_HARNESS_MAIN
