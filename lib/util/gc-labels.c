#include "gc-labels.h"

#include <stdio.h>
#include <stdlib.h>

char *ctr_gc_label_snapshot(const char *snapshotter, const char *key)
{
	if (!snapshotter || !*snapshotter || !key || !*key)
		return NULL;
	char *s = NULL;
	if (asprintf(&s, CTR_GC_REF_PREFIX "snapshot.%s=%s", snapshotter, key) < 0)
		return NULL;
	return s;
}
