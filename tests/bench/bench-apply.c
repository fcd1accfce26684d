/* Benchmark (not a test): applies a generated layer of many small files with
 * ctr_archive_apply at several worker counts and compares with GNU `tar -x`
 * of the same tar into the same file system. Run:
 *   build/tests/bench-apply [DIR] [FILES]
 * DIR defaults to /var/tmp (a real disk here, not tmpfs). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../unit/archive-helpers.h"
#include "fs.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void drop(const char *d)
{
	ctr_rm_rf_at(AT_FDCWD, d, NULL);
	sync();
}

int main(int argc, char **argv)
{
	const char *where = argc > 1 ? argv[1] : "/var/tmp";
	int nfiles = argc > 2 ? atoi(argv[2]) : 5000;
	char base[512];
	snprintf(base, sizeof(base), "%s/ctr-bench-XXXXXX", where);
	if (!mkdtemp(base))
		return 1;

	/* ~5k files, 0-16 KiB, 50 per directory, like a Debian /usr. */
	struct tarb t;
	tarb_init(&t, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	static unsigned char data[16384];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 31 + (i >> 7));
	unsigned seed = 1;
	uint64_t bytes = 0;
	for (int i = 0; i < nfiles; i++) {
		char name[128];
		if (i % 50 == 0) {
			snprintf(name, sizeof(name), "usr/d%03d/", i / 50);
			if (i == 0)
				tarb_dir(&t, "usr/");
			tarb_dir(&t, name);
		}
		seed = seed * 1103515245u + 12345u;
		size_t len = (seed >> 8) % sizeof(data);
		snprintf(name, sizeof(name), "usr/d%03d/file%05d", i / 50, i);
		struct tent e = {.name = name, .type = AE_IFREG, .perm = 0644, .data = data, .len = len};
		tarb_add(&t, &e);
		bytes += len;
	}
	struct buf tar = tarb_finish(&t);
	char tarfile[600];
	snprintf(tarfile, sizeof(tarfile), "%s/layer.tar", base);
	int fd = open(tarfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ctr_write_all(fd, tar.p, tar.len);
	close(fd);
	printf("layer: %d files, %.1f MiB of content, tar %.1f MiB, in %s\n", nfiles, (double)bytes / 1048576,
	       (double)tar.len / 1048576, where);

	/* Every run extracts into a new directory and nothing is deleted
	 * until the end: on ext4 without a journal, creating inodes right
	 * after deleting thousands is much slower (recently_deleted() in the
	 * inode allocator), which would penalise whichever run comes later.
	 * Runs are interleaved so background load hits all of them alike. */
	char dir[700], cmd[1600];
	unsigned ws[] = {0 /* GNU tar */, 1, 2, 3, 4};
	double best[5] = {1e9, 1e9, 1e9, 1e9, 1e9};
	int run = 0;
	sync();
	for (int rep = 0; rep < 3; rep++) {
		for (size_t w = 0; w < 5; w++) {
			snprintf(dir, sizeof(dir), "%s/run%d", base, run++);
			mkdir(dir, 0755);
			double dt;
			if (ws[w] == 0) {
				snprintf(cmd, sizeof(cmd), "tar -xf '%s' -C '%s'", tarfile, dir);
				double t0 = now();
				if (system(cmd) != 0)
					return 1;
				dt = now() - t0;
			} else {
				int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
				struct memsrc m = {.p = tar.p, .len = tar.len};
				struct ctr_apply_opts o = {.workers = ws[w]};
				ctr_error *err = NULL;
				double t0 = now();
				int r = ctr_archive_apply(dfd, memsrc_read, &m, &o, NULL, &err);
				dt = now() - t0;
				close(dfd);
				if (r) {
					fprintf(stderr, "apply: %s\n", ctr_error_message(err));
					return 1;
				}
			}
			if (dt < best[w])
				best[w] = dt;
		}
		sync();
	}
	printf("GNU tar -x:                   %.3f s (best of 3)\n", best[0]);
	for (size_t w = 1; w < 5; w++)
		printf("ctr_archive_apply workers=%u: %.3f s (best of 3), %.2fx the time of tar\n", ws[w], best[w],
		       best[w] / best[0]);
	drop(base);
	free(tar.p);
	return 0;
}
