// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Who may add whom: the ptrace rule of the uAPI header. A group fd opened
 * by root is handed to a child that drops to nobody (65534) with a chosen
 * set of capabilities; the child tries ADD_MEMBER and returns the errno.
 * Also the pids that name no address space: kernel threads, zombies,
 * pids nobody holds.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/capability.h>
#include "ksmg_harness.h"

/* Verdicts of a caller child, besides 0 and errno values. */
#define KSMG_V_SETUP		200	/* could not drop privileges etc. */
#define KSMG_V_NOT_MARKED	201	/* added, but memory was not marked */
#define KSMG_V_NO_USERNS	202	/* unshare(CLONE_NEWUSER) refused */

FIXTURE(perm) {
	struct ksmg_base b;
};

FIXTURE_SETUP(perm)
{
	KSMG_SKIP_WITHOUT_MODULE();
	ksmg_base_setup(_metadata, &self->b);
}

FIXTURE_TEARDOWN(perm)
{
	ksmg_base_teardown(_metadata, &self->b);
}

/* What a caller child does. */
struct ksmg_caller {
	int fd;
	pid_t target;		/* added when > 0 */
	int caps[4];
	size_t n_caps;
	bool userns;		/* unshare a user namespace after dropping */
	/* Instead of target: start a worker child of the caller and add it. */
	bool own_child;
	int child_dumpable;
	bool self;		/* instead of target: add itself */
};

static int ksmg_caller_main(void *arg)
{
	struct ksmg_caller *c = arg;
	struct ksmg_worker_opts opts = KSMG_WORKER_OPTS_DEFAULT;
	struct ksmg_worker w = { .pid = -1, .sock = -1 };
	pid_t target = c->target;
	int ret;

	/* A chrooted process (as in the test guests) gets no user namespace. */
	if (c->userns && ksmg_leave_chroot())
		return KSMG_V_SETUP;
	if (ksmg_drop_to(KSMG_NOBODY, KSMG_NOBODY, c->caps, c->n_caps))
		return KSMG_V_SETUP;
	if (c->userns && unshare(CLONE_NEWUSER))
		return KSMG_V_NO_USERNS;
	if (c->self)
		target = getpid();
	if (c->own_child) {
		opts.pages = 4;
		opts.seed = 9;
		opts.dumpable = c->child_dumpable;
		if (ksmg_worker_start(&w, &opts))
			return KSMG_V_SETUP;
		target = w.pid;
	}
	ret = ksmg_add(c->fd, target) ? errno : 0;
	/* Added: its memory must be marked before ADD returned. */
	if (!ret && c->own_child &&
	    ksmg_vma_has_flag(target, w.addr, "mg") != 1)
		ret = KSMG_V_NOT_MARKED;
	ksmg_worker_kill(&w);
	return ret;
}

static int ksmg_call_as_nobody(struct ksmg_caller *c)
{
	return ksmg_run_child(ksmg_caller_main, c);
}

TEST_F(perm, device_is_root_only)
{
	struct stat st;

	ASSERT_EQ(0, stat(KSMG_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
}

static int ksmg_open_as_nobody(void *arg)
{
	int fd;

	(void)arg;
	if (ksmg_drop_to(KSMG_NOBODY, KSMG_NOBODY, NULL, 0))
		return KSMG_V_SETUP;
	fd = ksmg_open();
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

TEST_F(perm, unprivileged_cannot_open_device)
{
	EXPECT_EQ(EACCES, ksmg_run_child(ksmg_open_as_nobody, NULL));
}

TEST_F(perm, unprivileged_cannot_add_root_process)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 4, 1);
	struct ksmg_caller c = { .fd = self->b.fd, .target = w->pid };

	EXPECT_EQ(EPERM, ksmg_call_as_nobody(&c));
	EXPECT_EQ(0, ksmg_members_of(self->b.id));
	/* Refused means untouched. */
	EXPECT_EQ(0, ksmg_vma_has_flag(w->pid, w->addr, "mg"));
}

TEST_F(perm, unprivileged_cannot_add_other_uid)
{
	struct ksmg_worker_opts opts = KSMG_WORKER_OPTS_DEFAULT;
	struct ksmg_worker *w;
	struct ksmg_caller c = { .fd = self->b.fd };

	opts.uid = KSMG_STRANGER;
	opts.gid = KSMG_NOBODY;
	opts.dumpable = 1;
	opts.pages = 4;
	opts.seed = 1;
	w = ksmg_spawn(_metadata, &self->b, &opts);
	c.target = w->pid;
	EXPECT_EQ(EPERM, ksmg_call_as_nobody(&c));
	EXPECT_EQ(0, ksmg_members_of(self->b.id));
	EXPECT_EQ(0, ksmg_vma_has_flag(w->pid, w->addr, "mg"));
}

TEST_F(perm, unprivileged_cannot_add_other_gid)
{
	struct ksmg_worker_opts opts = KSMG_WORKER_OPTS_DEFAULT;
	struct ksmg_caller c = { .fd = self->b.fd };

	opts.uid = KSMG_NOBODY;
	opts.gid = KSMG_STRANGER;
	opts.dumpable = 1;
	c.target = ksmg_spawn(_metadata, &self->b, &opts)->pid;
	EXPECT_EQ(EPERM, ksmg_call_as_nobody(&c));
	EXPECT_EQ(0, ksmg_members_of(self->b.id));
}

/* Same ids and dumpable, but not the caller's descendant. */
TEST_F(perm, unprivileged_cannot_add_same_uid_stranger)
{
	struct ksmg_worker_opts opts = KSMG_WORKER_OPTS_DEFAULT;
	struct ksmg_caller c = { .fd = self->b.fd };

	opts.uid = KSMG_NOBODY;
	opts.gid = KSMG_NOBODY;
	opts.dumpable = 1;
	c.target = ksmg_spawn(_metadata, &self->b, &opts)->pid;
	EXPECT_EQ(EPERM, ksmg_call_as_nobody(&c));
	EXPECT_EQ(0, ksmg_members_of(self->b.id));
}

TEST_F(perm, unprivileged_can_add_own_child)
{
	struct ksmg_caller c = { .fd = self->b.fd, .own_child = true,
				 .child_dumpable = 1 };
	struct ksmg_stats st;

	EXPECT_EQ(0, ksmg_call_as_nobody(&c));
	ASSERT_EQ(0, ksmg_get_stats(self->b.fd, &st));
	EXPECT_EQ(1, st.members_joined);
}

TEST_F(perm, unprivileged_can_add_itself)
{
	struct ksmg_caller c = { .fd = self->b.fd, .self = true };

	EXPECT_EQ(0, ksmg_call_as_nobody(&c));
}

TEST_F(perm, unprivileged_cannot_add_nondumpable_child)
{
	struct ksmg_caller c = { .fd = self->b.fd, .own_child = true,
				 .child_dumpable = 0 };

	EXPECT_EQ(EPERM, ksmg_call_as_nobody(&c));
	EXPECT_EQ(0, ksmg_members_of(self->b.id));
}

TEST_F(perm, cap_sys_ptrace_can_add_root_process)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 4, 1);
	struct ksmg_caller c = { .fd = self->b.fd, .target = w->pid,
				 .caps = { CAP_SYS_PTRACE }, .n_caps = 1 };

	EXPECT_EQ(0, ksmg_call_as_nobody(&c));
	EXPECT_TRUE(ksmg_list_has(self->b.fd, w->pid));
	EXPECT_EQ(1, ksmg_vma_has_flag(w->pid, w->addr, "mg"));
}

