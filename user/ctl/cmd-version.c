// SPDX-License-Identifier: GPL-2.0-or-later
/* ksmgroupctl version: this tool's and the loaded module's versions. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

#define KSMG_SYSFS_VERSION "/sys/kernel/ksmgroup/version"

static void read_module_version(char *buf, size_t size)
{
	FILE *f = fopen(KSMG_SYSFS_VERSION, "re");

	buf[0] = '\0';
	if (f == NULL)
		return;
	if (fgets(buf, (int)size, f) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/*
 * Works without the module: it is how a script learns whether the module
 * is there, so "not loaded" is an answer here, not an error.
 */
int ksmg_ctl_cmd_version(struct ksmg_ctl *ctl, int argc, char **argv)
{
	char module_version[64];
	struct ksmg_nl *nl = NULL;
	const char *error = NULL;
	bool loaded;

	(void)argc;
	(void)argv;
	loaded = ksmg_nl_open(&nl, &error) == 0;
	if (!loaded && errno != ENOPKG)
		return ksmg_ctl_fail(ctl, errno, error, "netlink");
	read_module_version(module_version, sizeof(module_version));
	if (ctl->json) {
		ksmg_json_object_begin(&ctl->out, NULL);
		ksmg_json_string(&ctl->out, "ksmgroupctl", KSMG_CTL_VERSION);
		ksmg_json_u64(&ctl->out, "api_version", KSMG_API_VERSION);
		ksmg_json_u64(&ctl->out, "genl_version", KSMG_GENL_VERSION);
		ksmg_json_object_begin(&ctl->out, "module");
		ksmg_json_bool(&ctl->out, "loaded", loaded);
		if (module_version[0] != '\0')
			ksmg_json_string(&ctl->out, "version", module_version);
		else
			ksmg_json_null(&ctl->out, "version");
		if (loaded)
			ksmg_json_u64(&ctl->out, "genl_version",
				      ksmg_nl_family_version(nl));
		else
			ksmg_json_null(&ctl->out, "genl_version");
		ksmg_json_object_end(&ctl->out);
		ksmg_json_object_end(&ctl->out);
		ksmg_json_finish(&ctl->out);
	} else {
		printf("ksmgroupctl %s (uAPI %d, netlink family version %d)\n",
		       KSMG_CTL_VERSION, KSMG_API_VERSION, KSMG_GENL_VERSION);
		if (loaded)
			printf("module: loaded, version %s, netlink family version %u\n",
			       module_version[0] ? module_version : "?",
			       ksmg_nl_family_version(nl));
		else
			printf("module: not loaded\n");
	}
	ksmg_nl_close(&nl);
	return KSMG_EXIT_OK;
}
