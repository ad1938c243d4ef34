// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * FETCH: read message parts through dbox-io with a bounded window of reads
 * in flight (the read-ahead: with io_uring the kernel sees many requests
 * at once and can merge and reorder them), deliver them in request order,
 * converted to wire form (CRLF).
 *
 * One read per message covers its msg header (checked: magic, size) and
 * the physical bytes the requested range needs: each stored byte becomes
 * at least one wire byte, so wire range [o, o+l) of a part never needs
 * more than its first o+l stored bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbox-log.h"
#include "dbox-private.h"
#include "dbox-view.h"
#include "io/dbox-io-internal.h"

enum item_state {
	ITEM_PENDING,
	ITEM_READING,
	ITEM_DONE,
};

struct fetch_item {
	struct dbox_fetch *fetch;
	struct dbox_fetch_req req;
	enum item_state state;
	struct dbox_mail_loc loc;
	unsigned char *buf;
	size_t want;			/* bytes asked of the read */
	uint64_t part_start;		/* part's first byte in the body */
	uint64_t part_phys;		/* stored bytes of the part to use */
	uint64_t phys_size;
	struct dbox_buf out;
	enum dbox_error err;
	char *error;
};

struct dbox_fetch {
	struct dbox_mailbox *box;
	dbox_fetch_callback_t *cb;
	void *context;
	struct fetch_item *items;
	unsigned int count;
	unsigned int next_submit, next_deliver, in_flight, window;
	bool cancelled;			/* freed by the caller early */
};

static void item_fail(struct fetch_item *item, enum dbox_error err,
		      const char *error)
{
	item->err = err;
	item->error = dbox_strdup(error);
	item->state = ITEM_DONE;
}

/* The stored range of the requested part. */
static void item_plan(struct fetch_item *item, const struct dbox_mail *mail,
		      const struct dbox_mail_priv *priv)
{
	uint64_t part_end = mail->physical_size, need;
	uint64_t hdr = priv->hdr_phys_size;

	item->phys_size = mail->physical_size;
	switch (item->req.part) {
	case DBOX_FETCH_WHOLE:
		item->part_start = 0;
		break;
	case DBOX_FETCH_HEADER:
		item->part_start = 0;
		part_end = hdr;
		break;
	case DBOX_FETCH_TEXT:
		item->part_start = hdr;
		break;
	}
	need = item->req.length > UINT64_MAX - item->req.offset ? UINT64_MAX :
		item->req.offset + item->req.length;
	item->part_phys = part_end - item->part_start;
	if (need < item->part_phys)
		item->part_phys = need;
}

static void read_done(void *context, int64_t result);
static void fetch_pump(struct dbox_fetch *fetch);
static void fetch_free_now(struct dbox_fetch *fetch);

/* The end of an item that failed before any I/O, run by dbox_io_run()
   like a read's: delivering it at once would call the caller back from
   inside dbox_fetch_start(), before it could wait for the callback. */
static void early_fail_done(void *context, int64_t result ATTR_UNUSED)
{
	struct fetch_item *item = context;
	struct dbox_fetch *fetch = item->fetch;

	fetch->in_flight--;
	item->state = ITEM_DONE;
	if (fetch->cancelled) {
		if (fetch->in_flight == 0)
			fetch_free_now(fetch);
		return;
	}
	fetch_pump(fetch);
}

static void item_fail_early(struct dbox_fetch *fetch, struct fetch_item *item,
			    enum dbox_error err, const char *error)
{
	item_fail(item, err, error);
	item->state = ITEM_READING;
	fetch->in_flight++;
	dbox_io_defer(fetch->box->storage->io, false, early_fail_done, item);
}

