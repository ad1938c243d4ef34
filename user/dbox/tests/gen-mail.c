// SPDX-License-Identifier: GPL-2.0-or-later
/* gen-mail ID SIZE: write the test message with that id to stdout. */
#include <stdio.h>
#include <stdlib.h>

#include "tap.h"

int main(int argc, char **argv)
{
	size_t len;
	char *msg;

	if (argc != 3) {
		fprintf(stderr, "usage: gen-mail ID SIZE\n");
		return 2;
	}
	msg = tap_message(strtoull(argv[1], NULL, 10),
			  strtoul(argv[2], NULL, 10), &len);
	if (fwrite(msg, 1, len, stdout) != len)
		return 1;
	free(msg);
	return 0;
}
