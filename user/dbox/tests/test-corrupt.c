// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bad input: truncated and corrupt message files, left-over garbage, a
 * damaged or missing index, planted symlinks, hostile mailbox names. Each
 * must give a clear error (or be skipped), crash nothing, lose nothing
 * else, and never reach outside the mail root.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbox.h"
#include <lmdb.h>
#include "tap.h"

static enum dbox_format fmt;
static const char *fmt_name;
static struct dbox_storage *storage;
static char *root, *outside;
static uint32_t leftover_uid;	/* appended by test_leftovers_of_dead_writer */

static void open_storage(void)
{
	struct dbox_storage_settings set = { .format = fmt };
	const char *error;

	if (dbox_storage_open(root, &set, &storage, &error) < 0) {
		tap_ok(false, "%s: open storage: %s", fmt_name, error);
		exit(tap_done());
	}
}

static struct dbox_mailbox *open_box(const char *name)
{
	struct dbox_mailbox *box = NULL;
	const char *error;

	if (dbox_mailbox_open(storage, name, 0, &box, &error) < 0)
		tap_diag("open %s: %s", name, error);
	return box;
}

static uint32_t append(struct dbox_mailbox *box, uint64_t id)
{
	const char *error;
	uint32_t uid = 0;
	size_t len;
	char *msg = tap_message(id, 5000, &len);

	if (dbox_mail_append(box, msg, len, NULL, &uid, &error) < 0)
		tap_diag("append: %s", error);
	free(msg);
	/* the view shows (and fetches) the new message after a sync */
	{
		struct dbox_sync_result r;

		if (dbox_mailbox_sync(box, &r, &error) == 0)
			dbox_sync_result_free(&r);
	}
	return uid;
}

static bool reads_back(struct dbox_mailbox *box, uint32_t uid, uint64_t id)
{
	struct dbox_fetch_req req = { uid, DBOX_FETCH_WHOLE, 0, UINT64_MAX };
	const char *error;
	char *msg;
	void *data;
	size_t size, len;
	bool ok;

	if (dbox_mail_fetch(box, &req, &data, &size, &error) < 0)
		return false;
	msg = tap_message(id, 5000, &len);
	ok = size == len && memcmp(msg, data, len) == 0;
	free(msg);
	free(data);
	return ok;
}

/* Is the message with this id somewhere in the mailbox, intact? */
static bool has_id(struct dbox_mailbox *box, uint64_t id)
{
	const struct dbox_mail *mails;
	unsigned int i, count;

	dbox_mailbox_get_mails(box, &mails, &count);
	for (i = 0; i < count; i++) {
		if (reads_back(box, mails[i].uid, id))
			return true;
	}
	return false;
}

static enum dbox_error fetch_error(struct dbox_mailbox *box, uint32_t uid)
{
	struct dbox_fetch_req req = { uid, DBOX_FETCH_WHOLE, 0, UINT64_MAX };
	const char *error;
	void *data;
	size_t size;

	if (dbox_mail_fetch(box, &req, &data, &size, &error) == 0) {
		free(data);
		return DBOX_ERROR_NONE;
	}
	tap_diag("expected error: %s", error);
	return dbox_last_error();
}

static char *msg_path(const char *box, uint32_t uid)
{
	char *path;

	if (asprintf(&path, "%s/mailboxes/%s/dbox-Mails/u.%u", root, box,
		     uid) < 0)
		exit(2);
	return path;
}

/* The storage file holding most of the mdbox data. */
static char *last_storage_file(void)
{
	char dir[512], *best = NULL;
	struct dirent *d;
	unsigned long id, best_id = 0;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/storage", root);
	dp = opendir(dir);
	while (dp != NULL && (d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, "m.", 2) != 0)
			continue;
		id = strtoul(d->d_name + 2, NULL, 10);
		if (id > best_id) {
			best_id = id;
			free(best);
			if (asprintf(&best, "%s/%s", dir, d->d_name) < 0)
				exit(2);
		}
	}
	if (dp != NULL)
		closedir(dp);
	return best;
}

static void overwrite(const char *path, off_t offset, const char *bytes)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || pwrite(fd, bytes, strlen(bytes), offset) < 0)
		tap_diag("overwrite %s failed", path);
	if (fd >= 0)
		close(fd);
}

