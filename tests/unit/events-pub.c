/* Test helper: publishes one event through the public API, from its own
 * process.  usage: events-pub NAMESPACE TOPIC [JSON]  (root and state from
 * $LCTR_ROOT and $LCTR_STATE). */
#include <ctr/ctr.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: events-pub NAMESPACE TOPIC [JSON]\n");
		return 2;
	}
	ctr_client *c = NULL;
	ctr_error *err = NULL;
	ctr_opt *root = ctr_with_root(getenv("LCTR_ROOT")), *state = ctr_with_state(getenv("LCTR_STATE"));
	int r = ctr_client_new(&c, CTR_OPTS(root, state), &err);
	ctr_opt_free(root);
	ctr_opt_free(state);
	if (r == 0) {
		ctr_opt *ns = ctr_with_call_namespace(argv[1]);
		r = ctr_event_publish(c, argv[2], argc > 3 ? argv[3] : NULL, CTR_OPTS(ns), &err);
		ctr_opt_free(ns);
	}
	ctr_client_free(c);
	if (r < 0) {
		fprintf(stderr, "events-pub: %s\n", err ? ctr_error_message(err) : ctr_strerror(r));
		ctr_error_free(err);
		return 1;
	}
	return 0;
}
