/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
#ifndef DBOX_UTF8_H
#define DBOX_UTF8_H

#include <stdint.h>

/* Bytes consumed (1-4), or -1 for an invalid sequence. */
int dbox_utf8_decode(const unsigned char *p, uint32_t *cp_r);
/* Bytes written to out (1-4). */
int dbox_utf8_encode(uint32_t cp, unsigned char out[4]);

#endif
