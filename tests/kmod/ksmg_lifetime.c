// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Lifetimes: members that exit or exec are dropped within a sweep, a
 * reused pid never inherits membership, a process is in one group at a
 * time, a group lives as long as its last file reference, and pids are
 * reported in the caller's pid namespace.
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "ksmg_harness.h"

FIXTURE(lifetime) {
	struct ksmg_base b;
	struct ksmg_worker *w;
};

FIXTURE_SETUP(lifetime)
{
	KSMG_SKIP_WITHOUT_MODULE();
	ksmg_base_setup(_metadata, &self->b);
	self->w = ksmg_spawn_pages(_metadata, &self->b, 16, 1);
}

FIXTURE_TEARDOWN(lifetime)
{
	ksmg_base_teardown(_metadata, &self->b);
}

/*
 * An exit or exec must be noticed within a sweep; the deadline allows for
 * a stalled TCG guest and only catches "never" (the time seen is logged).
 */
static unsigned int ksmg_drop_deadline_ms(void)
{
	return 4 * ksmg_default_sweep_ms() + 9000;
}

TEST_F(lifetime, exited_member_dropped_within_sweep)
{
	uint64_t global0, global, exited, start;
	struct ksmg_stats st;
	pid_t pid = self->w->pid;

	ASSERT_EQ(0, ksmg_add(self->b.fd, pid));
	ASSERT_EQ(0, ksmg_global_u64("members", &global0));
	ksmg_worker_kill(self->w);
	start = ksmg_now_ms();
	EXPECT_TRUE(KSMG_POLL(ksmg_members_exited(self->b.id) == 1,
			      ksmg_drop_deadline_ms(), 20))
		TH_LOG("exit not noticed within %u ms", ksmg_drop_deadline_ms());
	TH_LOG("exit noticed after %llu ms (sweep_ms %u)",
	       (unsigned long long)(ksmg_now_ms() - start),
	       ksmg_default_sweep_ms());
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "members_exited", &exited));
	EXPECT_EQ(1, exited);
	EXPECT_EQ(0, ksmg_members_of(self->b.id));
	ASSERT_EQ(0, ksmg_global_u64("members", &global));
	EXPECT_EQ(global0 - 1, global);
	EXPECT_FALSE(ksmg_list_has(self->b.fd, pid));
	ASSERT_EQ(0, ksmg_get_stats(self->b.fd, &st));
	EXPECT_EQ(0, st.members);
	EXPECT_EQ(1, st.members_exited);
	EXPECT_EQ(1, st.members_joined);
	EXPECT_EQ(0, st.merging_pages);
	EXPECT_EQ(0, st.anon_pages);
}

TEST_F(lifetime, exec_drops_member_and_new_image_stays_unmarked)
{
	unsigned int total, marked, unmarked;
	uint64_t exited;

	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	ASSERT_EQ(0, ksmg_worker_exec(self->w));
	EXPECT_TRUE(KSMG_POLL(ksmg_members_exited(self->b.id) == 1,
			      ksmg_drop_deadline_ms(), 20))
		TH_LOG("exec not noticed within %u ms", ksmg_drop_deadline_ms());
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "members_exited", &exited));
	EXPECT_EQ(1, exited);
	EXPECT_EQ(0, ksmg_members_of(self->b.id));
	EXPECT_FALSE(ksmg_list_has(self->b.fd, self->w->pid));
	/* Same pid, new address space: nothing of it is marked, ever. */
	ksmg_sleep_ms(3 * ksmg_default_sweep_ms());
	ASSERT_EQ(0, ksmg_anon_vmas(self->w->pid, &total, &marked, &unmarked));
	EXPECT_LE(1, total);
	EXPECT_EQ(0, marked);
	/* It can join again, as the new program it is. */
	EXPECT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
}

/*
 * The member exits and a new process gets its pid before any sweep has
 * noticed (sweep_ms at its maximum): the newcomer is not a member, is not
 * marked, and can join in its own right.
 */
