// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pre-login commands (RFC 3501 6.1 and 6.2, RFC 2971 ID, RFC 4959 SASL-IR)
 * and the SASL mechanisms PLAIN (RFC 4616) and LOGIN. One table; a command
 * that exists only after login gets NO, an unknown one BAD.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "log.h"
#include "login.h"
#include "secret.h"

typedef void login_cmd_func_t(struct login_client *c, const char *tag,
			      const struct imap_arg *args);

struct login_cmd {
	const char *name;
	login_cmd_func_t *func;
};

struct login_sasl_mech {
	const char *name;
	/* Called with each decoded client response (secret memory). */
	void (*step)(struct login_client *c, const unsigned char *data,
		     size_t len);
};

static bool plaintext_allowed(const struct login_client *c)
{
	return c->secured || !login_g->config->set.disable_plaintext_auth;
}

void login_client_capability(struct login_client *c, struct dboxd_buf *out)
{
	dboxd_buf_append_str(out, "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+");
	if (login_g->ssl_ctx != NULL && c->ssl == NULL)
		dboxd_buf_append_str(out, " STARTTLS");
	if (plaintext_allowed(c))
		dboxd_buf_append_str(out, " AUTH=PLAIN AUTH=LOGIN");
	else
		dboxd_buf_append_str(out, " LOGINDISABLED");
}

static bool no_args(struct login_client *c, const char *tag,
		    const struct imap_arg *args)
{
	if (imap_arg_is_eol(args))
		return true;
	login_client_send(c, "%s BAD Unexpected arguments", tag);
	return false;
}

static void cmd_capability(struct login_client *c, const char *tag,
			   const struct imap_arg *args)
{
	struct dboxd_buf caps;

	if (!no_args(c, tag, args))
		return;
	dboxd_buf_init(&caps, false);
	login_client_capability(c, &caps);
	dboxd_buf_append(&caps, "", 1);
	login_client_send(c, "* CAPABILITY %s", caps.data);
	login_client_send(c, "%s OK Capability completed.", tag);
	dboxd_buf_free(&caps);
}

static void cmd_noop(struct login_client *c, const char *tag,
		     const struct imap_arg *args)
{
	if (no_args(c, tag, args))
		login_client_send(c, "%s OK NOOP completed.", tag);
}

static void cmd_logout(struct login_client *c, const char *tag,
		       const struct imap_arg *args)
{
	if (!no_args(c, tag, args))
		return;
	login_client_send(c, "* BYE Logging out");
	login_client_send(c, "%s OK Logout completed.", tag);
	login_client_close(c, NULL);
}

static void cmd_id(struct login_client *c, const char *tag,
		   const struct imap_arg *args)
{
	const struct imap_arg *list;
	unsigned int count;

	/* ID ( "key" "value" ... ) or ID NIL; we only log nothing of it. */
	if (!imap_arg_is_nil(&args[0]) &&
	    (!imap_arg_get_list(&args[0], &list, &count) || count % 2 != 0 ||
	     count > 60)) {
		login_client_send(c, "%s BAD Invalid ID parameters", tag);
		return;
	}
	if (!imap_arg_is_eol(&args[1])) {
		login_client_send(c, "%s BAD Unexpected arguments", tag);
		return;
	}
	login_client_send(c, "* ID (\"name\" \"dboxd\")");
	login_client_send(c, "%s OK ID completed.", tag);
}

static void cmd_starttls(struct login_client *c, const char *tag,
			 const struct imap_arg *args)
{
	if (!no_args(c, tag, args))
		return;
	if (c->ssl != NULL) {
		login_client_send(c, "%s BAD TLS is already active.", tag);
		return;
	}
	if (login_g->ssl_ctx == NULL) {
		login_client_send(c, "%s BAD TLS support isn't enabled.", tag);
		return;
	}
	login_client_send(c, "%s OK Begin TLS negotiation now.", tag);
	login_client_starttls(c);
}

