/* daemon/signerd/store.c — the signer's SQLite database (see store.h): schema and its
 * versions, transactions with one error path, and the hash-chained audit log.
 * Every write runs in one BEGIN IMMEDIATE ... COMMIT under the store's mutex, so a
 * failure anywhere rolls back everything the call did. */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "api/hex.h"
#include "daemon/common/db.h"
#include "daemon/common/log.h"
#include "policy.h"
#include "store.h"
#include "timing.h"
#include "tss/secmem.h"

struct signer_store {
    pthread_mutex_t mu;
    sqlite3 *db;
    char *path;
};

#define SCHEMA_VERSION 4

/* Version 1. Beyond the columns the design names: shares.session (the keygen session, for
 * the operator), and triggers that make the database itself refuse what the daemon must
 * never do: rewrite or delete the audit log, forget a used sid, delete or change an
 * active share. */
static const char schema_v1[] =
    "CREATE TABLE shares(key_id TEXT PRIMARY KEY CHECK(length(key_id) = 32),"
    "  status TEXT NOT NULL CHECK(status IN ('pending', 'active')),"
    "  t INTEGER NOT NULL, n INTEGER NOT NULL, idx INTEGER NOT NULL,"
    "  public_key BLOB NOT NULL CHECK(length(public_key) = 33),"
    "  chain_code BLOB NOT NULL CHECK(length(chain_code) = 32),"
    "  fingerprint BLOB NOT NULL CHECK(length(fingerprint) = 32),"
    "  blob BLOB NOT NULL, identities TEXT NOT NULL, session TEXT,"
    "  created INTEGER NOT NULL, activated INTEGER);"
    "CREATE TRIGGER shares_keep_active BEFORE DELETE ON shares WHEN OLD.status = 'active'"
    "  BEGIN SELECT RAISE(ABORT, 'active shares are never deleted'); END;"
    "CREATE TRIGGER shares_active_frozen BEFORE UPDATE ON shares WHEN OLD.status = 'active'"
    "  BEGIN SELECT RAISE(ABORT, 'active shares are never changed'); END;"
    "CREATE TABLE used_sids(sid BLOB PRIMARY KEY CHECK(length(sid) = 32),"
    "  kind TEXT NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TRIGGER used_sids_no_update BEFORE UPDATE ON used_sids"
    "  BEGIN SELECT RAISE(ABORT, 'used session ids are never changed'); END;"
    "CREATE TRIGGER used_sids_no_delete BEFORE DELETE ON used_sids"
    "  BEGIN SELECT RAISE(ABORT, 'used session ids are never forgotten'); END;"
    "CREATE TABLE bans(fp BLOB PRIMARY KEY CHECK(length(fp) = 32), party_id TEXT NOT NULL,"
    "  reason TEXT NOT NULL, session TEXT, created INTEGER NOT NULL);"
    "CREATE TABLE audit(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL,"
    "  key_id TEXT, session TEXT, request_digest TEXT, peers TEXT, outcome TEXT,"
    "  prev BLOB NOT NULL, hash BLOB NOT NULL);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;";

/* Version 2 (issue 17: refresh and reshare): shares are keyed by (key id, epoch), with at
 * most one active and one pending epoch per key and a third status, 'retired' (an old
 * epoch replaced by an activated newer one: never used to sign, deleted on the hub's
 * RETIRE). Existing rows become epoch 0 (the DKG's epoch, tss/keyshare.h) in their order.
 * "imported" marks a key that came from an import or a migration (metadata only).
 * The triggers keep v1's rules: an active share is never deleted or changed, except the
 * one move active -> retired; a retired share is never changed (only deleted). */
static const char schema_v2[] =
    "DROP TRIGGER shares_keep_active;"
    "DROP TRIGGER shares_active_frozen;"
    "CREATE TABLE shares_v2(key_id TEXT NOT NULL CHECK(length(key_id) = 32),"
    "  epoch INTEGER NOT NULL CHECK(epoch BETWEEN 0 AND 4294967295),"
    "  status TEXT NOT NULL CHECK(status IN ('pending', 'active', 'retired')),"
    "  t INTEGER NOT NULL, n INTEGER NOT NULL, idx INTEGER NOT NULL,"
    "  public_key BLOB NOT NULL CHECK(length(public_key) = 33),"
    "  chain_code BLOB NOT NULL CHECK(length(chain_code) = 32),"
    "  fingerprint BLOB NOT NULL CHECK(length(fingerprint) = 32),"
    "  blob BLOB NOT NULL, identities TEXT NOT NULL, session TEXT,"
    "  created INTEGER NOT NULL, activated INTEGER,"
    "  imported INTEGER NOT NULL DEFAULT 0 CHECK(imported IN (0, 1)), retired INTEGER,"
    "  PRIMARY KEY(key_id, epoch));"
    "INSERT INTO shares_v2(key_id, epoch, status, t, n, idx, public_key, chain_code,"
    "  fingerprint, blob, identities, session, created, activated)"
    "  SELECT key_id, 0, status, t, n, idx, public_key, chain_code, fingerprint, blob,"
    "  identities, session, created, activated FROM shares ORDER BY rowid;"
    "DROP TABLE shares;"
    "ALTER TABLE shares_v2 RENAME TO shares;"
    "CREATE UNIQUE INDEX shares_one_active ON shares(key_id) WHERE status = 'active';"
    "CREATE UNIQUE INDEX shares_one_pending ON shares(key_id) WHERE status = 'pending';"
    "CREATE TRIGGER shares_keep_active BEFORE DELETE ON shares WHEN OLD.status = 'active'"
    "  BEGIN SELECT RAISE(ABORT, 'active shares are never deleted'); END;"
    "CREATE TRIGGER shares_active_frozen BEFORE UPDATE OF key_id, epoch, t, n, idx, public_key,"
    "  chain_code, fingerprint, blob, identities, session, created, activated, imported"
    "  ON shares WHEN OLD.status = 'active'"
    "  BEGIN SELECT RAISE(ABORT, 'active shares are never changed'); END;"
    "CREATE TRIGGER shares_active_retires BEFORE UPDATE OF status ON shares"
    "  WHEN OLD.status = 'active' AND NEW.status <> 'retired'"
    "  BEGIN SELECT RAISE(ABORT, 'an active share only ever becomes retired'); END;"
    "CREATE TRIGGER shares_retired_frozen BEFORE UPDATE ON shares WHEN OLD.status = 'retired'"
    "  BEGIN SELECT RAISE(ABORT, 'retired shares are never changed'); END;";

/* Version 3 (issue 15): request ids a signer has agreed to (never forgotten, like used sids)
 * and the value of every transaction it agreed to sign, for the velocity window. */
static const char schema_v3[] =
    "CREATE TABLE requests(request_id TEXT PRIMARY KEY CHECK(length(request_id) BETWEEN 1 AND 64),"
    "  key_id TEXT NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TRIGGER requests_no_update BEFORE UPDATE ON requests"
    "  BEGIN SELECT RAISE(ABORT, 'request ids are never changed'); END;"
    "CREATE TRIGGER requests_no_delete BEFORE DELETE ON requests"
    "  BEGIN SELECT RAISE(ABORT, 'request ids are never forgotten'); END;"
    "CREATE TABLE spend(seq INTEGER PRIMARY KEY, key_id TEXT NOT NULL, ts INTEGER NOT NULL,"
    "  value BLOB NOT NULL CHECK(length(value) = 32), request_id TEXT);"
    "CREATE INDEX spend_by_key ON spend(key_id, ts);";

/* Version 4 (issue 17: import and migration): dealer inputs staged by the operator (a whole
 * private key, or one party's tss-lib share), sealed, one per public key, deleted when the
 * node deals (or by the operator). */
static const char schema_v4[] =
    "CREATE TABLE staged(public_key BLOB PRIMARY KEY CHECK(length(public_key) = 33),"
    "  source TEXT NOT NULL CHECK(source IN ('key', 'tss-lib')),"
    "  descriptor TEXT NOT NULL, blob BLOB NOT NULL, created INTEGER NOT NULL);";

/* migrations[v] takes a database from user_version v to v + 1. */
static const char *const migrations[SCHEMA_VERSION] = {schema_v1, schema_v2, schema_v3, schema_v4};

/* ---- errors ----------------------------------------------------------------------------- */

static const char *const messages[SIGNER_STORE_ERR__COUNT] = {
    [SIGNER_STORE_OK] = "success",
    [SIGNER_STORE_ERR_ARG] = "invalid argument (a caller broke the store's contract)",
    [SIGNER_STORE_ERR_NOMEM] = "out of memory",
    [SIGNER_STORE_ERR_OPEN] = "cannot open the signer database; check that the state "
                              "directory exists and belongs to the daemon's user",
    [SIGNER_STORE_ERR_SCHEMA] = "the signer database has a schema this daemon does not know "
                                "(written by a newer version?); run the matching mpc-signerd",
    [SIGNER_STORE_ERR_FULL] = "the disk holding the signer database is full; free space, "
                              "nothing was written",
    [SIGNER_STORE_ERR_IO] = "a database read or write failed, nothing was changed; check the "
                            "disk and the kernel log",
    [SIGNER_STORE_ERR_BUSY] = "the signer database is locked by another process; stop "
                              "the other writer (an admin command?) and retry",
    [SIGNER_STORE_ERR_EXISTS] = "a share with this key id is already stored",
    [SIGNER_STORE_ERR_NOT_FOUND] = "no such share or ban",
    [SIGNER_STORE_ERR_ACTIVE] = "the share is active; active shares are never removed",
    [SIGNER_STORE_ERR_CORRUPT] = "the signer database is corrupt or holds a malformed row; "
                                 "stop the node and investigate before signing again",
    [SIGNER_STORE_ERR_AUDIT_BROKEN] = "the audit log's hash chain is broken: rows were "
                                      "edited, deleted or inserted outside the daemon",
    [SIGNER_STORE_ERR_RETIRED] = "that epoch of the key is retired (a newer epoch is active); "
                                 "it is never used or activated again",
};

