// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Password schemes, named as Dovecot names them: {SHA512-CRYPT} ($6$),
 * {SHA256-CRYPT} ($5$), {BLF-CRYPT} ($2y$/$2b$/$2a$, where libcrypt has
 * bcrypt), {MD5-CRYPT} ($1$), {CRYPT} (whatever crypt() knows) and
 * {PLAIN}/{CLEARTEXT} (tests only). A password without a {SCHEME} prefix is
 * CRYPT, Dovecot's default for passwd-file. Comparisons take constant time.
 */
#include <crypt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "secret.h"

struct scheme {
	const char *name;
	const char *prefix;	/* the hash must start with it; NULL: any */
	bool plain;
};

static const struct scheme schemes[] = {
	{ "SHA512-CRYPT", "$6$", false },
	{ "SHA256-CRYPT", "$5$", false },
	{ "BLF-CRYPT", "$2", false },
	{ "MD5-CRYPT", "$1$", false },
	{ "CRYPT", NULL, false },
	{ "PLAIN", NULL, true },
	{ "CLEARTEXT", NULL, true },
};

static bool equal_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;

	/* Walk the stored length always, so the time tells nothing about
	   where the first difference is. */
	for (size_t i = 0; i < lb; i++)
		diff |= (unsigned char)(b[i] ^ (i < la ? a[i] : 0));
	return diff == 0;
}

enum auth_verify_result auth_scheme_verify(const char *stored,
					   const char *password,
					   const char **error_r)
{
	const struct scheme *scheme = NULL;
	const char *hash = stored;
	struct crypt_data *cd;
	enum auth_verify_result result;
	const char *out;

	if (stored[0] == '{') {
		const char *end = strchr(stored, '}');

		if (end == NULL) {
			*error_r = "password field has '{' without '}'";
			return AUTH_VERIFY_ERROR;
		}
		for (unsigned int i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
			size_t n = strlen(schemes[i].name);

			if ((size_t)(end - stored - 1) == n &&
			    strncasecmp(stored + 1, schemes[i].name, n) == 0)
				scheme = &schemes[i];
		}
		if (scheme == NULL) {
			*error_r = "unknown password scheme";
			return AUTH_VERIFY_ERROR;
		}
		hash = end + 1;
	} else {
		scheme = &schemes[4];	/* CRYPT */
	}
	if (hash[0] == '\0') {
		*error_r = "empty password field (login disabled)";
		return AUTH_VERIFY_MISMATCH;
	}
	if (scheme->plain)
		return equal_ct(password, hash) ? AUTH_VERIFY_OK :
						 AUTH_VERIFY_MISMATCH;
	if (scheme->prefix != NULL &&
	    strncmp(hash, scheme->prefix, strlen(scheme->prefix)) != 0) {
		*error_r = "hash does not match its {SCHEME}";
		return AUTH_VERIFY_ERROR;
	}
	cd = dboxd_secret_alloc(sizeof(*cd));
	memset(cd, 0, sizeof(*cd));
	out = crypt_rn(password, hash, cd, sizeof(*cd));
	if (out == NULL || out[0] == '*') {
		*error_r = "crypt() does not know this hash (scheme not in libcrypt?)";
		result = AUTH_VERIFY_ERROR;
	} else {
		result = equal_ct(out, hash) ? AUTH_VERIFY_OK :
					       AUTH_VERIFY_MISMATCH;
	}
	dboxd_secret_free(cd);
	return result;
}

const char *auth_scheme_list(void)
{
	static char list[128];
	static const struct {
		const char *name;
		const char *setting;
	} probes[] = {
		{ "SHA512-CRYPT", "$6$saltsalt$" },
		{ "SHA256-CRYPT", "$5$saltsalt$" },
		{ "BLF-CRYPT", "$2y$05$abcdefghijklmnopqrstuu" },
		{ "MD5-CRYPT", "$1$saltsalt$" },
	};
	struct crypt_data *cd = dboxd_secret_alloc(sizeof(*cd));

	list[0] = '\0';
	for (unsigned int i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		const char *out;

		memset(cd, 0, sizeof(*cd));
		out = crypt_rn("x", probes[i].setting, cd, sizeof(*cd));
		if (out != NULL && out[0] != '*') {
			strcat(list, probes[i].name);
			strcat(list, " ");
		}
	}
	strcat(list, "PLAIN");
	dboxd_secret_free(cd);
	return list;
}
