/* daemon/common/db.c — opening SQLite the one way the project uses it. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "log.h"

static int journal_mode_cb(void *arg, int ncols, char **values, char **names)
{
    (void)names;
    if (ncols >= 1 && values[0] != NULL)
        snprintf(arg, 16, "%s", values[0]);
    return 0;
}

int mpcd_db_open(const char *path, sqlite3 **out)
{
    *out = NULL;
    /* Create the file ourselves so it is 0600 from the first byte (SQLite uses 0644). */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_err("cannot open database %s: %m; check the directory exists and is writable", path);
        return -1;
    }
    close(fd);
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        log_err("cannot open database %s: %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 5000);
    /* PRAGMA journal_mode answers with the mode in force: a filesystem without WAL support
     * silently keeps a rollback journal, which the durability guarantees do not assume. */
    char mode[16] = "";
    if (sqlite3_exec(db, "PRAGMA journal_mode=WAL", journal_mode_cb, mode, NULL) != SQLITE_OK ||
        strcmp(mode, "wal") != 0) {
        log_err("database %s: cannot use WAL journaling (got '%s'); put it on a local "
                "filesystem that supports shared memory",
                path, mode);
        sqlite3_close(db);
        return -1;
    }
    if (mpcd_db_exec(db, "PRAGMA synchronous=FULL;"
                         "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;") != 0) {
        sqlite3_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

int mpcd_db_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        log_err("database: %s", err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

sqlite3_stmt *mpcd_db_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_err("database: cannot prepare statement: %s", sqlite3_errmsg(db));
        return NULL;
    }
    return st;
}

int mpcd_db_begin(sqlite3 *db)
{
    return mpcd_db_exec(db, "BEGIN IMMEDIATE");
}

int mpcd_db_commit(sqlite3 *db)
{
    /* A failed COMMIT (disk full, I/O error, busy) can leave the transaction open, and then
     * every later BEGIN fails: roll back here so no caller can leave the connection stuck. */
    if (mpcd_db_exec(db, "COMMIT") != 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

void mpcd_db_rollback(sqlite3 *db)
{
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}