const char *signer_store_strerror(signer_store_err err)
{
    if ((unsigned)err >= SIGNER_STORE_ERR__COUNT)
        return "unknown signer store error";
    return messages[err];
}

static __thread char last_detail[512];

const char *signer_store_last_detail(void)
{
    return last_detail;
}

/* Records and logs "path: what: cause". Returns err so callers can `return fail(...)`. */
__attribute__((format(printf, 3, 4))) static signer_store_err
fail(signer_store_err err, const char *path, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(last_detail, sizeof last_detail, "%s: %s", path ? path : "signer database", what);
    log_err("%s", last_detail);
    return err;
}

static signer_store_err from_sqlite(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_FULL:
        return SIGNER_STORE_ERR_FULL;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return SIGNER_STORE_ERR_BUSY;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return SIGNER_STORE_ERR_CORRUPT;
    case SQLITE_NOMEM:
        return SIGNER_STORE_ERR_NOMEM;
    case SQLITE_CONSTRAINT:
        return SIGNER_STORE_ERR_ARG;
    default:
        return SIGNER_STORE_ERR_IO;
    }
}

/* Turns the connection's current error into a store error with detail. */
static signer_store_err db_fail(signer_store *st, const char *what)
{
    int rc = sqlite3_extended_errcode(st->db);
    return fail(from_sqlite(rc), st->path, "%s: %s", what, sqlite3_errmsg(st->db));
}

/* ---- transactions ------------------------------------------------------------------------ */

static void lock(signer_store *st)
{
    uint64_t t0 = signer_timing_now();
    pthread_mutex_lock(&st->mu);
    signer_timing_lock(t0);
}

static void unlock(signer_store *st)
{
    pthread_mutex_unlock(&st->mu);
}

static signer_store_err tx_begin(signer_store *st, const char *what)
{
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(st, what);
    return SIGNER_STORE_OK;
}

/* SQLite may already have rolled back on its own (SQLITE_FULL, I/O errors): only roll
 * back a transaction that is still open. */
static void tx_rollback(signer_store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Commits; on failure records the cause first, then rolls back so that nothing the call
 * did survives and the connection is usable again. */
static signer_store_err tx_commit(signer_store *st, const char *what)
{
    uint64_t t0 = signer_timing_now();
    int rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    signer_timing_commit(t0);
    if (rc == SQLITE_OK)
        return SIGNER_STORE_OK;
    signer_store_err err = db_fail(st, what);
    tx_rollback(st);
    return err;
}

/* Ends a write: commits on OK, else rolls back and keeps err. */
static signer_store_err tx_end(signer_store *st, signer_store_err err, const char *what)
{
    if (err != SIGNER_STORE_OK) {
        tx_rollback(st);
        return err;
    }
    return tx_commit(st, what);
}

static sqlite3_stmt *prepare(signer_store *st, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        db_fail(st, "preparing a statement");
        return NULL;
    }
    return s;
}

