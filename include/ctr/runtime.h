/* libctr: runtime names (containerd's runtime names such as
 * "io.containerd.runc.v2"). */
#ifndef CTR_RUNTIME_H
#define CTR_RUNTIME_H

#include <ctr/common.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* containerd's CheckRuntime: *out is true when every dot-separated part
 * of expected equals the part of current at the same place, so that a
 * prefix of parts matches ("io.containerd.runc" matches
 * "io.containerd.runc.v2"; "io.containerd.run" does not). An expected
 * with more parts than current does not match (containerd's own code
 * indexes past the end there). Errors: CTR_EINVAL (a NULL argument). */
CTR_EXPORT int ctr_runtime_check(bool *out, const char *current, const char *expected, ctr_error **err);

#ifdef __cplusplus
}
#endif
#endif
