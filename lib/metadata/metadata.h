/* Internal API of the metadata layer: namespaced records in meta.db.
 *
 * Functions named *_tx run inside a transaction the caller holds (see
 * ctr_db_tx in db.h) so a caller can group several of them with its own
 * work; the others open and commit their own transaction. Namespaces and
 * identifiers are validated by the caller (the public API) unless a
 * function says otherwise; digests and lease resources are validated here
 * because later layers call in with values from manifests. */
#ifndef CTR_METADATA_METADATA_H
#define CTR_METADATA_METADATA_H

#include <ctr/common.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "opts.h"

/* containerd's label keys, so knowledge carries over. */
#define CTR_LABEL_GC_ROOT "containerd.io/gc.root"
#define CTR_LABEL_GC_REF_CONTENT "containerd.io/gc.ref.content"
#define CTR_LABEL_GC_REF_SNAPSHOT "containerd.io/gc.ref.snapshot."
#define CTR_LABEL_GC_EXPIRE "containerd.io/gc.expire"
#define CTR_LABEL_GC_FLAT "containerd.io/gc.flat"

/* Bounds on ingest refs (as the blob store's) and snapshot keys. */
#define CTR_MD_INGEST_REF_MAX 65536
#define CTR_MD_SNAPSHOT_KEY_MAX 4096

/* containerd's bound on one label: key and value together. */
#define CTR_LABEL_MAX 4096

/* ---- labels (labels.c) ----
 * Labels cross the API as NULL-terminated "key=value" arrays and are stored
 * as a JSON object of strings. */

/* Every entry is "key=value" with a non-empty key and key+value at most
 * CTR_LABEL_MAX bytes. CTR_EINVAL otherwise. */
int ctr_md_labels_validate(const char *const *labels, ctr_error **err);
/* labels (may be NULL) -> JSON text; caller frees. */
int ctr_md_labels_to_json(char **out, const char *const *labels, ctr_error **err);
/* Applies updates to stored JSON text: "k=v" sets, "k=" removes. With
 * replace, the result holds only the non-empty updates. */
int ctr_md_labels_merge(char **out, const char *json, const char *const *updates, bool replace,
			ctr_error **err);
/* JSON text (NULL: none) -> sorted "key=value" array; free with ctr_strv_free. */
int ctr_md_labels_from_json(char ***out, const char *json, ctr_error **err);
/* JSON text -> object (an empty object when json is NULL or not an object). */
json_t *ctr_md_labels_load(const char *json);

/* A field lookup for the filter engine over {name-ish fields, labels}. */
struct ctr_md_filter_obj {
	const char *const *keys; /* top-level field names, NULL-terminated */
	const char *const *vals; /* their values (NULL: absent) */
	json_t *labels;          /* borrowed */
};
const char *ctr_md_filter_field(void *obj, const char *const *path, size_t n_path);
/* Parses filters into *out (NULL when n == 0, meaning match all). */
struct ctr_filter;
int ctr_md_filter_parse(struct ctr_filter **out, const char *const *filters, size_t n,
			ctr_error **err);
bool ctr_md_filter_match(const struct ctr_filter *f, struct ctr_md_filter_obj *o);
void ctr_md_filter_free(struct ctr_filter *f);

/* ---- namespaces (namespaces.c) ---- */

/* Creates ns when missing (writes create namespaces implicitly, as in
 * containerd). Inside the caller's write transaction. */
int ctr_md_ns_ensure_tx(struct ctr_db *db, const char *ns, ctr_error **err);
/* CTR_EEXISTS when present. */
int ctr_md_ns_create(struct ctr_db *db, const char *ns, const char *const *labels, ctr_error **err);
int ctr_md_ns_list(char ***out, struct ctr_db *db, const char *const *filters, size_t n_filters,
		   ctr_error **err);
