#include "schema.h"

#include "macro.h"

/* Version 1: namespaces and what the collector needs first: leases, their
 * resources, and per-namespace ownership of content and ingests. Every
 * namespaced table refers to namespaces(name) without cascade, so a
 * namespace cannot disappear under its records. */
static int v1_core(struct ctr_db *db, ctr_error **err)
{
	return ctr_db_exec(db,
		"CREATE TABLE namespaces ("
		"  name TEXT PRIMARY KEY NOT NULL,"
		"  labels TEXT NOT NULL DEFAULT '{}',"
		"  created_at INTEGER NOT NULL);"
		"CREATE TABLE leases ("
		"  ns TEXT NOT NULL REFERENCES namespaces(name),"
		"  id TEXT NOT NULL,"
		"  labels TEXT NOT NULL DEFAULT '{}',"
		"  created_at INTEGER NOT NULL,"
		"  expires_at INTEGER,"
		"  PRIMARY KEY (ns, id));"
		"CREATE TABLE lease_resources ("
		"  ns TEXT NOT NULL,"
		"  lease TEXT NOT NULL,"
		"  type TEXT NOT NULL,"
		"  id TEXT NOT NULL,"
		"  PRIMARY KEY (ns, lease, type, id),"
		"  FOREIGN KEY (ns, lease) REFERENCES leases(ns, id) ON DELETE CASCADE);"
		"CREATE TABLE content ("
		"  ns TEXT NOT NULL REFERENCES namespaces(name),"
		"  digest TEXT NOT NULL,"
		"  size INTEGER NOT NULL,"
		"  labels TEXT NOT NULL DEFAULT '{}',"
		"  created_at INTEGER NOT NULL,"
		"  updated_at INTEGER NOT NULL,"
		"  PRIMARY KEY (ns, digest));"
		"CREATE INDEX content_by_digest ON content(digest);"
		"CREATE TABLE ingests ("
		"  ns TEXT NOT NULL REFERENCES namespaces(name),"
		"  ref TEXT NOT NULL,"
		"  expires_at INTEGER,"
		"  PRIMARY KEY (ns, ref));",
		err);
}

/* Version 2: the object records that images, containers and snapshotters
 * keep. Kept as its own step so the migration path is exercised from the
 * start. */
static int v2_objects(struct ctr_db *db, ctr_error **err)
{
	return ctr_db_exec(db,
		"CREATE TABLE images ("
		"  ns TEXT NOT NULL REFERENCES namespaces(name),"
		"  name TEXT NOT NULL,"
		"  target_media_type TEXT NOT NULL,"
		"  target_digest TEXT NOT NULL,"
		"  target_size INTEGER NOT NULL,"
		"  target_annotations TEXT NOT NULL DEFAULT '{}',"
		"  labels TEXT NOT NULL DEFAULT '{}',"
		"  created_at INTEGER NOT NULL,"
		"  updated_at INTEGER NOT NULL,"
		"  PRIMARY KEY (ns, name));"
		"CREATE TABLE containers ("
		"  ns TEXT NOT NULL REFERENCES namespaces(name),"
		"  id TEXT NOT NULL,"
		"  labels TEXT NOT NULL DEFAULT '{}',"
		"  image TEXT,"
		"  runtime_name TEXT,"
		"  runtime_options BLOB,"
		"  spec BLOB,"
		"  snapshotter TEXT,"
		"  snapshot_key TEXT,"
		"  extensions TEXT NOT NULL DEFAULT '{}',"
		"  created_at INTEGER NOT NULL,"
		"  updated_at INTEGER NOT NULL,"
		"  PRIMARY KEY (ns, id));"
		"CREATE TABLE snapshots ("
		"  ns TEXT NOT NULL REFERENCES namespaces(name),"
		"  snapshotter TEXT NOT NULL,"
		"  key TEXT NOT NULL,"
		"  parent TEXT,"
		"  kind TEXT NOT NULL,"
		"  labels TEXT NOT NULL DEFAULT '{}',"
		"  created_at INTEGER NOT NULL,"
		"  updated_at INTEGER NOT NULL,"
		"  PRIMARY KEY (ns, snapshotter, key));",
		err);
}

const ctr_db_migration_fn ctr_db_migrations[] = {
	v1_core,
	v2_objects,
};
const size_t ctr_db_n_migrations = CTR_ARRAY_SIZE(ctr_db_migrations);
