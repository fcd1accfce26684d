/* SQLite result codes as CTR_E* errors, and running a statement. Apart from
 * db.c so that the schema migrations, which db.c runs when it opens a
 * database, build on them without needing db.c. */
#include "db.h"

#include <errno.h>

#include "error.h"

int ctr_db_err(struct ctr_db *db, int rc, ctr_error **err, const char *what)
{
	int code;
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = CTR_EBUSY;
		break;
	case SQLITE_NOMEM:
		return ctr_err_nomem(err);
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
			code = CTR_EEXISTS;
		else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			code = CTR_EPRECONDITION;
		else
			code = CTR_EINVAL;
		break;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		code = CTR_EPERM;
		break;
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
	case SQLITE_MISMATCH:
		code = CTR_EINVAL;
		break;
	default:
		code = CTR_EIO;
	}
	const char *msg = db && db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc);
	return ctr_err(err, code, 0, "metadata %s: %s", what, msg);
}

int ctr_db_exec(struct ctr_db *db, const char *sql, ctr_error **err)
{
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return ctr_db_err(db, rc, err, "exec");
	return 0;
}
