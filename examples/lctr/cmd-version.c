/* lctr version, lctr info. */
#include "lctr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lctr_cmd_version(struct lctr *g, int argc, char **argv)
{
	(void)g;
	(void)argc;
	(void)argv;
	printf("Client:\n  Version:  %s\n  Library:  libctr %s\n", ctr_version(), ctr_version());
	return 0;
}

/* The runtime found on PATH, as `ctr info` would report the runtime plugin. */
static const char *find_on_path(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);
		snprintf(buf, len, "%.*s/%s", (int)n, path, name);
		if (access(buf, X_OK) == 0)
			return buf;
		path += n + (colon ? 1 : 0);
	}
	return NULL;
}

int lctr_cmd_info(struct lctr *g, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	char buf[4096];
	const char *runc = find_on_path("runc", buf, sizeof(buf));
	printf("{\n  \"version\": \"%s\",\n  \"root\": \"%s\",\n  \"state\": \"%s\",\n"
	       "  \"namespace\": \"%s\",\n  \"runtime\": \"%s\",\n  \"snapshotters\": [\"overlayfs\", \"native\"]\n}\n",
	       ctr_version(), ctr_client_root(c), ctr_client_state(c), ctr_client_namespace(c),
	       runc ? runc : "");
	return 0;
}
