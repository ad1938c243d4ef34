// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Mailbox names: modified UTF-7 both ways (RFC 3501 5.1.3 examples and
 * Dovecot's on-disk names), and the rules that keep every name inside the
 * mail root.
 */
#include <stdlib.h>
#include <string.h>

#include "dbox.h"
#include "dbox-name.h"
#include "tap.h"

static bool encodes(const char *utf8, const char *mutf7)
{
	const char *error;
	char *out, *back;
	bool ok;

	if (dbox_utf8_to_mutf7(utf8, &out, &error) < 0)
		return false;
	ok = strcmp(out, mutf7) == 0;
	if (ok && dbox_mutf7_to_utf8(out, &back, &error) == 0) {
		ok = strcmp(back, utf8) == 0;
		free(back);
	} else {
		ok = false;
	}
	free(out);
	return ok;
}

static bool mutf7_invalid(const char *mutf7)
{
	const char *error;
	char *out;

	if (dbox_mutf7_to_utf8(mutf7, &out, &error) == 0) {
		free(out);
		return false;
	}
	return dbox_last_error() == DBOX_ERROR_PARAMS;
}

static void test_mutf7(void)
{
	tap_ok(encodes("Entwürfe", "Entw&APw-rfe"),
	       "Entwürfe is Entw&APw-rfe, as Dovecot names its directory");
	tap_ok(encodes("a&b", "a&-b"), "& is written &-");
	tap_ok(encodes("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
	       "RFC 3501's example encodes and decodes");
	tap_ok(encodes("x😀y", "x&2D3eAA-y"),
	       "characters beyond the BMP use a surrogate pair");
	tap_ok(encodes("plain ASCII !#$", "plain ASCII !#$"),
	       "printable ASCII stays as it is");
	tap_ok(mutf7_invalid("&Jjo"), "an unterminated base64 run is invalid");
	tap_ok(mutf7_invalid("&AGE-"), "base64-encoded ASCII is invalid");
	tap_ok(mutf7_invalid("&APw-&APw-"),
	       "two adjacent base64 runs are invalid (not canonical)");
	tap_ok(mutf7_invalid("&APx-"), "non-zero padding bits are invalid");
	tap_ok(mutf7_invalid("&2D0-"), "an unpaired surrogate is invalid");
	tap_ok(mutf7_invalid("caf\xc3\xa9"), "8-bit bytes are invalid");
	tap_ok(mutf7_invalid("a&b"), "a bare & is invalid");
	tap_ok(mutf7_invalid("&A/w-"), "'/' is not a modified base64 digit");
}

static bool normalizes(const char *in, const char *expect)
{
	const char *error;
	char *norm;
	bool ok;

	if (dbox_mailbox_name_normalize(in, &norm, &error) < 0)
		return false;
	ok = strcmp(norm, expect) == 0;
	free(norm);
	return ok;
}

static bool refused(const char *in)
{
	const char *error;
	char *norm;

	if (dbox_mailbox_name_normalize(in, &norm, &error) == 0) {
		free(norm);
		return false;
	}
	return dbox_last_error() == DBOX_ERROR_PARAMS;
}

static void test_normalize(void)
{
	char long_name[DBOX_MAILBOX_NAME_MAX + 2], deep[200];
	unsigned int i;

	tap_ok(normalizes("inbox", "INBOX") && normalizes("InBoX/Sub", "INBOX/Sub"),
	       "INBOX is case-insensitive, also as a parent");
	tap_ok(normalizes("Inboxes", "Inboxes"),
	       "only the exact INBOX level is folded");
	tap_ok(normalizes("Work/2024/Q1", "Work/2024/Q1"),
	       "hierarchy names pass unchanged");
	tap_ok(refused(""), "an empty name is refused");
	tap_ok(refused("..") && refused("a/../b") && refused("../x") &&
	       refused("a/.."), "'..' levels are refused");
	tap_ok(refused(".") && refused("a/./b"), "'.' levels are refused");
	tap_ok(refused("/abs") && refused("trailing/") && refused("a//b"),
	       "leading, trailing and doubled '/' are refused");
	tap_ok(refused("a\001b") && refused("tab\there") &&
	       refused("del\x7f") && refused("nl\n"),
	       "control characters are refused");
	tap_ok(refused("c1\xc2\x85"), "C1 control characters are refused");
	tap_ok(refused("bad\xc3\x28utf8") && refused("\xed\xa0\x80") &&
	       refused("\xc0\xaf"),
	       "invalid, surrogate and overlong UTF-8 is refused");
	tap_ok(refused("a*b") && refused("50%"),
	       "LIST wildcards are refused");
	tap_ok(refused("~user"), "a leading '~' is refused");
	tap_ok(refused("x/dbox-Mails") && refused("dbox-Mails"),
	       "the dbox-Mails level is reserved");
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	tap_ok(refused(long_name), "a name over %d bytes is refused",
	       DBOX_MAILBOX_NAME_MAX);
	for (i = 0; i < 40; i++)
		memcpy(deep + i * 2, "a/", 2);
	deep[79] = '\0';
	tap_ok(refused(deep), "more than %d levels are refused",
	       DBOX_MAILBOX_DEPTH_MAX);
}

static void test_disk_names(void)
{
	const char *error;
	char *disk, *name, level[600];

	tap_ok(dbox_name_to_disk("Sub/Entwürfe", &disk, &error) == 0 &&
	       strcmp(disk, "Sub/Entw&APw-rfe") == 0,
	       "directories are named in modified UTF-7");
	free(disk);
	tap_ok(dbox_name_from_disk("Sub/Entw&APw-rfe", &name, &error) == 0 &&
	       strcmp(name, "Sub/Entwürfe") == 0,
	       "directory names decode back");
	free(name);
	tap_ok(dbox_name_from_disk("x/../y", &name, &error) < 0,
	       "a directory name with '..' is not a mailbox name");
	memset(level, 'x', 120);
	level[120] = '\0';
	for (int i = 0; i < 20; i++)
		strcat(level, "日本語");	/* 60 characters, 160 in base64 */
	tap_ok(dbox_name_to_disk(level, &disk, &error) < 0 &&
	       dbox_last_error() == DBOX_ERROR_PARAMS,
	       "a level too long for the filesystem once encoded is refused");
	tap_ok(dbox_name_is_child("a", "a/b") && !dbox_name_is_child("a", "ab") &&
	       !dbox_name_is_child("a/b", "a"), "child names are recognised");
}

int main(void)
{
	test_mutf7();
	test_normalize();
	test_disk_names();
	return tap_done();
}
