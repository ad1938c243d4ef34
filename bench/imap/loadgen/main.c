// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * loadgen: options, the event loop and the run's phases.
 *
 *   loadgen [options] HOST:PORT
 *
 * Load mode (default): --clients connections log in (--per-user of them
 * share a user, users "--user-fmt" numbered from --user-base), SELECT
 * --mailbox and then issue ops drawn by --mix weights, each right after
 * the last completed (or after --think ms). Once every client is selected
 * and --warmup seconds passed, --duration seconds are measured: commands,
 * latency per command type, errors, and (with --server-pid/--server-name)
 * the server's CPU seconds over exactly that window. Then no new op
 * starts; the ops and logins in flight finish before the report, so
 * "appended" and "expunged" in the summary are what the server did.
 *
 * Idle mode (--idle): --clients connections log in, SELECT (checking
 * --expect-exists), IDLE, and are held; "ready connections=N dead=D
 * secs=S" is printed once all are idling (or dead), then loadgen holds
 * them for --hold seconds, or until SIGTERM/SIGINT/SIGUSR1.
 *
 * Output: "summary key=value..." and one "cmd name=... p50_ms=..." line
 * per command type on stdout; the first --max-errors failures, each with
 * its connection and the offending response, on stderr. Exit status 0
 * when no error was counted, 1 when one was, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"

#define LG_TICK_NS 5000000ULL

uint64_t lg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void lg_usage(void)
{
	fprintf(stderr,
"usage: loadgen [options] HOST:PORT\n"
"  -c, --clients N        connections (10)\n"
"  -u, --user-fmt FMT     user name format with one %%u (user%%04u)\n"
"      --user-base N      number of the first user (0)\n"
"      --per-user K       connections per user (1)\n"
"  -w, --password PW      password of every user (pass)\n"
"      --mailbox BOX      (INBOX)\n"
"  -d, --duration S       measured seconds (10)\n"
"  -W, --warmup S         seconds after all clients are selected (1)\n"
"  -m, --mix SPEC         op weights, e.g. fetch=35,store=15,expunge=5,\n"
"                         append=5,search=10,noop=28,logout=2 (the default)\n"
"  -t, --think MS         pause per client between ops (0)\n"
"  -T, --timeout S        per command (30)\n"
"  -s, --seed N           client choices and APPENDed mail (1)\n"
"      --min-messages N   no EXPUNGE at or below N messages (50)\n"
"      --max-messages N   no APPEND at or above N messages (2000)\n"
"      --attach-median B  APPENDed attachments (20000)\n"
"      --max-attach B     (262144)\n"
"  -p, --server-pid LIST  comma-separated pids whose process trees are the server\n"
"  -n, --server-name NAME processes of this name (and their trees) are the server\n"
"      --idle             idle mode (see above)\n"
"      --hold S           idle mode: hold seconds (0: until a signal)\n"
"      --expect-exists N  SELECT must report N messages\n"
"      --ramp N           connections in login at once (32)\n"
"      --max-errors N     errors described on stderr (10)\n"
"      --trace CONN       copy connection CONN's responses to stderr\n"
"      --quickack         TCP_QUICKACK after every read: diagnoses a server\n"
"                         whose replies wait for delayed ACKs (Nagle); no\n"
"                         real client does this\n");
	exit(2);
}

static int lg_parse_mix(struct lg_opts *o, const char *spec)
{
	char *copy = strdup(spec), *save = NULL, *item;
	int ret = 0;

	if (copy == NULL)
		return -1;
	memset(o->weights, 0, sizeof(o->weights));
	for (item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		int i;

		if (eq == NULL) {
			ret = -1;
			break;
		}
		*eq = '\0';
		for (i = 0; i < LG_C_OPS; i++)
			if (strcmp(item, lg_cmd_names[i]) == 0)
				break;
		if (i == LG_C_OPS) {
			ret = -1;
			break;
		}
		o->weights[i] = atoi(eq + 1);
	}
	free(copy);
	return ret;
}

/* exactly one conversion, and it is %u with an optional width */
static bool lg_user_fmt_ok(const char *fmt)
{
	const char *p = strchr(fmt, '%');

	if (p == NULL)
		return false;
	p += 1 + strspn(p + 1, "0123456789");
	return *p == 'u' && strchr(p, '%') == NULL;
}

