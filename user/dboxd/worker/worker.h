/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A worker: one process per logged-in user, running as that user, serving
 * all of the user's connections on one event loop (io_uring, or epoll when
 * io_uring is refused). It receives connections from the master (CLIENT
 * messages with the socket), opens the user's dbox storage once, and exits
 * worker_linger after its last connection closed (asking the master first,
 * so that no connection is in flight to it).
 *
 * Memory: everything that holds mail (connection buffers, literals,
 * fetched messages, parsed MIME) is secret memory (secret.h), kept out of
 * merging; the rest is what workers have in common and may merge.
 */
#ifndef DBOXD_WORKER_H
#define DBOXD_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "ipc.h"
#include "loop.h"

struct imap_client;
struct imap_storage;

struct worker_state {
	struct dboxd_config *config;
	const struct dboxd_settings *set;
	struct dboxd_loop *loop;
	struct dboxd_ipc *ipc;
	char *user;
	char *home;
	struct imap_storage *storage;
	struct imap_client *clients;
	unsigned int client_count;
	struct dboxd_timer *linger_timer;
	bool initialised;
	bool shutting_down;
	enum dboxd_ksm_mode ksm_mode;
	const char *ksm_path;
	int signal_fd;
	struct dboxd_io *signal_io;
};

extern struct worker_state *worker_g;

/* worker.c */
void worker_client_closed(struct imap_client *client);
/* Wake every other client of this user that has mailbox name selected
   (they report the changes when they are in IDLE, else at their next
   command). name NULL: all. */
void worker_notify_change(struct imap_client *except, const char *name);

/* template.c: things every worker needs, done once in the template so
   that the workers inherit them (and their pages are alike). */
void worker_preinit(void);

#endif
