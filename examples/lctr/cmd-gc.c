/* lctr gc: runs the collector and prints what it removed, one per line. */
#include "lctr.h"

#include <stdio.h>

int lctr_cmd_gc(struct lctr *g, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return lctr_failf("gc: takes no arguments");
	ctr_client *cl = lctr_client(g);
	if (!cl)
		return 1;
	ctr_error *err = NULL;
	char **removed = NULL;
	if (ctr_client_gc(&removed, cl, NULL, 0, &err) < 0)
		return lctr_fail("gc", err);
	for (size_t i = 0; removed[i]; i++)
		puts(removed[i]);
	ctr_strv_free(removed);
	return 0;
}
