// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Crash test. A writer process appends, copies, moves, expunges, stores
 * flags (and, for mdbox, purges) in a loop, telling us over a pipe before
 * each operation ("B ...") and after it returned success ("A/C/M/E/F/P").
 * We SIGKILL it at a random moment, hundreds of times, and after each kill
 * check the mail root against everything it acknowledged:
 *   - the mailbox opens;
 *   - every acknowledged message is there and reads back byte for byte;
 *   - every acknowledged expunge stays expunged (uids are never reused);
 *   - acknowledged flags are there;
 *   - the index counters agree with the messages.
 * Only the one operation in flight at the kill may have happened or not;
 * a message we did not expect is accepted only if it is intact (it comes
 * from that operation or from a file an interrupted writer left behind).
 * Every other kill, the writer uses the asynchronous API (dbox.h,
 * "asynchronous changes"): it starts the operation, runs the io loop and
 * acknowledges from the callback, so the async path's "done" is held to the
 * same standard.
 * Iterations per format: DBOX_CRASH_ITERATIONS (default 150).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dbox.h"
#include "tap.h"

#define NBOXES 2
static const char *const box_names[NBOXES] = { "INBOX", "Other" };

static enum dbox_format fmt;
static const char *fmt_name;
static char *root;

struct entry {
	unsigned int box;
	uint32_t uid;
	uint64_t id;
	uint32_t flags;
};

struct model {
	struct entry *live;
	unsigned int count;
	struct entry *gone;		/* acknowledged expunges */
	unsigned int gone_count;
};

struct failures {
	unsigned int lost, corrupt, resurrected, flags, open, counters,
		unexpected;
};

static size_t size_for(uint64_t id)
{
	return 200 + (size_t)((id * 2654435761ULL) % 20000);
}

static uint64_t rnd(uint64_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return *st;
}

/* ---- the writer (child) ---- */

static void say(int fd, const char *fmt_str, ...)
	__attribute__((format(printf, 2, 3)));

static void say(int fd, const char *fmt_str, ...)
{
	char line[256];
	va_list args;
	int len;

	va_start(args, fmt_str);
	len = vsnprintf(line, sizeof(line), fmt_str, args);
	va_end(args);
	/* one write per line: atomic on a pipe, and out before we go on */
	if (write(fd, line, (size_t)len) != len)
		_exit(3);
}

struct writer {
	int fd;
	uint64_t rng, next_id;
	struct dbox_storage *storage;
	struct dbox_mailbox *boxes[NBOXES];
	bool async;
};

/* The asynchronous path: the operation's result, from its callback. */
struct async_result {
	bool done;
	int ret;
	uint32_t uid;
};

static void async_cb(void *context, const struct dbox_op_result *r)
{
	struct async_result *res = context;

	res->done = true;
	res->ret = r->ret;
	res->uid = r->uid_count > 0 ? r->uids[0] : 0;
}

/* Run the loop until the started operation called back. */
static int async_wait(struct writer *w, int start_ret,
		      struct async_result *res)
{
	if (start_ret < 0)
		return -1;
	while (!res->done) {
		if (dbox_io_run(dbox_storage_get_io(w->storage), -1) < 0)
			return -1;
	}
	return res->ret;
}

static int do_append(struct writer *w, unsigned int b, const char *msg,
		     size_t len, const struct dbox_append_params *p,
		     uint32_t *uid_r)
{
	struct dbox_append_msg m = { msg, len, *p };
	struct async_result res = { false, 0, 0 };
	const char *error;
	int ret;

	if (!w->async)
		return dbox_mail_append(w->boxes[b], msg, len, p, uid_r,
					&error);
	ret = dbox_mail_append_start(w->boxes[b], &m, 1, async_cb, &res, NULL,
				     &error);
	ret = async_wait(w, ret, &res);
	*uid_r = res.uid;
	return ret;
}

static int do_copy(struct writer *w, unsigned int b, uint32_t uid, bool move,
		   uint32_t *new_uid_r)
{
	struct async_result res = { false, 0, 0 };
	struct dbox_mailbox *src = w->boxes[b], *dst = w->boxes[1 - b];
	const char *error;
	int ret;

	if (!w->async)
		return (move ? dbox_mail_move : dbox_mail_copy)(src, &uid, 1,
								dst, new_uid_r,
								&error);
	ret = (move ? dbox_mail_move_start : dbox_mail_copy_start)
		(src, &uid, 1, dst, async_cb, &res, NULL, &error);
	ret = async_wait(w, ret, &res);
	*new_uid_r = res.uid;
	return ret;
}

