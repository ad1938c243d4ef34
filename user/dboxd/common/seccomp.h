/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Narrowing the syscalls of every role but the master (house rule 10).
 *
 * Pre-login roles (login, auth, lmtp) install a filter once set up, just
 * before their event loop runs. Listed syscalls are allowed; a few that no
 * role may ever make (execve, ptrace, mount, ...) kill the process; anything
 * else fails with EPERM, so an unexpected library call fails cleanly rather
 * than killing a process that serves many connections.
 *
 * Workers and the worker template (seccomp-worker.c) are stricter: an
 * allow-list whose default is SECCOMP_RET_KILL_PROCESS (which the kernel
 * logs through audit: "type=1326 ... syscall=N"). A worker serves one user
 * and runs that user's mail through parsers, so anything it does not need
 * is fatal. The template's filter is what every worker inherits before its
 * own: it also allows forking and dropping to the user's uid, and the
 * storage set-up a worker does before its own filter goes on.
 */
#ifndef DBOXD_SECCOMP_H
#define DBOXD_SECCOMP_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/filter.h>

enum dboxd_seccomp_role {
	DBOXD_SECCOMP_LOGIN,
	DBOXD_SECCOMP_AUTH,
	DBOXD_SECCOMP_LMTP,
};

/* Needs no_new_privs (dboxd_drop_privileges sets it). */
int dboxd_seccomp_apply(enum dboxd_seccomp_role role, const char **error_r);

/* The worker's filter: after it dropped privileges and opened the user's
   storage. Needs no_new_privs. syslog: allow the AF_UNIX socket and the
   connect that syslog(3) needs to reconnect (log_target = syslog). */
int dboxd_seccomp_apply_worker(bool syslog, const char **error_r);
/* The template's filter, once it is set up (sets no_new_privs itself). */
int dboxd_seccomp_apply_template(bool syslog, const char **error_r);

/* ---- building filters (seccomp.c, used by seccomp-worker.c) ------------- */

#define DBOXD_BPF_MAX_INSNS 512

struct dboxd_bpf {
	struct sock_filter insns[DBOXD_BPF_MAX_INSNS];
	unsigned int n;
	bool overflow;
};

/* Kill any other architecture and the x32 ABI; leaves the syscall number
   loaded for the tests that follow (every helper below keeps it so). */
void dboxd_bpf_start(struct dboxd_bpf *p);
/* nr in calls: return action. */
void dboxd_bpf_calls(struct dboxd_bpf *p, const int *calls, unsigned int count,
		     uint32_t action);
/* nr == call: allowed when the low 32 bits of argument arg (an int or a
   flag word the kernel reads as 32 bits) are one of values; else
   action_else. */
void dboxd_bpf_call_arg_in(struct dboxd_bpf *p, int call, unsigned int arg,
			   const uint32_t *values, unsigned int count,
			   uint32_t action_else);
/* nr == call: allowed when argument arg has none of the bits of mask. */
void dboxd_bpf_call_arg_clear(struct dboxd_bpf *p, int call, unsigned int arg,
			      uint32_t mask, uint32_t action_else);
void dboxd_bpf_ret(struct dboxd_bpf *p, uint32_t action);
/* prctl(PR_SET_SECCOMP) with the program built. */
int dboxd_bpf_install(struct dboxd_bpf *p, const char **error_r);

#define DBOXD_N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

#endif
