// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the workers' and the template's seccomp filters
 * (seccomp-worker.c): in a child that installs the filter, what a worker
 * really does (files in a mail root, LMDB, io_uring, SCM_RIGHTS, inotify,
 * timers, KSM madvise/prctl) survives, and what it never does (ptrace,
 * execve, raw or inet sockets, fork, setuid, mount, other architectures'
 * syscall entries) kills the process with SIGSYS. The template's filter
 * lets it fork a child that drops to a user and adds the worker filter.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <lmdb.h>
#include <liburing.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seccomp.h"
#include "test-tap.h"

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif

static char dir[64];

/* WORKER and TEMPLATE as with log_target = syslog */
enum which { WORKER, WORKER_NO_SYSLOG, TEMPLATE };

/* Run body in a child under the filter; its wait status. */
static int run_filtered(enum which which, int (*body)(void))
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		const char *error;
		int ret;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(100);
		ret = which == WORKER_NO_SYSLOG ?
		      dboxd_seccomp_apply_worker(false, &error) :
		      which == WORKER ? dboxd_seccomp_apply_worker(true, &error) :
		      dboxd_seccomp_apply_template(true, &error);
		if (ret < 0) {
			fprintf(stderr, "filter: %s\n", error);
			_exit(101);
		}
		_exit(body());
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static bool survived(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static bool killed_by_sigsys(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

static const char *describe(int status)
{
	static char buf[64];

	if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf), "killed by signal %d",
			 WTERMSIG(status));
	else
		snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(status));
	return buf;
}

/* ---- what a worker does ------------------------------------------------- */

static char path[128];

#define STEP(n, cond) do { if (!(cond)) return n; } while (0)

static int body_mail_root_files(void)
{
	struct stat st;
	struct statx stx;
	DIR *d;
	int fd, dfd, n = 0;

	snprintf(path, sizeof(path), "%s/mail", dir);
	STEP(1, mkdir(path, 0700) == 0);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	STEP(2, dfd >= 0);
	fd = openat(dfd, "tmp.1", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	STEP(3, fd >= 0);
	STEP(4, write(fd, "hello\r\n", 7) == 7);
	STEP(5, pwrite(fd, "H", 1, 0) == 1);
	STEP(6, fsync(fd) == 0 && fdatasync(fd) == 0);
	STEP(7, fstat(fd, &st) == 0 && st.st_size == 7);
	STEP(8, fstatat(dfd, "tmp.1", &st, AT_SYMLINK_NOFOLLOW) == 0);
	STEP(9, statx(dfd, "tmp.1", 0, STATX_SIZE, &stx) == 0);
	STEP(10, flock(fd, LOCK_EX) == 0 && flock(fd, LOCK_UN) == 0);
	STEP(11, ftruncate(fd, 4096) == 0);
	STEP(12, linkat(dfd, "tmp.1", dfd, "u.1", 0) == 0);
	STEP(13, renameat(dfd, "u.1", dfd, "u.2") == 0);
	STEP(14, syscall(SYS_renameat2, dfd, "u.2", dfd, "u.3",
			 RENAME_NOREPLACE) == 0);
	STEP(15, unlinkat(dfd, "tmp.1", 0) == 0);
	STEP(16, mkdirat(dfd, "sub", 0700) == 0 &&
		 unlinkat(dfd, "sub", AT_REMOVEDIR) == 0);
	d = fdopendir(dup(dfd));
	STEP(17, d != NULL);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	STEP(18, n == 3);
	close(fd);
	STEP(19, unlinkat(dfd, "u.3", 0) == 0);
	close(dfd);
	STEP(20, rmdir(path) == 0);
	return 0;
}

static int body_lmdb(void)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val key = { 3, "key" }, val = { 5, "value" }, out;

	snprintf(path, sizeof(path), "%s/lmdb", dir);
	STEP(1, mkdir(path, 0700) == 0 || errno == EEXIST);
	STEP(2, mdb_env_create(&env) == 0);
	STEP(3, mdb_env_set_mapsize(env, 1 << 20) == 0);
	STEP(4, mdb_env_open(env, path, 0, 0600) == 0);
	STEP(5, mdb_txn_begin(env, NULL, 0, &txn) == 0);
	STEP(6, mdb_dbi_open(txn, NULL, 0, &dbi) == 0);
	STEP(7, mdb_put(txn, dbi, &key, &val, 0) == 0);
	STEP(8, mdb_txn_commit(txn) == 0);
	STEP(9, mdb_env_sync(env, 1) == 0);
	STEP(10, mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0);
	STEP(11, mdb_get(txn, dbi, &key, &out) == 0 && out.mv_size == 5);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return 0;
}