/* Runs a statement that returns no rows and finalizes it. */
static signer_store_err step_done(signer_store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    signer_store_err err = rc == SQLITE_DONE ? SIGNER_STORE_OK : db_fail(st, what);
    sqlite3_finalize(s);
    return err;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- argument checks ---------------------------------------------------------------------- */

/* Copies a 32-hex-digit key id into out, lower-cased. 0 or -1. */
static int key_id_norm(char out[SIGNER_KEY_ID_HEX + 1], const char *key_id)
{
    if (!key_id || strlen(key_id) != SIGNER_KEY_ID_HEX)
        return -1;
    for (size_t i = 0; i < SIGNER_KEY_ID_HEX; i++) {
        if (!isxdigit((unsigned char)key_id[i]))
            return -1;
        out[i] = (char)tolower((unsigned char)key_id[i]);
    }
    out[SIGNER_KEY_ID_HEX] = 0;
    return 0;
}

/* NULL or "" or 1..SIGNER_SESSION_HEX hex digits. */
static int hex_opt_ok(const char *s)
{
    if (!s)
        return 1;
    size_t n = strlen(s);
    if (n > SIGNER_SESSION_HEX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int text_ok(const char *s, size_t max)
{
    return !s || strnlen(s, max + 1) <= max;
}

static signer_store_err arg_fail(const char *what)
{
    return fail(SIGNER_STORE_ERR_ARG, NULL, "%s", what);
}

/* ---- audit chain --------------------------------------------------------------------------- */

static const char *const kind_names[] = {
    [SIGNER_AUDIT_KEYGEN] = "keygen",     [SIGNER_AUDIT_SIGN] = "sign",
    [SIGNER_AUDIT_ACTIVATE] = "activate", [SIGNER_AUDIT_BAN] = "ban",
    [SIGNER_AUDIT_UNBAN] = "unban",       [SIGNER_AUDIT_REMOVE] = "remove",
    [SIGNER_AUDIT_RESHARE] = "reshare",   [SIGNER_AUDIT_RETIRE] = "retire",
    [SIGNER_AUDIT_STAGE] = "stage",       [SIGNER_AUDIT_UNSTAGE] = "unstage",
};

const char *signer_audit_kind_name(signer_audit_kind kind)
{
    if ((unsigned)kind < 1 || (unsigned)kind >= sizeof kind_names / sizeof kind_names[0])
        return NULL;
    return kind_names[kind];
}

typedef struct {
    int64_t seq, ts;
    const char *kind, *key_id, *session, *digest, *peers, *outcome; /* NULL allowed */
} audit_fields;

static void put_u32(EVP_MD_CTX *h, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    EVP_DigestUpdate(h, b, 4);
}

static void put_u64(EVP_MD_CTX *h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    EVP_DigestUpdate(h, b, 8);
}

static void put_field(EVP_MD_CTX *h, const char *s)
{
    if (!s) {
        put_u32(h, 0xffffffffu);
        return;
    }
    size_t n = strlen(s);
    put_u32(h, (uint32_t)n);
    EVP_DigestUpdate(h, s, n);
}

/* The row hash documented in store.h. 0 or -1 (OpenSSL failure). */
static int audit_hash(uint8_t out[32], const uint8_t prev[32], const audit_fields *f)
{
    static const char tag[] = "mpc-signer/audit/v1";
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    unsigned len = 0;
    int ok = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1;
    if (ok) {
        EVP_DigestUpdate(h, tag, sizeof tag - 1);
        EVP_DigestUpdate(h, prev, 32);
        put_u32(h, 8);
        put_u64(h, (uint64_t)f->ts);
        put_field(h, f->kind);
        put_field(h, f->key_id);
        put_field(h, f->session);
        put_field(h, f->digest);
        put_field(h, f->peers);
        put_field(h, f->outcome);
        put_u64(h, (uint64_t)f->seq);
        ok = EVP_DigestFinal_ex(h, out, &len) == 1 && len == 32;
    }
    EVP_MD_CTX_free(h);
    return ok ? 0 : -1;
}

/* Reads the chain's head inside the caller's transaction. */
static signer_store_err audit_head_locked(signer_store *st, int64_t *seq, uint8_t hash[32])
{
    sqlite3_stmt *s = prepare(st, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
    if (!s)
        return SIGNER_STORE_ERR_IO;
    *seq = 0;
    memset(hash, 0, 32);
    signer_store_err err = SIGNER_STORE_OK;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(s, 0);
        if (sqlite3_column_bytes(s, 1) == 32)
            memcpy(hash, sqlite3_column_blob(s, 1), 32);
        else
            err = fail(SIGNER_STORE_ERR_AUDIT_BROKEN, st->path,
                       "audit row %lld has a malformed hash", (long long)*seq);
    } else if (rc != SQLITE_DONE) {
        err = db_fail(st, "reading the audit log's last row");
    }
    sqlite3_finalize(s);
    return err;
}

/* Appends one row inside the caller's transaction (the mutex and BEGIN IMMEDIATE make
 * the read of the head and the insert atomic, also against other processes). */
static signer_store_err audit_append_locked(signer_store *st, signer_audit_kind kind,
                                            const char *key_id, const char *session,
                                            const char *digest, const char *peers,
                                            const char *outcome)
{
    uint8_t prev[32], hash[32];
    int64_t last;
    signer_store_err err = audit_head_locked(st, &last, prev);
    if (err != SIGNER_STORE_OK)
        return err;
    audit_fields f = {last + 1, now_ms(), signer_audit_kind_name(kind), key_id, session, digest,
                      peers,    outcome};
    if (audit_hash(hash, prev, &f) != 0)
        return fail(SIGNER_STORE_ERR_NOMEM, st->path, "hashing an audit row failed");
    sqlite3_stmt *s = prepare(st, "INSERT INTO audit(seq, ts, kind, key_id, session,"
                                  " request_digest, peers, outcome, prev, hash)"
                                  " VALUES(?,?,?,?,?,?,?,?,?,?)");
    if (!s)
        return SIGNER_STORE_ERR_IO;
    sqlite3_bind_int64(s, 1, f.seq);
    sqlite3_bind_int64(s, 2, f.ts);
    sqlite3_bind_text(s, 3, f.kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, key_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, session, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, digest, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, peers, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, outcome, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 9, prev, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 10, hash, 32, SQLITE_STATIC);
    return step_done(st, s, "appending to the audit log");
}

static int audit_args_ok(signer_audit_kind kind, const char *key_id, const char *session,
                         const char *digest, const char *peers, const char *outcome)
{
    char norm[SIGNER_KEY_ID_HEX + 1];
    return signer_audit_kind_name(kind) && (!key_id || key_id_norm(norm, key_id) == 0) &&
           hex_opt_ok(session) && hex_opt_ok(digest) && text_ok(peers, 4096) &&
           text_ok(outcome, 1024);
}

signer_store_err signer_store_audit_append(signer_store *st, signer_audit_kind kind,
                                           const char *key_id, const char *session,
                                           const char *request_digest, const char *peers,
                                           const char *outcome)
{
    char norm[SIGNER_KEY_ID_HEX + 1];
    if (!st || !audit_args_ok(kind, key_id, session, request_digest, peers, outcome))
        return arg_fail("audit_append: bad kind, key id, hex field or text length");
    if (key_id)
        key_id_norm(norm, key_id);
    lock(st);
    signer_store_err err = tx_begin(st, "starting an audit append");
    if (err == SIGNER_STORE_OK)
        err = tx_end(st,
                     audit_append_locked(st, kind, key_id ? norm : NULL, session, request_digest,
                                         peers, outcome),
                     "committing an audit row");
    unlock(st);
    return err;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? NULL
                                                    : (const char *)sqlite3_column_text(s, i);
}

/* Checks one row against the running chain state; 0 if it verifies. */
static int audit_row_ok(sqlite3_stmt *s, int64_t expect_seq, const uint8_t prev[32],
                        uint8_t hash_out[32])
{
    audit_fields f = {sqlite3_column_int64(s, 0),
                      sqlite3_column_int64(s, 1),
                      col_text(s, 2),
                      col_text(s, 3),
                      col_text(s, 4),
                      col_text(s, 5),
                      col_text(s, 6),
                      col_text(s, 7)};
    uint8_t calc[32];
    if (f.seq != expect_seq || sqlite3_column_bytes(s, 8) != 32 ||
        sqlite3_column_bytes(s, 9) != 32 || memcmp(sqlite3_column_blob(s, 8), prev, 32) != 0)
        return -1;
    if (audit_hash(calc, prev, &f) != 0 || memcmp(calc, sqlite3_column_blob(s, 9), 32) != 0)
        return -1;
    memcpy(hash_out, calc, 32);
    return 0;
}

signer_store_err signer_store_audit_verify(signer_store *st, uint64_t *checked, uint64_t *first_bad)
{
    uint64_t ok_rows = 0, bad = 0;
    if (!st)
        return arg_fail("audit_verify: no store");
    lock(st);
    signer_store_err err = SIGNER_STORE_OK;
    sqlite3_stmt *s = prepare(st, "SELECT seq, ts, kind, key_id, session, request_digest,"
                                  " peers, outcome, prev, hash FROM audit ORDER BY seq");
    if (!s)
        err = SIGNER_STORE_ERR_IO;
    uint8_t prev[32] = {0};
    int rc = SQLITE_DONE;
    while (s && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (audit_row_ok(s, (int64_t)ok_rows + 1, prev, prev) != 0) {
            int64_t seq = sqlite3_column_int64(s, 0);
            /* a gap names the first missing row; anything else the row itself */
            bad = seq > (int64_t)ok_rows + 1 ? ok_rows + 1 : (uint64_t)seq;
            break;
        }
        ok_rows++;
    }
    if (s && !bad && rc != SQLITE_DONE)
        err = db_fail(st, "reading the audit log");
    sqlite3_finalize(s);
    unlock(st);
    if (err == SIGNER_STORE_OK && bad)
        err = fail(SIGNER_STORE_ERR_AUDIT_BROKEN, st->path,
                   "audit row %llu does not verify (%llu rows before it do)",
                   (unsigned long long)bad, (unsigned long long)ok_rows);
    if (checked)
        *checked = ok_rows;
    if (first_bad)
        *first_bad = bad;
    return err;
}

signer_store_err signer_store_audit_head(signer_store *st, uint64_t *seq, uint8_t hash[32])
{
    int64_t s64 = 0;
    if (!st || !seq || !hash)
        return arg_fail("audit_head: NULL argument");
    lock(st);
    signer_store_err err = audit_head_locked(st, &s64, hash);
    unlock(st);
    *seq = (uint64_t)s64;
    return err;
}

/* ---- open / close ------------------------------------------------------------------------- */

static signer_store_err user_version(signer_store *st, int *out)
{
    sqlite3_stmt *s = prepare(st, "PRAGMA user_version");
    if (!s)
        return SIGNER_STORE_ERR_IO;
    signer_store_err err = SIGNER_STORE_OK;
    if (sqlite3_step(s) == SQLITE_ROW)
        *out = sqlite3_column_int(s, 0);
    else
        err = db_fail(st, "reading the schema version");
    sqlite3_finalize(s);
    return err;
}

/* Brings the schema to SCHEMA_VERSION, one migration per transaction, each re-reading the
 * version inside its transaction (another process may have migrated meanwhile). */
static signer_store_err migrate(signer_store *st)
{
    for (;;) {
        int v = 0;
        signer_store_err err = tx_begin(st, "starting the schema upgrade");
        if (err == SIGNER_STORE_OK)
            err = user_version(st, &v);
        if (err == SIGNER_STORE_OK && v > SCHEMA_VERSION)
            err = fail(SIGNER_STORE_ERR_SCHEMA, st->path,
                       "schema version %d is newer than this daemon's %d; run the mpc-signerd "
                       "that wrote it",
                       v, SCHEMA_VERSION);
        if (err != SIGNER_STORE_OK || v == SCHEMA_VERSION)
            return tx_end(st, err, "committing the schema check");
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
        if (sqlite3_exec(st->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            err = db_fail(st, "creating the schema");
        if (err == SIGNER_STORE_ERR_IO)
            err = SIGNER_STORE_ERR_SCHEMA;
        err = tx_end(st, err, "committing the schema");
        if (err != SIGNER_STORE_OK)
            return err;
        log_info("%s: schema upgraded to version %d", st->path, v + 1);
    }
}

signer_store_err signer_store_open(const char *path, signer_store **out)
{
    if (!path || !out)
        return arg_fail("store_open: NULL argument");
    *out = NULL;
    signer_store *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        return fail(SIGNER_STORE_ERR_NOMEM, path, "opening: out of memory");
    }
    pthread_mutex_init(&st->mu, NULL);
    if (mpcd_db_open(path, &st->db) != 0) {
        signer_store_err err = fail(SIGNER_STORE_ERR_OPEN, path,
                                    "cannot open the database (see the message above); check "
                                    "the directory exists and is writable by this user");
        signer_store_close(st);
        return err;
    }
    signer_store_err err = migrate(st);
    if (err != SIGNER_STORE_OK) {
        signer_store_close(st);
        return err;
    }
    *out = st;
    return SIGNER_STORE_OK;
}

void signer_store_close(signer_store *st)
{
    if (!st)
        return;
    if (st->db)
        sqlite3_close(st->db);
    pthread_mutex_destroy(&st->mu);
    free(st->path);
    free(st);
}

signer_store_err signer_store_check(signer_store *st)
{
    if (!st)
        return arg_fail("store_check: no store");
    lock(st);
    signer_store_err err = SIGNER_STORE_OK;
    sqlite3_stmt *s = prepare(st, "PRAGMA integrity_check");
    if (!s)
        err = SIGNER_STORE_ERR_IO;
    else if (sqlite3_step(s) != SQLITE_ROW)
        err = db_fail(st, "running integrity_check");
    else if (strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0)
        err = fail(SIGNER_STORE_ERR_CORRUPT, st->path, "integrity_check: %s",
                   (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    unlock(st);
    if (err != SIGNER_STORE_OK)
        return err;
    return signer_store_audit_verify(st, NULL, NULL);
}

unsigned signer_store_test_max_pages(signer_store *st, unsigned pages)
{
    char sql[64];
    unsigned got = 0;
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %u", pages);
    lock(st);
    sqlite3_stmt *s = prepare(st, sql);
    if (s && sqlite3_step(s) == SQLITE_ROW)
        got = (unsigned)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    unlock(st);
    return got;
}

/* ---- shares ------------------------------------------------------------------------------- */

void signer_share_row_clear(signer_share_row *row)
{
    if (!row)
        return;
    if (row->blob) {
        tss_memzero(row->blob, row->blob_len);
        free(row->blob);
    }
    memset(row, 0, sizeof *row);
}

static int row_ok(const signer_share_row *r, char key_id[SIGNER_KEY_ID_HEX + 1])
{
    if (key_id_norm(key_id, r->key_id) != 0 || r->t < 2 || r->t > r->n ||
        r->n > SIGNER_MAX_PARTIES || r->index < 1 || r->index > r->n || r->identity_count != r->n ||
        !r->blob || r->blob_len == 0 || r->blob_len > SIGNER_MAX_BLOB_BYTES ||
        !hex_opt_ok(r->session) || strnlen(r->session, sizeof r->session) == sizeof r->session)
        return 0;
    for (size_t i = 0; i < r->identity_count; i++)
        if (r->identities[i].index != i + 1 || !api_party_id_valid(r->identities[i].id))
            return 0;
    return 1;
}

/* [{"index":1,"id":"p1","fp":"<64 hex>"}, ...], malloc'd; NULL on allocation failure. */
static char *identities_json(const signer_share_row *r)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < r->identity_count; i++) {
        char fp[65];
        api_hex_encode(fp, r->identities[i].fp, 32);
        json_array_append_new(a, json_pack("{s:i,s:s,s:s}", "index", (int)r->identities[i].index,
                                           "id", r->identities[i].id, "fp", fp));
    }
    char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return s;
}

static int identities_parse(signer_share_row *r, const char *text)
{
    json_t *a = text ? json_loads(text, 0, NULL) : NULL;
    int ok = json_is_array(a) && json_array_size(a) == r->n && r->n <= SIGNER_MAX_PARTIES;
    for (size_t i = 0; ok && i < r->n; i++) {
        json_t *o = json_array_get(a, i);
        json_t *idx = json_object_get(o, "index"), *id = json_object_get(o, "id"),
               *fp = json_object_get(o, "fp");
        ok = json_is_integer(idx) && json_integer_value(idx) == (json_int_t)(i + 1) &&
             json_is_string(id) && api_party_id_valid(json_string_value(id)) &&
             json_is_string(fp) &&
             api_hex_decode(r->identities[i].fp, 32, json_string_value(fp),
                            json_string_length(fp)) == API_OK;
        if (ok) {
            r->identities[i].index = (unsigned)(i + 1);
            snprintf(r->identities[i].id, sizeof r->identities[i].id, "%s", json_string_value(id));
        }
    }
    json_decref(a);
    r->identity_count = ok ? r->n : 0;
    return ok ? 0 : -1;
}

/* "p1,p2,p3": the participants' ids for the audit log. */
static void peers_text(char *out, size_t cap, const signer_share_row *r)
{
    size_t used = 0;
    out[0] = 0;
    for (size_t i = 0; i < r->identity_count && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "", r->identities[i].id);
}

static signer_store_err share_insert(signer_store *st, const signer_share_row *r,
                                     const char *key_id, const char *ids)
{
    sqlite3_stmt *s = prepare(st, "INSERT INTO shares(key_id, epoch, status, t, n, idx,"
                                  " public_key, chain_code, fingerprint, blob, identities,"
                                  " session, created, imported)"
                                  " VALUES(?,?,'pending',?,?,?,?,?,?,?,?,?,?,?)");
    if (!s)
        return SIGNER_STORE_ERR_IO;
    sqlite3_bind_text(s, 1, key_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)r->epoch);
    sqlite3_bind_int(s, 3, (int)r->t);
    sqlite3_bind_int(s, 4, (int)r->n);
    sqlite3_bind_int(s, 5, (int)r->index);
    sqlite3_bind_blob(s, 6, r->public_key, 33, SQLITE_STATIC);
    sqlite3_bind_blob(s, 7, r->chain_code, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 8, r->fingerprint, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 9, r->blob, (int)r->blob_len, SQLITE_STATIC);
    sqlite3_bind_text(s, 10, ids, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 11, r->session[0] ? r->session : NULL, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 12, now_s());
    sqlite3_bind_int(s, 13, r->imported ? 1 : 0);
    return step_done(st, s, "storing a pending share");
}

/* What a key has stored, read inside the caller's transaction. */
typedef struct {
    int any;                /* rows of any status */
    int pending, active;    /* has a pending / an active share */
    uint32_t pending_epoch; /* valid when pending */
    uint32_t active_epoch;  /* valid when active */
    uint32_t max_epoch;     /* the highest stored epoch, valid when any */
} key_state;

static signer_store_err key_state_read(signer_store *st, const char *key_id, key_state *k)
{
    memset(k, 0, sizeof *k);
    sqlite3_stmt *s = prepare(st, "SELECT epoch, status FROM shares WHERE key_id = ?");
    if (!s)
        return SIGNER_STORE_ERR_IO;
    sqlite3_bind_text(s, 1, key_id, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        uint32_t e = (uint32_t)sqlite3_column_int64(s, 0);
        const char *status = (const char *)sqlite3_column_text(s, 1);
        if (!k->any || e > k->max_epoch)
            k->max_epoch = e;
        k->any = 1;
        if (status && strcmp(status, "active") == 0) {
            k->active = 1;
            k->active_epoch = e;
        } else if (status && strcmp(status, "pending") == 0) {
            k->pending = 1;
            k->pending_epoch = e;
        }
    }
    signer_store_err err =
        rc == SQLITE_DONE ? SIGNER_STORE_OK : db_fail(st, "reading a key's shares");
    sqlite3_finalize(s);
    return err;
}

/* The status of (key_id, epoch): 0 when absent; -1 on error. */
static int epoch_status(signer_store *st, const char *key_id, uint32_t epoch)
{
    sqlite3_stmt *s = prepare(st, "SELECT status FROM shares WHERE key_id = ? AND epoch = ?");
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, key_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)epoch);
    int rc = sqlite3_step(s), ret = 0;
    if (rc == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(s, 0);
        ret = !status                          ? SIGNER_SHARE_PENDING
              : strcmp(status, "active") == 0  ? SIGNER_SHARE_ACTIVE
              : strcmp(status, "retired") == 0 ? SIGNER_SHARE_RETIRED
                                               : SIGNER_SHARE_PENDING;
    } else if (rc != SQLITE_DONE) {
        db_fail(st, "reading a share's status");
        ret = -1;
    }
    sqlite3_finalize(s);
    return ret;
}

/* Runs "UPDATE/DELETE ... WHERE key_id = ?1 [AND epoch = ?2]" with now_s() as ?3 (binding a
 * parameter the statement does not use is a harmless SQLITE_RANGE). */
static signer_store_err share_exec(signer_store *st, const char *sql, const char *key_id,
                                   uint32_t epoch, const char *what)
{
    sqlite3_stmt *s = prepare(st, sql);
    if (!s)
        return SIGNER_STORE_ERR_IO;
    sqlite3_bind_text(s, 1, key_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)epoch);
    sqlite3_bind_int64(s, 3, now_s());
    return step_done(st, s, what);
}

