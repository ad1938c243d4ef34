// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Credentials and children: dropping to an unprivileged user with a chosen
 * set of capabilities, running a function in a child and collecting its
 * verdict, and making processes with a chosen pid (for pid reuse tests).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "ksmg_test.h"

static int ksmg_capget(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return (int)syscall(SYS_capget, &hdr, data);
}

static int ksmg_capset(uint64_t caps)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (uint32_t)caps;
	data[1].effective = data[1].permitted = (uint32_t)(caps >> 32);
	return (int)syscall(SYS_capset, &hdr, data);
}

int ksmg_caps_effective(uint64_t *caps_r)
{
	struct __user_cap_data_struct data[2];

	if (ksmg_capget(data))
		return -1;
	*caps_r = (uint64_t)data[1].effective << 32 | data[0].effective;
	return 0;
}

/*
 * Become @uid/@gid with no supplementary groups and exactly the
 * capabilities in @keep_caps (effective and permitted; none inheritable or
 * ambient). The process stays dumpable, as an ordinary daemon would be:
 * the id change alone would make it non-dumpable.
 */
int ksmg_drop_to(uid_t uid, gid_t gid, const int *keep_caps, size_t n_keep)
{
	uint64_t want = 0, have;
	size_t i;

	for (i = 0; i < n_keep; i++)
		want |= 1ULL << keep_caps[i];
	if (want && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		return -1;
	if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
	    setresuid(uid, uid, uid))
		return -1;
	if (ksmg_capset(want))
		return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) ||
	    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) ||
	    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		return -1;
	if (ksmg_caps_effective(&have))
		return -1;
	if (have != want) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/*
 * Run @fn in a child process and return what it returned (0..255), or
 * 128 + signal when it died of one, or -1 when it could not run.
 */
int ksmg_run_child(int (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		_exit(fn(arg) & 0xff);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/*
 * Leave a chroot for the root of the mount namespace: chroot into a
 * subdirectory, then walk ".." from the old root, which is now outside the
 * chroot. Needs CAP_SYS_CHROOT. The test guests run everything chrooted
 * into the host's root, and a chrooted process may not create a user
 * namespace; only a child about to try one calls this, and it opens no
 * path afterwards.
 */
int ksmg_leave_chroot(void)
{
	int fd, i, ret = -1;

	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (chroot("/dev") || fchdir(fd))
		goto out;
	for (i = 0; i < 64; i++)
		if (chdir(".."))
			goto out;
	ret = chroot(".");
out:
	close(fd);
	return ret;
}

/* fork(), but the child gets pid @want (clone3 set_tid, root only). */
static pid_t ksmg_clone3_at(pid_t want)
{
	pid_t tid = want;
	struct clone_args args = {
		.exit_signal = SIGCHLD,
		.set_tid = (uintptr_t)&tid,
		.set_tid_size = 1,
	};

	fflush(stdout);
	fflush(stderr);
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

/* Older way: set ns_last_pid and hope nobody forks in between. */
static pid_t ksmg_fork_after_last_pid(pid_t want)
{
	char buf[32];
	int tries;
	pid_t pid;

	for (tries = 0; tries < 50; tries++) {
		snprintf(buf, sizeof(buf), "%d", want - 1);
		if (ksmg_write_file("/proc/sys/kernel/ns_last_pid", buf))
			return -1;
		fflush(stdout);
		fflush(stderr);
		pid = fork();
		if (pid <= 0 || pid == want)
			return pid;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	errno = EAGAIN;
	return -1;
}

pid_t ksmg_fork_at(pid_t want)
{
	pid_t pid = ksmg_clone3_at(want);

	if (pid >= 0 || (errno != ENOSYS && errno != EINVAL))
		return pid;
	return ksmg_fork_after_last_pid(want);
}

/* A pid with no process behind it right now. */
pid_t ksmg_unused_pid(void)
{
	uint64_t pid_max = 32768;
	pid_t pid;

	ksmg_read_u64("/proc/sys/kernel/pid_max", &pid_max);
	for (pid = (pid_t)pid_max - 1; pid > 300; pid--)
		if (kill(pid, 0) && errno == ESRCH)
			return pid;
	errno = EAGAIN;
	return -1;
}

/* A child that has exited and not been reaped; the caller reaps it. */
pid_t ksmg_zombie(void)
{
	uint64_t deadline;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(0);
	deadline = ksmg_now_ms() + 5000;
	while (ksmg_proc_state(pid) != 'Z') {
		if (ksmg_now_ms() > deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		ksmg_sleep_ms(10);
	}
	return pid;
}
