// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * SORT and THREAD (RFC 5256): SORT with ARRIVAL CC DATE FROM SIZE SUBJECT
 * TO and REVERSE; THREAD=ORDEREDSUBJECT and THREAD=REFERENCES. Both search
 * first, then read the headers of the matching messages (in batches
 * through the storage's asynchronous fetch) to build their keys; the
 * command is suspended on the loop while reads are in flight.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbox.h"
#include "hash.h"
#include "imap-client.h"
#include "imap-commands.h"
#include "imap-envelope.h"
#include "imap-search.h"
#include "imap-sync.h"
#include "imap-util.h"
#include "log.h"
#include "mime.h"
#include <stdio.h>

#define SORT_BATCH 32

enum sort_key {
	SORT_ARRIVAL, SORT_CC, SORT_DATE, SORT_FROM, SORT_SIZE, SORT_SUBJECT,
	SORT_TO,
};

struct sort_crit {
	enum sort_key key;
	bool reverse;
};

/* What SORT and THREAD know about one message. */
struct sort_msg {
	unsigned int idx;	/* in the view */
	uint32_t seq, uid;
	int64_t arrival, date;	/* date: sent, else arrival */
	uint64_t size;
	const char *from, *to, *cc;	/* first mailbox, folded */
	const char *subject;		/* base subject, folded */
	const char *message_id, *in_reply_to, *references;
};

/* ---- base subject (RFC 5256 2.1) ---------------------------------------- */

static bool strip_blob(char **sp)
{
	char *s = *sp, *close;

	if (*s != '[')
		return false;
	close = strchr(s, ']');
	if (close == NULL || memchr(s + 1, '[', close - s - 1) != NULL)
		return false;
	*sp = close + 1;
	while (**sp == ' ')
		(*sp)++;
	return true;
}

/* subj-refwd: ("re" / ("fw" ["d"])) *WSP *subj-blob ":" */
static bool strip_refwd(char **sp)
{
	char *s = *sp;

	if (strncasecmp(s, "re", 2) == 0)
		s += 2;
	else if (strncasecmp(s, "fwd", 3) == 0)
		s += 3;
	else if (strncasecmp(s, "fw", 2) == 0)
		s += 2;
	else
		return false;
	while (*s == ' ')
		s++;
	while (strip_blob(&s))
		;
	if (*s != ':')
		return false;
	s++;
	while (*s == ' ')
		s++;
	*sp = s;
	return true;
}

static const char *base_subject(struct dboxd_pool *pool, const char *subject)
{
	char *s, *w, *start;
	size_t len;
	bool changed;

	if (subject == NULL)
		return "";
	s = mime_decode_words(pool, subject);
	s = dboxd_pool_strdup(pool, s);
	/* (1) whitespace runs to one space */
	for (w = start = s; *s != '\0'; s++) {
		char c = *s == '\t' || *s == '\r' || *s == '\n' ? ' ' : *s;

		if (c == ' ' && (w == start || w[-1] == ' '))
			continue;
		*w++ = c;
	}
	*w = '\0';
	s = start;
	do {
		changed = false;
		/* (2) trailing "(fwd)" and spaces */
		len = strlen(s);
		for (;;) {
			while (len > 0 && s[len - 1] == ' ')
				s[--len] = '\0';
			if (len >= 5 && strcasecmp(s + len - 5, "(fwd)") == 0) {
				len -= 5;
				s[len] = '\0';
				continue;
			}
			break;
		}
		/* (3)-(4) leading subj-leader and blobs */
		for (bool again = true; again;) {
			char *before = s;

			again = false;
			while (*s == ' ')
				s++;
			while (strip_blob(&s) || strip_refwd(&s))
				again = true;
			if (again && *s == '\0') {
				/* a blob that is all there is stays */
				s = before;
				again = false;
			}
		}
		/* (5) "[fwd: ...]" */
		len = strlen(s);
		if (strncasecmp(s, "[fwd:", 5) == 0 && len > 5 &&
		    s[len - 1] == ']') {
			s[len - 1] = '\0';
			s += 5;
			changed = true;
		}
	} while (changed);
	return imap_search_fold(pool, s, strlen(s), &len);
}

/* ---- keys --------------------------------------------------------------- */

static const char *first_mailbox(struct dboxd_pool *pool, const char *value)
{
	struct imap_address *addrs;
	unsigned int count;
	size_t len;

	if (value == NULL)
		return "";
	imap_address_parse(pool, value, &addrs, &count);
	for (unsigned int i = 0; i < count; i++) {
		if (!addrs[i].group_start && !addrs[i].group_end &&
		    addrs[i].mailbox != NULL)
			return imap_search_fold(pool, addrs[i].mailbox,
						strlen(addrs[i].mailbox), &len);
	}
	return "";
}

/*
 * One SORT or THREAD: the search runs first (suspended while it reads),
 * then the headers of the matches are read batch by batch (suspended
 * likewise), then finish() sorts or threads and replies.
 */
struct sort_ctx {
	struct imap_cmd *cmd;
	struct search_program prog;
	struct imap_search_run *run;	/* NULL once the search is done */
	bool need_headers;
	struct sort_msg *msgs;
	unsigned int count, next;	/* next: first message not yet read */
	struct dbox_fetch *fetch;	/* the header batch in flight */
	unsigned int batch[SORT_BATCH], batch_count;
	struct dboxd_pool *pool;
	bool (*finish)(struct imap_cmd *cmd, struct sort_ctx *ctx);
	/* SORT */
	struct sort_crit *crits;
	unsigned int ncrits;
	/* THREAD */
	bool ordered_subject;
};

static void sort_header_cb(void *context, unsigned int i, const void *data,
			   size_t size, enum dbox_error err, const char *error)
{
	struct sort_ctx *ctx = context;
	struct sort_msg *m = &ctx->msgs[ctx->batch[i]];
	struct dboxd_pool *pool = ctx->pool;
	const char *date;
	time_t t, day;

	(void)err;
	if (i + 1 == ctx->batch_count)
		imap_cmd_storage_done(ctx->cmd);
	if (error != NULL)
		return;
#define H(n) mime_header_get(pool, data, size, n)
	date = H("Date");
	if (date != NULL && imap_parse_message_date(date, &t, &day) == 0)
		m->date = t;
	m->from = first_mailbox(pool, H("From"));
	m->to = first_mailbox(pool, H("To"));
	m->cc = first_mailbox(pool, H("Cc"));
	m->subject = base_subject(pool, H("Subject"));
	m->message_id = H("Message-ID");
	m->in_reply_to = H("In-Reply-To");
	m->references = H("References");
#undef H
}

/* The search is done: what the index knows of each match. */
static void sort_init_msgs(struct sort_ctx *ctx, const unsigned int *idx,
			   unsigned int count)
{
	struct imap_client *c = ctx->cmd->client;
	const struct dbox_mail *mails;
	unsigned int total;

	dbox_mailbox_get_mails(c->sel->box, &mails, &total);
	ctx->count = count;
	ctx->msgs = dboxd_pool_alloc(&c->pool, (count + 1) * sizeof(*ctx->msgs));
	for (unsigned int i = 0; i < count; i++) {
		struct sort_msg *m = &ctx->msgs[i];

		m->idx = idx[i];
		m->seq = idx[i] + 1;
		m->uid = mails[idx[i]].uid;
		m->arrival = mails[idx[i]].internal_date;
		m->date = m->arrival;
		m->size = mails[idx[i]].virtual_size;
		m->from = m->to = m->cc = m->subject = "";
	}
}

/* Start reading the next batch of headers: 1 started, 0 none left. */
static int sort_header_batch(struct sort_ctx *ctx, const char **error_r)
{
	struct dbox_fetch_req reqs[SORT_BATCH];
	unsigned int n = 0;

	for (; ctx->next < ctx->count && n < SORT_BATCH; ctx->next++, n++) {
		memset(&reqs[n], 0, sizeof(reqs[n]));
		reqs[n].uid = ctx->msgs[ctx->next].uid;
		reqs[n].part = DBOX_FETCH_HEADER;
		reqs[n].length = UINT64_MAX;
		ctx->batch[n] = ctx->next;
	}
	if (n == 0)
		return 0;
	ctx->batch_count = n;
	if (dbox_fetch_start(ctx->cmd->client->sel->box, reqs, n,
			     sort_header_cb, ctx, &ctx->fetch, error_r) < 0)
		return -1;
	return 1;
}

/* Search, then read what the keys need, suspended while reads are in
   flight; then finish. */
static bool sort_cont(struct imap_cmd *cmd)
{
	struct sort_ctx *ctx = cmd->context;
	unsigned int *idx, count;
	const char *error;
	int ret;

	if (ctx->run != NULL) {
		ret = imap_search_run_step(ctx->run, &idx, &count, &error);
		if (ret < 0)
			return imap_cmd_storage_error(cmd, error);
		if (ret > 0) {
			imap_cmd_wait_storage(cmd);
			return false;
		}
		imap_search_run_free(ctx->run);
		ctx->run = NULL;
		sort_init_msgs(ctx, idx, count);
		if (!ctx->need_headers)
			ctx->next = ctx->count;
	}
	/* the batch that woke us is delivered */
	dbox_fetch_free(&ctx->fetch);
	ret = sort_header_batch(ctx, &error);
	if (ret < 0)
		return imap_cmd_storage_error(cmd, error);
	if (ret > 0) {
		imap_cmd_wait_storage(cmd);
		return false;
	}
	return ctx->finish(cmd, ctx);
}

static void sort_free(struct imap_cmd *cmd)
{
	struct sort_ctx *ctx = cmd->context;

	imap_search_run_free(ctx->run);
	dbox_fetch_free(&ctx->fetch);
}

/* Parse the search program and start: shared by SORT and THREAD. */
static bool sort_start(struct imap_cmd *cmd, struct sort_ctx *ctx,
		       const struct imap_arg *search_args)
{
	struct imap_client *c = cmd->client;

	if (imap_cmd_search_program(cmd, search_args, true, &ctx->prog) < 0)
		return true;
	ctx->cmd = cmd;
	ctx->pool = &c->pool;
	ctx->run = imap_search_run_begin(cmd, &ctx->prog, &c->pool);
	cmd->context = ctx;
	cmd->free_context = sort_free;
	cmd->cont = sort_cont;
	return sort_cont(cmd);
}

static struct sort_ctx *sort_ctx_new(struct imap_cmd *cmd)
{
	struct sort_ctx *ctx = dboxd_pool_alloc(&cmd->client->pool,
						sizeof(*ctx));

	memset(ctx, 0, sizeof(*ctx));
	return ctx;
}

/* ---- SORT --------------------------------------------------------------- */

static const struct sort_crit *g_crits;
static unsigned int g_ncrits;

static int cmp_num(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int sort_cmp(const void *pa, const void *pb)
{
	const struct sort_msg *a = pa, *b = pb;

	for (unsigned int i = 0; i < g_ncrits; i++) {
		int r = 0;

		switch (g_crits[i].key) {
		case SORT_ARRIVAL:
			r = cmp_num(a->arrival, b->arrival);
			break;
		case SORT_DATE:
			r = cmp_num(a->date, b->date);
			break;
		case SORT_SIZE:
			r = cmp_num((int64_t)a->size, (int64_t)b->size);
			break;
		case SORT_FROM:
			r = strcmp(a->from, b->from);
			break;
		case SORT_TO:
			r = strcmp(a->to, b->to);
			break;
		case SORT_CC:
			r = strcmp(a->cc, b->cc);
			break;
		case SORT_SUBJECT:
			r = strcmp(a->subject, b->subject);
			break;
		}
		if (r != 0)
			return g_crits[i].reverse ? -r : r;
	}
	/* RFC 5256: ties by sequence number */
	return cmp_num(a->seq, b->seq);
}

static int parse_criteria(const struct imap_arg *list, struct dboxd_pool *pool,
			  struct sort_crit **crits_r, unsigned int *count_r,
			  bool *need_headers_r)
{
	static const struct {
		const char *name;
		enum sort_key key;
	} keys[] = {
		{ "ARRIVAL", SORT_ARRIVAL }, { "CC", SORT_CC },
		{ "DATE", SORT_DATE }, { "FROM", SORT_FROM },
		{ "SIZE", SORT_SIZE }, { "SUBJECT", SORT_SUBJECT },
		{ "TO", SORT_TO },
	};
	unsigned int n = imap_args_count(list), count = 0;
	struct sort_crit *crits = dboxd_pool_alloc(pool, (n + 1) * sizeof(*crits));
	bool reverse = false;

	*need_headers_r = false;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int k;

		if (imap_arg_atom_equals(&list[i], "REVERSE")) {
			if (reverse)
				return -1;
			reverse = true;
			continue;
		}
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			if (imap_arg_atom_equals(&list[i], keys[k].name))
				break;
		}
		if (k == sizeof(keys) / sizeof(keys[0]))
			return -1;
		crits[count].key = keys[k].key;
		crits[count].reverse = reverse;
		if (keys[k].key != SORT_ARRIVAL && keys[k].key != SORT_SIZE)
			*need_headers_r = true;
		reverse = false;
		count++;
	}
	if (count == 0 || reverse)
		return -1;
	*crits_r = crits;
	*count_r = count;
	return 0;
}

