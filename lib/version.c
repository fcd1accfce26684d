#include <ctr/common.h>

#include "config.h"

CTR_EXPORT const char *ctr_version(void) { return CTR_VERSION; }