static void test_damaged_message_files(void)
{
	struct dbox_mailbox *box = open_box("INBOX");
	uint32_t u1 = append(box, 1), u2 = append(box, 2), u3 = append(box, 3);
	struct stat st;
	char *path;

	if (fmt == DBOX_FORMAT_SDBOX) {
		path = msg_path("INBOX", u2);
		stat(path, &st);
		if (truncate(path, st.st_size / 2) < 0)
			tap_diag("truncate failed");
		free(path);
		path = msg_path("INBOX", u3);
		overwrite(path, 16, "XX");	/* the msg header magic */
		free(path);
		tap_ok(fetch_error(box, u2) == DBOX_ERROR_CORRUPTED,
		       "sdbox: a truncated message file is CORRUPTED");
		tap_ok(fetch_error(box, u3) == DBOX_ERROR_CORRUPTED,
		       "sdbox: a message header with bad magic is CORRUPTED");
	} else {
		path = last_storage_file();
		stat(path, &st);
		if (truncate(path, st.st_size - 100) < 0)
			tap_diag("truncate failed");
		free(path);
		tap_ok(fetch_error(box, u3) == DBOX_ERROR_CORRUPTED,
		       "mdbox: a message cut off by truncation is CORRUPTED");
		tap_ok(reads_back(box, u2, 2),
		       "mdbox: the message before it in the file is fine");
	}
	tap_ok(reads_back(box, u1, 1),
	       "%s: an intact message next to damaged ones reads back",
	       fmt_name);
	dbox_mailbox_close(&box);
}

/* What a writer killed after writing but before its commit leaves. */
static void test_leftovers_of_dead_writer(void)
{
	struct dbox_mailbox *box = open_box("INBOX");
	struct dbox_status st;
	uint32_t uid;
	char *path;
	int fd;

	dbox_mailbox_get_status(box, &st);
	if (fmt == DBOX_FORMAT_SDBOX) {
		path = msg_path("INBOX", st.uidnext);
		fd = open(path, O_WRONLY | O_CREAT, 0600);
		if (fd < 0 || write(fd, "not a dbox file\n", 16) != 16)
			tap_diag("write garbage failed");
		close(fd);
		free(path);
	} else {
		path = last_storage_file();
		fd = open(path, O_WRONLY | O_APPEND);
		if (fd < 0 || write(fd, "\001\002N   half a message", 20) != 20)
			tap_diag("write garbage failed");
		close(fd);
		free(path);
	}
	uid = leftover_uid = append(box, 4);
	tap_ok(uid != 0 && reads_back(box, uid, 4),
	       "%s: an append after a dead writer's left-overs succeeds",
	       fmt_name);
	if (fmt == DBOX_FORMAT_SDBOX)
		tap_ok(uid == st.uidnext + 1, "sdbox: the occupied uid is "
		       "skipped, the garbage file not imported");
	dbox_mailbox_close(&box);
}

static void test_damaged_index(void)
{
	struct dbox_mailbox *box;
	char path[512];
	bool ok;

	dbox_storage_close(&storage);
	snprintf(path, sizeof(path), "%s/dboxd-index/data.mdb", root);
	overwrite(path, 0, "this is not an LMDB meta page at all, no no");
	overwrite(path, 4096, "and neither is this one, sorry about that");
	open_storage();
	box = open_box("INBOX");
	if (fmt == DBOX_FORMAT_SDBOX) {
		ok = box != NULL && reads_back(box, 1, 1) &&
			reads_back(box, leftover_uid, 4);
		tap_ok(ok, "sdbox: a damaged index is set aside and rebuilt "
		       "from the files; intact messages keep their uids");
	} else {
		ok = box != NULL && has_id(box, 1) && has_id(box, 2) &&
			has_id(box, 4);
		tap_ok(ok, "mdbox: a damaged index is set aside and rebuilt "
		       "from the files; intact messages are back in their "
		       "mailbox (new uids)");
	}
	snprintf(path, sizeof(path), "%s/dboxd-index.broken", root);
	tap_ok(access(path, F_OK) == 0, "%s: the damaged index is kept for "
	       "inspection", fmt_name);
	dbox_mailbox_close(&box);
}

/*
 * A data file shorter than its meta page claims: what a disk that lost
 * unflushed writes, or a truncated copy, leaves behind. LMDB would map the
 * missing tail and die with SIGBUS on the first read of it.
 */