static bool sort_finish(struct imap_cmd *cmd, struct sort_ctx *ctx)
{
	struct imap_client *c = cmd->client;

	g_crits = ctx->crits;
	g_ncrits = ctx->ncrits;
	qsort(ctx->msgs, ctx->count, sizeof(*ctx->msgs), sort_cmp);
	dboxd_buf_append_str(&c->out, "* SORT");
	for (unsigned int i = 0; i < ctx->count; i++)
		dboxd_buf_printf(&c->out, " %u",
				 cmd->uid ? ctx->msgs[i].uid : ctx->msgs[i].seq);
	dboxd_buf_append_str(&c->out, "\r\n");
	return imap_cmd_ok(cmd, "Sort completed.");
}

bool imap_cmd_sort(struct imap_cmd *cmd)
{
	struct imap_client *c = cmd->client;
	struct sort_ctx *ctx = sort_ctx_new(cmd);
	const struct imap_arg *list;

	if (!imap_arg_get_list(&cmd->args[0], &list, NULL) ||
	    parse_criteria(list, &c->pool, &ctx->crits, &ctx->ncrits,
			   &ctx->need_headers) < 0)
		return imap_cmd_bad(cmd, "Invalid sort criteria");
	ctx->finish = sort_finish;
	return sort_start(cmd, ctx, &cmd->args[1]);
}

