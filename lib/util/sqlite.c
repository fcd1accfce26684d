#include "sqlite.h"

#include <string.h>
#include <unistd.h>

int ctr_sqlite_wal(sqlite3 *db, int timeout_ms, const char **mode)
{
	int rc = SQLITE_BUSY;
	for (int waited = 0;; waited += 10) {
		sqlite3_stmt *st = NULL;
		rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const char *m = (const char *)sqlite3_column_text(st, 0);
			rc = m && !strcmp(m, "wal") ? SQLITE_OK : SQLITE_ERROR;
			if (rc != SQLITE_OK && mode)
				*mode = m && !strcmp(m, "delete") ? "delete" : "other";
		}
		sqlite3_finalize(st);
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			return rc;
		if (waited >= timeout_ms)
			return rc;
		usleep(10000);
	}
}
