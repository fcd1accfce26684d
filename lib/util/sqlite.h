/* SQLite helpers shared by meta.db and the snapshotters' stores. */
#ifndef CTR_UTIL_SQLITE_H
#define CTR_UTIL_SQLITE_H

#include <sqlite3.h>

/* Switches db to WAL. Several processes opening a new file at once make
 * the switch fail with SQLITE_BUSY without the busy handler being called,
 * so this retries every 10 ms for up to timeout_ms. Returns SQLITE_OK, or
 * the last SQLite code (SQLITE_ERROR when the file stays in another mode;
 * *mode, when non-NULL, then gets sqlite's answer, static). */
int ctr_sqlite_wal(sqlite3 *db, int timeout_ms, const char **mode);

#endif
