/* Platform parsing and matching: a specifier (the input's first line), and
 * a descriptor's platform object (the rest, JSON), ranked by every kind of
 * matcher. */
#include <jansson.h>
#include <stdio.h>

#include "fuzz.h"
#include "platforms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec, *json;
	if (fuzz_split(data, size, '\n', &spec, &json) < 0)
		return 0;
	struct ctr_platform p, q;
	ctr_error *err = NULL;
	int have_p = ctr_platform_parse(spec, &p, &err) == 0;
	ctr_error_free(err);
	err = NULL;
	if (have_p) {
		char buf[128];
		if (ctr_platform_format(&p, buf, sizeof(buf))) {
			struct ctr_platform p2;
			if (ctr_platform_parse(buf, &p2, NULL) != 0) {
				fprintf(stderr, "formatted platform %s of %s does not parse\n", buf, spec);
				abort();
			}
		}
	}
	json_t *obj = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
	int have_q = obj && ctr_platform_from_json(obj, &q, &err) == 0;
	ctr_error_free(err);
	json_decref(obj);
	if (have_p && have_q) {
		struct ctr_platform_matcher m;
		ctr_platform_matcher_only(&m, &p);
		(void)ctr_platform_rank(&m, &q);
		if (!ctr_platform_match(&m, &p)) {
			fprintf(stderr, "Only(%s) does not match itself\n", spec);
			abort();
		}
		(void)ctr_platform_match(&m, &q);
		ctr_platform_matcher_strict(&m, &p);
		(void)ctr_platform_match(&m, &q);
		struct ctr_platform both[2] = {p, q};
		ctr_platform_matcher_ordered(&m, both, 2);
		(void)ctr_platform_rank(&m, &q);
		ctr_platform_matcher_default(&m);
		(void)ctr_platform_rank(&m, &q);
		(void)ctr_platform_equal(&p, &q);
	}
	free(spec);
	free(json);
	return 0;
}