static int do_expunge(struct writer *w, unsigned int b, uint32_t uid)
{
	struct async_result res = { false, 0, 0 };
	const char *error;

	if (!w->async)
		return dbox_mail_expunge(w->boxes[b], &uid, 1, &error);
	return async_wait(w, dbox_mail_expunge_start(w->boxes[b], &uid, 1,
						     async_cb, &res, NULL,
						     &error), &res);
}

static int do_store(struct writer *w, unsigned int b, uint32_t uid,
		    const struct dbox_store_params *p)
{
	struct async_result res = { false, 0, 0 };
	const char *error;

	if (!w->async)
		return dbox_mail_store(w->boxes[b], &uid, 1, p, NULL, NULL,
				       &error);
	return async_wait(w, dbox_mail_store_start(w->boxes[b], &uid, 1, p,
						   async_cb, &res, NULL,
						   &error), &res);
}

static bool pick(struct writer *w, unsigned int *box_r, uint32_t *uid_r)
{
	const struct dbox_mail *mails;
	unsigned int count, b = (unsigned int)(rnd(&w->rng) % NBOXES);

	dbox_mailbox_get_mails(w->boxes[b], &mails, &count);
	if (count == 0)
		return false;
	*box_r = b;
	*uid_r = mails[rnd(&w->rng) % count].uid;
	return true;
}

static void op_append(struct writer *w)
{
	struct dbox_append_params p = { 0, 0, NULL, NULL };
	unsigned int b = (unsigned int)(rnd(&w->rng) % NBOXES);
	uint64_t id = w->next_id++;
	uint32_t uid;
	size_t len;
	char *msg = tap_message(id, size_for(id), &len);

	p.flags = (uint32_t)(rnd(&w->rng) & DBOX_MAIL_FLAGS_MASK);
	say(w->fd, "B A %u %llu\n", b, (unsigned long long)id);
	if (do_append(w, b, msg, len, &p, &uid) < 0)
		_exit(4);
	say(w->fd, "A %u %u %llu %u\n", b, uid, (unsigned long long)id,
	    p.flags);
	free(msg);
}

static void op_copy_move(struct writer *w, bool move)
{
	unsigned int b;
	uint32_t uid, new_uid = 0;

	if (!pick(w, &b, &uid))
		return;
	say(w->fd, "B %c %u %u\n", move ? 'M' : 'C', b, uid);
	if (do_copy(w, b, uid, move, &new_uid) < 0)
		_exit(5);
	say(w->fd, "%c %u %u %u\n", move ? 'M' : 'C', b, uid, new_uid);
}

static void op_expunge(struct writer *w)
{
	unsigned int b;
	uint32_t uid;

	if (!pick(w, &b, &uid))
		return;
	say(w->fd, "B E %u %u\n", b, uid);
	if (do_expunge(w, b, uid) < 0)
		_exit(6);
	say(w->fd, "E %u %u\n", b, uid);
}

static void op_store(struct writer *w)
{
	struct dbox_store_params p = { DBOX_STORE_REPLACE, 0, NULL, 0 };
	unsigned int b;
	uint32_t uid;

	if (!pick(w, &b, &uid))
		return;
	p.flags = (uint32_t)(rnd(&w->rng) & DBOX_MAIL_FLAGS_MASK);
	say(w->fd, "B F %u %u %u\n", b, uid, p.flags);
	if (do_store(w, b, uid, &p) < 0)
		_exit(7);
	say(w->fd, "F %u %u %u\n", b, uid, p.flags);
}

static void op_purge(struct writer *w)
{
	const char *error;

	say(w->fd, "B P\n");
	if (dbox_storage_purge(w->storage, &error) < 0)
		_exit(8);
	say(w->fd, "P\n");
}

static unsigned int total_messages(struct writer *w)
{
	struct dbox_status st;
	unsigned int b, total = 0;

	for (b = 0; b < NBOXES; b++) {
		dbox_mailbox_get_status(w->boxes[b], &st);
		total += st.messages;
	}
	return total;
}

