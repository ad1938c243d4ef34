// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dbox framing and line-end conversion, checked against bytes Dovecot 2.3
 * wrote (doveadm save into sdbox and mdbox, captured while writing this).
 */
#include <stdlib.h>
#include <string.h>

#include "dbox-crlf.h"
#include "dbox-file.h"
#include "tap.h"

#define DOVECOT_BODY "From: a@b.c\nTo: d@e.f\nSubject: hello\n\nbody line\nline2\n"
/* mailboxes/INBOX/dbox-Mails/u.1 as written by doveadm save */
static const char dovecot_sdbox[] =
	"2 M1e C6b0af20e\n"
	"\001\002N          0000000000000036\n"
	DOVECOT_BODY
	"\n\001\003\n"
	"R6b0af20e\n"
	"V3c\n"
	"G1209f5160ef20a6bff1c000083ecc375\n"
	"\n";
/* the metadata of a message in storage/m.1 (mdbox adds B) */
static const char dovecot_mdbox_md[] =
	"\n\001\003\n"
	"R6b0af21f\n"
	"V3c\n"
	"Gb0dfae371ff20a6bb91d000083ecc375\n"
	"BSub/Child\n"
	"\n";

static void test_file_header(void)
{
	struct dbox_file_header hdr;
	struct dbox_buf buf = { 0 };
	const char *error;

	tap_ok(dbox_file_header_parse((const unsigned char *)dovecot_sdbox,
				      sizeof(dovecot_sdbox) - 1, &hdr,
				      &error) == 0 &&
	       hdr.version == 2 && hdr.msg_header_size == 30 &&
	       hdr.create_stamp == 0x6b0af20e && hdr.header_len == 16,
	       "Dovecot's file header parses (version, M, C, length)");
	dbox_file_header_write(&buf, 0x6b0af20e);
	tap_ok(buf.len == 16 && memcmp(buf.data, dovecot_sdbox, 16) == 0,
	       "our file header is byte-identical to Dovecot's");
	dbox_buf_free(&buf);
	tap_ok(dbox_file_header_parse((const unsigned char *)"2 M1e C1 A5 Zfoo\n",
				      17, &hdr, &error) == 0 &&
	       hdr.msg_header_size == 30,
	       "unknown and old header keys are skipped");
	tap_ok(dbox_file_header_parse((const unsigned char *)"3 M1e C1\n", 9,
				      &hdr, &error) < 0 &&
	       dbox_last_error() == DBOX_ERROR_CORRUPTED,
	       "an unknown version is corruption");
	tap_ok(dbox_file_header_parse((const unsigned char *)"2 C1\n", 5,
				      &hdr, &error) < 0,
	       "a header without M is refused");
	tap_ok(dbox_file_header_parse((const unsigned char *)"2 M1e C1", 8,
				      &hdr, &error) < 0,
	       "a header without its LF is refused");
	tap_ok(dbox_file_header_parse((const unsigned char *)"2 Mzz\n", 6,
				      &hdr, &error) < 0,
	       "a non-hex M is refused");
}

static void test_msg_header(void)
{
	unsigned char out[DBOX_MSG_HEADER_SIZE];
	uint64_t size;
	const char *error;

	dbox_msg_header_write(out, 0x36);
	tap_ok(memcmp(out, dovecot_sdbox + 16, 30) == 0,
	       "our 30-byte message header is byte-identical to Dovecot's");
	dbox_msg_header_write(out, 0xABCDEF0123ULL);
	tap_ok(memcmp(out + 13, "000000ABCDEF0123\n", 17) == 0,
	       "sizes are 16 upper-case zero-padded hex digits");
	tap_ok(dbox_msg_header_parse(out, sizeof(out), 30, &size, &error) == 0 &&
	       size == 0xABCDEF0123ULL, "message header parses back");
	out[0] = 'X';
	tap_ok(dbox_msg_header_parse(out, sizeof(out), 30, &size, &error) < 0,
	       "bad magic is corruption");
	dbox_msg_header_write(out, 1);
	out[29] = ' ';
	tap_ok(dbox_msg_header_parse(out, sizeof(out), 30, &size, &error) < 0,
	       "a message header not ending in LF is corruption");
	tap_ok(dbox_msg_header_parse(out, 20, 30, &size, &error) < 0,
	       "a short message header is corruption");
}

static void test_metadata(void)
{
	struct dbox_metadata md;
	struct dbox_buf buf = { 0 };
	const char *error;
	size_t consumed;
	static const char with_unknown[] =
		"\n\001\003\nR1\nQsomething new\nGabc\nXunsupported\n\nTAIL";

	tap_ok(dbox_metadata_parse((const unsigned char *)dovecot_mdbox_md,
				   sizeof(dovecot_mdbox_md) - 1, &md,
				   &consumed, &error) == 0 &&
	       consumed == sizeof(dovecot_mdbox_md) - 1 && md.count == 4 &&
	       strcmp(dbox_metadata_get(&md, 'G'),
		      "b0dfae371ff20a6bb91d000083ecc375") == 0 &&
	       strcmp(dbox_metadata_get(&md, 'B'), "Sub/Child") == 0 &&
	       strcmp(dbox_metadata_get(&md, 'V'), "3c") == 0,
	       "Dovecot's mdbox metadata parses (G R V B)");
	dbox_metadata_write(&buf, &md);
	tap_ok(buf.len == sizeof(dovecot_mdbox_md) - 1 &&
	       memcmp(buf.data, dovecot_mdbox_md, buf.len) == 0,
	       "metadata written back is byte-identical");
	dbox_metadata_free(&md);
	dbox_buf_free(&buf);

	tap_ok(dbox_metadata_parse((const unsigned char *)with_unknown,
				   sizeof(with_unknown) - 1, &md, &consumed,
				   &error) == 0 && md.count == 4 &&
	       consumed == sizeof(with_unknown) - 1 - 4 &&
	       md.items[1].key == 'Q' &&
	       strcmp(md.items[1].value, "something new") == 0,
	       "unknown keys are kept, in order");
	dbox_metadata_write(&buf, &md);
	tap_ok(buf.len == consumed && memcmp(buf.data, with_unknown,
					     consumed) == 0,
	       "unknown keys are written back unchanged");
	dbox_metadata_free(&md);
	dbox_buf_free(&buf);
	tap_ok(dbox_metadata_parse((const unsigned char *)"\n\001\003\nR1\n",
				   7, &md, &consumed, &error) < 0,
	       "metadata without its end line is corruption");
	tap_ok(dbox_metadata_parse((const unsigned char *)"\n\001\004\n\n", 5,
				   &md, &consumed, &error) < 0,
	       "metadata with bad magic is corruption");
}

