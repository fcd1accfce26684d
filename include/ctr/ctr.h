/* libctr: umbrella header. Users write #include <ctr/ctr.h>. */
#ifndef CTR_CTR_H
#define CTR_CTR_H

#include <ctr/common.h>
#include <ctr/opts.h>
#include <ctr/client.h>
#include <ctr/container.h>
#include <ctr/content.h>
#include <ctr/image.h>
#include <ctr/archive.h>
#include <ctr/remote.h>
#include <ctr/namespaces.h>
#include <ctr/mount.h>
#include <ctr/snapshot.h>
#include <ctr/leases.h>
#include <ctr/gc.h>
#include <ctr/check.h>
#include <ctr/events.h>
#include <ctr/spec.h>
#include <ctr/task.h>
#include <ctr/checkpoint.h>
#include <ctr/introspect.h>
#include <ctr/runtime.h>

#endif
