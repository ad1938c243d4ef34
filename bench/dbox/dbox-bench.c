// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dbox-bench: append and fetch throughput of libdbox, synchronous I/O
 * against io_uring with read-ahead, warm and cold page cache, and the
 * latency of fetching 100 messages cold. Every ratio printed is between
 * numbers measured in this same run.
 *
 * usage: dbox-bench [-n COUNT] [-f sdbox|mdbox|both] [-w WINDOW] DIR
 *
 * Cold means after "sync; echo 3 > /proc/sys/vm/drop_caches" (needs root;
 * without it the cold rows say n/a). Dropping the caches affects the whole
 * machine for a moment, which is why this is a benchmark and not a test.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dbox.h"
#include "tests/tap.h"

struct bench {
	unsigned int count, window;
	const char *dir;
	bool can_drop;
	char drop_error[128];
};

struct result {
	double secs;
	uint64_t bytes;
	unsigned int msgs;
	bool valid;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return *st;
}

/* A mailbox-like size mix: mostly small text, some attachments. */
static size_t msg_size(uint64_t id)
{
	uint64_t st = id * 0x9e3779b97f4a7c15ULL + 7, r = rnd(&st) % 100;

	if (r < 70)
		return 2000 + rnd(&st) % 8000;
	if (r < 95)
		return 10000 + rnd(&st) % 90000;
	return 100000 + rnd(&st) % 900000;
}

static bool drop_caches(struct bench *b)
{
	int fd;

	if (!b->can_drop)
		return false;
	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0 || write(fd, "3\n", 2) != 2) {
		snprintf(b->drop_error, sizeof(b->drop_error), "%s",
			 strerror(errno));
		b->can_drop = false;
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	return true;
}

static int open_storage(const char *root, enum dbox_format fmt,
			enum dbox_io_backend backend, unsigned int window,
			struct dbox_storage **storage_r, struct dbox_io **io_r)
{
	struct dbox_io_settings io_set = { backend, 0, true };
	struct dbox_storage_settings set = { .format = fmt,
					     .fetch_window = window,
					     .max_message_size = 16 << 20 };
	const char *error;

	if (dbox_io_create(&io_set, io_r, &error) < 0) {
		fprintf(stderr, "io: %s\n", error);
		return -1;
	}
	set.io = *io_r;
	if (dbox_storage_open(root, &set, storage_r, &error) < 0) {
		fprintf(stderr, "open %s: %s\n", root, error);
		dbox_io_destroy(io_r);
		return -1;
	}
	return 0;
}

static void close_storage(struct dbox_storage **storage, struct dbox_io **io)
{
	dbox_storage_close(storage);
	dbox_io_destroy(io);
}

#define BATCH 100

/* One message after the other, each durable before the next (LMTP
   delivery); ids first_id.. */
static void append_single(struct dbox_mailbox *box, uint64_t first_id,
			  unsigned int count, struct result *res)
{
	const char *error;
	unsigned int i;
	double start = now();
	char *msg;
	size_t len;

	for (i = 0; i < count; i++) {
		msg = tap_message(first_id + i, msg_size(first_id + i), &len);
		if (dbox_mail_append(box, msg, len, NULL, NULL, &error) < 0) {
			fprintf(stderr, "append: %s\n", error);
			free(msg);
			break;
		}
		res->bytes += len;
		free(msg);
	}
	/* making the messages is timed too: the same for every variant,
	   and small next to the fsyncs */
	res->secs = now() - start;
	res->msgs = i;
	res->valid = i == count;
}

/* BATCH messages per durable transaction (an import, MULTIAPPEND). */
static void append_batches(struct dbox_mailbox *box, uint64_t first_id,
			   unsigned int count, struct result *res)
{
	struct dbox_append_msg msgs[BATCH];
	const char *error;
	unsigned int i, j, n;
	double start = now();
	size_t len;

	for (i = 0; i < count; i += n) {
		n = count - i < BATCH ? count - i : BATCH;
		for (j = 0; j < n; j++) {
			memset(&msgs[j], 0, sizeof(msgs[j]));
			msgs[j].data = tap_message(first_id + i + j,
						   msg_size(first_id + i + j),
						   &len);
			msgs[j].size = len;
			res->bytes += len;
		}
		if (dbox_mail_append_many(box, msgs, n, NULL, &error) < 0) {
			fprintf(stderr, "append: %s\n", error);
			count = i;
		}
		for (j = 0; j < n; j++)
			free((void *)msgs[j].data);
	}
	res->secs = now() - start;
	res->msgs = count;
	res->valid = count > 0;
}

