/* The labels containerd's collector follows (lib/metadata/gc.c reads them):
 * built here only, so every writer spells them the same way. */
#ifndef CTR_UTIL_GC_LABELS_H
#define CTR_UTIL_GC_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#define CTR_GC_REF_PREFIX "containerd.io/gc.ref."

/* "containerd.io/gc.ref.snapshot.<snapshotter>=<key>": a content record
 * with it keeps that snapshotter's snapshot key alive. snapshotter is the
 * resolved name (not NULL: the default has a name too). Caller frees; NULL
 * when out of memory or an argument is NULL or empty. */
char *ctr_gc_label_snapshot(const char *snapshotter, const char *key);

/* The content keys a parent gets for its children are built by
 * ctr_gc_child_labels (lib/images/walk.h), which knows media types. */

#endif
