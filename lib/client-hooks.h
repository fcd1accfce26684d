/* Internal: where the client's subsystems open and close (client-hooks.c). */
#ifndef CTR_LIB_CLIENT_HOOKS_H
#define CTR_LIB_CLIENT_HOOKS_H

#include "client.h"

/* Subsystems attach to the client here (lib/client-hooks.c): opened after
 * the root and state directories exist, closed in reverse order. */
int ctr_client_hooks_open(ctr_client *c, ctr_error **err);
void ctr_client_hooks_close(ctr_client *c);

#endif
