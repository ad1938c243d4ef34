// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Every storage operation, for single-dbox and multi-dbox: mailbox list,
 * create, delete, rename, subscriptions, special-use, append, fetch (whole,
 * header, text, ranges, asynchronous), copy, move, expunge, store with
 * modseq, status, recent, purge, rebuild, and the bytes on disk.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbox.h"
#include "tap.h"

static enum dbox_format fmt;
static const char *fmt_name;
static struct dbox_storage *storage;
static char *root;

static void open_storage(void)
{
	struct dbox_storage_settings set = { .format = fmt,
					     .max_message_size = 1 << 20 };
	const char *error;

	if (dbox_storage_open(root, &set, &storage, &error) < 0) {
		tap_ok(false, "%s: open storage: %s", fmt_name, error);
		exit(tap_done());
	}
}

static void reopen_storage(void)
{
	dbox_storage_close(&storage);
	open_storage();
}

static struct dbox_mailbox *open_box(const char *name, unsigned int flags)
{
	struct dbox_mailbox *box;
	const char *error;

	if (dbox_mailbox_open(storage, name, flags, &box, &error) < 0) {
		tap_diag("open %s: %s", name, error);
		return NULL;
	}
	return box;
}

static void sync_box(struct dbox_mailbox *box)
{
	struct dbox_sync_result r;
	const char *error;

	if (dbox_mailbox_sync(box, &r, &error) < 0)
		tap_diag("sync: %s", error);
	dbox_sync_result_free(&r);
}

static uint32_t append_id(struct dbox_mailbox *box, uint64_t id, size_t size,
			  const struct dbox_append_params *params)
{
	const char *error;
	uint32_t uid = 0;
	size_t len;
	char *msg = tap_message(id, size, &len);

	if (dbox_mail_append(box, msg, len, params, &uid, &error) < 0)
		tap_diag("append: %s", error);
	free(msg);
	return uid;
}

static bool fetch_is(struct dbox_mailbox *box, uint32_t uid,
		     enum dbox_fetch_part part, uint64_t offset,
		     uint64_t length, const void *expect, size_t expect_len)
{
	struct dbox_fetch_req req = { uid, part, offset, length };
	const char *error;
	void *data;
	size_t size;
	bool ok;

	if (dbox_mail_fetch(box, &req, &data, &size, &error) < 0) {
		tap_diag("fetch %u: %s", uid, error);
		return false;
	}
	ok = size == expect_len && memcmp(data, expect, size) == 0;
	free(data);
	return ok;
}

static bool list_has(const char *name, unsigned int attrs_set,
		     unsigned int attrs_clear)
{
	struct dbox_mailbox_info *infos;
	unsigned int i, count;
	const char *error;
	bool found = false;

	if (dbox_mailbox_list(storage, &infos, &count, &error) < 0)
		return false;
	for (i = 0; i < count; i++) {
		if (strcmp(infos[i].name, name) == 0)
			found = (infos[i].attrs & attrs_set) == attrs_set &&
				(infos[i].attrs & attrs_clear) == 0;
	}
	dbox_mailbox_list_free(&infos, count);
	return found;
}

static void test_inbox_exists(void)
{
	struct dbox_status st;
	const char *error;

	tap_ok(list_has("INBOX", 0, DBOX_MAILBOX_NOSELECT),
	       "%s: a new root lists a selectable INBOX", fmt_name);
	tap_ok(dbox_mailbox_status(storage, "inbox", &st, &error) == 0 &&
	       st.messages == 0 && st.uidnext == 1 && st.uidvalidity != 0 &&
	       st.highest_modseq >= 1,
	       "%s: INBOX starts empty with uidnext 1", fmt_name);
}

