#include "idmap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctr/snapshot.h>

#include "error.h"
#include "macro.h"

static bool parse_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;
	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

int ctr_idmap_parse(struct ctr_idmap_range *v, size_t *n, const char *s, const char *what, ctr_error **err)
{
	size_t k = 0;
	if (!s || !*s)
		return ctr_err(err, CTR_EINVAL, 0, "%s: empty mapping", what);
	for (const char *p = s;;) {
		size_t len = strcspn(p, ",");
		uint32_t f[3];
		const char *q = p;
		int nf = 0;
		for (; nf < 3; nf++) {
			size_t fl = strcspn(q, ":,");
			if (!parse_u32(q, fl, &f[nf]))
				break;
			q += fl;
			if (nf < 2 && *q != ':')
				break;
			if (nf < 2)
				q++;
		}
		if (nf != 3 || q != p + len)
			return ctr_err(err, CTR_EINVAL, 0, "%s \"%.*s\": want container-id:host-id:size", what,
				       (int)(len > 100 ? 100 : len), p);
		if (f[2] == 0)
			return ctr_err(err, CTR_EINVAL, 0, "%s \"%.*s\": the size must be above 0", what, (int)len, p);
		if ((uint64_t)f[0] + f[2] > (uint64_t)UINT32_MAX + 1 || (uint64_t)f[1] + f[2] > (uint64_t)UINT32_MAX + 1)
			return ctr_err(err, CTR_EINVAL, 0, "%s \"%.*s\": the range goes past 4294967295", what, (int)len,
				       p);
		if (k == CTR_IDMAP_MAX)
			return ctr_err(err, CTR_EINVAL, 0, "%s: more than %d ranges", what, CTR_IDMAP_MAX);
		v[k++] = (struct ctr_idmap_range){f[0], f[1], f[2]};
		if (!p[len])
			break;
		p += len + 1;
	}
	*n = k;
	return 0;
}

char *ctr_idmap_format(const struct ctr_idmap_range *v, size_t n)
{
	char *s = calloc(1, n * 34 + 1);
	if (!s)
		return NULL;
	size_t off = 0;
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(s + off, "%s%u:%u:%u", i ? "," : "", v[i].ctr, v[i].host, v[i].size);
	return s;
}

int ctr_idmap_from_labels(struct ctr_idmap *m, bool *has, char **uid_label, char **gid_label,
			  const char *labels_json, ctr_error **err)
{
	*has = false;
	memset(m, 0, sizeof(*m));
	json_t *o = labels_json ? json_loads(labels_json, 0, NULL) : NULL;
	json_t *u = json_string_value(json_object_get(o, CTR_SNAPSHOT_LABEL_UIDMAPPING)) ?
		json_object_get(o, CTR_SNAPSHOT_LABEL_UIDMAPPING) : NULL;
	json_t *g = json_string_value(json_object_get(o, CTR_SNAPSHOT_LABEL_GIDMAPPING)) ?
		json_object_get(o, CTR_SNAPSHOT_LABEL_GIDMAPPING) : NULL;
	int r = 0;
	if (!u && !g)
		goto out;
	if (!u || !g) {
		r = ctr_err(err, CTR_EINVAL, 0, "snapshot labels: %s and %s go together",
			    CTR_SNAPSHOT_LABEL_UIDMAPPING, CTR_SNAPSHOT_LABEL_GIDMAPPING);
		goto out;
	}
	r = ctr_idmap_parse(m->uid, &m->n_uid, json_string_value(u), CTR_SNAPSHOT_LABEL_UIDMAPPING, err);
	if (r == 0)
		r = ctr_idmap_parse(m->gid, &m->n_gid, json_string_value(g), CTR_SNAPSHOT_LABEL_GIDMAPPING, err);
	if (r == 0 && uid_label && !(*uid_label = strdup(json_string_value(u))))
		r = ctr_err_nomem(err);
	if (r == 0 && gid_label && !(*gid_label = strdup(json_string_value(g)))) {
		if (uid_label) {
			free(*uid_label);
			*uid_label = NULL;
		}
		r = ctr_err_nomem(err);
	}
	if (r == 0)
		*has = true;
out:
	json_decref(o);
	return r;
}

bool ctr_idmap_to_host(const struct ctr_idmap_range *v, size_t n, uint32_t id, uint32_t *out)
{
	for (size_t i = 0; i < n; i++)
		if (id >= v[i].ctr && (uint64_t)id < (uint64_t)v[i].ctr + v[i].size) {
			*out = v[i].host + (id - v[i].ctr);
			return true;
		}
	return false;
}

static int write_map(pid_t pid, const char *file, const struct ctr_idmap_range *v, size_t n, ctr_error **err)
{
	char path[64], buf[CTR_IDMAP_MAX * 34 + 1];
	size_t off = 0;
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%u %u %u\n", v[i].ctr, v[i].host, v[i].size);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, off) != (ssize_t)off)
		return ctr_err_errno(err, errno, "user namespace: write %s", file);
	return 0;
}

