/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * loadgen: an IMAP load generator. One process, one epoll loop, N client
 * connections, each a state machine: connect, greeting, LOGIN, SELECT,
 * then commands drawn with set probabilities (ops.c) or, in idle mode,
 * IDLE and hold. Every response is checked (untagged.c): tags in order,
 * literals consumed by their announced size, EXISTS/EXPUNGE arithmetic,
 * sequence numbers in range, UIDs stable per sequence number, FETCH items
 * complete and BODY[] as long as RFC822.SIZE says.
 *
 * Threading: none. Everything below is owned by the one loop.
 */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "imap-parse.h"
#include "msggen.h"
#include "rng.h"

/* What latencies are recorded for; the first ones are also ops. */
enum lg_cmd {
	LG_C_FETCH,
	LG_C_STORE,
	LG_C_EXPUNGE,
	LG_C_APPEND,
	LG_C_SEARCH,
	LG_C_NOOP,
	LG_C_LOGOUT,
	LG_C_OPS,		/* the ones above can be drawn */
	LG_C_CONNECT = LG_C_OPS,	/* TCP connect to greeting */
	LG_C_LOGIN,
	LG_C_SELECT,
	LG_C_IDLE,		/* IDLE to "+" */
	LG_C_COUNT
};

extern const char *const lg_cmd_names[LG_C_COUNT];

/* Error classes, counted separately in the summary. */
enum lg_err {
	LG_E_PROTOCOL,		/* a response that breaks IMAP or our checks */
	LG_E_NO,		/* a tagged NO we did not expect */
	LG_E_BAD,		/* a tagged BAD */
	LG_E_CLOSED,		/* the server closed or reset the connection */
	LG_E_TIMEOUT,		/* no tagged response within --timeout */
	LG_E_CONNECT,		/* connect() failed */
	LG_E_COUNT
};

extern const char *const lg_err_names[LG_E_COUNT];

struct lg_opts {
	const char *host, *port, *user_fmt, *password, *mailbox;
	unsigned int clients, per_user, user_base, ramp, max_errors;
	unsigned int weights[LG_C_OPS];
	double duration, warmup, think_ms, timeout, hold;
	uint64_t seed;
	long expect_exists;		/* -1: not checked */
	unsigned int min_messages, max_messages;
	bool idle;
	bool quickack;		/* TCP_QUICKACK after every read (diagnostic) */
	int trace;		/* connection whose traffic goes to stderr, or -1 */
	const char *server_pids, *server_name;
	struct mg_params gen;		/* the APPENDed messages */
};

enum lg_state {
	LG_S_WAITING,		/* not connected; (re)connects at next_at */
	LG_S_CONNECTING,
	LG_S_GREETING,
	LG_S_LOGIN,
	LG_S_SELECT,
	LG_S_READY,		/* selected, nothing in flight */
	LG_S_CMD,		/* an op in flight */
	LG_S_IDLE_START,	/* IDLE sent, waiting for "+" */
	LG_S_IDLING,
	LG_S_CLOSING,		/* LOGOUT done, waiting for the server to close */
	LG_S_DEAD,		/* failed in idle mode, not reconnected */
};

enum lg_flag {
	LG_F_SEEN = 1 << 0,
	LG_F_FLAGGED = 1 << 1,
	LG_F_DELETED = 1 << 2,
	LG_F_ANSWERED = 1 << 3,
	LG_F_BENCH = 1 << 4,	/* the keyword $Bench */
};

/* What a connection knows of one message. */
struct lg_msg {
	uint32_t uid;		/* 0: not yet known */
	uint8_t flags;		/* enum lg_flag, valid if flags_known */
	bool flags_known;
};

/* What one untagged FETCH carried. */
struct lg_fetch {
	uint32_t seq, uid, size;
	size_t body_len, hdr_len;
	unsigned int flags;
	bool has_uid, has_flags, has_size, has_body, has_env, has_hdr;
	bool nil;		/* a body item came as NIL (message expunged) */
};

struct lg_tagged {
	enum { LG_OK, LG_NO, LG_BAD } status;
	const char *code, *text;
	size_t code_len, text_len;
	unsigned int index;	/* of the command within its op */
};

#define LG_RANGE_MAX 20	/* messages one ranged FETCH asks for */

/* Per-op scratch; ops.c owns its meaning. */
struct lg_opstate {
	uint32_t seq, lo, hi;
	uint8_t seen[LG_RANGE_MAX];
	unsigned int flag, expunges, searches, exists_before;
	bool plus, single, literal_wait, race, need_fetch, nil;
};