/* CTR_ENOTFOUND when missing. */
int ctr_md_ns_labels(char ***out, struct ctr_db *db, const char *ns, ctr_error **err);
/* The value of label key of ns (containerd's GetLabel): *value NULL when
 * the namespace or the label is missing or empty. Caller frees. */
int ctr_md_ns_label(char **value, struct ctr_db *db, const char *ns, const char *key, ctr_error **err);
/* Creates the namespace when missing (containerd's SetLabel does). */
int ctr_md_ns_set_labels(struct ctr_db *db, const char *ns, const char *const *updates,
			 ctr_error **err);
/* CTR_ENOTFOUND, or CTR_EPRECONDITION naming what is left in it. */
int ctr_md_ns_delete(struct ctr_db *db, const char *ns, ctr_error **err);

/* ---- leases (leases.c) ---- */

struct ctr_lease {
	char *ns;
	char *id;
	char **labels; /* sorted "key=value" */
	int64_t created_at;
	int64_t expires_at; /* 0: never */
};
void ctr_md_lease_clear(struct ctr_lease *l);

/* Resource types: "content" (id a digest), "ingests" (id an ingest ref),
 * "snapshots/<snapshotter>" (id a snapshot key). CTR_EINVAL otherwise. */
int ctr_md_resource_validate(const char *type, const char *id, ctr_error **err);

/* RFC 3339 <-> unix nanoseconds. */
int ctr_md_time_parse(const char *s, int64_t *out);
/* "2006-01-02T15:04:05Z" (UTC, no fraction); buf at least 32 bytes. */
void ctr_md_time_format(int64_t ns, char *buf, size_t len);

/* Creates a lease. id NULL: a random one. expires_at 0: none, unless the
 * labels carry containerd.io/gc.expire (the earlier of the two wins).
 * CTR_EEXISTS, CTR_EINVAL (bad label, bad gc.expire time). */
int ctr_md_lease_create(struct ctr_lease *out, struct ctr_db *db, const char *ns, const char *id,
			const char *const *labels, int64_t expires_at, ctr_error **err);
int ctr_md_lease_get(struct ctr_lease *out, struct ctr_db *db, const char *ns, const char *id,
		     ctr_error **err);
int ctr_md_lease_list(struct ctr_lease **out, size_t *n, struct ctr_db *db, const char *ns,
		      const char *const *filters, size_t n_filters, ctr_error **err);
void ctr_md_lease_list_free(struct ctr_lease *v, size_t n);
/* CTR_ENOTFOUND when missing. Its resources are released (not deleted: the
 * collector decides). */
int ctr_md_lease_delete(struct ctr_db *db, const char *ns, const char *id, ctr_error **err);
/* Adding twice is fine. CTR_ENOTFOUND when the lease is missing or expired. */
int ctr_md_lease_add_resource_tx(struct ctr_db *db, const char *ns, const char *lease,
				 const char *type, const char *id, ctr_error **err);
int ctr_md_lease_add_resource(struct ctr_db *db, const char *ns, const char *lease,
			      const char *type, const char *id, ctr_error **err);
/* CTR_ENOTFOUND when the lease or the resource is missing. */
int ctr_md_lease_delete_resource(struct ctr_db *db, const char *ns, const char *lease,
				 const char *type, const char *id, ctr_error **err);
/* Parallel arrays, sorted by type then id. */
int ctr_md_lease_resources(char ***types, char ***ids, struct ctr_db *db, const char *ns,
			   const char *lease, ctr_error **err);
/* For every creating call: adds (type, id) to call->lease when the call has
 * one (ctr_with_lease), inside the caller's write transaction. No-op
 * without a lease; CTR_ENOTFOUND when the lease is missing or expired. */
int ctr_md_call_lease_tx(struct ctr_db *db, const char *ns, const struct ctr_call *call,
			 const char *type, const char *id, ctr_error **err);

/* ---- content ownership (content.c) ----
 * A namespace sees a blob only while it holds a record of it; the bytes
 * are shared by all namespaces. */

