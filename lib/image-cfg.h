/* Internal: the target of CTR_OPT_IMAGE options (lib/image.c,
 * lib/image-info.c). Every image call that takes them fills this one
 * struct, and each option refuses the calls that are not its own. */
#ifndef CTR_LIB_IMAGE_CFG_H
#define CTR_LIB_IMAGE_CFG_H

#include <stdbool.h>
#include <stddef.h>

enum image_call { IMAGE_CALL_TAG = 0, IMAGE_CALL_GET, IMAGE_CALL_USAGE };

struct image_cfg {
	enum image_call call;
	bool force;
	char **platforms;
	size_t n_platforms;
	bool has_limit; /* ctr_with_usage_manifest_limit */
	size_t limit;
};

#endif