/* ---- THREAD ------------------------------------------------------------- */

struct thread_node {
	struct sort_msg *msg;		/* NULL: a dummy */
	struct thread_node *parent, *children, *next;
	const char *id;
};

static int64_t node_date(const struct thread_node *n)
{
	/* a dummy sorts by its first child (RFC 5256 REFERENCES step 4) */
	while (n->msg == NULL && n->children != NULL)
		n = n->children;
	return n->msg != NULL ? n->msg->date : 0;
}

static uint32_t node_num(const struct thread_node *n, bool uid)
{
	while (n->msg == NULL && n->children != NULL)
		n = n->children;
	if (n->msg == NULL)
		return 0;
	return uid ? n->msg->uid : n->msg->seq;
}

static int node_cmp(const void *pa, const void *pb)
{
	const struct thread_node *a = *(struct thread_node *const *)pa;
	const struct thread_node *b = *(struct thread_node *const *)pb;
	int r = cmp_num(node_date(a), node_date(b));

	if (r == 0)
		r = cmp_num(node_num(a, false), node_num(b, false));
	return r;
}

/* Sort a sibling list by date. */
static void sort_siblings(struct thread_node **list)
{
	struct thread_node *arr[4096], *n;
	unsigned int count = 0;

	for (n = *list; n != NULL && count < 4096; n = n->next)
		arr[count++] = n;
	if (n != NULL)
		return;	/* too many to bother */
	qsort(arr, count, sizeof(arr[0]), node_cmp);
	for (unsigned int i = 0; i < count; i++)
		arr[i]->next = i + 1 < count ? arr[i + 1] : NULL;
	*list = count > 0 ? arr[0] : NULL;
}

