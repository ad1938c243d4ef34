// SPDX-License-Identifier: GPL-2.0-or-later
/* seccomp filters of the pre-login roles; see seccomp.h. x86_64 only: on
   another architecture no filter is installed (and that is logged). */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "seccomp.h"

#if defined(__x86_64__)

/* What every role needs: I/O on its descriptors, memory, signals (via
   signalfd), time, randomness (OpenSSL), exit, logging. */
static const int common_calls[] = {
	__NR_read, __NR_write, __NR_readv, __NR_writev, __NR_pread64,
	__NR_close, __NR_fstat, __NR_newfstatat, __NR_lseek, __NR_fcntl,
	__NR_dup, __NR_dup3,
	__NR_mmap, __NR_munmap, __NR_mprotect, __NR_madvise, __NR_brk,
	__NR_mremap,
	__NR_rt_sigprocmask, __NR_rt_sigaction, __NR_rt_sigreturn,
	__NR_sigaltstack,
	__NR_restart_syscall, __NR_futex, __NR_sched_yield,
	__NR_exit, __NR_exit_group, __NR_getpid, __NR_gettid,
	__NR_getuid, __NR_geteuid, __NR_getgid, __NR_getegid,
	__NR_getrandom, __NR_clock_gettime, __NR_clock_nanosleep,
	__NR_nanosleep, __NR_gettimeofday,
	__NR_epoll_wait, __NR_epoll_pwait, __NR_epoll_ctl, __NR_epoll_create1,
	__NR_sendmsg, __NR_recvmsg, __NR_sendto, __NR_recvfrom,
	__NR_getsockopt, __NR_setsockopt, __NR_shutdown,
	/* syslog(3) reconnects to /dev/log */
	__NR_socket, __NR_connect,
};

static const int login_calls[] = {
	__NR_accept4, __NR_getpeername, __NR_getsockname, __NR_socketpair,
};

static const int lmtp_calls[] = {
	__NR_accept4, __NR_getpeername, __NR_getsockname, __NR_memfd_create,
};

/* Never, whatever happens: kill. */
static const int fatal_calls[] = {
	__NR_execve, __NR_execveat, __NR_ptrace, __NR_process_vm_readv,
	__NR_process_vm_writev, __NR_mount, __NR_umount2, __NR_chroot,
	__NR_pivot_root, __NR_setuid, __NR_setgid, __NR_setresuid,
	__NR_setresgid, __NR_setreuid, __NR_setregid, __NR_setgroups,
	__NR_init_module, __NR_finit_module, __NR_kexec_load, __NR_bpf,
	__NR_perf_event_open, __NR_keyctl, __NR_add_key, __NR_request_key,
	__NR_unshare, __NR_setns, __NR_clone3, __NR_fork, __NR_vfork,
	__NR_io_uring_setup,
};

#define MAX_INSNS 256

struct prog {
	struct sock_filter insns[MAX_INSNS];
	unsigned int n;
};

static void emit(struct prog *p, struct sock_filter insn)
{
	if (p->n < MAX_INSNS)
		p->insns[p->n++] = insn;
}

static void emit_list(struct prog *p, const int *calls, unsigned int count,
		      unsigned int action)
{
	for (unsigned int i = 0; i < count; i++) {
		emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						     (unsigned int)calls[i], 0, 1));
		emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action));
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

int dboxd_seccomp_apply(enum dboxd_seccomp_role role, const char **error_r)
{
	static struct prog p;
	struct sock_fprog fprog;

	p.n = 0;
	/* the right architecture, and not the x32 ABI */
	emit(&p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, arch)));
	emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		AUDIT_ARCH_X86_64, 1, 0));
	emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		SECCOMP_RET_KILL_PROCESS));
	emit(&p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, nr)));
	emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
		0x40000000, 0, 1));
	emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		SECCOMP_RET_KILL_PROCESS));
	emit_list(&p, fatal_calls, N(fatal_calls), SECCOMP_RET_KILL_PROCESS);
	emit_list(&p, common_calls, N(common_calls), SECCOMP_RET_ALLOW);
	if (role == DBOXD_SECCOMP_LOGIN)
		emit_list(&p, login_calls, N(login_calls), SECCOMP_RET_ALLOW);
	if (role == DBOXD_SECCOMP_LMTP)
		emit_list(&p, lmtp_calls, N(lmtp_calls), SECCOMP_RET_ALLOW);
	emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)));
	if (p.n == MAX_INSNS) {
		*error_r = "filter too long";
		return -1;
	}
	fprog.len = (unsigned short)p.n;
	fprog.filter = p.insns;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	return 0;
}

#else

int dboxd_seccomp_apply(enum dboxd_seccomp_role role, const char **error_r)
{
	(void)role;
	*error_r = "no seccomp filter for this architecture";
	return -1;
}

#endif
