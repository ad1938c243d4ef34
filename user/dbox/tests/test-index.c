// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The LMDB index: records round-trip, transactions are atomic, the index
 * is shared between handles and processes, a writer killed inside its
 * transaction neither blocks others nor leaves half a change, damage is
 * reported as corruption.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "index/dbox-index.h"
#include "tap.h"

static int root_fd;
static char *root;

static struct dbox_index *open_index(bool *created_r)
{
	struct dbox_index *index;
	const char *error;
	bool created;

	if (dbox_index_open(root_fd, &index, created_r != NULL ? created_r :
			    &created, &error) < 0) {
		tap_diag("index open: %s", error);
		return NULL;
	}
	return index;
}

static struct dbox_txn *begin(struct dbox_index *index, bool write)
{
	struct dbox_txn *txn;
	const char *error;

	if (dbox_txn_begin(index, write, &txn, &error) < 0) {
		tap_diag("txn: %s", error);
		exit(2);
	}
	return txn;
}

static bool commit(struct dbox_txn **txn)
{
	const char *error;

	return dbox_txn_commit(txn, &error) == 0;
}

static void test_create_and_meta(void)
{
	struct dbox_index *index;
	struct dbox_txn *txn;
	uint32_t a = 0, b = 0;
	uint64_t v;
	bool created;

	index = open_index(&created);
	tap_ok(index != NULL && created, "a new index says it is new");
	txn = begin(index, true);
	tap_ok(dbox_idx_meta_set(txn, "version", DBOX_INDEX_VERSION, NULL) == 0 &&
	       dbox_idx_meta_alloc(txn, "ctr", 5, &a, NULL) == 0 &&
	       dbox_idx_meta_alloc(txn, "ctr", 1, &b, NULL) == 0 &&
	       a == 1 && b == 6, "counters hand out consecutive ranges");
	tap_ok(commit(&txn), "commit");
	dbox_index_close(&index);
	index = open_index(&created);
	txn = begin(index, false);
	tap_ok(!created && dbox_idx_meta_get(txn, "ctr", &v, NULL) == 1 &&
	       v == 7, "counters persist after the environment is closed");
	dbox_txn_abort(&txn);
	dbox_index_close(&index);
}

static void test_mailbox_records(void)
{
	struct dbox_idx_mailbox_rec rec = { 0 }, got;
	struct dbox_index *index = open_index(NULL);
	struct dbox_txn *txn = begin(index, true);
	int i, idx, ret;

	rec.mb.id = 7;
	rec.mb.uidvalidity = 12345;
	rec.mb.uidnext = 10;
	tap_ok(dbox_idx_mailbox_keyword(&rec, "$Forwarded", true, NULL) == 0 &&
	       dbox_idx_mailbox_keyword(&rec, "Work", true, NULL) == 1 &&
	       dbox_idx_mailbox_keyword(&rec, "work", false, NULL) == 1,
	       "keywords get table indexes, case-insensitively");
	tap_ok(dbox_idx_mailbox_put(txn, "Sub/Entwürfe", &rec, NULL) == 0 &&
	       dbox_idx_mailbox_get(txn, "Sub/Entwürfe", &got, NULL) == 1 &&
	       got.mb.id == 7 && got.mb.uidvalidity == 12345 &&
	       got.mb.keyword_count == 2 &&
	       strcmp(got.keywords[1], "Work") == 0,
	       "a mailbox record with keywords round-trips");
	dbox_idx_mailbox_rec_free(&got);
	tap_ok(dbox_idx_mailbox_get(txn, "missing", &got, NULL) == 0,
	       "a missing mailbox is not found");
	for (i = 2, ret = 0; i <= DBOX_MAX_KEYWORDS && ret >= 0; i++) {
		char kw[16];

		snprintf(kw, sizeof(kw), "k%d", i);
		ret = idx = dbox_idx_mailbox_keyword(&rec, kw, true, NULL);
	}
	tap_ok(ret < 0 && dbox_last_error() == DBOX_ERROR_LIMIT &&
	       rec.mb.keyword_count == DBOX_MAX_KEYWORDS,
	       "the keyword table stops at %d with a LIMIT error",
	       DBOX_MAX_KEYWORDS);
	dbox_idx_mailbox_rec_free(&rec);
	tap_ok(commit(&txn), "commit");
	dbox_index_close(&index);
}