static void thread_write(struct dboxd_buf *out, struct thread_node *n,
			 bool uid)
{
	/* a chain of single children is written "a b c"; branches as
	   "(b)(c)" after their parent */
	while (n != NULL) {
		if (n->msg != NULL)
			dboxd_buf_printf(out, "%u", uid ? n->msg->uid :
					 n->msg->seq);
		sort_siblings(&n->children);
		if (n->children == NULL)
			return;
		if (n->children->next == NULL) {
			if (n->msg != NULL)
				dboxd_buf_append(out, " ", 1);
			n = n->children;
			continue;
		}
		if (n->msg != NULL)
			dboxd_buf_append(out, " ", 1);
		for (struct thread_node *c = n->children; c != NULL;
		     c = c->next) {
			dboxd_buf_append(out, "(", 1);
			thread_write(out, c, uid);
			dboxd_buf_append(out, ")", 1);
		}
		return;
	}
}

static void thread_write_roots(struct imap_client *c, struct thread_node *roots,
			       bool uid)
{
	sort_siblings(&roots);
	dboxd_buf_append_str(&c->out, "* THREAD ");
	for (struct thread_node *r = roots; r != NULL; r = r->next) {
		dboxd_buf_append(&c->out, "(", 1);
		thread_write(&c->out, r, uid);
		dboxd_buf_append(&c->out, ")", 1);
	}
	dboxd_buf_append_str(&c->out, "\r\n");
}