static void test_create_delete(void)
{
	struct dbox_mailbox_info *infos;
	unsigned int i, count, special = 0;
	const char *error;

	tap_ok(dbox_mailbox_create(storage, "Work/2024", 0, &error) == 0 &&
	       list_has("Work", DBOX_MAILBOX_NOSELECT |
			DBOX_MAILBOX_HASCHILDREN, 0) &&
	       list_has("Work/2024", DBOX_MAILBOX_HASNOCHILDREN,
			DBOX_MAILBOX_NOSELECT),
	       "%s: creating a child makes a \\Noselect parent", fmt_name);
	tap_ok(dbox_mailbox_create(storage, "Work/2024", 0, &error) < 0 &&
	       dbox_last_error() == DBOX_ERROR_EXISTS,
	       "%s: creating an existing mailbox is EXISTS", fmt_name);
	tap_ok(dbox_mailbox_create(storage, "Work", 0, &error) == 0 &&
	       list_has("Work", DBOX_MAILBOX_HASCHILDREN,
			DBOX_MAILBOX_NOSELECT),
	       "%s: the parent can be created as a real mailbox", fmt_name);
	tap_ok(dbox_mailbox_create(storage, "Sent", DBOX_SPECIAL_SENT,
				   &error) == 0, "%s: create with special-use",
	       fmt_name);
	if (dbox_mailbox_list(storage, &infos, &count, &error) == 0) {
		for (i = 0; i < count; i++) {
			if (strcmp(infos[i].name, "Sent") == 0)
				special = infos[i].special_use;
		}
		dbox_mailbox_list_free(&infos, count);
	}
	tap_ok(special == DBOX_SPECIAL_SENT, "%s: LIST shows \\Sent", fmt_name);
	tap_ok(dbox_mailbox_set_special_use(storage, "Sent", DBOX_SPECIAL_TRASH,
					    &error) == 0,
	       "%s: special-use can be changed", fmt_name);
	tap_ok(dbox_mailbox_delete(storage, "Work", &error) == 0 &&
	       list_has("Work", DBOX_MAILBOX_NOSELECT, 0) &&
	       list_has("Work/2024", 0, 0),
	       "%s: deleting a parent leaves it \\Noselect with its children",
	       fmt_name);
	tap_ok(dbox_mailbox_delete(storage, "Work", &error) < 0 &&
	       dbox_last_error() == DBOX_ERROR_NOTPOSSIBLE,
	       "%s: deleting a \\Noselect parent with children fails",
	       fmt_name);
	tap_ok(dbox_mailbox_delete(storage, "Work/2024", &error) == 0 &&
	       !list_has("Work/2024", 0, 0) && !list_has("Work", 0, 0),
	       "%s: deleting the last child removes the empty parent",
	       fmt_name);
	tap_ok(dbox_mailbox_delete(storage, "INBOX", &error) < 0 &&
	       dbox_last_error() == DBOX_ERROR_NOTPOSSIBLE,
	       "%s: INBOX cannot be deleted", fmt_name);
	tap_ok(dbox_mailbox_delete(storage, "Nope", &error) < 0 &&
	       dbox_last_error() == DBOX_ERROR_NOTFOUND,
	       "%s: deleting a missing mailbox is NOTFOUND", fmt_name);
}

