#include "ident.h"

#include <string.h>

#include "error.h"

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static const char *why_bad(const char *s)
{
	if (!s || !*s)
		return "empty";
	size_t n = strlen(s);
	if (n > CTR_IDENT_MAX)
		return "longer than 76 characters";
	bool prev_sep = true; /* a separator may not lead */
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (alnum(c)) {
			prev_sep = false;
		} else if (c == '.' || c == '_' || c == '-') {
			if (prev_sep)
				return i == 0 ? "must start with a letter or digit"
					      : "separators (._-) must stand between letters or digits";
			prev_sep = true;
		} else {
			return "only letters, digits and ._- are allowed";
		}
	}
	if (prev_sep)
		return "must end with a letter or digit";
	return NULL;
}

bool ctr_ident_ok(const char *s) { return why_bad(s) == NULL; }

int ctr_ident_validate(const char *s, const char *what, ctr_error **err)
{
	const char *why = why_bad(s);
	if (!why)
		return 0;
	return ctr_err(err, CTR_EINVAL, 0, "invalid %s \"%.80s%s\": %s", what, s ? s : "",
		       s && strlen(s) > 80 ? "..." : "", why);
}
