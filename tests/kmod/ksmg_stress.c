// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Stress: a thousand groups, members moving between them, members dying
 * inside them, groups closed with members; afterwards the counters, the
 * sysfs directories and the slab caches are back where they started.
 * And a race of adds, removes, closes and exits, with the kernel's taint
 * flags as the witness.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "ksmg_harness.h"

#define KSMG_GROUPS	1000
#define KSMG_WORKERS	50
#define KSMG_ROUNDS	20

FIXTURE(stress) {
	struct ksmg_base b;
	int fds[KSMG_GROUPS];
};

FIXTURE_SETUP(stress)
{
	struct rlimit rl;
	unsigned int i;

	KSMG_SKIP_WITHOUT_MODULE();
	ksmg_base_setup(_metadata, &self->b);
	for (i = 0; i < KSMG_GROUPS; i++)
		self->fds[i] = -1;
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < KSMG_GROUPS + 64) {
		rl.rlim_cur = KSMG_GROUPS + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	}
	/* ksmd frees the KSM state of exited workers, and with it their mm. */
	ASSERT_EQ(0, ksmg_ksm_start(&self->b.ksm));
}

FIXTURE_TEARDOWN(stress)
{
	unsigned int i;

	for (i = 0; i < KSMG_GROUPS; i++)
		if (self->fds[i] >= 0)
			close(self->fds[i]);
	ksmg_base_teardown(_metadata, &self->b);
}

/*
 * How far a cache may drift in a quiet machine. Caches the module's
 * objects would live in get a bound well below one object per group or
 * per member; caches of per-process objects (a leaked mm or pid reference
 * keeps them) one well below the number of workers.
 */
static long ksmg_slab_bound(const char *name)
{
	if (!strncmp(name, "ksmg", 4))
		return 0;
	if (!strcmp(name, "mm_struct") || !strcmp(name, "pid") ||
	    !strcmp(name, "task_struct"))
		return 8;
	if (!strncmp(name, "kmalloc-", 8) || !strcmp(name, "kernfs_node_cache"))
		return 300;
	return -1;	/* not ours to judge */
}

/* The first cache over its bound, or NULL. */
static const char *ksmg_slab_leak(const struct ksmg_slab *before,
				  const struct ksmg_slab *after, long *delta_r)
{
	size_t i;

	for (i = 0; i < after->n; i++) {
		long bound = ksmg_slab_bound(after->v[i].name);
		long delta = after->v[i].active -
			     ksmg_slab_active(before, after->v[i].name);

		if (bound >= 0 && delta > bound) {
			*delta_r = delta;
			return after->v[i].name;
		}
	}
	return NULL;
}

/* One cycle: groups opened, members shuffled and killed, groups closed. */
static void ksmg_cycle(struct __test_metadata *_metadata,
		       FIXTURE_DATA(stress) *self, unsigned int groups,
		       unsigned int rounds)
{
	struct ksmg_worker *w[KSMG_WORKERS];
	int where[KSMG_WORKERS];
	uint64_t groups0, members0, v;
	unsigned int i, r, g;
	char name[32];

	ASSERT_EQ(0, ksmg_global_u64("groups", &groups0));
	ASSERT_EQ(0, ksmg_global_u64("members", &members0));
	for (g = 0; g < groups; g++) {
		self->fds[g] = ksmg_open();
		ASSERT_LE(0, self->fds[g]) TH_LOG("group %u: %s", g,
						  strerror(errno));
		snprintf(name, sizeof(name), "stress-%u", g);
		ASSERT_EQ(0, ksmg_set_name(self->fds[g], name));
	}
	ASSERT_EQ(0, ksmg_global_u64("groups", &v));
	EXPECT_EQ(groups0 + groups, v);
	EXPECT_EQ(groups0 + groups, (uint64_t)ksmg_count_group_dirs());

	self->b.nr_workers = 0;
	for (i = 0; i < KSMG_WORKERS; i++) {
		w[i] = ksmg_spawn_pages(_metadata, &self->b, 8, i + 1);
		where[i] = -1;
	}
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < KSMG_WORKERS; i++) {
			g = (r * KSMG_WORKERS + i * 7) % groups;
			if (where[i] >= 0)
				ASSERT_EQ(0, ksmg_remove(self->fds[where[i]],
							 w[i]->pid));
			ASSERT_EQ(0, ksmg_add(self->fds[g], w[i]->pid))
				TH_LOG("round %u worker %u group %u: %s", r, i,
				       g, strerror(errno));
			where[i] = (int)g;
		}
		ASSERT_EQ(0, ksmg_global_u64("members", &v));
		EXPECT_EQ(members0 + KSMG_WORKERS, v);
		if (r != rounds / 2)
			continue;
		/* A fifth of the members die inside their groups. */
		for (i = 0; i < KSMG_WORKERS; i += 5) {
			ksmg_worker_kill(w[i]);
			w[i] = ksmg_spawn_pages(_metadata, &self->b, 8, i + 1);
			where[i] = -1;
		}
		EXPECT_TRUE(KSMG_POLL(!ksmg_global_u64("members", &v) &&
				      v == members0 + KSMG_WORKERS * 4 / 5,
				      10000, 50))
			TH_LOG("dead members still counted: %llu",
			       (unsigned long long)v);
	}
	/* Groups go with their members in them, in an awkward order. */
	for (g = 0; g < groups; g += 2) {
		close(self->fds[g]);
		self->fds[g] = -1;
	}
	for (g = groups; g-- > 0;) {
		if (self->fds[g] < 0)
			continue;
		close(self->fds[g]);
		self->fds[g] = -1;
	}
	ASSERT_EQ(0, ksmg_global_u64("groups", &v));
	EXPECT_EQ(groups0, v);
	ASSERT_EQ(0, ksmg_global_u64("members", &v));
	EXPECT_EQ(members0, v);
	EXPECT_EQ(groups0, (uint64_t)ksmg_count_group_dirs());
	for (i = 0; i < self->b.nr_workers; i++)
		ksmg_worker_kill(&self->b.w[i]);
	self->b.nr_workers = 0;
}

