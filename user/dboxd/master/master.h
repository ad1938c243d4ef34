/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The master process (root): owns the config, the listening sockets and
 * the merge group; forks and supervises the auth process, the login
 * processes and the worker template; starts a worker per logged-in user and
 * hands it that user's connections; counts connections per address and per
 * user. It never parses IMAP and never sees a password in clear except to
 * pass it on to auth.
 *
 * Lifetime: children are tracked in master_g->children; a child's channel
 * closing or its pid exiting (SIGCHLD) ends it, and roles other than
 * workers are restarted with back-off. Connections (struct master_conn)
 * exist from the login's CONN_OPEN until CONN_CLOSED from whoever owns the
 * socket at that time (the login before handoff, the worker after).
 */
#ifndef DBOXD_MASTER_H
#define DBOXD_MASTER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "ipc.h"
#include "loop.h"
#include "net.h"

struct dboxd_hash;
struct ksmg_group;

enum master_role {
	MASTER_ROLE_AUTH,
	MASTER_ROLE_LOGIN,
	MASTER_ROLE_TEMPLATE,
	MASTER_ROLE_LMTP,
};

/* What a worker is started for: a user as auth described it. */
struct master_userinfo {
	char *user;
	uid_t uid;
	gid_t gid;
	char *home;
	char *mail;
};

struct master_child {
	struct master_child *next;
	enum master_role role;
	unsigned int index;		/* login number */
	pid_t pid;			/* 0 while not running */
	struct dboxd_ipc *ipc;
	uint64_t started_msecs;
	unsigned int backoff_msecs;
	struct dboxd_timer *restart_timer;
	/* an old login after a reload: finishes its connections, is not
	   restarted */
	bool retiring;
};

struct master_handoff;

enum master_worker_state {
	WORKER_SPAWNING,	/* forked or asked for; no READY yet */
	WORKER_READY,
	WORKER_EXITING,		/* told to exit; no new clients */
};

struct master_worker {
	char *user;
	uid_t uid;
	gid_t gid;
	char *home;
	char *mail;
	uint64_t spawn_id;
	pid_t pid;
	struct dboxd_ipc *ipc;
	enum master_worker_state state;
	/* connections handed (or queued) to this worker */
	unsigned int conn_count;
	/* LMTP deliveries sent (or queued) to it and not answered */
	unsigned int delivery_count;
	struct master_handoff *queue, **queue_tail;
	/* connections sent to it that it has not confirmed (CLIENT_TAKEN) */
	struct master_handoff *sent;
	bool in_table;		/* master_g->workers has it under user */
};

enum master_conn_state {
	CONN_PREAUTH,
	CONN_AUTHING,		/* request at auth */
	CONN_AUTHED,		/* login told OK; handoff expected */
	CONN_HANDED,		/* belongs to a worker */
};

struct master_conn {
	uint64_t id;
	char ip[64];
	unsigned int port;
	uint32_t flags;		/* DBOXD_CONN_* */
	struct master_child *login;
	enum master_conn_state state;
	char *user;
	uid_t uid;
	gid_t gid;
	char *home;
	char *mail;
	struct master_worker *worker;
};

struct master_listeners {
	char *imap_spec, *imaps_spec, *lmtp_spec;
	int *imap_fds, *imaps_fds, *lmtp_fds;
	unsigned int imap_count, imaps_count, lmtp_count;
};

