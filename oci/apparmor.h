/* AppArmor's default container profile (oci/apparmor.c). */
#ifndef CTR_OCI_APPARMOR_H
#define CTR_OCI_APPARMOR_H

#include <stdbool.h>
#include <stddef.h>

#include <ctr/common.h>

/* What the profile's text depends on, read from the host. */
struct ctr_aa_host {
	int version;                 /* apparmor_parser's: 2.13.3 is 213003 */
	bool tunables_global;        /* /etc/apparmor.d/tunables/global exists */
	bool abstractions_base;      /* /etc/apparmor.d/abstractions/base exists */
	const char *manager_profile; /* the profile this process runs under; NULL: unconfined */
};

/* CTR_EINVAL unless name is an identifier (letters, digits, "._-"). */
int ctr_oci_apparmor_name_validate(const char *name, ctr_error **err);
/* apparmor_parser --version's text to a number as in struct ctr_aa_host.
 * CTR_EINVAL when it names no version. */
int ctr_oci_apparmor_parse_version(int *out, const char *text, ctr_error **err);
/* The default profile's text for name on host h. Free *out with free. */
int ctr_oci_apparmor_profile(char **out, const char *name, const struct ctr_aa_host *h, ctr_error **err);
/* 1 when the kernel has AppArmor enabled; else 0 and why says so. */
int ctr_oci_apparmor_enabled(char *why, size_t len);
/* Loads the default profile as name unless a profile of that name is
 * loaded. CTR_ENOTSUP when AppArmor is off or apparmor_parser is missing,
 * CTR_EIO when the parser refuses it. */
int ctr_oci_apparmor_load_default(const char *name, ctr_error **err);

#endif
