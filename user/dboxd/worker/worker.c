// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The worker role: start-up (merge mode, event loop, storage), the master
 * channel, and the end of a worker's life. See worker.h.
 */
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "imap-client.h"
#include "imap-sync.h"
#include "log.h"
#include "roles.h"
#include "seccomp.h"
#include "secret.h"
#include "storage.h"
#include "deliver.h"
#include "worker.h"

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif

struct worker_state *worker_g;

void worker_preinit(void)
{
	/* Build the capability string and the like now, in the template,
	   so that the pages holding them are the same in every worker. */
	tzset();
	/* SEARCH folds case with towlower(): it needs a UTF-8 locale. */
	setlocale(LC_CTYPE, "C.UTF-8");
}

static void worker_send_failed(const char *reason)
{
	struct dboxd_ipc_msg msg;

	dboxd_error("cannot start: %s", reason);
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_WORKER_FAILED, false);
	dboxd_ipc_put_str(&msg, reason);
	dboxd_ipc_send(worker_g->ipc, &msg, -1);
	dboxd_ipc_flush_blocking(worker_g->ipc);
	exit(DBOXD_EXIT_FATAL);
}

/* Mark ourselves mergeable as the master decided (docs/dboxd.md). */
static const char *worker_ksm_setup(enum dboxd_ksm_mode mode)
{
	const char *error;

	switch (mode) {
	case DBOXD_KSM_GROUP:
		/* The master adds us to its group; nothing to do here. */
		return "group";
	case DBOXD_KSM_PRCTL:
		if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0) < 0) {
			dboxd_warn("prctl(PR_SET_MEMORY_MERGE): %m");
			return "none (prctl failed)";
		}
		/* merge-any just marked the secret region too */
		if (dboxd_secret_reexclude(&error) < 0)
			dboxd_fatal("excluding secret memory: %s", error);
		return "prctl";
	case DBOXD_KSM_OFF:
		break;
	}
	return "off";
}

/* LMTP deliveries in flight (below) */
static struct worker_delivery *deliveries;

static void worker_linger_cb(void *context __attribute__((unused)))
{
	dboxd_timer_remove(&worker_g->linger_timer);
	if (worker_g->client_count == 0 && deliveries == NULL)
		dboxd_ipc_send_empty(worker_g->ipc, DBOXD_IPC_WORKER_IDLE);
}

void worker_client_closed(struct imap_client *client)
{
	struct dboxd_ipc_msg msg;

	dboxd_ipc_msg_init(&msg, DBOXD_IPC_CONN_CLOSED, false);
	dboxd_ipc_put_u64(&msg, client->conn_id);
	dboxd_ipc_send(worker_g->ipc, &msg, -1);
	if (worker_g->client_count == 0 && !worker_g->shutting_down) {
		dboxd_timer_remove(&worker_g->linger_timer);
		worker_g->linger_timer = dboxd_timer_add(worker_g->loop,
						       worker_g->set->worker_linger,
						       worker_linger_cb, NULL);
	}
}

void worker_notify_change(struct imap_client *except, const char *name)
{
	struct imap_client *c, *next;

	for (c = worker_g->clients; c != NULL; c = next) {
		next = c->next;
		if (c == except || c->sel == NULL)
			continue;
		if (name != NULL && strcmp(c->sel->name, name) != 0)
			continue;
		imap_client_notify(c);
	}
}

static int master_setting(void *context __attribute__((unused)),
			  struct dboxd_ipc_reader *r,
			  int fd __attribute__((unused)))
{
	const char *name = dboxd_ipc_get_str(r);
	const char *value = dboxd_ipc_get_str(r);
	const struct dboxd_setting_def *def;
	const char *error;

	if (dboxd_ipc_get_end(r) < 0 || worker_g->initialised)
		return -1;
	def = dboxd_setting_find(name);
	if (def == NULL || !def->worker ||
	    dboxd_config_set(worker_g->config, name, value, 0, &error) < 0)
		return -1;
	return 0;
}

