/* hosts.toml parsing (and the TOML reader under it). */
#include "fuzz.h"
#include "hosts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctr_hosts h;
	ctr_error *err = NULL;
	if (ctr_hosts_parse((const char *)data, size, "/nonexistent/certs.d/example.com", "hosts.toml", &h,
			    &err) == 0)
		ctr_hosts_clear(&h);
	ctr_error_free(err);
	return 0;
}
