/* docker config.json parsing: the credentials for a few hosts, the way a
 * pull looks them up. */
#include "auth.h"
#include "fuzz.h"

static const char *const hosts[] = {"docker.io", "example.com", "localhost:5000", "[::1]:5000"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		char *user = NULL, *secret = NULL;
		ctr_error *err = NULL;
		if (ctr_auth_docker_config_parse((const char *)data, size, hosts[i], &user, &secret, &err) == 0) {
			if (!user || !secret)
				abort(); /* success always gives both */
			char *b = ctr_auth_basic(user, secret);
			free(b);
		}
		free(user);
		free(secret);
		ctr_error_free(err);
	}
	return 0;
}