const char *signer_share_status_name(signer_share_status status)
{
    switch (status) {
    case SIGNER_SHARE_PENDING:
        return "pending";
    case SIGNER_SHARE_ACTIVE:
        return "active";
    case SIGNER_SHARE_RETIRED:
        return "retired";
    }
    return "?";
}

signer_store_err signer_store_share_put_pending(signer_store *st, const signer_share_row *row)
{
    char key_id[SIGNER_KEY_ID_HEX + 1], peers[SIGNER_MAX_PARTIES * (API_PARTY_ID_MAX + 1) + 1];
    char outcome[48];
    if (!st || !row || !row_ok(row, key_id))
        return arg_fail("share_put_pending: malformed row (key id, t, n, index, identities, "
                        "blob or session)");
    char *ids = identities_json(row);
    if (!ids)
        return fail(SIGNER_STORE_ERR_NOMEM, st->path, "share %s: out of memory", key_id);
    peers_text(peers, sizeof peers, row);
    if (row->epoch == 0)
        snprintf(outcome, sizeof outcome, "pending");
    else
        snprintf(outcome, sizeof outcome, "pending epoch %lu", (unsigned long)row->epoch);
    lock(st);
    key_state k;
    signer_store_err err = tx_begin(st, "starting to store a share");
    if (err == SIGNER_STORE_OK)
        err = key_state_read(st, key_id, &k);
    if (err == SIGNER_STORE_OK && row->epoch == 0 && k.any)
        err = fail(SIGNER_STORE_ERR_EXISTS, st->path,
                   "share %s is already stored (%s); nothing was overwritten", key_id,
                   k.active    ? "active"
                   : k.pending ? "pending"
                               : "retired");
    if (err == SIGNER_STORE_OK && row->epoch > 0 &&
        (k.pending || (k.any && k.max_epoch >= row->epoch)))
        err = fail(SIGNER_STORE_ERR_EXISTS, st->path,
                   "share %s epoch %lu: the key already has %s; nothing was overwritten", key_id,
                   (unsigned long)row->epoch,
                   k.pending ? "a pending share" : "a share of this or a later epoch");
    if (err == SIGNER_STORE_OK)
        err = share_insert(st, row, key_id, ids);
    if (err == SIGNER_STORE_OK)
        err =
            audit_append_locked(st, row->epoch ? SIGNER_AUDIT_RESHARE : SIGNER_AUDIT_KEYGEN, key_id,
                                row->session[0] ? row->session : NULL, NULL, peers, outcome);
    err = tx_end(st, err, "committing a pending share");
    unlock(st);
    free(ids);
    return err;
}

