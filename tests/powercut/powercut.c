// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Power-cut test of the dbox storage, run inside a QEMU guest on a virtio
 * disk (tests/powercut/guest.sh, driven by tests/suites/powercut.sh).
 *
 *   powercut write ROOT FORMAT SEED    change the mail root until the guest
 *                                      dies, logging to stdout
 *   powercut verify ROOT FORMAT LOG    after the next boot, check the root
 *                                      against that log; TAP lines out
 *
 * The writer appends (one message, or three at once as MULTIAPPEND does),
 * expunges, replaces flags and, on mdbox, purges. Before each operation it
 * writes "B <op> <args>" and once the storage has reported it done
 * "A <op> <args>". stdout is a file on the host's 9p share: a write() there
 * has reached the host when it returns, so the log never claims more than
 * the storage had acknowledged when QEMU was killed. The guest's page
 * cache dies with it, which is what a power cut does to data that was
 * never fsync'd.
 *
 * What must hold after the cut: the mailbox opens; every acknowledged
 * message is there and reads back byte for byte; acknowledged expunges
 * stay expunged; acknowledged flags are set. Only the last, unacknowledged
 * operation may or may not have happened, and a MULTIAPPEND in flight
 * must have happened entirely or not at all.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbox.h"

#define BOX		"INBOX"
#define MULTI		3
#define MAX_IDS		100000

/* ---- messages, derived from their id alone ---------------------------- */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Message id in wire form (CRLF): headers, then 1-40 kB of body lines,
   so that appends cross page and block boundaries. */
static char *message(unsigned int id, size_t *size_r)
{
	uint64_t r = mix(id + 1);
	unsigned int lines = 16 + r % 600;
	size_t cap = 512 + lines * 80;
	char *buf = malloc(cap);
	size_t n;

	if (buf == NULL)
		abort();
	n = snprintf(buf, cap,
		     "From: writer@example.org\r\n"
		     "To: reader@example.org\r\n"
		     "Subject: power cut %u\r\n"
		     "Message-ID: <pc-%u@example.org>\r\n"
		     "\r\n", id, id);
	for (unsigned int i = 0; i < lines; i++) {
		r = mix(r + i);
		n += snprintf(buf + n, cap - n,
			      "%u/%u %016" PRIx64 " %016" PRIx64 " %016" PRIx64
			      "\r\n", id, i, r, mix(r), mix(r + 1));
	}
	*size_r = n;
	return buf;
}

static void die(const char *what, const char *error)
{
	fprintf(stderr, "powercut: %s: %s\n", what, error);
	exit(2);
}

/* One line to the log, whole, with one write(): it is on the host once
   write() returns. */
static void logf_line(const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	if (write(STDOUT_FILENO, line, n) != n)
		die("log", strerror(errno));
}

static struct dbox_storage *open_storage(const char *root, const char *fmt)
{
	struct dbox_storage_settings set = { 0 };
	struct dbox_storage *storage;
	const char *error;

	if (strcmp(fmt, "sdbox") == 0)
		set.format = DBOX_FORMAT_SDBOX;
	else if (strcmp(fmt, "mdbox") == 0)
		set.format = DBOX_FORMAT_MDBOX;
	else
		die(fmt, "format must be sdbox or mdbox");
	/* Small files, so that rotation and purge happen within a run. */
	set.mdbox_rotate_size = 256 * 1024;
	if (dbox_storage_open(root, &set, &storage, &error) < 0)
		die("open storage", error);
	return storage;
}

/* ---- writer ----------------------------------------------------------- */

struct live {
	uint32_t uid;
	unsigned int id;
};