struct lg_run;
struct lg_op;

struct lg_conn {
	struct lg_run *run;
	int fd;
	unsigned int id, user;
	enum lg_state state;
	struct imap_rbuf in;
	struct {
		char *data;
		size_t len, off, cap;
	} out;
	bool want_out;		/* EPOLLOUT registered */
	struct bench_rng rng;

	/* the session as the server described it */
	bool literal_plus, uidplus, bye_seen;
	uint32_t uidvalidity, exists;
	struct lg_msg *msgs;	/* per sequence number */
	size_t msgs_cap;
	bool select_exists, select_uidvalidity;

	/* the command(s) in flight */
	unsigned int tag_next, tag_wait, tags_left, tags_total;
	enum lg_cmd cmd;
	const struct lg_op *op;
	struct lg_opstate os;
	uint64_t t_start, deadline, next_at;
	uint64_t appends;	/* messages this connection appended */
	bool setup_done;	/* reached READY or IDLING once */
};

struct lg_samples {
	uint64_t *ns;
	size_t n, cap;
};

struct lg_cpu {
	double secs;
	unsigned int procs;
};

struct lg_run {
	struct lg_opts o;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int epfd, sigfd;
	struct lg_conn *conns;
	unsigned int in_setup, ready, dead, setup_once;
	uint64_t t_start, t_ready, t_measure, t_end;
	bool measuring, stop;
	/* after the measured window: no new ops, wait for those in flight,
	 * so that appended/expunged are exactly what the server did */
	bool draining;
	uint64_t t_drain_end;
	/* whole run, not just the window: tagged responses sent for and
	 * judged, messages APPENDed (tagged OK) and expunged by this
	 * run's own EXPUNGE ops (EXPUNGE responses seen during them; exact
	 * with --per-user 1, where no other connection shares the box) */
	uint64_t tags_sent, tags_checked, appended, expunged;
	struct lg_samples lat[LG_C_COUNT];
	uint64_t commands, errors[LG_E_COUNT], races, reconnects;
	unsigned int errors_logged;
	struct lg_cpu cpu0, cpu1;
	bool have_cpu;
	struct mg_buf msg;	/* scratch for APPEND */
};

struct lg_op {
	enum lg_cmd cmd;
	/* can this op run now (enough messages, not too many)? */
	bool (*usable)(const struct lg_conn *c);
	/* queues the command(s) and sets tags_total; -1 on ENOMEM */
	int (*start)(struct lg_conn *c);
	/* optional: an untagged FETCH arrived during the op */
	int (*fetch)(struct lg_conn *c, const struct lg_fetch *f,
		     const char **error_r);
	/* optional: "+" arrived during the op */
	int (*cont)(struct lg_conn *c, const char **error_r);
	/* each tagged response of the op, in order; sets *err_r to the
	 * class and returns -1 to fail the connection */
	int (*tagged)(struct lg_conn *c, const struct lg_tagged *t,
		      enum lg_err *err_r, const char **error_r);
};

extern const struct lg_op lg_ops[LG_C_OPS];

/* time */
uint64_t lg_now(void);

/* conn.c */
int lg_conn_start(struct lg_conn *c);
void lg_conn_event(struct lg_conn *c, uint32_t events);
void lg_conn_tick(struct lg_conn *c, uint64_t now);
int lg_conn_send(struct lg_conn *c, const void *data, size_t len);
int lg_conn_sendf(struct lg_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Sends "TAG " + the formatted rest; the tag joins the op's tags. */
int lg_conn_cmdf(struct lg_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void lg_conn_fail(struct lg_conn *c, enum lg_err err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* untagged.c: r is an untagged response ("* ..."); -1 sets the class
 * of the failure and a message */
int lg_untagged(struct lg_conn *c, const struct imap_resp *r,
		enum lg_err *err_r, const char **error_r);
bool lg_resp_has_cap(const char *s, size_t len, const char *cap);

/* ops.c */
const struct lg_op *lg_op_pick(struct lg_conn *c);

/* stats.c */
void lg_record(struct lg_run *run, enum lg_cmd cmd, uint64_t ns);
void lg_report(struct lg_run *run);

/* proccpu.c */
int lg_server_cpu(const struct lg_opts *o, struct lg_cpu *cpu_r,
		  const char **error_r);

#endif
