/* The user and group resolver: the input is "USER\nPASSWD\0GROUP"; the two
 * files are written into a fake rootfs's /etc and the user string is
 * resolved the way ctr_with_user and ctr_with_additional_gids do. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctr/ctr.h>

#include "fs.h"
#include "fuzz.h"
#include "spec-internal.h"

static int etcfd = -1, rootfd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = fuzz_tmpdir("user");
	if ((rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    mkdirat(rootfd, "etc", 0755) < 0 || (etcfd = openat(rootfd, "etc", O_RDONLY | O_DIRECTORY)) < 0)
		abort();
	return 0;
}

static void put(const char *name, const char *text, size_t len)
{
	int fd = openat(etcfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ctr_write_all(fd, text, len) < 0)
		abort();
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t ulen = nl ? (size_t)(nl - data) : size;
	char *user = fuzz_str(data, ulen);
	if (!user)
		return 0;
	const uint8_t *rest = nl ? nl + 1 : data + size;
	size_t rlen = (size_t)(data + size - rest);
	const uint8_t *z = memchr(rest, '\0', rlen);
	size_t plen = z ? (size_t)(z - rest) : rlen;
	put("passwd", (const char *)rest, plen);
	put("group", z ? (const char *)z + 1 : "", z ? rlen - plen - 1 : 0);
	ctr_spec *s = NULL;
	ctr_error *err = NULL;
	if (ctr_spec_new_at(&s, "default", "fuzz", rootfd, NULL, 0, &err) < 0)
		abort();
	(void)ctr_oci_apply_user(s, user, &err);
	ctr_error_free(err);
	err = NULL;
	(void)ctr_oci_apply_additional_gids(s, user, &err);
	ctr_error_free(err);
	ctr_spec_free(s);
	free(user);
	return 0;
}