static void writer_main(int fd, uint64_t seed, uint64_t first_id,
			bool async)
{
	struct dbox_storage_settings set = { .format = fmt };
	struct writer w = { fd, seed, first_id, NULL, { NULL, NULL }, async };
	struct dbox_sync_result r;
	const char *error;
	unsigned int b, roll, total;

	if (dbox_storage_open(root, &set, &w.storage, &error) < 0)
		_exit(9);
	for (b = 0; b < NBOXES; b++) {
		if (dbox_mailbox_open(w.storage, box_names[b], 0, &w.boxes[b],
				      &error) < 0)
			_exit(10);
	}
	say(fd, "R\n");
	for (;;) {
		total = total_messages(&w);
		roll = (unsigned int)(rnd(&w.rng) % 100);
		if (roll < (total < 40 ? 60U : total > 120 ? 20U : 40U))
			op_append(&w);
		else if (roll < 60)
			op_expunge(&w);
		else if (roll < 72)
			op_copy_move(&w, false);
		else if (roll < 80)
			op_copy_move(&w, true);
		else if (roll < 97 || fmt != DBOX_FORMAT_MDBOX)
			op_store(&w);
		else
			op_purge(&w);
		for (b = 0; b < NBOXES; b++) {
			if (dbox_mailbox_sync(w.boxes[b], &r, &error) < 0)
				_exit(11);
			dbox_sync_result_free(&r);
		}
	}
}

/* ---- the model (parent) ---- */

static struct entry *find(struct entry *arr, unsigned int count,
			  unsigned int box, uint32_t uid)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		if (arr[i].box == box && arr[i].uid == uid)
			return &arr[i];
	}
	return NULL;
}

static void add(struct entry **arr, unsigned int *count, struct entry e)
{
	*arr = realloc(*arr, (*count + 1) * sizeof(**arr));
	(*arr)[(*count)++] = e;
}

static void drop(struct model *m, unsigned int box, uint32_t uid,
		 bool acknowledged)
{
	struct entry *e = find(m->live, m->count, box, uid);

	if (e == NULL)
		return;
	if (acknowledged)
		add(&m->gone, &m->gone_count, *e);
	*e = m->live[--m->count];
}

/* Apply one acknowledgement line to the model. */
static void apply(struct model *m, const char *line)
{
	unsigned int b, flags;
	unsigned long long id;
	uint32_t uid, new_uid;
	struct entry *e, n;

	if (sscanf(line, "A %u %u %llu %u", &b, &uid, &id, &flags) == 4) {
		n = (struct entry){ b, uid, id, flags };
		add(&m->live, &m->count, n);
	} else if (sscanf(line, "C %u %u %u", &b, &uid, &new_uid) == 3 ||
		   sscanf(line, "M %u %u %u", &b, &uid, &new_uid) == 3) {
		e = find(m->live, m->count, b, uid);
		if (e != NULL && new_uid != 0) {
			n = (struct entry){ 1 - b, new_uid, e->id, e->flags };
			add(&m->live, &m->count, n);
		}
		if (line[0] == 'M')
			drop(m, b, uid, true);
	} else if (sscanf(line, "E %u %u", &b, &uid) == 2) {
		drop(m, b, uid, true);
	} else if (sscanf(line, "F %u %u %u", &b, &uid, &flags) == 3) {
		e = find(m->live, m->count, b, uid);
		if (e != NULL)
			e->flags = flags;
	}
}

struct inflight {
	char op;			/* 0: none */
	unsigned int box;
	uint32_t uid, flags;
};

/* Read the child's lines, apply acknowledgements, note what was in flight. */
static void apply_lines(struct model *m, char *buf, struct inflight *fl)
{
	char *line, *save = NULL;

	memset(fl, 0, sizeof(*fl));
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == 'B') {
			fl->op = line[2];
			fl->box = 0;
			fl->uid = fl->flags = 0;
			sscanf(line + 4, "%u %u %u", &fl->box, &fl->uid,
			       &fl->flags);
		} else if (line[0] != 'R') {
			apply(m, line);
			fl->op = 0;
		}
	}
}

static bool content_ok(struct dbox_mailbox *box, uint32_t uid, uint64_t *id_r)
{
	struct dbox_fetch_req req = { uid, DBOX_FETCH_WHOLE, 0, UINT64_MAX };
	const char *error;
	uint64_t id;
	void *data;
	size_t size, len;
	char *expect;
	bool ok;

	if (dbox_mail_fetch(box, &req, &data, &size, &error) < 0) {
		tap_diag("%s uid %u: %s", fmt_name, uid, error);
		return false;
	}
	id = tap_message_id(data, size);
	expect = tap_message(id, size_for(id), &len);
	ok = id != 0 && len == size && memcmp(expect, data, len) == 0 &&
		(*id_r == 0 || *id_r == id);
	*id_r = id;
	free(expect);
	free(data);
	return ok;
}

