// SPDX-License-Identifier: GPL-2.0-or-later
/* Saving delivered mail; see deliver.h. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "dbox.h"
#include "deliver.h"
#include "log.h"
#include "storage.h"

int imap_deliver_read_fd(int fd, struct dboxd_buf *msg, uint64_t max,
			 const char **error_r)
{
	uint64_t total = 0;

	if (lseek(fd, 0, SEEK_SET) < 0 && errno != ESPIPE) {
		*error_r = "cannot rewind the message";
		return -1;
	}
	for (;;) {
		unsigned char *p = dboxd_buf_reserve(msg, 65536);
		ssize_t n = read(fd, p, 65536);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = "cannot read the message";
			return -1;
		}
		if (n == 0)
			return 0;
		total += (uint64_t)n;
		if (total > max) {
			*error_r = "message too large";
			return -1;
		}
		dboxd_buf_commit(msg, (size_t)n);
	}
}

/* CRLF line ends: the wire form the storage takes. Copies runs of bytes
   between line ends, not byte by byte. */
static void to_crlf(const struct dboxd_buf *in, struct dboxd_buf *out)
{
	const char *p = (const char *)dboxd_buf_ptr(in);
	size_t len = dboxd_buf_len(in), start = 0;

	for (size_t i = 0; i < len; i++) {
		bool lone_lf = p[i] == '\n' && (i == 0 || p[i - 1] != '\r');
		bool lone_cr = p[i] == '\r' && (i + 1 == len || p[i + 1] != '\n');

		if (!lone_lf && !lone_cr)
			continue;
		dboxd_buf_append(out, p + start, i - start);
		dboxd_buf_append(out, "\r\n", 2);
		start = i + 1;
	}
	dboxd_buf_append(out, p + start, len - start);
}

/* The target mailbox, or INBOX if it does not exist (as an LDA does). */
static int deliver_open(const char *mailbox, struct dbox_mailbox **box_r,
			const char **error_r)
{
	if (dbox_mailbox_open(imap_storage(), mailbox, 0, box_r, error_r) == 0)
		return 0;
	if (dbox_last_error() != DBOX_ERROR_NOTFOUND ||
	    strcmp(mailbox, "INBOX") == 0)
		return -1;
	dboxd_info("mailbox %s does not exist; delivering to INBOX", mailbox);
	return dbox_mailbox_open(imap_storage(), "INBOX", 0, box_r, error_r);
}

int imap_deliver(const struct dboxd_buf *msg, const char *mailbox,
		 const char **error_r)
{
	struct dbox_append_params params;
	struct dbox_mailbox *box;
	struct dboxd_buf wire;
	int ret;

	if (deliver_open(mailbox, &box, error_r) < 0)
		return -1;
	memset(&params, 0, sizeof(params));
	dboxd_buf_init(&wire, true);
	to_crlf(msg, &wire);
	ret = dbox_mail_append(box, dboxd_buf_ptr(&wire), dboxd_buf_len(&wire),
			       &params, NULL, error_r);
	dboxd_buf_free(&wire);
	dbox_mailbox_close(&box);
	return ret;
}

int imap_deliver_start(const struct dboxd_buf *msg, const char *mailbox,
		       dbox_op_callback_t *cb, void *context,
		       const char **error_r)
{
	struct dbox_append_msg am;
	struct dbox_mailbox *box;
	struct dboxd_buf wire;
	int ret;

	if (deliver_open(mailbox, &box, error_r) < 0)
		return -1;
	memset(&am, 0, sizeof(am));
	dboxd_buf_init(&wire, true);
	to_crlf(msg, &wire);
	am.data = dboxd_buf_ptr(&wire);
	am.size = dboxd_buf_len(&wire);
	/* the data is copied at start; the operation holds its own
	   reference to the mailbox until it completes */
	ret = dbox_mail_append_start(box, &am, 1, cb, context, NULL, error_r);
	dboxd_buf_free(&wire);
	dbox_mailbox_close(&box);
	return ret;
}
