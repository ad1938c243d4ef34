// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The asynchronous changes (dbox.h, "asynchronous changes"), for sdbox and
 * mdbox, once per I/O backend (the suite sets DBOX_IO_BACKEND):
 *   - callbacks run from dbox_io_run(), never inside the start function;
 *   - append, copy, move, expunge and store report what the synchronous
 *     calls report, and their changes are on disk when reported;
 *   - operations of two "clients" (two handles of one mailbox) overlap in
 *     flight and all complete, with distinct uids;
 *   - a mailbox closed with an operation in flight stays until it is done;
 *   - an abandoned operation still completes, without a callback;
 *   - a synchronous call that needs the index writer while an sdbox append
 *     holds it across its directory fsync waits for it (io_uring with
 *     DBOX_TEST_FSYNC_DELAY_MS, so the fsync is reliably in flight);
 *   - dbox_storage_close() completes what is in flight;
 *   - message content lives in the caller's allocator (settings.mail_alloc):
 *     the data a fetch callback sees, and an append's staging buffers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dbox.h"
#include "tap.h"

static enum dbox_format fmt;
static const char *fmt_name;
static char *root;
static struct dbox_storage *storage;
static bool in_start;		/* set while a start function runs */

#define ATTR_UNUSED_T __attribute__((unused))

struct done {
	bool called, called_in_start;
	unsigned int calls;
	int ret;
	enum dbox_error err;
	uint32_t uids[16];
	unsigned int uid_count;
	uint32_t failed[16];
	unsigned int failed_count;
	unsigned int order;	/* global completion order */
};

static unsigned int completions;

static void done_cb(void *context, const struct dbox_op_result *r)
{
	struct done *d = context;
	unsigned int i;

	d->called = true;
	d->called_in_start = in_start;
	d->calls++;
	d->ret = r->ret;
	d->err = r->err;
	d->order = ++completions;
	d->uid_count = r->uid_count < 16 ? r->uid_count : 16;
	for (i = 0; i < d->uid_count; i++)
		d->uids[i] = r->uids[i];
	d->failed_count = r->failed_count < 16 ? r->failed_count : 16;
	for (i = 0; i < d->failed_count; i++)
		d->failed[i] = r->failed_uids[i];
}

/* ---- a tracking allocator for message content ---- */

#define MAX_BLOCKS 4096
static struct block {
	void *ptr;
	size_t size;
} blocks[MAX_BLOCKS];
static unsigned int block_count, mail_allocs;

static struct block *block_find(const void *ptr)
{
	unsigned int i;

	for (i = 0; i < block_count; i++) {
		if (blocks[i].ptr == ptr)
			return &blocks[i];
	}
	return NULL;
}

static void *mail_realloc(void *ptr, size_t size)
{
	struct block *b = ptr == NULL ? NULL : block_find(ptr);
	void *p = realloc(ptr, size);

	if (p == NULL)
		abort();
	if (b == NULL) {
		if (block_count == MAX_BLOCKS)
			abort();
		b = &blocks[block_count++];
		mail_allocs++;
	}
	b->ptr = p;
	b->size = size;
	return p;
}

static void *mail_alloc(size_t size)
{
	return mail_realloc(NULL, size);
}

static void mail_free(void *ptr)
{
	struct block *b = block_find(ptr);

	if (b == NULL)
		abort();	/* not ours: the storage mixed allocators */
	*b = blocks[--block_count];
	free(ptr);
}

/* Inside a block of the mail allocator? */
static bool mail_owned(const void *ptr)
{
	unsigned int i;

	for (i = 0; i < block_count; i++) {
		if ((const char *)ptr >= (const char *)blocks[i].ptr &&
		    (const char *)ptr < (const char *)blocks[i].ptr +
		    blocks[i].size)
			return true;
	}
	return false;
}

static const struct dbox_allocator test_mail_alloc = {
	mail_alloc, mail_realloc, mail_free,
};

static void open_storage(void)
{
	struct dbox_storage_settings set = { .format = fmt,
					     .mail_alloc = &test_mail_alloc };
	const char *error;

	if (dbox_storage_open(root, &set, &storage, &error) < 0) {
		tap_ok(false, "%s: open storage: %s", fmt_name, error);
		exit(tap_done());
	}
}

/* Close and reopen the storage, with every io_uring fsync completing
   fsync_delay_ms late (DBOX_TEST_FSYNC_DELAY_MS, read when the storage
   creates its io), or without the knob for NULL. */