TEST_F_TIMEOUT(stress, thousand_groups_leave_nothing_behind, 600)
{
	struct ksmg_slab before, after = { 0 };
	const char *leak = NULL;
	long delta = 0;
	uint64_t start = ksmg_now_ms(), end;

	/* Warm up, so that caches and id trees reach their working size. */
	ksmg_cycle(_metadata, self, 50, 2);
	ASSERT_EQ(0, ksmg_slab_snapshot(&before));

	ksmg_cycle(_metadata, self, KSMG_GROUPS, KSMG_ROUNDS);
	TH_LOG("%u groups, %u member moves in %llu ms", KSMG_GROUPS,
	       KSMG_WORKERS * KSMG_ROUNDS,
	       (unsigned long long)(ksmg_now_ms() - start));

	/* RCU and ksmd free some objects late: give them a while. */
	end = ksmg_now_ms() + 30000;
	do {
		ksmg_slab_free(&after);
		ASSERT_EQ(0, ksmg_slab_snapshot(&after));
		leak = ksmg_slab_leak(&before, &after, &delta);
		if (leak)
			ksmg_sleep_ms(1000);
	} while (leak && ksmg_now_ms() < end);
	EXPECT_EQ(NULL, leak) TH_LOG("slab cache %s grew by %ld objects",
				     leak, delta);
	ksmg_slab_free(&before);
	ksmg_slab_free(&after);
}

/*
 * Children race: one adds and removes workers in two groups it keeps
 * reopening, while the test kills and replaces the workers.
 */
#define KSMG_RACE_WORKERS	8

struct ksmg_race {
	volatile pid_t pids[KSMG_RACE_WORKERS];
	volatile int stop;
};

static int ksmg_race_churn(void *arg)
{
	struct ksmg_race *race = arg;
	unsigned int i, n = 0;
	int fd[2];

	while (!race->stop) {
		fd[0] = ksmg_open();
		fd[1] = ksmg_open();
		if (fd[0] < 0 || fd[1] < 0)
			return 1;
		for (i = 0; i < KSMG_RACE_WORKERS; i++)
			ksmg_add(fd[(i + n) & 1], race->pids[i]);
		for (i = 0; i < KSMG_RACE_WORKERS; i += 2)
			ksmg_remove(fd[(i + n) & 1], race->pids[i]);
		ksmg_sweep(fd[n & 1], NULL);
		close(fd[n & 1]);
		for (i = 1; i < KSMG_RACE_WORKERS; i += 2)
			ksmg_add(fd[(n + 1) & 1], race->pids[i]);
		close(fd[(n + 1) & 1]);
		n++;
	}
	return 0;
}

/*
 * The workers here are not the fixture's: they are replaced hundreds of
 * times. If the test dies they still go, as every worker does when its
 * test process is gone.
 */
TEST_F_TIMEOUT(stress, racing_add_remove_close_exit, 120)
{
	struct ksmg_worker_opts opts = KSMG_WORKER_OPTS_DEFAULT;
	struct ksmg_worker w[KSMG_RACE_WORKERS];
	struct ksmg_race *race;
	uint64_t groups0, members0, v, end;
	unsigned int i, kills = 0;
	pid_t churn;
	int status;

	ASSERT_EQ(0, ksmg_global_u64("groups", &groups0));
	ASSERT_EQ(0, ksmg_global_u64("members", &members0));
	race = mmap(NULL, sizeof(*race), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, race);
	opts.pages = 8;
	for (i = 0; i < KSMG_RACE_WORKERS; i++) {
		opts.seed = i + 1;
		ASSERT_EQ(0, ksmg_worker_start(&w[i], &opts));
		race->pids[i] = w[i].pid;
	}
	fflush(stdout);
	churn = fork();
	ASSERT_LE(0, churn);
	if (churn == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		_exit(ksmg_race_churn(race));
	}

	end = ksmg_now_ms() + 10000;
	while (ksmg_now_ms() < end) {
		i = kills++ % KSMG_RACE_WORKERS;
		ksmg_worker_kill(&w[i]);
		opts.seed = i + 1;
		ASSERT_EQ(0, ksmg_worker_start(&w[i], &opts));
		race->pids[i] = w[i].pid;
		ksmg_sleep_ms(20);
	}
	race->stop = 1;
	ASSERT_EQ(churn, waitpid(churn, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (i = 0; i < KSMG_RACE_WORKERS; i++)
		ksmg_worker_kill(&w[i]);
	TH_LOG("%u workers killed while the groups churned", kills);

	/* Every group the churn made is gone, and all its members. */
	ASSERT_EQ(0, ksmg_global_u64("groups", &v));
	EXPECT_EQ(groups0, v);
	ASSERT_EQ(0, ksmg_global_u64("members", &v));
	EXPECT_EQ(members0, v);
	EXPECT_EQ(groups0, (uint64_t)ksmg_count_group_dirs());
	munmap(race, sizeof(*race));
}

TEST_HARNESS_MAIN