static bool inflight_on(const struct inflight *fl, char op, unsigned int box,
			uint32_t uid)
{
	return fl->op == op && fl->box == box && fl->uid == uid;
}

/* Expected messages of one mailbox against its view. */
static void check_expected(struct model *m, unsigned int b,
			   struct dbox_mailbox *box, const struct inflight *fl,
			   struct failures *f)
{
	const struct dbox_mail *mail;
	unsigned int i;
	uint64_t id;

	for (i = 0; i < m->count; i++) {
		if (m->live[i].box != b)
			continue;
		mail = dbox_mailbox_lookup_uid(box, m->live[i].uid, NULL);
		if (mail == NULL) {
			if (inflight_on(fl, 'E', b, m->live[i].uid) ||
			    inflight_on(fl, 'M', b, m->live[i].uid)) {
				m->live[i--] = m->live[--m->count];
				continue;
			}
			tap_diag("%s: lost %s uid %u", fmt_name, box_names[b],
				 m->live[i].uid);
			f->lost++;
			continue;
		}
		id = m->live[i].id;
		if (!content_ok(box, mail->uid, &id))
			f->corrupt++;
		if (mail->flags != m->live[i].flags) {
			if (inflight_on(fl, 'F', b, mail->uid) &&
			    mail->flags == fl->flags)
				m->live[i].flags = mail->flags;
			else
				f->flags++;
		}
	}
}

/* Messages the model does not know: only intact, never expunged ones. */
static void check_extra(struct model *m, unsigned int b,
			struct dbox_mailbox *box, struct failures *f)
{
	const struct dbox_mail *mails;
	unsigned int i, count;
	uint64_t id;

	dbox_mailbox_get_mails(box, &mails, &count);
	for (i = 0; i < count; i++) {
		if (find(m->live, m->count, b, mails[i].uid) != NULL)
			continue;
		if (find(m->gone, m->gone_count, b, mails[i].uid) != NULL) {
			tap_diag("%s: expunged %s uid %u came back", fmt_name,
				 box_names[b], mails[i].uid);
			f->resurrected++;
			continue;
		}
		id = 0;
		if (!content_ok(box, mails[i].uid, &id)) {
			f->unexpected++;
			continue;
		}
		add(&m->live, &m->count, (struct entry){ b, mails[i].uid, id,
							 mails[i].flags });
	}
}

static void check_counters(struct dbox_storage *storage, unsigned int b,
			   struct dbox_mailbox *box, struct failures *f)
{
	struct dbox_status view, index;
	const char *error;

	dbox_mailbox_get_status(box, &view);
	if (dbox_mailbox_status(storage, box_names[b], &index, &error) < 0 ||
	    index.messages != view.messages || index.unseen != view.unseen ||
	    index.size != view.size) {
		tap_diag("%s: %s counters differ from the messages", fmt_name,
			 box_names[b]);
		f->counters++;
	}
}

static void verify(struct model *m, const struct inflight *fl,
		   struct failures *f)
{
	struct dbox_storage_settings set = { .format = fmt };
	struct dbox_storage *storage;
	struct dbox_mailbox *box;
	const char *error;
	unsigned int b;

	if (dbox_storage_open(root, &set, &storage, &error) < 0) {
		tap_diag("%s: open after kill: %s", fmt_name, error);
		f->open++;
		return;
	}
	for (b = 0; b < NBOXES; b++) {
		if (dbox_mailbox_open(storage, box_names[b], 0, &box,
				      &error) < 0) {
			tap_diag("%s: open %s: %s", fmt_name, box_names[b],
				 error);
			f->open++;
			continue;
		}
		check_expected(m, b, box, fl, f);
		check_extra(m, b, box, f);
		check_counters(storage, b, box, f);
		dbox_mailbox_close(&box);
	}
	dbox_storage_close(&storage);
}

