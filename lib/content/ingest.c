/* Resumable, verified ingest into the raw content store.
 *
 * An ingest lives in content/ingest/<hex of sha256(ref)>/: the ref is an
 * arbitrary caller string and never becomes a path itself. The writer holds
 * an exclusive flock on the dir's `lock` file for as long as it is open.
 *
 * Removal protocol: whoever removes an ingest dir (commit, abort, a failed
 * check) holds its lock, first renames the dir aside to ingest/.trash-* and
 * only then deletes it. So the lock file of a dir that sits at its key path
 * is never unlinked, and a waiter that gets a lock can check that its lock
 * file is still the one at ingest/<key>/lock; when it is not, the ingest
 * it waited for is gone and it starts over. */
#include "store-priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fs.h"
#include "macro.h"

#define KEY_LEN 64

struct ctr_cs_writer {
	struct ctr_cs *cs;
	char *ref;
	char *expected; /* NULL: unknown */
	char key[KEY_LEN + 1];
	int dir_fd;
	int lock_fd;
	int data_fd;
	uint64_t offset;
	uint64_t total; /* 0: unknown */
	ctr_digest_alg alg;
	ctr_hasher *h;
	bool done; /* committed or removed: the ingest is gone */
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ref_key(const char *ref, char key[KEY_LEN + 1], ctr_error **err)
{
	if (!ref || !*ref)
		return ctr_err(err, CTR_EINVAL, 0, "ingest: empty ref");
	size_t n = strlen(ref);
	if (n > CTR_CS_REF_MAX)
		return ctr_err(err, CTR_EINVAL, 0, "ingest: ref longer than %d bytes", CTR_CS_REF_MAX);
	char d[CTR_DIGEST_MAX];
	int r = ctr_digest_buf(CTR_DIGEST_SHA256, ref, n, d, err);
	if (r < 0)
		return r;
	memcpy(key, d + strlen("sha256:"), KEY_LEN + 1);
	return 0;
}

/* Small metadata files: written to a temp name and renamed so a reader
 * never sees half of one. Not fsynced: every one of them is checked on
 * resume and a lost one only restarts the ingest. */
static int put_file(int dirfd, const char *name, const void *data, size_t len, ctr_error **err)
{
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	_cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return ctr_err_errno(err, errno, "ingest: create %s", name);
	int r = ctr_write_all(fd, data, len);
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return ctr_err_errno(err, -r, "ingest: write %s", name);
	}
	return 0;
}

static int put_num(int dirfd, const char *name, int64_t v, ctr_error **err)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%" PRId64, v);
	return put_file(dirfd, name, b, (size_t)n, err);
}

/* A decimal number file; false when missing or malformed. */
static bool get_num(int dirfd, const char *name, int64_t *v)
{
	_cleanup_free_ char *s = NULL;
	if (ctr_read_file(dirfd, name, 32, &s, NULL, NULL) < 0 || !*s)
		return false;
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || *end || x < 0)
		return false;
	*v = x;
	return true;
}

