/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dboxd's settings: one struct, filled from the defaults in the table of
 * settings.c and then from the config file (config.c). Every setting is
 * documented in docs/dboxd.md; `dboxd -a` prints them all with their
 * descriptions.
 */
#ifndef DBOXD_SETTINGS_H
#define DBOXD_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dboxd_settings {
	/* processes and files */
	char *base_dir;
	char *passwd_file;
	char *login_user;
	char *auth_user;
	unsigned int login_processes;
	unsigned int login_max_connections;
	unsigned int first_valid_uid;
	unsigned int last_valid_uid;
	unsigned int first_valid_gid;
	/* listeners */
	char *imap_listen;
	char *imaps_listen;
	char *lmtp_listen;
	char *lmtp_hostname;
	bool lmtp_require_tls;
	/* TLS */
	char *ssl_cert;
	char *ssl_key;
	char *ssl_min_protocol;
	char *ssl_cipher_list;
	bool disable_plaintext_auth;
	/* mail */
	char *mail_location;
	uint64_t mdbox_rotate_size;
	/* workers */
	char *worker_spawn;
	unsigned int worker_linger;	/* ms */
	char *worker_io;
	char *storage_io;
	bool worker_seccomp;
	char *ksm;
	char *ksm_group_name;
	/* limits */
	uint64_t imap_max_line_length;
	uint64_t imap_max_literal_size;
	unsigned int max_user_connections;
	unsigned int max_address_connections;
	unsigned int login_timeout;	/* ms */
	unsigned int imap_idle_timeout;	/* ms */
	unsigned int imap_timeout;	/* ms */
	unsigned int auth_failure_delay;	/* ms */
	unsigned int auth_failure_delay_max;	/* ms */
	/* logging */
	char *log_target;
	char *log_level;
	char *syslog_facility;
	char *imap_greeting;
};

enum dboxd_setting_type {
	DBOXD_SET_STR,
	DBOXD_SET_BOOL,
	DBOXD_SET_UINT,
	DBOXD_SET_SIZE,		/* bytes, with k/M/G suffixes */
	DBOXD_SET_TIME,		/* milliseconds, with ms/s/min/h suffixes */
	DBOXD_SET_ENUM,		/* a string, one of values */
};

struct dboxd_setting_def {
	const char *name;
	enum dboxd_setting_type type;
	size_t offset;
	const char *default_value;
	/* ENUM: the allowed values, "|" separated. UINT: "min-max". */
	const char *values;
	const char *description;
	/* Needed by an exec'd worker (sent over IPC). */
	bool worker;
};

extern const struct dboxd_setting_def dboxd_setting_defs[];
extern const unsigned int dboxd_setting_count;

const struct dboxd_setting_def *dboxd_setting_find(const char *name);

#endif
