/* Reference parsing: ctr_ref_parse and the normalised forms it gives back,
 * which must parse again to the same reference. */
#include <stdio.h>

#include "fuzz.h"
#include "reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	if (!s)
		return 0;
	struct ctr_ref r;
	ctr_error *err = NULL;
	if (ctr_ref_parse(s, &r, &err) == 0) {
		char *full = ctr_ref_string(&r), *name = ctr_ref_name(&r);
		(void)ctr_ref_object(&r);
		struct ctr_ref again;
		if (full) {
			if (ctr_ref_parse(full, &again, NULL) != 0) {
				fprintf(stderr, "normalised reference %s of %s does not parse\n", full, s);
				abort();
			}
			char *full2 = ctr_ref_string(&again);
			if (full2 && strcmp(full, full2) != 0) {
				fprintf(stderr, "%s normalises to %s, then %s\n", s, full, full2);
				abort();
			}
			free(full2);
			ctr_ref_clear(&again);
		}
		free(full);
		free(name);
		ctr_ref_clear(&r);
	}
	ctr_error_free(err);
	free(s);
	return 0;
}
