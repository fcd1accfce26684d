/* docker-archive and OCI-layout import: the input is the archive stream
 * handed to ctr_image_import on a client whose root and state are in a
 * temporary directory. The store is dropped and made afresh every few
 * hundred inputs so it stays small. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ctr/ctr.h>

#include "fs.h"
#include "fuzz.h"

static int tmpfd = -1;
static const char *tmpdir;
static ctr_client *client;
static unsigned runs;

static void open_client(void)
{
	char root[128], state[128];
	snprintf(root, sizeof(root), "%s/root", tmpdir);
	snprintf(state, sizeof(state), "%s/state", tmpdir);
	ctr_opt *o1 = ctr_with_root(root), *o2 = ctr_with_state(state);
	ctr_error *err = NULL;
	if (ctr_client_new(&client, CTR_OPTS(o1, o2), &err) < 0) {
		fprintf(stderr, "client: %s\n", ctr_error_message(err));
		abort();
	}
	ctr_opt_free(o1);
	ctr_opt_free(o2);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tmpdir = fuzz_tmpdir("import");
	if ((tmpfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		abort();
	open_client();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (++runs % 256 == 0) {
		ctr_client_free(client);
		if (ctr_rm_rf_at(tmpfd, "root", NULL) < 0 || ctr_rm_rf_at(tmpfd, "state", NULL) < 0)
			abort();
		open_client();
	}
	int fd = memfd_create("archive", MFD_CLOEXEC);
	if (fd < 0 || ctr_write_all(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		abort();
	ctr_image **imgs = NULL;
	size_t n = 0;
	ctr_error *err = NULL;
	if (ctr_image_import(&imgs, &n, client, fd, NULL, 0, &err) == 0) {
		ctr_image_list_free(imgs, n);
	}
	ctr_error_free(err);
	close(fd);
	return 0;
}