TEST_F(lifetime, reused_pid_is_not_a_member)
{
	struct ksmg_worker_opts opts = KSMG_WORKER_OPTS_DEFAULT;
	unsigned int total, marked, unmarked;
	struct ksmg_worker *heir;
	uint64_t exited;
	pid_t pid = self->w->pid;

	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON,
				     self->b.info.sweep_ms_max));
	ksmg_sleep_ms(300);	/* the sweep SET_POLICY kicked is over */
	ASSERT_EQ(0, ksmg_add(self->b.fd, pid));
	ksmg_worker_kill(self->w);

	opts.want_pid = pid;
	opts.pages = 16;
	opts.seed = 1;
	heir = ksmg_spawn(_metadata, &self->b, &opts);
	ASSERT_EQ(pid, heir->pid);

	/* Not a member: REMOVE finds nothing, its memory is untouched. */
	EXPECT_ERRNO(ESRCH, ksmg_remove(self->b.fd, pid));
	ASSERT_EQ(0, ksmg_sweep(self->b.fd, NULL));
	ASSERT_EQ(0, ksmg_anon_vmas(pid, &total, &marked, &unmarked));
	EXPECT_EQ(0, marked) TH_LOG("%u mappings of the heir marked", marked);
	EXPECT_EQ(0, ksmg_members_of(self->b.id));
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "members_exited", &exited));
	EXPECT_EQ(1, exited);
	EXPECT_FALSE(ksmg_list_has(self->b.fd, pid));

	/* It joins as itself. */
	EXPECT_EQ(0, ksmg_add(self->b.fd, pid));
	EXPECT_EQ(1, ksmg_vma_has_flag(pid, heir->addr, "mg"));
}

TEST_F(lifetime, remove_of_non_member_is_esrch)
{
	struct ksmg_worker *other = ksmg_spawn_pages(_metadata, &self->b, 1, 2);
	int fd2 = ksmg_open();

	ASSERT_LE(0, fd2);
	EXPECT_ERRNO(ESRCH, ksmg_remove(self->b.fd, self->w->pid));
	/* A member of another group is not a member of this one. */
	ASSERT_EQ(0, ksmg_add(fd2, other->pid));
	EXPECT_ERRNO(ESRCH, ksmg_remove(self->b.fd, other->pid));
	EXPECT_TRUE(ksmg_list_has(fd2, other->pid));
	/* Removing twice: the second finds nothing. */
	ASSERT_EQ(0, ksmg_remove(fd2, other->pid));
	EXPECT_ERRNO(ESRCH, ksmg_remove(fd2, other->pid));
	close(fd2);
}

TEST_F(lifetime, add_twice_is_eexist)
{
	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	EXPECT_ERRNO(EEXIST, ksmg_add(self->b.fd, self->w->pid));
	EXPECT_EQ(1, ksmg_members_of(self->b.id));
}

TEST_F(lifetime, full_group_is_enospc)
{
	static const char param[] = "/sys/module/ksmgroup/parameters/max_members";
	struct ksmg_worker *w2 = ksmg_spawn_pages(_metadata, &self->b, 4, 2);
	uint64_t max0;

	ASSERT_EQ(0, ksmg_read_u64(param, &max0));
	ASSERT_EQ(0, ksmg_write_u64(param, 1));
	EXPECT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	EXPECT_EQ(-1, ksmg_add(self->b.fd, w2->pid));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(1, ksmg_members_of(self->b.id));
	/* The parameter rejects what no group could use. */
	EXPECT_NE(0, ksmg_write_u64(param, 0));
	EXPECT_NE(0, ksmg_write_u64(param, 65537));
	ASSERT_EQ(0, ksmg_write_u64(param, max0));
	EXPECT_EQ(0, ksmg_add(self->b.fd, w2->pid));
}