struct ctr_md_content {
	char *digest;
	uint64_t size;
	char **labels; /* sorted "key=value" */
	int64_t created_at;
	int64_t updated_at;
};
void ctr_md_content_clear(struct ctr_md_content *c);
void ctr_md_content_list_free(struct ctr_md_content *v, size_t n);

/* Records digest in ns (creating ns) and adds it to the call's lease.
 * *created (may be NULL) is false when the record already existed; its
 * labels are then left alone. CTR_EINVAL on a bad digest or label,
 * CTR_ENOTFOUND when the call's lease is missing. */
int ctr_md_content_add_tx(struct ctr_db *db, const char *ns, const char *digest, uint64_t size,
			  const char *const *labels, const struct ctr_call *call, bool *created,
			  ctr_error **err);
int ctr_md_content_add(struct ctr_db *db, const char *ns, const char *digest, uint64_t size,
		       const char *const *labels, const struct ctr_call *call, bool *created,
		       ctr_error **err);
/* CTR_ENOTFOUND when ns has no record of digest. */
int ctr_md_content_get(struct ctr_md_content *out, struct ctr_db *db, const char *ns,
		       const char *digest, ctr_error **err);
/* Label updates as in ctr_md_labels_merge; out (may be NULL) gets the new
 * record. CTR_ENOTFOUND. */
int ctr_md_content_update_labels(struct ctr_md_content *out, struct ctr_db *db, const char *ns,
				 const char *digest, const char *const *updates, bool replace,
				 ctr_error **err);
/* Drops ns's record; the blob stays until the collector finds nobody holds
 * it. CTR_ENOTFOUND. */
int ctr_md_content_delete(struct ctr_db *db, const char *ns, const char *digest, ctr_error **err);
/* Fields for filters: digest, size, labels.<key>. Sorted by digest. */
int ctr_md_content_list(struct ctr_md_content **out, size_t *n, struct ctr_db *db, const char *ns,
			const char *const *filters, size_t n_filters, ctr_error **err);
/* True when any namespace records digest. */
int ctr_md_content_referenced(struct ctr_db *db, const char *digest, bool *out, ctr_error **err);

/* ---- snapshot and ingest records (records.c) ---- */

/* kind: "active", "view" or "committed". parent may be NULL. */
int ctr_md_snapshot_put_tx(struct ctr_db *db, const char *ns, const char *snapshotter,
			   const char *key, const char *parent, const char *kind,
			   const char *const *labels, const struct ctr_call *call, ctr_error **err);
int ctr_md_snapshot_put(struct ctr_db *db, const char *ns, const char *snapshotter, const char *key,
			const char *parent, const char *kind, const char *const *labels,
			const struct ctr_call *call, ctr_error **err);
/* expires_at 0: none. */
int ctr_md_ingest_put(struct ctr_db *db, const char *ns, const char *ref, int64_t expires_at,
		      const struct ctr_call *call, ctr_error **err);
/* Drops the ingest's record and every lease's hold on it, as containerd
 * does once the ingest is committed or aborted. 0 also when there is none. */
int ctr_md_ingest_delete(struct ctr_db *db, const char *ns, const char *ref, ctr_error **err);

/* ---- filtered lists (list.c) ---- */

/* How one kind of record is listed: its size, how a row becomes one, how
 * it is cleared, the filter field names and how to read their values
 * (vals has room for 7), and which column holds the labels. fill and
 * clear take a pointer to one record. */
struct ctr_md_lister {
	size_t size;
	int (*fill)(sqlite3_stmt *st, void *rec, ctr_error **err);
	void (*clear)(void *rec);
	const char *const *keys;
	/* scratch (64 bytes) holds fields that are computed, such as sizes */
	void (*fields)(const void *rec, const char **vals, char *scratch);
	int labels_col;
	const char *what;
};
/* Runs sql (binding ns to ?1 and arg2, when given, to ?2) in a read
 * transaction; *out gets the records the filters keep (an array of
 * l->size elements, free each with l->clear and the array with free). */