signer_store_err signer_store_share_activate(signer_store *st, const char *key_id_in)
{
    char key_id[SIGNER_KEY_ID_HEX + 1];
    if (!st || key_id_norm(key_id, key_id_in) != 0)
        return arg_fail("share_activate: key id must be 32 hex digits");
    lock(st);
    key_state k;
    signer_store_err err = tx_begin(st, "starting to activate a share");
    if (err == SIGNER_STORE_OK)
        err = key_state_read(st, key_id, &k);
    if (err == SIGNER_STORE_OK && !k.active && !k.pending)
        err = fail(SIGNER_STORE_ERR_NOT_FOUND, st->path, "activate: no share %s on this node",
                   key_id);
    if (err == SIGNER_STORE_OK && !k.active) {
        err = share_exec(st,
                         "UPDATE shares SET status = 'active', activated = ?3"
                         " WHERE key_id = ?1 AND epoch = ?2 AND status = 'pending'",
                         key_id, k.pending_epoch, "activating a share");
        if (err == SIGNER_STORE_OK)
            err =
                audit_append_locked(st, SIGNER_AUDIT_ACTIVATE, key_id, NULL, NULL, NULL, "active");
    }
    err = tx_end(st, err, "committing a share's activation");
    unlock(st);
    return err;
}

signer_store_err signer_store_share_switch_epoch(signer_store *st, const char *key_id_in,
                                                 uint32_t epoch)
{
    char key_id[SIGNER_KEY_ID_HEX + 1], outcome[96];
    if (!st || key_id_norm(key_id, key_id_in) != 0)
        return arg_fail("share_switch_epoch: key id must be 32 hex digits");
    lock(st);
    key_state k;
    int status = 0;
    signer_store_err err = tx_begin(st, "starting to switch a key's epoch");
    if (err == SIGNER_STORE_OK)
        err = key_state_read(st, key_id, &k);
    if (err == SIGNER_STORE_OK && (status = epoch_status(st, key_id, epoch)) < 0)
        err = SIGNER_STORE_ERR_IO;
    if (err == SIGNER_STORE_OK && status == 0)
        err = fail(SIGNER_STORE_ERR_NOT_FOUND, st->path, "switch: no share %s epoch %lu", key_id,
                   (unsigned long)epoch);
    if (err == SIGNER_STORE_OK &&
        (status == SIGNER_SHARE_RETIRED ||
         (status == SIGNER_SHARE_PENDING && k.active && k.active_epoch > epoch)))
        err = fail(SIGNER_STORE_ERR_RETIRED, st->path,
                   "switch: share %s epoch %lu is older than the key's active epoch", key_id,
                   (unsigned long)epoch);
    if (err == SIGNER_STORE_OK && status == SIGNER_SHARE_PENDING) {
        /* retire first: at most one active row per key (shares_one_active) */
        if (k.active)
            err = share_exec(st,
                             "UPDATE shares SET status = 'retired', retired = ?3"
                             " WHERE key_id = ?1 AND status = 'active'",
                             key_id, 0, "retiring the old epoch");
        if (err == SIGNER_STORE_OK)
            err = share_exec(st,
                             "UPDATE shares SET status = 'active', activated = ?3"
                             " WHERE key_id = ?1 AND epoch = ?2 AND status = 'pending'",
                             key_id, epoch, "activating the new epoch");
        if (k.active)
            snprintf(outcome, sizeof outcome, "active epoch %lu, epoch %lu retired",
                     (unsigned long)epoch, (unsigned long)k.active_epoch);
        else
            snprintf(outcome, sizeof outcome, "active epoch %lu", (unsigned long)epoch);
        if (err == SIGNER_STORE_OK)
            err = audit_append_locked(st, SIGNER_AUDIT_ACTIVATE, key_id, NULL, NULL, NULL, outcome);
    }
    err = tx_end(st, err, "committing a key's epoch switch");
    unlock(st);
    return err;
}

signer_store_err signer_store_share_retire(signer_store *st, const char *key_id_in, uint32_t epoch,
                                           int leaving)
{
    char key_id[SIGNER_KEY_ID_HEX + 1], outcome[96];
    if (!st || key_id_norm(key_id, key_id_in) != 0)
        return arg_fail("share_retire: key id must be 32 hex digits");
    lock(st);
    int status = 0;
    signer_store_err err = tx_begin(st, "starting to retire a share");
    if (err == SIGNER_STORE_OK && (status = epoch_status(st, key_id, epoch)) < 0)
        err = SIGNER_STORE_ERR_IO;
    if (err == SIGNER_STORE_OK && status == 0)
        err = fail(SIGNER_STORE_ERR_NOT_FOUND, st->path, "retire: no share %s epoch %lu", key_id,
                   (unsigned long)epoch);
    if (err == SIGNER_STORE_OK && status == SIGNER_SHARE_PENDING)
        err = fail(SIGNER_STORE_ERR_ARG, st->path,
                   "retire: share %s epoch %lu is pending (remove-pending drops it)", key_id,
                   (unsigned long)epoch);
    if (err == SIGNER_STORE_OK && status == SIGNER_SHARE_ACTIVE && !leaving)
        err = fail(SIGNER_STORE_ERR_ACTIVE, st->path,
                   "retire: share %s epoch %lu is this node's active epoch", key_id,
                   (unsigned long)epoch);
    if (err == SIGNER_STORE_OK && status == SIGNER_SHARE_ACTIVE)
        err = share_exec(st,
                         "UPDATE shares SET status = 'retired', retired = ?3"
                         " WHERE key_id = ?1 AND epoch = ?2 AND status = 'active'",
                         key_id, epoch, "retiring a share");
    if (err == SIGNER_STORE_OK)
        err = share_exec(st,
                         "DELETE FROM shares WHERE key_id = ?1 AND epoch = ?2"
                         " AND status = 'retired'",
                         key_id, epoch, "deleting a retired share");
    snprintf(outcome, sizeof outcome, "epoch %lu deleted%s", (unsigned long)epoch,
             status == SIGNER_SHARE_ACTIVE ? " (this node left the committee)" : "");
    if (err == SIGNER_STORE_OK)
        err = audit_append_locked(st, SIGNER_AUDIT_RETIRE, key_id, NULL, NULL, NULL, outcome);
    err = tx_end(st, err, "committing a share's retirement");
    unlock(st);
    return err;
}

/* Fills out from the current row of s (columns of SHARE_COLUMNS); the blob only when
 * with_blob. */
static signer_store_err share_from_row(signer_store *st, sqlite3_stmt *s, signer_share_row *out,
                                       int with_blob)
{
    const char *key_id = (const char *)sqlite3_column_text(s, 0);
    const char *status = (const char *)sqlite3_column_text(s, 1);
    snprintf(out->key_id, sizeof out->key_id, "%s", key_id ? key_id : "");
    out->status = !status                          ? SIGNER_SHARE_PENDING
                  : strcmp(status, "active") == 0  ? SIGNER_SHARE_ACTIVE
                  : strcmp(status, "retired") == 0 ? SIGNER_SHARE_RETIRED
                                                   : SIGNER_SHARE_PENDING;
    out->t = (unsigned)sqlite3_column_int(s, 2);
    out->n = (unsigned)sqlite3_column_int(s, 3);
    out->index = (unsigned)sqlite3_column_int(s, 4);
    int blob_len = sqlite3_column_bytes(s, 8);
    if (sqlite3_column_bytes(s, 5) != 33 || sqlite3_column_bytes(s, 6) != 32 ||
        sqlite3_column_bytes(s, 7) != 32 || blob_len <= 0 ||
        identities_parse(out, (const char *)sqlite3_column_text(s, 9)) != 0)
        return fail(SIGNER_STORE_ERR_CORRUPT, st->path, "share %s: malformed row", out->key_id);
    memcpy(out->public_key, sqlite3_column_blob(s, 5), 33);
    memcpy(out->chain_code, sqlite3_column_blob(s, 6), 32);
    memcpy(out->fingerprint, sqlite3_column_blob(s, 7), 32);
    const char *session = col_text(s, 10);
    snprintf(out->session, sizeof out->session, "%s", session ? session : "");
    out->created = sqlite3_column_int64(s, 11);
    out->activated = sqlite3_column_int64(s, 12);
    out->epoch = (uint32_t)sqlite3_column_int64(s, 13);
    out->imported = sqlite3_column_int(s, 14) ? 1 : 0;
    out->retired = sqlite3_column_int64(s, 15);
    if (!with_blob)
        return SIGNER_STORE_OK;
    if (!(out->blob = malloc((size_t)blob_len)))
        return fail(SIGNER_STORE_ERR_NOMEM, st->path, "share %s: out of memory", out->key_id);
    memcpy(out->blob, sqlite3_column_blob(s, 8), (size_t)blob_len);
    out->blob_len = (size_t)blob_len;
    return SIGNER_STORE_OK;
}

#define SHARE_COLUMNS                                                                              \
    "SELECT key_id, status, t, n, idx, public_key, chain_code, fingerprint, blob, identities,"     \
    " session, created, activated, epoch, imported, retired FROM shares"

/* Which row share_get_locked reads. */
typedef enum { BY_KEY, BY_EPOCH, BY_ROWID } share_sel;

