/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Harness-side glue for the ksmgroup tests: include this once per test
 * binary, instead of kselftest_harness.h itself.
 *
 * struct ksmg_base is the state most fixtures start from: one open group,
 * its info, the workers the test started (killed at teardown), and the
 * kernel's taint bits at setup, so that a test fails when the kernel
 * WARNed or oopsed while it ran.
 *
 * Do not use ASSERT/EXPECT in a child process (ksmg_run_child() callbacks):
 * they would run the fixture teardown in the child. Children return a
 * verdict instead.
 */
#ifndef KSMG_HARNESS_H
#define KSMG_HARNESS_H

#include <errno.h>
#include <unistd.h>
#include "kselftest_harness.h"
#include "ksmg_test.h"

#define KSMG_MAX_WORKERS	64

/*
 * The errno @cmd failed with, 0 when it succeeded. ASSERT_ERRNO and
 * EXPECT_ERRNO (iommufd style) compare it, and take a trailing TH_LOG.
 */
#define KSMG_ERRNO(_cmd) ({						\
		int __rc;						\
		errno = 0;						\
		__rc = (_cmd);						\
		__rc ? errno : 0;					\
	})
#define ASSERT_ERRNO(_expected, _cmd) ASSERT_EQ(_expected, KSMG_ERRNO(_cmd))
#define EXPECT_ERRNO(_expected, _cmd) EXPECT_EQ(_expected, KSMG_ERRNO(_cmd))

#define KSMG_SKIP_WITHOUT_MODULE() do {					\
		if (access(KSMG_DEV, F_OK))				\
			SKIP(return, "%s absent: ksmgroup.ko not loaded", \
			     KSMG_DEV);					\
	} while (0)

struct ksmg_base {
	int fd;
	uint32_t id;
	struct ksmg_info info;
	unsigned long taint;
	struct ksmg_worker w[KSMG_MAX_WORKERS];
	unsigned int nr_workers;
	struct ksmg_ksm_saved ksm;
};

/* Open a group; the caller has SKIPped already when the module is absent. */
static inline void ksmg_base_setup(struct __test_metadata *_metadata,
				   struct ksmg_base *b)
{
	unsigned int i;

	b->taint = ksmg_taint_bad();
	b->nr_workers = 0;
	b->ksm.valid = false;
	for (i = 0; i < KSMG_MAX_WORKERS; i++) {
		b->w[i].pid = -1;
		b->w[i].sock = -1;
	}
	b->fd = ksmg_open();
	ASSERT_LE(0, b->fd) TH_LOG("open %s: %s", KSMG_DEV, strerror(errno));
	ASSERT_EQ(0, ksmg_get_info(b->fd, &b->info));
	b->id = b->info.group_id;
}

static inline void ksmg_base_teardown(struct __test_metadata *_metadata,
				      struct ksmg_base *b)
{
	unsigned int i;

	for (i = 0; i < b->nr_workers; i++)
		ksmg_worker_kill(&b->w[i]);
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	ksmg_ksm_restore(&b->ksm);
	EXPECT_EQ(0, ksmg_taint_bad() & ~b->taint)
		TH_LOG("the kernel is tainted by a WARN, oops or bad page: see dmesg");
}

/* Start a worker the teardown will kill. */
static inline struct ksmg_worker *
ksmg_spawn(struct __test_metadata *_metadata, struct ksmg_base *b,
	   const struct ksmg_worker_opts *opts)
{
	struct ksmg_worker *w;

	ASSERT_GT(KSMG_MAX_WORKERS, b->nr_workers);
	w = &b->w[b->nr_workers];
	ASSERT_EQ(0, ksmg_worker_start(w, opts))
		TH_LOG("cannot start a worker: %s", strerror(errno));
	b->nr_workers++;
	return w;
}

/* A default worker with @pages anonymous pages of pattern @seed. */
static inline struct ksmg_worker *
ksmg_spawn_pages(struct __test_metadata *_metadata, struct ksmg_base *b,
		 size_t pages, uint32_t seed)
{
	struct ksmg_worker_opts opts = KSMG_WORKER_OPTS_DEFAULT;

	opts.pages = pages;
	opts.seed = seed;
	return ksmg_spawn(_metadata, b, &opts);
}

/* The members count of group @id in sysfs, or -1. */
static inline int64_t ksmg_members_of(uint32_t id)
{
	uint64_t v;

	return ksmg_group_u64(id, "members", &v) ? -1 : (int64_t)v;
}

/*
 * The members_exited count of group @id, or -1. Its "members" counts live
 * address spaces and falls the moment a member exits; members_exited
 * rises when a sweep has dropped the member, which is what tests wait for.
 */
static inline int64_t ksmg_members_exited(uint32_t id)
{
	uint64_t v;

	return ksmg_group_u64(id, "members_exited", &v) ? -1 : (int64_t)v;
}

/* The module's sweep period for a group using the default, in ms. */
static inline unsigned int ksmg_default_sweep_ms(void)
{
	uint64_t v = 250;

	ksmg_param_u64("sweep_ms", &v);
	return (unsigned int)v;
}

#endif /* KSMG_HARNESS_H */
