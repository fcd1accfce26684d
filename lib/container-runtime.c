/* Runtime names: what a container may name, the default a new container
 * gets (the client's, the namespace label's, the built-in one), and
 * containerd's CheckRuntime. */
#include <ctr/namespaces.h>
#include <ctr/runtime.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "container.h"
#include "error.h"
#include "metadata.h"

int ctr_runtime_name_validate(const char *rt, const char *what, ctr_error **err)
{
	if (strcmp(rt, CTR_DEFAULT_RUNTIME) != 0 && rt[0] != '/')
		return ctr_err(err, CTR_EINVAL, 0, "%s \"%.200s\": want %s or an absolute path to a runtime binary",
			       what, rt, CTR_DEFAULT_RUNTIME);
	return 0;
}

int ctr_container_default_runtime(char **out, ctr_client *c, const char *ns, ctr_error **err)
{
	/* containerd's New: the client's WithDefaultRuntime, and only
	 * without it the namespace label. Read at each create, for the
	 * namespace the container goes into (a call may name another than the
	 * client's), so a label set by another process counts at once. */
	char *v = NULL;
	if (c->default_runtime) {
		v = strdup(c->default_runtime);
	} else {
		int r = ctr_md_ns_label(&v, c->db, ns, CTR_DEFAULT_RUNTIME_NS_LABEL, err);
		if (r == 0 && v)
			r = ctr_runtime_name_validate(v, "runtime of label " CTR_DEFAULT_RUNTIME_NS_LABEL, err);
		if (r < 0) {
			free(v);
			return ctr_err_prefix(err, r, "namespace %s", ns);
		}
		if (v) {
			*out = v;
			return 0;
		}
		v = strdup(CTR_DEFAULT_RUNTIME);
	}
	if (!v)
		return ctr_err_nomem(err);
	*out = v;
	return 0;
}

CTR_EXPORT int ctr_runtime_check(bool *out, const char *current, const char *expected, ctr_error **err)
{
	if (!out || !current || !expected)
		return ctr_err(err, CTR_EINVAL, 0, "check runtime: NULL argument");
	/* Part by part: each part of expected must equal current's part at
	 * the same place; a part is compared whole, so "run" is not "runc". */
	const char *a = current, *b = expected;
	for (;;) {
		size_t la = strcspn(a, "."), lb = strcspn(b, ".");
		if (la != lb || memcmp(a, b, la) != 0) {
			*out = false;
			return 0;
		}
		if (!b[lb])
			break;
		if (!a[la]) { /* expected has more parts than current */
			*out = false;
			return 0;
		}
		a += la + 1;
		b += lb + 1;
	}
	*out = true;
	return 0;
}