int ctr_idmap_userns_fd(const struct ctr_idmap *m, ctr_error **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return ctr_err_errno(err, errno, "user namespace: pipe");
	/* A child in a new user namespace that only waits: its namespace
	 * gets the mappings and outlives it through the fd. No fork
	 * handlers run (raw clone3), and the child makes only raw calls, so
	 * this is safe in a threaded program. */
	struct clone_args a = {.flags = CLONE_NEWUSER, .exit_signal = SIGCHLD};
	long pid = syscall(SYS_clone3, &a, sizeof(a));
	if (pid == 0) {
		char c;
		syscall(SYS_close, p[1]);
		syscall(SYS_read, p[0], &c, 1);
		syscall(SYS_exit, 0);
	}
	int e = errno;
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return ctr_err(err, e == EPERM ? CTR_EPERM : CTR_ENOTSUP, e, "user namespace: clone3: %s",
			       strerror(e));
	}
	int r = write_map((pid_t)pid, "uid_map", m->uid, m->n_uid, err);
	if (r == 0)
		r = write_map((pid_t)pid, "gid_map", m->gid, m->n_gid, err);
	int fd = -1;
	if (r == 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%ld/ns/user", pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			r = ctr_err_errno(err, errno, "user namespace: open %s", path);
	}
	close(p[1]);
	while (waitpid((pid_t)pid, NULL, 0) < 0 && errno == EINTR)
		;
	return r < 0 ? r : fd;
}

int ctr_idmap_check(const char *dir, ctr_error **err)
{
	struct ctr_idmap m = {.uid = {{0, 65534, 1}}, .gid = {{0, 65534, 1}}, .n_uid = 1, .n_gid = 1};
	int ns = ctr_idmap_userns_fd(&m, err);
	if (ns < 0)
		return ctr_err(err, CTR_ENOTSUP, 0, "idmapped mounts: no user namespace here");
	_cleanup_close_ int nsfd = ns;
	_cleanup_close_ int t = open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (t < 0)
		return ctr_err(err, CTR_ENOTSUP, errno, "idmapped mounts: open_tree %s: %s", dir, strerror(errno));
	struct mount_attr at = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)nsfd};
	if (mount_setattr(t, "", AT_EMPTY_PATH, &at, sizeof(at)) < 0)
		return ctr_err(err, CTR_ENOTSUP, errno, "idmapped mounts: %s cannot be idmapped: %s", dir,
			       strerror(errno));
	return 0;
}

/* One entry (dfd, name) or the directory itself (name NULL). */
static int chown_one(int dfd, const char *name, const struct ctr_idmap *m, struct stat *st, ctr_error **err)
{
	int fl = name ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH;
	const char *n = name ? name : "";
	if (fstatat(dfd, n, st, fl) < 0)
		return ctr_err_errno(err, errno, "remap: stat %s", n);
	uint32_t hu, hg;
	if (!ctr_idmap_to_host(m->uid, m->n_uid, st->st_uid, &hu))
		return ctr_err(err, CTR_EINVAL, 0, "remap: %s: owner uid %u has no mapping", name ? name : "/",
			       (unsigned)st->st_uid);
	if (!ctr_idmap_to_host(m->gid, m->n_gid, st->st_gid, &hg))
		return ctr_err(err, CTR_EINVAL, 0, "remap: %s: group gid %u has no mapping", name ? name : "/",
			       (unsigned)st->st_gid);
	if (fchownat(dfd, n, hu, hg, fl) < 0)
		return ctr_err_errno(err, errno, "remap: chown %s", name ? name : "/");
	if (!S_ISLNK(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID | S_ISVTX)) &&
	    (name ? fchmodat(dfd, n, st->st_mode & 07777, 0) : fchmod(dfd, st->st_mode & 07777)) < 0)
		return ctr_err_errno(err, errno, "remap: chmod %s", name ? name : "/");
	return 0;
}

static int walk(int dfd, const struct ctr_idmap *m, int depth, ctr_error **err)
{
	if (depth > 512)
		return ctr_err(err, CTR_EINVAL, 0, "remap: the tree is deeper than 512 directories");
	int dup = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dup < 0)
		return ctr_err_errno(err, errno, "remap: dup");
	DIR *d = fdopendir(dup);
	if (!d) {
		close(dup);
		return ctr_err_errno(err, errno, "remap: opendir");
	}
	int r = 0;
	struct dirent *e;
	while (r == 0 && (errno = 0, e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		r = chown_one(dfd, e->d_name, m, &st, err);
		if (r == 0 && S_ISDIR(st.st_mode)) {
			int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				r = ctr_err_errno(err, errno, "remap: open %s", e->d_name);
			else {
				r = walk(sub, m, depth + 1, err);
				close(sub);
			}
		}
	}
	if (r == 0 && errno)
		r = ctr_err_errno(err, errno, "remap: readdir");
	closedir(d);
	return r;
}

int ctr_idmap_chown_tree(int dirfd, const struct ctr_idmap *m, ctr_error **err)
{
	/* dirfd may be O_PATH (a detached mount): a real one for reading */
	_cleanup_close_ int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ctr_err_errno(err, errno, "remap: open the root");
	struct stat st;
	int r = chown_one(fd, NULL, m, &st, err);
	return r < 0 ? r : walk(fd, m, 0, err);
}