static int body_io_uring(void)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	char buf[8];
	int fd;

	snprintf(path, sizeof(path), "%s/ring", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	STEP(1, fd >= 0 && write(fd, "ringdata", 8) == 8);
	if (io_uring_queue_init(8, &ring, 0) < 0)
		return 0;	/* no io_uring here: the worker uses epoll */
	STEP(2, io_uring_register_files(&ring, &fd, 1) == 0);
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_read(sqe, 0, buf, sizeof(buf), 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
	STEP(3, io_uring_submit_and_wait(&ring, 2) == 2);
	for (int i = 0; i < 2; i++) {
		STEP(4, io_uring_wait_cqe(&ring, &cqe) == 0);
		STEP(5, cqe->res >= 0);
		io_uring_cqe_seen(&ring, cqe);
	}
	STEP(6, memcmp(buf, "ringdata", 8) == 0);
	io_uring_queue_exit(&ring);
	close(fd);
	unlink(path);
	return 0;
}

static int sv[2];

static int body_scm_rights(void)
{
	char byte = 'x', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	int fd = 1, got;

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	STEP(1, sendmsg(sv[0], &msg, 0) == 1);
	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_controllen = sizeof(cbuf);
	STEP(2, recvmsg(sv[1], &msg, MSG_CMSG_CLOEXEC) == 1);
	cmsg = CMSG_FIRSTHDR(&msg);
	STEP(3, cmsg != NULL && cmsg->cmsg_type == SCM_RIGHTS);
	memcpy(&got, CMSG_DATA(cmsg), sizeof(int));
	STEP(4, got > 2 && close(got) == 0);
	return 0;
}

static int body_loop_and_memory(void)
{
	struct itimerspec its = { .it_value = { 0, 1000000 } };
	struct epoll_event ev = { .events = EPOLLIN };
	struct timespec ts;
	uint64_t ticks;
	char rnd[16], *m;
	int ep, tfd, ifd, us;

	ep = epoll_create1(EPOLL_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	STEP(1, ep >= 0 && tfd >= 0);
	STEP(2, timerfd_settime(tfd, 0, &its, NULL) == 0);
	STEP(3, epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) == 0);
	STEP(4, epoll_wait(ep, &ev, 1, 1000) == 1);
	STEP(5, read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks));
	STEP(6, clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	STEP(7, getrandom(rnd, sizeof(rnd), 0) == sizeof(rnd));
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	STEP(8, ifd >= 0 && inotify_add_watch(ifd, dir, IN_MODIFY) >= 0);
	m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	STEP(9, m != MAP_FAILED);
	m[0] = 1;
	STEP(10, madvise(m, 1 << 20, MADV_DONTDUMP) == 0);
	/* EINVAL without CONFIG_KSM is fine: it must not kill us */
	(void)madvise(m, 1 << 20, MADV_UNMERGEABLE);
	(void)prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0);
	STEP(11, madvise(m, 1 << 20, MADV_DONTNEED) == 0);
	STEP(12, munmap(m, 1 << 20) == 0);
	/* syslog(3)'s socket */
	us = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	STEP(13, us >= 0);
	close(us);
	STEP(14, isatty(2) || errno == ENOTTY || errno == EINVAL);
	return 0;
}

static int body_status_shows_filter(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	int mode = -1;

	STEP(1, f != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		sscanf(line, "Seccomp: %d", &mode);
	fclose(f);
	return mode == 2 ? 0 : 2;
}

/* ---- what it never does ------------------------------------------------- */

static int body_ptrace(void)
{
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return 0;
}

static int body_execve(void)
{
	char *argv[] = { "/bin/true", NULL };

	execve(argv[0], argv, NULL);
	return 0;
}

static int body_socket_packet(void)
{
	socket(AF_PACKET, SOCK_RAW, 0);
	return 0;
}

static int body_socket_inet(void)
{
	socket(AF_INET, SOCK_STREAM, 0);
	return 0;
}

static int body_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return 0;
}

static int body_setuid(void)
{
	setuid(getuid());
	return 0;
}

static int body_mount(void)
{
	mount("none", "/", NULL, MS_REMOUNT, NULL);
	return 0;
}

static int body_kill_parent(void)
{
	kill(getppid(), 0);
	return 0;
}

static int body_tgkill_other(void)
{
	syscall(SYS_tgkill, getppid(), getppid(), 0);
	return 0;
}

static int body_prctl_dumpable(void)
{
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	return 0;
}

static int body_ioctl_tiocsti(void)
{
	char c = 'x';

	ioctl(0, TIOCSTI, &c);
	return 0;
}

static int body_i386_entry(void)
{
	long ret;

	/* getpid through the 32-bit entry: another audit arch */
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	return 0;
}

static int body_socket_unix(void)
{
	socket(AF_UNIX, SOCK_DGRAM, 0);
	return 0;
}

static int body_x32(void)
{
	syscall(__NR_getpid | 0x40000000);
	return 0;
}

/* ---- the template ------------------------------------------------------- */