static int do_write(const char *root, const char *fmt, unsigned int seed)
{
	struct dbox_storage *storage = open_storage(root, fmt);
	bool mdbox = dbox_storage_get_format(storage) == DBOX_FORMAT_MDBOX;
	struct live *live = calloc(MAX_IDS, sizeof(*live));
	unsigned int nlive = 0, next_id = 0;
	struct dbox_mailbox *box;
	const char *error;
	uint64_t r = seed;

	if (live == NULL)
		die("writer", "out of memory");
	if (dbox_mailbox_open(storage, BOX, 0, &box, &error) < 0)
		die("open " BOX, error);
	while (next_id + MULTI < MAX_IDS) {
		unsigned int op = (r = mix(r)) % 100;

		if (op < 55 || nlive < 4) {
			struct dbox_append_params params = { 0 };
			unsigned int id = next_id++;
			size_t size;
			char *data = message(id, &size);
			uint32_t uid;

			logf_line("B append %u", id);
			if (dbox_mail_append(box, data, size, &params, &uid,
					     &error) < 0)
				die("append", error);
			logf_line("A append %u %" PRIu32, id, uid);
			live[nlive++] = (struct live){ uid, id };
			free(data);
		} else if (op < 70) {
			struct dbox_append_msg msgs[MULTI] = { 0 };
			uint32_t uids[MULTI];
			unsigned int first = next_id;

			for (unsigned int i = 0; i < MULTI; i++)
				msgs[i].data = message(next_id++,
						       &msgs[i].size);
			logf_line("B multi %u", first);
			if (dbox_mail_append_many(box, msgs, MULTI, uids,
						  &error) < 0)
				die("append_many", error);
			logf_line("A multi %u %" PRIu32 " %" PRIu32
				  " %" PRIu32, first, uids[0], uids[1],
				  uids[2]);
			for (unsigned int i = 0; i < MULTI; i++) {
				live[nlive++] = (struct live){ uids[i],
							       first + i };
				free((void *)msgs[i].data);
			}
		} else if (op < 85) {
			unsigned int k = (r = mix(r)) % nlive;
			uint32_t uid = live[k].uid;

			logf_line("B expunge %" PRIu32, uid);
			if (dbox_mail_expunge(box, &uid, 1, &error) < 0)
				die("expunge", error);
			logf_line("A expunge %" PRIu32, uid);
			live[k] = live[--nlive];
		} else if (op < 97 || !mdbox) {
			struct dbox_store_params params = {
				.mode = DBOX_STORE_REPLACE,
			};
			unsigned int k = (r = mix(r)) % nlive;
			uint32_t uid = live[k].uid;

			params.flags = (r >> 8) & DBOX_MAIL_FLAGS_MASK;
			logf_line("B flags %" PRIu32 " %" PRIu32, uid,
				  params.flags);
			if (dbox_mail_store(box, &uid, 1, &params, NULL, NULL,
					    &error) < 0)
				die("store", error);
			logf_line("A flags %" PRIu32 " %" PRIu32, uid,
				  params.flags);
		} else {
			logf_line("B purge");
			if (dbox_storage_purge(storage, &error) < 0)
				die("purge", error);
			logf_line("A purge");
		}
	}
	/* Not reached in the test: the guest is killed long before. */
	dbox_mailbox_close(&box);
	dbox_storage_close(&storage);
	free(live);
	return 0;
}

/* ---- verifier --------------------------------------------------------- */

/* What the log says must be true. */
struct expect {
	unsigned int *id_of;		/* by uid; 0 = none, else id + 1 */
	uint32_t *flags_of;		/* by uid */
	bool *expunged;			/* by uid */
	uint32_t max_uid;
	unsigned int acked;
	/* The operation in flight at the cut (no "A" line). */
	char pending[16];
	unsigned int pending_arg;	/* id, or uid */
};

static unsigned int tests, failures;

static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	tests++;
	failures += !ok;
	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void set_uid(struct expect *e, uint32_t uid, unsigned int id)
{
	if (uid == 0 || uid >= MAX_IDS * 2)
		die("log", "uid out of range");
	e->id_of[uid] = id + 1;
	e->flags_of[uid] = 0;
	if (uid > e->max_uid)
		e->max_uid = uid;
	e->acked++;
}

static void read_log(const char *path, struct expect *e)
{
	FILE *f = fopen(path, "r");
	char line[256], op[16];
	unsigned int a, b, c, d;

	if (f == NULL)
		die(path, strerror(errno));
	e->pending[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		/* A line cut short by the kill has no newline: ignore it. */
		if (strchr(line, '\n') == NULL)
			break;
		if (line[0] == 'B') {
			a = 0;
			if (sscanf(line, "B %15s %u", op, &a) < 1)
				die(path, "bad B line");
			snprintf(e->pending, sizeof(e->pending), "%s", op);
			e->pending_arg = a;
			continue;
		}
		e->pending[0] = '\0';
		if (sscanf(line, "A append %u %u", &a, &b) == 2) {
			set_uid(e, b, a);
		} else if (sscanf(line, "A multi %u %u %u %u", &a, &b, &c,
				  &d) == 4) {
			set_uid(e, b, a);
			set_uid(e, c, a + 1);
			set_uid(e, d, a + 2);
		} else if (sscanf(line, "A expunge %u", &a) == 1 &&
			   a < MAX_IDS * 2) {
			e->expunged[a] = true;
		} else if (sscanf(line, "A flags %u %u", &a, &b) == 2 &&
			   a < MAX_IDS * 2) {
			e->flags_of[a] = b;
		} else if (strncmp(line, "A purge", 7) != 0) {
			die(path, "unknown log line");
		}
	}
	fclose(f);
}

/* Is this message, which the log did not acknowledge, the one in flight? */
static bool from_pending(const struct expect *e, unsigned int id)
{
	if (strcmp(e->pending, "append") == 0)
		return id == e->pending_arg;
	if (strcmp(e->pending, "multi") == 0)
		return id >= e->pending_arg && id < e->pending_arg + MULTI;
	return false;
}

