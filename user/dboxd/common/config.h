/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The config file: lines of "name = value"; blank lines and lines starting
 * with '#' are ignored, as is a '#' after whitespace (a value that needs one
 * is written in double quotes). Unknown names, bad values and settings that
 * contradict each other are errors naming the file and line.
 */
#ifndef DBOXD_CONFIG_H
#define DBOXD_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "settings.h"

struct dboxd_config {
	struct dboxd_settings set;
	char *path;
	/* line each setting was set on; 0 = its default */
	unsigned int *lines;
};

/* A config of defaults only (path NULL). */
struct dboxd_config *dboxd_config_new(void);
/* Load, then check the settings against each other. *error_r is static
   and names "file:line". */
int dboxd_config_load(const char *path, struct dboxd_config **config_r,
		      const char **error_r);
void dboxd_config_free(struct dboxd_config **config);
/* Set one setting (line is for messages; 0 when not from a file). */
int dboxd_config_set(struct dboxd_config *config, const char *name,
		     const char *value, unsigned int line,
		     const char **error_r);
/* The checks run by load; also after settings arrive over IPC. */
int dboxd_config_check(struct dboxd_config *config, const char **error_r);
/* The value of a setting as text, as it would be written in the file. */
void dboxd_config_format(const struct dboxd_config *config,
			 const struct dboxd_setting_def *def, char *buf,
			 size_t size);
/* all = false: only settings that differ from the default (-n). */
void dboxd_config_print(const struct dboxd_config *config, FILE *out,
			bool all);

/* Open the log as the settings say (log_target, log_level, facility). */
void dboxd_log_apply(const struct dboxd_settings *set);

int dboxd_parse_size(const char *str, uint64_t *bytes_r);
int dboxd_parse_time(const char *str, unsigned int *msecs_r);
int dboxd_parse_bool(const char *str, bool *value_r);

#endif