int ctr_md_list(struct ctr_md_lister *l, struct ctr_db *db, const char *sql, const char *ns,
		const char *arg2, const char *const *filters, size_t n_filters, void **out, size_t *n_out,
		ctr_error **err);

/* ---- container records (containers.c) ---- */

struct ctr_md_container {
	char *id;
	char *image;        /* may be NULL */
	char *runtime;      /* "io.containerd.runc.v2" or a runtime binary path */
	char *spec;         /* OCI runtime spec, JSON text */
	char *snapshotter;  /* may be NULL (no rootfs snapshot) */
	char *snapshot_key; /* may be NULL */
	char *extensions;   /* JSON object text */
	char **labels;
	int64_t created_at, updated_at;
};
void ctr_md_container_clear(struct ctr_md_container *c);
void ctr_md_container_list_free(struct ctr_md_container *v, size_t n);
int ctr_md_container_get_tx(struct ctr_md_container *out, struct ctr_db *db, const char *ns, const char *id,
			    ctr_error **err);
int ctr_md_container_get(struct ctr_md_container *out, struct ctr_db *db, const char *ns, const char *id,
			 ctr_error **err);
/* Filter fields: id, image, runtime, snapshotter, labels.<key>. */
int ctr_md_container_list(struct ctr_md_container **out, size_t *n, struct ctr_db *db, const char *ns,
			  const char *const *filters, size_t n_filters, ctr_error **err);
/* create: CTR_EEXISTS when present; update: CTR_ENOTFOUND when missing.
 * CTR_EINVAL for a bad id, missing runtime or spec. */
int ctr_md_container_write_tx(struct ctr_db *db, const char *ns, const struct ctr_md_container *c, bool create,
			      ctr_error **err);

/* ---- image records (images.c) ---- */

struct ctr_md_image {
	char *name;
	char *media_type; /* target */
	char *digest;     /* target */
	uint64_t size;    /* target */
	char **labels;
	int64_t created_at, updated_at;
};
void ctr_md_image_clear(struct ctr_md_image *i);
void ctr_md_image_list_free(struct ctr_md_image *v, size_t n);
/* Image names are references or any name without spaces or control
 * characters, at most 4096 bytes. CTR_EINVAL. */
int ctr_md_image_name_validate(const char *name, ctr_error **err);
int ctr_md_image_get_tx(struct ctr_md_image *out, struct ctr_db *db, const char *ns, const char *name,
			ctr_error **err);
int ctr_md_image_get(struct ctr_md_image *out, struct ctr_db *db, const char *ns, const char *name,
		     ctr_error **err);
/* Filter fields: name, labels.<key>. Sorted by name. */
int ctr_md_image_list(struct ctr_md_image **out, size_t *n, struct ctr_db *db, const char *ns,
		      const char *const *filters, size_t n_filters, ctr_error **err);
/* CTR_EEXISTS unless replace. Creates the namespace. */
int ctr_md_image_create_tx(struct ctr_db *db, const char *ns, const struct ctr_md_image *img, bool replace,
			   ctr_error **err);
/* The INSERT (or, for an existing name, UPDATE) of an image record, without
 * the checks of create; `what` names the step in errors. */
int ctr_md_image_upsert_tx(struct ctr_db *db, const char *ns, const struct ctr_md_image *img, const char *what,
			   ctr_error **err);
int ctr_md_image_update_labels_tx(struct ctr_db *db, const char *ns, const char *name,
				  const char *const *updates, ctr_error **err);
/* CTR_ENOTFOUND. */
int ctr_md_image_delete_tx(struct ctr_db *db, const char *ns, const char *name, ctr_error **err);

/* ---- snapshot records (snapshots.c) ---- */