static void test_subscriptions(void)
{
	char path[512], buf[256];
	const char *error;
	ssize_t n;
	int fd;

	tap_ok(dbox_mailbox_subscribe(storage, "Sent", true, &error) == 0 &&
	       dbox_mailbox_subscribe(storage, "Gone/Entwürfe", true,
				      &error) == 0 &&
	       list_has("Sent", DBOX_MAILBOX_SUBSCRIBED, 0) &&
	       list_has("Gone/Entwürfe", DBOX_MAILBOX_SUBSCRIBED |
			DBOX_MAILBOX_NONEXISTENT, 0),
	       "%s: subscriptions show, also for missing mailboxes", fmt_name);
	snprintf(path, sizeof(path), "%s/subscriptions", root);
	fd = open(path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	tap_ok(strcmp(buf, "V\t2\n\nGone\tEntw&APw-rfe\nSent\n") == 0,
	       "%s: the subscriptions file is in Dovecot's format", fmt_name);
	tap_ok(dbox_mailbox_subscribe(storage, "Gone/Entwürfe", false,
				      &error) == 0 &&
	       !list_has("Gone/Entwürfe", 0, 0),
	       "%s: unsubscribing removes it", fmt_name);
}

static void test_append_fetch(void)
{
	static const char *const kws[] = { "$Forwarded", "Work", NULL };
	struct dbox_append_params p = { 1700000000, DBOX_MAIL_SEEN |
					DBOX_MAIL_FLAGGED, kws, NULL };
	struct dbox_mailbox *box = open_box("INBOX", 0);
	const struct dbox_mail *mail;
	const char *hdr_end;
	struct dbox_status st;
	size_t len, hlen;
	char *msg = tap_message(1, 3000, &len);
	uint32_t uid = 0;
	const char *error;

	tap_ok(dbox_mail_append(box, msg, len, &p, &uid, &error) == 0 &&
	       uid == 1, "%s: append returns uid 1", fmt_name);
	sync_box(box);
	mail = dbox_mailbox_lookup_uid(box, uid, NULL);
	tap_ok(mail != NULL && mail->flags == (DBOX_MAIL_SEEN |
					       DBOX_MAIL_FLAGGED) &&
	       mail->internal_date == 1700000000 &&
	       mail->virtual_size == len && mail->physical_size < len &&
	       strlen(mail->guid) == 32 && mail->keywords[0] != NULL &&
	       strcmp(mail->keywords[0], "$Forwarded") == 0 &&
	       strcmp(mail->keywords[1], "Work") == 0 &&
	       mail->keywords[2] == NULL && mail->save_date > 0,
	       "%s: the record has flags, keywords, date, sizes, guid",
	       fmt_name);
	hdr_end = strstr(msg, "\r\n\r\n") + 4;
	hlen = (size_t)(hdr_end - msg);
	tap_ok(fetch_is(box, uid, DBOX_FETCH_WHOLE, 0, UINT64_MAX, msg, len),
	       "%s: BODY[] is the message as appended (CRLF)", fmt_name);
	tap_ok(fetch_is(box, uid, DBOX_FETCH_HEADER, 0, UINT64_MAX, msg, hlen),
	       "%s: BODY[HEADER] ends with the blank line", fmt_name);
	tap_ok(fetch_is(box, uid, DBOX_FETCH_TEXT, 0, UINT64_MAX, hdr_end,
			len - hlen), "%s: BODY[TEXT] is the rest", fmt_name);
	tap_ok(fetch_is(box, uid, DBOX_FETCH_WHOLE, 100, 77, msg + 100, 77) &&
	       fetch_is(box, uid, DBOX_FETCH_TEXT, 5, 1000, hdr_end + 5, 1000),
	       "%s: byte ranges are in wire offsets", fmt_name);
	tap_ok(fetch_is(box, uid, DBOX_FETCH_WHOLE, len - 1, 10,
			msg + len - 1, 1) &&
	       fetch_is(box, uid, DBOX_FETCH_WHOLE, len + 5, 10, "", 0),
	       "%s: ranges at and past the end are cut", fmt_name);
	dbox_mailbox_get_status(box, &st);
	tap_ok(st.messages == 1 && st.unseen == 0 && st.uidnext == 2 &&
	       st.size == len, "%s: status counts the message", fmt_name);
	free(msg);
	dbox_mailbox_close(&box);
}

static void test_append_refusals(void)
{
	static const char *const bad_kw[] = { "with space", NULL };
	struct dbox_append_params bad_flags = { 0, 0x100, NULL, NULL };
	struct dbox_append_params bad_kws = { 0, 0, bad_kw, NULL };
	struct dbox_mailbox *box = open_box("INBOX", 0), *ro;
	struct dbox_status before, after;
	const char *error;
	char *big = malloc((1 << 20) + 10);

	dbox_mailbox_get_status(box, &before);
	memset(big, 'a', (1 << 20) + 10);
	tap_ok(dbox_mail_append(box, big, (1 << 20) + 10, NULL, NULL,
				&error) < 0 &&
	       dbox_last_error() == DBOX_ERROR_LIMIT,
	       "%s: a message over the limit is refused with LIMIT", fmt_name);
	tap_ok(dbox_mail_append(box, "a\r\n", 3, &bad_flags, NULL,
				&error) < 0 &&
	       dbox_last_error() == DBOX_ERROR_PARAMS,
	       "%s: unknown flags are refused", fmt_name);
	tap_ok(dbox_mail_append(box, "a\r\n", 3, &bad_kws, NULL, &error) < 0 &&
	       dbox_last_error() == DBOX_ERROR_PARAMS,
	       "%s: an invalid keyword is refused", fmt_name);
	ro = open_box("INBOX", DBOX_OPEN_READONLY);
	tap_ok(dbox_mail_append(ro, "a\r\n", 3, NULL, NULL, &error) < 0 &&
	       dbox_last_error() == DBOX_ERROR_NOTPOSSIBLE,
	       "%s: a read-only mailbox refuses changes", fmt_name);
	dbox_mailbox_close(&ro);
	sync_box(box);
	dbox_mailbox_get_status(box, &after);
	tap_ok(after.messages == before.messages &&
	       after.uidnext == before.uidnext,
	       "%s: refused appends change nothing", fmt_name);
	free(big);
	dbox_mailbox_close(&box);
}

static void test_append_many(void)
{
	struct dbox_append_msg msgs[10];
	struct dbox_mailbox *box = open_box("Sent", 0);
	uint32_t uids[10];
	const char *error;
	unsigned int i;
	bool consecutive = true;

	for (i = 0; i < 10; i++) {
		size_t len;

		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].data = tap_message(100 + i, 500 + i * 700, &len);
		msgs[i].size = len;
	}
	tap_ok(dbox_mail_append_many(box, msgs, 10, uids, &error) == 0,
	       "%s: MULTIAPPEND of 10", fmt_name);
	for (i = 1; i < 10; i++)
		consecutive = consecutive && uids[i] == uids[0] + i;
	sync_box(box);
	tap_ok(consecutive && box != NULL &&
	       fetch_is(box, uids[7], DBOX_FETCH_WHOLE, 0, UINT64_MAX,
			msgs[7].data, msgs[7].size),
	       "%s: they get consecutive uids and read back", fmt_name);
	for (i = 0; i < 10; i++)
		free((void *)msgs[i].data);
	dbox_mailbox_close(&box);
}

