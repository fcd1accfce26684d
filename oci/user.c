/* The process user from an image USER string, resolved in the image's
 * /etc/passwd and /etc/group (containerd's WithUser, WithUserID,
 * WithUsername, WithAdditionalGIDs and their CVE fixes: ids over
 * 2147483647 refused, user files read inside the root only, regular files
 * only, bounded size, the gid always in additionalGids). */
#include "spec-internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fs.h"
#include "json.h"
#include "macro.h"

/* Hands an error from a lookup made with a local error object to the
 * caller, or drops it when the caller tolerates that code. */
static int forward(ctr_error **err, ctr_error *local, int r, int tolerated)
{
	if (r == tolerated && r < 0) {
		ctr_error_free(local);
		return 0;
	}
	if (err && !*err)
		*err = local;
	else
		ctr_error_free(local);
	return r;
}

int ctr_oci_read_user_file(int rootfd, const char *name, char **out, ctr_error **err)
{
	if (rootfd < 0)
		return ctr_err(err, CTR_ENOTFOUND, 0, "/%s: no image rootfs to read it from", name);
	/* O_PATH first: opening a FIFO or a device node for reading could
	 * block or act on the device, so check the type before any real open. */
	_cleanup_close_ int pfd = ctr_openat_in_root(rootfd, name, O_PATH, 0, err);
	if (pfd < 0)
		return ctr_err_prefix(err, pfd, "image user database");
	struct stat st, st2;
	if (fstat(pfd, &st) < 0)
		return ctr_err_errno(err, errno, "stat /%s", name);
	if (!S_ISREG(st.st_mode))
		return ctr_err(err, CTR_EINVAL, 0, "/%s in the image is not a regular file", name);
	if ((uint64_t)st.st_size > CTR_OCI_MAX_USER_FILE)
		return ctr_err(err, CTR_EINVAL, EFBIG, "/%s in the image is larger than %u bytes",
			       name, CTR_OCI_MAX_USER_FILE);
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	_cleanup_close_ int fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		/* No /proc: open again in the root, non-blocking, and make sure
		 * it is still the file checked above. */
		fd = ctr_openat_in_root(rootfd, name, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0, err);
		if (fd < 0)
			return ctr_err_prefix(err, fd, "image user database");
	}
	if (fstat(fd, &st2) < 0)
		return ctr_err_errno(err, errno, "stat /%s", name);
	if (!S_ISREG(st2.st_mode) || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino)
		return ctr_err(err, CTR_EINVAL, 0, "/%s in the image changed while being opened", name);
	char shown[PATH_MAX];
	snprintf(shown, sizeof(shown), "/%s", name);
	return ctr_read_fd(fd, shown, CTR_OCI_MAX_USER_FILE, out, NULL, err);
}

/* Strict decimal id: digits only, at most CTR_OCI_MAX_ID. */
static bool parse_id(const char *s, size_t len, uint32_t *out)
{
	if (!len || len > 10)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > CTR_OCI_MAX_ID)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Fields of one passwd or group line, split on ':' in place. */
#define MAX_FIELDS 7
static size_t split_fields(char *line, char **f)
{
	size_t n = 0;
	f[n++] = line;
	for (char *p = line; *p && n < MAX_FIELDS; p++)
		if (*p == ':') {
			*p = 0;
			f[n++] = p + 1;
		}
	return n;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	return s;
}

/* Calls fn for each well-formed line (enough fields, numeric id in field
 * 2); malformed lines are skipped rather than read as id 0, which is what
 * a lenient parser would make of them. fn returns nonzero to stop. */
static void for_each_entry(char *text, size_t min_fields,
			   int (*fn)(char **f, size_t n, uint32_t id, void *ud), void *ud)
{
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line = trim(line);
		if (!*line)
			continue;
		char *f[MAX_FIELDS];
		size_t n = split_fields(line, f);
		uint32_t id;
		if (n < min_fields || !parse_id(f[2], strlen(f[2]), &id))
			continue;
		if (fn(f, n, id, ud))
			return;
	}
}

struct pw_query {
	const char *name; /* match by name, or */
	uint32_t uid;     /* by uid when name is NULL */
	bool found;
	char *found_name;
	uint32_t found_uid, found_gid;
};