struct dboxd_master {
	struct dboxd_config *config;
	char *config_path;
	struct dboxd_loop *loop;
	struct master_listeners listeners;
	struct master_child *children;
	struct master_child *auth, *template, *lmtp;
	struct dboxd_hash *conns;	/* id -> struct master_conn */
	struct dboxd_hash *addr_counts;	/* ip -> (uintptr_t) count */
	struct dboxd_hash *workers;	/* user -> struct master_worker */
	struct dboxd_hash *spawning;	/* spawn id -> struct master_worker */
	struct dboxd_hash *users;	/* user -> struct master_userinfo
					   (from LMTP recipient lookups) */
	struct dboxd_hash *lookups;	/* id -> struct master_lookup */
	struct dboxd_hash *deliveries;	/* id -> struct master_delivery */
	uint64_t next_conn_id, next_spawn_id, next_req_id;
	bool shutting_down;
	uint64_t shutdown_deadline;
	enum dboxd_ksm_mode ksm_mode;
	struct ksmg_group *ksm_group;
	int signal_fd;
	struct dboxd_io *signal_io;
	/* the passwd-file auth has now */
	dev_t passwd_dev;
	ino_t passwd_ino;
	int64_t passwd_mtime_ns;
	off_t passwd_size;
};

extern struct dboxd_master *master_g;

/* master.c */
int master_main(const char *config_path);
void master_check_done(void);

/* master-child.c: forking and supervising roles */
void master_child_start(struct master_child *child);
struct master_child *master_child_new(enum master_role role,
				      unsigned int index);
void master_children_start_all(void);
void master_child_exited(pid_t pid, int status);
void master_children_signal(int signo);
unsigned int master_children_running(void);
const char *master_role_name(enum master_role role);
void master_child_kill(struct master_child *child, const char *reason);
void master_logins_retire(void);
/* Set in the child after fork: the master's state is inherited, then
   the role runs and never returns. */
void master_child_cleanup_after_fork(struct master_child *self);

/* master-conn.c: login channel, connection accounting */
extern const struct dboxd_ipc_handler master_login_handlers[];
struct master_conn *master_conn_lookup(uint64_t id);
void master_conn_free(struct master_conn *conn);
void master_conns_of_login_gone(struct master_child *login);
unsigned int master_user_conn_count(const char *user);
void master_conn_auth_result(struct master_conn *conn, uint32_t result,
			     const char *reason);

/* master-auth.c */
extern const struct dboxd_ipc_handler master_auth_handlers[];
void master_auth_send_passwd(bool force);
void master_auth_forward(struct master_conn *conn, const char *mech,
			 const char *authzid, const char *authcid,
			 const char *password);
void master_auth_gone(void);

/* master-worker.c */
extern const struct dboxd_ipc_handler master_template_handlers[];
void master_worker_handoff(struct master_conn *conn, const char *tag,
			   const void *pending, size_t pending_len,
			   uint32_t flags, int fd);
void master_worker_conn_closed(struct master_worker *worker);
void master_workers_template_gone(void);
void master_workers_shutdown(void);
unsigned int master_workers_count(void);

/* master-lmtp.c: recipient lookups and deliveries */
extern const struct dboxd_ipc_handler master_lmtp_handlers[];
int master_auth_user_reply(struct dboxd_ipc_reader *r);
void master_lmtp_auth_gone(void);
void master_lmtp_child_gone(struct master_child *lmtp);
void master_deliveries_of_worker_gone(struct master_worker *w);
int master_worker_delivered(struct master_worker *w,
			    struct dboxd_ipc_reader *r);
/* master-worker.c, for deliveries */
struct master_worker *master_worker_get(const struct master_userinfo *u,
					const char **error_r);
void master_worker_deliver(struct master_worker *w, uint64_t id,
			   const char *sender, const char *rcpt, int fd);

/* master-ksm.c */
void master_ksm_init(void);
void master_ksm_add(pid_t pid, const char *user);
void master_ksm_deinit(void);
const char *master_ksm_mode_name(enum dboxd_ksm_mode mode);

/* master-listen.c */
int master_listeners_open(const struct dboxd_config *config,
			  struct master_listeners *l, const char **error_r);
void master_listeners_close(struct master_listeners *l);
/* Keep sockets whose address list did not change. */
int master_listeners_reload(const struct dboxd_config *config,
			    struct master_listeners *l, const char **error_r);

#endif