/* fork, drop to nobody, add the worker filter, work, exit */
static int body_template_spawns_worker(void)
{
	pid_t pid = fork();
	int status;

	STEP(1, pid >= 0);
	if (pid == 0) {
		const char *error;
		gid_t gid = 65534;

		if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		/* the drop check of dboxd_drop_privileges: EPERM, no kill */
		if (setuid(0) == 0 || seteuid(0) == 0)
			_exit(3);
		if (dboxd_seccomp_apply_worker(false, &error) < 0)
			_exit(4);
		_exit(body_scm_rights());
	}
	STEP(5, waitpid(pid, &status, 0) == pid);
	if (WIFSIGNALED(status))
		return 100 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int body_template_clone_newuser(void)
{
	syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
	return 0;
}

static int body_unshare(void)
{
	unshare(CLONE_NEWNET);
	return 0;
}

struct named_body {
	const char *name;
	int (*body)(void);
};

static const struct named_body allowed[] = {
	{ "files in the mail root", body_mail_root_files },
	{ "LMDB open, write, commit, sync", body_lmdb },
	{ "io_uring: setup, register, read, fsync", body_io_uring },
	{ "SCM_RIGHTS over the master channel", body_scm_rights },
	{ "event loop, timers, inotify, KSM madvise/prctl, syslog socket",
	  body_loop_and_memory },
	{ "reading /proc/self/status, which shows Seccomp: 2",
	  body_status_shows_filter },
};

static const struct named_body forbidden[] = {
	{ "ptrace", body_ptrace },
	{ "execve", body_execve },
	{ "socket(AF_PACKET)", body_socket_packet },
	{ "socket(AF_INET)", body_socket_inet },
	{ "fork", body_fork },
	{ "setuid", body_setuid },
	{ "mount", body_mount },
	{ "kill", body_kill_parent },
	{ "tgkill of another process", body_tgkill_other },
	{ "prctl(PR_SET_DUMPABLE)", body_prctl_dumpable },
	{ "ioctl(TIOCSTI)", body_ioctl_tiocsti },
	{ "the i386 syscall entry", body_i386_entry },
	{ "the x32 ABI", body_x32 },
	{ "unshare", body_unshare },
};

static const struct named_body template_forbidden[] = {
	{ "execve", body_execve },
	{ "ptrace", body_ptrace },
	{ "socket(AF_INET)", body_socket_inet },
	{ "clone(CLONE_NEWUSER)", body_template_clone_newuser },
	{ "unshare", body_unshare },
	{ "mount", body_mount },
};

int main(void)
{
	int status;

#if !defined(__x86_64__)
	tap_skip("worker seccomp filter", "x86_64 only");
	return tap_done();
#endif
#if defined(__SANITIZE_ADDRESS__)
	/* LeakSanitizer's exit check clones and ptraces: killed */
	tap_skip("worker seccomp filter", "not under a sanitizer");
	return tap_done();
#endif
	snprintf(dir, sizeof(dir), "/tmp/dboxd-test-seccomp-XXXXXX");
	if (mkdtemp(dir) == NULL ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("set-up");
		return 1;
	}
	for (unsigned int i = 0; i < DBOXD_N_ELEMENTS(allowed); i++) {
		status = run_filtered(WORKER, allowed[i].body);
		tap_ok(survived(status), "worker filter allows %s (%s)",
		       allowed[i].name, describe(status));
	}
	for (unsigned int i = 0; i < DBOXD_N_ELEMENTS(forbidden); i++) {
		status = run_filtered(WORKER, forbidden[i].body);
		tap_ok(killed_by_sigsys(status),
		       "worker filter kills on %s (%s)", forbidden[i].name,
		       describe(status));
	}
	status = run_filtered(WORKER_NO_SYSLOG, body_scm_rights);
	tap_ok(survived(status),
	       "worker filter without syslog allows SCM_RIGHTS (%s)",
	       describe(status));
	status = run_filtered(WORKER_NO_SYSLOG, body_socket_unix);
	tap_ok(killed_by_sigsys(status),
	       "worker filter without syslog kills on socket(AF_UNIX) (%s)",
	       describe(status));
	if (geteuid() != 0) {
		tap_skip("template filter", "needs root (it drops to a user)");
	} else {
		status = run_filtered(TEMPLATE, body_template_spawns_worker);
		tap_ok(survived(status),
		       "template filter forks a worker that drops to a user and adds its filter (%s)",
		       describe(status));
		status = run_filtered(TEMPLATE, body_lmdb);
		tap_ok(survived(status), "template filter allows LMDB (%s)",
		       describe(status));
	}
	for (unsigned int i = 0; i < DBOXD_N_ELEMENTS(template_forbidden); i++) {
		status = run_filtered(TEMPLATE, template_forbidden[i].body);
		tap_ok(killed_by_sigsys(status),
		       "template filter kills on %s (%s)",
		       template_forbidden[i].name, describe(status));
	}
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return tap_done();
}