static int subject_date_cmp(const void *pa, const void *pb)
{
	const struct sort_msg *a = pa, *b = pb;
	int r = strcmp(a->subject, b->subject);

	if (r == 0)
		r = cmp_num(a->date, b->date);
	if (r == 0)
		r = cmp_num(a->seq, b->seq);
	return r;
}

static struct thread_node *ordered_subject(struct sort_ctx *ctx)
{
	struct thread_node *nodes, *roots = NULL, **tail = &roots;
	struct thread_node *root = NULL, **ctail = NULL;

	qsort(ctx->msgs, ctx->count, sizeof(*ctx->msgs), subject_date_cmp);
	nodes = dboxd_pool_alloc(ctx->pool, (ctx->count + 1) * sizeof(*nodes));
	for (unsigned int i = 0; i < ctx->count; i++) {
		struct thread_node *n = &nodes[i];

		n->msg = &ctx->msgs[i];
		if (root != NULL &&
		    strcmp(root->msg->subject, n->msg->subject) == 0) {
			/* later messages: children of the first */
			n->parent = root;
			*ctail = n;
			ctail = &n->next;
			continue;
		}
		root = n;
		ctail = &n->children;
		*tail = n;
		tail = &n->next;
	}
	return roots;
}

/* Message-IDs in a References/In-Reply-To value, in order. */
static unsigned int parse_ids(struct dboxd_pool *pool, const char *value,
			      const char **ids, unsigned int max)
{
	unsigned int n = 0;

	while (value != NULL && n < max) {
		const char *lt = strchr(value, '<'), *gt;

		if (lt == NULL)
			break;
		gt = strchr(lt, '>');
		if (gt == NULL)
			break;
		ids[n++] = dboxd_pool_strndup(pool, lt, gt - lt + 1);
		value = gt + 1;
	}
	return n;
}

static struct thread_node *id_node(struct sort_ctx *ctx,
				   struct dboxd_hash *table, const char *id)
{
	struct thread_node *n = dboxd_hash_get_str(table, id);

	if (n == NULL) {
		n = dboxd_pool_alloc(ctx->pool, sizeof(*n));
		n->id = id;
		dboxd_hash_set_str(table, id, n);
	}
	return n;
}

static bool is_ancestor(const struct thread_node *a,
			const struct thread_node *n)
{
	for (; n != NULL; n = n->parent) {
		if (n == a)
			return true;
	}
	return false;
}

static void node_unlink(struct thread_node *n)
{
	struct thread_node **p;

	if (n->parent == NULL)
		return;
	for (p = &n->parent->children; *p != NULL; p = &(*p)->next) {
		if (*p == n) {
			*p = n->next;
			break;
		}
	}
	n->parent = NULL;
	n->next = NULL;
}

static void node_link(struct thread_node *parent, struct thread_node *child)
{
	if (is_ancestor(child, parent) || child->parent == parent)
		return;	/* would loop */
	node_unlink(child);
	child->parent = parent;
	child->next = parent->children;
	parent->children = child;
}

/* Drop dummies without children; replace a dummy by its children unless
   that would put several at the root. */
