/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Base64 (RFC 4648) for SASL exchanges. */
#ifndef DBOXD_BASE64_H
#define DBOXD_BASE64_H

#include <stddef.h>

#include "buf.h"

void dboxd_base64_encode(struct dboxd_buf *out, const void *data, size_t len);
/* Strict: padding required, no whitespace. Returns 0, -1 if invalid. */
int dboxd_base64_decode(const char *in, size_t len, struct dboxd_buf *out);

#endif
