// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Feeds ksmgroupctl's JSON writer every kind of awkward string and value
 * and prints one JSON document; tests/suites/ctl.sh checks it with
 * python3's json module (valid JSON, strings decoded as expected).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

/* Valid UTF-8 and ASCII edge cases: must come back byte for byte. */
static const char *const exact[] = {
	"", "imap", "quote\" backslash\\ slash/",
	"\x01\x02\x1f control \t\n\r", "del\x7f", "caf\xc3\xa9",
	"\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80 emoji",
	"\xef\xbf\xbf max BMP", "\xf4\x8f\xbf\xbf max",
};

/* Invalid UTF-8: must come back with U+FFFD and still be valid JSON. */
static const char *const broken[] = {
	"\x80 lone continuation", "truncated \xc3", "overlong \xc0\xaf",
	"surrogate \xed\xa0\x80", "too big \xf4\x90\x80\x80", "\xf5\xff\xfe",
	"3 of 4 \xf0\x9f\x98",
};

/* --hex: each case's bytes, so the checker need not repeat the lists. */
static void print_hex(const char *kind, const char *s)
{
	printf("%s ", kind);
	for (; *s != '\0'; s++)
		printf("%02x", (unsigned char)*s);
	printf("\n");
}

int main(int argc, char **argv)
{
	struct ksmg_json j;
	size_t i;

	if (argc > 1 && strcmp(argv[1], "--hex") == 0) {
		for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
			print_hex("exact", exact[i]);
		for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++)
			print_hex("broken", broken[i]);
		return 0;
	}
	ksmg_json_init(&j, stdout);
	ksmg_json_object_begin(&j, NULL);
	ksmg_json_array_begin(&j, "exact");
	for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		ksmg_json_string(&j, NULL, exact[i]);
	ksmg_json_array_end(&j);
	ksmg_json_array_begin(&j, "broken");
	for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++)
		ksmg_json_string(&j, NULL, broken[i]);
	ksmg_json_array_end(&j);
	ksmg_json_string(&j, "key \"quoted\"\n", "v");
	ksmg_json_u64(&j, "u64_max", UINT64_MAX);
	ksmg_json_s64(&j, "s64_min", INT64_MIN);
	ksmg_json_bool(&j, "yes", true);
	ksmg_json_bool(&j, "no", false);
	ksmg_json_null(&j, "nothing");
	ksmg_json_array_begin(&j, "empty_array");
	ksmg_json_array_end(&j);
	ksmg_json_object_begin(&j, "empty_object");
	ksmg_json_object_end(&j);
	ksmg_json_array_begin(&j, "nested");
	ksmg_json_object_begin(&j, NULL);
	ksmg_json_array_begin(&j, "inner");
	ksmg_json_u64(&j, NULL, 1);
	ksmg_json_u64(&j, NULL, 2);
	ksmg_json_array_end(&j);
	ksmg_json_object_end(&j);
	ksmg_json_object_begin(&j, NULL);
	ksmg_json_object_end(&j);
	ksmg_json_array_end(&j);
	ksmg_json_object_end(&j);
	ksmg_json_finish(&j);
	return 0;
}