static uint64_t storage_bytes(void)
{
	char path[512];
	struct dirent *d;
	struct stat st;
	uint64_t total = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/storage", root);
	dir = opendir(path);
	while (dir != NULL && (d = readdir(dir)) != NULL) {
		char file[1024];

		snprintf(file, sizeof(file), "%s/%s", path, d->d_name);
		if (strncmp(d->d_name, "m.", 2) == 0 && stat(file, &st) == 0)
			total += (uint64_t)st.st_size;
	}
	if (dir != NULL)
		closedir(dir);
	return total;
}

static void test_copy_move(void)
{
	static const char *const kws[] = { "Project-X", NULL };
	struct dbox_append_params p = { 0, DBOX_MAIL_ANSWERED, kws, NULL };
	struct dbox_mailbox *inbox = open_box("INBOX", 0);
	struct dbox_mailbox *arch;
	const struct dbox_mail *m;
	uint32_t uids[3], dst[3], missing = 9999, zero = 1, moved;
	uint64_t bytes;
	const char *error;
	char *msg;
	size_t len;

	dbox_mailbox_create(storage, "Archive", 0, &error);
	arch = open_box("Archive", 0);
	uids[0] = append_id(inbox, 201, 2000, &p);
	uids[1] = append_id(inbox, 202, 9000, NULL);
	uids[2] = append_id(inbox, 203, 40000, NULL);
	bytes = storage_bytes();
	tap_ok(dbox_mail_copy(inbox, uids, 3, arch, dst, &error) == 0 &&
	       dst[0] == 1 && dst[2] == 3,
	       "%s: COPY returns the new uids", fmt_name);
	sync_box(arch);
	m = dbox_mailbox_lookup_uid(arch, dst[0], NULL);
	tap_ok(m != NULL && m->flags == DBOX_MAIL_ANSWERED &&
	       m->keywords[0] != NULL &&
	       strcmp(m->keywords[0], "Project-X") == 0,
	       "%s: flags and keywords are copied", fmt_name);
	msg = tap_message(203, 40000, &len);
	tap_ok(fetch_is(arch, dst[2], DBOX_FETCH_WHOLE, 0, UINT64_MAX, msg,
			len), "%s: the copy reads back", fmt_name);
	if (fmt == DBOX_FORMAT_MDBOX)
		tap_ok(storage_bytes() == bytes,
		       "mdbox: COPY shares the stored message (no new bytes)");
	else {
		char path[512];
		struct stat st;

		snprintf(path, sizeof(path), "%s/mailboxes/Archive/dbox-Mails/"
			 "u.%u", root, dst[2]);
		tap_ok(stat(path, &st) == 0 && st.st_nlink == 2,
		       "sdbox: COPY hard-links the message file");
	}
	tap_ok(dbox_mail_copy(inbox, &missing, 1, arch, &zero, &error) == 0 &&
	       zero == 0, "%s: copying a missing uid gives uid 0", fmt_name);
	tap_ok(dbox_mail_move(inbox, &uids[1], 1, arch, &moved, &error) == 0,
	       "%s: MOVE", fmt_name);
	sync_box(inbox);
	sync_box(arch);
	tap_ok(dbox_mailbox_lookup_uid(inbox, uids[1], NULL) == NULL &&
	       dbox_mailbox_lookup_uid(arch, moved, NULL) != NULL,
	       "%s: a moved message leaves the source", fmt_name);
	tap_ok(dbox_mail_move(inbox, &uids[0], 1, inbox, NULL, &error) < 0 &&
	       dbox_last_error() == DBOX_ERROR_NOTPOSSIBLE,
	       "%s: moving into the same mailbox is refused", fmt_name);
	free(msg);
	dbox_mailbox_close(&arch);
	dbox_mailbox_close(&inbox);
}

