/* AppArmor's default profile for containers, as containerd's
 * contrib/apparmor WithDefaultProfile makes it: generated from what this
 * host's AppArmor has (its parser's version, the tunables and abstractions
 * in /etc/apparmor.d, the profile this process runs under) and loaded with
 * apparmor_parser unless a profile of that name is loaded already. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apparmor.h"
#include "error.h"
#include "fs.h"
#include "ident.h"
#include "macro.h"
#include "run.h"
#include "spec-internal.h"

#define AA_ENABLED "/sys/module/apparmor/parameters/enabled"
#define AA_PROFILES "/sys/kernel/security/apparmor/profiles"
#define AA_DIR "/etc/apparmor.d"
#define AA_MAX_PROFILES (4u << 20)

int ctr_oci_apparmor_name_validate(const char *name, ctr_error **err)
{
	/* The name goes into the profile's text and the kernel's list: only
	 * what an identifier may hold, so nothing can end the profile line. */
	int r = ctr_ident_validate(name, "apparmor profile name", err);
	return r < 0 ? r : 0;
}

int ctr_oci_apparmor_parse_version(int *out, const char *text, ctr_error **err)
{
	/* "AppArmor parser version 2.13.3" (then a copyright) -> 213003 */
	const char *v = text ? strstr(text, "version ") : NULL;
	if (!v)
		return ctr_err(err, CTR_EINVAL, 0, "apparmor_parser --version: no version in \"%.80s\"", text ? text : "");
	v += 8;
	long part[3] = {0, 0, 0};
	for (int i = 0; i < 3; i++) {
		if (*v < '0' || *v > '9')
			break;
		char *end;
		part[i] = strtol(v, &end, 10);
		if (part[i] > 999 || (i == 0 && part[i] > 99))
			return ctr_err(err, CTR_EINVAL, 0, "apparmor_parser --version: bad version \"%.40s\"", v);
		v = end;
		if (*v != '.')
			break;
		v++;
	}
	if (!part[0] && !part[1] && !part[2])
		return ctr_err(err, CTR_EINVAL, 0, "apparmor_parser --version: bad version in \"%.80s\"", text);
	*out = (int)(part[0] * 100000 + part[1] * 1000 + part[2]);
	return 0;
}

/* The rules of the default profile, in the order apparmor_parser reads
 * them; signal rules from parser 2.8.96 on and ptrace rules from 2.8.95,
 * where those rule kinds start. */
int ctr_oci_apparmor_profile(char **out, const char *name, const struct ctr_aa_host *h, ctr_error **err)
{
	int r = ctr_oci_apparmor_name_validate(name, err);
	if (r < 0)
		return r;
	const char *mgr = h->manager_profile && *h->manager_profile ? h->manager_profile : "unconfined";
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	if (!f)
		return ctr_err_nomem(err);
	fprintf(f, "%s\n\nprofile %s flags=(attach_disconnected,mediate_deleted) {\n",
		h->tunables_global ? "#include <tunables/global>" : "@{PROC}=/proc/", name);
	if (h->abstractions_base)
		fputs("  #include <abstractions/base>\n\n", f);
	fputs("  network,\n  capability,\n  file,\n  umount,\n", f);
	if (h->version >= 208096)
		fprintf(f,
			"\n  # Signals from the host's unconfined processes and from the manager,\n"
			"  # and among the container's own processes.\n"
			"  signal (receive) peer=unconfined,\n"
			"  signal (receive) peer=%s,\n"
			"  signal (send,receive) peer=%s,\n",
			mgr, name);
	fputs("\n"
	      "  # No writes to files right in /proc, nor below it but in /proc/<pid>/\n"
	      "  # and /proc/sys/kernel/shm*.\n"
	      "  deny @{PROC}/* w,\n"
	      "  deny @{PROC}/{[^1-9],[^1-9][^0-9],[^1-9s][^0-9y][^0-9s],[^1-9][^0-9][^0-9][^0-9]*}/** w,\n"
	      "  deny @{PROC}/sys/[^k]** w,\n"
	      "  deny @{PROC}/sys/kernel/{?,??,[^s][^h][^m]**} w,\n"
	      "  deny @{PROC}/sysrq-trigger rwklx,\n"
	      "  deny @{PROC}/kcore rwklx,\n"
	      "\n"
	      "  deny mount,\n"
	      "\n"
	      "  # /sys is read-only but for the cgroup tree; firmware and LSM state hidden.\n"
	      "  deny /sys/[^f]*/** wklx,\n"
	      "  deny /sys/f[^s]*/** wklx,\n"
	      "  deny /sys/fs/[^c]*/** wklx,\n"
	      "  deny /sys/fs/c[^g]*/** wklx,\n"
	      "  deny /sys/fs/cg[^r]*/** wklx,\n"
	      "  deny /sys/firmware/** rwklx,\n"
	      "  deny /sys/kernel/security/** rwklx,\n",
	      f);
	if (h->version >= 208095)
		fprintf(f, "\n  ptrace (trace,read) peer=%s,\n", name);
	fputs("}\n", f);
	if (fclose(f) != 0) {
		free(s);
		return ctr_err_nomem(err);
	}
	*out = s;
	return 0;
}