static void item_submit(struct dbox_fetch *fetch, struct fetch_item *item)
{
	struct dbox_mailbox *box = fetch->box;
	const char *error;
	int idx = dbox_view_find(box, item->req.uid);

	if (idx < 0) {
		item_fail_early(fetch, item, DBOX_ERROR_EXPUNGED,
				"Message was expunged");
		return;
	}
	item_plan(item, &box->mails[idx], &box->priv[idx]);
	if (box->storage->ops->open_mail(box, NULL, item->req.uid,
					 &box->priv[idx], &item->loc,
					 &error) < 0) {
		item->loc.fd = -1;
		item_fail_early(fetch, item, dbox_last_error(), error);
		return;
	}
	item->want = item->loc.msg_header_size + item->part_start +
		item->part_phys;
	item->buf = dbox_mail_malloc(box->storage->set.mail_alloc,
				     item->want + 1);
	item->state = ITEM_READING;
	fetch->in_flight++;
	dbox_io_read(box->storage->io, item->loc.fd, item->buf, item->want,
		     item->loc.offset, read_done, item);
}

static void item_convert(struct fetch_item *item, int64_t result)
{
	const unsigned char *part;
	uint64_t body_size;
	const char *error;
	bool prev_cr;

	if (result < 0) {
		errno = (int)-result;
		dbox_fail(&error, DBOX_ERROR_TEMP, "read failed: %m");
		item_fail(item, DBOX_ERROR_TEMP, error);
		return;
	}
	if ((size_t)result < item->want) {
		item_fail(item, DBOX_ERROR_CORRUPTED,
			  "Corrupted dbox file: message is truncated");
		return;
	}
	if (dbox_msg_header_parse(item->buf, (size_t)result,
				  item->loc.msg_header_size, &body_size,
				  &error) < 0) {
		item_fail(item, DBOX_ERROR_CORRUPTED, error);
		return;
	}
	if (body_size != item->phys_size) {
		item_fail(item, DBOX_ERROR_CORRUPTED, "Corrupted dbox file: "
			  "message size differs from the index");
		return;
	}
	part = item->buf + item->loc.msg_header_size + item->part_start;
	prev_cr = item->part_start > 0 && part[-1] == '\r';
	dbox_lf_to_crlf(part, item->part_phys, prev_cr, item->req.offset,
			item->req.length, &item->out);
	dbox_buf_append(&item->out, "", 0);
	item->state = ITEM_DONE;
}

static void item_release(struct fetch_item *item)
{
	if (item->loc.fd >= 0 && !item->loc.cached)
		close(item->loc.fd);
	item->loc.fd = -1;
	dbox_mail_free(item->out.alloc, item->buf);
	item->buf = NULL;
}

static void fetch_free_now(struct dbox_fetch *fetch)
{
	unsigned int i;

	for (i = 0; i < fetch->count; i++) {
		item_release(&fetch->items[i]);
		dbox_buf_free(&fetch->items[i].out);
		free(fetch->items[i].error);
	}
	free(fetch->items);
	dbox_mailbox_unref(&fetch->box);
	free(fetch);
}

/* Deliver what is ready, in order, and keep the window full. Items that
   fail before any I/O (expunged) complete through dbox_io_defer(), so the
   caller's callback only ever runs from dbox_io_run(). */
static void fetch_pump(struct dbox_fetch *fetch)
{
	struct fetch_item *item;
	bool progress = true;

	while (progress && !fetch->cancelled) {
		progress = false;
		while (!fetch->cancelled && fetch->next_deliver < fetch->count &&
		       fetch->items[fetch->next_deliver].state == ITEM_DONE) {
			item = &fetch->items[fetch->next_deliver];
			item_release(item);
			fetch->cb(fetch->context, fetch->next_deliver,
				  item->out.data, item->out.len, item->err,
				  item->error);
			dbox_buf_free(&item->out);
			fetch->next_deliver++;
			progress = true;
		}
		while (!fetch->cancelled && fetch->next_submit < fetch->count &&
		       fetch->in_flight < fetch->window &&
		       fetch->next_submit < fetch->next_deliver +
		       fetch->window * 2) {
			item_submit(fetch, &fetch->items[fetch->next_submit++]);
			progress = true;
		}
	}
}

