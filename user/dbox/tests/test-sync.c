// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Change tracking between connections of one user: what a view learns at
 * sync (EXISTS, EXPUNGE in descending sequence order, flag changes), from
 * handles in the same process and from other processes, the change
 * notification descriptor, and several processes appending at once.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dbox.h"
#include "tap.h"

static enum dbox_format fmt;
static const char *fmt_name;
static char *root;

static struct dbox_storage *open_storage(void)
{
	struct dbox_storage_settings set = { .format = fmt };
	struct dbox_storage *storage;
	const char *error;

	if (dbox_storage_open(root, &set, &storage, &error) < 0) {
		tap_diag("open storage: %s", error);
		exit(2);
	}
	return storage;
}

static struct dbox_mailbox *open_box(struct dbox_storage *storage,
				     const char *name)
{
	struct dbox_mailbox *box;
	const char *error;

	if (dbox_mailbox_open(storage, name, 0, &box, &error) < 0) {
		tap_diag("open %s: %s", name, error);
		exit(2);
	}
	return box;
}

static uint32_t append(struct dbox_mailbox *box, uint64_t id)
{
	const char *error;
	uint32_t uid = 0;
	size_t len;
	char *msg = tap_message(id, 700 + (id % 13) * 300, &len);

	if (dbox_mail_append(box, msg, len, NULL, &uid, &error) < 0)
		tap_diag("append: %s", error);
	free(msg);
	return uid;
}

static int do_sync(struct dbox_mailbox *box, struct dbox_sync_result *r)
{
	const char *error;
	int ret = dbox_mailbox_sync(box, r, &error);

	if (ret < 0)
		tap_diag("sync: %s", error);
	return ret;
}

static void test_same_process(struct dbox_storage *storage)
{
	struct dbox_mailbox *a = open_box(storage, "INBOX");
	struct dbox_mailbox *b = open_box(storage, "INBOX");
	struct dbox_store_params seen = { DBOX_STORE_ADD, DBOX_MAIL_SEEN,
					  NULL, 0 };
	struct dbox_sync_result r;
	uint32_t uids[3], gone[2];
	const char *error;
	unsigned int i;

	for (i = 0; i < 3; i++)
		uids[i] = append(a, i + 1);
	tap_ok(do_sync(b, &r) == 0 && r.new_count == 3 &&
	       r.expunged_count == 0 && r.changed_count == 0,
	       "%s: another handle learns EXISTS for 3 appends", fmt_name);
	dbox_sync_result_free(&r);
	tap_ok(do_sync(a, &r) == 0 && r.new_count == 3,
	       "%s: the appending handle learns of them at its sync too",
	       fmt_name);
	dbox_sync_result_free(&r);
	dbox_mail_store(a, &uids[1], 1, &seen, NULL, NULL, &error);
	tap_ok(do_sync(b, &r) == 0 && r.changed_count == 1 &&
	       r.changed_uids[0] == uids[1] && r.new_count == 0,
	       "%s: a flag change is reported by uid", fmt_name);
	dbox_sync_result_free(&r);
	gone[0] = uids[0];
	gone[1] = uids[2];
	dbox_mail_expunge(a, gone, 2, &error);
	tap_ok(do_sync(b, &r) == 0 && r.expunged_count == 2 &&
	       r.expunged_seqs[0] == 3 && r.expunged_seqs[1] == 1 &&
	       r.expunged_uids[0] == uids[2] && r.expunged_uids[1] == uids[0],
	       "%s: expunges come as old sequence numbers, descending",
	       fmt_name);
	dbox_sync_result_free(&r);
	tap_ok(do_sync(b, &r) == 0 && r.new_count == 0 &&
	       r.expunged_count == 0 && r.changed_count == 0,
	       "%s: a sync without changes reports nothing", fmt_name);
	dbox_sync_result_free(&r);
	dbox_mailbox_close(&a);
	dbox_mailbox_close(&b);
}

