/* daemon/common/db.h — SQLite helpers shared by the daemons: open in WAL mode with
 * synchronous=FULL (a commit is on disk when it returns: the hub tells clients a key or
 * signature exists only after that), foreign keys on, and a busy timeout so an admin
 * command can write while the daemon runs. */
#ifndef MPCD_DB_H
#define MPCD_DB_H

#include <sqlite3.h>

/* Opens (creating if needed, mode 0600) the database at path. Returns 0 or -1 with a
 * logged reason naming the file. */
int mpcd_db_open(const char *path, sqlite3 **out);

/* Runs one or more statements without results. Returns 0 or -1 (logged). */
int mpcd_db_exec(sqlite3 *db, const char *sql);

/* Prepares sql; returns NULL (logged) on failure. */
sqlite3_stmt *mpcd_db_prepare(sqlite3 *db, const char *sql);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. mpcd_db_commit rolls back when COMMIT fails, so
 * the connection is never left inside a transaction. */
int mpcd_db_begin(sqlite3 *db);
int mpcd_db_commit(sqlite3 *db);
void mpcd_db_rollback(sqlite3 *db);

#endif