static void test_parse_dovecot_file(void)
{
	struct dbox_parsed_msg msg;
	const char *error;

	tap_ok(dbox_file_parse_msg((const unsigned char *)dovecot_sdbox,
				   sizeof(dovecot_sdbox) - 1, 16, 30, &msg,
				   &error) == 0 &&
	       msg.body_offset == 46 && msg.body_size == 0x36 &&
	       msg.total_size == sizeof(dovecot_sdbox) - 1 - 16 &&
	       memcmp(dovecot_sdbox + msg.body_offset, DOVECOT_BODY,
		      msg.body_size) == 0 &&
	       strcmp(dbox_metadata_get(&msg.md, 'R'), "6b0af20e") == 0,
	       "a whole Dovecot sdbox file parses to its body and metadata");
	dbox_metadata_free(&msg.md);
	tap_ok(dbox_file_parse_msg((const unsigned char *)dovecot_sdbox, 60,
				   16, 30, &msg, &error) < 0 &&
	       dbox_last_error() == DBOX_ERROR_CORRUPTED,
	       "a truncated file is corruption, not a crash");
}

static void test_crlf_store(void)
{
	static const char wire[] = "A: b\r\n\r\nx\ry\r\r\nz\n";
	unsigned char out[sizeof(wire)];
	size_t n = dbox_crlf_to_lf((const unsigned char *)wire,
				   sizeof(wire) - 1, out);

	tap_ok(n == 13 && memcmp(out, "A: b\n\nx\ry\r\nz\n", n) == 0,
	       "CRLF becomes LF, lone CR and LF are kept (as Dovecot)");
}

static void test_sizes(void)
{
	struct dbox_msg_sizes s;

	dbox_msg_sizes_compute((const unsigned char *)DOVECOT_BODY,
			       strlen(DOVECOT_BODY), &s);
	tap_ok(s.phys_size == 0x36 && s.virt_size == 0x3c,
	       "virtual size matches Dovecot's V (each LF counts as CRLF)");
	tap_ok(s.hdr_phys_size == 38 && s.hdr_virt_size == 42,
	       "header size includes the blank line");
	dbox_msg_sizes_compute((const unsigned char *)"A: b\nC: d\n", 10, &s);
	tap_ok(s.hdr_phys_size == 10 && s.hdr_virt_size == 12,
	       "a message without body is all header");
	dbox_msg_sizes_compute((const unsigned char *)"A: b\r\n\r\nx\n", 10, &s);
	tap_ok(s.hdr_phys_size == 8 && s.virt_size == 11,
	       "stored CRLF counts once; a CR-LF empty line ends the header");
	dbox_msg_sizes_compute((const unsigned char *)"\nbody\n", 6, &s);
	tap_ok(s.hdr_phys_size == 1, "an empty header is just the blank line");
}

static bool conv(const char *in, bool prev_cr, uint64_t skip, uint64_t max,
		 const char *expect)
{
	struct dbox_buf out = { 0 };
	bool ok;

	dbox_lf_to_crlf((const unsigned char *)in, strlen(in), prev_cr, skip,
			max, &out);
	ok = out.len == strlen(expect) &&
		(out.len == 0 || memcmp(out.data, expect, out.len) == 0);
	dbox_buf_free(&out);
	return ok;
}

static void test_crlf_wire(void)
{
	tap_ok(conv("a\nb\r\nc", false, 0, UINT64_MAX, "a\r\nb\r\nc"),
	       "LF becomes CRLF on the wire, an existing CRLF stays");
	tap_ok(conv("\nx", true, 0, UINT64_MAX, "\nx"),
	       "an LF right after a CR of the previous part gets no CR");
	tap_ok(conv("ab\ncd\n", false, 2, 3, "\r\nc"),
	       "a range [2,5) covers the inserted CR");
	tap_ok(conv("ab\ncd\n", false, 3, 2, "\ncd") == false &&
	       conv("ab\ncd\n", false, 3, 2, "\nc"),
	       "a range may start between CR and LF");
	tap_ok(conv("ab\ncd\n", false, 0, 3, "ab\r"),
	       "a range may end between CR and LF");
	tap_ok(conv("abc", false, 10, 5, ""), "a range past the end is empty");
}

int main(void)
{
	test_file_header();
	test_msg_header();
	test_metadata();
	test_parse_dovecot_file();
	test_crlf_store();
	test_sizes();
	test_crlf_wire();
	return tap_done();
}