static void test_store(void)
{
	static const char *const add_kw[] = { "Important", "Later", NULL };
	static const char *const rm_kw[] = { "Later", "NeverSeen", NULL };
	struct dbox_mailbox *box = open_box("INBOX", 0);
	struct dbox_store_params p = { DBOX_STORE_ADD, DBOX_MAIL_SEEN, add_kw, 0 };
	const struct dbox_mail *m;
	uint32_t uid = append_id(box, 301, 1000, NULL), *failed = NULL;
	unsigned int failed_count = 0, kwc;
	const char *const *names;
	uint64_t modseq, hms;
	const char *error;
	struct dbox_status st;

	sync_box(box);
	modseq = dbox_mailbox_lookup_uid(box, uid, NULL)->modseq;
	tap_ok(dbox_mail_store(box, &uid, 1, &p, NULL, NULL, &error) == 0,
	       "%s: STORE +FLAGS", fmt_name);
	sync_box(box);
	m = dbox_mailbox_lookup_uid(box, uid, NULL);
	tap_ok(m->flags == DBOX_MAIL_SEEN && m->modseq > modseq &&
	       m->keywords[0] != NULL && m->keywords[1] != NULL,
	       "%s: flags and keywords added, modseq raised", fmt_name);
	p.mode = DBOX_STORE_REMOVE;
	p.flags = 0;
	p.keywords = rm_kw;
	dbox_mail_store(box, &uid, 1, &p, NULL, NULL, &error);
	sync_box(box);
	m = dbox_mailbox_lookup_uid(box, uid, NULL);
	dbox_mailbox_get_keywords(box, &names, &kwc);
	tap_ok(m->keywords[0] != NULL && strcmp(m->keywords[0], "Important") == 0 &&
	       m->keywords[1] == NULL && kwc >= 2,
	       "%s: -FLAGS removes a keyword; unknown ones are ignored",
	       fmt_name);
	hms = m->modseq;
	dbox_mail_store(box, &uid, 1, &p, NULL, NULL, &error);
	sync_box(box);
	dbox_mailbox_get_status(box, &st);
	tap_ok(st.highest_modseq == hms,
	       "%s: a STORE that changes nothing keeps the modseq", fmt_name);
	p.mode = DBOX_STORE_REPLACE;
	p.flags = DBOX_MAIL_DRAFT;
	p.keywords = NULL;
	p.unchanged_since = hms - 1;
	tap_ok(dbox_mail_store(box, &uid, 1, &p, &failed, &failed_count,
			       &error) == 0 && failed_count == 1 &&
	       failed[0] == uid, "%s: UNCHANGEDSINCE below the modseq fails "
	       "that message", fmt_name);
	free(failed);
	p.unchanged_since = hms;
	failed = NULL;
	tap_ok(dbox_mail_store(box, &uid, 1, &p, &failed, &failed_count,
			       &error) == 0 && failed_count == 0,
	       "%s: UNCHANGEDSINCE at the modseq succeeds", fmt_name);
	free(failed);
	sync_box(box);
	m = dbox_mailbox_lookup_uid(box, uid, NULL);
	dbox_mailbox_get_status(box, &st);
	tap_ok(m->flags == DBOX_MAIL_DRAFT && m->keywords[0] == NULL &&
	       st.highest_modseq == m->modseq,
	       "%s: FLAGS replaces flags and keywords", fmt_name);
	tap_ok(st.unseen >= 1, "%s: unseen counts the unseen message",
	       fmt_name);
	dbox_mailbox_close(&box);
}

static void test_expunge(void)
{
	struct dbox_fetch_req req = { 0, DBOX_FETCH_WHOLE, 0, UINT64_MAX };
	struct dbox_mailbox *box = open_box("INBOX", 0), *other;
	struct dbox_status st;
	uint32_t uid = append_id(box, 401, 800, NULL), *uids;
	unsigned int count;
	const char *error;
	void *data;
	size_t size;
	bool complete;

	sync_box(box);
	dbox_mailbox_get_status(box, &st);
	other = open_box("INBOX", 0);
	tap_ok(dbox_mail_expunge(other, &uid, 1, &error) == 0,
	       "%s: EXPUNGE", fmt_name);
	req.uid = uid;
	/* RFC 2180 4.1: still shown, still readable until the bytes go */
	if (fmt == DBOX_FORMAT_SDBOX) {
		tap_ok(dbox_mail_fetch(box, &req, &data, &size, &error) < 0 &&
		       dbox_last_error() == DBOX_ERROR_EXPUNGED,
		       "sdbox: fetching a message expunged (file unlinked) by "
		       "another handle is EXPUNGED");
	} else {
		tap_ok(dbox_mail_fetch(box, &req, &data, &size, &error) == 0 &&
		       size > 0, "mdbox: a message expunged by another handle "
		       "stays readable until purge");
		free(data);
	}
	tap_ok(dbox_mailbox_expunged_since(box, st.highest_modseq, &uids,
					   &count, &complete, &error) == 0 &&
	       count == 1 && uids[0] == uid && complete,
	       "%s: the expunge is found by modseq (QRESYNC)", fmt_name);
	free(uids);
	sync_box(box);
	tap_ok(dbox_mailbox_lookup_uid(box, uid, NULL) == NULL,
	       "%s: after sync the view no longer has it", fmt_name);
	dbox_mailbox_close(&other);
	dbox_mailbox_close(&box);
}

struct async_ctx {
	unsigned int next, bad, errors;
	uint32_t *uids;
	unsigned int expunged_idx;
};