void login_client_auth_start(struct login_client *c, const char *tag,
			     const char *mech, const char *authzid,
			     const char *authcid, const char *password)
{
	struct dboxd_ipc_msg msg;

	if (c->auth_tag != tag) {
		free(c->auth_tag);
		c->auth_tag = strdup(tag);
		if (c->auth_tag == NULL)
			dboxd_fatal("out of memory");
	}
	if (strlen(authcid) > 1000 || strlen(authzid) > 1000 ||
	    strlen(password) > 1000 || authcid[0] == '\0') {
		login_client_send(c, "%s NO [AUTHENTICATIONFAILED] Authentication failed.",
				  tag);
		c->state = LC_COMMANDS;
		c->auth_failures++;
		return;
	}
	c->state = LC_AUTHING;
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_AUTH_REQUEST, true);
	dboxd_ipc_put_u64(&msg, c->conn_id);
	dboxd_ipc_put_str(&msg, mech);
	dboxd_ipc_put_str(&msg, authzid);
	dboxd_ipc_put_str(&msg, authcid);
	dboxd_ipc_put_str(&msg, password);
	dboxd_ipc_put_str(&msg, c->ip);
	dboxd_ipc_put_u32(&msg, c->secured ? DBOXD_CONN_SECURED : 0);
	dboxd_ipc_send(login_g->ipc, &msg, -1);
}

static void cmd_login(struct login_client *c, const char *tag,
		      const struct imap_arg *args)
{
	const char *user, *pass;

	if (!imap_arg_get_astring(&args[0], &user) ||
	    !imap_arg_get_astring(&args[1], &pass) ||
	    !imap_arg_is_eol(&args[2])) {
		login_client_send(c, "%s BAD Invalid arguments: LOGIN user password",
				  tag);
		return;
	}
	if (!plaintext_allowed(c)) {
		login_client_send(c, "%s NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
				  tag);
		return;
	}
	login_client_auth_start(c, tag, "LOGIN", "", user, pass);
}

/* ---- SASL --------------------------------------------------------------- */

static void sasl_plain_step(struct login_client *c, const unsigned char *data,
			    size_t len)
{
	const char *authzid = (const char *)data, *authcid, *pass;
	const unsigned char *nul1, *nul2;

	/* authzid NUL authcid NUL passwd, no other NULs */
	nul1 = memchr(data, '\0', len);
	nul2 = nul1 == NULL ? NULL : memchr(nul1 + 1, '\0',
					    len - (nul1 + 1 - data));
	if (nul2 == NULL || memchr(nul2 + 1, '\0', len - (nul2 + 1 - data))) {
		login_client_send(c, "%s NO [AUTHENTICATIONFAILED] Invalid PLAIN response.",
				  c->auth_tag);
		c->state = LC_COMMANDS;
		c->auth_failures++;
		return;
	}
	authcid = (const char *)nul1 + 1;
	pass = (const char *)nul2 + 1;
	login_client_auth_start(c, c->auth_tag, "PLAIN", authzid, authcid,
				pass);
}

static void sasl_login_step(struct login_client *c, const unsigned char *data,
			    size_t len)
{
	if (memchr(data, '\0', len) != NULL) {
		login_client_send(c, "%s NO [AUTHENTICATIONFAILED] Invalid LOGIN response.",
				  c->auth_tag);
		c->state = LC_COMMANDS;
		c->auth_failures++;
		return;
	}
	if (c->sasl_step == 0) {
		/* The initial response, if any, is the user name. */
		dboxd_secret_free(c->sasl_authcid);
		c->sasl_authcid = dboxd_secret_alloc(len + 1);
		memcpy(c->sasl_authcid, data, len);
		c->sasl_authcid[len] = '\0';
		c->sasl_step = 1;
		login_client_send(c, "+ UGFzc3dvcmQ6");	/* "Password:" */
		c->state = LC_SASL;
		return;
	}
	login_client_auth_start(c, c->auth_tag, "LOGIN", "", c->sasl_authcid,
				(const char *)data);
	dboxd_secret_free(c->sasl_authcid);
	c->sasl_authcid = NULL;
}

static const struct login_sasl_mech sasl_mechs[] = {
	{ "PLAIN", sasl_plain_step },
	{ "LOGIN", sasl_login_step },
};

