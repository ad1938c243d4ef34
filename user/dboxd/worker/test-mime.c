// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the MIME parser, decoders and address parser. */
#include <string.h>

#include "imap-envelope.h"
#include "mime.h"
#include "secret.h"
#include "test-tap.h"

static const char msg1[] =
	"Subject: x\r\n"
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
	"\r\n"
	"pre\r\n"
	"--b1\r\n"
	"\r\n"
	"plain default\r\n"
	"--b1\r\n"
	"Content-Type: multipart/alternative; boundary=b2\r\n"
	"\r\n"
	"--b2\r\n"
	"Content-Type: text/html; charset=\"utf-8\"\r\n"
	"\r\n"
	"<b>hi</b>\r\n"
	"--b2--\r\n"
	"\r\n"
	"--b1\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"Subject: inner\r\n"
	"\r\n"
	"line1\r\nline2\r\n"
	"--b1--\r\n";

int main(void)
{
	struct mime_message m;
	struct mime_part *p;
	struct dboxd_pool pool;
	struct imap_address *addrs;
	unsigned int count;
	const char *rest, *s;
	char *out;
	size_t len;

	dboxd_secret_init(&rest);
	dboxd_pool_init(&pool);
	mime_parse(msg1, strlen(msg1), &m);
	p = m.root;
	tap_ok(p->is_multipart && strcmp(p->subtype, "mixed") == 0,
	       "root is multipart/mixed");
	p = mime_part_find(m.root, "1", &rest);
	tap_ok(p != NULL && strcmp(p->type, "text") == 0 &&
	       strcmp(p->subtype, "plain") == 0 &&
	       strcmp(mime_param_get(p->params, p->param_count, "charset"),
		      "us-ascii") == 0,
	       "a part without Content-Type is text/plain; charset=us-ascii");
	tap_ok(p != NULL && p->body_size == strlen("plain default") &&
	       memcmp(msg1 + p->body_offset, "plain default", p->body_size) == 0,
	       "the CRLF before a boundary is not the part's");
	p = mime_part_find(m.root, "2.1", &rest);
	tap_ok(p != NULL && strcmp(p->subtype, "html") == 0 &&
	       strcmp(mime_param_get(p->params, p->param_count, "charset"),
		      "utf-8") == 0, "nested multipart, quoted parameter");
	p = mime_part_find(m.root, "3", &rest);
	tap_ok(p != NULL && p->is_message && p->children != NULL &&
	       p->children->body_lines == 1,
	       "message/rfc822; lines count LFs (as Dovecot does)");
	p = mime_part_find(m.root, "3.1", &rest);
	tap_ok(p != NULL && memcmp(msg1 + p->body_offset, "line1", 5) == 0,
	       "part 1 of a single-part inner message is its body");
	tap_ok(mime_part_find(m.root, "4", &rest) == NULL,
	       "a part that does not exist");
	p = mime_part_find(m.root, "2.MIME", &rest);
	tap_ok(p != NULL && strcmp(rest, ".MIME") == 0, "section rest");
	mime_free(&m);

	rest = "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
	       "\r\nno end";
	mime_parse(rest, strlen(rest), &m);
	tap_ok(m.root->children != NULL &&
	       m.root->children->body_size == 6, "a missing closing boundary");
	mime_free(&m);

	tap_ok(mime_decode_body("base64", "aGVs\r\nbG8=", 10, &pool, &out,
				&len) == 0 && len == 5 &&
	       memcmp(out, "hello", 5) == 0, "base64 across lines");
	tap_ok(mime_decode_body("quoted-printable", "a=3Db=\r\nc", 9, &pool,
				&out, &len) == 0 && len == 4 &&
	       memcmp(out, "a=bc", 4) == 0, "quoted-printable, soft break");
	tap_ok(mime_decode_body("x-uuencode", "x", 1, &pool, &out, &len) < 0,
	       "unknown encoding refused");
	s = mime_decode_words(&pool, "=?iso-8859-1?Q?K=F6ln?= =?UTF-8?B?w7Y=?= x");
	tap_ok(strcmp(s, "K\xc3\xb6ln\xc3\xb6 x") == 0,
	       "RFC 2047 words: charset, Q and B, space between words dropped");
	s = mime_decode_words(&pool, "=?bogus");
	tap_ok(strcmp(s, "=?bogus") == 0, "a broken word stays");

	imap_address_parse(&pool, "\"Doe, John\" <john@x.org>, a@b (c), "
			   "Team: m@n, o@p;, <@r1,@r2:q@s>", &addrs, &count);
	tap_ok(count == 7, "address count (%u)", count);
	tap_ok(count == 7 && strcmp(addrs[0].name, "Doe, John") == 0 &&
	       strcmp(addrs[0].mailbox, "john") == 0 &&
	       strcmp(addrs[0].host, "x.org") == 0,
	       "quoted display name with a comma");
	tap_ok(count == 7 && addrs[1].name != NULL &&
	       strcmp(addrs[1].name, "c") == 0 &&
	       strcmp(addrs[1].mailbox, "a") == 0,
	       "a comment after a bare address names it (as Dovecot)");
	tap_ok(count == 7 && addrs[2].group_start &&
	       strcmp(addrs[2].mailbox, "Team") == 0 && addrs[5].group_end,
	       "group start and end");
	tap_ok(count == 7 && strcmp(addrs[6].route, "@r1,@r2") == 0 &&
	       strcmp(addrs[6].mailbox, "q") == 0, "source route");
	imap_address_parse(&pool, ", a@x, , <>, b, c@", &addrs, &count);
	tap_ok(count == 6 && strcmp(addrs[0].mailbox, "MISSING_MAILBOX") == 0
	       && strcmp(addrs[3].host, "MISSING_DOMAIN") == 0 &&
	       strcmp(addrs[4].host, "MISSING_DOMAIN") == 0 &&
	       strcmp(addrs[5].host, "SYNTAX_ERROR") == 0,
	       "missing parts get Dovecot's placeholders (%u)", count);
	dboxd_pool_free(&pool);
	return tap_done();
}