static void prune(struct thread_node **list, bool at_root)
{
	struct thread_node **p = list;

	while (*p != NULL) {
		struct thread_node *n = *p;

		prune(&n->children, false);
		if (n->msg == NULL && n->children == NULL) {
			*p = n->next;
			continue;
		}
		if (n->msg == NULL &&
		    (!at_root || n->children->next == NULL)) {
			struct thread_node *c = n->children, *last = c;

			for (struct thread_node *k = c; k != NULL; k = k->next) {
				k->parent = n->parent;
				last = k;
			}
			last->next = n->next;
			*p = c;
			continue;
		}
		p = &n->next;
	}
}

static struct thread_node *references(struct sort_ctx *ctx)
{
	struct dboxd_hash *table = dboxd_hash_create();
	struct thread_node *roots = NULL, **tail = &roots;
	struct thread_node **all;
	unsigned int nall = 0;
	const char *ids[128];

	all = dboxd_pool_alloc(ctx->pool, (ctx->count * 130 + 1) * sizeof(*all));
	for (unsigned int i = 0; i < ctx->count; i++) {
		struct sort_msg *m = &ctx->msgs[i];
		struct thread_node *n = NULL, *prev = NULL;
		unsigned int nids;
		const char *id = NULL;

		if (m->message_id != NULL &&
		    parse_ids(ctx->pool, m->message_id, &id, 1) == 1) {
			n = id_node(ctx, table, id);
			if (n->msg != NULL)
				n = NULL;	/* duplicate id: unique node */
		}
		if (n == NULL) {
			n = dboxd_pool_alloc(ctx->pool, sizeof(*n));
			n->id = "";
		}
		n->msg = m;
		all[nall++] = n;
		nids = parse_ids(ctx->pool, m->references, ids, 128);
		if (nids == 0)
			nids = parse_ids(ctx->pool, m->in_reply_to, ids, 1);
		for (unsigned int k = 0; k < nids; k++) {
			struct thread_node *r = id_node(ctx, table, ids[k]);

			if (prev != NULL && r->parent == NULL &&
			    !is_ancestor(r, prev))
				node_link(prev, r);
			if (r->parent == NULL || k == 0)
				all[nall++] = r;
			prev = r;
		}
		if (prev != NULL && prev != n && !is_ancestor(n, prev)) {
			node_link(prev, n);
		} else if (nids == 0) {
			node_unlink(n);
		}
	}
	/* collect every parentless node once */
	{
		struct dboxd_hash *seen = dboxd_hash_create();

		for (unsigned int i = 0; i < nall; i++) {
			struct thread_node *n = all[i];
			char key[32];

			while (n->parent != NULL)
				n = n->parent;
			snprintf(key, sizeof(key), "%p", (void *)n);
			if (dboxd_hash_get_str(seen, key) != NULL)
				continue;
			dboxd_hash_set_str(seen, key, n);
			n->next = NULL;
			*tail = n;
			tail = &n->next;
		}
		dboxd_hash_destroy(&seen);
	}
	dboxd_hash_destroy(&table);
	prune(&roots, true);
	return roots;
}

static bool thread_finish(struct imap_cmd *cmd, struct sort_ctx *ctx)
{
	struct thread_node *roots;

	roots = ctx->ordered_subject ? ordered_subject(ctx) : references(ctx);
	thread_write_roots(cmd->client, roots, cmd->uid);
	return imap_cmd_ok(cmd, "Thread completed.");
}

bool imap_cmd_thread(struct imap_cmd *cmd)
{
	struct sort_ctx *ctx = sort_ctx_new(cmd);
	const char *algo;

	if (!imap_arg_get_atom(&cmd->args[0], &algo))
		return imap_cmd_bad(cmd, "THREAD needs an algorithm");
	if (strcasecmp(algo, "ORDEREDSUBJECT") != 0 &&
	    strcasecmp(algo, "REFERENCES") != 0)
		return imap_cmd_no(cmd, "Unknown thread algorithm");
	ctx->ordered_subject = strcasecmp(algo, "ORDEREDSUBJECT") == 0;
	ctx->need_headers = true;
	ctx->finish = thread_finish;
	return sort_start(cmd, ctx, &cmd->args[1]);
}
