/* Schema migrations of meta.db. Step i takes the file from version i to
 * version i + 1 inside a write transaction that ctr_db_open holds; the
 * version number is PRAGMA user_version. Steps are only ever appended. */
#ifndef CTR_METADATA_SCHEMA_H
#define CTR_METADATA_SCHEMA_H

#include <stddef.h>

#include "db.h"

typedef int (*ctr_db_migration_fn)(struct ctr_db *db, ctr_error **err);

extern const ctr_db_migration_fn ctr_db_migrations[];
extern const size_t ctr_db_n_migrations;

#endif
