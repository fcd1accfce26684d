/* namespaces: two tenants of one root share content but not containers,
 * as containerd's namespaces do.
 *
 *   namespaces [--plain-http] ROOT STATE REF
 *
 * Pulls REF into namespace "team-a" and again into "team-b": both record
 * every blob, but the bytes are stored once under ROOT/content/blobs. A
 * container "app" made in team-a is not visible from team-b, which can
 * make its own "app". Then each team deletes what it made, and the
 * collector frees the bytes only once neither namespace records them.
 * Exits 0 when all of that held, 1 otherwise. */
#include <ctr/ctr.h>

#include <dirent.h>
#include <stdio.h>
#include <string.h>

static const char *const teams[] = {"team-a", "team-b"};

static int check(int ok, const char *what)
{
	printf("%-52s %s\n", what, ok ? "ok" : "FAILED");
	return ok ? 0 : 1;
}

static int report(const char *what, ctr_error *err)
{
	fprintf(stderr, "namespaces: %s: %s\n", what, err ? ctr_error_message(err) : "out of memory");
	ctr_error_free(err);
	return 1;
}

/* Files under ROOT/content/blobs/sha256: the bytes actually stored. */
static int blob_files(const char *root)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/content/blobs/sha256", root);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Blobs the namespace records, or -1. */
static int records(ctr_client *c, const char *ns)
{
	ctr_content_info **v = NULL;
	size_t n = 0;
	ctr_opt *in = ctr_with_call_namespace(ns);
	int r = ctr_content_list(&v, &n, c, NULL, 0, CTR_OPTS(in), NULL);
	ctr_opt_free(in);
	if (r < 0)
		return -1;
	ctr_content_info_list_free(v, n);
	return (int)n;
}

/* Garbage collection; returns how many blobs' bytes it removed, or -1. */
static int collect(ctr_client *c)
{
	char **removed = NULL;
	ctr_error *err = NULL;
	if (ctr_client_gc(&removed, c, CTR_NO_OPTS, &err) < 0)
		return -report("gc", err);
	int n = 0;
	for (char **s = removed; s && *s; s++)
		n += !strncmp(*s, "blob ", 5);
	ctr_strv_free(removed);
	return n;
}

int main(int argc, char **argv)
{
	int a = 1;
	int plain_http = argc > 1 && !strcmp(argv[1], "--plain-http");
	a += plain_http;
	if (argc - a != 3) {
		fprintf(stderr, "usage: namespaces [--plain-http] ROOT STATE REF\n");
		return 2;
	}
	const char *root = argv[a], *state = argv[a + 1], *ref = argv[a + 2];
	ctr_error *err = NULL;
	int failed = 0;

	ctr_client *client = NULL;
	ctr_opt *o_root = ctr_with_root(root), *o_state = ctr_with_state(state);
	int r = ctr_client_new(&client, CTR_OPTS(o_root, o_state), &err);
	ctr_opt_free(o_root);
	ctr_opt_free(o_state);
	if (r < 0)
		return report("client", err);

	/* The same image into both namespaces. The second pull finds every
	 * blob already stored and only records it (containerd's shared
	 * content policy). */
	ctr_image *image[2] = {0};
	for (int i = 0; i < 2; i++) {
		ctr_opt *opts[] = {ctr_with_call_namespace(teams[i]), plain_http ? ctr_with_plain_http() : NULL};
		r = ctr_image_pull(&image[i], client, ref, (const ctr_opt *const *)opts, plain_http ? 2 : 1, &err);
		ctr_opt_free(opts[0]);
		ctr_opt_free(opts[1]);
		if (r < 0) {
			failed = report(teams[i], err);
			goto out;
		}
		printf("%s: pulled %s\n", teams[i], ctr_image_target_digest(image[i]));
	}
	int files = blob_files(root), in_a = records(client, teams[0]), in_b = records(client, teams[1]);
	printf("blobs recorded: team-a %d, team-b %d; blob files on disk: %d\n", in_a, in_b, files);
	failed |= check(in_a > 0 && in_a == in_b && files == in_a, "content is shared: each blob stored once");

	/* A container in team-a ... */
	ctr_container *app[2] = {0};
	ctr_opt *spec = ctr_with_new_spec(CTR_NO_OPTS);
	ctr_opt *with_image = ctr_with_image(image[0]);
	ctr_opt *in_a_opt = ctr_with_call_namespace(teams[0]);
	r = ctr_container_new(&app[0], client, "app", CTR_OPTS(with_image, spec, in_a_opt), &err);
	ctr_opt_free(with_image);
	ctr_opt_free(in_a_opt);
	if (r < 0) {
		ctr_opt_free(spec);
		failed = report("team-a: new container", err);
		goto out;
	}
	/* ... is not seen from team-b ... */
	ctr_container **seen = NULL;
	size_t n_seen = 0;
	ctr_container *other = NULL;
	ctr_opt *in_b_opt = ctr_with_call_namespace(teams[1]);
	r = ctr_container_load(&other, client, "app", CTR_OPTS(in_b_opt), &err);
	failed |= check(r == CTR_ENOTFOUND, "team-b cannot load team-a's container");
	if (r == CTR_ENOTFOUND)
		printf("  team-b: %s\n", ctr_error_message(err));
	ctr_error_free(err);
	err = NULL;
	ctr_container_free(other);
	r = ctr_container_list(&seen, &n_seen, client, NULL, 0, CTR_OPTS(in_b_opt), NULL);
	failed |= check(r == 0 && n_seen == 0, "team-b lists no containers");
	ctr_container_list_free(seen, n_seen);
	/* ... which makes its own "app" with the same id. */
	with_image = ctr_with_image(image[1]);
	r = ctr_container_new(&app[1], client, "app", CTR_OPTS(with_image, spec, in_b_opt), &err);
	ctr_opt_free(with_image);
	ctr_opt_free(in_b_opt);
	ctr_opt_free(spec);
	failed |= check(r == 0, "team-b creates its own container \"app\"");
	if (r == 0)
		printf("  team-a app: %s, team-b app: %s\n", ctr_container_namespace(app[0]),
		       ctr_container_namespace(app[1]));
	ctr_error_free(err);
	err = NULL;

	/* team-a leaves: its records go, the bytes stay for team-b. */
	for (int i = 0; i < 2; i++) {
		if (app[i] && ctr_container_delete(app[i], CTR_NO_OPTS, &err) < 0)
			failed = report("container delete", err);
		ctr_container_free(app[i]);
		ctr_opt *in = ctr_with_call_namespace(teams[i]);
		if (ctr_image_delete(client, ref, CTR_OPTS(in), &err) < 0)
			failed = report("image delete", err);
		ctr_opt_free(in);
		err = NULL;
		int freed = collect(client);
		printf("%s: deleted its image and container; gc freed %d blob files, %d left\n", teams[i], freed,
		       blob_files(root));
		if (i == 0)
			failed |= check(freed == 0 && blob_files(root) == files, "team-b still holds the bytes");
		else
			failed |= check(freed == files && blob_files(root) == 0, "nobody holds them: bytes freed");
	}
	for (int i = 0; i < 2; i++)
		if (ctr_namespace_delete(client, teams[i], CTR_NO_OPTS, &err) < 0)
			failed = report("namespace delete", err);
out:
	ctr_image_free(image[0]);
	ctr_image_free(image[1]);
	ctr_client_free(client);
	return failed;
}
