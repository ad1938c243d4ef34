// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The test-mail generator. Everything about message INDEX is drawn from
 * its own PRNG stream (seed, index), so a message can be rebuilt alone,
 * and a reply can name its parent's Message-ID and its thread's subject
 * by recomputing the parent's first draws instead of keeping state.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msggen.h"
#include "rng.h"

#define MG_THREAD_DEPTH 12	/* References longer than this are cut */
#define MG_BASE_DATE 1735689600	/* 2025-01-01 00:00:00 UTC */

static const char *const first_names[] = {
	"Anna", "Ben", "Clara", "David", "Elif", "Felix", "Greta", "Hassan",
	"Ines", "Jonas", "Kerstin", "Lukas", "Mia", "Noah", "Olga", "Paul",
	"Quentin", "Rosa", "Sven", "Tanja", "Ulrich", "Vera", "Wei", "Xenia",
	"Yusuf", "Zoe", "Amélie", "Jürgen", "Søren", "Łukasz",
};

static const char *const last_names[] = {
	"Schmidt", "Meyer", "Dubois", "Rossi", "Novak", "Jansen", "Kowalski",
	"Garcia", "Smith", "Nguyen", "Okafor", "Tanaka", "Larsen", "Weber",
	"Fischer", "Martin", "Brown", "Silva", "Yilmaz", "Horvath", "Keller",
	"Ivanova", "Becker", "Costa",
};

static const char *const domains[] = {
	"example.com", "example.org", "example.net", "mail.example.de",
	"lists.example.org", "corp.example.com", "uni-example.edu",
	"shop.example", "bank.example", "news.example.net",
};

static const char *const words[] = {
	"meeting", "project", "budget", "report", "invoice", "schedule",
	"review", "release", "server", "update", "question", "proposal",
	"deadline", "customer", "contract", "design", "holiday", "travel",
	"agenda", "minutes", "feedback", "draft", "version", "backup",
	"network", "storage", "kernel", "memory", "latency", "throughput",
	"the", "and", "for", "with", "this", "that", "from", "please",
	"could", "would", "should", "attached", "thanks", "regards",
	"tomorrow", "next", "week", "monday", "friday", "morning", "afternoon",
	"already", "discussed", "before", "after", "again", "maybe", "sure",
	"important", "urgent", "small", "large", "quick", "note", "idea",
	"problem", "solution", "test", "results", "numbers", "figures",
	"table", "chart", "slides", "document", "version", "comments",
	"Besprechung", "Rechnung", "Zusammenfassung", "réunion", "déjà",
	"über", "Grüße", "naïve", "café",
};

static const char *const mailers[] = {
	"X-Mailer: Apple Mail (2.3731.700.6)",
	"User-Agent: Mozilla Thunderbird",
	"X-Mailer: Microsoft Outlook 16.0",
	"User-Agent: Mutt/2.2.9 (2022-11-12)",
	"X-Mailer: Evolution 3.46.4-2",
	"User-Agent: Roundcube Webmail/1.6.5",
};