static void test_other_process(struct dbox_storage *storage)
{
	struct dbox_mailbox *box = open_box(storage, "INBOX");
	struct dbox_sync_result r;
	struct pollfd pfd;
	int status, fd = dbox_storage_notify_fd(storage);
	pid_t pid;

	do_sync(box, &r);
	dbox_sync_result_free(&r);
	dbox_storage_notify_clear(storage);
	pid = fork();
	if (pid == 0) {
		struct dbox_storage *mine = open_storage();
		struct dbox_mailbox *cbox = open_box(mine, "INBOX");
		uint32_t uid = append(cbox, 99);

		dbox_mailbox_close(&cbox);
		dbox_storage_close(&mine);
		_exit(uid != 0 ? 0 : 1);
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	tap_ok(fd >= 0 && poll(&pfd, 1, 10000) == 1,
	       "%s: the notify fd wakes up when another process appends",
	       fmt_name);
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	       do_sync(box, &r) == 0 && r.new_count == 1,
	       "%s: the view learns of the other process's append", fmt_name);
	dbox_sync_result_free(&r);
	dbox_storage_notify_clear(storage);
	tap_ok(poll(&pfd, 1, 0) == 0, "%s: clearing the notify fd quiets it",
	       fmt_name);
	dbox_mailbox_close(&box);
}

#define WRITERS 4
#define PER_WRITER 40

static void writer(unsigned int w)
{
	struct dbox_storage *storage = open_storage();
	struct dbox_mailbox *box = open_box(storage, "Shared");
	unsigned int i;

	for (i = 0; i < PER_WRITER; i++) {
		if (append(box, 10000 + w * 1000 + i) == 0)
			_exit(1);
	}
	dbox_mailbox_close(&box);
	dbox_storage_close(&storage);
	_exit(0);
}

static void test_concurrent_writers(struct dbox_storage *storage)
{
	const struct dbox_mail *mails;
	struct dbox_fetch_req req = { 0, DBOX_FETCH_WHOLE, 0, UINT64_MAX };
	struct dbox_mailbox *box;
	pid_t pids[WRITERS];
	unsigned int i, count, ok_writers = 0, good = 0;
	const char *error;
	int status;

	dbox_mailbox_create(storage, "Shared", 0, &error);
	for (i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			writer(i);
	}
	for (i = 0; i < WRITERS; i++) {
		waitpid(pids[i], &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ok_writers++;
	}
	box = open_box(storage, "Shared");
	dbox_mailbox_get_mails(box, &mails, &count);
	for (i = 0; i < count; i++) {
		void *data;
		size_t size, len;
		char *expect;

		req.uid = mails[i].uid;
		if (dbox_mail_fetch(box, &req, &data, &size, &error) < 0)
			continue;
		expect = tap_message(tap_message_id(data, size),
				     700 + (tap_message_id(data, size) % 13) *
				     300, &len);
		if (len == size && memcmp(expect, data, len) == 0 &&
		    (i == 0 || mails[i].uid > mails[i - 1].uid))
			good++;
		free(expect);
		free(data);
	}
	tap_ok(ok_writers == WRITERS && count == WRITERS * PER_WRITER &&
	       good == count, "%s: %d processes appending at once: %u "
	       "messages, distinct uids, all intact", fmt_name, WRITERS,
	       count);
	dbox_mailbox_close(&box);
}

static void test_recreated_mailbox(struct dbox_storage *storage)
{
	struct dbox_mailbox *box;
	struct dbox_sync_result r;
	const char *error;

	dbox_mailbox_create(storage, "Again", 0, &error);
	box = open_box(storage, "Again");
	append(box, 5);
	do_sync(box, &r);
	dbox_sync_result_free(&r);
	dbox_mailbox_delete(storage, "Again", &error);
	dbox_mailbox_create(storage, "Again", 0, &error);
	tap_ok(do_sync(box, &r) == 0 && r.uidvalidity_changed &&
	       r.expunged_count == 1,
	       "%s: a mailbox deleted and made again under an open view "
	       "reports a new UIDVALIDITY", fmt_name);
	dbox_sync_result_free(&r);
	dbox_mailbox_close(&box);
}

static void run_format(enum dbox_format f, const char *name)
{
	struct dbox_storage *storage;

	fmt = f;
	fmt_name = name;
	root = tap_tempdir(name);
	storage = open_storage();
	test_same_process(storage);
	test_other_process(storage);
	test_concurrent_writers(storage);
	test_recreated_mailbox(storage);
	dbox_storage_close(&storage);
	free(root);
}

int main(void)
{
	tap_quiet_logs();
	run_format(DBOX_FORMAT_SDBOX, "sdbox");
	run_format(DBOX_FORMAT_MDBOX, "mdbox");
	return tap_done();
}
