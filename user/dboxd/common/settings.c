// SPDX-License-Identifier: GPL-2.0-or-later
/* The table of settings with their defaults (house rule 14). Keep it in
   the order of docs/dboxd.md. */
#include <stddef.h>
#include <string.h>

#include "settings.h"

#define S(field) offsetof(struct dboxd_settings, field)

const struct dboxd_setting_def dboxd_setting_defs[] = {
	{ "base_dir", DBOXD_SET_STR, S(base_dir), "/run/dboxd", NULL,
	  "Runtime directory: pid file and the empty directory that login and auth are chrooted into.", false },
	{ "passwd_file", DBOXD_SET_STR, S(passwd_file), "/etc/dboxd/passwd", NULL,
	  "Users, in Dovecot's passwd-file format (user:{SCHEME}hash:uid:gid::home::extra). Read only by the auth process.", false },
	{ "login_user", DBOXD_SET_STR, S(login_user), "dboxd-login", NULL,
	  "Unprivileged user (name, or uid:gid) the login processes run as.", false },
	{ "auth_user", DBOXD_SET_STR, S(auth_user), "dboxd-auth", NULL,
	  "Unprivileged user (name, or uid:gid) the auth process runs as; should differ from login_user.", false },
	{ "login_processes", DBOXD_SET_UINT, S(login_processes), "1", "1-64",
	  "Number of login processes. Each accepts connections and proxies the TLS connections it authenticated.", false },
	{ "login_max_connections", DBOXD_SET_UINT, S(login_max_connections), "1000", "1-100000",
	  "Connections one login process serves at once (pre-login plus proxied TLS).", false },
	{ "first_valid_uid", DBOXD_SET_UINT, S(first_valid_uid), "500", "1-4294967295",
	  "Lowest uid a user may have in passwd_file; root (0) is never allowed.", false },
	{ "last_valid_uid", DBOXD_SET_UINT, S(last_valid_uid), "0", NULL,
	  "Highest uid a user may have; 0 for no limit.", false },
	{ "first_valid_gid", DBOXD_SET_UINT, S(first_valid_gid), "1", "1-4294967295",
	  "Lowest gid a user may have; gid 0 is never allowed.", false },
	{ "imap_listen", DBOXD_SET_STR, S(imap_listen), "*:143", NULL,
	  "Addresses for IMAP with STARTTLS, comma separated: host:port, *:port (IPv4 any), [::]:port. Empty to disable.", false },
	{ "imaps_listen", DBOXD_SET_STR, S(imaps_listen), "", NULL,
	  "Addresses for IMAP over implicit TLS (port 993). Needs ssl_cert and ssl_key.", false },
	{ "lmtp_listen", DBOXD_SET_STR, S(lmtp_listen), "", NULL,
	  "Addresses for LMTP delivery (RFC 2033): host:port, or an absolute path for a Unix socket (mode 0666). Empty to disable.", false },
	{ "lmtp_hostname", DBOXD_SET_STR, S(lmtp_hostname), "", NULL,
	  "Name in the LMTP greeting and LHLO reply; empty for the system's host name.", false },
	{ "lmtp_require_tls", DBOXD_SET_BOOL, S(lmtp_require_tls), "no", NULL,
	  "Refuse MAIL FROM from LMTP clients that are neither on a loopback address nor on the Unix socket until they issued STARTTLS. Needs ssl_cert and ssl_key.", false },
	{ "ssl_cert", DBOXD_SET_STR, S(ssl_cert), "", NULL,
	  "PEM certificate chain. Without it there is no STARTTLS and no imaps.", false },
	{ "ssl_key", DBOXD_SET_STR, S(ssl_key), "", NULL,
	  "PEM private key of ssl_cert. Read by the master before the login processes drop privileges.", false },
	{ "ssl_min_protocol", DBOXD_SET_ENUM, S(ssl_min_protocol), "TLSv1.2", "TLSv1.2|TLSv1.3",
	  "Oldest TLS version accepted.", false },
	{ "ssl_cipher_list", DBOXD_SET_STR, S(ssl_cipher_list), "", NULL,
	  "OpenSSL cipher list for TLS 1.2; empty for OpenSSL's default.", false },
	{ "disable_plaintext_auth", DBOXD_SET_BOOL, S(disable_plaintext_auth), "yes", NULL,
	  "Refuse LOGIN and AUTHENTICATE on connections that are neither TLS nor from a loopback address.", false },
	{ "mail_location", DBOXD_SET_STR, S(mail_location), "sdbox:~/dbox", NULL,
	  "Format and mail root of every user: sdbox:PATH or mdbox:PATH; ~ is the user's home, %u the user name, %n its local part, %d its domain. A passwd_file extra field userdb_mail= overrides it per user.", true },
	{ "mdbox_rotate_size", DBOXD_SET_SIZE, S(mdbox_rotate_size), "10M", NULL,
	  "mdbox: start a new storage file once one reaches this size.", true },
	{ "worker_spawn", DBOXD_SET_ENUM, S(worker_spawn), "template", "template|exec",
	  "template: fork workers from a pre-initialised worker template (identical memory layout, merges best); exec: fork and exec a fresh dboxd for each worker (own ASLR layout).", false },
	{ "worker_linger", DBOXD_SET_TIME, S(worker_linger), "10s", NULL,
	  "How long a worker with no connection left stays for a reconnecting client before it exits.", true },
	{ "worker_io", DBOXD_SET_ENUM, S(worker_io), "auto", "auto|uring|epoll",
	  "Event loop of the workers: io_uring, epoll, or auto (io_uring, epoll when it is refused).", true },
	{ "storage_io", DBOXD_SET_ENUM, S(storage_io), "auto", "auto|uring|sync",
	  "Message-file I/O backend of the storage library in the workers.", true },
	{ "worker_seccomp", DBOXD_SET_BOOL, S(worker_seccomp), "yes", NULL,
	  "Run the workers and the worker template under their seccomp allow-list (a syscall outside it kills the process). no only for debugging.", true },
	{ "ksm", DBOXD_SET_ENUM, S(ksm), "auto", "auto|group|prctl|off",
	  "How workers are made mergeable: group (a ksmgroup merge group, needs the module), prctl (PR_SET_MEMORY_MERGE in each worker), off, or auto (group, else prctl, else off).", false },
	{ "ksm_group_name", DBOXD_SET_STR, S(ksm_group_name), "dboxd", NULL,
	  "Name of the merge group under /sys/kernel/ksmgroup/.", false },
	{ "imap_max_line_length", DBOXD_SET_SIZE, S(imap_max_line_length), "64k", NULL,
	  "Longest command line (without literals); a longer one gets BAD.", true },
	{ "imap_max_literal_size", DBOXD_SET_SIZE, S(imap_max_literal_size), "50M", NULL,
	  "Largest literal, and so the largest message APPEND accepts (advertised as APPENDLIMIT).", true },
	{ "max_user_connections", DBOXD_SET_UINT, S(max_user_connections), "20", "1-100000",
	  "Logged-in connections one user may have at once.", false },
	{ "max_address_connections", DBOXD_SET_UINT, S(max_address_connections), "50", "1-100000",
	  "Connections (before and after login) from one IP address at once.", false },
	{ "login_timeout", DBOXD_SET_TIME, S(login_timeout), "60s", NULL,
	  "A connection that has not logged in after this long of silence is closed.", false },
	{ "imap_idle_timeout", DBOXD_SET_TIME, S(imap_idle_timeout), "31min", NULL,
	  "An IDLE command that lasts this long ends the connection (clients re-issue IDLE every 29 minutes, RFC 2177).", true },
	{ "imap_timeout", DBOXD_SET_TIME, S(imap_timeout), "31min", NULL,
	  "A logged-in connection silent this long (outside IDLE) is logged out (RFC 3501 asks for at least 30 minutes).", true },
	{ "auth_failure_delay", DBOXD_SET_TIME, S(auth_failure_delay), "2s", NULL,
	  "Delay before answering a failed login; it doubles with each further failure from the same address.", false },
	{ "auth_failure_delay_max", DBOXD_SET_TIME, S(auth_failure_delay_max), "30s", NULL,
	  "Longest delay after failed logins from one address.", false },
	{ "log_target", DBOXD_SET_ENUM, S(log_target), "stderr", "stderr|syslog",
	  "Where every process logs.", true },
	{ "log_level", DBOXD_SET_ENUM, S(log_level), "info", "debug|info|warning|error",
	  "Lowest level logged.", true },
	{ "syslog_facility", DBOXD_SET_ENUM, S(syslog_facility), "mail", "mail|daemon|local0|local1|local2|local3|local4|local5|local6|local7",
	  "Syslog facility when log_target is syslog.", true },
	{ "imap_greeting", DBOXD_SET_STR, S(imap_greeting), "dboxd ready.", NULL,
	  "Text of the greeting line.", false },
};

const unsigned int dboxd_setting_count =
	sizeof(dboxd_setting_defs) / sizeof(dboxd_setting_defs[0]);

const struct dboxd_setting_def *dboxd_setting_find(const char *name)
{
	for (unsigned int i = 0; i < dboxd_setting_count; i++) {
		if (strcmp(dboxd_setting_defs[i].name, name) == 0)
			return &dboxd_setting_defs[i];
	}
	return NULL;
}
