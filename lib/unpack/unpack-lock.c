/* The per-chain lock every unpacker takes. Apart from unpack-parallel.c so
 * that the streaming unpacker, which unpack-parallel.c builds on, can take
 * it without needing it. */
#include <fcntl.h>
#include <stdio.h>

#include "client.h"
#include "digest.h"
#include "error.h"
#include "fs.h"
#include "unpack.h"

static int chain_lock(ctr_client *c, const char *ns, const char *sn, const char *chain, int timeout_ms,
		      ctr_error **err)
{
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s/snapshots/%s/locks", c->root, sn);
	int r = ctr_mkdir_p(dir, 0700, err);
	if (r < 0)
		return r;
	char name[4400], hash[CTR_DIGEST_MAX], buf[600];
	int n = snprintf(buf, sizeof(buf), "%s/%s", ns, chain);
	if ((r = ctr_digest_buf(CTR_DIGEST_SHA256, buf, (size_t)n, hash, err)) < 0)
		return r;
	snprintf(name, sizeof(name), "%s/%s", dir, hash + 7);
	return ctr_lock_path(AT_FDCWD, name, true, timeout_ms, err);
}

int ctr_unpack_chain_lock(ctr_client *c, const char *ns, const char *sn, const char *chain, ctr_error **err)
{
	return chain_lock(c, ns, sn, chain, -1, err);
}

int ctr_unpack_chain_trylock(ctr_client *c, const char *ns, const char *sn, const char *chain, ctr_error **err)
{
	return chain_lock(c, ns, sn, chain, 0, err);
}