/* The recorded expected digest, or NULL when none or malformed. */
static char *get_expected(int dirfd)
{
	char *s = NULL;
	if (ctr_read_file(dirfd, "expected", CTR_DIGEST_MAX, &s, NULL, NULL) < 0)
		return NULL;
	if (!ctr_digest_valid(s)) {
		free(s);
		return NULL;
	}
	return s;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Takes the lock of ingest/<key>, creating the dir when create is set
 * (else CTR_ENOTFOUND when it is missing). Waits up to timeout_ms in all,
 * then CTR_EBUSY. On success the lock is held on the dir that is at the key
 * path now, and stays so until the caller removes it or closes lock_fd. */
static int ingest_lock(struct ctr_cs *cs, const char *key, bool create, int timeout_ms,
		       int *dir_fd, int *lock_fd, ctr_error **err)
{
	int64_t deadline = timeout_ms > 0 ? mono_ms() + timeout_ms : 0;
	for (;;) {
		if (create && mkdirat(cs->ingest_fd, key, 0700) < 0 && errno != EEXIST)
			return ctr_err_errno(err, errno, "ingest: mkdir");
		_cleanup_close_ int dfd = openat(cs->ingest_fd, key, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0) {
			if (errno == ENOENT && create)
				continue; /* removed between mkdir and open */
			return ctr_err_errno(err, errno, "ingest");
		}
		int wait = timeout_ms;
		if (timeout_ms > 0) {
			int64_t left = deadline - mono_ms();
			wait = left > 0 ? (int)left : 0;
		}
		_cleanup_close_ int lfd = ctr_lock_path(dfd, "lock", true, wait, err);
		if (lfd < 0)
			return lfd == CTR_EBUSY ? ctr_err_prefix(err, lfd, "ingest: held by another writer") : lfd;
		struct stat held_dir, held_lock, cur_dir, cur_lock;
		if (fstat(dfd, &held_dir) < 0 || fstat(lfd, &held_lock) < 0)
			return ctr_err_errno(err, errno, "ingest: stat");
		bool at_key = fstatat(cs->ingest_fd, key, &cur_dir, AT_SYMLINK_NOFOLLOW) == 0;
		if (!at_key && errno != ENOENT)
			return ctr_err_errno(err, errno, "ingest: stat");
		if (at_key && same_file(&held_dir, &cur_dir) &&
		    fstatat(dfd, "lock", &cur_lock, AT_SYMLINK_NOFOLLOW) == 0 &&
		    same_file(&held_lock, &cur_lock)) {
			*dir_fd = TAKE_FD(dfd);
			*lock_fd = TAKE_FD(lfd);
			return 0;
		}
		/* The holder removed the ingest while we waited (its dir went
		 * aside with the lock we got): look again. */
	}
}

/* Removes ingest/<key>, whose lock the caller holds. Only the rename can
 * fail: once the dir is aside, the ingest is gone, and leftovers of a failed
 * delete are swept by the next ctr_cs_open. */
static int ingest_remove(struct ctr_cs *cs, const char *key, ctr_error **err)
{
	static unsigned counter;
	char trash[128];
	snprintf(trash, sizeof(trash), TRASH_PREFIX "%.16s-%d-%" PRId64 "-%u", key, (int)getpid(),
		 now_ns(), __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
	if (renameat(cs->ingest_fd, key, cs->ingest_fd, trash) < 0)
		return ctr_err_errno(err, errno, "ingest: remove");
	ctr_rm_rf_at(cs->ingest_fd, trash, NULL);
	return 0;
}

static bool blob_exists(struct ctr_cs *cs, const char *digest)
{
	const char *hex;
	int dfd = ctr_cs_blob_dir(cs, digest, &hex, NULL, NULL);
	struct stat st;
	return dfd >= 0 && fstatat(dfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Hashes what data already holds, so a resumed ingest continues with the
 * exact state of its bytes whatever happened to the previous writer. */
static int rehash(struct ctr_cs_writer *w, ctr_error **err)
{
	_cleanup_free_ char *buf = malloc(1 << 20);
	if (!buf)
		return ctr_err_nomem(err);
	uint64_t off = 0;
	for (;;) {
		ssize_t n = pread(w->data_fd, buf, 1 << 20, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ctr_err(err, CTR_EIO, errno, "ingest: read data");
		}
		if (n == 0)
			break;
		ctr_hasher_update(w->h, buf, (size_t)n);
		off += (uint64_t)n;
	}
	w->offset = off;
	return 0;
}

static int restart_hash(struct ctr_cs_writer *w, ctr_error **err)
{
	ctr_hasher *h;
	int r = ctr_hasher_new(&h, w->alg, err);
	if (r < 0)
		return r;
	ctr_hasher_free(w->h);
	w->h = h;
	return 0;
}

static int truncate_data(struct ctr_cs_writer *w, ctr_error **err)
{
	if (ftruncate(w->data_fd, 0) < 0)
		return ctr_err_errno(err, errno, "ingest: truncate data");
	w->offset = 0;
	return restart_hash(w, err);
}

/* Reads what the dir records and decides between resume and restart, then
 * records this writer's view. The caller holds the lock. */
static int writer_setup(struct ctr_cs_writer *w, uint64_t total, ctr_error **err)
{
	_cleanup_free_ char *rec_ref = NULL, *rec_exp = NULL;
	size_t rec_len = 0;
	bool fresh = ctr_read_file(w->dir_fd, "ref", CTR_CS_REF_MAX, &rec_ref, &rec_len, NULL) < 0 ||
		     rec_len != strlen(w->ref) || memcmp(rec_ref, w->ref, rec_len) != 0;
	bool restart = fresh;
	int64_t rec_total = 0, started = 0;
	if (!fresh) {
		rec_exp = get_expected(w->dir_fd);
		if (!get_num(w->dir_fd, "total", &rec_total))
			rec_total = 0;
		if (!get_num(w->dir_fd, "startedat", &started))
			started = 0;
		if (w->expected && rec_exp && strcmp(w->expected, rec_exp) != 0)
			restart = true;
		if (total && rec_total && total != (uint64_t)rec_total)
			restart = true;
		if (!restart && !w->expected && rec_exp) {
			/* The caller does not know it; keep what an earlier
			 * writer promised, and hash with its algorithm. */
			w->expected = TAKE_PTR(rec_exp);
			ctr_digest_parse(w->expected, &w->alg, NULL, NULL);
		}
		if (!restart && !total)
			total = (uint64_t)rec_total;
	}
	w->total = total;

	w->data_fd = openat(w->dir_fd, "data", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (w->data_fd < 0)
		return ctr_err_errno(err, errno, "ingest: open data");
	struct stat st;
	if (fstat(w->data_fd, &st) < 0)
		return ctr_err_errno(err, errno, "ingest: stat data");
	if (!S_ISREG(st.st_mode))
		return ctr_err(err, CTR_EIO, 0, "ingest: data is not a regular file");
	int r = restart_hash(w, err);
	if (r < 0)
		return r;
	if (restart)
		r = truncate_data(w, err);
	else if ((r = rehash(w, err)) == 0 && w->total && w->offset > w->total)
		r = truncate_data(w, err); /* longer than it can be: nothing to save */
	if (r < 0)
		return r;

	int64_t now = now_ns();
	if (restart || !started)
		started = now;
	if (fresh && (r = put_file(w->dir_fd, "ref", w->ref, strlen(w->ref), err)) < 0)
		return r;
	if (w->expected)
		r = put_file(w->dir_fd, "expected", w->expected, strlen(w->expected), err);
	else if (unlinkat(w->dir_fd, "expected", 0) < 0 && errno != ENOENT)
		r = ctr_err_errno(err, errno, "ingest: unlink expected");
	if (r == 0)
		r = put_num(w->dir_fd, "total", (int64_t)w->total, err);
	if (r == 0)
		r = put_num(w->dir_fd, "startedat", started, err);
	if (r == 0)
		r = put_num(w->dir_fd, "updatedat", now, err);
	return r;
}

void ctr_cs_writer_close(struct ctr_cs_writer *w)
{
	if (!w)
		return;
	if (w->data_fd >= 0)
		close(w->data_fd);
	if (w->dir_fd >= 0)
		close(w->dir_fd);
	if (w->lock_fd >= 0)
		close(w->lock_fd); /* last: releases the flock */
	ctr_hasher_free(w->h);
	free(w->ref);
	free(w->expected);
	free(w);
}

int ctr_cs_writer_open(struct ctr_cs_writer **out, struct ctr_cs *cs, const char *ref,
		       uint64_t total, const char *expected, int timeout_ms, ctr_error **err)
{
	char key[KEY_LEN + 1];
	int r = ref_key(ref, key, err);
	if (r < 0)
		return r;
	ctr_digest_alg alg = CTR_DIGEST_SHA256;
	if (expected && (r = ctr_digest_parse(expected, &alg, NULL, err)) < 0)
		return ctr_err_prefix(err, r, "ingest: expected digest");
	if (expected && blob_exists(cs, expected))
		return ctr_err(err, CTR_EEXISTS, 0, "content %s already exists", expected);

	struct ctr_cs_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return ctr_err_nomem(err);
	w->cs = cs;
	w->dir_fd = w->lock_fd = w->data_fd = -1;
	w->alg = alg;
	memcpy(w->key, key, sizeof(key));
	w->ref = strdup(ref);
	w->expected = expected ? strdup(expected) : NULL;
	if (!w->ref || (expected && !w->expected)) {
		r = ctr_err_nomem(err);
		goto fail;
	}
	r = ingest_lock(cs, key, true, timeout_ms, &w->dir_fd, &w->lock_fd, err);
	if (r < 0)
		goto fail;
	/* Whoever we waited for may have committed it meanwhile. */
	if (expected && blob_exists(cs, expected)) {
		ingest_remove(cs, key, NULL);
		r = ctr_err(err, CTR_EEXISTS, 0, "content %s already exists", expected);
		goto fail;
	}
	r = writer_setup(w, total, err);
	if (r < 0)
		goto fail;
	*out = w;
	return 0;
fail:
	ctr_cs_writer_close(w);
	return r;
}

uint64_t ctr_cs_writer_offset(const struct ctr_cs_writer *w) { return w->offset; }
uint64_t ctr_cs_writer_total(const struct ctr_cs_writer *w) { return w->total; }
const char *ctr_cs_writer_ref(const struct ctr_cs_writer *w) { return w->ref; }
const char *ctr_cs_writer_expected(const struct ctr_cs_writer *w) { return w->expected; }

void ctr_cs_writer_digest(const struct ctr_cs_writer *w, char out[CTR_DIGEST_MAX])
{
	ctr_hasher_peek(w->h, out);
}

static int check_live(const struct ctr_cs_writer *w, ctr_error **err)
{
	if (w->done)
		return ctr_err(err, CTR_EINVAL, 0, "ingest %.200s: already committed or removed", w->ref);
	return 0;
}

int ctr_cs_writer_write(struct ctr_cs_writer *w, const void *buf, size_t len, ctr_error **err)
{
	int r = check_live(w, err);
	if (r < 0 || len == 0)
		return r;
	if (w->total && (len > w->total || w->offset > w->total - len))
		return ctr_err(err, CTR_EPRECONDITION, 0,
			       "ingest %.200s: write of %zu bytes at %" PRIu64 " passes total %" PRIu64,
			       w->ref, len, w->offset, w->total);
	r = ctr_pwrite_all(w->data_fd, buf, len, (off_t)w->offset);
	if (r < 0) {
		/* Part of it may have landed: cut back so data and hash agree. */
		if (ftruncate(w->data_fd, (off_t)w->offset) < 0)
			w->done = true;
		/* Name the file, so a full disk says which filesystem. */
		char fdp[64], path[512];
		snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", w->data_fd);
		ssize_t pl = readlink(fdp, path, sizeof(path) - 1);
		path[pl > 0 ? pl : 0] = 0;
		return ctr_err_errno(err, -r, "ingest %.200s: write %s", w->ref, pl > 0 ? path : "data");
	}
	ctr_hasher_update(w->h, buf, len);
	w->offset += len;
	return 0;
}

int ctr_cs_writer_reset(struct ctr_cs_writer *w, ctr_error **err)
{
	int r = check_live(w, err);
	if (r == 0)
		r = truncate_data(w, err);
	if (r == 0)
		r = put_num(w->dir_fd, "updatedat", now_ns(), err);
	return r;
}

/* Drops the ingest after its bytes proved wrong; returns code. */
static int commit_fail(struct ctr_cs_writer *w, int code, ctr_error **err)
{
	ingest_remove(w->cs, w->key, NULL);
	w->done = true;
	return code;
}

int ctr_cs_writer_commit(struct ctr_cs_writer *w, uint64_t size, const char *expected,
			 char *digest_out, ctr_error **err)
{
	int r = check_live(w, err);
	if (r < 0)
		return r;
	const char *exp = expected ? expected : w->expected;
	ctr_digest_alg ealg = w->alg;
	if (exp && (r = ctr_digest_parse(exp, &ealg, NULL, err)) < 0)
		return ctr_err_prefix(err, r, "commit %.200s: expected digest", w->ref);
	uint64_t want = size && size != w->offset ? size : w->total;
	if (want && want != w->offset)
		return commit_fail(w, ctr_err(err, CTR_EPRECONDITION, 0,
					      "commit %.200s: unexpected size %" PRIu64 ", expected %" PRIu64,
					      w->ref, w->offset, want), err);
	char got[CTR_DIGEST_MAX];
	if (ealg != w->alg) {
		/* Asked for another algorithm than we hashed with: reread. */
		if ((r = ctr_digest_fd(ealg, w->data_fd, got, NULL, err)) < 0)
			return r;
	} else {
		ctr_hasher_peek(w->h, got);
	}
	if (exp && strcmp(got, exp) != 0)
		return commit_fail(w, ctr_err(err, CTR_EDIGEST, 0,
					      "commit %.200s: unexpected digest %s, expected %s",
					      w->ref, got, exp), err);
	const char *hex;
	int bdir = ctr_cs_blob_dir(w->cs, got, &hex, NULL, err);
	if (bdir < 0)
		return bdir;
	if (fdatasync(w->data_fd) < 0)
		return ctr_err(err, CTR_EIO, errno, "commit %.200s: sync", w->ref);
	int rr = renameat2(w->dir_fd, "data", bdir, hex, RENAME_NOREPLACE);
	if (rr < 0 && (errno == EINVAL || errno == ENOSYS)) {
		/* No RENAME_NOREPLACE on this fs: a check then a rename. A
		 * concurrent commit of the same digest has the same bytes. */
		struct stat st;
		if (fstatat(bdir, hex, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			errno = EEXIST;
		} else {
			rr = renameat(w->dir_fd, "data", bdir, hex);
		}
	}
	if (rr < 0) {
		int e = errno;
		if (e == EEXIST) {
			commit_fail(w, 0, NULL);
			if (digest_out)
				memcpy(digest_out, got, strlen(got) + 1);
			return ctr_err(err, CTR_EEXISTS, 0, "content %s already exists", got);
		}
		return ctr_err_errno(err, e, "commit %.200s: rename into blobs", w->ref);
	}
	/* Read-only once it has its name, not before: a data file left 0444
	 * by a crash could not be resumed by a non-root owner. */
	if (fchmod(w->data_fd, 0444) < 0) {
		/* Best effort: 0644 is fine too. */
	}
	fsync(bdir);
	ingest_remove(w->cs, w->key, NULL);
	w->done = true;
	if (digest_out)
		memcpy(digest_out, got, strlen(got) + 1);
	return 0;
}

int ctr_cs_abort(struct ctr_cs *cs, const char *ref, ctr_error **err)
{
	char key[KEY_LEN + 1];
	int r = ref_key(ref, key, err);
	if (r < 0)
		return r;
	_cleanup_close_ int dfd = -1, lfd = -1;
	r = ingest_lock(cs, key, false, 0, &dfd, &lfd, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "abort %.200s", ref);
	return ingest_remove(cs, key, err);
}

int ctr_cs_ingest_held(struct ctr_cs *cs, const char *ref, ctr_error **err)
{
	char key[KEY_LEN + 1];
	int r = ref_key(ref, key, err);
	if (r < 0)
		return r;
	_cleanup_close_ int dfd = -1, lfd = -1;
	r = ingest_lock(cs, key, false, 0, &dfd, &lfd, NULL);
	if (r == CTR_EBUSY)
		return 1;
	if (r == CTR_ENOTFOUND || r == -ENOENT)
		return 0;
	return r < 0 ? ctr_err(err, r, 0, "ingest %.200s: lock", ref) : 0;
}

void ctr_cs_status_clear(struct ctr_cs_status *st)
{
	if (!st)
		return;
	free(st->ref);
	free(st->expected);
	st->ref = st->expected = NULL;
}

void ctr_cs_status_list_free(struct ctr_cs_status *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		ctr_cs_status_clear(&v[i]);
	free(v);
}

/* Reads an ingest dir without its lock: a writer may be writing, so the
 * offset is what data holds now. CTR_ENOTFOUND when it has no ref yet. */
static int read_status(int dfd, struct ctr_cs_status *out, ctr_error **err)
{
	struct ctr_cs_status st = {0};
	int r = ctr_read_file(dfd, "ref", CTR_CS_REF_MAX, &st.ref, NULL, err);
	if (r < 0)
		return r;
	st.expected = get_expected(dfd);
	int64_t v;
	if (get_num(dfd, "total", &v))
		st.total = (uint64_t)v;
	if (get_num(dfd, "startedat", &v))
		st.started_at = v;
	if (get_num(dfd, "updatedat", &v))
		st.updated_at = v;
	struct stat ds;
	if (fstatat(dfd, "data", &ds, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(ds.st_mode)) {
		st.offset = (uint64_t)ds.st_size;
		int64_t m = (int64_t)ds.st_mtim.tv_sec * 1000000000 + ds.st_mtim.tv_nsec;
		if (m > st.updated_at)
			st.updated_at = m; /* writes do not touch updatedat */
	}
	*out = st;
	return 0;
}

int ctr_cs_status(struct ctr_cs *cs, const char *ref, struct ctr_cs_status *out, ctr_error **err)
{
	char key[KEY_LEN + 1];
	int r = ref_key(ref, key, err);
	if (r < 0)
		return r;
	_cleanup_close_ int dfd = openat(cs->ingest_fd, key, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return ctr_err_errno(err, errno, "ingest %.200s", ref);
	struct ctr_cs_status st;
	r = read_status(dfd, &st, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "ingest %.200s", ref);
	if (strcmp(st.ref, ref) != 0) {
		ctr_cs_status_clear(&st);
		return ctr_err(err, CTR_ENOTFOUND, 0, "ingest %.200s: not found", ref);
	}
	*out = st;
	return 0;
}

static bool is_key(const char *s)
{
	if (strlen(s) != KEY_LEN)
		return false;
	for (size_t i = 0; i < KEY_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int ctr_cs_status_list(struct ctr_cs *cs, struct ctr_cs_status **out, size_t *n, ctr_error **err)
{
	int fd = openat(cs->ingest_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ctr_err_errno(err, errno, "list ingests");
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return ctr_err_errno(err, e, "list ingests");
	}
	struct ctr_cs_status *v = NULL;
	size_t len = 0, cap = 0;
	int r = 0;
	struct dirent *de;
	for (;;) {
		errno = 0;
		if (!(de = readdir(d))) {
			if (errno)
				r = ctr_err_errno(err, errno, "list ingests");
			break;
		}
		if (!is_key(de->d_name))
			continue;
		_cleanup_close_ int dfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			continue; /* removed meanwhile */
		struct ctr_cs_status st;
		if (read_status(dfd, &st, NULL) < 0)
			continue; /* being created or removed */
		if (len == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct ctr_cs_status *nv = realloc(v, nc * sizeof(*nv));
			if (!nv) {
				ctr_cs_status_clear(&st);
				r = ctr_err_nomem(err);
				break;
			}
			v = nv;
			cap = nc;
		}
		v[len++] = st;
	}
	closedir(d);
	if (r < 0) {
		ctr_cs_status_list_free(v, len);
		return r;
	}
	*out = v;
	*n = len;
	return 0;
}

ssize_t ctr_cs_writer_pread(struct ctr_cs_writer *w, void *buf, size_t len, uint64_t off, ctr_error **err)
{
	if (off >= w->offset)
		return 0;
	if (len > w->offset - off)
		len = (size_t)(w->offset - off);
	for (;;) {
		ssize_t n = pread(w->data_fd, buf, len, (off_t)off);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			return ctr_err_errno(err, errno, "ingest %s: read", w->ref);
	}
}
