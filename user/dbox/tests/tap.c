// SPDX-License-Identifier: GPL-2.0-or-later
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbox.h"
#include "tap.h"

static unsigned int tap_count, tap_failed;
static char **temp_dirs;
static unsigned int temp_count;

bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list args;

	printf("%sok %u - ", cond ? "" : "not ", ++tap_count);
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

void tap_skip(const char *reason, const char *fmt, ...)
{
	va_list args;

	printf("ok %u - ", ++tap_count);
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf(" # SKIP %s\n", reason);
	fflush(stdout);
}

void tap_diag(const char *fmt, ...)
{
	va_list args;

	printf("# ");
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
	fflush(stdout);
}

int tap_done(void)
{
	printf("1..%u\n", tap_count);
	tap_cleanup();
	return tap_failed == 0 ? 0 : 1;
}

char *tap_tempdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (asprintf(&path, "%s/dbox-test-%s-XXXXXX",
		     base != NULL ? base : "/tmp", tag) < 0 ||
	    mkdtemp(path) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	temp_dirs = realloc(temp_dirs, (temp_count + 1) * sizeof(char *));
	temp_dirs[temp_count++] = strdup(path);
	return path;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

void tap_rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void tap_cleanup(void)
{
	unsigned int i;

	for (i = 0; i < temp_count; i++) {
		if (getenv("DBOX_TEST_KEEP") == NULL)
			tap_rm_rf(temp_dirs[i]);
		free(temp_dirs[i]);
	}
	free(temp_dirs);
	temp_dirs = NULL;
	temp_count = 0;
}

/* xorshift: the same bytes for the same id on every run */
static uint64_t next_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

static const char *const words[] = {
	"the", "meeting", "invoice", "tomorrow", "project", "schedule",
	"report", "please", "attached", "review", "budget", "thanks",
	"regards", "quarterly", "numbers", "deadline", "Grüße", "café",
};

static void append(char **buf, size_t *len, size_t *cap, const char *s,
		   size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void append_str(char **buf, size_t *len, size_t *cap, const char *s)
{
	append(buf, len, cap, s, strlen(s));
}

static void text_lines(char **buf, size_t *len, size_t *cap, uint64_t *st,
		       size_t until)
{
	size_t line = 0;
	const char *w;

	while (*len < until) {
		w = words[next_rand(st) % (sizeof(words) / sizeof(words[0]))];
		append_str(buf, len, cap, w);
		line += strlen(w);
		if (line > 60 || next_rand(st) % 11 == 0) {
			append_str(buf, len, cap, "\r\n");
			line = 0;
		} else {
			append_str(buf, len, cap, " ");
			line++;
		}
	}
	append_str(buf, len, cap, "\r\n");
}

static void base64_lines(char **buf, size_t *len, size_t *cap, uint64_t *st,
			 size_t until)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char line[78];
	unsigned int i;

	while (*len < until) {
		for (i = 0; i < 76; i++)
			line[i] = b64[next_rand(st) % 64];
		line[76] = '\r';
		line[77] = '\n';
		append(buf, len, cap, line, sizeof(line));
	}
}

char *tap_message(uint64_t id, size_t size, size_t *len_r)
{
	uint64_t st = id * 0x9e3779b97f4a7c15ULL + 1;
	size_t len = 0, cap = size + 1024;
	char *buf = malloc(cap), hdr[512];
	bool attach = size > 4096 && id % 3 == 0;

	buf[0] = '\0';
	snprintf(hdr, sizeof(hdr),
		 "Return-Path: <sender%llu@example.org>\r\n"
		 "From: Sender %llu <sender%llu@example.org>\r\n"
		 "To: user@example.com\r\n"
		 "Subject: Test message %llu\r\n"
		 "Date: Thu, 28 Nov 2024 10:%02llu:00 +0000\r\n"
		 "Message-ID: <%llu@dbox.test>\r\n"
		 "MIME-Version: 1.0\r\n",
		 (unsigned long long)(id % 97), (unsigned long long)(id % 97),
		 (unsigned long long)(id % 97), (unsigned long long)id,
		 (unsigned long long)(id % 60), (unsigned long long)id);
	append_str(&buf, &len, &cap, hdr);
	if (!attach) {
		append_str(&buf, &len, &cap, "Content-Type: text/plain; "
			   "charset=utf-8\r\nContent-Transfer-Encoding: 8bit"
			   "\r\n\r\n");
		text_lines(&buf, &len, &cap, &st, size);
	} else {
		append_str(&buf, &len, &cap, "Content-Type: multipart/mixed; "
			   "boundary=\"b1\"\r\n\r\nThis is a MIME message."
			   "\r\n\r\n--b1\r\nContent-Type: text/plain; "
			   "charset=utf-8\r\n\r\n");
		text_lines(&buf, &len, &cap, &st, len + 600);
		append_str(&buf, &len, &cap, "\r\n--b1\r\nContent-Type: "
			   "application/pdf; name=\"report.pdf\"\r\n"
			   "Content-Transfer-Encoding: base64\r\n\r\n");
		base64_lines(&buf, &len, &cap, &st, size);
		append_str(&buf, &len, &cap, "\r\n--b1--\r\n");
	}
	*len_r = len;
	return buf;
}

uint64_t tap_message_id(const void *data, size_t len)
{
	const char *p = memmem(data, len, "Message-ID: <", 13);

	if (p == NULL)
		return 0;
	return strtoull(p + 13, NULL, 10);
}

static void quiet_handler(enum dbox_log_level level, const char *msg)
{
	if (level >= DBOX_LOG_WARNING || getenv("DBOX_DEBUG") != NULL)
		fprintf(stderr, "dbox: %s\n", msg);
}

void tap_quiet_logs(void)
{
	dbox_set_log_handler(quiet_handler);
}
