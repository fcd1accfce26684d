/* lctr version, lctr info. */
#include "lctr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

int lctr_cmd_version(struct lctr *g, int argc, char **argv)
{
	(void)g;
	(void)argc;
	(void)argv;
	printf("Client:\n  Version:  %s\n  Library:  libctr %s\n", ctr_version(), ctr_version());
	return 0;
}

/* JSON: the library, the root's UUID and paths, and every plugin with its
 * status (and why when it is skipped), from the introspection calls. */
int lctr_cmd_info(struct lctr *g, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_error *err = NULL;
	ctr_server_info *si = NULL;
	if (ctr_server_info_get(&si, c, NULL, 0, &err) < 0)
		return lctr_fail("info", err);
	ctr_plugin **v = NULL;
	size_t n = 0;
	if (ctr_plugin_list(&v, &n, c, NULL, 0, &err) < 0) {
		ctr_server_info_free(si);
		return lctr_fail("info", err);
	}
	json_t *o = json_object(), *plugins = json_array(), *snaps = json_array();
	json_object_set_new(o, "version", json_string(ctr_version()));
	json_object_set_new(o, "uuid", json_string(ctr_server_info_uuid(si)));
	json_object_set_new(o, "root", json_string(ctr_client_root(c)));
	json_object_set_new(o, "state", json_string(ctr_client_state(c)));
	json_object_set_new(o, "namespace", json_string(ctr_client_namespace(c)));
	const char *runtime = "";
	for (size_t i = 0; i < n; i++) {
		const ctr_plugin *p = v[i];
		bool ok = ctr_plugin_status(p) == CTR_PLUGIN_OK;
		json_t *e = json_object();
		json_object_set_new(e, "type", json_string(ctr_plugin_type(p)));
		json_object_set_new(e, "id", json_string(ctr_plugin_id(p)));
		json_t *pl = json_array();
		for (const char *const *s = ctr_plugin_platforms(p); s && *s; s++)
			json_array_append_new(pl, json_string(*s));
		json_object_set_new(e, "platforms", pl);
		json_object_set_new(e, "status", json_string(ok ? "ok" : "skip"));
		if (ctr_plugin_version(p))
			json_object_set_new(e, "version", json_string(ctr_plugin_version(p)));
		if (!ok)
			json_object_set_new(e, "reason", json_string(ctr_plugin_reason(p)));
		json_array_append_new(plugins, e);
		if (!strcmp(ctr_plugin_type(p), "io.containerd.snapshotter.v1") && ok)
			json_array_append_new(snaps, json_string(ctr_plugin_id(p)));
		if (!strcmp(ctr_plugin_type(p), "io.containerd.runtime.v2") && ok && !*runtime)
			runtime = ctr_plugin_id(p);
	}
	/* The fields of before: the runtime used by default and the snapshotters that work here. */
	json_object_set_new(o, "runtime", json_string(runtime));
	json_object_set_new(o, "snapshotters", snaps);
	json_object_set_new(o, "plugins", plugins);
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	ctr_plugin_list_free(v, n);
	ctr_server_info_free(si);
	if (!text)
		return lctr_failf("info: out of memory");
	puts(text);
	free(text);
	return 0;
}