static void reopen_storage(const char *fsync_delay_ms)
{
	dbox_storage_close(&storage);
	if (fsync_delay_ms != NULL)
		setenv("DBOX_TEST_FSYNC_DELAY_MS", fsync_delay_ms, 1);
	open_storage();
	unsetenv("DBOX_TEST_FSYNC_DELAY_MS");
}

static struct dbox_mailbox *open_box(const char *name)
{
	struct dbox_mailbox *box;
	const char *error;

	if (dbox_mailbox_open(storage, name, 0, &box, &error) < 0) {
		tap_diag("open %s: %s", name, error);
		exit(tap_done());
	}
	return box;
}

static void sync_box(struct dbox_mailbox *box)
{
	struct dbox_sync_result r;
	const char *error;

	if (dbox_mailbox_sync(box, &r, &error) == 0)
		dbox_sync_result_free(&r);
}

/* Run the loop until every given operation called back. */
static bool wait_all(struct done *const *ds, unsigned int n)
{
	struct dbox_io *io = dbox_storage_get_io(storage);
	unsigned int i, spins = 0;
	bool all;

	for (;;) {
		all = true;
		for (i = 0; i < n; i++)
			all = all && ds[i]->called;
		if (all)
			return true;
		if (dbox_io_run(io, 100) < 0 || ++spins > 1000)
			return false;
	}
}

static bool wait_one(struct done *d)
{
	struct done *ds[1] = { d };

	return wait_all(ds, 1);
}

static struct dbox_append_msg make_msg(uint64_t id, char **buf_r)
{
	struct dbox_append_msg msg;
	size_t len;

	memset(&msg, 0, sizeof(msg));
	*buf_r = tap_message(id, 3000 + (size_t)id * 100, &len);
	msg.data = *buf_r;
	msg.size = len;
	return msg;
}

static int start_append(struct dbox_mailbox *box, uint64_t id,
			struct done *d, struct dbox_op **op_r)
{
	struct dbox_append_msg msg;
	const char *error;
	char *buf;
	int ret;

	memset(d, 0, sizeof(*d));
	msg = make_msg(id, &buf);
	in_start = true;
	ret = dbox_mail_append_start(box, &msg, 1, done_cb, d, op_r, &error);
	in_start = false;
	/* the start function copied the message: free it now */
	memset(buf, 'X', msg.size);
	free(buf);
	if (ret < 0)
		tap_diag("append_start: %s", error);
	return ret;
}

/* The message with uid reads back as tap_message(id). */
static bool reads_back(struct dbox_mailbox *box, uint32_t uid, uint64_t id)
{
	struct dbox_fetch_req req = { uid, DBOX_FETCH_WHOLE, 0, UINT64_MAX };
	const char *error;
	size_t size, len;
	void *data;
	char *want;
	bool ok;

	if (dbox_mail_fetch(box, &req, &data, &size, &error) < 0) {
		tap_diag("fetch %u: %s", uid, error);
		return false;
	}
	want = tap_message(id, 3000 + (size_t)id * 100, &len);
	ok = size == len && memcmp(data, want, len) == 0;
	free(want);
	free(data);
	return ok;
}

static void test_append_callback_rules(void)
{
	struct dbox_mailbox *box = open_box("INBOX");
	struct dbox_op *op;
	struct done d;

	if (start_append(box, 1, &d, &op) < 0)
		return;
	tap_ok(!d.called, "%s: append_start returns before its callback",
	       fmt_name);
	tap_ok(wait_one(&d) && !d.called_in_start && d.calls == 1 &&
	       d.ret == 0 && d.uid_count == 1,
	       "%s: the callback runs once, from dbox_io_run, with the uid",
	       fmt_name);
	sync_box(box);
	tap_ok(d.uid_count == 1 && reads_back(box, d.uids[0], 1),
	       "%s: the appended message reads back from a buffer the caller "
	       "already freed", fmt_name);
	dbox_mailbox_close(&box);
}

/* Keywords (append and store) are copied at start: the caller's strings
   may be gone before the transaction runs. */
