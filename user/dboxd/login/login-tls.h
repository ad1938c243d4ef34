/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TLS for the login processes (OpenSSL). The context is built before the
 * process drops privileges and chroots, because the key file is readable by
 * root only. TLS is terminated here and never reaches a worker: see
 * docs/dboxd.md, "How TLS crosses from login to worker".
 */
#ifndef DBOXD_LOGIN_TLS_H
#define DBOXD_LOGIN_TLS_H

#include <openssl/ssl.h>

struct dboxd_config;

/* NULL with no error when ssl_cert is empty (no TLS configured). */
int login_tls_ctx_create(const struct dboxd_config *config, SSL_CTX **ctx_r,
			 const char **error_r);
/* Load the cert and key as the login would, to report errors early
   (start, reload, -n). The error names the config file and line. */
int login_tls_check(const struct dboxd_config *config, const char **error_r);
/* The OpenSSL error queue as one line (and cleared). */
const char *login_tls_error(void);

#endif