static void lg_parse(struct lg_opts *o, int argc, char **argv)
{
	enum { O_BASE = 256, O_PER_USER, O_MAILBOX, O_MIN, O_MAX, O_MEDIAN,
	       O_MAXATT, O_IDLE, O_HOLD, O_EXPECT, O_RAMP, O_MAXERR, O_TRACE,
	       O_QUICKACK };
	static const struct option opts[] = {
		{ "clients", required_argument, NULL, 'c' },
		{ "user-fmt", required_argument, NULL, 'u' },
		{ "user-base", required_argument, NULL, O_BASE },
		{ "per-user", required_argument, NULL, O_PER_USER },
		{ "password", required_argument, NULL, 'w' },
		{ "mailbox", required_argument, NULL, O_MAILBOX },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "mix", required_argument, NULL, 'm' },
		{ "think", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "seed", required_argument, NULL, 's' },
		{ "min-messages", required_argument, NULL, O_MIN },
		{ "max-messages", required_argument, NULL, O_MAX },
		{ "attach-median", required_argument, NULL, O_MEDIAN },
		{ "max-attach", required_argument, NULL, O_MAXATT },
		{ "server-pid", required_argument, NULL, 'p' },
		{ "server-name", required_argument, NULL, 'n' },
		{ "idle", no_argument, NULL, O_IDLE },
		{ "hold", required_argument, NULL, O_HOLD },
		{ "expect-exists", required_argument, NULL, O_EXPECT },
		{ "ramp", required_argument, NULL, O_RAMP },
		{ "max-errors", required_argument, NULL, O_MAXERR },
		{ "trace", required_argument, NULL, O_TRACE },
		{ "quickack", no_argument, NULL, O_QUICKACK },
		{ NULL, 0, NULL, 0 }
	};
	static char host[256];
	char *colon;
	int c;

	o->clients = 10;
	o->per_user = 1;
	o->user_fmt = "user%04u";
	o->password = "pass";
	o->mailbox = "INBOX";
	o->duration = 10;
	o->warmup = 1;
	o->timeout = 30;
	o->seed = 1;
	o->min_messages = 50;
	o->max_messages = 2000;
	o->ramp = 32;
	o->max_errors = 10;
	o->expect_exists = -1;
	o->trace = -1;
	lg_parse_mix(o, "fetch=35,store=15,expunge=5,append=5,search=10,noop=28,logout=2");
	mg_params_default(&o->gen, 0);
	o->gen.attach_median = 20000;
	o->gen.max_attach = 262144;
	while ((c = getopt_long(argc, argv, "c:u:w:d:W:m:t:T:s:p:n:", opts,
				NULL)) != -1) {
		switch (c) {
		case 'c': o->clients = atoi(optarg); break;
		case 'u': o->user_fmt = optarg; break;
		case O_BASE: o->user_base = atoi(optarg); break;
		case O_PER_USER: o->per_user = atoi(optarg); break;
		case 'w': o->password = optarg; break;
		case O_MAILBOX: o->mailbox = optarg; break;
		case 'd': o->duration = atof(optarg); break;
		case 'W': o->warmup = atof(optarg); break;
		case 'm':
			if (lg_parse_mix(o, optarg) < 0)
				lg_usage();
			break;
		case 't': o->think_ms = atof(optarg); break;
		case 'T': o->timeout = atof(optarg); break;
		case 's': o->seed = strtoull(optarg, NULL, 0); break;
		case O_MIN: o->min_messages = atoi(optarg); break;
		case O_MAX: o->max_messages = atoi(optarg); break;
		case O_MEDIAN: o->gen.attach_median = strtoull(optarg, NULL, 0); break;
		case O_MAXATT: o->gen.max_attach = strtoull(optarg, NULL, 0); break;
		case 'p': o->server_pids = optarg; break;
		case 'n': o->server_name = optarg; break;
		case O_IDLE: o->idle = true; break;
		case O_HOLD: o->hold = atof(optarg); break;
		case O_EXPECT: o->expect_exists = atol(optarg); break;
		case O_RAMP: o->ramp = atoi(optarg); break;
		case O_MAXERR: o->max_errors = atoi(optarg); break;
		case O_TRACE: o->trace = atoi(optarg); break;
		case O_QUICKACK: o->quickack = true; break;
		default: lg_usage();
		}
	}
	if (optind + 1 != argc || o->clients == 0 || o->per_user == 0 ||
	    o->ramp == 0 || !lg_user_fmt_ok(o->user_fmt))
		lg_usage();
	snprintf(host, sizeof(host), "%s", argv[optind]);
	colon = strrchr(host, ':');
	if (colon == NULL)
		lg_usage();
	*colon = '\0';
	o->host = host;
	o->port = colon + 1;
	o->gen.seed = o->seed * 7919 + 17;
}

