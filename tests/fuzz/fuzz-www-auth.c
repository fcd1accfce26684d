/* WWW-Authenticate parsing (RFC 7235 challenges), and the token response
 * parser the same exchange feeds. */
#include "auth.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	if (!s)
		return 0;
	struct ctr_auth_challenge *c = NULL;
	size_t n = 0;
	ctr_error *err = NULL;
	if (ctr_auth_parse_challenges(s, &c, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			(void)ctr_auth_param_get(&c[i], "realm");
			(void)ctr_auth_param_get(&c[i], "service");
		}
		ctr_auth_challenges_free(c, n);
	}
	ctr_error_free(err);
	err = NULL;
	struct ctr_auth_token t;
	if (ctr_auth_parse_token((const char *)data, size, &t, &err) == 0)
		ctr_auth_token_clear(&t);
	ctr_error_free(err);
	free(s);
	return 0;
}