static signer_store_err share_get_locked(signer_store *st, share_sel sel, const char *key_id,
                                         int64_t epoch_or_rowid, signer_share_row *out,
                                         int with_blob)
{
    static const char *const where[] = {
        [BY_KEY] = SHARE_COLUMNS " WHERE key_id = ?1 AND status IN ('active', 'pending')"
                                 " ORDER BY status = 'active' DESC LIMIT 1",
        [BY_EPOCH] = SHARE_COLUMNS " WHERE key_id = ?1 AND epoch = ?2",
        [BY_ROWID] = SHARE_COLUMNS " WHERE rowid = ?2",
    };
    sqlite3_stmt *s = prepare(st, where[sel]);
    if (!s)
        return SIGNER_STORE_ERR_IO;
    if (key_id)
        sqlite3_bind_text(s, 1, key_id, -1, SQLITE_STATIC);
    if (sel != BY_KEY)
        sqlite3_bind_int64(s, 2, epoch_or_rowid);
    int rc = sqlite3_step(s);
    signer_store_err err;
    if (rc == SQLITE_ROW)
        err = share_from_row(st, s, out, with_blob);
    else if (rc == SQLITE_DONE)
        err = SIGNER_STORE_ERR_NOT_FOUND;
    else
        err = db_fail(st, "reading a share");
    sqlite3_finalize(s);
    if (err != SIGNER_STORE_OK)
        signer_share_row_clear(out);
    return err;
}

signer_store_err signer_store_share_get(signer_store *st, const char *key_id_in,
                                        signer_share_row *out)
{
    char key_id[SIGNER_KEY_ID_HEX + 1];
    if (out)
        memset(out, 0, sizeof *out);
    if (!st || !out || key_id_norm(key_id, key_id_in) != 0)
        return arg_fail("share_get: key id must be 32 hex digits");
    lock(st);
    signer_store_err err = share_get_locked(st, BY_KEY, key_id, 0, out, 1);
    unlock(st);
    if (err == SIGNER_STORE_ERR_NOT_FOUND)
        snprintf(last_detail, sizeof last_detail, "%s: no share %s", st->path, key_id);
    return err;
}

signer_store_err signer_store_share_get_epoch(signer_store *st, const char *key_id_in,
                                              uint32_t epoch, signer_share_row *out)
{
    char key_id[SIGNER_KEY_ID_HEX + 1];
    if (out)
        memset(out, 0, sizeof *out);
    if (!st || !out || key_id_norm(key_id, key_id_in) != 0)
        return arg_fail("share_get_epoch: key id must be 32 hex digits");
    lock(st);
    signer_store_err err = share_get_locked(st, BY_EPOCH, key_id, (int64_t)epoch, out, 1);
    unlock(st);
    if (err == SIGNER_STORE_ERR_NOT_FOUND)
        snprintf(last_detail, sizeof last_detail, "%s: no share %s epoch %lu", st->path, key_id,
                 (unsigned long)epoch);
    return err;
}

/* The rowids of every share, in insertion order, as one malloc'd array. */
static signer_store_err share_rowids(signer_store *st, int64_t **ids, size_t *count)
{
    size_t cap = 0, n = 0;
    int64_t *a = NULL;
    sqlite3_stmt *s = prepare(st, "SELECT rowid FROM shares ORDER BY rowid");
    if (!s)
        return SIGNER_STORE_ERR_IO;
    signer_store_err err = SIGNER_STORE_OK;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            void *grown = realloc(a, (cap = cap ? 2 * cap : 64) * sizeof *a);
            if (!grown) {
                err = fail(SIGNER_STORE_ERR_NOMEM, st->path, "listing shares: out of memory");
                break;
            }
            a = grown;
        }
        a[n++] = sqlite3_column_int64(s, 0);
    }
    if (err == SIGNER_STORE_OK && rc != SQLITE_DONE)
        err = db_fail(st, "listing shares");
    sqlite3_finalize(s);
    if (err != SIGNER_STORE_OK) {
        free(a);
        return err;
    }
    *ids = a;
    *count = n;
    return SIGNER_STORE_OK;
}

/* Collects the rowids first and reads each row under the mutex, calling fn without it: fn
 * may use the store (e.g. activate what it lists). A share removed meanwhile is skipped. */
signer_store_err signer_store_share_list(signer_store *st, signer_share_list_fn fn, void *ctx)
{
    int64_t *ids = NULL;
    size_t n = 0;
    if (!st || !fn)
        return arg_fail("share_list: NULL argument");
    lock(st);
    signer_store_err err = share_rowids(st, &ids, &n);
    unlock(st);
    for (size_t i = 0; err == SIGNER_STORE_OK && i < n; i++) {
        signer_share_row row;
        memset(&row, 0, sizeof row);
        lock(st);
        err = share_get_locked(st, BY_ROWID, NULL, ids[i], &row, 0);
        unlock(st);
        if (err == SIGNER_STORE_ERR_NOT_FOUND) {
            err = SIGNER_STORE_OK;
            continue;
        }
        if (err == SIGNER_STORE_OK && fn(ctx, &row) != 0)
            i = n;
    }
    free(ids);
    return err;
}

signer_store_err signer_store_share_remove_pending(signer_store *st, const char *key_id_in)
{
    char key_id[SIGNER_KEY_ID_HEX + 1], outcome[96];
    if (!st || key_id_norm(key_id, key_id_in) != 0)
        return arg_fail("share_remove_pending: key id must be 32 hex digits");
    lock(st);
    key_state k;
    signer_store_err err = tx_begin(st, "starting to remove a share");
    if (err == SIGNER_STORE_OK)
        err = key_state_read(st, key_id, &k);
    if (err == SIGNER_STORE_OK && !k.any)
        err =
            fail(SIGNER_STORE_ERR_NOT_FOUND, st->path, "remove: no share %s on this node", key_id);
    if (err == SIGNER_STORE_OK && !k.pending)
        err = fail(SIGNER_STORE_ERR_ACTIVE, st->path,
                   "remove: share %s is active; active shares are never removed", key_id);
    if (err == SIGNER_STORE_OK)
        err = share_exec(st,
                         "DELETE FROM shares WHERE key_id = ?1 AND epoch = ?2"
                         " AND status = 'pending'",
                         key_id, k.pending_epoch, "removing a pending share");
    if (k.pending_epoch == 0)
        snprintf(outcome, sizeof outcome, "pending share removed by the operator");
    else
        snprintf(outcome, sizeof outcome, "pending share of epoch %lu removed",
                 (unsigned long)k.pending_epoch);
    if (err == SIGNER_STORE_OK)
        err = audit_append_locked(st, SIGNER_AUDIT_REMOVE, key_id, NULL, NULL, NULL, outcome);
    err = tx_end(st, err, "committing a share's removal");
    unlock(st);
    return err;
}

signer_store_err signer_store_share_drop_stale(signer_store *st, const char *key_id_in,
                                               uint32_t epoch)
{
    char key_id[SIGNER_KEY_ID_HEX + 1], outcome[96];
    if (!st || key_id_norm(key_id, key_id_in) != 0)
        return arg_fail("share_drop_stale: key id must be 32 hex digits");
    lock(st);
    key_state k;
    signer_store_err err = tx_begin(st, "starting to drop a stale share");
    if (err == SIGNER_STORE_OK)
        err = key_state_read(st, key_id, &k);
    if (err == SIGNER_STORE_OK && (!k.active || k.active_epoch != epoch))
        err = fail(SIGNER_STORE_ERR_NOT_FOUND, st->path,
                   "drop-stale: share %s has no active epoch %lu (%s)", key_id,
                   (unsigned long)epoch, k.active ? "another epoch is active" : "none is active");
    /* the one move an active share may make (a trigger enforces it), then the deletion */
    if (err == SIGNER_STORE_OK)
        err = share_exec(st,
                         "UPDATE shares SET status = 'retired', retired = ?3"
                         " WHERE key_id = ?1 AND epoch = ?2 AND status = 'active'",
                         key_id, epoch, "retiring a stale share");
    if (err == SIGNER_STORE_OK)
        err = share_exec(st, "DELETE FROM shares WHERE key_id = ?1 AND epoch = ?2", key_id, epoch,
                         "deleting a stale share");
    snprintf(outcome, sizeof outcome, "stale active epoch %lu dropped by the operator",
             (unsigned long)epoch);
    if (err == SIGNER_STORE_OK)
        err = audit_append_locked(st, SIGNER_AUDIT_RETIRE, key_id, NULL, NULL, NULL, outcome);
    err = tx_end(st, err, "committing a stale share's removal");
    unlock(st);
    return err;
}

/* ---- staged dealer inputs ---------------------------------------------------------------- */

void signer_staged_row_clear(signer_staged_row *row)
{
    if (!row)
        return;
    if (row->blob)
        OPENSSL_cleanse(row->blob, row->blob_len);
    free(row->blob);
    free(row->descriptor);
    memset(row, 0, sizeof *row);
}

static int staged_source_valid(const char *source)
{
    return strcmp(source, "key") == 0 || strcmp(source, "tss-lib") == 0;
}

