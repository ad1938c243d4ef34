// SPDX-License-Identifier: GPL-2.0-or-later
/* seccomp filters of the pre-login roles and the filter builder; see
   seccomp.h. x86_64 only: on another architecture no filter is installed
   (and that is logged). */
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

/* ---- the builder ------------------------------------------------------- */

static void emit(struct dboxd_bpf *p, struct sock_filter insn)
{
	if (p->n < DBOXD_BPF_MAX_INSNS)
		p->insns[p->n++] = insn;
	else
		p->overflow = true;
}

#define STMT(code, k) ((struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, jt, jf) ((struct sock_filter)BPF_JUMP(code, k, jt, jf))
#define LOAD_NR STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
/* The low half of a 64-bit argument (little endian). */
#define LOAD_ARG_LO(i) STMT(BPF_LD | BPF_W | BPF_ABS, \
			    offsetof(struct seccomp_data, args[i]))

void dboxd_bpf_start(struct dboxd_bpf *p)
{
	p->n = 0;
	p->overflow = false;
	/* the right architecture, and not the x32 ABI */
	emit(p, STMT(BPF_LD | BPF_W | BPF_ABS,
		     offsetof(struct seccomp_data, arch)));
	emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
	emit(p, STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	emit(p, LOAD_NR);
	emit(p, JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1));
	emit(p, STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
}

void dboxd_bpf_calls(struct dboxd_bpf *p, const int *calls, unsigned int count,
		     uint32_t action)
{
	for (unsigned int i = 0; i < count; i++) {
		emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			     (uint32_t)calls[i], 0, 1));
		emit(p, STMT(BPF_RET | BPF_K, action));
	}
}

/* Every body below ends in a return, so the syscall number stays loaded
   for whatever follows a non-matching call. */
void dboxd_bpf_call_arg_in(struct dboxd_bpf *p, int call, unsigned int arg,
			   const uint32_t *values, unsigned int count,
			   uint32_t action_else)
{
	emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)call, 0,
		     (uint8_t)(2 + 2 * count)));
	emit(p, LOAD_ARG_LO(arg));
	for (unsigned int i = 0; i < count; i++) {
		emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, values[i], 0, 1));
		emit(p, STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	}
	emit(p, STMT(BPF_RET | BPF_K, action_else));
}

void dboxd_bpf_call_arg_clear(struct dboxd_bpf *p, int call, unsigned int arg,
			      uint32_t mask, uint32_t action_else)
{
	emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)call, 0, 4));
	emit(p, LOAD_ARG_LO(arg));
	emit(p, JUMP(BPF_JMP | BPF_JSET | BPF_K, mask, 0, 1));
	emit(p, STMT(BPF_RET | BPF_K, action_else));
	emit(p, STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
}

void dboxd_bpf_ret(struct dboxd_bpf *p, uint32_t action)
{
	emit(p, STMT(BPF_RET | BPF_K, action));
}

int dboxd_bpf_install(struct dboxd_bpf *p, const char **error_r)
{
	struct sock_fprog fprog;

	if (p->overflow) {
		*error_r = "filter too long";
		return -1;
	}
	fprog.len = (unsigned short)p->n;
	fprog.filter = p->insns;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	return 0;
}

/* ---- the pre-login roles ----------------------------------------------- */

int dboxd_seccomp_apply(enum dboxd_seccomp_role role, const char **error_r)
{
	static struct dboxd_bpf p;

	dboxd_bpf_start(&p);
	dboxd_bpf_calls(&p, fatal_calls, DBOXD_N_ELEMENTS(fatal_calls),
			SECCOMP_RET_KILL_PROCESS);
	dboxd_bpf_calls(&p, common_calls, DBOXD_N_ELEMENTS(common_calls),
			SECCOMP_RET_ALLOW);
	if (role == DBOXD_SECCOMP_LOGIN)
		dboxd_bpf_calls(&p, login_calls, DBOXD_N_ELEMENTS(login_calls),
				SECCOMP_RET_ALLOW);
	if (role == DBOXD_SECCOMP_LMTP)
		dboxd_bpf_calls(&p, lmtp_calls, DBOXD_N_ELEMENTS(lmtp_calls),
				SECCOMP_RET_ALLOW);
	dboxd_bpf_ret(&p, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	return dboxd_bpf_install(&p, error_r);
}

#else

int dboxd_seccomp_apply(enum dboxd_seccomp_role role, const char **error_r)
{
	(void)role;
	*error_r = "no seccomp filter for this architecture";
	return -1;
}

#endif
