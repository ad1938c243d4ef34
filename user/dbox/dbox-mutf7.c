// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Modified UTF-7 (RFC 3501 5.1.3), the mailbox name encoding on the IMAP
 * wire and, as Dovecot stores it by default, on disk.
 *
 * Decoding is strict: the decoded name is encoded again and must give back
 * the input, which rejects every non-canonical form (encoded printable
 * ASCII, adjacent base64 runs, non-zero padding bits) along with plain
 * garbage. Two spellings of one name could otherwise reach two different
 * directories.
 */
#include <stdlib.h>
#include <string.h>

#include "dbox-util.h"
#include "dbox-utf8.h"

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64value(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(b64chars, c);
	return p == NULL ? -1 : (int)(p - b64chars);
}

static void flush_utf16(struct dbox_buf *out, const uint16_t *units,
			unsigned int count)
{
	uint32_t bits = 0;
	unsigned int nbits = 0, i;
	char c;

	dbox_buf_append(out, "&", 1);
	for (i = 0; i < count; i++) {
		bits = (bits << 16) | units[i];
		nbits += 16;
		while (nbits >= 6) {
			nbits -= 6;
			c = b64chars[(bits >> nbits) & 0x3f];
			dbox_buf_append(out, &c, 1);
		}
		bits &= (1U << nbits) - 1;
	}
	if (nbits > 0) {
		c = b64chars[(bits << (6 - nbits)) & 0x3f];
		dbox_buf_append(out, &c, 1);
	}
	dbox_buf_append(out, "-", 1);
}

int dbox_utf8_to_mutf7(const char *utf8, char **mutf7_r, const char **error_r)
{
	struct dbox_buf out = { 0 };
	uint16_t *units;
	unsigned int nunits = 0;
	const unsigned char *p = (const unsigned char *)utf8;
	uint32_t cp;
	int len;

	units = dbox_malloc((strlen(utf8) + 1) * 2 * sizeof(*units));
	while (*p != '\0') {
		len = dbox_utf8_decode(p, &cp);
		if (len < 0) {
			free(units);
			dbox_buf_free(&out);
			return dbox_fail(error_r, DBOX_ERROR_PARAMS,
					 "Mailbox name is not valid UTF-8");
		}
		p += len;
		if (cp >= 0x20 && cp <= 0x7e) {
			if (nunits > 0) {
				flush_utf16(&out, units, nunits);
				nunits = 0;
			}
			char c = (char)cp;

			if (c == '&')
				dbox_buf_append(&out, "&-", 2);
			else
				dbox_buf_append(&out, &c, 1);
		} else if (cp >= 0x10000) {
			cp -= 0x10000;
			units[nunits++] = (uint16_t)(0xd800 + (cp >> 10));
			units[nunits++] = (uint16_t)(0xdc00 + (cp & 0x3ff));
		} else {
			units[nunits++] = (uint16_t)cp;
		}
	}
	if (nunits > 0)
		flush_utf16(&out, units, nunits);
	free(units);
	dbox_buf_append(&out, "", 0);
	*mutf7_r = (char *)out.data;
	return 0;
}

/* Decode one base64 run (between '&' and '-') into UTF-8. */
static int decode_run(const char *run, size_t len, struct dbox_buf *out)
{
	uint32_t bits = 0, cp;
	unsigned int nbits = 0;
	uint16_t unit, high = 0;
	unsigned char utf8[4];
	size_t i;
	int v;

	for (i = 0; i < len; i++) {
		v = b64value(run[i]);
		if (v < 0)
			return -1;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		unit = (uint16_t)(bits >> nbits);
		bits &= (1U << nbits) - 1;
		if (unit >= 0xd800 && unit <= 0xdbff) {
			if (high != 0)
				return -1;
			high = unit;
			continue;
		}
		if (unit >= 0xdc00 && unit <= 0xdfff) {
			if (high == 0)
				return -1;
			cp = 0x10000 + (((uint32_t)high - 0xd800) << 10) +
				(unit - 0xdc00);
			high = 0;
		} else {
			if (high != 0)
				return -1;
			cp = unit;
		}
		dbox_buf_append(out, utf8, (size_t)dbox_utf8_encode(cp, utf8));
	}
	/* leftover bits must be padding: fewer than 6, all zero (the
	   re-encode check catches non-zero ones) */
	return high != 0 || nbits >= 6 ? -1 : 0;
}

int dbox_mutf7_to_utf8(const char *mutf7, char **utf8_r, const char **error_r)
{
	struct dbox_buf out = { 0 };
	const char *p = mutf7, *end;
	char *again;

	for (; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			goto invalid;
		if (*p != '&') {
			dbox_buf_append(&out, p, 1);
			continue;
		}
		end = strchr(p + 1, '-');
		if (end == NULL)
			goto invalid;
		if (end == p + 1)
			dbox_buf_append(&out, "&", 1);
		else if (decode_run(p + 1, (size_t)(end - p - 1), &out) < 0)
			goto invalid;
		p = end;
	}
	dbox_buf_append(&out, "", 0);
	/* canonical form only */
	if (dbox_utf8_to_mutf7((char *)out.data, &again, error_r) < 0)
		goto invalid;
	if (strcmp(again, mutf7) != 0) {
		free(again);
		goto invalid;
	}
	free(again);
	*utf8_r = (char *)out.data;
	return 0;

invalid:
	dbox_buf_free(&out);
	return dbox_fail(error_r, DBOX_ERROR_PARAMS,
			 "Mailbox name is not valid modified UTF-7");
}