signer_store_err signer_store_staged_put(signer_store *st, const signer_staged_row *row)
{
    char pk[67], outcome[128];
    if (!st || !row || !staged_source_valid(row->source) || !row->descriptor ||
        strlen(row->descriptor) > SIGNER_STAGED_DESCRIPTOR_MAX || !row->blob || !row->blob_len ||
        row->blob_len > SIGNER_MAX_BLOB_BYTES)
        return arg_fail("staged_put: malformed row");
    api_hex_encode(pk, row->public_key, 33);
    snprintf(outcome, sizeof outcome, "staged (%s) for public key %s", row->source, pk);
    lock(st);
    signer_store_err err = tx_begin(st, "starting to stage a dealer input");
    sqlite3_stmt *q =
        err == SIGNER_STORE_OK ? prepare(st, "SELECT 1 FROM staged WHERE public_key = ?1") : NULL;
    if (err == SIGNER_STORE_OK && !q)
        err = SIGNER_STORE_ERR_IO;
    if (q) {
        sqlite3_bind_blob(q, 1, row->public_key, 33, SQLITE_STATIC);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW)
            err = fail(SIGNER_STORE_ERR_EXISTS, st->path,
                       "stage: an input for public key %s is already staged", pk);
        else if (rc != SQLITE_DONE)
            err = db_fail(st, "reading the staged inputs");
        sqlite3_finalize(q);
    }
    sqlite3_stmt *s = err == SIGNER_STORE_OK
                          ? prepare(st, "INSERT INTO staged(public_key, source, descriptor, blob,"
                                        " created) VALUES(?1, ?2, ?3, ?4, ?5)")
                          : NULL;
    if (err == SIGNER_STORE_OK && !s)
        err = SIGNER_STORE_ERR_IO;
    if (s) {
        sqlite3_bind_blob(s, 1, row->public_key, 33, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, row->source, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, row->descriptor, -1, SQLITE_STATIC);
        sqlite3_bind_blob(s, 4, row->blob, (int)row->blob_len, SQLITE_STATIC);
        sqlite3_bind_int64(s, 5, now_s());
        err = step_done(st, s, "storing a staged input");
    }
    if (err == SIGNER_STORE_OK)
        err = audit_append_locked(st, SIGNER_AUDIT_STAGE, NULL, NULL, NULL, NULL, outcome);
    err = tx_end(st, err, "committing a staged input");
    unlock(st);
    return err;
}

/* Fills out from a row of SELECT public_key, source, descriptor, created[, blob]. */
static signer_store_err staged_row_read(signer_store *st, sqlite3_stmt *s, signer_staged_row *out,
                                        int with_blob)
{
    const char *source = col_text(s, 1), *descriptor = col_text(s, 2);
    memset(out, 0, sizeof *out);
    if (sqlite3_column_bytes(s, 0) != 33 || !source || !staged_source_valid(source) ||
        !descriptor || (with_blob && sqlite3_column_bytes(s, 4) <= 0))
        return fail(SIGNER_STORE_ERR_CORRUPT, st->path, "staged: malformed row");
    memcpy(out->public_key, sqlite3_column_blob(s, 0), 33);
    snprintf(out->source, sizeof out->source, "%s", source);
    out->created = sqlite3_column_int64(s, 3);
    if (!(out->descriptor = strdup(descriptor)))
        return SIGNER_STORE_ERR_NOMEM;
    if (!with_blob)
        return SIGNER_STORE_OK;
    out->blob_len = (size_t)sqlite3_column_bytes(s, 4);
    if (!(out->blob = malloc(out->blob_len))) {
        signer_staged_row_clear(out);
        return SIGNER_STORE_ERR_NOMEM;
    }
    memcpy(out->blob, sqlite3_column_blob(s, 4), out->blob_len);
    return SIGNER_STORE_OK;
}

signer_store_err signer_store_staged_get(signer_store *st, const uint8_t public_key[33],
                                         signer_staged_row *out)
{
    if (!st || !public_key || !out)
        return arg_fail("staged_get: NULL argument");
    memset(out, 0, sizeof *out);
    lock(st);
    sqlite3_stmt *s = prepare(st, "SELECT public_key, source, descriptor, created, blob FROM"
                                  " staged WHERE public_key = ?1");
    signer_store_err err = s ? SIGNER_STORE_OK : SIGNER_STORE_ERR_IO;
    if (s) {
        sqlite3_bind_blob(s, 1, public_key, 33, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        err = rc == SQLITE_ROW    ? staged_row_read(st, s, out, 1)
              : rc == SQLITE_DONE ? SIGNER_STORE_ERR_NOT_FOUND
                                  : db_fail(st, "reading a staged input");
        sqlite3_finalize(s);
    }
    unlock(st);
    return err;
}

signer_store_err signer_store_staged_list(signer_store *st, signer_staged_list_fn fn, void *ctx)
{
    if (!st || !fn)
        return arg_fail("staged_list: NULL argument");
    /* read everything first: fn runs without the mutex (store.h) */
    signer_staged_row *rows = NULL;
    size_t count = 0;
    lock(st);
    sqlite3_stmt *s = prepare(st, "SELECT public_key, source, descriptor, created FROM staged"
                                  " ORDER BY created, public_key");
    signer_store_err err = s ? SIGNER_STORE_OK : SIGNER_STORE_ERR_IO;
    int rc;
    while (s && err == SIGNER_STORE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        signer_staged_row *grown = realloc(rows, (count + 1) * sizeof *rows);
        if (!grown) {
            err = SIGNER_STORE_ERR_NOMEM;
            break;
        }
        rows = grown;
        err = staged_row_read(st, s, &rows[count], 0);
        if (err == SIGNER_STORE_OK)
            count++;
    }
    if (s && err == SIGNER_STORE_OK && rc != SQLITE_DONE)
        err = db_fail(st, "listing the staged inputs");
    sqlite3_finalize(s);
    unlock(st);
    int stop = err != SIGNER_STORE_OK;
    for (size_t i = 0; i < count; i++) {
        if (!stop)
            stop = fn(ctx, &rows[i]) != 0;
        signer_staged_row_clear(&rows[i]);
    }
    free(rows);
    return err;
}

signer_store_err signer_store_staged_remove(signer_store *st, const uint8_t public_key[33],
                                            const char *session, const char *outcome)
{
    char pk[67], text[1024];
    if (!st || !public_key || !outcome)
        return arg_fail("staged_remove: NULL argument");
    api_hex_encode(pk, public_key, 33);
    lock(st);
    signer_store_err err = tx_begin(st, "starting to remove a staged input");
    sqlite3_stmt *s =
        err == SIGNER_STORE_OK ? prepare(st, "DELETE FROM staged WHERE public_key = ?1") : NULL;
    if (err == SIGNER_STORE_OK && !s)
        err = SIGNER_STORE_ERR_IO;
    if (s) {
        sqlite3_bind_blob(s, 1, public_key, 33, SQLITE_STATIC);
        err = step_done(st, s, "removing a staged input");
    }
    if (err == SIGNER_STORE_OK && sqlite3_changes(st->db) != 1)
        err = fail(SIGNER_STORE_ERR_NOT_FOUND, st->path, "no input staged for public key %s", pk);
    if (err == SIGNER_STORE_OK)
        err = audit_append_locked(
            st, SIGNER_AUDIT_UNSTAGE, NULL, session, NULL, NULL,
            (snprintf(text, sizeof text, "%.900s: public key %s", outcome, pk), text));
    err = tx_end(st, err, "committing a staged input's removal");
    unlock(st);
    return err;
}

/* ---- used session ids ------------------------------------------------------------------------ */

int signer_store_sid_claim(signer_store *st, const uint8_t sid[32], const char *kind)
{
    if (!st || !sid || !kind || !*kind || strlen(kind) > 16) {
        arg_fail("sid_claim: NULL sid or kind not 1..16 characters");
        return -1;
    }
    lock(st);
    /* One statement in autocommit mode is its own transaction: durable when it returns. */
    sqlite3_stmt *s = prepare(st, "INSERT INTO used_sids(sid, kind, created) VALUES(?,?,?)"
                                  " ON CONFLICT(sid) DO NOTHING");
    int ret = -1;
    if (s) {
        sqlite3_bind_blob(s, 1, sid, 32, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, now_s());
        uint64_t t0 = signer_timing_now(); /* autocommit: this step is the commit */
        if (step_done(st, s, "recording a used session id") == SIGNER_STORE_OK)
            ret = sqlite3_changes(st->db) == 1 ? 0 : 1;
        signer_timing_commit(t0);
    }
    unlock(st);
    return ret;
}

int signer_store_sid_claim_cb(void *st, const uint8_t sid[32])
{
    return signer_store_sid_claim(st, sid, "sign");
}

/* ---- request ids and velocity --------------------------------------------------------------- */

/* The sum of key_id's spend since `since` (unix seconds) into sum; -1 on a database error,
 * 1 if the sum does not fit 256 bits (treated as over any limit). */
static int spend_sum(signer_store *st, const char *key_id, int64_t since, uint8_t sum[32])
{
    sqlite3_stmt *s = prepare(st, "SELECT value FROM spend WHERE key_id = ? AND ts > ?");
    int rc = 0, step;
    memset(sum, 0, 32);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, key_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, since);
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        const uint8_t *v = sqlite3_column_blob(s, 0);
        if (!v || sqlite3_column_bytes(s, 0) != 32) {
            rc = -1;
            break;
        }
        if (rc == 0 && signer_u256_add(sum, sum, v) != 0)
            rc = 1;
    }
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        rc = -1;
    if (rc < 0)
        db_fail(st, "summing the velocity window");
    sqlite3_finalize(s);
    return rc;
}