static int pw_match(char **f, size_t n, uint32_t uid, void *ud)
{
	struct pw_query *q = ud;
	uint32_t gid;
	if (!parse_id(f[3], strlen(f[3]), &gid))
		return 0;
	if (q->name ? strcmp(f[0], q->name) != 0 : uid != q->uid)
		return 0;
	q->found = true;
	q->found_uid = uid;
	q->found_gid = gid;
	q->found_name = strdup(f[0]);
	return 1;
}

/* Looks a user up in the image's /etc/passwd. 0 with q->found set or not;
 * CTR_ENOTFOUND when the file is missing; other codes for hostile files. */
static int passwd_lookup(int rootfd, struct pw_query *q, ctr_error **err)
{
	_cleanup_free_ char *text = NULL;
	int r = ctr_oci_read_user_file(rootfd, "etc/passwd", &text, err);
	if (r < 0)
		return r;
	for_each_entry(text, 4, pw_match, q);
	if (q->found && !q->found_name)
		return ctr_err_nomem(err);
	return 0;
}

struct gr_query {
	const char *name;   /* the group's name for a gid lookup, or */
	const char *member; /* a user whose supplementary groups are wanted */
	bool found;
	uint32_t gid;
	json_t *gids;
};

static int gr_match(char **f, size_t n, uint32_t gid, void *ud)
{
	struct gr_query *q = ud;
	if (q->name) {
		if (strcmp(f[0], q->name))
			return 0;
		q->found = true;
		q->gid = gid;
		return 1;
	}
	/* Supplementary groups only: not the user's own group. */
	if (n < 4 || !strcmp(f[0], q->member))
		return 0;
	char *save = NULL;
	for (char *m = strtok_r(f[3], ",", &save); m; m = strtok_r(NULL, ",", &save))
		if (!strcmp(m, q->member)) {
			json_array_append_new(q->gids, json_integer(gid));
			break;
		}
	return 0;
}

static int group_lookup(int rootfd, struct gr_query *q, ctr_error **err)
{
	_cleanup_free_ char *text = NULL;
	int r = ctr_oci_read_user_file(rootfd, "etc/group", &text, err);
	if (r < 0)
		return r;
	for_each_entry(text, 3, gr_match, q);
	return 0;
}

/* One part of a USER string: a numeric id (1), a name (0) or garbage
 * (CTR_EINVAL). Unlike Go's Atoi, signs and parts that start with a digit
 * but are not a number are refused instead of being looked up as names. */
static int classify(const char *user, const char *part, size_t len, const char *what,
		    uint32_t *id, ctr_error **err)
{
	if (!len)
		return ctr_err(err, CTR_EINVAL, 0, "invalid USER value \"%.100s\": empty %s", user, what);
	if (isdigit((unsigned char)part[0]) || part[0] == '-' || part[0] == '+') {
		if (!parse_id(part, len, id))
			return ctr_err(err, CTR_EINVAL, ERANGE,
				       "invalid USER value \"%.100s\": %s out of range or not a number",
				       user, what);
		return 1;
	}
	if (len > 256)
		return ctr_err(err, CTR_EINVAL, 0, "invalid USER value: %s name too long", what);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)part[i];
		if (c < 0x21 || c == 0x7f || c == '/' || c == ',')
			return ctr_err(err, CTR_EINVAL, 0,
				       "invalid USER value \"%.100s\": bad character in %s name", user, what);
	}
	return 0;
}

static int set_user(json_t *root, uint32_t uid, uint32_t gid, ctr_error **err)
{
	json_t *proc = ctr_oci_obj(root, "process");
	json_t *u = proc ? ctr_oci_obj(proc, "user") : NULL;
	if (!u || json_object_set_new(u, "uid", json_integer(uid)) < 0 ||
	    json_object_set_new(u, "gid", json_integer(gid)) < 0 ||
	    json_object_set_new(u, "additionalGids", json_pack("[I]", (json_int_t)gid)) < 0)
		return ctr_err_nomem(err);
	return 0;
}