TEST_F(lifetime, member_of_another_group_is_ebusy)
{
	uint32_t id2;
	int fd2 = ksmg_open();

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ksmg_group_id(fd2, &id2));
	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	EXPECT_ERRNO(EBUSY, ksmg_add(fd2, self->w->pid));
	EXPECT_EQ(0, ksmg_members_of(id2));
	/* Once it left the first group, the second may have it. */
	ASSERT_EQ(0, ksmg_remove(self->b.fd, self->w->pid));
	EXPECT_EQ(0, ksmg_add(fd2, self->w->pid));
	EXPECT_ERRNO(EBUSY, ksmg_add(self->b.fd, self->w->pid));
	close(fd2);
	/* And when the second group is gone, the first may have it back. */
	EXPECT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
}

TEST_F(lifetime, group_lives_until_last_reference_closes)
{
	uint64_t global0, global;
	int dup_fd;

	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	ASSERT_EQ(0, ksmg_global_u64("members", &global0));
	dup_fd = dup(self->b.fd);
	ASSERT_LE(0, dup_fd);
	close(self->b.fd);
	self->b.fd = -1;
	EXPECT_TRUE(ksmg_group_exists(self->b.id));
	EXPECT_TRUE(ksmg_list_has(dup_fd, self->w->pid));

	close(dup_fd);
	EXPECT_FALSE(ksmg_group_exists(self->b.id));
	ASSERT_EQ(0, ksmg_global_u64("members", &global));
	EXPECT_EQ(global0 - 1, global);
	/* The member lives on, its mappings still mergeable. */
	EXPECT_EQ(0, ksmg_worker_ping(self->w));
	EXPECT_EQ(1, ksmg_vma_has_flag(self->w->pid, self->w->addr, "mg"));
}

TEST_F(lifetime, close_while_members_exit)
{
	enum { N = 16 };
	uint64_t groups0, members0, v;
	struct ksmg_worker *w[N];
	unsigned int i, round;
	int fd;

	ASSERT_EQ(0, ksmg_global_u64("groups", &groups0));
	ASSERT_EQ(0, ksmg_global_u64("members", &members0));
	for (round = 0; round < 4; round++) {
		self->b.nr_workers = 1;	/* reuse the slots */
		fd = ksmg_open();
		ASSERT_LE(0, fd);
		for (i = 0; i < N; i++) {
			w[i] = ksmg_spawn_pages(_metadata, &self->b, 8, round);
			ASSERT_EQ(0, ksmg_add(fd, w[i]->pid));
		}
		/* Half die just before the close, half just after. */
		for (i = 0; i < N / 2; i++)
			kill(w[i]->pid, SIGKILL);
		close(fd);
		for (i = N / 2; i < N; i++)
			kill(w[i]->pid, SIGKILL);
		for (i = 0; i < N; i++)
			ksmg_worker_kill(w[i]);
	}
	ASSERT_EQ(0, ksmg_global_u64("groups", &v));
	EXPECT_EQ(groups0, v);
	ASSERT_EQ(0, ksmg_global_u64("members", &v));
	EXPECT_EQ(members0, v);
}

/*
 * Pid namespaces: the init of a new pid namespace adds its child by its
 * local pid; it sees that pid in LIST_MEMBERS and in sysfs, and 0 (LIST)
 * or nothing (sysfs) for a member outside; from outside, the child shows
 * under its global pid.
 */
enum {
	KSMG_NS_OK, KSMG_NS_SETUP, KSMG_NS_ADD, KSMG_NS_LIST, KSMG_NS_SYSFS,
};

struct ksmg_ns_args {
	int fd;
	uint32_t id;
	pid_t outsider;
	int ready_w, go_r;
};