static const struct {
	const char *name, *type;
} attachment_kinds[] = {
	{ "report-%02u.pdf", "application/pdf" },
	{ "photo-%02u.jpg", "image/jpeg" },
	{ "data-%02u.zip", "application/zip" },
	{ "slides-%02u.pptx", "application/vnd.openxmlformats-officedocument."
			      "presentationml.presentation" },
	{ "scan-%02u.png", "image/png" },
	{ "sheet-%02u.xlsx", "application/vnd.openxmlformats-officedocument."
			     "spreadsheetml.sheet" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* append a string literal without counting its bytes by hand */
#define MG_LIT(b, s) mg_buf_append((b), (s), sizeof(s) - 1)

/* Sub-streams of one message, so that adding draws to one part never
 * changes another part (or the thread structure other messages see). */
enum mg_stream { MG_S_THREAD = 1, MG_S_HEAD, MG_S_BODY, MG_S_ATTACH };

static void mg_stream(struct bench_rng *r, const struct mg_params *p,
		      uint64_t index, enum mg_stream s)
{
	bench_rng_init(r, p->seed, index * 8 + s);
}

void mg_buf_append(struct mg_buf *b, const void *data, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *n;

		while (cap < b->len + len + 1)
			cap *= 2;
		n = realloc(b->data, cap);
		if (n == NULL) {
			b->failed = true;
			return;
		}
		b->data = n;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void mg_buf_printf(struct mg_buf *b, const char *fmt, ...)
{
	char small[512], *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		mg_buf_append(b, small, n);
		return;
	}
	va_start(ap, fmt);
	n = vasprintf(&big, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	mg_buf_append(b, big, n);
	free(big);
}

void mg_buf_free(struct mg_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void mg_params_default(struct mg_params *p, uint64_t seed)
{
	p->seed = seed;
	p->attach_median = 60000;
	p->max_attach = 2 << 20;
	p->attach_pct = 20;
}

const char *mg_word(uint64_t n)
{
	return words[n % N(words)];
}

const char *mg_last_name(uint64_t n)
{
	return last_names[n % N(last_names)];
}

/* log-normal with the given median; sigma in natural-log units */
static double mg_lognormal(struct bench_rng *r, double median, double sigma)
{
	double u1 = bench_rng_unit(r), u2 = bench_rng_unit(r);
	double z = sqrt(-2.0 * log(u1 + 1e-300)) * cos(2 * M_PI * u2);

	return median * exp(sigma * z);
}

/* The first draw of the thread stream decides whether INDEX is a reply
 * and to which earlier message (within the last 40). */
static uint64_t mg_parent(const struct mg_params *p, uint64_t index)
{
	struct bench_rng r;
	uint64_t back;

	if (index == 0)
		return UINT64_MAX;
	mg_stream(&r, p, index, MG_S_THREAD);
	if (bench_rng_below(&r, 100) >= 35)
		return UINT64_MAX;
	back = 1 + bench_rng_below(&r, index < 40 ? index : 40);
	return index - back;
}

static void mg_message_id(const struct mg_params *p, uint64_t index,
			  char buf[static 96])
{
	uint64_t x = p->seed ^ (index * 0x9e3779b97f4a7c15ULL);

	snprintf(buf, 96, "<%016llx.%llu@%s>",
		 (unsigned long long)bench_splitmix64(&x),
		 (unsigned long long)index, domains[index % N(domains)]);
}

#define MG_DATE_SLOTS	(10ULL * 365 * 24 * 3)

static time_t mg_date(const struct mg_params *p, uint64_t index)
{
	struct bench_rng r;

	mg_stream(&r, p, index, MG_S_THREAD);
	bench_rng_next(&r);
	bench_rng_next(&r);
	/* one message per 20 minutes, over at most ten years: loadgen's
	   indexes carry the connection in their high bits, which would
	   otherwise date its APPENDs in the year 165347 */
	return MG_BASE_DATE + (time_t)(index % MG_DATE_SLOTS) * 1200 +
	       (time_t)bench_rng_below(&r, 1200);
}

/* The subject of a thread root: 2 to 6 words. */
static void mg_root_subject(const struct mg_params *p, uint64_t root,
			    struct mg_buf *b)
{
	struct bench_rng r;
	unsigned int n;

	mg_stream(&r, p, root, MG_S_HEAD);
	n = 2 + bench_rng_below(&r, 5);
	for (unsigned int i = 0; i < n; i++)
		mg_buf_printf(b, "%s%s", i ? " " : "",
			      words[bench_rng_below(&r, N(words))]);
}

static void mg_address(struct bench_rng *r, struct mg_buf *b)
{
	const char *f = first_names[bench_rng_below(r, N(first_names))];
	const char *l = last_names[bench_rng_below(r, N(last_names))];
	const char *d = domains[bench_rng_below(r, N(domains))];
	/* the local part stays ASCII: "Łukasz" becomes "x.name" */
	char initial = (unsigned char)f[0] < 0x80 ? (f[0] | 0x20) : 'x';

	mg_buf_printf(b, "\"%s %s\" <%c.%s@%s>", f, l, initial, l, d);
}

static void mg_random_b64(struct bench_rng *r, struct mg_buf *b, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i++) {
		char c = a[bench_rng_below(r, 64)];

		mg_buf_append(b, &c, 1);
	}
}

static void mg_received(struct bench_rng *r, struct mg_buf *b, time_t date)
{
	unsigned int hops = 2 + bench_rng_below(r, 3);
	char when[64];
	struct tm tm;

	gmtime_r(&date, &tm);
	strftime(when, sizeof(when), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	for (unsigned int i = 0; i < hops; i++) {
		unsigned int o = bench_rng_below(r, 250) + 1;

		mg_buf_printf(b, "Received: from mx%u.%s (mx%u.%s [192.0.2.%u])\r\n"
			      "\tby mail.example.net (Postfix) with ESMTPS id ",
			      i + 1, domains[bench_rng_below(r, N(domains))],
			      i + 1, domains[o % N(domains)], o);
		mg_random_b64(r, b, 12);
		mg_buf_printf(b, ";\r\n\t%s\r\n", when);
	}
}

static void mg_dkim(struct bench_rng *r, struct mg_buf *b)
{
	mg_buf_printf(b, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s;\r\n"
		      "\ts=sel%u; t=%llu; h=from:to:subject:date:message-id;\r\n\tbh=",
		      domains[bench_rng_below(r, N(domains))],
		      (unsigned int)bench_rng_below(r, 4),
		      (unsigned long long)bench_rng_below(r, 1u << 30));
	mg_random_b64(r, b, 43);
	MG_LIT(b, "=;\r\n\tb=");
	for (int i = 0; i < 5; i++) {
		mg_random_b64(r, b, 68);
		if (i < 4)
			MG_LIT(b, "\r\n\t ");
		else
			MG_LIT(b, "=\r\n");
	}
}

/* Paragraphs of words, wrapped at 72 columns, about TARGET bytes; each
 * line starts with QUOTE (or nothing). */
static void mg_text(struct bench_rng *r, struct mg_buf *b, size_t target,
		    bool html, const char *quote)
{
	size_t start = b->len, col = 0, ql = quote ? strlen(quote) : 0;

	if (html)
		MG_LIT(b, "<p>");
	while (b->len - start < target) {
		const char *w = words[bench_rng_below(r, N(words))];
		size_t wl = strlen(w);

		if (col == 0 && ql) {
			mg_buf_append(b, quote, ql);
			col = ql;
		}
		if (col > ql && col + 1 + wl > 72) {
			MG_LIT(b, "\r\n");
			col = 0;
			if (bench_rng_below(r, 6) == 0) {
				if (html)
					MG_LIT(b, "</p>\r\n<p>");
				else
					MG_LIT(b, "\r\n");
			}
			continue;
		}
		if (col > ql) {
			MG_LIT(b, " ");
			col++;
		}
		mg_buf_append(b, w, wl);
		col += wl;
	}
	if (html)
		MG_LIT(b, "</p>");
	MG_LIT(b, "\r\n");
}

static void mg_plain_body(struct bench_rng *r, struct mg_buf *b, size_t size,
			  const struct mg_info *info, const struct mg_params *p)
{
	mg_text(r, b, size, false, NULL);
	if (info->parent != UINT64_MAX) {
		char when[64];
		time_t t = mg_date(p, info->parent);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%a, %d %b %Y at %H:%M", &tm);
		mg_buf_printf(b, "\r\nOn %s, %s wrote:\r\n", when,
			      last_names[info->parent % N(last_names)]);
		mg_text(r, b, size / 2 + 40, false, "> ");
	}
	mg_buf_printf(b, "\r\n-- \r\n%s %s\r\n",
		      first_names[bench_rng_below(r, N(first_names))],
		      last_names[bench_rng_below(r, N(last_names))]);
}

static void mg_html_body(struct bench_rng *r, struct mg_buf *b, size_t size)
{
	MG_LIT(b, "<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\">\r\n"
	       "<style>body{font-family:Calibri,Arial,sans-serif;font-size:11pt}"
	       "p{margin:0 0 8px 0}.sig{color:#555}</style></head>\r\n"
	       "<body>\r\n");
	mg_text(r, b, size, true, NULL);
	MG_LIT(b, "<div class=\"sig\">-- <br>Sent from my desk</div>\r\n"
	       "</body></html>\r\n");
}

static void mg_attachment(struct bench_rng *r, struct mg_buf *b,
			  const char *boundary, const struct mg_params *p)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned int k = bench_rng_below(r, N(attachment_kinds));
	double want = mg_lognormal(r, (double)p->attach_median, 1.2);
	size_t size = want < 200 ? 200 : (size_t)want;
	char name[64];

	if (size > p->max_attach)
		size = p->max_attach;
	snprintf(name, sizeof(name), attachment_kinds[k].name,
		 (unsigned int)bench_rng_below(r, 100));
	mg_buf_printf(b, "--%s\r\nContent-Type: %s; name=\"%s\"\r\n"
		      "Content-Disposition: attachment; filename=\"%s\"\r\n"
		      "Content-Transfer-Encoding: base64\r\n\r\n",
		      boundary, attachment_kinds[k].type, name, name);
	/* random bytes are what compressed formats look like; encode them
	 * 57 bytes (one 76-column line) at a time */
	for (size_t done = 0; done < size; done += 57) {
		size_t n = size - done < 57 ? size - done : 57;
		char line[80];
		size_t o = 0;

		for (size_t i = 0; i < n; i += 3) {
			uint64_t v = bench_rng_next(r) & 0xffffff;
			size_t have = n - i < 3 ? n - i : 3;

			line[o++] = a[(v >> 18) & 63];
			line[o++] = a[(v >> 12) & 63];
			line[o++] = have > 1 ? a[(v >> 6) & 63] : '=';
			line[o++] = have > 2 ? a[v & 63] : '=';
		}
		line[o++] = '\r';
		line[o++] = '\n';
		mg_buf_append(b, line, o);
	}
}

static void mg_headers(const struct mg_params *p, uint64_t index,
		       const struct mg_info *info, struct mg_buf *b,
		       struct bench_rng *r)
{
	char id[96], when[64];
	uint64_t chain[MG_THREAD_DEPTH], root = index;
	unsigned int depth = 0, n;
	struct tm tm;

	for (uint64_t a = info->parent; a != UINT64_MAX && depth < MG_THREAD_DEPTH;
	     a = mg_parent(p, a))
		chain[depth++] = root = a;
	/* a thread deeper than the cut still gets its real root subject */
	for (uint64_t a = root; a != UINT64_MAX; a = mg_parent(p, a))
		root = a;

	mg_message_id(p, index, id);
	mg_buf_printf(b, "Return-Path: <bounce-%llu@%s>\r\n",
		      (unsigned long long)index, domains[index % N(domains)]);
	mg_received(r, b, info->date);
	if (bench_rng_below(r, 2))
		mg_dkim(r, b);
	gmtime_r(&info->date, &tm);
	strftime(when, sizeof(when), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	mg_buf_printf(b, "Message-ID: %s\r\nDate: %s\r\nFrom: ", id, when);
	mg_address(r, b);
	MG_LIT(b, "\r\nTo: ");
	n = 1 + bench_rng_below(r, 3);
	for (unsigned int i = 0; i < n; i++) {
		if (i)
			MG_LIT(b, ",\r\n ");
		mg_address(r, b);
	}
	if (bench_rng_below(r, 100) < 30) {
		MG_LIT(b, "\r\nCc: ");
		mg_address(r, b);
	}
	MG_LIT(b, "\r\nSubject: ");
	if (depth)
		MG_LIT(b, "Re: ");
	mg_root_subject(p, root, b);
	MG_LIT(b, "\r\n");
	if (depth) {
		mg_message_id(p, chain[0], id);
		mg_buf_printf(b, "In-Reply-To: %s\r\nReferences:", id);
		for (unsigned int i = depth; i-- > 0;) {
			mg_message_id(p, chain[i], id);
			mg_buf_printf(b, "%s%s", i + 1 < depth ? "\r\n " : " ", id);
		}
		MG_LIT(b, "\r\n");
	}
	if (bench_rng_below(r, 100) < 20)
		mg_buf_printf(b, "List-Id: <%s.lists.example.org>\r\n"
			      "List-Unsubscribe: <mailto:leave-%llu@lists.example.org>\r\n",
			      words[bench_rng_below(r, 30)],
			      (unsigned long long)bench_rng_below(r, 1000000));
	mg_buf_printf(b, "%s\r\nMIME-Version: 1.0\r\n",
		      mailers[bench_rng_below(r, N(mailers))]);
}

int mg_message(const struct mg_params *p, uint64_t index, struct mg_buf *out,
	       struct mg_info *info_r)
{
	struct bench_rng head, body, att;
	struct mg_info info = { 0 };
	unsigned int kind, natt = 0;
	size_t text;
	char boundary[48];

	mg_stream(&head, p, index, MG_S_HEAD);
	mg_stream(&body, p, index, MG_S_BODY);
	mg_stream(&att, p, index, MG_S_ATTACH);
	/* the first draws of HEAD belong to the root subject */
	for (int i = 0; i < 7; i++)
		bench_rng_next(&head);

	info.parent = mg_parent(p, index);
	info.date = mg_date(p, index);
	info.seen = bench_rng_below(&body, 100) < 85;
	info.flagged = bench_rng_below(&body, 100) < 4;
	info.answered = bench_rng_below(&body, 100) < 15;
	kind = bench_rng_below(&body, 100);
	text = (size_t)mg_lognormal(&body, 1200, 0.9);
	if (text > 65536)
		text = 65536;
	if (kind < p->attach_pct)
		natt = kind * 4 < p->attach_pct ? 2 + bench_rng_below(&body, 2) : 1;
	snprintf(boundary, sizeof(boundary), "=_bench_%016llx",
		 (unsigned long long)bench_rng_next(&body));

	out->len = 0;
	out->failed = false;
	mg_headers(p, index, &info, out, &head);
	if (natt) {
		mg_buf_printf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
			      "This is a multi-part message in MIME format.\r\n"
			      "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			      "Content-Transfer-Encoding: 8bit\r\n\r\n",
			      boundary, boundary);
		mg_plain_body(&body, out, text, &info, p);
		for (unsigned int i = 0; i < natt; i++)
			mg_attachment(&att, out, boundary, p);
		mg_buf_printf(out, "--%s--\r\n", boundary);
	} else if (kind < p->attach_pct + 30) {
		mg_buf_printf(out, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
			      "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			      "Content-Transfer-Encoding: 8bit\r\n\r\n",
			      boundary, boundary);
		mg_plain_body(&body, out, text, &info, p);
		mg_buf_printf(out, "--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
			      "Content-Transfer-Encoding: 8bit\r\n\r\n", boundary);
		mg_html_body(&body, out, text * 2);
		mg_buf_printf(out, "--%s--\r\n", boundary);
	} else {
		MG_LIT(out, "Content-Type: text/plain; charset=utf-8; format=flowed\r\n"
		       "Content-Transfer-Encoding: 8bit\r\n\r\n");
		mg_plain_body(&body, out, text, &info, p);
	}
	if (out->failed)
		return -1;
	if (info_r != NULL)
		*info_r = info;
	return 0;
}

void mg_imap_date(time_t t, char buf[static 32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%d-%b-%Y %H:%M:%S +0000", &tm);
}
