// SPDX-License-Identifier: GPL-2.0-or-later
/* ksmgroupctl: command line, command table, dispatch. See ksmgroupctl(8). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const struct ksmg_ctl_cmd commands[] = {
	{ "list", "", "groups with their figures", 0, 0, ksmg_ctl_cmd_list },
	{ "show", "GROUP", "a group and its members with their figures",
	  1, 1, ksmg_ctl_cmd_show },
	{ "watch", "", "print events as they happen (--count N, --timeout S)",
	  0, 0, ksmg_ctl_cmd_watch },
	{ "attach", "GROUP PID...", "add processes to a group (admin)",
	  2, -1, ksmg_ctl_cmd_attach },
	{ "detach", "GROUP PID...", "remove processes from a group (admin)",
	  2, -1, ksmg_ctl_cmd_detach },
	{ "sweep", "GROUP", "sweep a group's members now (admin)",
	  1, 1, ksmg_ctl_cmd_sweep },
	{ "version", "", "versions of this tool and of the loaded module",
	  0, 0, ksmg_ctl_cmd_version },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: ksmgroupctl [--json] COMMAND [ARGS]\n\n"
		   "GROUP is a group id or name.\n\ncommands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-7s %-13s %s\n", commands[i].name,
			commands[i].args, commands[i].help);
	fprintf(f, "\noptions:\n"
		   "  -j, --json         JSON output for scripts\n"
		   "  -c, --count N      watch: stop after N events\n"
		   "  -t, --timeout S    watch: stop after S seconds\n"
		   "  -h, --help         this text\n"
		   "  -V, --version      print the version\n\n"
		   "exit status: 0 ok, 1 failed, 2 usage, 3 module not loaded, 4 permission\n"
		   "denied, 5 no such group or process, 6 not supported by the running\n"
		   "kernel or module, 7 already a member (see ksmgroupctl(8))\n");
}

static const struct ksmg_ctl_cmd *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

/* Returns -1 to go on, or the exit status. */
static int parse_options(struct ksmg_ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "jc:t:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			ctl->json = true;
			break;
		case 'c':
			if (ksmg_ctl_parse_ulong(optarg, ULONG_MAX, &ctl->count) < 0 ||
			    ctl->count == 0)
				return ksmg_ctl_usage_error(ctl, "--count wants a positive number, not '%s'", optarg);
			break;
		case 't':
			if (ksmg_ctl_parse_ulong(optarg, INT_MAX / 1000, &ctl->timeout_s) < 0 ||
			    ctl->timeout_s == 0)
				return ksmg_ctl_usage_error(ctl, "--timeout wants a positive number of seconds, not '%s'", optarg);
			break;
		case 'h':
			usage(stdout);
			return KSMG_EXIT_OK;
		case 'V':
			printf("ksmgroupctl %s\n", KSMG_CTL_VERSION);
			return KSMG_EXIT_OK;
		default:
			/* getopt already said what was wrong. */
			return ksmg_ctl_usage_error(ctl, "bad option");
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct ksmg_ctl ctl = { 0 };
	const struct ksmg_ctl_cmd *cmd;
	int ret, nargs;

	ksmg_json_init(&ctl.out, stdout);
	ret = parse_options(&ctl, argc, argv);
	if (ret >= 0)
		return ret;
	if (optind >= argc)
		return ksmg_ctl_usage_error(&ctl, "no command given");
	cmd = find_command(argv[optind]);
	if (cmd == NULL)
		return ksmg_ctl_usage_error(&ctl, "unknown command '%s'",
					    argv[optind]);
	ctl.command = cmd->name;
	nargs = argc - optind - 1;
	if (nargs < cmd->min_args || (cmd->max_args >= 0 && nargs > cmd->max_args))
		return ksmg_ctl_usage_error(&ctl, "usage: ksmgroupctl %s %s",
					    cmd->name, cmd->args);
	if ((ctl.count != 0 || ctl.timeout_s != 0) && cmd->run != ksmg_ctl_cmd_watch)
		return ksmg_ctl_usage_error(&ctl, "--count and --timeout are for watch");
	ret = cmd->run(&ctl, nargs, argv + optind + 1);
	ksmg_nl_close(&ctl.nl);
	return ret;
}