static int ksmg_ns_check(struct ksmg_ns_args *a, pid_t local)
{
	int32_t pids[4] = { -1, -1, -1, -1 };
	char path[256], buf[256];
	uint32_t n;

	if (ksmg_add(a->fd, local))
		return KSMG_NS_ADD;
	if (ksmg_list(a->fd, pids, 4, &n) || n != 2)
		return KSMG_NS_LIST;
	if (!((pids[0] == 0 && pids[1] == local) ||
	      (pids[1] == 0 && pids[0] == local)))
		return KSMG_NS_LIST;
	snprintf(path, sizeof(path), KSMG_SYSFS "/%u/pids", a->id);
	if (ksmg_read_file(path, buf, sizeof(buf)))
		return KSMG_NS_SYSFS;
	snprintf(path, sizeof(path), "%d\n", local);
	if (strcmp(buf, path))
		return KSMG_NS_SYSFS;
	return KSMG_NS_OK;
}

/* pid 1 of the new namespace. */
static int ksmg_ns_init(struct ksmg_ns_args *a)
{
	struct ksmg_worker_opts opts = KSMG_WORKER_OPTS_DEFAULT;
	struct ksmg_worker w;
	uint8_t verdict;
	char go;

	verdict = ksmg_worker_start(&w, &opts) ? KSMG_NS_SETUP :
						   ksmg_ns_check(a, w.pid);
	/* Let the outside look while the child is alive, then finish. */
	if (write(a->ready_w, &verdict, 1) != 1 || read(a->go_r, &go, 1) != 1)
		verdict = KSMG_NS_SETUP;
	ksmg_worker_kill(&w);
	return verdict;
}

/* The last NSpid of @pid: its pid in its own innermost namespace. */
static pid_t ksmg_innermost_pid(pid_t pid)
{
	char path[64], buf[4096], *line, *end;
	pid_t last = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (ksmg_read_file(path, buf, sizeof(buf)))
		return -1;
	line = strstr(buf, "\nNSpid:");
	if (!line)
		return -1;
	line += 7;
	end = strchr(line, '\n');
	if (end)
		*end = '\0';
	for (;;) {
		long v = strtol(line, &end, 10);

		if (end == line)
			break;
		last = (pid_t)v;
		line = end;
	}
	return last;
}

TEST_F(lifetime, pids_reported_in_caller_pid_namespace)
{
	int ready[2], go[2], status;
	struct ksmg_ns_args a;
	int32_t pids[4];
	uint8_t verdict = 0xff;
	uint32_t n, i;
	pid_t outer, inner = 0;

	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	a = (struct ksmg_ns_args){ .fd = self->b.fd, .id = self->b.id,
				   .outsider = self->w->pid,
				   .ready_w = ready[1], .go_r = go[0] };
	fflush(stdout);
	outer = fork();
	ASSERT_LE(0, outer);
	if (outer == 0) {
		pid_t init;

		if (unshare(CLONE_NEWPID))
			_exit(KSMG_NS_SETUP);
		init = fork();
		if (init == 0)
			_exit(ksmg_ns_init(&a));
		if (init < 0 || waitpid(init, &status, 0) != init)
			_exit(KSMG_NS_SETUP);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : KSMG_NS_SETUP);
	}
	close(ready[1]);
	close(go[0]);
	ASSERT_EQ(1, read(ready[0], &verdict, 1));
	EXPECT_EQ(KSMG_NS_OK, verdict);

	/* From outside: the outsider, and the inner child by global pid. */
	ASSERT_EQ(0, ksmg_list(self->b.fd, pids, 4, &n));
	EXPECT_EQ(2, n);
	for (i = 0; i < n && i < 4; i++)
		if (pids[i] != self->w->pid)
			inner = pids[i];
	EXPECT_LT(0, inner);
	if (inner > 0)
		EXPECT_EQ(2, ksmg_innermost_pid(inner))
			TH_LOG("member %d is not pid 2 of the namespace", inner);
	ASSERT_EQ(1, write(go[1], "x", 1));
	ASSERT_EQ(outer, waitpid(outer, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	close(ready[0]);
	close(go[1]);
}

TEST_HARNESS_MAIN