static void test_keywords_copied(void)
{
	struct dbox_mailbox *box = open_box("INBOX");
	struct dbox_append_msg msg;
	struct dbox_store_params sp = { DBOX_STORE_ADD, 0, NULL, 0 };
	const struct dbox_mail *mail;
	char kw1[16], kw2[16], *buf;
	const char *kws[2] = { kw1, NULL }, *kws2[2] = { kw2, NULL };
	const char *error;
	struct done d, s;

	strcpy(kw1, "$Async1");
	strcpy(kw2, "$Async2");
	memset(&d, 0, sizeof(d));
	memset(&s, 0, sizeof(s));
	msg = make_msg(90, &buf);
	msg.params.keywords = kws;
	if (dbox_mail_append_start(box, &msg, 1, done_cb, &d, NULL,
				   &error) < 0) {
		tap_ok(false, "%s: append with keywords: %s", fmt_name, error);
		free(buf);
		return;
	}
	free(buf);
	strcpy(kw1, "garbage!");
	tap_ok(wait_one(&d) && d.ret == 0, "%s: append with keywords",
	       fmt_name);
	sp.keywords = kws2;
	if (dbox_mail_store_start(box, d.uids, 1, &sp, done_cb, &s, NULL,
				  &error) < 0)
		tap_diag("store_start: %s", error);
	strcpy(kw2, "garbage?");
	tap_ok(wait_one(&s) && s.ret == 0, "%s: store of a keyword",
	       fmt_name);
	sync_box(box);
	mail = dbox_mailbox_lookup_uid(box, d.uids[0], NULL);
	tap_ok(mail != NULL && mail->keywords[0] != NULL &&
	       mail->keywords[1] != NULL && mail->keywords[2] == NULL &&
	       (strcmp(mail->keywords[0], "$Async1") == 0 ||
		strcmp(mail->keywords[1], "$Async1") == 0) &&
	       (strcmp(mail->keywords[0], "$Async2") == 0 ||
		strcmp(mail->keywords[1], "$Async2") == 0),
	       "%s: keywords are taken as they were at start", fmt_name);
	dbox_mailbox_close(&box);
}

static void test_overlapping_clients(void)
{
	struct dbox_mailbox *a = open_box("INBOX"), *b = open_box("INBOX");
	struct done d[6];
	struct done *ds[6];
	unsigned int i;
	bool distinct = true, read_ok = true;

	/* two connections' appends interleaved, all in flight at once */
	for (i = 0; i < 6; i++) {
		ds[i] = &d[i];
		if (start_append(i % 2 == 0 ? a : b, 10 + i, &d[i], NULL) < 0)
			return;
	}
	tap_ok(dbox_storage_ops_in_flight(storage) == 6,
	       "%s: six appends of two handles are in flight together",
	       fmt_name);
	tap_ok(wait_all(ds, 6), "%s: all six complete", fmt_name);
	sync_box(a);
	for (i = 0; i < 6; i++) {
		unsigned int j;

		if (d[i].ret != 0 || d[i].uid_count != 1) {
			distinct = false;
			continue;
		}
		for (j = 0; j < i; j++)
			distinct = distinct && d[j].uids[0] != d[i].uids[0];
		read_ok = read_ok && reads_back(a, d[i].uids[0], 10 + i);
	}
	tap_ok(distinct, "%s: overlapping appends got distinct uids",
	       fmt_name);
	tap_ok(read_ok, "%s: every overlapping append reads back intact",
	       fmt_name);
	tap_ok(dbox_storage_ops_in_flight(storage) == 0,
	       "%s: nothing left in flight", fmt_name);
	dbox_mailbox_close(&a);
	dbox_mailbox_close(&b);
}

static void test_close_in_flight(void)
{
	struct dbox_mailbox *box = open_box("INBOX");
	struct dbox_op *op;
	struct done d;

	if (start_append(box, 30, &d, &op) < 0)
		return;
	/* the client goes away: the op holds the mailbox (ASan would see a
	   use after free otherwise) */
	dbox_mailbox_close(&box);
	tap_ok(wait_one(&d) && d.ret == 0,
	       "%s: an append whose mailbox was closed in flight completes",
	       fmt_name);
	box = open_box("INBOX");
	tap_ok(d.uid_count == 1 && reads_back(box, d.uids[0], 30),
	       "%s: and its message is there", fmt_name);
	dbox_mailbox_close(&box);
}

static void test_abandon(void)
{
	struct dbox_io *io = dbox_storage_get_io(storage);
	struct dbox_mailbox *box = open_box("INBOX");
	struct dbox_status before, after;
	struct dbox_op *op;
	struct done d;
	unsigned int spins = 0;

	sync_box(box);
	dbox_mailbox_get_status(box, &before);
	if (start_append(box, 40, &d, &op) < 0)
		return;
	dbox_op_abandon(&op);
	tap_ok(op == NULL, "%s: dbox_op_abandon clears the handle", fmt_name);
	while (dbox_storage_ops_in_flight(storage) > 0 && spins++ < 1000)
		(void)dbox_io_run(io, 100);
	sync_box(box);
	dbox_mailbox_get_status(box, &after);
	tap_ok(!d.called && after.messages == before.messages + 1,
	       "%s: an abandoned append completes without a callback",
	       fmt_name);
	dbox_mailbox_close(&box);
}

