/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Line ends. Messages are stored with LF (as Dovecot does with its default
 * mail_save_crlf=no) and travel with CRLF. The conversion happens in the
 * library, at both edges: dbox_mail_append() takes wire form and stores
 * LF, fetch returns wire form. The rules match Dovecot's istream-lf and
 * istream-crlf, so our V (virtual size) equals Dovecot's:
 *   store: "\r\n" -> "\n"; a lone CR is kept;
 *   wire:  an LF not preceded by CR becomes "\r\n".
 */
#ifndef DBOX_CRLF_H
#define DBOX_CRLF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dbox-util.h"

/* Stored form of wire data; out needs size bytes. Returns bytes written. */
size_t dbox_crlf_to_lf(const unsigned char *in, size_t size,
		       unsigned char *out);

/* Sizes of stored (LF) data, computed in one pass. */
struct dbox_msg_sizes {
	uint64_t phys_size, virt_size;
	uint64_t hdr_phys_size, hdr_virt_size;	/* header incl. blank line */
};
void dbox_msg_sizes_compute(const unsigned char *data, size_t size,
			    struct dbox_msg_sizes *sizes_r);

/* Convert stored bytes to wire form, keeping only wire bytes in
   [skip, skip + max). prev_cr: whether the stored byte before in[0] was CR
   (an LF at in[0] then gets no CR). */
void dbox_lf_to_crlf(const unsigned char *in, size_t size, bool prev_cr,
		     uint64_t skip, uint64_t max, struct dbox_buf *out);

#endif
