/* Image handles of one namespace (lib/records/image-ns.c), for the image API,
 * pull, import, unpack and containers. */
#ifndef CTR_LIB_IMAGE_NS_H
#define CTR_LIB_IMAGE_NS_H

#include <ctr/image.h>
#include <stdbool.h>

#include "metadata.h"

struct ctr_image {
	ctr_client *c;
	char *ns;
	struct ctr_md_image md;
	/* The platforms the handle resolves its manifest for ("os/arch[/variant]",
	 * NULL-terminated): set by a pull for named platforms and by
	 * ctr_with_image_platform; NULL for the host's. */
	char **platforms;
};

/* ctr_image_get in namespace ns (not NULL). */
int ctr_images_get(ctr_image **out, ctr_client *c, const char *ns, const char *name, ctr_error **err);
/* Takes md's contents (cleared on return either way). */
int ctr_image_wrap(ctr_image **out, ctr_client *c, const char *ns, struct ctr_md_image *md, ctr_error **err);
/* Creates or (replace) overwrites a record whose target the namespace's
 * content holds; publishes /images/create or /images/update. out may be NULL. */
int ctr_image_put(ctr_image **out, ctr_client *c, const char *ns, const struct ctr_md_image *img, bool replace,
		  ctr_error **err);

#endif