static void test_truncated_index(const char *how, off_t (*cut)(off_t size))
{
	const unsigned int n = 40;
	struct dbox_mailbox *box;
	char path[512], broken[512];
	const char *error;
	struct stat st;
	unsigned int i;
	bool ok;

	if (dbox_mailbox_create(storage, "Trunc", 0, &error) == 0) {
		box = open_box("Trunc");
		for (i = 0; i < n; i++)
			append(box, 100 + i);
		dbox_mailbox_close(&box);
	}
	dbox_storage_close(&storage);
	snprintf(path, sizeof(path), "%s/dboxd-index/data.mdb", root);
	snprintf(broken, sizeof(broken), "%s/dboxd-index.broken", root);
	tap_rm_rf(broken);
	if (stat(path, &st) < 0 || truncate(path, cut(st.st_size)) < 0)
		tap_diag("truncate %s failed", path);
	open_storage();
	box = open_box("Trunc");
	ok = box != NULL;
	for (i = 0; ok && i < n; i++)
		ok = fmt == DBOX_FORMAT_SDBOX ? reads_back(box, i + 1, 100 + i) :
			has_id(box, 100 + i);
	tap_ok(ok, "%s: an index data file truncated %s is rebuilt on open, "
	       "all %u messages read back", fmt_name, how, n);
	tap_ok(access(broken, F_OK) == 0, "%s: the truncation (%s) was "
	       "detected and the short file set aside", fmt_name, how);
	dbox_mailbox_close(&box);
}

static off_t cut_half(off_t size)
{
	return size / 2;
}

static off_t cut_one_page(off_t size)
{
	(void)size;
	return sysconf(_SC_PAGESIZE);
}

/* Leaves a partial last page. */
static off_t cut_odd(off_t size)
{
	return size - 1000;
}

/* Write a record LMDB accepts but we cannot decode, with LMDB itself
   (the storage must be closed: one environment per process). */
static void damage_mail_record(void)
{
	char path[512];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi boxes, mails;
	MDB_val key = { 5, "INBOX" }, val;
	unsigned char mkey[8];
	uint32_t id;

	snprintf(path, sizeof(path), "%s/dboxd-index", root);
	if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 8) != 0 ||
	    mdb_env_set_mapsize(env, 4ULL << 30) != 0 ||
	    mdb_env_open(env, path, MDB_NOTLS, 0600) != 0 ||
	    mdb_txn_begin(env, NULL, 0, &txn) != 0 ||
	    mdb_dbi_open(txn, "mailboxes", 0, &boxes) != 0 ||
	    mdb_dbi_open(txn, "mails", 0, &mails) != 0 ||
	    mdb_get(txn, boxes, &key, &val) != 0) {
		tap_diag("raw LMDB access failed");
		return;
	}
	memcpy(&id, (const unsigned char *)val.mv_data + 4, sizeof(id));
	mkey[0] = (unsigned char)(id >> 24);
	mkey[1] = (unsigned char)(id >> 16);
	mkey[2] = (unsigned char)(id >> 8);
	mkey[3] = (unsigned char)id;
	memcpy(mkey + 4, "\0\0\0\1", 4);
	key.mv_size = sizeof(mkey);
	key.mv_data = mkey;
	val.mv_size = 3;
	val.mv_data = "bad";
	mdb_put(txn, mails, &key, &val, 0);
	mdb_txn_commit(txn);
	mdb_env_close(env);
}

static void test_damaged_record(void)
{
	struct dbox_mailbox *box;

	dbox_storage_close(&storage);
	damage_mail_record();
	open_storage();
	box = open_box("INBOX");
	tap_ok(box != NULL && reads_back(box, 1, 1),
	       "%s: an undecodable index record is repaired by a rebuild on "
	       "open", fmt_name);
	dbox_mailbox_close(&box);
}

static void test_symlinks(void)
{
	struct dbox_mailbox_info *infos;
	struct dbox_mailbox *box;
	unsigned int i, count;
	const char *error;
	char link[512], target[512];
	bool listed = false;
	int ret;

	snprintf(target, sizeof(target), "%s/victim", outside);
	mkdir(target, 0700);
	snprintf(link, sizeof(link), "%s/victim/dbox-Mails", outside);
	mkdir(link, 0700);
	snprintf(link, sizeof(link), "%s/mailboxes/Evil", root);
	if (symlink(target, link) < 0)
		tap_diag("symlink failed");
	if (dbox_mailbox_list(storage, &infos, &count, &error) == 0) {
		for (i = 0; i < count; i++)
			listed = listed || strncmp(infos[i].name, "Evil", 4) == 0;
		dbox_mailbox_list_free(&infos, count);
	}
	tap_ok(!listed, "%s: a symlinked mailbox directory is not listed",
	       fmt_name);
	error = "";
	ret = dbox_mailbox_open(storage, "Evil", 0, &box, &error);
	tap_ok(ret < 0, "%s: nor opened (%s)", fmt_name, error);
	tap_ok(dbox_mailbox_create(storage, "Evil/Child", 0, &error) < 0,
	       "%s: nor created under", fmt_name);
	snprintf(link, sizeof(link), "%s/victim/Child", outside);
	tap_ok(access(link, F_OK) != 0, "%s: nothing appeared outside the root",
	       fmt_name);
	if (fmt == DBOX_FORMAT_SDBOX) {
		struct dbox_mailbox *inbox = open_box("INBOX");
		uint32_t uid = append(inbox, 7);
		char *path = msg_path("INBOX", uid), secret[512];

		snprintf(secret, sizeof(secret), "%s/secret", outside);
		close(open(secret, O_WRONLY | O_CREAT, 0600));
		unlink(path);
		if (symlink(secret, path) < 0)
			tap_diag("symlink failed");
		tap_ok(fetch_error(inbox, uid) != DBOX_ERROR_NONE,
		       "sdbox: a message file replaced by a symlink is not "
		       "followed");
		free(path);
		dbox_mailbox_close(&inbox);
	}
}

