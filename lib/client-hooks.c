/* Where each subsystem opens and closes its part of a client. Kept apart
 * from client.c so adding a subsystem touches one small file. */
#include "client.h"
#include "client-hooks.h"
#include "store.h"
#include "error.h"
#include "events.h"
#include "db.h"
#include "snapshots.h"

int ctr_client_hooks_open(ctr_client *c, ctr_error **err)
{
	int r = ctr_db_open(&c->db, c->root, err);
	if (r == 0)
		r = ctr_cs_open(&c->cs, c->root_fd, err);
	if (r < 0)
		return r;
	return 0;
}

void ctr_client_hooks_close(ctr_client *c)
{
	ctr_client_snapshotters_close(c);
	ctr_cs_close(c->cs);
	c->cs = NULL;
	ctr_events_close(c);
	ctr_db_close(c->db);
	c->db = NULL;
}
