// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Keeping secrets out of merging: a member's MADV_DONTDUMP or
 * MADV_WIPEONFORK memory is never marked, memory it excludes after joining
 * (MADV_DONTDUMP, then MADV_UNMERGEABLE) is never marked again, and such
 * pages never become KSM pages even when other members hold identical
 * ones (checked page by page: no two members map the same frame,
 * through /proc/PID/pagemap).
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "ksmg_harness.h"

#define KSMG_SECRET_PAGES	256

FIXTURE(secret) {
	struct ksmg_base b;
};

FIXTURE_SETUP(secret)
{
	KSMG_SKIP_WITHOUT_MODULE();
	ksmg_base_setup(_metadata, &self->b);
}

FIXTURE_TEARDOWN(secret)
{
	ksmg_base_teardown(_metadata, &self->b);
}

/*
 * Watch @pid's mapping at @addr through @sweeps sweeps of group @id;
 * false as soon as it shows "mg".
 */
static bool ksmg_stays_unmarked(uint32_t id, pid_t pid, uintptr_t addr,
				unsigned int sweeps)
{
	uint64_t s0, s, end = ksmg_now_ms() + 5000 + sweeps * 1000ULL;

	if (ksmg_group_u64(id, "sweeps", &s0))
		return false;
	do {
		if (ksmg_vma_has_flag(pid, addr, "mg") != 0)
			return false;
		if (ksmg_group_u64(id, "sweeps", &s))
			return false;
		ksmg_sleep_ms(10);
	} while (s < s0 + sweeps && ksmg_now_ms() < end);
	return s >= s0 + sweeps && ksmg_vma_has_flag(pid, addr, "mg") == 0;
}

TEST_F(secret, dontdump_mapping_never_marked)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 4, 1);
	uintptr_t secret;

	ASSERT_EQ(0, ksmg_worker_map(w, KSMG_MAP_DONTDUMP, 16, 2, &secret));
	ASSERT_EQ(0, ksmg_add(self->b.fd, w->pid));
	EXPECT_EQ(1, ksmg_vma_has_flag(w->pid, w->addr, "mg"));
	EXPECT_EQ(1, ksmg_vma_has_flag(w->pid, secret, "dd"));
	EXPECT_TRUE(ksmg_stays_unmarked(self->b.id, w->pid, secret, 5));
}

TEST_F(secret, wipeonfork_mapping_never_marked)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 4, 1);
	uintptr_t secret;

	ASSERT_EQ(0, ksmg_worker_map(w, KSMG_MAP_WIPEONFORK, 16, 2, &secret));
	ASSERT_EQ(0, ksmg_add(self->b.fd, w->pid));
	EXPECT_EQ(1, ksmg_vma_has_flag(w->pid, secret, "wf"));
	EXPECT_TRUE(ksmg_stays_unmarked(self->b.id, w->pid, secret, 5));
}

TEST_F(secret, excluded_after_joining_never_remarked)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 4, 1);
	uintptr_t secret;

	ASSERT_EQ(0, ksmg_worker_map(w, KSMG_MAP_ANON, 16, 2, &secret));
	ASSERT_EQ(0, ksmg_add(self->b.fd, w->pid));
	ASSERT_EQ(1, ksmg_vma_has_flag(w->pid, secret, "mg"));
	/* The member's own opt-out, in the documented order. */
	ASSERT_EQ(0, ksmg_worker_madvise(w, secret, 16, MADV_DONTDUMP));
	ASSERT_EQ(0, ksmg_worker_madvise(w, secret, 16, MADV_UNMERGEABLE));
	EXPECT_TRUE(ksmg_stays_unmarked(self->b.id, w->pid, secret, 5));
	/* An explicit sweep does not re-mark it either. */
	ASSERT_EQ(0, ksmg_sweep(self->b.fd, NULL));
	EXPECT_EQ(0, ksmg_vma_has_flag(w->pid, secret, "mg"));
	/* Its neighbours stay marked. */
	EXPECT_EQ(1, ksmg_vma_has_flag(w->pid, w->addr, "mg"));
}