static void test_copy_move_expunge_store(void)
{
	struct dbox_mailbox *src = open_box("INBOX"), *dst;
	struct dbox_store_params sp = { DBOX_STORE_ADD, DBOX_MAIL_FLAGGED,
					NULL, 0 };
	const struct dbox_mail *mail;
	struct done c, m, e, s, a;
	struct done *all[3] = { &c, &m, &s };
	const char *error;
	uint32_t uids[2];

	if (dbox_mailbox_create(storage, "Dest", 0, &error) < 0 &&
	    dbox_last_error() != DBOX_ERROR_EXISTS)
		tap_diag("create: %s", error);
	dst = open_box("Dest");
	if (start_append(src, 50, &a, NULL) < 0 || !wait_one(&a) ||
	    start_append(src, 51, &a, NULL) < 0 || !wait_one(&a))
		return;
	sync_box(src);
	{
		const struct dbox_mail *mails;
		unsigned int count;

		dbox_mailbox_get_mails(src, &mails, &count);
		uids[0] = mails[count - 2].uid;
		uids[1] = mails[count - 1].uid;
	}
	memset(&c, 0, sizeof(c));
	memset(&m, 0, sizeof(m));
	memset(&s, 0, sizeof(s));
	/* copy, move and store in flight together on the same messages:
	   they run in start order, so the move sees the copy done */
	if (dbox_mail_copy_start(src, &uids[0], 1, dst, done_cb, &c, NULL,
				 &error) < 0 ||
	    dbox_mail_store_start(src, &uids[0], 1, &sp, done_cb, &s, NULL,
				  &error) < 0 ||
	    dbox_mail_move_start(src, &uids[1], 1, dst, done_cb, &m, NULL,
				 &error) < 0) {
		tap_ok(false, "%s: start copy/store/move: %s", fmt_name, error);
		return;
	}
	tap_ok(wait_all(all, 3) && c.ret == 0 && m.ret == 0 && s.ret == 0,
	       "%s: copy, store and move in flight together all succeed",
	       fmt_name);
	tap_ok(c.order < s.order && s.order < m.order,
	       "%s: and complete in start order", fmt_name);
	sync_box(src);
	sync_box(dst);
	mail = dbox_mailbox_lookup_uid(src, uids[0], NULL);
	tap_ok(mail != NULL && (mail->flags & DBOX_MAIL_FLAGGED) != 0 &&
	       dbox_mailbox_lookup_uid(src, uids[1], NULL) == NULL,
	       "%s: the store is there and the moved message left", fmt_name);
	tap_ok(c.uid_count == 1 && m.uid_count == 1 &&
	       reads_back(dst, c.uids[0], 50) && reads_back(dst, m.uids[0], 51),
	       "%s: copy and move report the destination uids, which read "
	       "back", fmt_name);
	memset(&e, 0, sizeof(e));
	in_start = true;
	if (dbox_mail_expunge_start(src, &uids[0], 1, done_cb, &e, NULL,
				    &error) < 0)
		tap_diag("expunge_start: %s", error);
	in_start = false;
	tap_ok(wait_one(&e) && e.ret == 0 && !e.called_in_start,
	       "%s: an expunge with nothing but an index change still calls "
	       "back from the loop", fmt_name);
	sync_box(src);
	tap_ok(dbox_mailbox_lookup_uid(src, uids[0], NULL) == NULL,
	       "%s: the expunged message is gone", fmt_name);
	/* CONDSTORE through the async path */
	memset(&s, 0, sizeof(s));
	sp.unchanged_since = 1;
	if (dbox_mail_store_start(dst, &c.uids[0], 1, &sp, done_cb, &s, NULL,
				  &error) < 0)
		tap_diag("store_start: %s", error);
	tap_ok(wait_one(&s) && s.ret == 0 && s.failed_count == 1 &&
	       s.failed[0] == c.uids[0],
	       "%s: a conditional store reports the failed uid", fmt_name);
	dbox_mailbox_close(&src);
	dbox_mailbox_close(&dst);
}