static void async_cb(void *context, unsigned int idx, const void *data,
		     size_t size, enum dbox_error err, const char *error)
{
	struct async_ctx *ctx = context;
	char *msg;
	size_t len;

	if (idx != ctx->next++)
		ctx->bad++;
	if (error != NULL) {
		if (idx != ctx->expunged_idx || err != DBOX_ERROR_EXPUNGED ||
		    fmt != DBOX_FORMAT_SDBOX)
			ctx->bad++;
		ctx->errors++;
		return;
	}
	msg = tap_message(1000 + idx, 300 + idx * 97, &len);
	if (size != len || memcmp(data, msg, len) != 0)
		ctx->bad++;
	free(msg);
}

struct count_ctx {
	unsigned int calls, errors;
};

static void count_cb(void *context, unsigned int idx, const void *data,
		     size_t size, enum dbox_error err, const char *error)
{
	struct count_ctx *cc = context;

	(void)idx;
	(void)data;
	(void)size;
	(void)err;
	cc->calls++;
	if (error != NULL)
		cc->errors++;
}

static void test_async_fetch(void)
{
	struct dbox_mailbox *box, *other;
	struct dbox_fetch_req reqs[150];
	struct async_ctx ctx = { 0, 0, 0, NULL, 77 };
	struct count_ctx cc = { 0, 0 };
	struct dbox_fetch *fetch;
	uint32_t uids[150];
	const char *error;
	unsigned int i;

	dbox_mailbox_create(storage, "Many", 0, &error);
	box = open_box("Many", 0);
	for (i = 0; i < 150; i++)
		uids[i] = append_id(box, 1000 + i, 300 + i * 97, NULL);
	sync_box(box);
	other = open_box("Many", 0);
	dbox_mail_expunge(other, &uids[77], 1, &error);
	dbox_mailbox_close(&other);
	for (i = 0; i < 150; i++) {
		reqs[i].uid = uids[i];
		reqs[i].part = DBOX_FETCH_WHOLE;
		reqs[i].offset = 0;
		reqs[i].length = UINT64_MAX;
	}
	tap_ok(dbox_fetch_start(box, reqs, 150, async_cb, &ctx, &fetch,
				&error) == 0 &&
	       dbox_fetch_wait(fetch, &error) == 0 && dbox_fetch_is_done(fetch),
	       "%s: an asynchronous fetch of 150 completes", fmt_name);
	dbox_fetch_free(&fetch);
	tap_ok(ctx.next == 150 && ctx.bad == 0 &&
	       ctx.errors == (fmt == DBOX_FORMAT_SDBOX ? 1 : 0),
	       "%s: results arrive in request order, correct, with the "
	       "expunged one in its place (sdbox: an error)", fmt_name);
	ctx.next = 0;
	tap_ok(dbox_fetch_start(box, reqs, 150, async_cb, &ctx, &fetch,
				&error) == 0, "%s: start another", fmt_name);
	dbox_fetch_free(&fetch);	/* abandoned with reads in flight */
	while (dbox_io_run(dbox_storage_get_io(storage), 0) > 0)
		;
	tap_ok(ctx.next <= 150, "%s: freeing a running fetch is safe",
	       fmt_name);
	/* A message that fails before any I/O (sdbox: its file is gone) is
	   still reported from dbox_io_run(), never from inside the start
	   function: a caller that suspends after starting would otherwise
	   miss its only callback. */
	tap_ok(dbox_fetch_start(box, &reqs[77], 1, count_cb, &cc, &fetch,
				&error) == 0 && cc.calls == 0,
	       "%s: no callback from inside dbox_fetch_start", fmt_name);
	tap_ok(dbox_fetch_wait(fetch, &error) == 0 && cc.calls == 1 &&
	       cc.errors == (fmt == DBOX_FORMAT_SDBOX ? 1 : 0),
	       "%s: the expunged message is reported by dbox_io_run()",
	       fmt_name);
	dbox_fetch_free(&fetch);
	memset(&cc, 0, sizeof(cc));
	tap_ok(dbox_fetch_start(box, &reqs[77], 1, count_cb, &cc, &fetch,
				&error) == 0, "%s: start a one-message fetch",
	       fmt_name);
	dbox_fetch_free(&fetch);	/* before its deferred report */
	while (dbox_io_run(dbox_storage_get_io(storage), 0) > 0)
		;
	tap_ok(cc.calls == 0, "%s: a freed fetch reports nothing", fmt_name);
	dbox_mailbox_close(&box);
}

