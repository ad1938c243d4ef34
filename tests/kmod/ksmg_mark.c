// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the module marks VM_MERGEABLE ("mg" in /proc/PID/smaps VmFlags):
 * every private anonymous mapping at ADD_MEMBER, mappings created later
 * within a sweep, private file mappings that are writable or hold
 * copied-on-write pages (RELRO) under the file_private policy, never
 * untouched read-only file mappings, and never shared mappings.
 */
#include <stdio.h>
#include <string.h>
#include "ksmg_harness.h"

/*
 * Later mappings must be marked within this long. The module promises
 * sweep_ms (250 by default); a TCG guest sharing two host cores with
 * another one can stall for seconds, so the deadline only catches
 * "never", and the latency actually seen is logged.
 */
#define KSMG_MARK_DEADLINE_MS	10000

FIXTURE(mark) {
	struct ksmg_base b;
	struct ksmg_worker *w;
};

FIXTURE_SETUP(mark)
{
	KSMG_SKIP_WITHOUT_MODULE();
	ksmg_base_setup(_metadata, &self->b);
	self->w = ksmg_spawn_pages(_metadata, &self->b, 16, 1);
}

FIXTURE_TEARDOWN(mark)
{
	ksmg_base_teardown(_metadata, &self->b);
}

/* Wait until group @id has swept @n more times; false on timeout. */
static bool ksmg_wait_sweeps(uint32_t id, unsigned int n)
{
	uint64_t s0, s;

	if (ksmg_group_u64(id, "sweeps", &s0))
		return false;
	return KSMG_POLL(!ksmg_group_u64(id, "sweeps", &s) && s >= s0 + n,
			 KSMG_MARK_DEADLINE_MS + n * 1000ULL, 20);
}

/* Poll until @pid's mapping at @addr shows "mg"; the time it took, or -1. */
static int64_t ksmg_wait_marked(pid_t pid, uintptr_t addr)
{
	uint64_t start = ksmg_now_ms();

	if (!KSMG_POLL(ksmg_vma_has_flag(pid, addr, "mg") == 1,
		       KSMG_MARK_DEADLINE_MS, 10))
		return -1;
	return (int64_t)(ksmg_now_ms() - start);
}

TEST_F(mark, add_marks_every_private_anon_mapping)
{
	unsigned int total, marked, unmarked;
	uintptr_t heap;

	ASSERT_EQ(0, ksmg_worker_brk(self->w, 8, &heap));
	ASSERT_EQ(0, ksmg_anon_vmas(self->w->pid, &total, &marked, &unmarked));
	ASSERT_LE(2, total);
	EXPECT_EQ(0, marked) TH_LOG("marked before it joined");

	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	/* No waiting: ADD marks before it returns. */
	ASSERT_EQ(0, ksmg_anon_vmas(self->w->pid, &total, &marked, &unmarked));
	EXPECT_EQ(0, unmarked) TH_LOG("%u of %u anonymous mappings unmarked",
				      unmarked, total);
	EXPECT_EQ(1, ksmg_vma_has_flag(self->w->pid, self->w->addr, "mg"));
	EXPECT_EQ(1, ksmg_vma_has_flag(self->w->pid, heap, "mg"));
}

TEST_F(mark, anon_policy_leaves_shared_and_file_mappings)
{
	uintptr_t shared, file, file_ro;

	ASSERT_EQ(0, ksmg_worker_map(self->w, KSMG_MAP_SHARED, 4, 2, &shared));
	ASSERT_EQ(0, ksmg_worker_map(self->w, KSMG_MAP_FILE, 4, 2, &file));
	ASSERT_EQ(0, ksmg_worker_map(self->w, KSMG_MAP_FILE_RO, 4, 0,
				     &file_ro));
	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	ASSERT_TRUE(ksmg_wait_sweeps(self->b.id, 3));
	EXPECT_EQ(1, ksmg_vma_has_flag(self->w->pid, self->w->addr, "mg"));
	EXPECT_EQ(0, ksmg_vma_has_flag(self->w->pid, shared, "mg"));
	EXPECT_EQ(0, ksmg_vma_has_flag(self->w->pid, file, "mg"));
	EXPECT_EQ(0, ksmg_vma_has_flag(self->w->pid, file_ro, "mg"));
}

TEST_F(mark, file_private_policy_marks_private_files_with_copies)
{
	uintptr_t shared, file, file_ro, relro;

	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON |
				     KSMG_POLICY_FILE_PRIVATE, 0));
	ASSERT_EQ(0, ksmg_worker_map(self->w, KSMG_MAP_SHARED, 4, 2, &shared));
	ASSERT_EQ(0, ksmg_worker_map(self->w, KSMG_MAP_FILE, 4, 2, &file));
	ASSERT_EQ(0, ksmg_worker_map(self->w, KSMG_MAP_FILE_RO, 4, 0,
				     &file_ro));
	ASSERT_EQ(0, ksmg_worker_map(self->w, KSMG_MAP_FILE_RELRO, 4, 2,
				     &relro));
	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	EXPECT_EQ(1, ksmg_vma_has_flag(self->w->pid, file, "mg"));
	EXPECT_EQ(1, ksmg_vma_has_flag(self->w->pid, relro, "mg"))
		TH_LOG("read-only file mapping holding copies not marked");
	EXPECT_EQ(1, ksmg_vma_has_flag(self->w->pid, self->w->addr, "mg"));
	ASSERT_TRUE(ksmg_wait_sweeps(self->b.id, 3));
	EXPECT_EQ(0, ksmg_vma_has_flag(self->w->pid, shared, "mg"));
	/* Never written: nothing of it can merge, ksmd need not walk it. */
	EXPECT_EQ(0, ksmg_vma_has_flag(self->w->pid, file_ro, "mg"));
}

