// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dovecot's passwd-file format:
 *   user:password:uid:gid:gecos:home:shell:extra fields
 * Trailing fields may be left out. Extra fields are space separated
 * key=value pairs; userdb_mail, userdb_uid, userdb_gid and userdb_home are
 * used, others ignored. Blank lines and lines starting with '#' are skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "hash.h"
#include "log.h"
#include "secret.h"

#define PASSWD_MAX_SIZE (64 * 1024 * 1024)

struct auth_passwd {
	char *data;		/* the file, secret, fields split in place */
	struct auth_user *users;
	unsigned int count;
	struct dboxd_hash *index;	/* name -> struct auth_user */
};

static int parse_id(const char *s, uint32_t *id_r)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return -1;
	*id_r = (uint32_t)v;
	return 0;
}

static void parse_extra(struct auth_user *u, char *extra, const char *path,
			unsigned int lineno)
{
	char *save = NULL;

	for (char *f = strtok_r(extra, " \t", &save); f != NULL;
	     f = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(f, '=');

		if (eq == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(f, "userdb_mail") == 0) {
			u->mail = eq;
		} else if (strcmp(f, "userdb_home") == 0) {
			u->home = eq;
		} else if (strcmp(f, "userdb_uid") == 0) {
			u->has_uid = parse_id(eq, &u->uid) == 0;
			if (!u->has_uid)
				dboxd_warn("%s:%u: bad userdb_uid", path, lineno);
		} else if (strcmp(f, "userdb_gid") == 0) {
			u->has_gid = parse_id(eq, &u->gid) == 0;
			if (!u->has_gid)
				dboxd_warn("%s:%u: bad userdb_gid", path, lineno);
		}
	}
}

/* Split one line into a user; false (logged) if it is unusable. */
static bool parse_line(struct auth_user *u, char *line, const char *path,
		       unsigned int lineno)
{
	char *f[8] = { 0 };
	unsigned int n = 0;
	char *p = line;

	while (n < 8) {
		char *colon;

		f[n++] = p;
		if (n == 8)
			break;	/* extra fields may contain ':' */
		colon = strchr(p, ':');
		if (colon == NULL)
			break;
		*colon = '\0';
		p = colon + 1;
	}
	memset(u, 0, sizeof(*u));
	u->name = f[0];
	u->password = n > 1 ? f[1] : "";
	u->home = n > 5 ? f[5] : "";
	u->mail = "";
	if (u->name[0] == '\0') {
		dboxd_warn("%s:%u: empty user name; line ignored", path, lineno);
		return false;
	}
	if (n > 2 && f[2][0] != '\0') {
		if (parse_id(f[2], &u->uid) < 0) {
			dboxd_warn("%s:%u: bad uid '%s'; line ignored", path,
				   lineno, f[2]);
			return false;
		}
		u->has_uid = true;
	}
	if (n > 3 && f[3][0] != '\0') {
		if (parse_id(f[3], &u->gid) < 0) {
			dboxd_warn("%s:%u: bad gid '%s'; line ignored", path,
				   lineno, f[3]);
			return false;
		}
		u->has_gid = true;
	}
	if (n > 7)
		parse_extra(u, f[7], path, lineno);
	return true;
}

int auth_passwd_load(int fd, const char *path, struct auth_passwd **pw_r,
		     const char **error_r)
{
	struct auth_passwd *pw;
	struct stat st;
	size_t len = 0, lines = 1;
	unsigned int lineno = 0;
	char *save = NULL, *p;

	if (fstat(fd, &st) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	if (st.st_size > PASSWD_MAX_SIZE) {
		*error_r = "file larger than 64 MiB";
		return -1;
	}
	pw = calloc(1, sizeof(*pw));
	if (pw == NULL)
		dboxd_fatal("out of memory");
	pw->data = dboxd_secret_alloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		ssize_t n = pread(fd, pw->data + len, (size_t)st.st_size - len,
				  (off_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	pw->data[len] = '\0';
	for (size_t i = 0; i < len; i++)
		lines += pw->data[i] == '\n';
	pw->users = dboxd_secret_alloc(lines * sizeof(*pw->users));
	pw->index = dboxd_hash_create();
	/* strtok would skip empty lines silently; count them ourselves. */
	for (p = pw->data; p != NULL; p = save) {
		char *nl = strchr(p, '\n');
		struct auth_user *u = &pw->users[pw->count];

		save = nl == NULL ? NULL : nl + 1;
		if (nl != NULL)
			*nl = '\0';
		lineno++;
		if (nl != NULL && nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		if (*p == '\0' || *p == '#')
			continue;
		if (!parse_line(u, p, path, lineno))
			continue;
		if (dboxd_hash_get_str(pw->index, u->name) != NULL) {
			dboxd_warn("%s:%u: user %s listed again; first entry kept",
				   path, lineno, u->name);
			continue;
		}
		dboxd_hash_set_str(pw->index, u->name, u);
		pw->count++;
	}
	*pw_r = pw;
	return 0;
}

void auth_passwd_free(struct auth_passwd **_pw)
{
	struct auth_passwd *pw = *_pw;

	if (pw == NULL)
		return;
	*_pw = NULL;
	dboxd_hash_destroy(&pw->index);
	dboxd_secret_free(pw->users);
	dboxd_secret_free(pw->data);
	free(pw);
}

const struct auth_user *auth_passwd_lookup(const struct auth_passwd *pw,
					   const char *user)
{
	return dboxd_hash_get_str(pw->index, user);
}

unsigned int auth_passwd_count(const struct auth_passwd *pw)
{
	return pw->count;
}

const struct auth_user *auth_passwd_lookup_rcpt(const struct auth_passwd *pw,
						const char *address)
{
	const struct auth_user *u = auth_passwd_lookup(pw, address);
	const char *at = strrchr(address, '@');
	char local[512];
	size_t len;

	if (u != NULL || at == NULL)
		return u;
	len = (size_t)(at - address);
	if (len >= sizeof(local))
		return NULL;
	memcpy(local, address, len);
	local[len] = '\0';
	u = auth_passwd_lookup(pw, local);
	if (u == NULL && strchr(local, '+') != NULL) {
		*strchr(local, '+') = '\0';
		u = auth_passwd_lookup(pw, local);
	}
	return u;
}