static void test_recent(void)
{
	struct dbox_mailbox *box = open_box("Sent", 0);
	struct dbox_status st;
	uint32_t first = 0, second = 0;
	const char *error;

	dbox_mailbox_get_status(box, &st);
	tap_ok(dbox_mailbox_claim_recent(box, &first, &error) == 0 &&
	       first == 1 && st.recent == st.messages,
	       "%s: the first session gets every message as \\Recent",
	       fmt_name);
	tap_ok(dbox_mailbox_claim_recent(box, &second, &error) == 0 &&
	       second == st.uidnext,
	       "%s: the next one gets none", fmt_name);
	dbox_mailbox_close(&box);
}

static void test_rename(void)
{
	struct dbox_mailbox *box = open_box("Archive", 0), *renamed;
	struct dbox_status before, after, inbox;
	const char *error;
	char *msg;
	size_t len;

	dbox_mailbox_create(storage, "Archive/Old", 0, &error);
	dbox_mailbox_get_status(box, &before);
	dbox_mailbox_close(&box);
	tap_ok(dbox_mailbox_rename(storage, "Archive", "Past/Archive",
				   &error) == 0 &&
	       !list_has("Archive", 0, 0) && list_has("Past/Archive/Old", 0, 0),
	       "%s: RENAME moves the mailbox and its children", fmt_name);
	renamed = open_box("Past/Archive", 0);
	dbox_mailbox_get_status(renamed, &after);
	msg = tap_message(203, 40000, &len);
	tap_ok(after.messages == before.messages &&
	       after.uidvalidity == before.uidvalidity &&
	       fetch_is(renamed, 3, DBOX_FETCH_WHOLE, 0, UINT64_MAX, msg, len),
	       "%s: messages, uids and UIDVALIDITY survive a rename",
	       fmt_name);
	free(msg);
	dbox_mailbox_close(&renamed);
	tap_ok(dbox_mailbox_rename(storage, "Sent", "Past/Archive", &error) < 0 &&
	       dbox_last_error() == DBOX_ERROR_EXISTS,
	       "%s: renaming onto an existing mailbox is EXISTS", fmt_name);
	tap_ok(dbox_mailbox_rename(storage, "Past", "Past/Sub", &error) < 0 &&
	       dbox_last_error() == DBOX_ERROR_NOTPOSSIBLE,
	       "%s: renaming into itself is refused", fmt_name);
	dbox_mailbox_status(storage, "INBOX", &inbox, &error);
	tap_ok(dbox_mailbox_rename(storage, "INBOX", "Old-INBOX", &error) == 0 &&
	       dbox_mailbox_status(storage, "Old-INBOX", &after, &error) == 0 &&
	       after.messages == inbox.messages &&
	       dbox_mailbox_status(storage, "INBOX", &inbox, &error) == 0 &&
	       inbox.messages == 0,
	       "%s: renaming INBOX moves its messages and leaves it empty",
	       fmt_name);
}

static void test_purge(void)
{
	struct dbox_mailbox *box;
	uint32_t uids[20];
	uint64_t before;
	const char *error;
	unsigned int i;
	bool ok = true;

	dbox_mailbox_create(storage, "Purge", 0, &error);
	box = open_box("Purge", 0);
	for (i = 0; i < 20; i++)
		uids[i] = append_id(box, 500 + i, 20000, NULL);
	for (i = 0; i < 20; i += 2)
		dbox_mail_expunge(box, &uids[i], 1, &error);
	before = storage_bytes();
	tap_ok(dbox_storage_purge(storage, &error) == 0,
	       "%s: purge", fmt_name);
	if (fmt == DBOX_FORMAT_MDBOX)
		tap_ok(storage_bytes() < before - 9 * 20000,
		       "mdbox: purge gives the expunged messages' space back");
	sync_box(box);
	for (i = 1; i < 20; i += 2) {
		char *msg;
		size_t len;

		msg = tap_message(500 + i, 20000, &len);
		ok = ok && fetch_is(box, uids[i], DBOX_FETCH_WHOLE, 0,
				    UINT64_MAX, msg, len);
		free(msg);
	}
	tap_ok(ok, "%s: the remaining messages read back after purge",
	       fmt_name);
	dbox_mailbox_close(&box);
}

static void test_rebuild_keeps_state(void)
{
	struct dbox_store_params p = { DBOX_STORE_REPLACE, DBOX_MAIL_FLAGGED,
				       NULL, 0 };
	struct dbox_mailbox *box = open_box("Purge", 0);
	const struct dbox_mail *mails;
	struct dbox_status before, after;
	unsigned int count, i;
	uint32_t uid;
	const char *error;
	bool ok;

	dbox_mailbox_get_mails(box, &mails, &count);
	uid = mails[count - 1].uid;
	dbox_mail_store(box, &uid, 1, &p, NULL, NULL, &error);
	sync_box(box);
	dbox_mailbox_get_status(box, &before);
	dbox_mailbox_close(&box);
	tap_ok(dbox_storage_rebuild(storage, &error) == 0,
	       "%s: rebuild from files", fmt_name);
	box = open_box("Purge", 0);
	dbox_mailbox_get_status(box, &after);
	dbox_mailbox_get_mails(box, &mails, &count);
	ok = after.messages == before.messages &&
		after.uidvalidity == before.uidvalidity && count > 0;
	for (i = 0; ok && i < count; i++) {
		if (mails[i].uid == uid)
			ok = mails[i].flags == DBOX_MAIL_FLAGGED;
	}
	tap_ok(ok && after.highest_modseq > before.highest_modseq,
	       "%s: rebuild keeps uids, flags and UIDVALIDITY, raises modseq",
	       fmt_name);
	dbox_mailbox_close(&box);
}