signer_store_claim signer_store_request_claim(signer_store *st, const char *request_id,
                                              const char *key_id_in, const uint8_t *value,
                                              unsigned window_seconds, const uint8_t *max,
                                              uint8_t spent[32])
{
    char key_id[SIGNER_KEY_ID_HEX + 1];
    if (spent)
        memset(spent, 0, 32);
    if (!st || !key_id_in || key_id_norm(key_id, key_id_in) != 0 ||
        (request_id && (!*request_id || strlen(request_id) > 64)) || (!value != !max) ||
        (value && window_seconds == 0) || (!request_id && !value)) {
        arg_fail("request_claim: bad request id, key id or velocity arguments");
        return SIGNER_CLAIM_ERROR;
    }
    lock(st);
    signer_store_claim out = SIGNER_CLAIM_OK;
    signer_store_err err = tx_begin(st, "starting a request claim");
    if (err == SIGNER_STORE_OK && request_id) {
        sqlite3_stmt *s = prepare(st, "INSERT INTO requests(request_id, key_id, created)"
                                      " VALUES(?,?,?) ON CONFLICT(request_id) DO NOTHING");
        if (!s)
            err = SIGNER_STORE_ERR_IO;
        else {
            sqlite3_bind_text(s, 1, request_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, key_id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 3, now_s());
            err = step_done(st, s, "recording a request id");
            if (err == SIGNER_STORE_OK && sqlite3_changes(st->db) != 1)
                out = SIGNER_CLAIM_SEEN;
        }
    }
    if (err == SIGNER_STORE_OK && out == SIGNER_CLAIM_OK && value) {
        uint8_t sum[32], total[32];
        int64_t now = now_s();
        int r = spend_sum(st, key_id, now - (int64_t)window_seconds, sum);
        if (r < 0)
            err = SIGNER_STORE_ERR_IO;
        else if (r > 0 || signer_u256_add(total, sum, value) != 0 ||
                 signer_u256_cmp(total, max) > 0)
            out = SIGNER_CLAIM_OVER;
        if (spent)
            memcpy(spent, sum, 32);
        if (err == SIGNER_STORE_OK && out == SIGNER_CLAIM_OK) {
            sqlite3_stmt *s = prepare(st, "INSERT INTO spend(key_id, ts, value, request_id)"
                                          " VALUES(?,?,?,?)");
            if (!s)
                err = SIGNER_STORE_ERR_IO;
            else {
                sqlite3_bind_text(s, 1, key_id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(s, 2, now);
                sqlite3_bind_blob(s, 3, value, 32, SQLITE_STATIC);
                sqlite3_bind_text(s, 4, request_id, -1, SQLITE_STATIC);
                err = step_done(st, s, "recording a transaction's value");
            }
        }
    }
    /* A refusal changes nothing: the request id stays free (the client may retry it once
     * the window has room) and nothing is spent. */
    if (err == SIGNER_STORE_OK && out != SIGNER_CLAIM_OK)
        err = tx_end(st, SIGNER_STORE_ERR_ARG, "refusing a request");
    else
        err = tx_end(st, err, "committing a request claim");
    unlock(st);
    if (out != SIGNER_CLAIM_OK)
        return out;
    return err == SIGNER_STORE_OK ? SIGNER_CLAIM_OK : SIGNER_CLAIM_ERROR;
}

/* ---- bans ------------------------------------------------------------------------------------ */

static int ban_args_ok(const uint8_t *fp, const char *party_id, const char *reason,
                       const char *session)
{
    return fp && party_id && api_party_id_valid(party_id) && reason && *reason &&
           strlen(reason) < sizeof((signer_ban_row *)0)->reason && hex_opt_ok(session);
}

signer_store_err signer_store_ban_add(signer_store *st, const uint8_t fp[32], const char *party_id,
                                      const char *reason, const char *session)
{
    char fphex[65], outcome[200];
    if (!st || !ban_args_ok(fp, party_id, reason, session))
        return arg_fail("ban_add: NULL fingerprint, or party id / reason / session malformed");
    api_hex_encode(fphex, fp, 32);
    snprintf(outcome, sizeof outcome, "banned %s: %s", fphex, reason);
    lock(st);
    signer_store_err err = tx_begin(st, "starting to record a ban");
    if (err == SIGNER_STORE_OK) {
        sqlite3_stmt *s = prepare(st, "INSERT INTO bans(fp, party_id, reason, session, created)"
                                      " VALUES(?,?,?,?,?) ON CONFLICT(fp) DO NOTHING");
        err = s ? SIGNER_STORE_OK : SIGNER_STORE_ERR_IO;
        if (s) {
            sqlite3_bind_blob(s, 1, fp, 32, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, party_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 4, session && *session ? session : NULL, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 5, now_s());
            err = step_done(st, s, "recording a ban");
        }
    }
    if (err == SIGNER_STORE_OK && sqlite3_changes(st->db) == 1)
        err = audit_append_locked(st, SIGNER_AUDIT_BAN, NULL, session && *session ? session : NULL,
                                  NULL, party_id, outcome);
    err = tx_end(st, err, "committing a ban");
    unlock(st);
    return err;
}

signer_store_err signer_store_ban_lift(signer_store *st, const uint8_t fp[32])
{
    char fphex[65], outcome[100], party[API_PARTY_ID_MAX + 1] = "";
    if (!st || !fp)
        return arg_fail("ban_lift: NULL argument");
    api_hex_encode(fphex, fp, 32);
    snprintf(outcome, sizeof outcome, "lifted ban on %s", fphex);
    lock(st);
    signer_store_err err = tx_begin(st, "starting to lift a ban");
    if (err == SIGNER_STORE_OK) {
        sqlite3_stmt *s = prepare(st, "SELECT party_id FROM bans WHERE fp = ?");
        err = s ? SIGNER_STORE_OK : SIGNER_STORE_ERR_IO;
        int rc = SQLITE_DONE;
        if (s) {
            sqlite3_bind_blob(s, 1, fp, 32, SQLITE_STATIC);
            if ((rc = sqlite3_step(s)) == SQLITE_ROW)
                snprintf(party, sizeof party, "%s", (const char *)sqlite3_column_text(s, 0));
            else if (rc == SQLITE_DONE)
                err = fail(SIGNER_STORE_ERR_NOT_FOUND, st->path, "no ban on %s", fphex);
            else
                err = db_fail(st, "reading a ban");
            sqlite3_finalize(s);
        }
    }
    if (err == SIGNER_STORE_OK) {
        sqlite3_stmt *s = prepare(st, "DELETE FROM bans WHERE fp = ?");
        err = s ? SIGNER_STORE_OK : SIGNER_STORE_ERR_IO;
        if (s) {
            sqlite3_bind_blob(s, 1, fp, 32, SQLITE_STATIC);
            err = step_done(st, s, "lifting a ban");
        }
    }
    if (err == SIGNER_STORE_OK)
        err = audit_append_locked(st, SIGNER_AUDIT_UNBAN, NULL, NULL, NULL, party, outcome);
    err = tx_end(st, err, "committing a lifted ban");
    unlock(st);
    return err;
}

/* Every ban, oldest first, as one malloc'd array (bans are few). */
static signer_store_err bans_read(signer_store *st, signer_ban_row **rows, size_t *count)
{
    size_t cap = 0, n = 0;
    signer_ban_row *a = NULL;
    lock(st);
    sqlite3_stmt *s = prepare(st, "SELECT fp, party_id, reason, session, created FROM bans"
                                  " ORDER BY created, rowid");
    signer_store_err err = s ? SIGNER_STORE_OK : SIGNER_STORE_ERR_IO;
    int rc = SQLITE_DONE;
    while (s && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            void *grown = realloc(a, (cap = cap ? 2 * cap : 16) * sizeof *a);
            if (!grown) {
                err = fail(SIGNER_STORE_ERR_NOMEM, st->path, "reading bans: out of memory");
                break;
            }
            a = grown;
        }
        signer_ban_row *r = &a[n];
        memset(r, 0, sizeof *r);
        if (sqlite3_column_bytes(s, 0) != 32) {
            err = fail(SIGNER_STORE_ERR_CORRUPT, st->path, "a ban row has a malformed fingerprint");
            break;
        }
        memcpy(r->fp, sqlite3_column_blob(s, 0), 32);
        snprintf(r->party_id, sizeof r->party_id, "%s", (const char *)sqlite3_column_text(s, 1));
        snprintf(r->reason, sizeof r->reason, "%s", (const char *)sqlite3_column_text(s, 2));
        const char *session = col_text(s, 3);
        snprintf(r->session, sizeof r->session, "%s", session ? session : "");
        r->created = sqlite3_column_int64(s, 4);
        n++;
    }
    if (s && err == SIGNER_STORE_OK && rc != SQLITE_DONE)
        err = db_fail(st, "reading bans");
    sqlite3_finalize(s);
    unlock(st);
    if (err != SIGNER_STORE_OK) {
        free(a);
        return err;
    }
    *rows = a;
    *count = n;
    return SIGNER_STORE_OK;
}

signer_store_err signer_store_ban_list(signer_store *st, signer_ban_list_fn fn, void *ctx)
{
    signer_ban_row *rows = NULL;
    size_t n = 0;
    if (!st || !fn)
        return arg_fail("ban_list: NULL argument");
    signer_store_err err = bans_read(st, &rows, &n);
    for (size_t i = 0; err == SIGNER_STORE_OK && i < n; i++)
        if (fn(ctx, &rows[i]) != 0)
            break;
    free(rows);
    return err;
}

signer_store_err signer_store_ban_load(signer_store *st, signer_ban_load_fn fn, void *ctx)
{
    signer_ban_row *rows = NULL;
    size_t n = 0;
    if (!st || !fn)
        return arg_fail("ban_load: NULL argument");
    signer_store_err err = bans_read(st, &rows, &n);
    for (size_t i = 0; err == SIGNER_STORE_OK && i < n; i++)
        if (fn(ctx, rows[i].fp) != 0)
            err = fail(SIGNER_STORE_ERR_ARG, st->path,
                       "loading bans: the ban list refused entry %zu of %zu", i + 1, n);
    free(rows);
    return err;
}