/* Whether the kernel's list names the profile ("name (mode)" lines). */
static int loaded(bool *yes, const char *name, ctr_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = ctr_read_file(AT_FDCWD, AA_PROFILES, AA_MAX_PROFILES, &text, &len, err);
	if (r < 0)
		return ctr_err_prefix(err, r, "apparmor: read %s", AA_PROFILES);
	size_t n = strlen(name);
	*yes = false;
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, name, n) && l[n] == ' ')
			*yes = true;
	return 0;
}

/* The profile this process runs under: /proc/self/attr/current without
 * its " (mode)"; "unconfined" when it cannot be read. */
static void manager_profile(char *buf, size_t len)
{
	snprintf(buf, len, "unconfined");
	_cleanup_free_ char *text = NULL;
	size_t n = 0;
	if (ctr_read_file(AT_FDCWD, "/proc/self/attr/current", 4096, &text, &n, NULL) < 0)
		return;
	text[strcspn(text, " \n")] = 0;
	/* kept only when it is a name the profile text can hold */
	if (*text && !ctr_oci_apparmor_name_validate(text, NULL))
		snprintf(buf, len, "%s", text);
}

int ctr_oci_apparmor_enabled(char *why, size_t len)
{
	_cleanup_free_ char *v = NULL;
	size_t n = 0;
	if (ctr_read_file(AT_FDCWD, AA_ENABLED, 16, &v, &n, NULL) < 0) {
		snprintf(why, len, "the kernel has no AppArmor (%s is missing)", AA_ENABLED);
		return 0;
	}
	if (v[0] != 'Y') {
		snprintf(why, len, "AppArmor is disabled in the kernel (%s is not Y)", AA_ENABLED);
		return 0;
	}
	return 1;
}

int ctr_oci_apparmor_load_default(const char *name, ctr_error **err)
{
	int r = ctr_oci_apparmor_name_validate(name, err);
	if (r < 0)
		return r;
	char why[160];
	if (!ctr_oci_apparmor_enabled(why, sizeof(why)))
		return ctr_err(err, CTR_ENOTSUP, 0, "apparmor default profile %s: %s", name, why);
	bool yes = false;
	if ((r = loaded(&yes, name, err)) < 0)
		return r;
	if (yes)
		return 0;
	const char *ver_argv[] = {"apparmor_parser", "--version", NULL};
	_cleanup_free_ char *out = NULL, *eout = NULL;
	int status = 0;
	r = ctr_run_tool(ver_argv, NULL, &out, &eout, &status, err);
	if (r == CTR_EUNAVAILABLE)
		return ctr_err(err, CTR_ENOTSUP, 0, "apparmor default profile %s: apparmor_parser is not on PATH", name);
	if (r < 0)
		return r;
	struct ctr_aa_host h = {0};
	if ((r = ctr_oci_apparmor_parse_version(&h.version, out, err)) < 0)
		return r;
	struct stat st;
	h.tunables_global = stat(AA_DIR "/tunables/global", &st) == 0;
	h.abstractions_base = stat(AA_DIR "/abstractions/base", &st) == 0;
	char mgr[128];
	manager_profile(mgr, sizeof(mgr));
	h.manager_profile = mgr;
	_cleanup_free_ char *text = NULL;
	if ((r = ctr_oci_apparmor_profile(&text, name, &h, err)) < 0)
		return r;
	/* The parser reads the profile from a file of ours, unlinked after. */
	char path[] = "/tmp/libctr-apparmor-XXXXXX";
	_cleanup_close_ int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return ctr_err_errno(err, errno, "apparmor: temp file");
	size_t tl = strlen(text);
	if (write(fd, text, tl) != (ssize_t)tl) {
		int e = errno;
		unlink(path);
		return ctr_err_errno(err, e, "apparmor: write %s", path);
	}
	const char *load_argv[] = {"apparmor_parser", "-Kr", path, NULL};
	free(out);
	free(eout);
	out = eout = NULL;
	r = ctr_run_tool(load_argv, NULL, &out, &eout, &status, err);
	unlink(path);
	if (r < 0)
		return r;
	if (status != 0)
		return ctr_err(err, CTR_EIO, 0, "apparmor_parser -Kr (profile %s): exit %d: %.200s", name, status, eout);
	return 0;
}

static int apply_default_profile(void *target, void *ud, ctr_error **err)
{
	const char *name = ((struct ctr_oci_arg *)ud)->s[0];
	int r = ctr_oci_apparmor_load_default(name, err);
	return r < 0 ? r : ctr_oci_set_process_str(target, "apparmorProfile", name, err);
}

CTR_EXPORT ctr_opt *ctr_with_apparmor_default_profile(const char *name)
{
	return ctr_oci_opt_str("ctr_with_apparmor_default_profile", apply_default_profile, name);
}
