/* SPDX-License-Identifier: GPL-2.0-or-later */
/* FETCH ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501 7.4.2), and the
   address parser they and SEARCH/SORT share. */
#ifndef DBOXD_IMAP_ENVELOPE_H
#define DBOXD_IMAP_ENVELOPE_H

#include <stdbool.h>

#include "buf.h"
#include "mime.h"

struct imap_address {
	const char *name;	/* display name as written (may be NULL) */
	const char *route;	/* source route, NULL mostly */
	const char *mailbox;	/* local part, or the group name */
	const char *host;	/* NULL for a group start/end */
	bool group_start, group_end;
};

/* Parse an address-list header value (unfolded). */
void imap_address_parse(struct dboxd_pool *pool, const char *value,
			struct imap_address **addrs_r, unsigned int *count_r);
void imap_envelope_write(struct dboxd_buf *out, struct dboxd_pool *pool,
			 const char *hdr, size_t hdr_size);
/* extended: BODYSTRUCTURE (with extension data) rather than BODY. */
void imap_bodystructure_write(struct dboxd_buf *out,
			      const struct mime_message *msg,
			      const struct mime_part *part, bool extended);

#endif
