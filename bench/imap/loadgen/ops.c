// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * loadgen: the ops a client draws, one table entry each. An op sends its
 * command(s) and judges their responses; what every response must obey
 * anyway (counts, UIDs, literal sizes) is untagged.c's job.
 *
 * Races between connections of one user are expected, not errors: a
 * message another connection expunged may be missing from a FETCH that
 * ends in [EXPUNGEISSUED] (RFC 4315 section 3 / Dovecot's wording). They
 * are counted as races, and so is a STORE whose FETCH shows the flag as
 * another connection of the user left it (one user per connection keeps
 * that check strict).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "loadgen.h"

static char lg_msg[256];

static bool lg_code_is(const struct lg_tagged *t, const char *code)
{
	size_t n = strlen(code);

	return t->code_len >= n && strncasecmp(t->code, code, n) == 0;
}

/* The common verdict on a tagged response: OK passes, NO is an error
 * unless it reports a race, BAD always is. */
static int lg_tagged_ok(struct lg_conn *c, const struct lg_tagged *t,
			enum lg_err *err_r, const char **error_r)
{
	if (t->status == LG_OK)
		return 0;
	if (t->status == LG_NO && lg_code_is(t, "EXPUNGEISSUED")) {
		c->os.race = true;
		return 0;
	}
	*err_r = t->status == LG_NO ? LG_E_NO : LG_E_BAD;
	snprintf(lg_msg, sizeof(lg_msg), "%s: %s %.*s", lg_cmd_names[c->cmd],
		 t->status == LG_NO ? "NO" : "BAD",
		 (int)(t->text_len > 150 ? 150 : t->text_len), t->text);
	*error_r = lg_msg;
	return -1;
}

static bool lg_has_messages(const struct lg_conn *c)
{
	return c->exists > 0;
}

static bool lg_always(const struct lg_conn *c)
{
	(void)c;
	return true;
}

static bool lg_can_expunge(const struct lg_conn *c)
{
	return c->exists > c->run->o.min_messages;
}

static bool lg_can_append(const struct lg_conn *c)
{
	return c->exists < c->run->o.max_messages;
}

static uint32_t lg_random_seq(struct lg_conn *c)
{
	return 1 + bench_rng_below(&c->rng, c->exists);
}

/* FETCH: half the time one whole message, else headers of a range. */
static int lg_fetch_start(struct lg_conn *c)
{
	struct lg_opstate *os = &c->os;

	os->single = bench_rng_below(&c->rng, 2) == 0;
	os->lo = lg_random_seq(c);
	if (os->single) {
		os->hi = os->lo;
		return lg_conn_cmdf(c, "FETCH %u (UID RFC822.SIZE FLAGS BODY.PEEK[])",
				    os->lo);
	}
	os->hi = os->lo + LG_RANGE_MAX - 1;
	if (os->hi > c->exists)
		os->hi = c->exists;
	return lg_conn_cmdf(c, "FETCH %u:%u (UID FLAGS ENVELOPE "
			    "BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE)])",
			    os->lo, os->hi);
}

static int lg_fetch_fetch(struct lg_conn *c, const struct lg_fetch *f,
			  const char **error_r)
{
	struct lg_opstate *os = &c->os;
	bool payload = os->single ? f->has_body : (f->has_env || f->has_hdr);
	bool complete = os->single ?
		(f->has_uid && f->has_size && f->has_flags && f->has_body) :
		(f->has_uid && f->has_flags && f->has_env && f->has_hdr);

	/* a bare FLAGS update for another connection's STORE is fine */
	if (!payload)
		return 0;
	if (f->seq < os->lo || f->seq > os->hi) {
		snprintf(lg_msg, sizeof(lg_msg), "FETCH data for message %u, asked %u:%u",
			 f->seq, os->lo, os->hi);
		goto bad;
	}
	if (!complete) {
		snprintf(lg_msg, sizeof(lg_msg), "FETCH of message %u lacks items", f->seq);
		goto bad;
	}
	os->nil |= f->nil;
	if (os->seen[f->seq - os->lo]++) {
		snprintf(lg_msg, sizeof(lg_msg), "FETCH data for message %u twice", f->seq);
		goto bad;
	}
	return 0;
bad:
	*error_r = lg_msg;
	return -1;
}

static int lg_fetch_tagged(struct lg_conn *c, const struct lg_tagged *t,
			   enum lg_err *err_r, const char **error_r)
{
	struct lg_opstate *os = &c->os;

	if (lg_tagged_ok(c, t, err_r, error_r) < 0)
		return -1;
	if (lg_code_is(t, "EXPUNGEISSUED"))
		os->race = true;
	if (os->nil && !os->race) {
		*error_r = "FETCH gave NIL for a body without [EXPUNGEISSUED]";
		return -1;
	}
	for (uint32_t s = os->lo; s <= os->hi && !os->race; s++) {
		if (os->seen[s - os->lo] == 0) {
			snprintf(lg_msg, sizeof(lg_msg),
				 "FETCH %u:%u returned nothing for message %u",
				 os->lo, os->hi, s);
			*error_r = lg_msg;
			return -1;
		}
	}
	return 0;
}

static const struct {
	const char *name;
	unsigned int bit;
} lg_store_flags[] = {
	{ "\\Seen", LG_F_SEEN },
	{ "\\Flagged", LG_F_FLAGGED },
	{ "$Bench", LG_F_BENCH },
};

/* STORE: set or clear one flag; the new FLAGS must come back. */
static int lg_store_start(struct lg_conn *c)
{
	struct lg_opstate *os = &c->os;

	const struct lg_msg *m;

	os->seq = lg_random_seq(c);
	os->flag = bench_rng_below(&c->rng, 3);
	os->plus = bench_rng_below(&c->rng, 2);
	/* Dovecot (like RFC 3501 allows) reports only flags that change;
	 * a FETCH is owed when we know the flag is about to change */
	m = &c->msgs[os->seq - 1];
	os->need_fetch = m->flags_known &&
		!(m->flags & lg_store_flags[os->flag].bit) == os->plus;
	return lg_conn_cmdf(c, "STORE %u %cFLAGS (%s)", os->seq,
			    os->plus ? '+' : '-', lg_store_flags[os->flag].name);
}

static int lg_store_fetch(struct lg_conn *c, const struct lg_fetch *f,
			  const char **error_r)
{
	struct lg_opstate *os = &c->os;
	bool set;

	if (f->seq != os->seq || !f->has_flags)
		return 0;
	set = f->flags & lg_store_flags[os->flag].bit;
	os->seen[0]++;
	if (set != os->plus) {
		/* Another connection of the user may change the same flag
		 * while ours is in flight; the server reports the state it
		 * then has. */
		if (c->run->o.per_user > 1) {
			os->race = true;
			return 0;
		}
		snprintf(lg_msg, sizeof(lg_msg), "STORE %c%s: message %u FLAGS %s it",
			 os->plus ? '+' : '-', lg_store_flags[os->flag].name,
			 os->seq, set ? "still have" : "lack");
		*error_r = lg_msg;
		return -1;
	}
	return 0;
}

static int lg_store_tagged(struct lg_conn *c, const struct lg_tagged *t,
			   enum lg_err *err_r, const char **error_r)
{
	if (lg_tagged_ok(c, t, err_r, error_r) < 0)
		return -1;
	if (c->os.seen[0] > 0 || !c->os.need_fetch)
		return 0;
	/* another connection of the user may have made the same change */
	if (c->run->o.per_user > 1) {
		c->os.race = true;
		return 0;
	}
	snprintf(lg_msg, sizeof(lg_msg), "STORE changed message %u but gave no FETCH FLAGS",
		 c->os.seq);
	*error_r = lg_msg;
	return -1;
}

/* EXPUNGE: mark one message \Deleted and expunge, pipelined. */
static int lg_expunge_start(struct lg_conn *c)
{
	c->os.seq = lg_random_seq(c);
	if (lg_conn_cmdf(c, "STORE %u +FLAGS.SILENT (\\Deleted)", c->os.seq) < 0)
		return -1;
	return lg_conn_cmdf(c, "EXPUNGE");
}

static int lg_expunge_tagged(struct lg_conn *c, const struct lg_tagged *t,
			     enum lg_err *err_r, const char **error_r)
{
	if (lg_tagged_ok(c, t, err_r, error_r) < 0)
		return -1;
	if (t->index == 1 && c->os.expunges == 0) {
		/* another connection of the user may have expunged it and
		 * had it reported to us before our STORE (seen with Dovecot:
		 * 2 of 774 EXPUNGEs at 2 connections per user) */
		if (c->run->o.per_user > 1) {
			c->os.race = true;
			return 0;
		}
		snprintf(lg_msg, sizeof(lg_msg), "EXPUNGE after \\Deleted on message %u "
			 "expunged nothing", c->os.seq);
		*error_r = lg_msg;
		return -1;
	}
	return 0;
}

static int lg_append_msg(struct lg_conn *c, uint64_t n)
{
	return mg_message(&c->run->o.gen, ((uint64_t)c->id << 32) | n,
			  &c->run->msg, NULL);
}

/* APPEND: a generated message; EXISTS must grow. */
static int lg_append_start(struct lg_conn *c)
{
	struct lg_opstate *os = &c->os;
	struct mg_buf *m = &c->run->msg;
	char date[32];

	if (lg_append_msg(c, c->appends) < 0)
		return -1;
	c->appends++;
	os->exists_before = c->exists;
	mg_imap_date(1767225600 + c->appends, date);
	os->literal_wait = !c->literal_plus;
	if (lg_conn_cmdf(c, "APPEND \"%s\" (\\Seen) \"%s\" {%zu%s}",
			 c->run->o.mailbox, date, m->len,
			 c->literal_plus ? "+" : "") < 0)
		return -1;
	if (os->literal_wait)
		return 0;
	if (lg_conn_send(c, m->data, m->len) < 0)
		return -1;
	return lg_conn_send(c, "\r\n", 2);
}

static int lg_append_cont(struct lg_conn *c, const char **error_r)
{
	struct mg_buf *m = &c->run->msg;

	if (!c->os.literal_wait) {
		*error_r = "continuation request during APPEND with LITERAL+";
		return -1;
	}
	c->os.literal_wait = false;
	if (lg_append_msg(c, c->appends - 1) < 0 ||
	    lg_conn_send(c, m->data, m->len) < 0 ||
	    lg_conn_send(c, "\r\n", 2) < 0) {
		*error_r = "cannot send the APPEND literal";
		return -1;
	}
	return 0;
}

static int lg_append_tagged(struct lg_conn *c, const struct lg_tagged *t,
			    enum lg_err *err_r, const char **error_r)
{
	struct lg_opstate *os = &c->os;
	unsigned int v, uid;

	if (lg_tagged_ok(c, t, err_r, error_r) < 0)
		return -1;
	if (os->literal_wait) {
		*error_r = "APPEND completed before its literal was sent";
		return -1;
	}
	if (lg_code_is(t, "APPENDUID ")) {
		if (sscanf(t->code + 10, "%u %u", &v, &uid) != 2 || uid == 0 ||
		    v != c->uidvalidity) {
			snprintf(lg_msg, sizeof(lg_msg), "bad [%.*s] (UIDVALIDITY %u)",
				 (int)t->code_len, t->code, c->uidvalidity);
			*error_r = lg_msg;
			return -1;
		}
	} else if (c->uidplus) {
		*error_r = "APPEND OK without APPENDUID from a UIDPLUS server";
		return -1;
	}
	/* RFC 3501 6.3.11: the server SHOULD send EXISTS for an APPEND to
	 * the selected mailbox right away. Both servers we measure do with
	 * one connection per user; with two, Dovecot 2.3 once did not (in
	 * 15,000 commands, the other connection expunging meanwhile): a
	 * SHOULD under concurrency, so a race there, an error otherwise */
	if (c->exists + os->expunges < os->exists_before + 1) {
		if (c->run->o.per_user > 1) {
			os->race = true;
			return 0;
		}
		snprintf(lg_msg, sizeof(lg_msg), "APPEND not announced: EXISTS %u, "
			 "was %u, %u expunged", c->exists, os->exists_before,
			 os->expunges);
		*error_r = lg_msg;
		return -1;
	}
	return 0;
}

/* SEARCH: one of a few criteria; exactly one SEARCH response. */
static int lg_search_start(struct lg_conn *c)
{
	const char *w;
	unsigned int k = bench_rng_below(&c->rng, 8);

	/* quoted strings must stay ASCII (non-ASCII needs a literal) */
	do
		w = mg_word(bench_rng_next(&c->rng));
	while (strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
	       strlen(w));
	switch (k) {
	case 0: return lg_conn_cmdf(c, "SEARCH UNSEEN");
	case 1: return lg_conn_cmdf(c, "SEARCH FLAGGED");
	case 2: return lg_conn_cmdf(c, "SEARCH LARGER 50000");
	case 3: return lg_conn_cmdf(c, "SEARCH SINCE 1-Feb-2025 NOT DELETED");
	case 4: return lg_conn_cmdf(c, "SEARCH FROM \"%s\"",
				    mg_last_name(bench_rng_next(&c->rng)));
	case 5: return lg_conn_cmdf(c, "SEARCH SUBJECT \"%s\"", w);
	case 6: return lg_conn_cmdf(c, "SEARCH HEADER Message-ID \"@example.org\"");
	default: return lg_conn_cmdf(c, "SEARCH BODY \"%s\"", w);
	}
}

static int lg_search_tagged(struct lg_conn *c, const struct lg_tagged *t,
			    enum lg_err *err_r, const char **error_r)
{
	if (lg_tagged_ok(c, t, err_r, error_r) < 0)
		return -1;
	if (c->os.searches != 1) {
		snprintf(lg_msg, sizeof(lg_msg), "%u SEARCH responses to one SEARCH",
			 c->os.searches);
		*error_r = lg_msg;
		return -1;
	}
	return 0;
}

static int lg_noop_start(struct lg_conn *c)
{
	return lg_conn_cmdf(c, "NOOP");
}

static int lg_logout_start(struct lg_conn *c)
{
	c->bye_seen = false;
	return lg_conn_cmdf(c, "LOGOUT");
}

static int lg_logout_tagged(struct lg_conn *c, const struct lg_tagged *t,
			    enum lg_err *err_r, const char **error_r)
{
	if (lg_tagged_ok(c, t, err_r, error_r) < 0)
		return -1;
	if (!c->bye_seen) {
		*error_r = "LOGOUT without BYE";
		return -1;
	}
	return 0;
}

const struct lg_op lg_ops[LG_C_OPS] = {
	[LG_C_FETCH] = { LG_C_FETCH, lg_has_messages, lg_fetch_start,
			 lg_fetch_fetch, NULL, lg_fetch_tagged },
	[LG_C_STORE] = { LG_C_STORE, lg_has_messages, lg_store_start,
			 lg_store_fetch, NULL, lg_store_tagged },
	[LG_C_EXPUNGE] = { LG_C_EXPUNGE, lg_can_expunge, lg_expunge_start,
			   NULL, NULL, lg_expunge_tagged },
	[LG_C_APPEND] = { LG_C_APPEND, lg_can_append, lg_append_start,
			  NULL, lg_append_cont, lg_append_tagged },
	[LG_C_SEARCH] = { LG_C_SEARCH, lg_always, lg_search_start,
			  NULL, NULL, lg_search_tagged },
	[LG_C_NOOP] = { LG_C_NOOP, lg_always, lg_noop_start,
			NULL, NULL, lg_tagged_ok },
	[LG_C_LOGOUT] = { LG_C_LOGOUT, lg_always, lg_logout_start,
			  NULL, NULL, lg_logout_tagged },
};

const struct lg_op *lg_op_pick(struct lg_conn *c)
{
	unsigned int total = 0;

	for (int i = 0; i < LG_C_OPS; i++)
		total += c->run->o.weights[i];
	/* an op that cannot run now (no messages to expunge) is redrawn */
	for (int tries = 0; tries < 8 && total > 0; tries++) {
		uint64_t x = bench_rng_below(&c->rng, total);

		for (int i = 0; i < LG_C_OPS; i++) {
			if (x < c->run->o.weights[i]) {
				if (lg_ops[i].usable(c))
					return &lg_ops[i];
				break;
			}
			x -= c->run->o.weights[i];
		}
	}
	return &lg_ops[LG_C_NOOP];
}
