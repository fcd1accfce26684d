/* Compiled with the images layer's include arguments, this must succeed: the
 * layer sees its own headers and those of every layer below it. It keeps the
 * upward probe honest (that one fails for the missing header, not for a
 * broken command line). */
#include <ctr/common.h>

#include "client.h"
#include "error.h"
#include "manifest.h"
#include "metadata.h"
#include "opts.h"
#include "store.h"

int probe_downward(void);
int probe_downward(void) { return 0; }