static int master_worker_init(void *context __attribute__((unused)),
			      struct dboxd_ipc_reader *r,
			      int fd __attribute__((unused)))
{
	const char *user = dboxd_ipc_get_str(r);
	const char *home = dboxd_ipc_get_str(r);
	const char *mail = dboxd_ipc_get_str(r);
	uint32_t ksm_mode = dboxd_ipc_get_u32(r);
	struct dboxd_ipc_msg msg;
	const char *error;
	char role[128];

	if (dboxd_ipc_get_end(r) < 0 || worker_g->initialised ||
	    ksm_mode > DBOXD_KSM_MODE_MAX)
		return -1;
	worker_g->initialised = true;
	worker_g->user = strdup(user);
	worker_g->home = strdup(home);
	if (worker_g->user == NULL || worker_g->home == NULL)
		dboxd_fatal("out of memory");
	snprintf(role, sizeof(role), "worker(%s)", user);
	dboxd_log_set_role(role);
	dboxd_log_apply(worker_g->set);
	worker_g->ksm_mode = ksm_mode;
	worker_g->ksm_path = worker_ksm_setup(ksm_mode);
	if (imap_storage_open(user, home, mail, &error) < 0)
		worker_send_failed(error);
	/* Privileges dropped, storage and loop open: from here on only what
	   serving the user needs (common/seccomp-worker.c). */
	if (worker_g->set->worker_seccomp &&
	    dboxd_seccomp_apply_worker(strcmp(worker_g->set->log_target,
					      "syslog") == 0, &error) < 0)
		dboxd_warn("no seccomp filter: %s", error);
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_WORKER_READY, false);
	dboxd_ipc_put_u32(&msg, (uint32_t)getpid());
	dboxd_ipc_put_str(&msg, dboxd_loop_backend_name(
				dboxd_loop_get_backend(worker_g->loop)));
	dboxd_ipc_put_str(&msg, worker_g->ksm_path);
	dboxd_ipc_send(worker_g->ipc, &msg, -1);
	dboxd_debug("ready: loop %s%s%s, ksm %s, secret memory by %s",
		    dboxd_loop_backend_name(dboxd_loop_get_backend(worker_g->loop)),
		    dboxd_loop_fallback_reason(worker_g->loop) != NULL ?
		    " (io_uring refused: " : "",
		    dboxd_loop_fallback_reason(worker_g->loop) != NULL ?
		    dboxd_loop_fallback_reason(worker_g->loop) : "",
		    worker_g->ksm_path, dboxd_secret_method());
	return 0;
}

static int master_client(void *context __attribute__((unused)),
			 struct dboxd_ipc_reader *r, int fd)
{
	uint64_t conn_id = dboxd_ipc_get_u64(r);
	const char *tag = dboxd_ipc_get_str(r);
	size_t pending_len;
	const void *pending = dboxd_ipc_get_bytes(r, &pending_len);
	uint32_t flags = dboxd_ipc_get_u32(r);
	const char *ip = dboxd_ipc_get_str(r);
	uint32_t port = dboxd_ipc_get_u32(r);
	struct dboxd_ipc_msg msg;

	(void)port;
	if (dboxd_ipc_get_end(r) < 0 || !worker_g->initialised ||
	    tag[0] == '\0') {
		close(fd);
		return -1;
	}
	/* Ours from now on: the master drops its copy. Flushed before the
	   client hears from us, so that a master that finds us dead never
	   hands the connection to another worker after we answered on it. */
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_CLIENT_TAKEN, false);
	dboxd_ipc_put_u64(&msg, conn_id);
	dboxd_ipc_send(worker_g->ipc, &msg, -1);
	dboxd_ipc_flush_blocking(worker_g->ipc);
	dboxd_timer_remove(&worker_g->linger_timer);
	imap_client_create(conn_id, fd, tag, pending, pending_len, flags, ip);
	return 0;
}

static void worker_send_delivered(uint64_t id, uint32_t result,
				  const char *reason)
{
	struct dboxd_ipc_msg msg;

	dboxd_ipc_msg_init(&msg, DBOXD_IPC_DELIVERED, false);
	dboxd_ipc_put_u64(&msg, id);
	dboxd_ipc_put_u32(&msg, result);
	dboxd_ipc_put_str(&msg, reason);
	dboxd_ipc_send(worker_g->ipc, &msg, -1);
}

