/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every message dboxd processes exchange. The fields of each, in order, are
 * written next to its type; ipc-msgs.c holds the table of limits. Type
 * numbers are private to one dboxd binary (peers are always the same
 * build), so they may be renumbered freely.
 *
 * Roles: M master, L login, A auth, T worker template, W worker.
 */
#ifndef DBOXD_IPC_MSGS_H
#define DBOXD_IPC_MSGS_H

#include <stdint.h>

enum dboxd_ipc_type {
	DBOXD_IPC_NONE = 0,
	/* M->L,A,T,W: stop (finish what is in flight, then exit). */
	DBOXD_IPC_SHUTDOWN,

	/* L->M: u32 login_cid, str ip, u32 port, str local_ip,
	   u32 local_port, u32 flags (DBOXD_CONN_*). May I serve it? */
	DBOXD_IPC_CONN_OPEN,
	/* M->L: u32 login_cid, u64 conn_id (0 = refused), str reason. */
	DBOXD_IPC_CONN_OPEN_REPLY,
	/* L->M, W->M: u64 conn_id. The connection ended. */
	DBOXD_IPC_CONN_CLOSED,

	/* L->M, M->A: u64 conn_id, str mech, str authzid, str authcid,
	   str password, str ip, u32 flags (DBOXD_CONN_*). Secret. */
	DBOXD_IPC_AUTH_REQUEST,
	/* A->M: u64 conn_id, u32 result (enum dboxd_auth_result),
	   str user, u32 uid, u32 gid, str home, str mail, str reason. */
	DBOXD_IPC_AUTH_REPLY,
	/* M->L: u64 conn_id, u32 result, str reason. */
	DBOXD_IPC_AUTH_RESULT,
	/* M->A: str path; fd = the passwd-file, opened by the master. */
	DBOXD_IPC_PASSWD_FILE,

	/* L->M: u64 conn_id, str tag, bytes pending input, u32 flags;
	   fd = the client (or the login's proxy end for TLS). */
	DBOXD_IPC_HANDOFF,
	/* M->W: u64 conn_id, str tag, bytes pending input, u32 flags,
	   str ip, u32 port; fd = the client. */
	DBOXD_IPC_CLIENT,
	/* W->M: u64 conn_id. The worker has the connection; it sends this
	   before it says anything to the client. Until then the master
	   keeps a copy and hands it to a new worker if this one dies. */
	DBOXD_IPC_CLIENT_TAKEN,

	/* M->T: u64 spawn_id, u32 uid, u32 gid, str user; fd = the new
	   worker's channel. The template forks the worker. */
	DBOXD_IPC_SPAWN,
	/* T->M: u64 spawn_id, u32 pid (0 = failed), str reason. */
	DBOXD_IPC_SPAWNED,
	/* M->W (exec'd worker only): str name, str value; one per setting. */
	DBOXD_IPC_SETTING,
	/* M->W: str user, str home, str mail, u32 ksm_mode
	   (enum dboxd_ksm_mode the master chose). */
	DBOXD_IPC_WORKER_INIT,
	/* W->M: u32 pid, str loop backend, str ksm path. Ready for clients. */
	DBOXD_IPC_WORKER_READY,
	/* W->M: str reason. Could not start; it exits after this. */
	DBOXD_IPC_WORKER_FAILED,
	/* W->M: nothing. No connection left: may I exit? M->W: exit now if
	   still idle (the master sends no CLIENT after this). */
	DBOXD_IPC_WORKER_IDLE,

	/* LMTP delivery. T: the lmtp process.
	   T->M: u64 req_id, str address. Is this a local user? */
	DBOXD_IPC_RCPT_LOOKUP,
	/* M->A: u64 req_id, str user. Look a user up (no password). */
	DBOXD_IPC_USER_LOOKUP,
	/* A->M: u64 req_id, u32 result, str user, u32 uid, u32 gid,
	   str home, str mail. */
	DBOXD_IPC_USER_REPLY,
	/* M->T: u64 req_id, u32 result, str user. */
	DBOXD_IPC_RCPT_RESULT,
	/* T->M: u64 req_id, str user, str sender, str rcpt; fd = a memfd
	   with the message (wire form). M->W: the same. */
	DBOXD_IPC_DELIVER,
	/* W->M, M->T: u64 req_id, u32 result, str reason. */
	DBOXD_IPC_DELIVERED,

	DBOXD_IPC_TYPE_COUNT
};

/* Connection flags. */
#define DBOXD_CONN_TLS		0x01	/* TLS (implicit or STARTTLS) */
#define DBOXD_CONN_SECURED	0x02	/* TLS or loopback */
#define DBOXD_CONN_PROXIED	0x04	/* fd is the login's proxy socket */
#define DBOXD_CONN_FLAGS_MASK	0x07U

enum dboxd_auth_result {
	DBOXD_AUTH_OK = 1,
	DBOXD_AUTH_FAIL,	/* wrong user or password */
	DBOXD_AUTH_TEMPFAIL,	/* cannot check now */
	DBOXD_AUTH_RESULT_MAX = DBOXD_AUTH_TEMPFAIL
};

/* How the master keeps workers mergeable; see master-ksm.c. */
enum dboxd_ksm_mode {
	DBOXD_KSM_OFF = 0,
	DBOXD_KSM_GROUP,	/* members of a ksmgroup merge group */
	DBOXD_KSM_PRCTL,	/* prctl(PR_SET_MEMORY_MERGE) in each worker */
	DBOXD_KSM_MODE_MAX = DBOXD_KSM_PRCTL
};

enum dboxd_ipc_fd_rule {
	DBOXD_IPC_FD_NONE,
	DBOXD_IPC_FD_REQUIRED,
};

struct dboxd_ipc_msg_def {
	const char *name;
	uint32_t max_len;		/* payload bytes */
	enum dboxd_ipc_fd_rule fd;
};

/* NULL for an unknown type. */
const struct dboxd_ipc_msg_def *dboxd_ipc_msg_def(uint32_t type);

/* The largest payload of any message. */
#define DBOXD_IPC_MAX_PAYLOAD (256 * 1024)

#endif
