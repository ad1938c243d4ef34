// SPDX-License-Identifier: GPL-2.0-or-later
/* TLS context of the login processes; see login-tls.h. */
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>

#include "config.h"
#include "login-tls.h"

const char *login_tls_error(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "unknown TLS error";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

static const char *setting_where(const struct dboxd_config *config,
				 const char *name)
{
	static char where[4200];
	const struct dboxd_setting_def *def = dboxd_setting_find(name);
	unsigned int line = config->lines[def - dboxd_setting_defs];

	if (config->path != NULL && line > 0)
		snprintf(where, sizeof(where), "%s:%u: ", config->path, line);
	else
		where[0] = '\0';
	return where;
}

int login_tls_ctx_create(const struct dboxd_config *config, SSL_CTX **ctx_r,
			 const char **error_r)
{
	static char error[4600];
	const struct dboxd_settings *set = &config->set;
	SSL_CTX *ctx;

	*ctx_r = NULL;
	if (set->ssl_cert[0] == '\0')
		return 0;
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		snprintf(error, sizeof(error), "SSL_CTX_new: %s",
			 login_tls_error());
		goto fail;
	}
	SSL_CTX_set_min_proto_version(ctx,
		strcmp(set->ssl_min_protocol, "TLSv1.3") == 0 ?
		TLS1_3_VERSION : TLS1_2_VERSION);
	/* Idle TLS connections are common (IDLE); let OpenSSL free its
	   record buffers between reads. No session tickets: they would be
	   one more secret to keep, for little gain with long sessions. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
			 SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_CIPHER_SERVER_PREFERENCE |
			    SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (set->ssl_cipher_list[0] != '\0' &&
	    SSL_CTX_set_cipher_list(ctx, set->ssl_cipher_list) != 1) {
		snprintf(error, sizeof(error), "%sssl_cipher_list: %s",
			 setting_where(config, "ssl_cipher_list"),
			 login_tls_error());
		goto free_ctx;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, set->ssl_cert) != 1) {
		snprintf(error, sizeof(error), "%sssl_cert %s: %s",
			 setting_where(config, "ssl_cert"), set->ssl_cert,
			 login_tls_error());
		goto free_ctx;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, set->ssl_key,
					SSL_FILETYPE_PEM) != 1) {
		snprintf(error, sizeof(error), "%sssl_key %s: %s",
			 setting_where(config, "ssl_key"), set->ssl_key,
			 login_tls_error());
		goto free_ctx;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(error, sizeof(error),
			 "%sssl_key %s does not match ssl_cert: %s",
			 setting_where(config, "ssl_key"), set->ssl_key,
			 login_tls_error());
		goto free_ctx;
	}
	*ctx_r = ctx;
	return 0;

free_ctx:
	SSL_CTX_free(ctx);
fail:
	*error_r = error;
	return -1;
}

int login_tls_check(const struct dboxd_config *config, const char **error_r)
{
	SSL_CTX *ctx;

	if (login_tls_ctx_create(config, &ctx, error_r) < 0)
		return -1;
	SSL_CTX_free(ctx);
	return 0;
}
