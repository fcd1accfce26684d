/* libctr: umbrella header. Users write #include <ctr/ctr.h>. */
#ifndef CTR_CTR_H
#define CTR_CTR_H

#include <ctr/common.h>
#include <ctr/opts.h>
#include <ctr/client.h>
#include <ctr/events.h>
#include <ctr/task.h>

#endif
