// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mkmail: fill mailboxes with generated, reproducible test mail.
 *
 *   mkmail [-s SEED] [-n COUNT] [--first I] [size options] --out DIR
 *   mkmail [-s SEED] [-n COUNT] ... --imap HOST:PORT --password PW
 *          (--user NAME | --user-fmt FMT --users A-B) [--mailbox BOX]
 *   mkmail [-s SEED] --print I        one message to stdout
 *
 * size options: --attach-median BYTES --max-attach BYTES --attach-pct P
 *
 * --out writes DIR/000000.eml... (CRLF lines) for `doveadm save`.
 * --imap APPENDs over IMAP (LITERAL+ pipelining when the server offers it,
 * synchronising literals otherwise), flags and INTERNALDATE from the
 * generator, checks every tagged OK, then asks STATUS (MESSAGES) and
 * prints "user=NAME messages=N appended=K bytes=B secs=S".
 * With --user-fmt ("user%04u") every user of [A, B) gets its own mailbox:
 * the stream seed is SEED * 1000003 + user number, so no two users hold
 * the same messages (which would flatter KSM) yet every run is the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "imap-parse.h"
#include "msggen.h"

#define MKMAIL_WINDOW 16	/* APPENDs in flight with LITERAL+ */

struct mkmail {
	struct mg_params gen;
	uint64_t seed, first, count;
	const char *out_dir, *host, *port, *user, *user_fmt, *password;
	const char *mailbox;
	unsigned int users_from, users_to;
	bool print_one;
};

struct imapc {
	int fd;
	struct imap_rbuf in;
	unsigned int tag;
	bool literal_plus;
};

