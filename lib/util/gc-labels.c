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

bool ctr_gc_key_content(char *buf, size_t size, const char *kind, long i)
{
	int n;
	if (kind && i >= 0)
		n = snprintf(buf, size, CTR_GC_REF_PREFIX "content.%s.%ld", kind, i);
	else if (kind)
		n = snprintf(buf, size, CTR_GC_REF_PREFIX "content.%s", kind);
	else if (i >= 0)
		n = snprintf(buf, size, CTR_GC_REF_PREFIX "content.%ld", i);
	else
		n = snprintf(buf, size, CTR_GC_REF_PREFIX "content");
	return n >= 0 && (size_t)n < size;
}