/* Fill root with b->count messages: the first `single` one by one. */
static void bench_append(struct bench *b, const char *root,
			 enum dbox_format fmt, enum dbox_io_backend backend,
			 unsigned int single, struct result *single_r,
			 struct result *batch_r)
{
	struct dbox_storage *storage;
	struct dbox_mailbox *box;
	struct dbox_io *io;
	const char *error;

	memset(single_r, 0, sizeof(*single_r));
	memset(batch_r, 0, sizeof(*batch_r));
	if (open_storage(root, fmt, backend, 1, &storage, &io) < 0)
		return;
	if (dbox_mailbox_open(storage, "INBOX", 0, &box, &error) < 0) {
		close_storage(&storage, &io);
		return;
	}
	append_single(box, 1, single, single_r);
	if (b->count > single)
		append_batches(box, single + 1, b->count - single, batch_r);
	dbox_mailbox_close(&box);
	close_storage(&storage, &io);
}

struct fetch_ctx {
	uint64_t bytes;
	unsigned int done, errors;
};

static void fetch_cb(void *context, unsigned int idx, const void *data,
		     size_t size, enum dbox_error err, const char *error)
{
	struct fetch_ctx *ctx = context;

	(void)idx;
	(void)data;
	(void)err;
	ctx->done++;
	if (error != NULL)
		ctx->errors++;
	ctx->bytes += size;
}

/* Fetch count messages (all, or a random sample) with one batch. */
static struct result bench_fetch(struct bench *b, const char *root,
				 enum dbox_format fmt,
				 enum dbox_io_backend backend,
				 unsigned int window, bool cold,
				 unsigned int sample)
{
	struct result res = { 0, 0, 0, false };
	const struct dbox_mail *mails;
	struct dbox_fetch_req *reqs;
	struct fetch_ctx ctx = { 0, 0, 0 };
	struct dbox_storage *storage;
	struct dbox_mailbox *box;
	struct dbox_fetch *fetch;
	struct dbox_io *io;
	unsigned int i, count, n;
	uint64_t st = 42;
	const char *error;
	double start;

	if (cold && !drop_caches(b))
		return res;
	if (open_storage(root, fmt, backend, window, &storage, &io) < 0)
		return res;
	if (dbox_mailbox_open(storage, "INBOX", DBOX_OPEN_READONLY, &box,
			      &error) < 0) {
		close_storage(&storage, &io);
		return res;
	}
	dbox_mailbox_get_mails(box, &mails, &count);
	n = sample != 0 && sample < count ? sample : count;
	reqs = calloc(n, sizeof(*reqs));
	for (i = 0; i < n; i++) {
		/* a sample is scattered over the mailbox, in uid order as a
		   client's UID FETCH of a set would be */
		reqs[i].uid = sample != 0 ? mails[(uint64_t)i * count / n +
			rnd(&st) % (count / n)].uid : mails[i].uid;
		reqs[i].part = DBOX_FETCH_WHOLE;
		reqs[i].length = UINT64_MAX;
	}
	start = now();
	if (dbox_fetch_start(box, reqs, n, fetch_cb, &ctx, &fetch,
			     &error) == 0) {
		if (dbox_fetch_wait(fetch, &error) < 0)
			fprintf(stderr, "fetch: %s\n", error);
		dbox_fetch_free(&fetch);
	}
	res.secs = now() - start;
	res.bytes = ctx.bytes;
	res.msgs = ctx.done;
	res.valid = ctx.done == n && ctx.errors == 0;
	free(reqs);
	dbox_mailbox_close(&box);
	close_storage(&storage, &io);
	return res;
}

static void print_row(const char *fmt_name, const char *what,
		      const char *variant, struct result r)
{
	if (!r.valid) {
		printf("%-6s %-24s %-16s %12s %10s %10s\n", fmt_name, what,
		       variant, "n/a", "", "");
		return;
	}
	printf("%-6s %-24s %-16s %12.1f %10.1f %10.2f\n", fmt_name, what,
	       variant, r.msgs / r.secs, r.bytes / r.secs / 1e6,
	       r.secs * 1000);
}

static void print_ratio(const char *fmt_name, const char *what,
			struct result uring, struct result sync_r)
{
	if (!uring.valid || !sync_r.valid)
		printf("%-6s ratio %-30s n/a\n", fmt_name, what);
	else
		printf("%-6s ratio %-30s io_uring is %.2fx the speed of sync\n",
		       fmt_name, what, sync_r.secs / uring.secs);
}