struct iter_result {
	uint32_t uids[16];
	unsigned int count;
};

static int collect(void *ctx, const struct dbox_idx_mail_rec *rec)
{
	struct iter_result *r = ctx;

	if (r->count < 16)
		r->uids[r->count++] = rec->uid;
	return 0;
}

static int collect_expunged(void *ctx, uint64_t modseq, uint32_t uid)
{
	struct iter_result *r = ctx;

	(void)modseq;
	r->uids[r->count++] = uid;
	return 0;
}

static void test_mail_records(void)
{
	struct dbox_index *index = open_index(NULL);
	struct dbox_txn *txn = begin(index, true);
	struct dbox_idx_mail_rec rec, got;
	struct iter_result r = { { 0 }, 0 }, e = { { 0 }, 0 };
	uint16_t kw[3] = { 4, 0, 65535 };
	uint32_t uid;

	memset(&rec, 0, sizeof(rec));
	rec.m.guid_len = 3;		/* odd: the keywords end up unaligned */
	rec.m.keyword_count = 3;
	rec.m.flags = 0x9;
	rec.m.modseq = 77;
	rec.guid = "abc";
	rec.keywords = kw;
	for (uid = 1; uid <= 5; uid++) {
		rec.uid = uid;
		dbox_idx_mail_put(txn, 3, &rec, NULL);
	}
	rec.uid = 1;
	dbox_idx_mail_put(txn, 4, &rec, NULL);	/* another mailbox */
	tap_ok(dbox_idx_mail_get(txn, 3, 2, &got, NULL) == 1 &&
	       got.uid == 2 && got.m.flags == 0x9 && got.m.modseq == 77 &&
	       got.m.guid_len == 3 && memcmp(got.guid, "abc", 3) == 0 &&
	       dbox_idx_mail_keyword(&got, 0) == 4 &&
	       dbox_idx_mail_keyword(&got, 2) == 65535,
	       "a mail record with guid and unaligned keywords round-trips");
	dbox_idx_mail_delete(txn, 3, 4, NULL);
	dbox_idx_mail_iter(txn, 3, 2, collect, &r, NULL);
	tap_ok(r.count == 3 && r.uids[0] == 2 && r.uids[1] == 3 &&
	       r.uids[2] == 5, "iteration is in uid order, from a uid, "
	       "within one mailbox");
	dbox_idx_expunged_add(txn, 3, 10, 4, NULL);
	dbox_idx_expunged_add(txn, 3, 12, 1, NULL);
	dbox_idx_expunged_add(txn, 4, 11, 9, NULL);
	dbox_idx_expunged_iter(txn, 3, 10, collect_expunged, &e, NULL);
	tap_ok(e.count == 1 && e.uids[0] == 1,
	       "expunges after a modseq are found, for one mailbox");
	dbox_idx_mail_delete_all(txn, 3, NULL);
	r.count = 0;
	dbox_idx_mail_iter(txn, 3, 0, collect, &r, NULL);
	e.count = 0;
	dbox_idx_expunged_iter(txn, 3, 0, collect_expunged, &e, NULL);
	tap_ok(r.count == 0 && e.count == 0 &&
	       dbox_idx_mail_get(txn, 4, 1, &got, NULL) == 1,
	       "deleting a mailbox's mails leaves other mailboxes alone");
	dbox_txn_abort(&txn);
	txn = begin(index, false);
	tap_ok(dbox_idx_mail_get(txn, 3, 2, &got, NULL) == 0,
	       "an aborted transaction leaves nothing behind");
	dbox_txn_abort(&txn);
	dbox_index_close(&index);
}