/* The id a message claims in its Subject, or -1. */
static long subject_id(const char *data, size_t size)
{
	const char *p = memmem(data, size, "Subject: power cut ", 19);

	return p == NULL ? -1 : strtol(p + 19, NULL, 10);
}

static bool same_as_id(const void *data, size_t size, unsigned int id)
{
	size_t want_size;
	char *want = message(id, &want_size);
	bool same = want_size == size && memcmp(want, data, size) == 0;

	free(want);
	return same;
}

static int do_verify(const char *root, const char *fmt, const char *log)
{
	struct expect e = { 0 };
	struct dbox_storage *storage;
	struct dbox_mailbox *box;
	const struct dbox_mail *mails;
	unsigned int count, lost = 0, corrupt = 0, resurrected = 0;
	unsigned int wrong_flags = 0, unexpected = 0, pending_seen = 0;
	bool *present;
	const char *error;

	e.id_of = calloc(MAX_IDS * 2, sizeof(*e.id_of));
	e.flags_of = calloc(MAX_IDS * 2, sizeof(*e.flags_of));
	e.expunged = calloc(MAX_IDS * 2, sizeof(*e.expunged));
	present = calloc(MAX_IDS * 2, sizeof(*present));
	if (!e.id_of || !e.flags_of || !e.expunged || !present)
		die("verify", "out of memory");
	read_log(log, &e);

	storage = open_storage(root, fmt);
	if (dbox_mailbox_open(storage, BOX, DBOX_OPEN_READONLY, &box,
			      &error) < 0) {
		tap(false, "%s: the mailbox opens after the cut  # %s", fmt,
		    error);
		goto out;
	}
	tap(true, "%s: the mailbox opens after the cut (%u messages "
	    "acknowledged, cut during %s)", fmt, e.acked,
	    e.pending[0] != '\0' ? e.pending : "none");

	dbox_mailbox_get_mails(box, &mails, &count);
	for (unsigned int i = 0; i < count; i++) {
		struct dbox_fetch_req req = {
			.uid = mails[i].uid, .part = DBOX_FETCH_WHOLE,
			.length = UINT64_MAX,
		};
		uint32_t uid = mails[i].uid;
		void *data;
		size_t size;
		long id;

		if (uid >= MAX_IDS * 2) {
			unexpected++;
			continue;
		}
		present[uid] = true;
		if (dbox_mail_fetch(box, &req, &data, &size, &error) < 0) {
			fprintf(stderr, "uid %u: %s\n", uid, error);
			corrupt++;
			continue;
		}
		if (e.expunged[uid]) {
			resurrected++;
		} else if (e.id_of[uid] != 0) {
			if (!same_as_id(data, size, e.id_of[uid] - 1))
				corrupt++;
			else if ((mails[i].flags & DBOX_MAIL_FLAGS_MASK) !=
				 e.flags_of[uid] &&
				 !(strcmp(e.pending, "flags") == 0 &&
				   e.pending_arg == uid))
				wrong_flags++;
		} else {
			id = subject_id(data, size);
			if (id >= 0 && from_pending(&e, id) &&
			    same_as_id(data, size, id))
				pending_seen++;
			else
				unexpected++;
		}
		free(data);
	}
	for (uint32_t uid = 1; uid <= e.max_uid; uid++) {
		if (e.id_of[uid] != 0 && !e.expunged[uid] && !present[uid] &&
		    !(strcmp(e.pending, "expunge") == 0 &&
		      e.pending_arg == uid))
			lost++;
	}
	tap(lost == 0, "%s: every acknowledged message is there (%u lost)",
	    fmt, lost);
	tap(corrupt == 0, "%s: every message reads back byte for byte "
	    "(%u differ)", fmt, corrupt);
	tap(resurrected == 0, "%s: acknowledged expunges stay expunged "
	    "(%u back)", fmt, resurrected);
	tap(wrong_flags == 0, "%s: acknowledged flags are set (%u wrong)",
	    fmt, wrong_flags);
	tap(unexpected == 0 && (strcmp(e.pending, "multi") != 0 ||
				pending_seen % MULTI == 0),
	    "%s: nothing unexpected; a MULTIAPPEND in flight is all or none "
	    "(%u unexpected, %u of the one in flight)", fmt, unexpected,
	    pending_seen);
	dbox_mailbox_close(&box);
out:
	dbox_storage_close(&storage);
	free(e.id_of);
	free(e.flags_of);
	free(e.expunged);
	free(present);
	return failures == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "write") == 0)
		return do_write(argv[2], argv[3], strtoul(argv[4], NULL, 10));
	if (argc == 5 && strcmp(argv[1], "verify") == 0)
		return do_verify(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: powercut write ROOT sdbox|mdbox SEED\n"
			"       powercut verify ROOT sdbox|mdbox LOG\n");
	return 2;
}