static double mk_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int mk_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int imapc_connect(struct imapc *c, const char *host, const char *port,
			 const char **error_r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
	int err;

	err = getaddrinfo(host, port, &hints, &ai);
	if (err != 0) {
		*error_r = gai_strerror(err);
		return -1;
	}
	c->fd = -1;
	for (a = ai; a != NULL && c->fd < 0; a = a->ai_next) {
		c->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
		if (c->fd >= 0 && connect(c->fd, a->ai_addr, a->ai_addrlen) < 0) {
			close(c->fd);
			c->fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (c->fd < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	return 0;
}

/* The next complete response, blocking. */
static int imapc_read(struct imapc *c, struct imap_resp *r, const char **error_r)
{
	for (;;) {
		ssize_t n;

		if (imap_rbuf_next(&c->in, r, error_r) < 0)
			return -1;
		if (r->data != NULL)
			return 0;
		n = imap_rbuf_fill(&c->in, c->fd);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*error_r = n == 0 ? "server closed the connection" :
				   strerror(errno);
			return -1;
		}
	}
}

static bool imapc_has_cap(const struct imap_resp *r, const char *cap)
{
	size_t n = strlen(cap);

	for (const char *p = r->data; p + n <= r->data + r->len; p++) {
		if (strncasecmp(p, cap, n) == 0 && p[-1] == ' ' &&
		    (p + n == r->data + r->len || p[n] == ' ' || p[n] == ']'))
			return true;
	}
	return false;
}

/* Reads up to the tagged response for TAG, noting capabilities on the
 * way; -1 unless it is OK. STATUS counts land in *messages_r. */
static int imapc_wait(struct imapc *c, unsigned int tag, uint32_t *messages_r,
		      const char **error_r)
{
	static char err[256];
	char want[16];
	struct imap_resp r;
	int wl = snprintf(want, sizeof(want), "M%u ", tag);

	for (;;) {
		if (imapc_read(c, &r, error_r) < 0)
			return -1;
		if (imapc_has_cap(&r, "LITERAL+"))
			c->literal_plus = true;
		if (messages_r != NULL && r.len > 9 &&
		    strncmp(r.data, "* STATUS ", 9) == 0) {
			const char *m = memmem(r.data, r.len, "MESSAGES ", 9);

			if (m != NULL)
				*messages_r = strtoul(m + 9, NULL, 10);
		}
		if (r.len >= (size_t)wl && memcmp(r.data, want, wl) == 0)
			break;
		if (r.len > 0 && r.data[0] == '+') {
			*error_r = "unexpected continuation request";
			return -1;
		}
	}
	if (r.len >= (size_t)wl + 2 && strncasecmp(r.data + wl, "OK", 2) == 0)
		return 0;
	snprintf(err, sizeof(err), "%.*s", (int)(r.len > 200 ? 200 : r.len), r.data);
	*error_r = err;
	return -1;
}

static int imapc_login(struct imapc *c, const char *user, const char *pw,
		       const char **error_r)
{
	struct imap_resp r;
	char cmd[512];
	int n;

	if (imapc_read(c, &r, error_r) < 0)
		return -1;
	if (r.len < 4 || strncmp(r.data, "* OK", 4) != 0) {
		*error_r = "no OK greeting";
		return -1;
	}
	if (imapc_has_cap(&r, "LITERAL+"))
		c->literal_plus = true;
	/* the test users' names and passwords need no quoting beyond this */
	n = snprintf(cmd, sizeof(cmd), "M%u LOGIN \"%s\" \"%s\"\r\n", ++c->tag,
		     user, pw);
	if (mk_write_all(c->fd, cmd, n) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	if (imapc_wait(c, c->tag, NULL, error_r) < 0)
		return -1;
	n = snprintf(cmd, sizeof(cmd), "M%u CAPABILITY\r\n", ++c->tag);
	if (mk_write_all(c->fd, cmd, n) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	return imapc_wait(c, c->tag, NULL, error_r);
}

static void mk_flags(const struct mg_info *info, char buf[static 48])
{
	snprintf(buf, 48, "(%s%s%s)", info->seen ? "\\Seen" : "",
		 info->flagged ? (info->seen ? " \\Flagged" : "\\Flagged") : "",
		 info->answered ? (info->seen || info->flagged ?
				   " \\Answered" : "\\Answered") : "");
}

/* Sends one APPEND; with a synchronising literal it waits for "+". */
static int imapc_append(struct imapc *c, const char *box, const struct mg_buf *msg,
			const struct mg_info *info, const char **error_r)
{
	char head[256], flags[48], date[32];
	struct imap_resp r;
	int n;

	mk_flags(info, flags);
	mg_imap_date(info->date, date);
	n = snprintf(head, sizeof(head), "M%u APPEND \"%s\" %s \"%s\" {%zu%s}\r\n",
		     ++c->tag, box, flags, date, msg->len,
		     c->literal_plus ? "+" : "");
	if (mk_write_all(c->fd, head, n) < 0)
		goto write_failed;
	if (!c->literal_plus) {
		if (imapc_read(c, &r, error_r) < 0)
			return -1;
		if (r.len == 0 || r.data[0] != '+') {
			*error_r = "APPEND literal refused";
			return -1;
		}
	}
	if (mk_write_all(c->fd, msg->data, msg->len) < 0 ||
	    mk_write_all(c->fd, "\r\n", 2) < 0)
		goto write_failed;
	return 0;
write_failed:
	*error_r = strerror(errno);
	return -1;
}

static int mk_fill_user(struct mkmail *mk, const char *user, uint64_t seed)
{
	struct mg_params gen = mk->gen;
	struct imapc c = { .fd = -1 };
	struct mg_buf msg = { 0 };
	struct mg_info info;
	uint64_t bytes = 0;
	uint32_t messages = 0;
	unsigned int first_tag = 0, acked = 0;
	const char *error;
	double t0 = mk_now();
	char cmd[256];
	int n, ret = -1;

	gen.seed = seed;
	if (imapc_connect(&c, mk->host, mk->port, &error) < 0)
		goto failed;
	if (imapc_login(&c, user, mk->password, &error) < 0)
		goto failed;
	for (uint64_t i = 0; i < mk->count; i++) {
		if (mg_message(&gen, mk->first + i, &msg, &info) < 0) {
			error = "out of memory";
			goto failed;
		}
		if (imapc_append(&c, mk->mailbox, &msg, &info, &error) < 0)
			goto failed;
		if (first_tag == 0)
			first_tag = c.tag;
		bytes += msg.len;
		/* keep at most a window of APPENDs unanswered */
		while (c.tag - (first_tag + acked) + 1 > MKMAIL_WINDOW ||
		       (!c.literal_plus && acked < c.tag - first_tag + 1)) {
			if (imapc_wait(&c, first_tag + acked, NULL, &error) < 0)
				goto failed;
			acked++;
		}
	}
	while (first_tag != 0 && first_tag + acked <= c.tag) {
		if (imapc_wait(&c, first_tag + acked, NULL, &error) < 0)
			goto failed;
		acked++;
	}
	n = snprintf(cmd, sizeof(cmd), "M%u STATUS \"%s\" (MESSAGES)\r\n",
		     ++c.tag, mk->mailbox);
	if (mk_write_all(c.fd, cmd, n) < 0 ||
	    imapc_wait(&c, c.tag, &messages, &error) < 0)
		goto failed;
	n = snprintf(cmd, sizeof(cmd), "M%u LOGOUT\r\n", ++c.tag);
	if (mk_write_all(c.fd, cmd, n) == 0)
		(void)imapc_wait(&c, c.tag, NULL, &error);
	printf("user=%s messages=%u appended=%u bytes=%llu secs=%.2f\n", user,
	       messages, acked, (unsigned long long)bytes, mk_now() - t0);
	ret = 0;
	goto done;
failed:
	fprintf(stderr, "mkmail: %s: %s\n", user, error);
done:
	if (c.fd >= 0)
		close(c.fd);
	imap_rbuf_free(&c.in);
	mg_buf_free(&msg);
	return ret;
}

static int mk_write_dir(struct mkmail *mk)
{
	struct mg_buf msg = { 0 };
	uint64_t bytes = 0;
	char path[4096];
	int fd, ret = -1;

	if (mkdir(mk->out_dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "mkmail: %s: %s\n", mk->out_dir, strerror(errno));
		return -1;
	}
	for (uint64_t i = 0; i < mk->count; i++) {
		if (mg_message(&mk->gen, mk->first + i, &msg, NULL) < 0) {
			fprintf(stderr, "mkmail: out of memory\n");
			goto out;
		}
		snprintf(path, sizeof(path), "%s/%06llu.eml", mk->out_dir,
			 (unsigned long long)(mk->first + i));
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || mk_write_all(fd, msg.data, msg.len) < 0) {
			fprintf(stderr, "mkmail: %s: %s\n", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto out;
		}
		close(fd);
		bytes += msg.len;
	}
	printf("dir=%s messages=%llu bytes=%llu\n", mk->out_dir,
	       (unsigned long long)mk->count, (unsigned long long)bytes);
	ret = 0;
out:
	mg_buf_free(&msg);
	return ret;
}

static void mk_usage(void)
{
	fprintf(stderr,
		"usage: mkmail [-s SEED] [-n COUNT] [--first I] [--attach-median B]\n"
		"              [--max-attach B] [--attach-pct P]\n"
		"              (--out DIR | --print I | --imap HOST:PORT --password PW\n"
		"               (--user NAME | --user-fmt FMT --users A-B) [--mailbox BOX])\n");
	exit(2);
}

static void mk_parse(struct mkmail *mk, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "first", required_argument, NULL, 'f' },
		{ "attach-median", required_argument, NULL, 'A' },
		{ "max-attach", required_argument, NULL, 'M' },
		{ "attach-pct", required_argument, NULL, 'P' },
		{ "out", required_argument, NULL, 'o' },
		{ "print", required_argument, NULL, 'p' },
		{ "imap", required_argument, NULL, 'i' },
		{ "user", required_argument, NULL, 'u' },
		{ "user-fmt", required_argument, NULL, 'F' },
		{ "users", required_argument, NULL, 'U' },
		{ "password", required_argument, NULL, 'w' },
		{ "mailbox", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 }
	};
	static char host[256];
	char *colon;
	int o;

	mk->seed = 1;
	mk->count = 500;
	mk->mailbox = "INBOX";
	mg_params_default(&mk->gen, 1);
	while ((o = getopt_long(argc, argv, "s:n:", opts, NULL)) != -1) {
		switch (o) {
		case 's': mk->seed = strtoull(optarg, NULL, 0); break;
		case 'n': mk->count = strtoull(optarg, NULL, 0); break;
		case 'f': mk->first = strtoull(optarg, NULL, 0); break;
		case 'A': mk->gen.attach_median = strtoull(optarg, NULL, 0); break;
		case 'M': mk->gen.max_attach = strtoull(optarg, NULL, 0); break;
		case 'P': mk->gen.attach_pct = atoi(optarg); break;
		case 'o': mk->out_dir = optarg; break;
		case 'p':
			mk->print_one = true;
			mk->first = strtoull(optarg, NULL, 0);
			break;
		case 'i':
			snprintf(host, sizeof(host), "%s", optarg);
			colon = strrchr(host, ':');
			if (colon == NULL)
				mk_usage();
			*colon = '\0';
			mk->host = host;
			mk->port = colon + 1;
			break;
		case 'u': mk->user = optarg; break;
		case 'F': mk->user_fmt = optarg; break;
		case 'U':
			if (sscanf(optarg, "%u-%u", &mk->users_from, &mk->users_to) != 2)
				mk_usage();
			break;
		case 'w': mk->password = optarg; break;
		case 'm': mk->mailbox = optarg; break;
		default: mk_usage();
		}
	}
	mk->gen.seed = mk->seed;
	if (optind != argc || mk->gen.attach_pct > 100 ||
	    (!mk->print_one && !mk->out_dir && !mk->host) ||
	    (mk->host && (!mk->password || (!mk->user && !mk->user_fmt))))
		mk_usage();
}

int main(int argc, char **argv)
{
	struct mkmail mk = { 0 };
	char user[256];
	int ret = 0;

	mk_parse(&mk, argc, argv);
	if (mk.print_one) {
		struct mg_buf msg = { 0 };

		if (mg_message(&mk.gen, mk.first, &msg, NULL) < 0)
			return 1;
		ret = fwrite(msg.data, 1, msg.len, stdout) == msg.len ? 0 : 1;
		mg_buf_free(&msg);
		return ret;
	}
	if (mk.out_dir != NULL)
		return mk_write_dir(&mk) < 0 ? 1 : 0;
	if (mk.user != NULL)
		return mk_fill_user(&mk, mk.user, mk.seed) < 0 ? 1 : 0;
	for (unsigned int i = mk.users_from; i < mk.users_to; i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(user, sizeof(user), mk.user_fmt, i);
#pragma GCC diagnostic pop
		if (mk_fill_user(&mk, user, mk.seed * 1000003 + i) < 0)
			ret = 1;
	}
	return ret;
}