int ctr_oci_apply_user(struct ctr_spec *s, const char *user, ctr_error **err)
{
	if (!user || !*user)
		return ctr_err(err, CTR_EINVAL, 0, "invalid USER value: empty");
	const char *colon = strchr(user, ':');
	if (colon && strchr(colon + 1, ':'))
		return ctr_err(err, CTR_EINVAL, 0, "invalid USER value \"%.100s\"", user);
	size_t ulen = colon ? (size_t)(colon - user) : strlen(user);
	uint32_t uid = 0, gid = 0;
	int un = classify(user, user, ulen, "uid", &uid, err);
	if (un < 0)
		return un;
	_cleanup_free_ char *uname = un ? NULL : strndup(user, ulen);
	if (!un && !uname)
		return ctr_err_nomem(err);
	int r;
	if (!colon) {
		struct pw_query q = {.name = uname, .uid = uid};
		ctr_error *local = NULL;
		r = passwd_lookup(s->rootfd, &q, &local);
		free(q.found_name);
		/* A bare uid: its passwd gid, else gid 0 when the file or the
		 * entry is missing (hostile files still fail). */
		r = forward(err, local, r, un ? CTR_ENOTFOUND : 0);
		if (un) {
			if (r < 0)
				return ctr_err_prefix(err, r, "user %s", user);
			return set_user(s->root, uid, q.found ? q.found_gid : 0, err);
		}
		if (r < 0)
			return ctr_err_prefix(err, r, "user %s", user);
		if (!q.found)
			return ctr_err(err, CTR_ENOTFOUND, 0, "user %s: no such user in /etc/passwd", uname);
		return set_user(s->root, q.found_uid, q.found_gid, err);
	}
	const char *gpart = colon + 1;
	int gn = classify(user, gpart, strlen(gpart), "gid", &gid, err);
	if (gn < 0)
		return gn;
	if (!un) {
		struct pw_query q = {.name = uname};
		r = passwd_lookup(s->rootfd, &q, err);
		free(q.found_name);
		if (r < 0)
			return ctr_err_prefix(err, r, "user %s", user);
		if (!q.found)
			return ctr_err(err, CTR_ENOTFOUND, 0, "user %s: no such user in /etc/passwd", uname);
		uid = q.found_uid;
	}
	if (!gn) {
		struct gr_query q = {.name = gpart};
		r = group_lookup(s->rootfd, &q, err);
		if (r < 0)
			return ctr_err_prefix(err, r, "user %s", user);
		if (!q.found)
			return ctr_err(err, CTR_ENOTFOUND, 0, "user %s: no such group in /etc/group", gpart);
		gid = q.gid;
	}
	return set_user(s->root, uid, gid, err);
}

int ctr_oci_apply_additional_gids(struct ctr_spec *s, const char *user, ctr_error **err)
{
	if (!user || !*user)
		return ctr_err(err, CTR_EINVAL, 0, "additional gids: empty user");
	json_t *proc = ctr_oci_obj(s->root, "process");
	json_t *u = proc ? ctr_oci_obj(proc, "user") : NULL;
	if (!u)
		return ctr_err_nomem(err);
	json_int_t gid = ctr_json_int(u, "gid", 0);
	_cleanup_(ctr_oci_json_decrefp) json_t *gids = json_array();
	if (!gids)
		return ctr_err_nomem(err);
	_cleanup_free_ char *name = NULL;
	uint32_t uid;
	int r = 0;
	if (parse_id(user, strlen(user), &uid)) {
		struct pw_query q = {.uid = uid};
		ctr_error *local = NULL;
		r = passwd_lookup(s->rootfd, &q, &local);
		name = q.found_name;
		if ((r = forward(err, local, r, CTR_ENOTFOUND)) < 0)
			return ctr_err_prefix(err, r, "additional gids of %s", user);
	} else if (!(name = strdup(user)))
		return ctr_err_nomem(err);
	if (name) {
		struct gr_query q = {.member = name, .gids = gids};
		ctr_error *local = NULL;
		r = group_lookup(s->rootfd, &q, &local);
		if ((r = forward(err, local, r, CTR_ENOTFOUND)) < 0)
			return ctr_err_prefix(err, r, "additional gids of %s", user);
	}
	/* The primary gid goes first unless /etc/group already lists it. */
	bool has = false;
	for (size_t i = 0; i < json_array_size(gids); i++)
		if (json_integer_value(json_array_get(gids, i)) == gid)
			has = true;
	if (!has && json_array_insert_new(gids, 0, json_integer(gid)) < 0)
		return ctr_err_nomem(err);
	if (json_object_set(u, "additionalGids", gids) < 0)
		return ctr_err_nomem(err);
	return 0;
}
