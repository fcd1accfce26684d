/* A program outside the tree: built by tests/run.sh against the installed
 * headers and library with `pkg-config --cflags --libs libctr`. */
#include <ctr/ctr.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	ctr_opt *root = ctr_with_root(argv[1]), *state = ctr_with_state(argv[2]);
	ctr_client *c = NULL;
	ctr_error *err = NULL;
	int r = ctr_client_new(&c, CTR_OPTS(root, state), &err);
	ctr_opt_free(root);
	ctr_opt_free(state);
	if (r < 0) {
		fprintf(stderr, "hello: %s\n", ctr_error_message(err));
		ctr_error_free(err);
		return 1;
	}
	printf("libctr %s, root %s, namespace %s\n", ctr_version(), ctr_client_root(c),
	       ctr_client_namespace(c));
	ctr_client_free(c);
	return 0;
}