/*
 * An LMTP delivery in flight. The append runs on the loop like an IMAP
 * APPEND (the user's connections are served meanwhile); its completion
 * records the result and replies to the master from a zero-delay timer,
 * because storage calls (the IDLE notification syncs) are not allowed
 * inside dbox_io_run(). A worker never goes idle with one in flight; one
 * exiting anyway (shutdown) completes them in imap_storage_close() and
 * replies then (deliveries_flush()).
 */
struct worker_delivery {
	struct worker_delivery *prev, *next;
	uint64_t id;
	char *rcpt;
	uint32_t result;	/* DBOXD_AUTH_*, once done */
	char *error;		/* "" on success */
	bool done;
	struct dboxd_timer *reply_timer;
};

static void worker_linger_arm(void)
{
	if (worker_g->client_count == 0 && deliveries == NULL &&
	    worker_g->linger_timer == NULL && !worker_g->shutting_down)
		worker_g->linger_timer = dboxd_timer_add(worker_g->loop,
						       worker_g->set->worker_linger,
						       worker_linger_cb, NULL);
}

static void delivery_finish(struct worker_delivery *d)
{
	dboxd_timer_remove(&d->reply_timer);
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		deliveries = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	worker_send_delivered(d->id, d->result, d->error);
	if (d->result == DBOXD_AUTH_OK)
		worker_notify_change(NULL, "INBOX");
	free(d->rcpt);
	free(d->error);
	free(d);
}

static void delivery_reply_cb(void *context)
{
	delivery_finish(context);
	worker_linger_arm();
}

static void delivery_done(void *context, const struct dbox_op_result *r)
{
	struct worker_delivery *d = context;

	d->done = true;
	if (r->ret < 0) {
		d->result = r->err == DBOX_ERROR_LIMIT ? DBOXD_AUTH_FAIL :
			    DBOXD_AUTH_TEMPFAIL;
		d->error = strdup(r->error);
		dboxd_error("delivery to %s failed: %s", d->rcpt, r->error);
	} else {
		d->result = DBOXD_AUTH_OK;
		d->error = strdup("");
	}
	if (d->error == NULL)
		dboxd_fatal("out of memory");
	d->reply_timer = dboxd_timer_add(worker_g->loop, 0, delivery_reply_cb,
					 d);
}

/* Exiting: every delivery has completed (imap_storage_close() ran them);
   the master still gets its replies. */
static void deliveries_flush(void)
{
	while (deliveries != NULL && deliveries->done)
		delivery_finish(deliveries);
}

/* An LMTP delivery into INBOX: Return-Path and Delivered-To first (as an
   LDA adds them), then the message from the memfd. */
static int master_deliver(void *context __attribute__((unused)),
			  struct dboxd_ipc_reader *r, int fd)
{
	uint64_t id = dboxd_ipc_get_u64(r);
	const char *user = dboxd_ipc_get_str(r);
	const char *sender = dboxd_ipc_get_str(r);
	const char *rcpt = dboxd_ipc_get_str(r);
	struct worker_delivery *d;
	struct dboxd_buf msg;
	const char *error;
	int ret;

	if (dboxd_ipc_get_end(r) < 0 || !worker_g->initialised ||
	    strcmp(user, worker_g->user) != 0) {
		close(fd);
		return -1;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL || (d->rcpt = strdup(rcpt)) == NULL)
		dboxd_fatal("out of memory");
	d->id = id;
	dboxd_buf_init(&msg, true);
	dboxd_buf_printf(&msg, "Return-Path: <%s>\r\nDelivered-To: %s\r\n",
			 sender, rcpt);
	ret = imap_deliver_read_fd(fd, &msg,
				   worker_g->set->imap_max_literal_size,
				   &error);
	if (ret == 0)
		ret = imap_deliver_start(&msg, "INBOX", delivery_done, d,
					 &error);
	close(fd);
	dboxd_buf_free(&msg);
	dboxd_timer_remove(&worker_g->linger_timer);
	if (ret < 0) {
		/* too large (read) or refused at start: no completion */
		uint32_t result = dbox_last_error() == DBOX_ERROR_LIMIT ?
			DBOXD_AUTH_FAIL : DBOXD_AUTH_TEMPFAIL;

		dboxd_error("delivery to %s failed: %s", rcpt, error);
		worker_send_delivered(id, result, error);
		free(d->rcpt);
		free(d);
		worker_linger_arm();
		return 0;
	}
	d->next = deliveries;
	if (deliveries != NULL)
		deliveries->prev = d;
	deliveries = d;
	return 0;
}