/* A secret mapped after joining, excluded at once, stays excluded. */
TEST_F(secret, secret_mapped_after_joining_stays_excluded)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 4, 1);
	uintptr_t secret;

	ASSERT_EQ(0, ksmg_add(self->b.fd, w->pid));
	ASSERT_EQ(0, ksmg_worker_map(w, KSMG_MAP_DONTDUMP, 16, 2, &secret));
	/* A sweep may have come between mmap and MADV_DONTDUMP: undo it. */
	ASSERT_EQ(0, ksmg_worker_madvise(w, secret, 16, MADV_UNMERGEABLE));
	EXPECT_TRUE(ksmg_stays_unmarked(self->b.id, w->pid, secret, 5));
}

/*
 * Three members hold the same public pages and the same secret pages;
 * the public ones merge, the secret ones never do.
 */
TEST_F_TIMEOUT(secret, excluded_pages_never_merge, 240)
{
	enum { N = 3, P = KSMG_SECRET_PAGES };
	static uint64_t sec[N][P], pub[N][P];
	unsigned int i, j, k, shared_secret = 0, shared_public = 0;
	struct ksmg_worker *w[N];
	uintptr_t secret[N];
	uint64_t merging;
	bool merged;

	ASSERT_EQ(0, ksmg_ksm_start(&self->b.ksm));
	for (i = 0; i < N; i++) {
		w[i] = ksmg_spawn_pages(_metadata, &self->b, P, 11);
		/* Member 0 excludes before joining, the others after. */
		ASSERT_EQ(0, ksmg_worker_map(w[i], i ? KSMG_MAP_ANON :
					     KSMG_MAP_DONTDUMP, P, 12,
					     &secret[i]));
		ASSERT_EQ(0, ksmg_add(self->b.fd, w[i]->pid));
	}
	for (i = 1; i < N; i++) {
		ASSERT_EQ(0, ksmg_worker_madvise(w[i], secret[i], P,
						 MADV_DONTDUMP));
		ASSERT_EQ(0, ksmg_worker_madvise(w[i], secret[i], P,
						 MADV_UNMERGEABLE));
	}

	merged = KSMG_POLL(!ksmg_group_u64(self->b.id, "merging_pages",
					   &merging) &&
			   merging >= N * P / 2, 150000, 500);
	ASSERT_TRUE(merged) TH_LOG("public pages did not merge: %llu of %u",
				   (unsigned long long)merging, N * P);
	/* Two more passes over everything: time enough for any leak. */
	EXPECT_TRUE(ksmg_ksm_full_scans(2, 60000));

	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, ksmg_page_pfns(w[i]->pid, secret[i], P, sec[i]));
		ASSERT_EQ(0, ksmg_page_pfns(w[i]->pid, w[i]->addr, P, pub[i]));
		EXPECT_EQ(0, ksmg_vma_has_flag(w[i]->pid, secret[i], "mg"));
	}
	/* No secret frame is shared with another member. */
	for (i = 0; i < N; i++) {
		for (j = 0; j < P; j++) {
			ASSERT_NE(0, sec[i][j]) TH_LOG("secret page not present");
			for (k = i + 1; k < N; k++)
				shared_secret += sec[i][j] == sec[k][j];
		}
	}
	EXPECT_EQ(0, shared_secret) TH_LOG("%u secret pages merged",
					   shared_secret);
	/* While the public pages did merge, frame for frame. */
	for (j = 0; j < P; j++)
		shared_public += pub[0][j] && pub[0][j] == pub[1][j] &&
				 pub[1][j] == pub[2][j];
	EXPECT_LE(P / 2, shared_public) TH_LOG("only %u public pages shared",
					       shared_public);
}

TEST_HARNESS_MAIN
