/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The auth process: the only one that reads credentials. It runs as
 * auth_user, chrooted into an empty directory; the master passes it the
 * passwd-file as an open descriptor. Requests come from the master (for
 * the login processes); a failure is answered after a delay that grows with
 * the failures from the same address.
 */
#ifndef DBOXD_AUTH_H
#define DBOXD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct auth_user {
	const char *name;
	const char *password;	/* "{SCHEME}data" or bare crypt() hash */
	bool has_uid, has_gid;
	uint32_t uid, gid;
	const char *home;
	const char *mail;	/* userdb_mail, or "" */
};

struct auth_passwd;

/* Parse a passwd-file (Dovecot format) read from fd. Bad lines are logged
   with path:line and skipped. All of it lives in secret memory. */
int auth_passwd_load(int fd, const char *path, struct auth_passwd **pw_r,
		     const char **error_r);
void auth_passwd_free(struct auth_passwd **pw);
const struct auth_user *auth_passwd_lookup(const struct auth_passwd *pw,
					   const char *user);
unsigned int auth_passwd_count(const struct auth_passwd *pw);
/* The user a delivery address names: the address itself, else its local
   part, else the local part without a "+detail". */
const struct auth_user *auth_passwd_lookup_rcpt(const struct auth_passwd *pw,
						const char *address);

enum auth_verify_result {
	AUTH_VERIFY_OK,
	AUTH_VERIFY_MISMATCH,
	AUTH_VERIFY_ERROR,	/* unknown scheme, malformed hash */
};
/* Check password against stored ("{SCHEME}hash"); *error_r for ERROR. */
enum auth_verify_result auth_scheme_verify(const char *stored,
					   const char *password,
					   const char **error_r);
/* Which crypt schemes this libcrypt knows, for the start-up log. */
const char *auth_scheme_list(void);

/* Failure penalties per address. */
void auth_penalty_init(unsigned int base_msecs, unsigned int max_msecs);
/* Record a failure from ip; returns the delay to answer it with. */
unsigned int auth_penalty_fail(const char *ip);
void auth_penalty_reset(const char *ip);

#endif
