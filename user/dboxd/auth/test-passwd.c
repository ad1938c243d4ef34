// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the passwd-file parser, password schemes and the failure
   penalty. */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "secret.h"
#include "test-tap.h"

int main(void)
{
	char path[] = "/tmp/dboxd-test-passwd-XXXXXX";
	struct auth_passwd *pw;
	const struct auth_user *u;
	struct crypt_data cd;
	char line[512];
	const char *error;
	int fd;
	FILE *f;

	dboxd_secret_init(&error);
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	memset(&cd, 0, sizeof(cd));
	fprintf(f, "# users\n\n"
		"alice:{PLAIN}pw:1001:1001::/home/alice::userdb_mail=mdbox:~/m\n"
		"bob:%s:1002:1002::/home/bob\n"
		"carol:{SHA512-CRYPT}%s:1003:1003::/home/carol::\n"
		"bad:{PLAIN}x:notanumber:1::/h::\n"
		"alice:{PLAIN}other:1:1::/x::\n"
		"nouid:{PLAIN}pw:::::\n",
		crypt_rn("bobpw", "$5$saltsalt$", &cd, sizeof(cd)),
		strcpy(line, crypt_rn("carolpw", "$6$saltsalt$", &cd,
				      sizeof(cd))));
	fflush(f);
	tap_ok(auth_passwd_load(fd, path, &pw, &error) == 0, "loads");
	tap_ok(auth_passwd_count(pw) == 4,
	       "bad lines skipped, duplicates ignored (%u users)",
	       auth_passwd_count(pw));
	u = auth_passwd_lookup(pw, "alice");
	tap_ok(u != NULL && u->uid == 1001 && strcmp(u->home, "/home/alice") == 0
	       && strcmp(u->mail, "mdbox:~/m") == 0 &&
	       strcmp(u->password, "{PLAIN}pw") == 0,
	       "fields and userdb_mail; the first entry wins");
	tap_ok(auth_passwd_lookup(pw, "ALICE") == NULL, "names are exact");
	u = auth_passwd_lookup(pw, "nouid");
	tap_ok(u != NULL && !u->has_uid && !u->has_gid, "missing uid/gid");
	tap_ok(auth_scheme_verify("{PLAIN}pw", "pw", &error) == AUTH_VERIFY_OK &&
	       auth_scheme_verify("{PLAIN}pw", "pW", &error) ==
	       AUTH_VERIFY_MISMATCH && auth_scheme_verify("{PLAIN}pw", "pw2",
	       &error) == AUTH_VERIFY_MISMATCH, "PLAIN");
	u = auth_passwd_lookup(pw, "bob");
	tap_ok(u != NULL && auth_scheme_verify(u->password, "bobpw", &error) ==
	       AUTH_VERIFY_OK && auth_scheme_verify(u->password, "x", &error) ==
	       AUTH_VERIFY_MISMATCH, "a bare crypt() hash is CRYPT");
	u = auth_passwd_lookup(pw, "carol");
	tap_ok(u != NULL && auth_scheme_verify(u->password, "carolpw", &error)
	       == AUTH_VERIFY_OK, "SHA512-CRYPT");
	tap_ok(auth_scheme_verify("{SHA512-CRYPT}$5$abc$def", "x", &error) ==
	       AUTH_VERIFY_ERROR, "a hash that does not match its scheme");
	tap_ok(auth_scheme_verify("{NOSUCH}x", "x", &error) ==
	       AUTH_VERIFY_ERROR, "unknown scheme");
	tap_ok(auth_scheme_verify("{PLAIN}", "", &error) ==
	       AUTH_VERIFY_MISMATCH, "an empty password field never matches");
	if (strstr(auth_scheme_list(), "BLF-CRYPT") != NULL) {
		char h[128];

		snprintf(h, sizeof(h), "{BLF-CRYPT}%s",
			 crypt_rn("b", "$2y$05$abcdefghijklmnopqrstuu", &cd,
				  sizeof(cd)));
		tap_ok(auth_scheme_verify(h, "b", &error) == AUTH_VERIFY_OK &&
		       auth_scheme_verify(h, "c", &error) ==
		       AUTH_VERIFY_MISMATCH, "BLF-CRYPT");
	} else {
		tap_skip("BLF-CRYPT", "libcrypt without bcrypt");
	}
	auth_passwd_free(&pw);
	fclose(f);
	unlink(path);

	auth_penalty_init(100, 1000);
	tap_ok(auth_penalty_fail("1.2.3.4") == 100 &&
	       auth_penalty_fail("1.2.3.4") == 200 &&
	       auth_penalty_fail("1.2.3.4") == 400 &&
	       auth_penalty_fail("1.2.3.4") == 800 &&
	       auth_penalty_fail("1.2.3.4") == 1000 &&
	       auth_penalty_fail("1.2.3.4") == 1000,
	       "the delay doubles up to the maximum");
	tap_ok(auth_penalty_fail("5.6.7.8") == 100, "per address");
	auth_penalty_reset("1.2.3.4");
	tap_ok(auth_penalty_fail("1.2.3.4") == 100, "reset by a success");
	return tap_done();
}
