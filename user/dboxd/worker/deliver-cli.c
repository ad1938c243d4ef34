// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `dboxd -d ADDRESS [-m MAILBOX] [-f SENDER] [-c CONFIG] < message`: the
 * command-line delivery tool (like dovecot-lda), for scripts and for MTAs
 * that deliver with a pipe. Run as root it reads passwd_file, becomes the
 * user and saves the message; run as the user itself it may deliver to
 * itself. Exit statuses follow sysexits.h, as MTAs expect: 0 saved, 64
 * usage, 65 message too large, 67 no such user, 75 temporary failure,
 * 77 not allowed, 78 bad config.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "config.h"
#include "dbox.h"
#include "deliver.h"
#include "log.h"
#include "privsep.h"
#include "secret.h"
#include "storage.h"
#include "worker.h"

#define EX_OK_		0
#define EX_DATAERR_	65
#define EX_NOUSER_	67
#define EX_TEMPFAIL_	75
#define EX_NOPERM_	77
#define EX_CONFIG_	78

static int user_allowed(const struct dboxd_settings *set,
			const struct auth_user *u)
{
	return u->has_uid && u->has_gid && u->uid != 0 && u->gid != 0 &&
	       u->uid >= set->first_valid_uid &&
	       (set->last_valid_uid == 0 || u->uid <= set->last_valid_uid) &&
	       u->gid >= set->first_valid_gid && u->home[0] == '/';
}

int dboxd_deliver_main(const char *config_path, const char *address,
		 const char *mailbox, const char *sender);
int dboxd_deliver_main(const char *config_path, const char *address,
		 const char *mailbox, const char *sender)
{
	struct dboxd_config *config;
	struct auth_passwd *pw;
	const struct auth_user *u;
	struct dboxd_buf msg;
	const char *error;
	char *user, *home, *mail;
	uid_t uid;
	gid_t gid;
	int fd;

	dboxd_log_set_role("deliver");
	if (dboxd_config_load(config_path, &config, &error) < 0) {
		fprintf(stderr, "dboxd: %s\n", error);
		return EX_CONFIG_;
	}
	dboxd_log_apply(&config->set);
	if (dboxd_secret_init(&error) < 0) {
		dboxd_error("secret memory: %s", error);
		return EX_TEMPFAIL_;
	}
	fd = open(config->set.passwd_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		dboxd_error("%s: %m", config->set.passwd_file);
		return errno == EACCES ? EX_NOPERM_ : EX_TEMPFAIL_;
	}
	if (auth_passwd_load(fd, config->set.passwd_file, &pw, &error) < 0) {
		dboxd_error("%s: %s", config->set.passwd_file, error);
		return EX_TEMPFAIL_;
	}
	close(fd);
	u = auth_passwd_lookup_rcpt(pw, address);
	if (u == NULL) {
		dboxd_error("%s: no such user", address);
		return EX_NOUSER_;
	}
	if (!user_allowed(&config->set, u)) {
		dboxd_error("user %s: uid/gid/home outside the limits", u->name);
		return EX_TEMPFAIL_;
	}
	user = strdup(u->name);
	home = strdup(u->home);
	mail = strdup(u->mail);
	uid = u->uid;
	gid = u->gid;
	auth_passwd_free(&pw);	/* no credentials past this point */
	if (user == NULL || home == NULL || mail == NULL)
		return EX_TEMPFAIL_;
	if (geteuid() == 0) {
		if (dboxd_drop_privileges(uid, gid, NULL, &error) < 0) {
			dboxd_error("%s", error);
			return EX_TEMPFAIL_;
		}
	} else if (getuid() != uid) {
		dboxd_error("only root or %s may deliver to %s", user, user);
		return EX_NOPERM_;
	}
	dboxd_buf_init(&msg, true);
	if (sender != NULL)
		dboxd_buf_printf(&msg, "Return-Path: <%s>\n", sender);
	dboxd_buf_printf(&msg, "Delivered-To: %s\n", address);
	if (imap_deliver_read_fd(STDIN_FILENO, &msg,
				 config->set.imap_max_literal_size,
				 &error) < 0) {
		dboxd_error("%s", error);
		return strstr(error, "too large") != NULL ? EX_DATAERR_ :
							    EX_TEMPFAIL_;
	}
	/* the storage glue expects a worker around it */
	worker_g = calloc(1, sizeof(*worker_g));
	if (worker_g == NULL)
		return EX_TEMPFAIL_;
	worker_g->config = config;
	worker_g->set = &config->set;
	if (dboxd_loop_create(DBOXD_LOOP_EPOLL, &worker_g->loop, &error) < 0 ||
	    imap_storage_open(user, home, mail, &error) < 0) {
		dboxd_error("%s", error);
		return EX_TEMPFAIL_;
	}
	if (imap_deliver(&msg, mailbox, &error) < 0) {
		dboxd_error("saving for %s: %s", user, error);
		imap_storage_close();
		return dbox_last_error() == DBOX_ERROR_LIMIT ? EX_DATAERR_ :
							       EX_TEMPFAIL_;
	}
	imap_storage_close();
	dboxd_buf_free(&msg);
	dboxd_info("delivered to %s (%s)", user, mailbox);
	return EX_OK_;
}
