/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parsing a framed command (imap-reader.h) into its tag, name and an
 * argument tree (RFC 3501 section 9). Atoms may carry a bracketed part
 * ("BODY[HEADER.FIELDS (FROM)]<0.100>") in which spaces and parentheses
 * are part of the atom, as FETCH and SEARCH need.
 */
#ifndef DBOXD_IMAP_PARSER_H
#define DBOXD_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap-reader.h"
#include "pool.h"

enum imap_arg_type {
	IMAP_ARG_EOL = 0,	/* ends every argument array */
	IMAP_ARG_ATOM,		/* includes NIL; see imap_arg_is_nil() */
	IMAP_ARG_STRING,	/* quoted */
	IMAP_ARG_LITERAL,
	IMAP_ARG_LIST,
};

struct imap_arg {
	enum imap_arg_type type;
	bool literal8;
	/* ATOM/STRING/LITERAL: the bytes (NUL-terminated; a literal may
	   hold NULs, len counts them). LIST: the children, count in len. */
	size_t len;
	const char *str;
	struct imap_arg *list;
};

struct imap_parsed_command {
	const char *tag;
	const char *name;	/* as sent; compare case-insensitively */
	struct imap_arg *args;	/* ends with IMAP_ARG_EOL */
	unsigned int arg_count;
};

/* The parts live in pool and in the command text (literals). */
int imap_parse_command(const struct imap_command_text *cmd,
		       struct dboxd_pool *pool,
		       struct imap_parsed_command *parsed_r,
		       const char **error_r);
/* Only the tag and name, for a command the caller treats raw. */
int imap_parse_tag_name(const struct imap_command_text *cmd,
			struct dboxd_pool *pool,
			struct imap_parsed_command *parsed_r,
			const char **error_r);

static inline bool imap_arg_is_eol(const struct imap_arg *arg)
{
	return arg->type == IMAP_ARG_EOL;
}
bool imap_arg_is_nil(const struct imap_arg *arg);
bool imap_arg_atom_equals(const struct imap_arg *arg, const char *name);
/* An atom. */
bool imap_arg_get_atom(const struct imap_arg *arg, const char **str_r);
/* atom, quoted or literal without NUL bytes. */
bool imap_arg_get_astring(const struct imap_arg *arg, const char **str_r);
/* quoted or literal without NUL bytes. */
bool imap_arg_get_string(const struct imap_arg *arg, const char **str_r);
/* quoted, literal or NIL (*str_r = NULL). */
bool imap_arg_get_nstring(const struct imap_arg *arg, const char **str_r);
bool imap_arg_get_list(const struct imap_arg *arg,
		       const struct imap_arg **list_r, unsigned int *count_r);
/* Number of arguments up to EOL. */
unsigned int imap_args_count(const struct imap_arg *args);

#endif