static void __attribute__((noreturn)) worker_exit(int status)
{
	while (worker_g->clients != NULL)
		imap_client_destroy(worker_g->clients, "worker exiting");
	imap_storage_close();
	deliveries_flush();
	dboxd_ipc_flush_blocking(worker_g->ipc);
	exit(status);
}

static int master_idle_reply(void *context __attribute__((unused)),
			     struct dboxd_ipc_reader *r,
			     int fd __attribute__((unused)))
{
	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	/* The master sends nothing more after this. */
	if (worker_g->client_count == 0) {
		worker_g->shutting_down = true;
		worker_exit(0);
	}
	return 0;
}

static void worker_bye_all(const char *bye)
{
	struct imap_client *c, *next;

	/* pumping may destroy the client: take the next one first */
	for (c = worker_g->clients; c != NULL; c = next) {
		next = c->next;
		imap_client_disconnect(c, bye);
		imap_client_pump(c);
	}
}

static int master_shutdown(void *context __attribute__((unused)),
			   struct dboxd_ipc_reader *r,
			   int fd __attribute__((unused)))
{
	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	worker_g->shutting_down = true;
	worker_bye_all("Server shutting down.");
	worker_exit(0);
	return 0;
}

static const struct dboxd_ipc_handler worker_master_handlers[] = {
	{ DBOXD_IPC_SETTING, master_setting },
	{ DBOXD_IPC_WORKER_INIT, master_worker_init },
	{ DBOXD_IPC_CLIENT, master_client },
	{ DBOXD_IPC_DELIVER, master_deliver },
	{ DBOXD_IPC_WORKER_IDLE, master_idle_reply },
	{ DBOXD_IPC_SHUTDOWN, master_shutdown },
	{ DBOXD_IPC_NONE, NULL },
};

static void worker_master_error(void *context __attribute__((unused)),
				const char *reason)
{
	dboxd_log(worker_g->shutting_down ? DBOXD_LOG_DEBUG : DBOXD_LOG_WARNING,
		  "master channel: %s", reason);
	worker_g->shutting_down = true;
	worker_bye_all("Server shutting down.");
	worker_exit(0);
}

static void worker_signal_cb(void *context __attribute__((unused)),
			     unsigned int events __attribute__((unused)))
{
	struct signalfd_siginfo si;

	while (read(worker_g->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			worker_g->shutting_down = true;
			worker_bye_all("Server shutting down.");
			worker_exit(0);
		}
	}
}

void worker_main(struct dboxd_config *config, int ipc_fd)
{
	enum dboxd_loop_backend backend = DBOXD_LOOP_AUTO;
	const char *error;

	worker_g = calloc(1, sizeof(*worker_g));
	if (worker_g == NULL)
		dboxd_fatal("out of memory");
	worker_g->config = config;
	worker_g->set = &config->set;
	/* exec'd workers did not come from the template */
	worker_preinit();
	if (dboxd_secret_init(&error) < 0)
		dboxd_fatal("secret memory: %s", error);
	(void)dboxd_loop_backend_parse(worker_g->set->worker_io, &backend);
	if (dboxd_loop_create(backend, &worker_g->loop, &error) < 0)
		dboxd_fatal("event loop: %s", error);
	if (dboxd_loop_fallback_reason(worker_g->loop) != NULL)
		dboxd_info("event loop: epoll (io_uring refused: %s)",
			   dboxd_loop_fallback_reason(worker_g->loop));
	worker_g->signal_fd = dboxd_signalfd_open(0);
	if (worker_g->signal_fd < 0)
		dboxd_fatal("signalfd: %m");
	worker_g->signal_io = dboxd_io_add(worker_g->loop, worker_g->signal_fd,
					 DBOXD_IO_READ, worker_signal_cb, NULL);
	worker_g->ipc = dboxd_ipc_create(worker_g->loop, ipc_fd, "master",
				       worker_master_handlers,
				       worker_master_error, NULL);
	if (dboxd_loop_run(worker_g->loop) < 0)
		dboxd_fatal("event loop: %m");
	worker_exit(0);
}
