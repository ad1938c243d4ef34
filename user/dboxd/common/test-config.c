// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the config file: values, errors naming file and line,
   cross-checks, printing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "test-tap.h"

static char path[] = "/tmp/dboxd-test-config-XXXXXX";

static int load(const char *text, struct dboxd_config **config_r,
		const char **error_r)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	return dboxd_config_load(path, config_r, error_r);
}

/* users that exist on any system, so the checks pass */
#define BASE "login_user = 65534:65534\nauth_user = 65533:65533\n"

static void expect_error(const char *text, const char *where,
			 const char *what, const char *name)
{
	struct dboxd_config *config;
	const char *error = "";
	char want[256];
	int ret = load(text, &config, &error);

	snprintf(want, sizeof(want), "%s:%s", path, where);
	tap_ok(ret < 0 && strncmp(error, want, strlen(want)) == 0 &&
	       strstr(error, what) != NULL, "%s: %s", name, error);
	if (ret == 0)
		dboxd_config_free(&config);
}

int main(void)
{
	struct dboxd_config *config;
	const char *error = "";
	int fd = mkstemp(path);
	int ret;

	close(fd);
	ret = load(BASE "# comment\n\nimap_max_literal_size = 10M\n"
		   "login_timeout = 90s\nimap_idle_timeout = 2min\n"
		   "imap_greeting = \"hello # there\"\n"
		   "disable_plaintext_auth = no  # trailing comment\n"
		   "worker_spawn = exec\n", &config, &error);
	tap_ok(ret == 0, "a valid file loads (%s)", ret < 0 ? error : "");
	if (ret == 0) {
		tap_ok(config->set.imap_max_literal_size == 10 << 20, "sizes");
		tap_ok(config->set.login_timeout == 90000 &&
		       config->set.imap_idle_timeout == 120000, "durations");
		tap_ok(strcmp(config->set.imap_greeting, "hello # there") == 0,
		       "quoted values keep '#'");
		tap_ok(!config->set.disable_plaintext_auth,
		       "booleans and trailing comments");
		tap_ok(config->set.max_user_connections == 20 &&
		       strcmp(config->set.mail_location, "sdbox:~/dbox") == 0,
		       "unset settings keep their defaults");
		dboxd_config_free(&config);
	}
	expect_error(BASE "\nno_such = 1\n", "4:", "unknown setting",
		     "unknown setting names its line");
	expect_error(BASE "imap_max_literal_size = lots\n", "3:", "size",
		     "bad size");
	expect_error(BASE "login_timeout = 5 fortnights\n", "3:", "duration",
		     "bad duration");
	expect_error(BASE "worker_spawn = clone\n", "3:", "template|exec",
		     "bad enum lists the choices");
	expect_error(BASE "login_processes = 0\n", "3:", "1-64",
		     "number out of range");
	expect_error(BASE "just words\n", "3:", "name = value",
		     "a line without '='");
	expect_error(BASE "imaps_listen = *:993\n", "3:", "ssl_cert",
		     "imaps without a certificate names the imaps line");
	expect_error(BASE "imap_listen = 1.2.3:143\n", "3:", "ADDRESS:PORT",
		     "bad listen address");
	expect_error(BASE "mail_location = maildir:~/Maildir\n", "3:",
		     "sdbox", "unsupported mail format");
	expect_error(BASE "auth_failure_delay = 5s\n"
		     "auth_failure_delay_max = 1s\n", "4:", "below",
		     "settings checked against each other");
	expect_error("login_user = 0:0\nauth_user = 1:1\n", "1:", "root",
		     "roles may not run as root");
	expect_error(BASE "imap_greeting = \"open\n", "3:", "unterminated",
		     "unterminated quote");
	unlink(path);
	ret = dboxd_config_load(path, &config, &error);
	tap_ok(ret < 0 && strstr(error, path) != NULL &&
	       strstr(error, "cannot open") != NULL, "a missing file");
	return tap_done();
}
