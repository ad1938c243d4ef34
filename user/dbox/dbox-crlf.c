// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

#include "dbox-crlf.h"

size_t dbox_crlf_to_lf(const unsigned char *in, size_t size,
		       unsigned char *out)
{
	size_t i, o = 0;

	for (i = 0; i < size; i++) {
		if (in[i] == '\r' && i + 1 < size && in[i + 1] == '\n')
			continue;
		out[o++] = in[i];
	}
	return o;
}

void dbox_msg_sizes_compute(const unsigned char *data, size_t size,
			    struct dbox_msg_sizes *sizes_r)
{
	uint64_t extra = 0;
	bool in_header = true, line_start = true;
	size_t i;

	memset(sizes_r, 0, sizeof(*sizes_r));
	for (i = 0; i < size; i++) {
		if (data[i] != '\n') {
			/* a line holding only CR is empty too */
			if (!(data[i] == '\r' && i + 1 < size &&
			      data[i + 1] == '\n'))
				line_start = false;
			continue;
		}
		if (i == 0 || data[i - 1] != '\r')
			extra++;
		if (in_header && line_start) {
			/* the empty line ending the header */
			in_header = false;
			sizes_r->hdr_phys_size = i + 1;
			sizes_r->hdr_virt_size = i + 1 + extra;
		}
		line_start = true;
	}
	sizes_r->phys_size = size;
	sizes_r->virt_size = size + extra;
	if (in_header) {
		/* no body: the whole message is header */
		sizes_r->hdr_phys_size = size;
		sizes_r->hdr_virt_size = size + extra;
	}
}

/* Append the part of data (wire bytes [*pos, *pos + n)) inside [skip, end). */
static void emit_range(const void *data, uint64_t n, uint64_t *pos,
		       uint64_t skip, uint64_t end, struct dbox_buf *out)
{
	uint64_t a = *pos > skip ? *pos : skip;
	uint64_t b = *pos + n < end ? *pos + n : end;

	if (a < b)
		dbox_buf_append(out, (const unsigned char *)data + (a - *pos),
				(size_t)(b - a));
	*pos += n;
}

void dbox_lf_to_crlf(const unsigned char *in, size_t size, bool prev_cr,
		     uint64_t skip, uint64_t max, struct dbox_buf *out)
{
	uint64_t pos = 0, end = max > UINT64_MAX - skip ? UINT64_MAX :
		skip + max;
	const unsigned char *nl;
	size_t i = 0, run_end;
	bool add_cr;

	/* typical mail has a line every ~70 bytes; the buffer grows if not */
	dbox_buf_reserve(out, (size_t)((uint64_t)size + size / 32 < max ?
				       size + size / 32 : max));
	while (i < size && pos < end) {
		nl = memchr(in + i, '\n', size - i);
		run_end = nl == NULL ? size : (size_t)(nl - in);
		emit_range(in + i, run_end - i, &pos, skip, end, out);
		if (nl == NULL)
			break;
		add_cr = run_end == 0 ? !prev_cr : in[run_end - 1] != '\r';
		emit_range(add_cr ? "\r\n" : "\n", add_cr ? 2 : 1, &pos, skip,
			   end, out);
		i = run_end + 1;
	}
}
