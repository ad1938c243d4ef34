// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Workers: one per logged-in user, started on the user's first connection
 * and kept while it has connections (and worker_linger after). Started from
 * the worker template (worker_spawn = template: the template forks, the
 * child drops to the user's uid) or by fork+exec of dboxd itself
 * (worker_spawn = exec). Either way the master sends WORKER_INIT on the
 * worker's channel, queues the user's connections until WORKER_READY, then
 * passes each with a CLIENT message, and adds the worker to the merge group
 * once its pid is known and it is ready.
 *
 * A worker can die at any moment (a crash, an OOM kill, an admin's kill),
 * and the master may learn of it only after it handed the worker another
 * connection. So the master keeps a copy of each connection it sends until
 * the worker confirms it (CLIENT_TAKEN, sent before the worker writes to
 * the client): a connection the dead worker never took goes to a new
 * worker, once, and its client only notices a slower login.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hash.h"
#include "log.h"
#include "master.h"
#include "privsep.h"
#include "roles.h"

/* A connection (CLIENT) or an LMTP delivery (DELIVER) waiting for its
   worker to be ready. */
struct master_handoff {
	struct master_handoff *next;
	bool deliver;
	char *sender, *rcpt;	/* deliver */
	uint64_t conn_id;	/* or the delivery id */
	char *tag;
	void *pending;
	size_t pending_len;
	uint32_t flags;
	int fd;
	char ip[64];
	unsigned int port;
	bool rehanded;		/* its first worker died before taking it */
};

static char self_exe[4096];

unsigned int master_workers_count(void)
{
	return dboxd_hash_count(master_g->workers);
}

static void handoff_free(struct master_handoff *h)
{
	if (h->fd >= 0)
		close(h->fd);
	free(h->tag);
	free(h->pending);
	free(h->sender);
	free(h->rcpt);
	free(h);
}

/* Tell the client its login cannot complete, then drop it. */
static void handoff_fail(struct master_handoff *h, const char *reason)
{
	char line[512];
	int n;

	/* a delivery is answered through master_g->deliveries instead */
	if (h->deliver) {
		handoff_free(h);
		return;
	}
	n = snprintf(line, sizeof(line), "%s NO [UNAVAILABLE] %s\r\n", h->tag,
		     reason);
	if (n > 0 && send(h->fd, line, (size_t)n,
			  MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		dboxd_debug("handoff failure reply: %m");
	handoff_free(h);
}

static struct master_worker *worker_spawn(const struct master_userinfo *u,
					  const char **error_r);

static void worker_send_client(struct master_worker *w,
			       struct master_handoff *h)
{
	struct dboxd_ipc_msg msg;
	int copy;

	if (h->deliver) {
		dboxd_ipc_msg_init(&msg, DBOXD_IPC_DELIVER, false);
		dboxd_ipc_put_u64(&msg, h->conn_id);
		dboxd_ipc_put_str(&msg, w->user);
		dboxd_ipc_put_str(&msg, h->sender);
		dboxd_ipc_put_str(&msg, h->rcpt);
		dboxd_ipc_send(w->ipc, &msg, h->fd);
		h->fd = -1;
		handoff_free(h);
		return;
	}
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_CLIENT, false);
	dboxd_ipc_put_u64(&msg, h->conn_id);
	dboxd_ipc_put_str(&msg, h->tag);
	dboxd_ipc_put_bytes(&msg, h->pending, h->pending_len);
	dboxd_ipc_put_u32(&msg, h->flags);
	dboxd_ipc_put_str(&msg, h->ip);
	dboxd_ipc_put_u32(&msg, h->port);
	copy = fcntl(h->fd, F_DUPFD_CLOEXEC, 3);
	if (copy < 0) {
		/* out of descriptors: send it without a safety net */
		dboxd_warn("cannot keep a copy of connection %llu for a "
			   "retry (%m); sending it without",
			   (unsigned long long)h->conn_id);
		dboxd_ipc_send(w->ipc, &msg, h->fd);
		h->fd = -1;
		handoff_free(h);
		return;
	}
	dboxd_ipc_send(w->ipc, &msg, copy);
	h->next = w->sent;
	w->sent = h;
}

/* Sends h to w now, or once w is ready (worker_ready() empties the queue). */
static void worker_give(struct master_worker *w, struct master_handoff *h)
{
	if (w->state == WORKER_READY) {
		worker_send_client(w, h);
	} else {
		*w->queue_tail = h;
		w->queue_tail = &h->next;
	}
}

/* Sends h to the user's worker, starting one if there is none. */
static void handoff_to_worker(struct master_conn *conn,
			      struct master_handoff *h)
{
	struct master_worker *w = dboxd_hash_get_str(master_g->workers,
						     conn->user);
	const char *error;

	if (w == NULL) {
		struct master_userinfo u = {
			.user = conn->user, .uid = conn->uid, .gid = conn->gid,
			.home = conn->home, .mail = conn->mail,
		};

		w = worker_spawn(&u, &error);
		if (w == NULL) {
			dboxd_error("cannot start a worker for %s: %s",
				    conn->user, error);
			handoff_fail(h, "Mail service unavailable, try again");
			master_conn_free(conn);
			return;
		}
	}
	conn->worker = w;
	w->conn_count++;
	worker_give(w, h);
}

static void worker_untable(struct master_worker *w)
{
	if (w->in_table) {
		dboxd_hash_remove_str(master_g->workers, w->user);
		w->in_table = false;
	}
	if (w->spawn_id != 0) {
		dboxd_hash_remove_id(master_g->spawning, w->spawn_id);
		w->spawn_id = 0;
	}
}

/* Takes h, a connection w was to serve and never took: keeps it on
   *redo for another worker if that may be tried, or fails it. */
static void handoff_orphaned(struct master_worker *w, struct master_handoff *h,
			     const char *reason, bool rehand,
			     struct master_handoff ***redo_tail)
{
	struct master_conn *conn = h->deliver ? NULL :
				   master_conn_lookup(h->conn_id);

	if (!rehand || conn == NULL || conn->worker != w || h->rehanded ||
	    master_g->shutting_down) {
		handoff_fail(h, reason);
		return;
	}
	/* not w's any more: the loop over w's connections keeps it */
	conn->worker = NULL;
	master_worker_conn_closed(w);
	h->rehanded = true;
	h->next = NULL;
	**redo_tail = h;
	*redo_tail = &h->next;
}

/* The worker is gone (or never came): drop everything that was its.
   rehand: it died (rather than refused to start), so the connections it
   never took go to a new worker. */
static void worker_free(struct master_worker *w, const char *reason,
			bool rehand)
{
	struct master_handoff *redo = NULL, **redo_tail = &redo;
	unsigned int count;
	struct master_conn **conns;

	worker_untable(w);
	master_deliveries_of_worker_gone(w);
	while (w->queue != NULL) {
		struct master_handoff *h = w->queue;

		w->queue = h->next;
		handoff_orphaned(w, h, reason, rehand, &redo_tail);
	}
	while (w->sent != NULL) {
		struct master_handoff *h = w->sent;

		w->sent = h->next;
		handoff_orphaned(w, h, reason, rehand, &redo_tail);
	}
	conns = (struct master_conn **)dboxd_hash_values(master_g->conns,
							 &count);
	/* Its connections' sockets died with it. Keep w alive while they
	   are freed: master_conn_free() decrements w->conn_count. */
	for (unsigned int i = 0; i < count; i++) {
		if (conns[i]->worker == w)
			master_conn_free(conns[i]);
	}
	free(conns);
	dboxd_ipc_destroy(&w->ipc);
	while (redo != NULL) {
		struct master_handoff *h = redo;
		struct master_conn *conn = master_conn_lookup(h->conn_id);

		redo = h->next;
		h->next = NULL;
		dboxd_info("worker %s died before taking connection %llu; "
			   "handing it to a new worker", w->user,
			   (unsigned long long)h->conn_id);
		handoff_to_worker(conn, h);
	}
	free(w->user);
	free(w->home);
	free(w->mail);
	free(w);
}

static void worker_ipc_error(void *context, const char *reason)
{
	struct master_worker *w = context;

	if (strstr(reason, "closed the channel") == NULL && w->pid > 0) {
		dboxd_error("worker %s (pid %d): %s; killing it", w->user,
			    (int)w->pid, reason);
		kill(w->pid, SIGKILL);
	} else if (w->state != WORKER_EXITING) {
		dboxd_debug("worker %s: %s", w->user, reason);
	}
	worker_free(w, "Mail service unavailable, try again", true);
	master_check_done();
}

static void worker_maybe_join_group(struct master_worker *w)
{
	if (w->state == WORKER_READY && w->pid > 0)
		master_ksm_add(w->pid, w->user);
}

static int worker_ready(void *context, struct dboxd_ipc_reader *r,
			int fd __attribute__((unused)))
{
	struct master_worker *w = context;
	uint32_t pid = dboxd_ipc_get_u32(r);
	const char *loop = dboxd_ipc_get_str(r);
	const char *ksm = dboxd_ipc_get_str(r);

	if (dboxd_ipc_get_end(r) < 0 || w->state != WORKER_SPAWNING)
		return -1;
	/* The pid we trust is the one we (or the template) forked; the
	   worker's own claim is only for the log. */
	dboxd_info("worker %s ready (pid %u, loop %s, ksm %s)", w->user, pid,
		   loop, ksm);
	w->state = WORKER_READY;
	while (w->queue != NULL) {
		struct master_handoff *h = w->queue;

		w->queue = h->next;
		worker_send_client(w, h);
	}
	w->queue_tail = &w->queue;
	worker_maybe_join_group(w);
	return 0;
}

static int worker_failed(void *context, struct dboxd_ipc_reader *r,
			 int fd __attribute__((unused)))
{
	struct master_worker *w = context;
	const char *reason = dboxd_ipc_get_str(r);

	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	dboxd_error("worker %s could not start: %s", w->user, reason);
	/* It exits by itself; stop sending it anything. */
	worker_free(w, "Mail storage unavailable, contact the administrator",
		    false);
	return 0;
}

static int worker_conn_closed(void *context, struct dboxd_ipc_reader *r,
			      int fd __attribute__((unused)))
{
	struct master_worker *w = context;
	uint64_t id = dboxd_ipc_get_u64(r);
	struct master_conn *conn;

	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	conn = master_conn_lookup(id);
	if (conn == NULL || conn->worker != w)
		return -1;
	master_conn_free(conn);
	return 0;
}

static int worker_client_taken(void *context, struct dboxd_ipc_reader *r,
			       int fd __attribute__((unused)))
{
	struct master_worker *w = context;
	uint64_t id = dboxd_ipc_get_u64(r);
	struct master_handoff **p = &w->sent, *h;

	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	while (*p != NULL && (*p)->conn_id != id)
		p = &(*p)->next;
	if (*p == NULL)
		return -1;	/* never sent to it, or confirmed twice */
	h = *p;
	*p = h->next;
	handoff_free(h);	/* and with it our copy of the descriptor */
	return 0;
}

static int worker_idle(void *context, struct dboxd_ipc_reader *r,
		       int fd __attribute__((unused)))
{
	struct master_worker *w = context;

	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	if (w->conn_count > 0 || w->delivery_count > 0 ||
	    w->state != WORKER_READY)
		return 0;	/* a CLIENT is on its way; it will see it */
	/* New logins of this user start a new worker from now on. */
	w->state = WORKER_EXITING;
	worker_untable(w);
	dboxd_ipc_send_empty(w->ipc, DBOXD_IPC_WORKER_IDLE);
	return 0;
}

static int worker_delivered(void *context, struct dboxd_ipc_reader *r,
			    int fd __attribute__((unused)))
{
	return master_worker_delivered(context, r);
}

static const struct dboxd_ipc_handler worker_handlers[] = {
	{ DBOXD_IPC_WORKER_READY, worker_ready },
	{ DBOXD_IPC_DELIVERED, worker_delivered },
	{ DBOXD_IPC_WORKER_FAILED, worker_failed },
	{ DBOXD_IPC_CONN_CLOSED, worker_conn_closed },
	{ DBOXD_IPC_CLIENT_TAKEN, worker_client_taken },
	{ DBOXD_IPC_WORKER_IDLE, worker_idle },
	{ DBOXD_IPC_NONE, NULL },
};

void master_worker_conn_closed(struct master_worker *w)
{
	if (w->conn_count > 0)
		w->conn_count--;
}

static void __attribute__((noreturn))
worker_exec_child(struct master_worker *w, int fd)
{
	char fdstr[16];
	const char *error;
	char *argv[] = { "dboxd", "-X", "worker", fdstr, NULL };
	int flags;

	dboxd_reset_signals();
	dboxd_close_fds_except(&fd, 1);
	flags = fcntl(fd, F_GETFD);
	if (flags < 0 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
		dboxd_fatal("fcntl: %m");
	snprintf(fdstr, sizeof(fdstr), "%d", fd);
	if (dboxd_drop_privileges(w->uid, w->gid, NULL, &error) < 0)
		dboxd_fatal("worker %s: %s", w->user, error);
	execv(self_exe, argv);
	dboxd_fatal("exec %s: %m", self_exe);
}

static int worker_start_exec(struct master_worker *w, int child_fd,
			     const char **error_r)
{
	pid_t pid;

	if (self_exe[0] == '\0') {
		ssize_t n = readlink("/proc/self/exe", self_exe,
				     sizeof(self_exe) - 1);

		if (n < 0) {
			*error_r = "cannot find the dboxd binary";
			return -1;
		}
		self_exe[n] = '\0';
	}
	pid = fork();
	if (pid < 0) {
		*error_r = "fork failed";
		return -1;
	}
	if (pid == 0)
		worker_exec_child(w, child_fd);
	close(child_fd);
	w->pid = pid;
	return 0;
}

static int worker_start_template(struct master_worker *w, int child_fd,
				 const char **error_r)
{
	struct dboxd_ipc_msg msg;

	if (master_g->template == NULL || master_g->template->ipc == NULL) {
		close(child_fd);
		*error_r = "worker template is not running";
		return -1;
	}
	w->spawn_id = ++master_g->next_spawn_id;
	dboxd_hash_set_id(master_g->spawning, w->spawn_id, w);
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_SPAWN, false);
	dboxd_ipc_put_u64(&msg, w->spawn_id);
	dboxd_ipc_put_u32(&msg, w->uid);
	dboxd_ipc_put_u32(&msg, w->gid);
	dboxd_ipc_put_str(&msg, w->user);
	dboxd_ipc_send(master_g->template->ipc, &msg, child_fd);
	return 0;
}

static void worker_send_settings(struct master_worker *w)
{
	for (unsigned int i = 0; i < dboxd_setting_count; i++) {
		const struct dboxd_setting_def *def = &dboxd_setting_defs[i];
		struct dboxd_ipc_msg msg;
		char value[4096];

		if (!def->worker)
			continue;
		dboxd_config_format(master_g->config, def, value, sizeof(value));
		dboxd_ipc_msg_init(&msg, DBOXD_IPC_SETTING, false);
		dboxd_ipc_put_str(&msg, def->name);
		dboxd_ipc_put_str(&msg, value);
		dboxd_ipc_send(w->ipc, &msg, -1);
	}
}

static struct master_worker *worker_spawn(const struct master_userinfo *u,
					  const char **error_r)
{
	bool exec_mode = strcmp(master_g->config->set.worker_spawn, "exec") == 0;
	struct master_worker *w = calloc(1, sizeof(*w));
	struct dboxd_ipc_pair pair;
	struct dboxd_ipc_msg msg;

	if (w == NULL)
		dboxd_fatal("out of memory");
	w->user = strdup(u->user);
	w->home = strdup(u->home);
	w->mail = strdup(u->mail);
	if (w->user == NULL || w->home == NULL || w->mail == NULL)
		dboxd_fatal("out of memory");
	w->uid = u->uid;
	w->gid = u->gid;
	w->state = WORKER_SPAWNING;
	w->queue_tail = &w->queue;
	if (dboxd_ipc_pair_create(&pair, error_r) < 0)
		goto free_worker;
	if ((exec_mode ? worker_start_exec(w, pair.child_fd, error_r) :
			 worker_start_template(w, pair.child_fd, error_r)) < 0) {
		close(pair.parent_fd);
		worker_untable(w);
		goto free_worker;
	}
	w->ipc = dboxd_ipc_create(master_g->loop, pair.parent_fd, "worker",
				  worker_handlers, worker_ipc_error, w);
	if (exec_mode)
		worker_send_settings(w);
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_WORKER_INIT, false);
	dboxd_ipc_put_str(&msg, w->user);
	dboxd_ipc_put_str(&msg, w->home);
	dboxd_ipc_put_str(&msg, w->mail);
	dboxd_ipc_put_u32(&msg, master_g->ksm_mode);
	dboxd_ipc_send(w->ipc, &msg, -1);
	dboxd_hash_set_str(master_g->workers, w->user, w);
	w->in_table = true;
	dboxd_debug("starting worker for %s (%s)", w->user,
		    exec_mode ? "exec" : "template");
	return w;

free_worker:
	free(w->user);
	free(w->home);
	free(w->mail);
	free(w);
	return NULL;
}

void master_worker_handoff(struct master_conn *conn, const char *tag,
			   const void *pending, size_t pending_len,
			   uint32_t flags, int fd)
{
	struct master_handoff *h = calloc(1, sizeof(*h));

	if (h == NULL || (h->tag = strdup(tag)) == NULL ||
	    (h->pending = malloc(pending_len + 1)) == NULL)
		dboxd_fatal("out of memory");
	memcpy(h->pending, pending, pending_len);
	h->pending_len = pending_len;
	h->conn_id = conn->id;
	h->flags = flags;
	h->fd = fd;
	snprintf(h->ip, sizeof(h->ip), "%s", conn->ip);
	h->port = conn->port;
	handoff_to_worker(conn, h);
}

struct master_worker *master_worker_get(const struct master_userinfo *u,
					const char **error_r)
{
	struct master_worker *w = dboxd_hash_get_str(master_g->workers, u->user);

	return w != NULL ? w : worker_spawn(u, error_r);
}

void master_worker_deliver(struct master_worker *w, uint64_t id,
			   const char *sender, const char *rcpt, int fd)
{
	struct master_handoff *h = calloc(1, sizeof(*h));

	if (h == NULL || (h->sender = strdup(sender)) == NULL ||
	    (h->rcpt = strdup(rcpt)) == NULL)
		dboxd_fatal("out of memory");
	h->deliver = true;
	h->conn_id = id;
	h->fd = fd;
	w->delivery_count++;
	worker_give(w, h);
}

static int template_spawned(void *context __attribute__((unused)),
			    struct dboxd_ipc_reader *r,
			    int fd __attribute__((unused)))
{
	uint64_t spawn_id = dboxd_ipc_get_u64(r);
	uint32_t pid = dboxd_ipc_get_u32(r);
	const char *reason = dboxd_ipc_get_str(r);
	struct master_worker *w;

	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	w = dboxd_hash_get_id(master_g->spawning, spawn_id);
	if (w == NULL)
		return 0;	/* already gone */
	dboxd_hash_remove_id(master_g->spawning, spawn_id);
	w->spawn_id = 0;
	if (pid == 0) {
		dboxd_error("worker template could not start a worker for %s: %s",
			    w->user, reason);
		worker_free(w, "Mail service unavailable, try again", false);
		return 0;
	}
	w->pid = (pid_t)pid;
	worker_maybe_join_group(w);
	return 0;
}

const struct dboxd_ipc_handler master_template_handlers[] = {
	{ DBOXD_IPC_SPAWNED, template_spawned },
	{ DBOXD_IPC_NONE, NULL },
};

void master_workers_template_gone(void)
{
	/* Workers it was starting lose their channel's other end with it
	   and are cleaned up when their channel reports EOF. */
}

static void worker_term_cb(void *value, void *context __attribute__((unused)))
{
	struct master_worker *w = value;

	if (w->pid > 0)
		kill(w->pid, SIGTERM);
}

void master_workers_shutdown(void)
{
	dboxd_hash_foreach(master_g->workers, worker_term_cb, NULL);
}