static int lg_setup(struct lg_run *run, const char **error_r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct rlimit rl;
	sigset_t sigs;
	int err;

	err = getaddrinfo(run->o.host, run->o.port, &hints, &ai);
	if (err != 0) {
		*error_r = gai_strerror(err);
		return -1;
	}
	memcpy(&run->addr, ai->ai_addr, ai->ai_addrlen);
	run->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);

	/* thousands of connections need thousands of descriptors */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	run->sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	run->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (run->sigfd < 0 || run->epfd < 0 ||
	    epoll_ctl(run->epfd, EPOLL_CTL_ADD, run->sigfd, &ev) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	run->conns = calloc(run->o.clients, sizeof(*run->conns));
	if (run->conns == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	for (unsigned int i = 0; i < run->o.clients; i++) {
		struct lg_conn *c = &run->conns[i];

		c->run = run;
		c->fd = -1;
		c->id = i;
		c->user = run->o.user_base + i / run->o.per_user;
		c->state = LG_S_WAITING;
		c->tag_next = 1;
		bench_rng_init(&c->rng, run->o.seed, i);
	}
	return 0;
}

static void lg_cpu_mark(struct lg_run *run, struct lg_cpu *cpu)
{
	const char *error;

	if (run->o.server_pids == NULL && run->o.server_name == NULL)
		return;
	if (lg_server_cpu(&run->o, cpu, &error) < 0) {
		fprintf(stderr, "loadgen: server CPU: %s\n", error);
		return;
	}
	run->have_cpu = true;
}

/* Load mode: measure once every client got through setup (or, if some
 * never do, 30 s in, so failures are still reported). */
static bool lg_phase_load(struct lg_run *run, uint64_t now)
{
	if (!run->measuring) {
		bool all = run->setup_once == run->o.clients;

		if (run->t_ready == 0 && (all || now - run->t_start > 30000000000ULL))
			run->t_ready = now;
		if (run->t_ready && now >= run->t_ready + (uint64_t)(run->o.warmup * 1e9)) {
			lg_cpu_mark(run, &run->cpu0);
			run->measuring = true;
			run->t_measure = now;
			run->t_end = now + (uint64_t)(run->o.duration * 1e9);
		}
		return false;
	}
	if (now < run->t_end)
		return false;
	if (!run->draining) {
		lg_cpu_mark(run, &run->cpu1);
		run->draining = true;
		run->t_drain_end = now + (uint64_t)(run->o.timeout * 1e9);
	}
	/* ops and logins in flight finish (or time out in lg_conn_tick) */
	for (unsigned int i = 0; i < run->o.clients; i++) {
		enum lg_state s = run->conns[i].state;

		if (s != LG_S_READY && s != LG_S_WAITING && s != LG_S_CLOSING &&
		    s != LG_S_DEAD)
			return now >= run->t_drain_end;
	}
	return true;
}

static bool lg_phase_idle(struct lg_run *run, uint64_t now)
{
	if (run->t_ready == 0 && run->ready + run->dead == run->o.clients) {
		run->t_ready = now;
		printf("ready connections=%u dead=%u secs=%.2f\n", run->ready,
		       run->dead, (now - run->t_start) / 1e9);
		fflush(stdout);
	}
	return run->t_ready && run->o.hold > 0 &&
	       now >= run->t_ready + (uint64_t)(run->o.hold * 1e9);
}

static void lg_loop(struct lg_run *run)
{
	struct epoll_event evs[256];
	uint64_t last_tick = 0;

	run->t_start = lg_now();
	while (!run->stop) {
		uint64_t now = lg_now();
		int n;

		if (now - last_tick >= LG_TICK_NS) {
			for (unsigned int i = 0; i < run->o.clients; i++)
				lg_conn_tick(&run->conns[i], now);
			last_tick = now;
		}
		if (run->o.idle ? lg_phase_idle(run, now) : lg_phase_load(run, now))
			break;
		n = epoll_wait(run->epfd, evs, 256, run->t_ready && run->o.idle ? 100 : 5);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL) {
				/* a signal: stop (load mode reports what it has) */
				if (!run->o.idle && run->measuring && !run->draining) {
					run->t_end = lg_now();
					lg_cpu_mark(run, &run->cpu1);
				}
				run->stop = true;
				break;
			}
			lg_conn_event(evs[i].data.ptr, evs[i].events);
		}
	}
}

int main(int argc, char **argv)
{
	struct lg_run run = { .epfd = -1, .sigfd = -1 };
	const char *error;
	uint64_t errors = 0;

	lg_parse(&run.o, argc, argv);
	if (lg_setup(&run, &error) < 0) {
		fprintf(stderr, "loadgen: %s\n", error);
		return 2;
	}
	lg_loop(&run);
	lg_report(&run);
	for (int i = 0; i < LG_E_COUNT; i++)
		errors += run.errors[i];
	return errors ? 1 : 0;
}
