// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dboxd: an IMAP server over Dovecot's dbox formats. See docs/dboxd.md.
 *
 *   dboxd [-c FILE]            run (as root; the master forks the roles)
 *   dboxd -n [-c FILE]         check the config, print what differs from
 *                              the defaults, exit
 *   dboxd -a [-c FILE]         print every setting with its description
 *   dboxd -d ADDRESS [-m MAILBOX] [-f SENDER] [-c FILE] < message
 *                              deliver a message (worker/deliver-cli.c)
 *   dboxd -X worker FD         internal: an exec'd worker (worker_spawn =
 *                              exec), talking to the master on FD
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "login/login-tls.h"
#include "master/master.h"
#include "roles.h"

#define DBOXD_VERSION "0.1"
#define DEFAULT_CONFIG "/etc/dboxd/dboxd.conf"

int dboxd_deliver_main(const char *config_path, const char *address,
		 const char *mailbox, const char *sender);

static void usage(void)
{
	fprintf(stderr,
		"usage: dboxd [-F] [-c FILE]\n"
		"       dboxd -n [-c FILE]   check the config and print its non-default settings\n"
		"       dboxd -a [-c FILE]   print all settings\n"
		"       dboxd -d ADDRESS [-m MAILBOX] [-f SENDER] [-c FILE] < message\n"
		"       dboxd -V             print the version\n");
	exit(2);
}

static int check_config(const char *path, bool all)
{
	struct dboxd_config *config;
	const char *error;

	if (dboxd_config_load(path, &config, &error) < 0) {
		fprintf(stderr, "dboxd: %s\n", error);
		return 1;
	}
	if (login_tls_check(config, &error) < 0) {
		fprintf(stderr, "dboxd: %s\n", error);
		dboxd_config_free(&config);
		return 1;
	}
	printf("# dboxd %s: %s\n", DBOXD_VERSION, path);
	dboxd_config_print(config, stdout, all);
	dboxd_config_free(&config);
	return 0;
}

static int exec_worker(const char *fdstr)
{
	char *end;
	long fd;

	errno = 0;
	fd = strtol(fdstr, &end, 10);
	if (errno != 0 || *end != '\0' || fd < 3 || fd > 65535) {
		fprintf(stderr, "dboxd: -X worker needs a descriptor\n");
		return 2;
	}
	/* Settings come over the channel (SETTING messages). */
	worker_main(dboxd_config_new(), (int)fd);
}

int main(int argc, char *argv[])
{
	const char *config_path = DEFAULT_CONFIG;
	const char *deliver_to = NULL, *mailbox = "INBOX", *sender = NULL;
	bool check = false, all = false;
	int opt;

	if (argc == 4 && strcmp(argv[1], "-X") == 0 &&
	    strcmp(argv[2], "worker") == 0)
		return exec_worker(argv[3]);
	while ((opt = getopt(argc, argv, "ac:d:f:Fm:nV")) != -1) {
		switch (opt) {
		case 'd':
			deliver_to = optarg;
			break;
		case 'f':
			sender = optarg;
			break;
		case 'm':
			mailbox = optarg;
			break;
		case 'a':
			all = true;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'F':
			/* Always in the foreground (systemd, tests). */
			break;
		case 'n':
			check = true;
			break;
		case 'V':
			printf("dboxd %s\n", DBOXD_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (deliver_to != NULL)
		return dboxd_deliver_main(config_path, deliver_to, mailbox, sender);
	if (check || all)
		return check_config(config_path, all);
	return master_main(config_path);
}
