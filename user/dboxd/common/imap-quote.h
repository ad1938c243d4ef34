/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing IMAP strings: atom, quoted or literal, whichever is valid. */
#ifndef DBOXD_IMAP_QUOTE_H
#define DBOXD_IMAP_QUOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* As a quoted string if possible, else as a literal. */
void imap_append_string(struct dboxd_buf *out, const char *str, size_t len);
/* As above; NULL writes NIL. */
void imap_append_nstring(struct dboxd_buf *out, const char *str);
/* Atom when the text is a plain atom (and not NIL), else string. */
void imap_append_astring(struct dboxd_buf *out, const char *str);
/* Always a literal: {N}CRLF then the bytes. */
void imap_append_literal(struct dboxd_buf *out, const void *data, size_t len);

#endif