TEST_F(mark, policy_change_applies_from_next_sweep)
{
	uintptr_t file, file2;

	ASSERT_EQ(0, ksmg_worker_map(self->w, KSMG_MAP_FILE, 4, 2, &file));
	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	EXPECT_EQ(0, ksmg_vma_has_flag(self->w->pid, file, "mg"));

	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON |
				     KSMG_POLICY_FILE_PRIVATE, 0));
	EXPECT_LE(0, ksmg_wait_marked(self->w->pid, file))
		TH_LOG("file mapping not marked after file_private was set");

	/* Back to anon: marked stays marked, new file mappings are left. */
	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON, 0));
	ASSERT_EQ(0, ksmg_worker_map(self->w, KSMG_MAP_FILE, 4, 3, &file2));
	ASSERT_TRUE(ksmg_wait_sweeps(self->b.id, 3));
	EXPECT_EQ(1, ksmg_vma_has_flag(self->w->pid, file, "mg"));
	EXPECT_EQ(0, ksmg_vma_has_flag(self->w->pid, file2, "mg"));
}

TEST_F(mark, later_mmap_marked_within_sweep)
{
	uint64_t before, after;
	uintptr_t addr;
	int64_t ms;

	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "vmas_marked", &before));
	ASSERT_EQ(0, ksmg_worker_map(self->w, KSMG_MAP_ANON, 32, 4, &addr));
	ms = ksmg_wait_marked(self->w->pid, addr);
	EXPECT_LE(0, ms) TH_LOG("new mapping unmarked after %d ms",
				KSMG_MARK_DEADLINE_MS);
	if (ms >= 0)
		TH_LOG("marked %lld ms after mmap (sweep_ms %u)",
		       (long long)ms, ksmg_default_sweep_ms());
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "vmas_marked", &after));
	EXPECT_LT(before, after);
}

TEST_F(mark, heap_growth_marked_within_sweep)
{
	uintptr_t heap;

	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	ASSERT_EQ(0, ksmg_worker_brk(self->w, 64, &heap));
	EXPECT_LE(0, ksmg_wait_marked(self->w->pid, heap))
		TH_LOG("heap grown by brk unmarked after %d ms",
		       KSMG_MARK_DEADLINE_MS);
}

TEST_F(mark, later_shared_mapping_never_marked)
{
	uintptr_t shared;

	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	ASSERT_EQ(0, ksmg_worker_map(self->w, KSMG_MAP_SHARED, 4, 2, &shared));
	ASSERT_TRUE(ksmg_wait_sweeps(self->b.id, 3));
	EXPECT_EQ(0, ksmg_vma_has_flag(self->w->pid, shared, "mg"));
}

TEST_F(mark, removed_member_keeps_marks_and_gets_no_more)
{
	struct ksmg_worker *other = ksmg_spawn_pages(_metadata, &self->b, 4, 5);
	uintptr_t addr;

	/* Another member keeps the group sweeping. */
	ASSERT_EQ(0, ksmg_add(self->b.fd, other->pid));
	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	ASSERT_EQ(0, ksmg_remove(self->b.fd, self->w->pid));
	EXPECT_FALSE(ksmg_list_has(self->b.fd, self->w->pid));
	ASSERT_EQ(0, ksmg_worker_map(self->w, KSMG_MAP_ANON, 8, 6, &addr));
	ASSERT_TRUE(ksmg_wait_sweeps(self->b.id, 3));
	EXPECT_EQ(1, ksmg_vma_has_flag(self->w->pid, self->w->addr, "mg"));
	EXPECT_EQ(0, ksmg_vma_has_flag(self->w->pid, addr, "mg"));
}

/* Closing the group keeps its members' marks and frees them to rejoin. */
TEST_F(mark, closed_group_leaves_marks_and_members_free)
{
	uintptr_t addr;
	int fd2;

	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	close(self->b.fd);
	self->b.fd = -1;
	EXPECT_EQ(1, ksmg_vma_has_flag(self->w->pid, self->w->addr, "mg"));
	ASSERT_EQ(0, ksmg_worker_ping(self->w));

	/* Nothing sweeps it any more. */
	ASSERT_EQ(0, ksmg_worker_map(self->w, KSMG_MAP_ANON, 8, 6, &addr));
	ksmg_sleep_ms(3 * ksmg_default_sweep_ms() + 500);
	EXPECT_EQ(0, ksmg_vma_has_flag(self->w->pid, addr, "mg"));

	fd2 = ksmg_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, ksmg_add(fd2, self->w->pid));
	EXPECT_EQ(1, ksmg_vma_has_flag(self->w->pid, addr, "mg"));
	close(fd2);
}

TEST_HARNESS_MAIN
