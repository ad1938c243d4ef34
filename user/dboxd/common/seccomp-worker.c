// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The seccomp filters of the workers and the worker template; see
 * seccomp.h and docs/dboxd.md ("seccomp").
 *
 * A worker runs as its user and feeds that user's mail through MIME,
 * charset and deflate code: it is where a parser bug would be exploited.
 * Its filter is an allow-list of what a worker does once its storage is
 * open (the list was taken from the end-to-end suite run with the default
 * action SECCOMP_RET_LOG, see the docs); anything else kills the process
 * (SECCOMP_RET_KILL_PROCESS, which the kernel logs through audit with the
 * syscall number, and the template or master logs as "killed by signal 31").
 *
 * The template (root) installs its own filter once set up: the worker list,
 * plus forking, dropping to a user, and no_new_privs/seccomp for the child.
 * A worker forked from it is under both filters (the stricter answer wins),
 * so the template's list must hold everything a worker does between fork
 * and its own filter: dropping privileges, the event loop, opening the
 * storage (mkdir of the mail root, LMDB's first open).
 *
 * io_uring requests are not syscalls: what the ring does (openat, read,
 * fsync ... submitted through io_uring_enter) is not seen by seccomp. That
 * is why the ring is set up before the filter goes on but io_uring_setup
 * stays allowed (libraries may make a ring lazily): the kernel checks the
 * opcodes against the process's credentials all the same, and the worker
 * runs as its user.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <unistd.h>

#include "seccomp.h"

#if defined(__x86_64__)

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#define PR_GET_MEMORY_MERGE 68
#endif
#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#endif

/* Most frequent first: the kernel caches the verdict of syscalls allowed
   whatever their arguments, but older kernels walk the list. */
static const int worker_calls[] = {
	/* the event loop and the storage's ring */
	__NR_io_uring_enter, __NR_io_uring_register, __NR_io_uring_setup,
	__NR_epoll_wait, __NR_epoll_pwait, __NR_epoll_pwait2, __NR_epoll_ctl,
	__NR_epoll_create1, __NR_poll, __NR_ppoll,
	__NR_timerfd_create, __NR_timerfd_settime, __NR_timerfd_gettime,
	__NR_signalfd4, __NR_eventfd2,
	/* sockets: clients, the master channel (SCM_RIGHTS) */
	__NR_read, __NR_write, __NR_readv, __NR_writev,
	__NR_recvmsg, __NR_sendmsg, __NR_recvfrom, __NR_sendto,
	__NR_shutdown, __NR_getsockopt, __NR_setsockopt, __NR_getsockname,
	__NR_getpeername,
	/* files inside the mail root; LMDB (mmap, msync, fdatasync, fcntl
	   locks, flock); charset modules iconv loads on first use */
	__NR_open, __NR_openat, __NR_close, __NR_close_range,
	__NR_pread64, __NR_pwrite64, __NR_preadv, __NR_pwritev,
	__NR_preadv2, __NR_pwritev2, __NR_lseek,
	__NR_fstat, __NR_newfstatat, __NR_stat, __NR_lstat, __NR_statx,
	__NR_fstatfs, __NR_statfs,
	__NR_access, __NR_faccessat, __NR_faccessat2,
	__NR_readlink, __NR_readlinkat, __NR_getdents64, __NR_getcwd,
	__NR_mkdir, __NR_mkdirat, __NR_rmdir,
	__NR_rename, __NR_renameat, __NR_renameat2,
	__NR_link, __NR_linkat, __NR_unlink, __NR_unlinkat,
	__NR_ftruncate, __NR_fallocate, __NR_fsync, __NR_fdatasync,
	__NR_msync, __NR_flock, __NR_fcntl, __NR_fadvise64, __NR_readahead,
	__NR_utimensat, __NR_dup, __NR_dup3,
	__NR_inotify_init1, __NR_inotify_add_watch, __NR_inotify_rm_watch,
	/* memory (madvise: KSM and the secret regions' exclusion) */
	__NR_mmap, __NR_munmap, __NR_mprotect, __NR_mremap, __NR_madvise,
	__NR_brk, __NR_mincore,
	/* signals, time, randomness, identity, exit */
	__NR_rt_sigprocmask, __NR_rt_sigaction, __NR_rt_sigreturn,
	__NR_sigaltstack, __NR_restart_syscall, __NR_futex, __NR_sched_yield,
	__NR_set_robust_list, __NR_rseq,
	__NR_clock_gettime, __NR_clock_getres, __NR_clock_nanosleep,
	__NR_nanosleep, __NR_gettimeofday, __NR_time, __NR_getrandom,
	__NR_getpid, __NR_gettid, __NR_getppid, __NR_getuid, __NR_geteuid,
	__NR_getgid, __NR_getegid, __NR_getresuid, __NR_getresgid,
	__NR_getgroups, __NR_getrlimit, __NR_getrusage, __NR_sysinfo,
	__NR_uname, __NR_sched_getaffinity,
	__NR_exit, __NR_exit_group,
};

/* Only the template: fork a worker, which then drops to its user and
   installs its own filter. */
static const int template_calls[] = {
	__NR_wait4, __NR_waitid,
	__NR_setgroups, __NR_setresgid, __NR_setresuid, __NR_setuid,
	__NR_setgid, __NR_seccomp,
};

/* prctl options: what KSM and glibc ask; the template also sets
   no_new_privs and seccomp for its children. */
static const uint32_t worker_prctls[] = {
	PR_SET_MEMORY_MERGE, PR_GET_MEMORY_MERGE, PR_GET_DUMPABLE,
	PR_SET_NAME, PR_GET_NAME, PR_SET_VMA, PR_GET_NO_NEW_PRIVS,
	PR_GET_SECCOMP,
};
static const uint32_t template_prctls[] = {
	PR_SET_MEMORY_MERGE, PR_GET_MEMORY_MERGE, PR_GET_DUMPABLE,
	PR_SET_NAME, PR_GET_NAME, PR_SET_VMA, PR_GET_NO_NEW_PRIVS,
	PR_GET_SECCOMP, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP,
};

/* isatty() of stdio on the log descriptor, non-blocking flags */
static const uint32_t worker_ioctls[] = {
	TCGETS, TIOCGWINSZ, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX,
};

/* syslog(3) is the only socket a worker makes, and only with
   log_target = syslog: otherwise a worker taken over could not even reach
   the Unix sockets on the host (the LMTP socket, D-Bus, ...). */
static const uint32_t worker_socket_domains[] = { AF_UNIX };

/* fork() without new namespaces; no threads are needed either */
#define TEMPLATE_CLONE_FORBIDDEN \
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
	 CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_THREAD | \
	 CLONE_VM)