struct ctr_md_snapshot {
	char *key;
	char *parent; /* NULL: none */
	char *kind;   /* "active", "view" or "committed" */
	char **labels;
	int64_t created_at, updated_at;
};
void ctr_md_snapshot_clear(struct ctr_md_snapshot *s);
void ctr_md_snapshot_list_free(struct ctr_md_snapshot *v, size_t n);
/* CTR_ENOTFOUND. out may be NULL (existence check). */
int ctr_md_snapshot_get_tx(struct ctr_md_snapshot *out, struct ctr_db *db, const char *ns,
			   const char *snapshotter, const char *key, ctr_error **err);
int ctr_md_snapshot_get(struct ctr_md_snapshot *out, struct ctr_db *db, const char *ns,
			const char *snapshotter, const char *key, ctr_error **err);
/* Filter fields: name (the key), parent, kind, labels.<key>. By key. */
int ctr_md_snapshot_list(struct ctr_md_snapshot **out, size_t *n, struct ctr_db *db,
			 const char *ns, const char *snapshotter, const char *const *filters,
			 size_t n_filters, ctr_error **err);
/* CTR_ENOTFOUND, CTR_EPRECONDITION when a snapshot of the namespace has it
 * as parent. Drops lease references to it. */
int ctr_md_snapshot_delete_tx(struct ctr_db *db, const char *ns, const char *snapshotter,
			      const char *key, ctr_error **err);
int ctr_md_snapshot_update_labels_tx(struct ctr_db *db, const char *ns, const char *snapshotter,
				     const char *key, const char *const *updates, ctr_error **err);
/* Frees a snapshot that only the leases[n] hold (the temporary leases of
 * a creator that died before it wrote the record that would have owned
 * it), in one write transaction: when each of those leases still exists
 * and nothing else holds the key (no other lease, no container record, no
 * child, no gc.root label, not committed), deletes the leases and the
 * snapshot record, if there is one (*had_record). CTR_EPRECONDITION naming
 * what still holds it; then nothing changes. */
int ctr_md_snapshot_reclaim(bool *had_record, struct ctr_db *db, const char *ns, const char *snapshotter,
			    const char *key, const char *const *leases, size_t n, ctr_error **err);

/* ---- garbage collection (gc.c) ---- */

/* Removes what the metadata no longer holds from the stores below. Called
 * after the collector's transaction has committed. Either callback may be
 * NULL. A non-zero return other than CTR_ENOTFOUND is reported. */
struct ctr_gc_sweeper {
	/* Only for blobs that no namespace records any more. */
	int (*remove_blob)(void *ud, const char *digest, ctr_error **err);
	/* For every snapshot record removed, children before parents. */
	int (*remove_snapshot)(void *ud, const char *ns, const char *snapshotter, const char *key,
			       ctr_error **err);
	/* For ingest refs no namespace records any more. CTR_EBUSY (a writer
	 * still holds it) is ignored. */
	int (*remove_ingest)(void *ud, const char *ref, ctr_error **err);
	/* Lists every blob on disk, so blobs whose last record went by other
	 * means (a content delete, a crash between rename and record) are
	 * found too. The caller must keep new blobs from appearing without a
	 * record meanwhile (the store's GC lock). */
	int (*walk_blobs)(void *ud, int (*fn)(const char *digest, void *fn_ud), void *fn_ud,
			  ctr_error **err);
	void *ud;
};

/* Mark and sweep over every namespace in one write transaction (see gc.c
 * for roots and references). *removed gets what was removed, one entry
 * each:
 *   "lease <ns>/<id>"                    an expired lease
 *   "content <ns>/<digest>"              a namespace's content record
 *   "ingest <ns>/<ref>"                  an ingest record
 *   "snapshot <ns>/<snapshotter>/<key>"  a snapshot record
 *   "blob <digest>"                      bytes the sweeper removed (a blob
 *                                        no namespace records)
 * Sweeper errors do not undo the metadata: the first is returned after all
 * were tried, and *removed is not written. */
int ctr_md_gc(char ***removed, struct ctr_db *db, const struct ctr_gc_sweeper *sweeper,
	      ctr_error **err);

#endif