static void test_index_lost(void)
{
	struct dbox_status before, after;
	const char *error;
	char path[512];

	dbox_mailbox_status(storage, "Purge", &before, &error);
	dbox_storage_close(&storage);
	snprintf(path, sizeof(path), "%s/dboxd-index", root);
	tap_rm_rf(path);
	open_storage();
	tap_ok(dbox_mailbox_status(storage, "Purge", &after, &error) == 0 &&
	       after.messages == before.messages,
	       "%s: with the index deleted, messages come back from files",
	       fmt_name);
}

/* The file we write for Dovecot's own test message, byte for byte. */
static void test_dovecot_bytes(void)
{
	static const char wire[] = "From: a@b.c\r\nTo: d@e.f\r\nSubject: hello"
		"\r\n\r\nbody line\r\nline2\r\n";
	static const char expect_tail[] =
		"\001\002N          0000000000000036\n"
		"From: a@b.c\nTo: d@e.f\nSubject: hello\n\nbody line\nline2\n"
		"\n\001\003\nR6b0af20e\nV3c\n"
		"G1209f5160ef20a6bff1c000083ecc375\n";
	struct dbox_append_params p = { 0x6b0af20e, 0, NULL,
					"1209f5160ef20a6bff1c000083ecc375" };
	struct dbox_mailbox *box;
	char path[512], buf[1024];
	const char *error;
	uint32_t uid;
	ssize_t n = -1;
	int fd;

	dbox_mailbox_create(storage, "Bytes", 0, &error);
	box = open_box("Bytes", 0);
	dbox_mail_append(box, wire, sizeof(wire) - 1, &p, &uid, &error);
	dbox_mailbox_close(&box);
	if (fmt == DBOX_FORMAT_SDBOX) {
		snprintf(path, sizeof(path),
			 "%s/mailboxes/Bytes/dbox-Mails/u.%u", root, uid);
		fd = open(path, O_RDONLY);
		if (fd >= 0)
			n = read(fd, buf, sizeof(buf));
		close(fd);
		tap_ok(n == 16 + (ssize_t)sizeof(expect_tail) &&
		       memcmp(buf, "2 M1e C", 7) == 0 &&
		       memcmp(buf + 16, expect_tail,
			      sizeof(expect_tail) - 1) == 0 && buf[n - 1] == '\n',
		       "sdbox: the file matches Dovecot's byte for byte "
		       "(but the creation stamp)");
	} else {
		char *found = NULL;
		DIR *dir;
		struct dirent *d;

		snprintf(path, sizeof(path), "%s/storage", root);
		dir = opendir(path);
		while (dir != NULL && (d = readdir(dir)) != NULL) {
			char file[1024];
			static char data[1 << 20];

			if (strncmp(d->d_name, "m.", 2) != 0)
				continue;
			snprintf(file, sizeof(file), "%s/%s", path, d->d_name);
			fd = open(file, O_RDONLY);
			n = fd < 0 ? -1 : read(fd, data, sizeof(data));
			if (fd >= 0)
				close(fd);
			if (n > 0)
				found = memmem(data, (size_t)n, expect_tail,
					       sizeof(expect_tail) - 1);
			if (found != NULL) {
				found = memcmp(found + sizeof(expect_tail) - 1,
					       "BBytes\n\n", 8) == 0 ?
					found : NULL;
				break;
			}
		}
		if (dir != NULL)
			closedir(dir);
		tap_ok(found != NULL, "mdbox: the message block matches "
		       "Dovecot's byte for byte, with B<mailbox>");
	}
}

static void run_format(enum dbox_format f, const char *name)
{
	fmt = f;
	fmt_name = name;
	root = tap_tempdir(name);
	open_storage();
	test_inbox_exists();
	test_create_delete();
	test_subscriptions();
	test_append_fetch();
	test_append_refusals();
	test_append_many();
	test_copy_move();
	test_store();
	test_expunge();
	test_async_fetch();
	test_recent();
	test_rename();
	test_purge();
	test_rebuild_keeps_state();
	reopen_storage();
	test_index_lost();
	test_dovecot_bytes();
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