/* Fork a writer, kill it after delay_us, return what it said. */
static char *run_writer(unsigned int iter, unsigned int delay_us)
{
	static char buf[1 << 20];
	struct timespec start, now;
	size_t len = 0;
	ssize_t n;
	int pipefd[2], status;
	long waited;
	pid_t pid;

	if (pipe(pipefd) < 0)
		exit(2);
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		/* both I/O paths and both APIs take the same beating:
		   uring/sync alternate, sync/async API every two kills */
		setenv("DBOX_IO_BACKEND", iter % 2 == 0 ? "uring" : "sync", 1);
		writer_main(pipefd[1], iter * 7919 + 13, (uint64_t)(iter + 1) *
			    100000, (iter / 2) % 2 == 1);
	}
	close(pipefd[1]);
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		struct pollfd pfd = { pipefd[0], POLLIN, 0 };

		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (now.tv_sec - start.tv_sec) * 1000000 +
			(now.tv_nsec - start.tv_nsec) / 1000;
		if (poll(&pfd, 1, 1) > 0 && len < sizeof(buf) - 1) {
			n = read(pipefd[0], buf + len, sizeof(buf) - 1 - len);
			len += n > 0 ? (size_t)n : 0;
		}
	} while (waited < (long)delay_us);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	while (len < sizeof(buf) - 1 &&
	       (n = read(pipefd[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(pipefd[0]);
	buf[len] = '\0';
	if (!WIFSIGNALED(status))
		tap_diag("%s: writer exited with %d before the kill", fmt_name,
			 WEXITSTATUS(status));
	return buf;
}

static void final_rebuild_check(struct model *m, struct failures *f)
{
	struct dbox_storage_settings set = { .format = fmt };
	struct dbox_storage *storage;
	struct inflight none = { 0, 0, 0, 0 };
	const char *error;

	if (dbox_storage_open(root, &set, &storage, &error) < 0 ||
	    dbox_storage_rebuild(storage, &error) < 0) {
		f->open++;
		return;
	}
	dbox_storage_close(&storage);
	verify(m, &none, f);
}

static void run_format(enum dbox_format f, const char *name,
		       unsigned int iterations)
{
	struct dbox_storage_settings set = { .format = f };
	struct failures fail = { 0 }, after = { 0 };
	struct model m = { NULL, 0, NULL, 0 };
	struct dbox_storage *storage;
	struct inflight fl;
	uint64_t rng = 0x1234567 + (uint64_t)f;
	unsigned int i, acks = 0;
	const char *error;
	char *out, *p;

	fmt = f;
	fmt_name = name;
	root = tap_tempdir(name);
	if (dbox_storage_open(root, &set, &storage, &error) < 0 ||
	    dbox_mailbox_create(storage, "Other", 0, &error) < 0) {
		tap_ok(false, "%s: setup: %s", name, error);
		return;
	}
	dbox_storage_close(&storage);
	for (i = 0; i < iterations; i++) {
		out = run_writer(i, (unsigned int)(rnd(&rng) % 40000));
		for (p = out; (p = strchr(p, '\n')) != NULL; p++)
			acks++;
		apply_lines(&m, out, &fl);
		verify(&m, &fl, &fail);
	}
	tap_diag("%s: %u kills, %u lines from writers, %u messages live, "
		 "%u expunged", name, iterations, acks, m.count, m.gone_count);
	tap_ok(fail.open == 0, "%s: the mail root and both mailboxes open "
	       "after each of %u kills", name, iterations);
	tap_ok(fail.lost == 0 && fail.corrupt == 0, "%s: every acknowledged "
	       "message is there and reads back intact (%u lost, %u bad)",
	       name, fail.lost, fail.corrupt);
	tap_ok(fail.resurrected == 0, "%s: every acknowledged expunge stays "
	       "expunged", name);
	tap_ok(fail.flags == 0, "%s: every acknowledged flag change is there "
	       "(%u wrong)", name, fail.flags);
	tap_ok(fail.unexpected == 0, "%s: no unexpected or damaged message "
	       "appears", name);
	tap_ok(fail.counters == 0, "%s: the index counters agree with the "
	       "messages after every kill", name);
	final_rebuild_check(&m, &after);
	tap_ok(after.open == 0 && after.lost == 0 && after.corrupt == 0 &&
	       after.flags == 0 && after.resurrected == 0,
	       "%s: a rebuild afterwards keeps every message with its uid and "
	       "flags", name);
	free(m.live);
	free(m.gone);
	free(root);
}

int main(void)
{
	const char *env = getenv("DBOX_CRASH_ITERATIONS");
	unsigned int iterations = env != NULL ? (unsigned int)atoi(env) : 150;

	tap_quiet_logs();
	signal(SIGPIPE, SIG_IGN);
	run_format(DBOX_FORMAT_SDBOX, "sdbox", iterations);
	run_format(DBOX_FORMAT_MDBOX, "mdbox", iterations);
	return tap_done();
}