static void read_done(void *context, int64_t result)
{
	struct fetch_item *item = context;
	struct dbox_fetch *fetch = item->fetch;

	fetch->in_flight--;
	if (fetch->cancelled) {
		item_release(item);
		item->state = ITEM_DONE;
		if (fetch->in_flight == 0)
			fetch_free_now(fetch);
		return;
	}
	item_convert(item, result);
	fetch_pump(fetch);
}

int dbox_fetch_start(struct dbox_mailbox *box,
		     const struct dbox_fetch_req *reqs, unsigned int count,
		     dbox_fetch_callback_t *cb, void *context,
		     struct dbox_fetch **fetch_r, const char **error_r)
{
	struct dbox_fetch *fetch;
	unsigned int i;

	for (i = 0; i < count; i++) {
		if (reqs[i].part > DBOX_FETCH_TEXT)
			return dbox_fail(error_r, DBOX_ERROR_PARAMS,
					 "Unknown fetch part");
	}
	fetch = dbox_calloc(1, sizeof(*fetch));
	/* reads in flight outlive a dbox_mailbox_close() of the caller's */
	fetch->box = dbox_mailbox_ref(box);
	fetch->cb = cb;
	fetch->context = context;
	fetch->window = box->storage->set.fetch_window;
	fetch->items = dbox_calloc(count, sizeof(*fetch->items));
	fetch->count = count;
	for (i = 0; i < count; i++) {
		fetch->items[i].fetch = fetch;
		fetch->items[i].req = reqs[i];
		fetch->items[i].loc.fd = -1;
		/* the read and the wire form are message content */
		fetch->items[i].out.alloc = box->storage->set.mail_alloc;
	}
	fetch_pump(fetch);
	*fetch_r = fetch;
	return 0;
}

bool dbox_fetch_is_done(const struct dbox_fetch *fetch)
{
	return fetch->next_deliver == fetch->count;
}

int dbox_fetch_wait(struct dbox_fetch *fetch, const char **error_r)
{
	struct dbox_io *io = fetch->box->storage->io;

	while (!dbox_fetch_is_done(fetch)) {
		if (dbox_io_run(io, -1) < 0)
			return dbox_fail(error_r, DBOX_ERROR_TEMP,
					 "io loop failed: %m");
	}
	return 0;
}

void dbox_fetch_free(struct dbox_fetch **_fetch)
{
	struct dbox_fetch *fetch = *_fetch;

	if (fetch == NULL)
		return;
	*_fetch = NULL;
	fetch->cancelled = true;
	/* reads in flight write into our buffers: the last one to
	   complete frees everything (this may be called from a callback,
	   where waiting is impossible) */
	if (fetch->in_flight == 0)
		fetch_free_now(fetch);
}

struct fetch_one {
	void *data;
	size_t size;
	enum dbox_error err;
	char *error;
};

static void fetch_one_cb(void *context, unsigned int idx ATTR_UNUSED,
			 const void *data, size_t size, enum dbox_error err,
			 const char *error)
{
	struct fetch_one *one = context;

	if (error != NULL) {
		one->err = err;
		one->error = dbox_strdup(error);
		return;
	}
	one->data = dbox_malloc(size + 1);
	memcpy(one->data, data, size);
	((char *)one->data)[size] = '\0';
	one->size = size;
}

int dbox_mail_fetch(struct dbox_mailbox *box, const struct dbox_fetch_req *req,
		    void **data_r, size_t *size_r, const char **error_r)
{
	struct fetch_one one = { NULL, 0, DBOX_ERROR_NONE, NULL };
	struct dbox_fetch *fetch;
	int ret;

	if (dbox_fetch_start(box, req, 1, fetch_one_cb, &one, &fetch,
			     error_r) < 0)
		return -1;
	ret = dbox_fetch_wait(fetch, error_r);
	dbox_fetch_free(&fetch);
	if (ret == 0 && one.error != NULL)
		ret = dbox_fail(error_r, one.err, "%s", one.error);
	free(one.error);
	if (ret < 0) {
		free(one.data);
		return -1;
	}
	*data_r = one.data;
	*size_r = one.size;
	return 0;
}