static void bench_format(struct bench *b, enum dbox_format fmt,
			 const char *name)
{
	char sync_root[1024], uring_root[1024], win[32];
	struct result app_sync, app_uring, batch_sync, batch_uring, r[3][3];
	unsigned int single = b->count < 2000 ? b->count : 2000;
	static const enum dbox_io_backend backends[3] = {
		DBOX_IO_BACKEND_SYNC, DBOX_IO_BACKEND_URING,
		DBOX_IO_BACKEND_URING
	};
	unsigned int windows[3] = { 1, 1, b->window }, v;
	const char *variants[3] = { "sync", "io_uring w=1", win };

	snprintf(win, sizeof(win), "io_uring w=%u", b->window);
	snprintf(sync_root, sizeof(sync_root), "%s/%s-sync", b->dir, name);
	snprintf(uring_root, sizeof(uring_root), "%s/%s-uring", b->dir, name);
	bench_append(b, sync_root, fmt, DBOX_IO_BACKEND_SYNC, single,
		     &app_sync, &batch_sync);
	bench_append(b, uring_root, fmt, DBOX_IO_BACKEND_URING, single,
		     &app_uring, &batch_uring);
	print_row(name, "append one by one", "sync", app_sync);
	print_row(name, "append one by one", "io_uring", app_uring);
	print_row(name, "append 100 per commit", "sync", batch_sync);
	print_row(name, "append 100 per commit", "io_uring", batch_uring);
	for (v = 0; v < 3; v++) {
		r[v][0] = bench_fetch(b, uring_root, fmt, backends[v],
				      windows[v], true, 0);
		print_row(name, "fetch all, cold", variants[v], r[v][0]);
		r[v][1] = bench_fetch(b, uring_root, fmt, backends[v],
				      windows[v], false, 0);
		print_row(name, "fetch all, warm", variants[v], r[v][1]);
		r[v][2] = bench_fetch(b, uring_root, fmt, backends[v],
				      windows[v], true, 100);
		print_row(name, "fetch 100 spread, cold", variants[v],
			  r[v][2]);
	}
	print_ratio(name, "append one by one", app_uring, app_sync);
	print_ratio(name, "append 100 per commit", batch_uring, batch_sync);
	print_ratio(name, "fetch all cold (read-ahead)", r[2][0], r[0][0]);
	print_ratio(name, "fetch all warm (read-ahead)", r[2][1], r[0][1]);
	print_ratio(name, "fetch 100 cold (latency)", r[2][2], r[0][2]);
	print_ratio(name, "fetch all cold, w=1 vs sync", r[1][0], r[0][0]);
}

int main(int argc, char **argv)
{
	struct bench b = { 10000, 32, NULL, true, "" };
	const char *formats = "both";
	int opt;

	while ((opt = getopt(argc, argv, "n:f:w:")) != -1) {
		switch (opt) {
		case 'n':
			b.count = (unsigned int)atoi(optarg);
			break;
		case 'f':
			formats = optarg;
			break;
		case 'w':
			b.window = (unsigned int)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: dbox-bench [-n COUNT] "
				"[-f sdbox|mdbox|both] [-w WINDOW] DIR\n");
			return 2;
		}
	}
	if (optind >= argc || b.count == 0 || b.window == 0) {
		fprintf(stderr, "usage: dbox-bench [-n COUNT] "
			"[-f sdbox|mdbox|both] [-w WINDOW] DIR\n");
		return 2;
	}
	b.dir = argv[optind];
	tap_quiet_logs();
	printf("# %u messages (70%% 2-10 kB, 25%% 10-100 kB, 5%% 0.1-1 MB): "
	       "the first %u appended one by one (each durable), the rest "
	       "%d per commit; rates in msgs/s and MB/s of wire bytes, "
	       "total ms\n", b.count, b.count < 2000 ? b.count : 2000, BATCH);
	printf("%-6s %-24s %-16s %12s %10s %10s\n", "format", "operation",
	       "I/O", "msgs/s", "MB/s", "ms");
	if (strcmp(formats, "mdbox") != 0)
		bench_format(&b, DBOX_FORMAT_SDBOX, "sdbox");
	if (strcmp(formats, "sdbox") != 0)
		bench_format(&b, DBOX_FORMAT_MDBOX, "mdbox");
	if (!b.can_drop)
		printf("# cold rows are n/a: cannot drop caches (%s)\n",
		       b.drop_error);
	return 0;
}
