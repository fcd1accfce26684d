/* lctr oci spec: containerd's default OCI spec, as ctr oci spec prints it. */
#include "lctr.h"

#include <stdio.h>

/* Nothing is opened: the spec needs only the namespace (its cgroupsPath is
 * "/<ns>/" for no container). */
static int oci_spec(struct lctr *g, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	ctr_spec *s = NULL;
	ctr_error *err = NULL;
	char *json = NULL;
	if (ctr_spec_new(&s, g->ns ? g->ns : "default", NULL, NULL, NULL, 0, &err) < 0 ||
	    ctr_spec_to_json(&json, s, CTR_SPEC_JSON_PRETTY, &err) < 0) {
		ctr_spec_free(s);
		return lctr_fail("oci spec", err);
	}
	puts(json);
	ctr_free(json);
	ctr_spec_free(s);
	return 0;
}

static const struct lctr_cmd oci_cmds[] = {
	{"spec", NULL, oci_spec, "print containerd's default OCI spec as JSON", ""},
};

const struct lctr_group lctr_oci_group = {oci_cmds, sizeof(oci_cmds) / sizeof(oci_cmds[0]), NULL};

int lctr_cmd_oci(struct lctr *g, int argc, char **argv)
{
	return lctr_dispatch(g, "oci", oci_cmds, lctr_oci_group.n, argc, argv);
}