/* A base64 response line (or "*" to cancel). */
void login_client_sasl_line(struct login_client *c, const char *line)
{
	struct dboxd_buf data;

	if (strcmp(line, "*") == 0) {
		login_client_send(c, "%s BAD Authentication canceled.",
				  c->auth_tag);
		c->state = LC_COMMANDS;
		return;
	}
	dboxd_buf_init(&data, true);
	if (dboxd_base64_decode(line, strlen(line), &data) < 0) {
		login_client_send(c, "%s BAD Invalid base64 data in continued response.",
				  c->auth_tag);
		c->state = LC_COMMANDS;
		dboxd_buf_free(&data);
		return;
	}
	dboxd_buf_append(&data, "", 1);
	c->state = LC_COMMANDS;
	c->sasl->step(c, dboxd_buf_ptr(&data), dboxd_buf_len(&data) - 1);
	dboxd_buf_free(&data);
}

static void cmd_authenticate(struct login_client *c, const char *tag,
			     const struct imap_arg *args)
{
	const struct login_sasl_mech *mech = NULL;
	const char *name, *ir = NULL;

	if (!imap_arg_get_atom(&args[0], &name) ||
	    (!imap_arg_is_eol(&args[1]) &&
	     (!imap_arg_get_atom(&args[1], &ir) || !imap_arg_is_eol(&args[2])))) {
		login_client_send(c, "%s BAD Invalid arguments: AUTHENTICATE mechanism [initial-response]",
				  tag);
		return;
	}
	for (unsigned int i = 0; i < sizeof(sasl_mechs) / sizeof(sasl_mechs[0]); i++) {
		if (strcasecmp(sasl_mechs[i].name, name) == 0)
			mech = &sasl_mechs[i];
	}
	if (mech == NULL) {
		login_client_send(c, "%s NO Unsupported authentication mechanism.",
				  tag);
		return;
	}
	if (!plaintext_allowed(c)) {
		login_client_send(c, "%s NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
				  tag);
		return;
	}
	free(c->auth_tag);
	c->auth_tag = strdup(tag);
	if (c->auth_tag == NULL)
		dboxd_fatal("out of memory");
	c->sasl = mech;
	c->sasl_step = 0;
	if (ir != NULL) {
		/* SASL-IR: "=" is an empty initial response. */
		login_client_sasl_line(c, strcmp(ir, "=") == 0 ? "" : ir);
		return;
	}
	c->state = LC_SASL;
	if (mech->step == sasl_login_step)
		login_client_send(c, "+ VXNlcm5hbWU6");	/* "Username:" */
	else
		login_client_send(c, "+ ");
}

static const struct login_cmd login_cmds[] = {
	{ "CAPABILITY", cmd_capability },
	{ "NOOP", cmd_noop },
	{ "LOGOUT", cmd_logout },
	{ "ID", cmd_id },
	{ "STARTTLS", cmd_starttls },
	{ "LOGIN", cmd_login },
	{ "AUTHENTICATE", cmd_authenticate },
};

/* Commands of the authenticated and selected states (RFC 3501 6.3, 6.4
   and extensions): valid, but not yet. */
static const char *const post_login_cmds[] = {
	"SELECT", "EXAMINE", "CREATE", "DELETE", "RENAME", "SUBSCRIBE",
	"UNSUBSCRIBE", "LIST", "LSUB", "STATUS", "APPEND", "CHECK", "CLOSE",
	"EXPUNGE", "SEARCH", "FETCH", "STORE", "COPY", "MOVE", "UID", "IDLE",
	"NAMESPACE", "ENABLE", "UNSELECT", "SORT", "THREAD", "COMPRESS",
	"GETQUOTAROOT", "GETQUOTA", "ESEARCH",
};

void login_client_command(struct login_client *c,
			  const struct imap_parsed_command *cmd)
{
	for (unsigned int i = 0; i < sizeof(login_cmds) / sizeof(login_cmds[0]); i++) {
		if (strcasecmp(login_cmds[i].name, cmd->name) == 0) {
			login_cmds[i].func(c, cmd->tag, cmd->args);
			return;
		}
	}
	for (unsigned int i = 0; i < sizeof(post_login_cmds) / sizeof(post_login_cmds[0]); i++) {
		if (strcasecmp(post_login_cmds[i], cmd->name) == 0) {
			login_client_send(c, "%s NO [CLIENTBUG] %s: log in first.",
					  cmd->tag, post_login_cmds[i]);
			return;
		}
	}
	login_client_send(c, "%s BAD Unknown command %.40s", cmd->tag, cmd->name);
	c->bad_commands++;
}
