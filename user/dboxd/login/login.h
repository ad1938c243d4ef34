/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A login process: runs as login_user, chrooted into an empty directory.
 * It accepts connections on the listeners it inherited, asks the master
 * whether it may serve each (per-address limit), speaks pre-login IMAP
 * (CAPABILITY, NOOP, LOGOUT, ID, STARTTLS, LOGIN, AUTHENTICATE), runs TLS,
 * sends credentials to auth through the master and, once they are good,
 * hands the connection to the user's worker through the master: the socket
 * itself for a plain connection, or one end of a socketpair for a TLS one,
 * whose other end it then proxies (TLS stays here; see docs/dboxd.md).
 *
 * Lifetime: a login_client lives from accept() until the socket is closed
 * or handed off (plain) or until either side of the proxy ends (TLS). Its
 * conn_id is what the master calls it; before the master answered
 * CONN_OPEN it is known by login_cid only.
 */
#ifndef DBOXD_LOGIN_H
#define DBOXD_LOGIN_H

#include <stdbool.h>
#include <stdint.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "config.h"
#include "imap-parser.h"
#include "ipc.h"
#include "loop.h"
#include "pool.h"

struct dboxd_hash;
struct login_sasl_mech;

enum login_client_state {
	LC_WAIT_MASTER,		/* CONN_OPEN sent, no answer yet */
	LC_TLS_HANDSHAKE,
	LC_COMMANDS,
	LC_SASL,		/* AUTHENTICATE waits for a response line */
	LC_AUTHING,		/* credentials at auth */
	LC_PROXY,		/* logged in over TLS: shuttling bytes */
	LC_CLOSING,		/* writing the last output, then close */
};

struct login_client {
	struct login_client *prev, *next;
	uint32_t login_cid;
	uint64_t conn_id;
	enum login_client_state state;
	int fd;
	struct dboxd_io *io;
	SSL *ssl;
	bool implicit_tls;
	bool secured;		/* TLS or loopback */
	/* OpenSSL asked for the other direction than the one we tried */
	bool ssl_read_wants_write, ssl_write_wants_read;
	/* STARTTLS: start the handshake once the OK is written */
	bool starttls_pending;
	char ip[64];
	unsigned int port;
	char local_ip[64];
	unsigned int local_port;

	struct dboxd_buf in;	/* secret: holds passwords */
	struct dboxd_buf out;
	struct imap_reader *reader;
	struct dboxd_pool pool;
	struct dboxd_timer *timeout;
	unsigned int bad_commands;
	unsigned int auth_failures;

	/* AUTHENTICATE / LOGIN in progress */
	char *auth_tag;
	const struct login_sasl_mech *sasl;
	unsigned int sasl_step;
	char *sasl_authcid;	/* secret: LOGIN mechanism's user name */

	/* proxy (TLS after login): fd towards the worker */
	int proxy_fd;
	struct dboxd_io *proxy_io;
	struct dboxd_buf to_worker, to_client;	/* secret: mail */
	bool client_eof, worker_eof;
};

struct login_state {
	struct dboxd_config *config;
	struct dboxd_loop *loop;
	struct dboxd_ipc *ipc;
	SSL_CTX *ssl_ctx;
	struct dboxd_io **listen_ios;
	bool *listen_tls;
	int *listen_fds;
	unsigned int listen_count;
	bool accepting;
	bool shutting_down;
	struct dboxd_hash *pending;	/* login_cid -> client */
	struct dboxd_hash *orphans;	/* login_cid of clients gone while
					   waiting for CONN_OPEN_REPLY */
	struct dboxd_hash *conns;	/* conn_id -> client */
	unsigned int client_count;
	uint32_t next_cid;
	struct login_client *clients;
	int signal_fd;
	struct dboxd_io *signal_io;
};

extern struct login_state *login_g;

/* login-client.c */
void login_client_create(int fd, bool implicit_tls);
void login_client_destroy(struct login_client *c);
void login_client_send(struct login_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Queue "* BYE bye" (if not NULL) and close once output is written; the
   caller pumps (login_client_pump) when not inside command processing. */
void login_client_close(struct login_client *c, const char *bye);
void login_client_pump(struct login_client *c);
void login_client_master_open_reply(struct login_client *c, uint64_t conn_id,
				    const char *reason);
void login_client_auth_result(struct login_client *c, uint32_t result,
			      const char *reason);
void login_clients_shutdown(const char *bye);
void login_accept_update(void);
/* A client is gone: accept again, or exit when retiring and empty. */
void login_client_closed_hook(void);
/* Capabilities before login for this connection. */
void login_client_capability(struct login_client *c, struct dboxd_buf *out);
void login_client_starttls(struct login_client *c);
/* Low-level I/O over TLS or the plain socket: bytes, 0 on EOF, -1 with
   errno EAGAIN, or -2 when the connection is broken. */
ssize_t login_client_read(struct login_client *c, void *buf, size_t len);
ssize_t login_client_write(struct login_client *c, const void *buf,
			   size_t len);

/* login-cmds.c */
void login_client_command(struct login_client *c,
			  const struct imap_parsed_command *cmd);
void login_client_sasl_line(struct login_client *c, const char *line);
/* Send the credentials to auth (via the master). */
void login_client_auth_start(struct login_client *c, const char *tag,
			     const char *mech, const char *authzid,
			     const char *authcid, const char *password);

/* login-proxy.c */
int login_proxy_start(struct login_client *c, int *worker_end_r);
void login_proxy_pump(struct login_client *c);

#endif
