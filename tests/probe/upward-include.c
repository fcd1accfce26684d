/* Compiled with the images layer's include arguments, this must fail: the
 * unpacker is a higher layer (lib/unpack), and an image-format file that
 * included it would tie the layers in a loop (import used to call the
 * parallel unpacker from lib/images). */
#include "unpack.h"

int probe_upward(void);
int probe_upward(void) { return 0; }