/* What is not allowed kills. Development only (make
   EXTRA_CFLAGS=-DDBOXD_SECCOMP_DISCOVER): log it instead, to find what a
   change needs (dmesg shows "type=1326 ... syscall=N"). */
#ifdef DBOXD_SECCOMP_DISCOVER
#define DENY SECCOMP_RET_LOG
#else
#define DENY SECCOMP_RET_KILL_PROCESS
#endif

static void worker_filter(struct dboxd_bpf *p, bool template, bool syslog)
{
	const uint32_t self = (uint32_t)getpid();
	const uint32_t abrt = SIGABRT;

	dboxd_bpf_start(p);
	dboxd_bpf_calls(p, worker_calls, DBOXD_N_ELEMENTS(worker_calls),
			SECCOMP_RET_ALLOW);
	if (syslog) {
		dboxd_bpf_call_arg_in(p, __NR_socket, 0, worker_socket_domains,
				      DBOXD_N_ELEMENTS(worker_socket_domains),
				      DENY);
		dboxd_bpf_calls(p, (const int[]){ __NR_connect }, 1,
				SECCOMP_RET_ALLOW);
	}
	dboxd_bpf_call_arg_in(p, __NR_ioctl, 1, worker_ioctls,
			      DBOXD_N_ELEMENTS(worker_ioctls),
			      DENY);
	/* getrlimit through prlimit64(0, ...): only our own limits */
	dboxd_bpf_call_arg_in(p, __NR_prlimit64, 0, (const uint32_t[]){ 0 }, 1,
			      DENY);
	if (template) {
		dboxd_bpf_calls(p, template_calls,
				DBOXD_N_ELEMENTS(template_calls),
				SECCOMP_RET_ALLOW);
		dboxd_bpf_call_arg_in(p, __NR_prctl, 0, template_prctls,
				      DBOXD_N_ELEMENTS(template_prctls),
				      DENY);
		dboxd_bpf_call_arg_clear(p, __NR_clone, 0,
					 TEMPLATE_CLONE_FORBIDDEN,
					 DENY);
		/* glibc falls back to clone() when clone3 is missing;
		   clone3's flags are behind a pointer BPF cannot read */
		dboxd_bpf_calls(p, (const int[]){ __NR_clone3 }, 1,
				SECCOMP_RET_ERRNO | ENOSYS);
		/* abort(): the workers' own filter narrows it to themselves */
		dboxd_bpf_call_arg_in(p, __NR_tgkill, 2, &abrt, 1,
				      DENY);
	} else {
		dboxd_bpf_call_arg_in(p, __NR_prctl, 0, worker_prctls,
				      DBOXD_N_ELEMENTS(worker_prctls),
				      DENY);
		/* raise()/abort() signal ourselves, no one else */
		dboxd_bpf_call_arg_in(p, __NR_tgkill, 0, &self, 1,
				      DENY);
	}
	dboxd_bpf_ret(p, DENY);
}

int dboxd_seccomp_apply_worker(bool syslog, const char **error_r)
{
	static struct dboxd_bpf p;

	worker_filter(&p, false, syslog);
	return dboxd_bpf_install(&p, error_r);
}

int dboxd_seccomp_apply_template(bool syslog, const char **error_r)
{
	static struct dboxd_bpf p;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		*error_r = "prctl(PR_SET_NO_NEW_PRIVS) failed";
		return -1;
	}
	worker_filter(&p, true, syslog);
	return dboxd_bpf_install(&p, error_r);
}

#else

int dboxd_seccomp_apply_worker(bool syslog, const char **error_r)
{
	(void)syslog;
	*error_r = "no seccomp filter for this architecture";
	return -1;
}

int dboxd_seccomp_apply_template(bool syslog, const char **error_r)
{
	(void)syslog;
	*error_r = "no seccomp filter for this architecture";
	return -1;
}

#endif