static void test_map_records(void)
{
	struct dbox_index *index = open_index(NULL);
	struct dbox_txn *txn = begin(index, true);
	struct dbox_idx_map map = { 0, 3, 2, 30, 1000, 555 }, got;
	struct dbox_idx_file file = { 0, 0, 4096 }, fgot;

	tap_ok(dbox_idx_map_put(txn, 42, &map, NULL) == 0 &&
	       dbox_idx_map_get(txn, 42, &got, NULL) == 1 &&
	       got.file_id == 3 && got.refcount == 2 && got.offset == 1000 &&
	       got.size == 555, "a map record round-trips");
	tap_ok(dbox_idx_file_put(txn, 3, &file, NULL) == 0 &&
	       dbox_idx_file_get(txn, 3, &fgot, NULL) == 1 &&
	       fgot.committed_end == 4096, "a file record round-trips");
	tap_ok(dbox_idx_map_delete(txn, 42, NULL) == 0 &&
	       dbox_idx_map_get(txn, 42, &got, NULL) == 0,
	       "a deleted map record is gone");
	dbox_txn_abort(&txn);
	dbox_index_close(&index);
}

static void test_two_handles_share(void)
{
	struct dbox_index *a = open_index(NULL), *b = open_index(NULL);
	struct dbox_txn *txn = begin(a, true);
	uint64_t v = 0;

	dbox_idx_meta_set(txn, "shared", 99, NULL);
	commit(&txn);
	dbox_index_close(&a);
	txn = begin(b, false);
	tap_ok(dbox_idx_meta_get(txn, "shared", &v, NULL) == 1 && v == 99,
	       "two handles in one process share the environment");
	dbox_txn_abort(&txn);
	dbox_index_close(&b);
}

/* A process killed while holding the write transaction. */
static void test_killed_writer(void)
{
	struct dbox_index *index;
	struct dbox_txn *txn;
	int pipefd[2], status;
	uint64_t v = 0;
	char c;
	pid_t pid;

	if (pipe(pipefd) < 0)
		exit(2);
	pid = fork();
	if (pid == 0) {
		index = open_index(NULL);
		txn = begin(index, true);
		dbox_idx_meta_set(txn, "half", 1, NULL);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	if (read(pipefd[0], &c, 1) != 1)
		exit(2);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	alarm(20);	/* a stuck writer lock would hang here */
	index = open_index(NULL);
	txn = begin(index, true);
	tap_ok(txn != NULL, "a writer killed inside its transaction does not "
	       "block the next writer");
	tap_ok(dbox_idx_meta_get(txn, "half", &v, NULL) == 0,
	       "and its uncommitted change is gone");
	dbox_idx_meta_set(txn, "from_parent", 5, NULL);
	commit(&txn);
	alarm(0);
	dbox_index_close(&index);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void test_other_process_sees_commit(void)
{
	struct dbox_index *index = open_index(NULL);
	struct dbox_txn *txn;
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		/* our own environment after fork, not the parent's */
		struct dbox_index *mine = open_index(NULL);
		struct dbox_txn *t = begin(mine, true);

		dbox_idx_meta_set(t, "child", 8, NULL);
		_exit(commit(&t) ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	txn = begin(index, false);
	{
		uint64_t v = 0;

		tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		       dbox_idx_meta_get(txn, "child", &v, NULL) == 1 && v == 8,
		       "a commit by another process is visible");
	}
	dbox_txn_abort(&txn);
	dbox_index_close(&index);
}

static void test_damage_is_corruption(void)
{
	struct dbox_index *index;
	const char *error;
	char path[512], junk[8192];
	bool created;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s/data.mdb", root, DBOX_INDEX_DIR);
	fd = open(path, O_WRONLY);
	memset(junk, 0x5a, sizeof(junk));
	if (fd < 0 || pwrite(fd, junk, sizeof(junk), 0) != sizeof(junk))
		exit(2);
	close(fd);
	error = "";
	ret = dbox_index_open(root_fd, &index, &created, &error);
	tap_ok(ret < 0 && dbox_last_error() == DBOX_ERROR_CORRUPTED,
	       "overwritten meta pages are reported as corruption (%s)",
	       error);
}

int main(void)
{
	root = tap_tempdir("index");
	root_fd = open(root, O_RDONLY | O_DIRECTORY);
	test_create_and_meta();
	test_mailbox_records();
	test_mail_records();
	test_map_records();
	test_two_handles_share();
	test_killed_writer();
	test_other_process_sees_commit();
	test_damage_is_corruption();
	close(root_fd);
	free(root);
	return tap_done();
}