TEST_F(perm, cap_sys_admin_can_add_root_process)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 4, 1);
	struct ksmg_caller c = { .fd = self->b.fd, .target = w->pid,
				 .caps = { CAP_SYS_ADMIN }, .n_caps = 1 };

	EXPECT_EQ(0, ksmg_call_as_nobody(&c));
	EXPECT_TRUE(ksmg_list_has(self->b.fd, w->pid));
}

TEST_F(perm, other_capabilities_do_not_help)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 4, 1);
	struct ksmg_caller c = {
		.fd = self->b.fd, .target = w->pid,
		.caps = { CAP_NET_ADMIN, CAP_DAC_OVERRIDE, CAP_SETUID,
			  CAP_KILL },
		.n_caps = 4,
	};

	EXPECT_EQ(EPERM, ksmg_call_as_nobody(&c));
	EXPECT_EQ(0, ksmg_members_of(self->b.id));
}

/* Full capabilities in a user namespace of one's own reach no further. */
TEST_F(perm, userns_capabilities_do_not_reach_out)
{
	struct ksmg_worker *w = ksmg_spawn_pages(_metadata, &self->b, 4, 1);
	struct ksmg_caller c = { .fd = self->b.fd, .target = w->pid,
				 .userns = true };
	int ret = ksmg_call_as_nobody(&c);

	if (ret == KSMG_V_NO_USERNS)
		SKIP(return, "no user namespace for an unprivileged process here");
	EXPECT_EQ(EPERM, ret);
	EXPECT_EQ(0, ksmg_members_of(self->b.id));
}

TEST_F(perm, root_can_add_any_process_with_mm)
{
	struct ksmg_worker_opts opts = KSMG_WORKER_OPTS_DEFAULT;
	struct ksmg_worker *stranger, *secretive;

	opts.uid = KSMG_STRANGER;
	opts.gid = KSMG_STRANGER;
	opts.dumpable = 0;
	opts.pages = 4;
	opts.seed = 1;
	stranger = ksmg_spawn(_metadata, &self->b, &opts);
	opts.uid = opts.gid = 0;
	secretive = ksmg_spawn(_metadata, &self->b, &opts);
	ASSERT_EQ(0, ksmg_add(self->b.fd, stranger->pid));
	ASSERT_EQ(0, ksmg_add(self->b.fd, secretive->pid));
	EXPECT_EQ(1, ksmg_vma_has_flag(stranger->pid, stranger->addr, "mg"));
	EXPECT_EQ(1, ksmg_vma_has_flag(secretive->pid, secretive->addr, "mg"));
}

/* A kernel thread has no mm: kthreadd is pid 2 in the initial namespace. */
TEST_F(perm, kernel_thread_is_esrch)
{
	char comm[64];

	if (ksmg_read_file("/proc/2/comm", comm, sizeof(comm)) ||
	    strcmp(comm, "kthreadd\n"))
		SKIP(return, "pid 2 is not kthreadd here");
	EXPECT_ERRNO(ESRCH, ksmg_add(self->b.fd, 2));
}

TEST_F(perm, zombie_is_esrch)
{
	pid_t pid = ksmg_zombie();

	ASSERT_LT(0, pid);
	EXPECT_ERRNO(ESRCH, ksmg_add(self->b.fd, pid));
	waitpid(pid, NULL, 0);
}

TEST_F(perm, nonexistent_pid_is_esrch)
{
	pid_t pid = ksmg_unused_pid();

	ASSERT_LT(0, pid);
	EXPECT_ERRNO(ESRCH, ksmg_add(self->b.fd, pid));
	EXPECT_ERRNO(ESRCH, ksmg_remove(self->b.fd, pid));
}

TEST_HARNESS_MAIN