static void test_hostile_names(void)
{
	static const char *const names[] = {
		"../escape", "a/../../escape", "/etc", "x/", "a//b", ".",
		"ctl\001", "bad\xff", "dbox-Mails", "~root", NULL
	};
	struct dbox_mailbox_info *infos = NULL;
	struct dbox_mailbox *box;
	struct dbox_status st;
	const char *error;
	unsigned int i, refused = 0;
	char path[512];

	for (i = 0; names[i] != NULL; i++) {
		if (dbox_mailbox_create(storage, names[i], 0, &error) < 0 &&
		    dbox_last_error() == DBOX_ERROR_PARAMS &&
		    dbox_mailbox_open(storage, names[i], 0, &box, &error) < 0 &&
		    dbox_mailbox_status(storage, names[i], &st, &error) < 0 &&
		    dbox_mailbox_delete(storage, names[i], &error) < 0 &&
		    dbox_mailbox_rename(storage, "INBOX", names[i], &error) < 0 &&
		    dbox_mailbox_subscribe(storage, names[i], true, &error) < 0)
			refused++;
	}
	tap_ok(refused == i, "%s: %u hostile names are refused by create, "
	       "open, status, delete, rename and subscribe", fmt_name, i);
	snprintf(path, sizeof(path), "%s/../escape", root);
	tap_ok(access(path, F_OK) != 0, "%s: nothing was made outside",
	       fmt_name);
	snprintf(path, sizeof(path), "%s/mailboxes/bad&name", root);
	mkdir(path, 0700);
	tap_ok(dbox_mailbox_list(storage, &infos, &i, &error) == 0,
	       "%s: a directory with invalid modified UTF-7 does not break LIST",
	       fmt_name);
	dbox_mailbox_list_free(&infos, i);
}

static void test_compressed_dovecot_file(void)
{
	struct dbox_mailbox *box;
	struct dbox_status st;
	const char *error;
	char dir[512], path[600];
	static const char file[] = "2 M1e C1\n\001\002N          "
		"0000000000000004\n\x1f\x8b\x08\x00\n\001\003\nGabc\n\n";
	int fd;

	if (fmt != DBOX_FORMAT_SDBOX)
		return;
	dbox_mailbox_create(storage, "Zlib", 0, &error);
	snprintf(dir, sizeof(dir), "%s/mailboxes/Zlib/dbox-Mails", root);
	snprintf(path, sizeof(path), "%s/u.1", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd < 0 || write(fd, file, sizeof(file) - 1) < 0)
		tap_diag("write failed");
	close(fd);
	box = open_box("Zlib");
	append(box, 8);
	dbox_mailbox_close(&box);
	/* the index learns of u.1 only through a rebuild */
	dbox_storage_rebuild(storage, &error);
	tap_ok(dbox_mailbox_status(storage, "Zlib", &st, &error) == 0 &&
	       st.messages == 1 && st.uidnext == 3,
	       "sdbox: a compressed (zlib plugin) message is skipped, not "
	       "misread");
}

static void run_format(enum dbox_format f, const char *name)
{
	fmt = f;
	fmt_name = name;
	root = tap_tempdir(name);
	outside = tap_tempdir("outside");
	open_storage();
	test_damaged_message_files();
	test_leftovers_of_dead_writer();
	test_damaged_index();
	test_damaged_record();
	test_truncated_index("to half its size", cut_half);
	test_truncated_index("to one page", cut_one_page);
	test_truncated_index("to a non-multiple of the page size", cut_odd);
	test_symlinks();
	test_hostile_names();
	test_compressed_dovecot_file();
	dbox_storage_close(&storage);
	free(root);
	free(outside);
}

int main(void)
{
	tap_quiet_logs();
	run_format(DBOX_FORMAT_SDBOX, "sdbox");
	run_format(DBOX_FORMAT_MDBOX, "mdbox");
	return tap_done();
}