static void test_start_errors(void)
{
	struct dbox_mailbox *box;
	struct dbox_append_msg msg = { "x\r\n", 3, { 0, 0x100, NULL, NULL } };
	const char *error;
	struct done d;

	memset(&d, 0, sizeof(d));
	box = open_box("INBOX");
	tap_ok(dbox_mail_append_start(box, &msg, 1, done_cb, &d, NULL,
				      &error) < 0 &&
	       dbox_last_error() == DBOX_ERROR_PARAMS && !d.called,
	       "%s: a bad flag fails the start function, without a callback",
	       fmt_name);
	dbox_mailbox_close(&box);
	if (dbox_mailbox_open(storage, "INBOX", DBOX_OPEN_READONLY, &box,
			      &error) < 0)
		return;
	msg.params.flags = 0;
	tap_ok(dbox_mail_append_start(box, &msg, 1, done_cb, &d, NULL,
				      &error) < 0 &&
	       dbox_last_error() == DBOX_ERROR_NOTPOSSIBLE,
	       "%s: a read-only mailbox refuses at start", fmt_name);
	dbox_mailbox_close(&box);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* sdbox + io_uring + DBOX_TEST_FSYNC_DELAY_MS=300: the append holds the
   index writer across its 300 ms directory fsync; a synchronous create
   then must wait for it rather than deadlock on LMDB's lock. */
static void test_sync_call_waits_for_writer(void)
{
	struct dbox_mailbox *box;
	struct dbox_io *io;
	const char *error;
	struct done d;
	uint64_t t0;
	int ret;

	if (fmt != DBOX_FORMAT_SDBOX ||
	    dbox_io_get_backend(dbox_storage_get_io(storage)) !=
	    DBOX_IO_BACKEND_URING) {
		tap_skip("needs sdbox and io_uring (the fsync delay knob)",
			 "%s: a synchronous call waits for the index writer",
			 fmt_name);
		return;
	}
	reopen_storage("300");
	io = dbox_storage_get_io(storage);
	box = open_box("INBOX");
	if (start_append(box, 60, &d, NULL) < 0)
		return;
	/* 300 ms for the data fdatasync, then the directory fsync with the
	   transaction open: be in the middle of the second */
	t0 = now_ms();
	while (now_ms() - t0 < 450)
		(void)dbox_io_run(io, 10);
	tap_ok(!d.called, "%s: the append is still in its directory fsync",
	       fmt_name);
	ret = dbox_mailbox_create(storage, "WhileBusy", 0, &error);
	tap_ok(ret == 0, "%s: a synchronous create meanwhile waits for the "
	       "index writer and succeeds (%s)", fmt_name,
	       ret == 0 ? "ok" : error);
	tap_ok(!d.called, "%s: the waiting ran no caller callback", fmt_name);
	tap_ok(wait_one(&d) && d.ret == 0, "%s: the append then reports "
	       "success", fmt_name);
	dbox_mailbox_close(&box);
	reopen_storage(NULL);
}

/* io_uring + DBOX_TEST_FSYNC_DELAY_MS=300: a STORE writes nothing but the
   index, so what it waits for is the index's own fdatasync after the
   commit, which goes through the ring rather than blocking the loop. */
static void test_index_sync_through_io(void)
{
	struct dbox_store_params flagged = { DBOX_STORE_ADD, DBOX_MAIL_FLAGGED,
					     NULL, 0 };
	struct dbox_store_params seen = { DBOX_STORE_ADD, DBOX_MAIL_SEEN,
					  NULL, 0 };
	struct done a, s1, s2;
	struct done *both[2] = { &s1, &s2 };
	const struct dbox_mail *mail;
	struct dbox_mailbox *box;
	struct dbox_io *io;
	const char *error;
	uint64_t t0;

	if (dbox_io_get_backend(dbox_storage_get_io(storage)) !=
	    DBOX_IO_BACKEND_URING) {
		tap_skip("needs io_uring (the fsync delay knob)",
			 "%s: a store reports only once the index fdatasync "
			 "it queued on the ring completed", fmt_name);
		return;
	}
	reopen_storage("300");
	io = dbox_storage_get_io(storage);
	box = open_box("INBOX");
	if (start_append(box, 80, &a, NULL) < 0 || !wait_one(&a) ||
	    a.ret != 0) {
		tap_ok(false, "%s: append before the store", fmt_name);
		goto out;
	}
	memset(&s1, 0, sizeof(s1));
	memset(&s2, 0, sizeof(s2));
	t0 = now_ms();
	if (dbox_mail_store_start(box, a.uids, 1, &flagged, done_cb, &s1,
				  NULL, &error) < 0 ||
	    dbox_mail_store_start(box, a.uids, 1, &seen, done_cb, &s2,
				  NULL, &error) < 0) {
		tap_ok(false, "%s: store_start: %s", fmt_name, error);
		goto out;
	}
	while (now_ms() - t0 < 150)
		(void)dbox_io_run(io, 10);
	tap_ok(!s1.called && !s2.called, "%s: a store reports only once the "
	       "index fdatasync it queued on the ring completed", fmt_name);
	tap_ok(wait_all(both, 2) && s1.ret == 0 && s2.ret == 0 &&
	       s1.order < s2.order && now_ms() - t0 >= 300,
	       "%s: two stores in flight both succeed, in start order",
	       fmt_name);
	sync_box(box);
	mail = dbox_mailbox_lookup_uid(box, a.uids[0], NULL);
	tap_ok(mail != NULL && (mail->flags & DBOX_MAIL_FLAGGED) != 0 &&
	       (mail->flags & DBOX_MAIL_SEEN) != 0,
	       "%s: and both flags are there", fmt_name);
out:
	dbox_mailbox_close(&box);
	reopen_storage(NULL);
}

static void test_close_storage_in_flight(void)
{
	struct dbox_mailbox *box = open_box("INBOX");
	struct dbox_status st;
	struct done d;

	if (start_append(box, 70, &d, NULL) < 0)
		return;
	dbox_mailbox_close(&box);
	dbox_storage_close(&storage);
	tap_ok(d.called && d.ret == 0, "%s: closing the storage completes "
	       "the operation in flight first", fmt_name);
	open_storage();
	if (dbox_mailbox_status(storage, "INBOX", &st, NULL) == 0)
		tap_ok(d.uid_count == 1 && st.uidnext > d.uids[0],
		       "%s: its message was committed", fmt_name);
}

struct owned_check {
	bool called, owned;
};

static void owned_cb(void *context, unsigned int idx ATTR_UNUSED_T,
		     const void *data, size_t size ATTR_UNUSED_T,
		     enum dbox_error err ATTR_UNUSED_T, const char *error)
{
	struct owned_check *oc = context;

	oc->called = true;
	oc->owned = error == NULL && mail_owned(data);
}

static void test_mail_allocator(void)
{
	struct dbox_mailbox *box = open_box("INBOX");
	struct dbox_fetch_req req = { 0, DBOX_FETCH_WHOLE, 0, UINT64_MAX };
	struct owned_check oc = { false, false };
	struct dbox_fetch *fetch;
	const struct dbox_mail *mails;
	unsigned int count, before = mail_allocs;
	const char *error;
	struct done d;

	if (start_append(box, 80, &d, NULL) < 0)
		return;
	tap_ok(mail_allocs > before && block_count > 0, "%s: an append stages "
	       "the message in the mail allocator", fmt_name);
	tap_ok(wait_one(&d) && d.ret == 0 && block_count == 0,
	       "%s: and gives it all back when done", fmt_name);
	sync_box(box);
	dbox_mailbox_get_mails(box, &mails, &count);
	req.uid = mails[count - 1].uid;
	if (dbox_fetch_start(box, &req, 1, owned_cb, &oc, &fetch,
			     &error) < 0 ||
	    dbox_fetch_wait(fetch, &error) < 0) {
		tap_ok(false, "%s: fetch: %s", fmt_name, error);
		return;
	}
	dbox_fetch_free(&fetch);
	tap_ok(oc.called && oc.owned, "%s: fetched data lands in the mail "
	       "allocator's memory", fmt_name);
	tap_ok(block_count == 0, "%s: and is freed there", fmt_name);
	dbox_mailbox_close(&box);
}

static void run_format(enum dbox_format f, const char *name)
{
	fmt = f;
	fmt_name = name;
	root = tap_tempdir(name);
	open_storage();
	test_append_callback_rules();
	test_overlapping_clients();
	test_keywords_copied();
	test_close_in_flight();
	test_abandon();
	test_copy_move_expunge_store();
	test_start_errors();
	test_sync_call_waits_for_writer();
	test_index_sync_through_io();
	test_close_storage_in_flight();
	test_mail_allocator();
	dbox_storage_close(&storage);
	free(root);
}

int main(void)
{
	tap_quiet_logs();
	run_format(DBOX_FORMAT_SDBOX, "sdbox");
	run_format(DBOX_FORMAT_MDBOX, "mdbox");
	tap_cleanup();
	return tap_done();
}
