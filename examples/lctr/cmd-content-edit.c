/* lctr content edit: a blob through $EDITOR into a new blob (ctr content
 * edit). */
#include "lctr.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const struct lctr_flag lctr_content_edit_flags[] = {
	{0, "editor", required_argument, 'e', "CMD", "the editor, run by sh -c \"CMD FILE\" (default $EDITOR)"},
	{0, "validate", required_argument, 'v', "FORMAT", "validate the result (not supported, as in ctr)"},
	{0},
};

/* Stores the file f as a new blob under ref; digest gets "sha256:<hex>". */
static int store(ctr_client *c, FILE *f, const char *ref, char digest[72])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ctr_content_writer *w = NULL;
	ctr_error *err = NULL;
	int rc = 0;
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		return lctr_failf("content edit: sha256: failed");
	}
	if (ctr_content_writer_open(&w, c, ref, NULL, 0, &err) < 0) {
		EVP_MD_CTX_free(md);
		return lctr_fail("content edit", err);
	}
	char buf[1 << 16];
	size_t n;
	int64_t total = 0;
	rewind(f);
	while (!rc && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		EVP_DigestUpdate(md, buf, n);
		total += (int64_t)n;
		if (ctr_content_writer_write(w, buf, n, &err) < 0)
			rc = lctr_fail("content edit", err);
	}
	if (!rc && ferror(f))
		rc = lctr_failf("content edit: read the edited file: %s", strerror(errno));
	unsigned char sum[32];
	unsigned len = 0;
	if (!rc && !EVP_DigestFinal_ex(md, sum, &len))
		rc = lctr_failf("content edit: sha256: failed");
	if (!rc) {
		strcpy(digest, "sha256:");
		for (unsigned i = 0; i < len; i++)
			sprintf(digest + 7 + 2 * i, "%02x", sum[i]);
		int r = ctr_content_writer_commit(w, total, digest, NULL, CTR_NO_OPTS, &err);
		if (r < 0 && r != CTR_EEXISTS)
			rc = lctr_fail("content edit", err);
		else
			ctr_error_free(err);
	}
	if (rc)
		ctr_content_abort(c, ref, NULL, 0, NULL);
	ctr_content_writer_free(w);
	EVP_MD_CTX_free(md);
	return rc;
}

/* edit [--editor CMD] DIGEST: the blob is copied to a file under
 * $XDG_RUNTIME_DIR (or $TMPDIR), the editor runs on it, and what it leaves
 * is stored as a new blob whose digest is printed. The old blob stays. */
int lctr_content_edit(struct lctr *g, int argc, char **argv)
{
	const char *editor = getenv("EDITOR");
	int ch;
	optind = 0;
	while ((ch = lctr_getopt(argc, argv)) != -1) {
		if (ch == 'e') {
			editor = optarg;
		} else if (ch == 'v') {
			lctr_failf("content edit: --validate: validating the edit result is not supported");
			return 2;
		}
	}
	const char *d = argv[optind];
	if (!lctr_is_sha256_digest(d)) {
		lctr_failf("content edit: invalid digest \"%s\" (want sha256:<64 hex>)", d);
		return 2;
	}
	if (!editor || !*editor) {
		lctr_failf("content edit: an editor is required (--editor or $EDITOR)");
		return 2;
	}
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	const char *dir = getenv("XDG_RUNTIME_DIR");
	if (!dir || !*dir)
		dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/lctr-edit-XXXXXX", dir) >= (int)sizeof(path))
		return lctr_failf("content edit: temporary directory name too long");
	int fd = mkstemp(path);
	if (fd < 0)
		return lctr_failf("content edit: create %s: %s", path, strerror(errno));
	FILE *f = fdopen(fd, "w+");
	if (!f) {
		close(fd);
		unlink(path);
		return lctr_failf("content edit: %s", strerror(errno));
	}
	int rc = lctr_content_copy(c, d, f, "content edit");
	if (!rc) {
		/* ctr runs sh -c "EDITOR FILE": the editor may carry arguments;
		 * the file goes as $1, never through the shell's parsing */
		char *cmd = NULL;
		if (asprintf(&cmd, "%s \"$1\"", editor) < 0) {
			rc = lctr_failf("content edit: out of memory");
		} else {
			fflush(stdout);
			pid_t pid = fork();
			if (pid == 0) {
				execl("/bin/sh", "sh", "-c", cmd, "sh", path, (char *)NULL);
				_exit(127);
			}
			int st = 0;
			while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			if (pid < 0)
				rc = lctr_failf("content edit: fork: %s", strerror(errno));
			else if (st != 0)
				rc = lctr_failf("content edit: editor \"%s\" failed (%s %d): nothing stored", editor,
						WIFEXITED(st) ? "exit status" : "signal",
						WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		}
		free(cmd);
	}
	char ref[96], digest[72];
	snprintf(ref, sizeof(ref), "edit-%s", d);
	if (!rc) {
		/* the editor may have replaced the file: read it by name */
		FILE *e = fopen(path, "r");
		if (!e)
			rc = lctr_failf("content edit: open %s: %s", path, strerror(errno));
		else {
			rc = store(c, e, ref, digest);
			fclose(e);
		}
	}
	fclose(f);
	unlink(path);
	if (!rc)
		puts(digest);
	return rc;
}
