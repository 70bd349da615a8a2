/* tests/signerd/test_store.c — the signer's SQLite store: every function, idempotent
 * activation, used sids, bans across restarts, the audit chain (and tampering found with
 * its seq), epochs (a reshare's pending share beside the active one, the one-transaction
 * switch, retirement), a version-1 database migrated in place, a full disk and a failed
 * COMMIT changing nothing, concurrent callers, and kill -9 at
 * random moments (MPC_STORE_KILL_ROUNDS, default 10) losing nothing that was reported done. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

static char dir[256], db_path[300];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mpc-store-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(db_path, sizeof db_path, "%s/signer.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static signer_store *open_store(void)
{
    signer_store *st = NULL;
    assert_int_equal(signer_store_open(db_path, &st), SIGNER_STORE_OK);
    assert_non_null(st);
    return st;
}

/* A raw connection for what the daemon must never do (tampering, inspection). */
static sqlite3 *raw_open(void)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static int raw_exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static long long raw_int(const char *sql)
{
    sqlite3 *db = raw_open();
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    long long v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static uint8_t blob_bytes[70000];

/* A well-formed 2-of-3 share row numbered i (blob of len bytes, borrowed). */
static void make_row(signer_share_row *r, unsigned i, size_t len)
{
    memset(r, 0, sizeof *r);
    snprintf(r->key_id, sizeof r->key_id, "%032x", i + 1);
    r->t = 2;
    r->n = 3;
    r->index = 1 + i % 3;
    memset(r->public_key, 0x02, 33);
    r->public_key[1] = (uint8_t)i;
    memset(r->chain_code, 0xcc, 32);
    memset(r->fingerprint, (int)(i & 0xff), 32);
    snprintf(r->session, sizeof r->session, "%032x", 0xabc000 + i);
    r->identity_count = 3;
    for (unsigned j = 0; j < 3; j++) {
        r->identities[j].index = j + 1;
        snprintf(r->identities[j].id, sizeof r->identities[j].id, "node-%u", j + 1);
        memset(r->identities[j].fp, (int)(0x10 + j), 32);
    }
    for (size_t k = 0; k < sizeof blob_bytes; k++)
        blob_bytes[k] = (uint8_t)(k * 7 + i);
    r->blob = blob_bytes;
    r->blob_len = len;
}

static uint64_t audit_seq(signer_store *st)
{
    uint64_t seq;
    uint8_t hash[32];
    assert_int_equal(signer_store_audit_head(st, &seq, hash), SIGNER_STORE_OK);
    return seq;
}

static void test_open_and_schema(void **state)
{
    (void)state;
    signer_store *st = open_store();
    signer_store_close(st);
    assert_int_equal(raw_int("PRAGMA user_version"), 4);
    assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE type='table'"), 7);
    st = open_store(); /* reopening an existing database */
    assert_int_equal(signer_store_check(st), SIGNER_STORE_OK);
    signer_store_close(st);
    /* a database from a newer daemon is refused, and left alone */
    sqlite3 *db = raw_open();
    assert_int_equal(raw_exec(db, "PRAGMA user_version = 7"), SQLITE_OK);
    sqlite3_close(db);
    st = NULL;
    assert_int_equal(signer_store_open(db_path, &st), SIGNER_STORE_ERR_SCHEMA);
    assert_null(st);
    assert_non_null(strstr(signer_store_last_detail(), db_path));
    assert_int_equal(raw_int("PRAGMA user_version"), 7);
    /* a directory that does not exist */
    assert_int_equal(signer_store_open("/nonexistent-dir/x.db", &st), SIGNER_STORE_ERR_OPEN);
    assert_non_null(strstr(signer_store_last_detail(), "/nonexistent-dir/x.db"));
    /* every error has a message */
    for (int e = 0; e <= SIGNER_STORE_ERR__COUNT; e++)
        assert_true(strlen(signer_store_strerror((signer_store_err)e)) > 5);
}

static void test_share_put_get(void **state)
{
    (void)state;
    signer_store *st = open_store();
    signer_share_row r, got;
    make_row(&r, 5, 1000);
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_OK);
    assert_int_equal(audit_seq(st), 1);
    assert_int_equal(signer_store_share_get(st, r.key_id, &got), SIGNER_STORE_OK);
    assert_string_equal(got.key_id, r.key_id);
    assert_int_equal(got.status, SIGNER_SHARE_PENDING);
    assert_int_equal(got.t, 2);
    assert_int_equal(got.n, 3);
    assert_int_equal(got.index, r.index);
    assert_memory_equal(got.public_key, r.public_key, 33);
    assert_memory_equal(got.chain_code, r.chain_code, 32);
    assert_memory_equal(got.fingerprint, r.fingerprint, 32);
    assert_string_equal(got.session, r.session);
    assert_int_equal(got.identity_count, 3);
    for (int j = 0; j < 3; j++) {
        assert_int_equal(got.identities[j].index, j + 1);
        assert_string_equal(got.identities[j].id, r.identities[j].id);
        assert_memory_equal(got.identities[j].fp, r.identities[j].fp, 32);
    }
    assert_int_equal(got.blob_len, 1000);
    assert_memory_equal(got.blob, r.blob, 1000);
    assert_true(got.created > 0);
    assert_int_equal(got.activated, 0);
    signer_share_row_clear(&got);
    assert_null(got.blob);
    signer_share_row_clear(NULL);

    /* upper-case key ids are the same key */
    char upper[SIGNER_KEY_ID_HEX + 1];
    snprintf(upper, sizeof upper, "%032X", 0xabcdefu);
    make_row(&r, 0xabcdef - 1, 10);
    snprintf(r.key_id, sizeof r.key_id, "%s", upper);
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_get(st, "00000000000000000000000000abcdef", &got),
                     SIGNER_STORE_OK);
    signer_share_row_clear(&got);

    /* an existing key id is refused, nothing overwritten, no audit row */
    make_row(&r, 5, 20);
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_ERR_EXISTS);
    assert_int_equal(audit_seq(st), 2);
    assert_int_equal(signer_store_share_get(st, r.key_id, &got), SIGNER_STORE_OK);
    assert_int_equal(got.blob_len, 1000);
    signer_share_row_clear(&got);

    assert_int_equal(signer_store_share_get(st, "ffffffffffffffffffffffffffffffff", &got),
                     SIGNER_STORE_ERR_NOT_FOUND);
    assert_null(got.blob);
    signer_store_close(st);
    /* durable: the row is there after reopening */
    st = open_store();
    assert_int_equal(signer_store_share_get(st, r.key_id, &got), SIGNER_STORE_OK);
    signer_share_row_clear(&got);
    signer_store_close(st);
}

static void test_share_bad_rows(void **state)
{
    (void)state;
    signer_store *st = open_store();
    signer_share_row r, got;
    const char *bad_ids[] = {"", "00", "0000000000000000000000000000000g",
                             "0000000000000000000000000000001"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        make_row(&r, 1, 10);
        snprintf(r.key_id, sizeof r.key_id, "%s", bad_ids[i]);
        assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_ERR_ARG);
        assert_int_equal(signer_store_share_get(st, bad_ids[i], &got), SIGNER_STORE_ERR_ARG);
        assert_int_equal(signer_store_share_activate(st, bad_ids[i]), SIGNER_STORE_ERR_ARG);
        assert_int_equal(signer_store_share_remove_pending(st, bad_ids[i]), SIGNER_STORE_ERR_ARG);
    }
    assert_int_equal(signer_store_share_get(st, "000000000000000000000000000000001", &got),
                     SIGNER_STORE_ERR_ARG);
    make_row(&r, 1, 10);
    r.t = 1;
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_ERR_ARG);
    make_row(&r, 1, 10);
    r.t = 4;
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_ERR_ARG);
    make_row(&r, 1, 10);
    r.index = 0;
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_ERR_ARG);
    make_row(&r, 1, 10);
    r.identity_count = 2;
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_ERR_ARG);
    make_row(&r, 1, 10);
    r.identities[1].index = 3;
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_ERR_ARG);
    make_row(&r, 1, 10);
    snprintf(r.identities[2].id, sizeof r.identities[2].id, "bad id!");
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_ERR_ARG);
    make_row(&r, 1, 0);
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_ERR_ARG);
    make_row(&r, 1, 10);
    snprintf(r.session, sizeof r.session, "not hex");
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_ERR_ARG);
    assert_int_equal(signer_store_share_put_pending(st, NULL), SIGNER_STORE_ERR_ARG);
    assert_int_equal(audit_seq(st), 0);
    assert_int_equal(
        signer_store_audit_append(st, (signer_audit_kind)99, NULL, NULL, NULL, NULL, NULL),
        SIGNER_STORE_ERR_ARG);
    assert_int_equal(
        signer_store_audit_append(st, SIGNER_AUDIT_SIGN, NULL, "xyz", NULL, NULL, NULL),
        SIGNER_STORE_ERR_ARG);
    signer_store_close(st);
}

static void test_share_activate(void **state)
{
    (void)state;
    signer_store *st = open_store();
    signer_share_row r, got;
    make_row(&r, 1, 100);
    assert_int_equal(signer_store_share_activate(st, r.key_id), SIGNER_STORE_ERR_NOT_FOUND);
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_activate(st, r.key_id), SIGNER_STORE_OK);
    assert_int_equal(audit_seq(st), 2);
    assert_int_equal(signer_store_share_get(st, r.key_id, &got), SIGNER_STORE_OK);
    assert_int_equal(got.status, SIGNER_SHARE_ACTIVE);
    assert_true(got.activated >= got.created);
    signer_share_row_clear(&got);
    /* idempotent: OK again, no second audit row */
    assert_int_equal(signer_store_share_activate(st, r.key_id), SIGNER_STORE_OK);
    assert_int_equal(audit_seq(st), 2);
    /* an active share cannot be stored again */
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_ERR_EXISTS);
    signer_store_close(st);
    assert_int_equal(raw_int("SELECT count(*) FROM audit WHERE kind='activate'"), 1);
    /* the database itself refuses to delete or change an active share */
    sqlite3 *db = raw_open();
    assert_int_not_equal(raw_exec(db, "DELETE FROM shares"), SQLITE_OK);
    assert_int_not_equal(raw_exec(db, "UPDATE shares SET status='pending'"), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(raw_int("SELECT count(*) FROM shares WHERE status='active'"), 1);
}

typedef struct {
    signer_store *st;
    int calls, stop_after;
    char seen[8][SIGNER_KEY_ID_HEX + 1];
} list_ctx;

static int list_cb(void *arg, const signer_share_row *row)
{
    list_ctx *c = arg;
    assert_null(row->blob);
    assert_int_equal(row->identity_count, 3);
    snprintf(c->seen[c->calls], sizeof c->seen[0], "%s", row->key_id);
    c->calls++;
    /* callbacks run without the store's lock: using the store from here must work */
    assert_int_equal(signer_store_share_activate(c->st, row->key_id), SIGNER_STORE_OK);
    return c->calls == c->stop_after;
}

static void test_share_list(void **state)
{
    (void)state;
    signer_store *st = open_store();
    signer_share_row r;
    unsigned order[] = {7, 3, 5};
    for (int i = 0; i < 3; i++) {
        make_row(&r, order[i], 50);
        assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_OK);
    }
    list_ctx c = {st, 0, 0, {{0}}};
    assert_int_equal(signer_store_share_list(st, list_cb, &c), SIGNER_STORE_OK);
    assert_int_equal(c.calls, 3);
    for (int i = 0; i < 3; i++) {
        make_row(&r, order[i], 50);
        assert_string_equal(c.seen[i], r.key_id); /* insertion order */
    }
    list_ctx stop = {st, 0, 2, {{0}}};
    assert_int_equal(signer_store_share_list(st, list_cb, &stop), SIGNER_STORE_OK);
    assert_int_equal(stop.calls, 2);
    assert_int_equal(signer_store_share_list(st, NULL, NULL), SIGNER_STORE_ERR_ARG);
    signer_store_close(st);
}

static void test_share_remove_pending(void **state)
{
    (void)state;
    signer_store *st = open_store();
    signer_share_row r, a, got;
    make_row(&r, 1, 100);
    make_row(&a, 2, 100);
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_put_pending(st, &a), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_activate(st, a.key_id), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_remove_pending(st, a.key_id), SIGNER_STORE_ERR_ACTIVE);
    assert_int_equal(signer_store_share_get(st, a.key_id, &got), SIGNER_STORE_OK);
    signer_share_row_clear(&got);
    assert_int_equal(signer_store_share_remove_pending(st, r.key_id), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_get(st, r.key_id, &got), SIGNER_STORE_ERR_NOT_FOUND);
    assert_int_equal(signer_store_share_remove_pending(st, r.key_id), SIGNER_STORE_ERR_NOT_FOUND);
    /* a removed key id may be generated again */
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_OK);
    assert_int_equal(signer_store_audit_verify(st, NULL, NULL), SIGNER_STORE_OK);
    signer_store_close(st);
    assert_int_equal(raw_int("SELECT count(*) FROM audit WHERE kind='remove'"), 1);
    assert_int_equal(raw_int("SELECT count(*) FROM audit"), 5);
}

static void test_sid_claim(void **state)
{
    (void)state;
    signer_store *st = open_store();
    uint8_t a[32], b[32];
    memset(a, 0xa1, 32);
    memset(b, 0xb2, 32);
    assert_int_equal(signer_store_sid_claim(st, a, "keygen"), 0);
    assert_int_equal(signer_store_sid_claim(st, a, "keygen"), 1);
    assert_int_equal(signer_store_sid_claim(st, a, "sign"), 1); /* used by any kind */
    assert_int_equal(signer_store_sid_claim_cb(st, a), 1);
    assert_int_equal(signer_store_sid_claim_cb(st, b), 0);
    assert_int_equal(signer_store_sid_claim_cb(st, b), 1);
    assert_int_equal(signer_store_sid_claim(st, a, ""), -1);
    assert_int_equal(signer_store_sid_claim(st, a, "a-kind-that-is-too-long"), -1);
    assert_int_equal(signer_store_sid_claim(NULL, a, "sign"), -1);
    signer_store_close(st);
    st = open_store();
    assert_int_equal(signer_store_sid_claim(st, a, "sign"), 1);
    assert_int_equal(signer_store_sid_claim_cb(st, b), 1);
    signer_store_close(st);
    assert_int_equal(raw_int("SELECT count(*) FROM used_sids WHERE kind='sign'"), 1);
    sqlite3 *db = raw_open();
    assert_int_not_equal(raw_exec(db, "DELETE FROM used_sids"), SQLITE_OK);
    sqlite3_close(db);
}

typedef struct {
    int n, stop_at;
    uint8_t fps[8][32];
    signer_ban_row rows[8];
} ban_ctx;

static int ban_list_cb(void *arg, const signer_ban_row *row)
{
    ban_ctx *c = arg;
    c->rows[c->n++] = *row;
    return c->n == c->stop_at;
}

static int ban_load_cb(void *arg, const uint8_t fp[32])
{
    ban_ctx *c = arg;
    memcpy(c->fps[c->n++], fp, 32);
    return c->n == c->stop_at;
}

static void test_bans(void **state)
{
    (void)state;
    signer_store *st = open_store();
    uint8_t f1[32], f2[32];
    memset(f1, 0x11, 32);
    memset(f2, 0x22, 32);
    assert_int_equal(signer_store_ban_add(st, f1, "node-2", "ot_check", "0a0b"), SIGNER_STORE_OK);
    assert_int_equal(signer_store_ban_add(st, f2, "node-3", "vole_check", NULL), SIGNER_STORE_OK);
    assert_int_equal(audit_seq(st), 2);
    /* banning again keeps the first record and writes no audit row */
    assert_int_equal(signer_store_ban_add(st, f1, "node-9", "other", NULL), SIGNER_STORE_OK);
    assert_int_equal(audit_seq(st), 2);
    assert_int_equal(signer_store_ban_add(st, f1, "bad id!", "x", NULL), SIGNER_STORE_ERR_ARG);
    assert_int_equal(signer_store_ban_add(st, f1, "node-2", "", NULL), SIGNER_STORE_ERR_ARG);
    assert_int_equal(signer_store_ban_add(st, f1, "node-2", "x", "zz"), SIGNER_STORE_ERR_ARG);
    signer_store_close(st);

    st = open_store(); /* bans persist across close/reopen */
    ban_ctx c = {0};
    assert_int_equal(signer_store_ban_list(st, ban_list_cb, &c), SIGNER_STORE_OK);
    assert_int_equal(c.n, 2);
    assert_memory_equal(c.rows[0].fp, f1, 32);
    assert_string_equal(c.rows[0].party_id, "node-2");
    assert_string_equal(c.rows[0].reason, "ot_check");
    assert_string_equal(c.rows[0].session, "0a0b");
    assert_true(c.rows[0].created > 0);
    assert_memory_equal(c.rows[1].fp, f2, 32);
    assert_string_equal(c.rows[1].session, "");
    ban_ctx l = {0};
    assert_int_equal(signer_store_ban_load(st, ban_load_cb, &l), SIGNER_STORE_OK);
    assert_int_equal(l.n, 2);
    assert_memory_equal(l.fps[0], f1, 32);
    assert_memory_equal(l.fps[1], f2, 32);
    /* a ban list that cannot take an entry stops the load with an error */
    ban_ctx refuse = {0};
    refuse.stop_at = 1;
    assert_int_equal(signer_store_ban_load(st, ban_load_cb, &refuse), SIGNER_STORE_ERR_ARG);

    assert_int_equal(signer_store_ban_lift(st, f1), SIGNER_STORE_OK);
    assert_int_equal(signer_store_ban_lift(st, f1), SIGNER_STORE_ERR_NOT_FOUND);
    assert_int_equal(audit_seq(st), 3);
    signer_store_close(st);
    st = open_store();
    ban_ctx after = {0};
    assert_int_equal(signer_store_ban_load(st, ban_load_cb, &after), SIGNER_STORE_OK);
    assert_int_equal(after.n, 1);
    assert_memory_equal(after.fps[0], f2, 32);
    assert_int_equal(signer_store_audit_verify(st, NULL, NULL), SIGNER_STORE_OK);
    signer_store_close(st);
    assert_int_equal(raw_int("SELECT count(*) FROM audit WHERE kind='ban'"), 2);
    assert_int_equal(raw_int("SELECT count(*) FROM audit WHERE kind='unban' AND "
                             "peers='node-2'"),
                     1);
}

static void append_n(signer_store *st, int n)
{
    for (int i = 0; i < n; i++)
        assert_int_equal(signer_store_audit_append(
                             st, SIGNER_AUDIT_SIGN, "0123456789abcdef0123456789abcdef", "beef",
                             i % 2 ? NULL : "00ff", "node-1,node-2", i % 3 ? "ok" : ""),
                         SIGNER_STORE_OK);
}

static void test_audit_chain(void **state)
{
    (void)state;
    signer_store *st = open_store();
    uint64_t checked = 99, bad = 99;
    assert_int_equal(signer_store_audit_verify(st, &checked, &bad), SIGNER_STORE_OK);
    assert_int_equal(checked, 0);
    assert_int_equal(bad, 0);
    append_n(st, 6);
    assert_int_equal(signer_store_audit_verify(st, &checked, &bad), SIGNER_STORE_OK);
    assert_int_equal(checked, 6);
    signer_store_close(st);
    assert_int_equal(raw_int("SELECT count(*) FROM audit WHERE prev = (SELECT hash FROM audit "
                             "WHERE seq = 3) AND seq = 4"),
                     1);

    /* the triggers refuse edits and deletions */
    sqlite3 *db = raw_open();
    assert_int_not_equal(raw_exec(db, "UPDATE audit SET outcome='x' WHERE seq=3"), SQLITE_OK);
    assert_int_not_equal(raw_exec(db, "DELETE FROM audit WHERE seq=6"), SQLITE_OK);
    /* with the trigger dropped, an edit of row 4 is found at row 4 */
    assert_int_equal(raw_exec(db, "DROP TRIGGER audit_no_update"), SQLITE_OK);
    assert_int_equal(raw_exec(db, "UPDATE audit SET outcome='forged' WHERE seq=4"), SQLITE_OK);
    sqlite3_close(db);
    st = open_store();
    assert_int_equal(signer_store_audit_verify(st, &checked, &bad), SIGNER_STORE_ERR_AUDIT_BROKEN);
    assert_int_equal(bad, 4);
    assert_int_equal(checked, 3);
    assert_non_null(strstr(signer_store_last_detail(), "audit row 4"));
    assert_int_equal(signer_store_check(st), SIGNER_STORE_ERR_AUDIT_BROKEN);
    signer_store_close(st);

    /* row 4 restored, row 2's NULL request digest turned into "": a change too */
    db = raw_open();
    assert_int_equal(raw_exec(db, "UPDATE audit SET outcome='' WHERE seq=4"), SQLITE_OK);
    assert_int_equal(raw_exec(db, "UPDATE audit SET request_digest='' WHERE seq=2"), SQLITE_OK);
    sqlite3_close(db);
    st = open_store();
    assert_int_equal(signer_store_audit_verify(st, &checked, &bad), SIGNER_STORE_ERR_AUDIT_BROKEN);
    assert_int_equal(bad, 2);
    signer_store_close(st);

    /* a deleted row is named by the first missing seq */
    db = raw_open();
    assert_int_equal(raw_exec(db, "UPDATE audit SET request_digest=NULL WHERE seq=2"), SQLITE_OK);
    assert_int_equal(raw_exec(db, "DROP TRIGGER audit_no_delete"), SQLITE_OK);
    assert_int_equal(raw_exec(db, "DELETE FROM audit WHERE seq=3"), SQLITE_OK);
    sqlite3_close(db);
    st = open_store();
    assert_int_equal(signer_store_audit_verify(st, &checked, &bad), SIGNER_STORE_ERR_AUDIT_BROKEN);
    assert_int_equal(bad, 3);
    assert_int_equal(checked, 2);
    signer_store_close(st);
}

static long long audit_kind_count(const char *kind)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM audit WHERE kind='%s'", kind);
    return raw_int(sql);
}

/* A refresh/reshare's life on one node: the new epoch pending beside the active one (which
 * stays the one to sign with), the switch in one step, the old epoch retired then deleted;
 * a reshare that never completes is dropped without touching the active epoch. */
static void test_share_epochs(void **state)
{
    (void)state;
    signer_store *st = open_store();
    signer_share_row r, e1, got;
    make_row(&r, 1, 100);
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_activate(st, r.key_id), SIGNER_STORE_OK);
    /* the reshare's share, epoch 1, another fingerprint and blob */
    make_row(&e1, 1, 120);
    e1.epoch = 1;
    memset(e1.fingerprint, 0xe1, 32);
    e1.t = 3;
    e1.n = 3;
    /* a later epoch cannot skip the rules: none with epoch 0 ... */
    assert_int_equal(signer_store_share_switch_epoch(st, r.key_id, 1), SIGNER_STORE_ERR_NOT_FOUND);
    assert_int_equal(signer_store_share_put_pending(st, &e1), SIGNER_STORE_OK);
    assert_int_equal(audit_kind_count("reshare"), 1); /* committed: another reader sees it */
    /* epoch 0 is still the share to sign with */
    assert_int_equal(signer_store_share_get(st, r.key_id, &got), SIGNER_STORE_OK);
    assert_int_equal(got.epoch, 0);
    assert_int_equal(got.status, SIGNER_SHARE_ACTIVE);
    assert_memory_equal(got.fingerprint, r.fingerprint, 32);
    signer_share_row_clear(&got);
    assert_int_equal(signer_store_share_get_epoch(st, r.key_id, 1, &got), SIGNER_STORE_OK);
    assert_int_equal(got.status, SIGNER_SHARE_PENDING);
    assert_int_equal(got.t, 3);
    assert_int_equal(got.blob_len, 120);
    signer_share_row_clear(&got);
    /* one pending epoch at a time; never an epoch at or below a stored one */
    e1.epoch = 2;
    assert_int_equal(signer_store_share_put_pending(st, &e1), SIGNER_STORE_ERR_EXISTS);
    e1.epoch = 0;
    assert_int_equal(signer_store_share_put_pending(st, &e1), SIGNER_STORE_ERR_EXISTS);
    e1.epoch = 1;
    /* keygen activation never switches epochs */
    assert_int_equal(signer_store_share_activate(st, r.key_id), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_get(st, r.key_id, &got), SIGNER_STORE_OK);
    assert_int_equal(got.epoch, 0);
    signer_share_row_clear(&got);
    /* RETIRE before the switch: refused for the active epoch, wrong call for the pending */
    assert_int_equal(signer_store_share_retire(st, r.key_id, 0, 0), SIGNER_STORE_ERR_ACTIVE);
    assert_int_equal(signer_store_share_retire(st, r.key_id, 1, 0), SIGNER_STORE_ERR_ARG);
    uint64_t seq = audit_seq(st);
    /* the switch: epoch 1 active, epoch 0 retired, one audit row */
    assert_int_equal(signer_store_share_switch_epoch(st, r.key_id, 1), SIGNER_STORE_OK);
    assert_int_equal(audit_seq(st), seq + 1);
    assert_int_equal(signer_store_share_get(st, r.key_id, &got), SIGNER_STORE_OK);
    assert_int_equal(got.epoch, 1);
    assert_int_equal(got.status, SIGNER_SHARE_ACTIVE);
    assert_memory_equal(got.fingerprint, e1.fingerprint, 32);
    signer_share_row_clear(&got);
    assert_int_equal(signer_store_share_get_epoch(st, r.key_id, 0, &got), SIGNER_STORE_OK);
    assert_int_equal(got.status, SIGNER_SHARE_RETIRED);
    assert_true(got.retired > 0);
    signer_share_row_clear(&got);
    /* idempotent; a retired epoch never comes back */
    assert_int_equal(signer_store_share_switch_epoch(st, r.key_id, 1), SIGNER_STORE_OK);
    assert_int_equal(audit_seq(st), seq + 1);
    assert_int_equal(signer_store_share_switch_epoch(st, r.key_id, 0), SIGNER_STORE_ERR_RETIRED);
    assert_int_equal(signer_store_share_switch_epoch(st, r.key_id, 7), SIGNER_STORE_ERR_NOT_FOUND);
    signer_store_close(st);

    /* the database itself: a retired share is frozen, an active one only ever retires, two
     * active epochs of one key cannot exist */
    sqlite3 *db = raw_open();
    assert_int_not_equal(raw_exec(db, "UPDATE shares SET status='active' WHERE epoch=0"),
                         SQLITE_OK);
    assert_int_not_equal(raw_exec(db, "UPDATE shares SET status='pending' WHERE epoch=1"),
                         SQLITE_OK);
    assert_int_not_equal(raw_exec(db, "UPDATE shares SET blob=x'00' WHERE epoch=1"), SQLITE_OK);
    assert_int_not_equal(raw_exec(db, "DELETE FROM shares WHERE epoch=1"), SQLITE_OK);
    assert_int_not_equal(raw_exec(db, "INSERT INTO shares(key_id, epoch, status, t, n, idx,"
                                      " public_key, chain_code, fingerprint, blob, identities,"
                                      " created) SELECT key_id, 5, 'active', t, n, idx,"
                                      " public_key, chain_code, fingerprint, blob, identities,"
                                      " created FROM shares WHERE epoch=1"),
                         SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(raw_int("SELECT count(*) FROM shares WHERE status='active'"), 1);

    /* RETIRE deletes the old epoch (audit row); repeated: NOT_FOUND, nothing written */
    st = open_store();
    assert_int_equal(signer_store_share_retire(st, r.key_id, 0, 0), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_get_epoch(st, r.key_id, 0, &got),
                     SIGNER_STORE_ERR_NOT_FOUND);
    seq = audit_seq(st);
    assert_int_equal(signer_store_share_retire(st, r.key_id, 0, 0), SIGNER_STORE_ERR_NOT_FOUND);
    assert_int_equal(audit_seq(st), seq);
    /* a next reshare that is abandoned (the hub drops it): the active epoch is untouched */
    e1.epoch = 2;
    assert_int_equal(signer_store_share_put_pending(st, &e1), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_remove_pending(st, r.key_id), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_get_epoch(st, r.key_id, 2, &got),
                     SIGNER_STORE_ERR_NOT_FOUND);
    assert_int_equal(signer_store_share_get(st, r.key_id, &got), SIGNER_STORE_OK);
    assert_int_equal(got.epoch, 1);
    assert_int_equal(got.status, SIGNER_SHARE_ACTIVE);
    signer_share_row_clear(&got);
    assert_int_equal(signer_store_share_remove_pending(st, r.key_id), SIGNER_STORE_ERR_ACTIVE);
    /* a replacement node: its first share of the key is a later epoch, activated by switch */
    signer_share_row nw;
    make_row(&nw, 9, 60);
    nw.epoch = 4;
    nw.imported = 1;
    assert_int_equal(signer_store_share_put_pending(st, &nw), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_switch_epoch(st, nw.key_id, 4), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_get(st, nw.key_id, &got), SIGNER_STORE_OK);
    assert_int_equal(got.epoch, 4);
    assert_int_equal(got.imported, 1);
    assert_int_equal(got.status, SIGNER_SHARE_ACTIVE);
    signer_share_row_clear(&got);
    assert_int_equal(signer_store_check(st), SIGNER_STORE_OK);
    signer_store_close(st);
    assert_int_equal(audit_kind_count("reshare"), 3);
    assert_int_equal(audit_kind_count("retire"), 1);
    assert_int_equal(raw_int("SELECT count(*) FROM audit WHERE kind='activate' AND outcome="
                             "'active epoch 1, epoch 0 retired'"),
                     1);
}

/* A node that is not in the new committee deletes its still-active share only when told it
 * is leaving (after the hub saw every new party acknowledge). */
static void test_share_leaving_node(void **state)
{
    (void)state;
    signer_store *st = open_store();
    signer_share_row r, got;
    make_row(&r, 3, 80);
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_retire(st, r.key_id, 0, 1), SIGNER_STORE_ERR_ARG);
    assert_int_equal(signer_store_share_activate(st, r.key_id), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_retire(st, r.key_id, 0, 0), SIGNER_STORE_ERR_ACTIVE);
    assert_int_equal(signer_store_share_retire(st, r.key_id, 0, 1), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_get(st, r.key_id, &got), SIGNER_STORE_ERR_NOT_FOUND);
    assert_int_equal(signer_store_share_retire(st, "zz", 0, 1), SIGNER_STORE_ERR_ARG);
    assert_int_equal(signer_store_share_switch_epoch(st, NULL, 0), SIGNER_STORE_ERR_ARG);
    assert_int_equal(signer_store_share_get_epoch(st, r.key_id, 0, NULL), SIGNER_STORE_ERR_ARG);
    assert_int_equal(signer_store_audit_verify(st, NULL, NULL), SIGNER_STORE_OK);
    signer_store_close(st);
    assert_int_equal(raw_int("SELECT count(*) FROM audit WHERE kind='retire' AND outcome LIKE "
                             "'%left the committee%'"),
                     1);
    assert_int_equal(raw_int("SELECT count(*) FROM shares"), 0);
}

/* The operator's drop-stale: only this node's ACTIVE share of the named epoch goes (retired
 * and deleted in one transaction, audited); a pending share, a wrong epoch or an unknown key
 * change nothing; afterwards the key takes a new pending share of a later epoch (the node
 * rejoins like a replacement). */
static void test_share_drop_stale(void **state)
{
    (void)state;
    signer_store *st = open_store();
    signer_share_row r, got;
    make_row(&r, 4, 80);
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_drop_stale(st, r.key_id, 0), SIGNER_STORE_ERR_NOT_FOUND);
    assert_int_equal(signer_store_share_activate(st, r.key_id), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_drop_stale(st, r.key_id, 1), SIGNER_STORE_ERR_NOT_FOUND);
    assert_int_equal(signer_store_share_drop_stale(st, "zz", 0), SIGNER_STORE_ERR_ARG);
    assert_int_equal(signer_store_share_get(st, r.key_id, &got), SIGNER_STORE_OK);
    signer_share_row_clear(&got);
    assert_int_equal(signer_store_share_drop_stale(st, r.key_id, 0), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_get(st, r.key_id, &got), SIGNER_STORE_ERR_NOT_FOUND);
    make_row(&r, 4, 80);
    r.epoch = 3; /* the key's epoch when the node comes back */
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_OK);
    assert_int_equal(signer_store_audit_verify(st, NULL, NULL), SIGNER_STORE_OK);
    signer_store_close(st);
    assert_int_equal(raw_int("SELECT count(*) FROM audit WHERE kind='retire' AND outcome LIKE "
                             "'stale active epoch 0 dropped%'"),
                     1);
    assert_int_equal(raw_int("SELECT count(*) FROM shares WHERE epoch = 0"), 0);
}

/* The version-1 schema exactly as released (frozen: a database written by the daemon
 * before epochs existed). */
static const char schema_v1_frozen[] =
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
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "PRAGMA user_version = 1;";

/* Inserts make_row(i) into a version-1 database as status. */
static void v1_insert(sqlite3 *db, unsigned i, const char *status)
{
    signer_share_row r;
    make_row(&r, i, 90);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO shares VALUES(?,?,2,3,?,?,?,?,?,"
                                        "'[{\"index\":1,\"id\":\"node-1\",\"fp\":\"" //
                                        "1010101010101010101010101010101010101010101010101010"
                                        "101010101010\"},{\"index\":2,\"id\":\"node-2\",\"fp\":"
                                        "\"11111111111111111111111111111111111111111111111111"
                                        "11111111111111\"},{\"index\":3,\"id\":\"node-3\","
                                        "\"fp\":\"1212121212121212121212121212121212121212121"
                                        "212121212121212121212\"}]',?,1700000000,?)",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(s, 1, r.key_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, (int)r.index);
    sqlite3_bind_blob(s, 4, r.public_key, 33, SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 5, r.chain_code, 32, SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 6, r.fingerprint, 32, SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 7, r.blob, (int)r.blob_len, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 8, r.session, -1, SQLITE_TRANSIENT);
    if (strcmp(status, "active") == 0)
        sqlite3_bind_int64(s, 9, 1700000001);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
}

/* A database of the version-1 schema (before epochs) opens, is migrated in place and keeps
 * working: its shares become epoch 0 with their status, bytes and order; used sids, bans and
 * the audit chain survive; the old rules still hold; a reshare then works on it. */
static void test_v1_database_migrates(void **state)
{
    (void)state;
    char src[320];
    static const uint8_t used_sid[32] = {0x5a, 1, 2, 3};
    /* audit rows made by the store's own code, copied into the version-1 file */
    snprintf(src, sizeof src, "%s/src.db", dir);
    signer_store *st = NULL;
    assert_int_equal(signer_store_open(src, &st), SIGNER_STORE_OK);
    append_n(st, 3);
    signer_store_close(st);
    sqlite3 *db = raw_open();
    assert_int_equal(raw_exec(db, "PRAGMA journal_mode=WAL"), SQLITE_OK);
    assert_int_equal(raw_exec(db, schema_v1_frozen), SQLITE_OK);
    v1_insert(db, 4, "active");
    v1_insert(db, 2, "pending");
    char sql[1024];
    snprintf(sql, sizeof sql,
             "ATTACH '%s' AS src; INSERT INTO audit SELECT * FROM src.audit; DETACH src;"
             "INSERT INTO used_sids VALUES(x'5a010203%056d', 'sign', 1700000002);"
             "INSERT INTO bans VALUES(x'%064d', 'node-3', 'ot_check', NULL, 1700000003);",
             src, 0, 7);
    assert_int_equal(raw_exec(db, sql), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(raw_int("PRAGMA user_version"), 1);

    st = open_store();
    assert_int_equal(raw_int("PRAGMA user_version"), 4);
    assert_int_equal(raw_int("SELECT count(*) FROM requests"), 0); /* v3: request ids */
    assert_int_equal(raw_int("SELECT count(*) FROM staged"), 0);   /* v4: staged inputs */
    assert_int_equal(signer_store_check(st), SIGNER_STORE_OK);
    assert_int_equal(audit_seq(st), 3);
    signer_share_row a, p, got;
    make_row(&p, 2, 90);
    make_row(&a, 4, 90); /* last: make_row's blob bytes are shared */
    assert_int_equal(signer_store_share_get(st, a.key_id, &got), SIGNER_STORE_OK);
    assert_int_equal(got.status, SIGNER_SHARE_ACTIVE);
    assert_int_equal(got.epoch, 0);
    assert_int_equal(got.imported, 0);
    assert_int_equal(got.activated, 1700000001);
    assert_int_equal(got.identity_count, 3);
    assert_string_equal(got.identities[2].id, "node-3");
    assert_int_equal(got.blob_len, 90);
    assert_memory_equal(got.blob, a.blob, 90);
    assert_memory_equal(got.fingerprint, a.fingerprint, 32);
    signer_share_row_clear(&got);
    assert_int_equal(signer_store_share_get(st, p.key_id, &got), SIGNER_STORE_OK);
    assert_int_equal(got.status, SIGNER_SHARE_PENDING);
    assert_int_equal(got.epoch, 0);
    signer_share_row_clear(&got);
    list_ctx c = {st, 0, 0, {{0}}};
    assert_int_equal(signer_store_share_list(st, list_cb, &c), SIGNER_STORE_OK);
    assert_int_equal(c.calls, 2);
    assert_string_equal(c.seen[0], a.key_id); /* order kept */
    assert_string_equal(c.seen[1], p.key_id);
    assert_int_equal(signer_store_sid_claim(st, used_sid, "sign"), 1);
    assert_int_equal(signer_store_share_put_pending(st, &a), SIGNER_STORE_ERR_EXISTS);
    /* a refresh of the migrated key */
    signer_share_row e1;
    make_row(&e1, 4, 40);
    e1.epoch = 1;
    assert_int_equal(signer_store_share_put_pending(st, &e1), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_switch_epoch(st, a.key_id, 1), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_retire(st, a.key_id, 0, 0), SIGNER_STORE_OK);
    assert_int_equal(signer_store_check(st), SIGNER_STORE_OK);
    signer_store_close(st);
    assert_int_equal(raw_int("SELECT count(*) FROM bans"), 1);
    /* the old rules hold on the migrated table */
    db = raw_open();
    assert_int_not_equal(raw_exec(db, "DELETE FROM shares WHERE status='active'"), SQLITE_OK);
    sqlite3_close(db);
    /* reopening a migrated database changes nothing */
    st = open_store();
    assert_int_equal(raw_int("PRAGMA user_version"), 4);
    signer_store_close(st);
}

/* A write that runs out of space fails with ERR_FULL and leaves nothing behind: no pending
 * share, no audit row; the store works again once there is room. */
static void test_full_disk(void **state)
{
    (void)state;
    signer_store *st = open_store();
    signer_share_row r, got;
    make_row(&r, 1, 100);
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_OK);
    long long pages = raw_int("PRAGMA page_count");
    assert_int_equal(signer_store_test_max_pages(st, (unsigned)pages), (unsigned)pages);
    make_row(&r, 2, sizeof blob_bytes);
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_ERR_FULL);
    assert_non_null(strstr(signer_store_last_detail(), db_path));
    assert_int_equal(signer_store_share_get(st, r.key_id, &got), SIGNER_STORE_ERR_NOT_FOUND);
    assert_int_equal(audit_seq(st), 1);
    /* small writes that still fit keep working; then fill the last page with sids */
    uint8_t sid[32] = {0};
    int full = 0;
    for (int i = 0; i < 2000 && !full; i++) {
        memcpy(sid, &i, sizeof i);
        int rc = signer_store_sid_claim(st, sid, "sign");
        assert_true(rc == 0 || rc == -1);
        full = rc == -1;
    }
    assert_true(full);
    assert_int_equal(signer_store_sid_claim(st, sid, "sign"), -1); /* not recorded */
    /* bans (and their audit rows) until they no longer fit: the failed one left nothing */
    uint8_t fp[32] = {0};
    int bans = 0;
    signer_store_err err = SIGNER_STORE_OK;
    for (; bans < 2000; bans++) {
        memcpy(fp, &bans, sizeof bans);
        if ((err = signer_store_ban_add(st, fp, "node-1", "ot_check", NULL)) != SIGNER_STORE_OK)
            break;
    }
    assert_int_equal(err, SIGNER_STORE_ERR_FULL);
    uint64_t audit_rows = audit_seq(st);
    assert_int_equal(audit_rows, 1 + (uint64_t)bans);
    signer_store_close(st);
    st = open_store(); /* max_page_count is per connection: room again */
    assert_int_equal(signer_store_check(st), SIGNER_STORE_OK);
    assert_int_equal(signer_store_sid_claim(st, sid, "sign"), 0);
    assert_int_equal(raw_int("SELECT count(*) FROM bans"), bans);
    assert_int_equal(signer_store_share_put_pending(st, &r), SIGNER_STORE_OK);
    assert_int_equal(audit_seq(st), audit_rows + 1);
    signer_store_close(st);
}

/* ---- a failed COMMIT ------------------------------------------------------------------ */

/* A VFS over the default one whose xSync fails while fail_sync is set: COMMIT (which
 * fsyncs the WAL) then fails the way a dying disk makes it fail. */
static sqlite3_vfs *base_vfs, shim_vfs;
static volatile int fail_sync;

typedef struct {
    sqlite3_file base; /* pMethods = &shim_io */
    sqlite3_file *real;
} shim_file;

#define REAL(f) (((shim_file *)(f))->real)
static int shim_close(sqlite3_file *f)
{
    int rc = REAL(f)->pMethods->xClose(REAL(f));
    sqlite3_free(REAL(f));
    return rc;
}
static int shim_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
    return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int shim_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
    return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int shim_truncate(sqlite3_file *f, sqlite3_int64 n)
{
    return REAL(f)->pMethods->xTruncate(REAL(f), n);
}
static int shim_sync(sqlite3_file *f, int flags)
{
    if (fail_sync)
        return SQLITE_IOERR_FSYNC;
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int shim_size(sqlite3_file *f, sqlite3_int64 *n)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), n);
}
static int shim_lock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int shim_unlock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int shim_reserved(sqlite3_file *f, int *r)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), r);
}
static int shim_fcntl(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int shim_sector(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int shim_devchar(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int shim_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **p)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, p);
}
static int shim_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void shim_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int shim_shm_unmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}
static int shim_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **p)
{
    return REAL(f)->pMethods->xFetch(REAL(f), o, n, p);
}
static int shim_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p)
{
    return REAL(f)->pMethods->xUnfetch(REAL(f), o, p);
}

static const sqlite3_io_methods shim_io = {
    3,
    shim_close,
    shim_read,
    shim_write,
    shim_truncate,
    shim_sync,
    shim_size,
    shim_lock,
    shim_unlock,
    shim_reserved,
    shim_fcntl,
    shim_sector,
    shim_devchar,
    shim_shm_map,
    shim_shm_lock,
    shim_shm_barrier,
    shim_shm_unmap,
    shim_fetch,
    shim_unfetch,
};

static int shim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    shim_file *s = (shim_file *)f;
    s->base.pMethods = NULL;
    s->real = sqlite3_malloc(base_vfs->szOsFile);
    if (!s->real)
        return SQLITE_NOMEM;
    memset(s->real, 0, (size_t)base_vfs->szOsFile);
    int rc = base_vfs->xOpen(base_vfs, name, s->real, flags, out);
    if (rc != SQLITE_OK || !s->real->pMethods) {
        sqlite3_free(s->real);
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    s->base.pMethods = &shim_io;
    return SQLITE_OK;
}

static int shim_delete(sqlite3_vfs *v, const char *n, int d)
{
    (void)v;
    return base_vfs->xDelete(base_vfs, n, d);
}
static int shim_access(sqlite3_vfs *v, const char *n, int flags, int *out)
{
    (void)v;
    return base_vfs->xAccess(base_vfs, n, flags, out);
}
static int shim_fullpath(sqlite3_vfs *v, const char *n, int cap, char *out)
{
    (void)v;
    return base_vfs->xFullPathname(base_vfs, n, cap, out);
}
static int shim_random(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return base_vfs->xRandomness(base_vfs, n, out);
}
static int shim_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return base_vfs->xSleep(base_vfs, us);
}
static int shim_time(sqlite3_vfs *v, double *t)
{
    (void)v;
    return base_vfs->xCurrentTime(base_vfs, t);
}
static int shim_error(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return base_vfs->xGetLastError(base_vfs, n, out);
}
static int shim_time64(sqlite3_vfs *v, sqlite3_int64 *t)
{
    (void)v;
    return base_vfs->xCurrentTimeInt64(base_vfs, t);
}

static void shim_install(void)
{
    base_vfs = sqlite3_vfs_find(NULL);
    assert_non_null(base_vfs);
    shim_vfs = (sqlite3_vfs){.iVersion = 2,
                             .szOsFile = (int)sizeof(shim_file),
                             .mxPathname = base_vfs->mxPathname,
                             .zName = "fail-sync",
                             .xOpen = shim_open,
                             .xDelete = shim_delete,
                             .xAccess = shim_access,
                             .xFullPathname = shim_fullpath,
                             .xRandomness = shim_random,
                             .xSleep = shim_sleep,
                             .xCurrentTime = shim_time,
                             .xGetLastError = shim_error,
                             .xCurrentTimeInt64 = shim_time64};
    assert_int_equal(sqlite3_vfs_register(&shim_vfs, 1), SQLITE_OK);
}

/* COMMIT fails (the WAL fsync): the call returns an error, the store shows nothing of it,
 * and it keeps working; after reopening, nothing of it either. */
static void test_failed_commit(void **state)
{
    (void)state;
    shim_install();
    signer_store *st = open_store();
    signer_share_row a, b, got;
    make_row(&a, 1, 3000);
    make_row(&b, 2, 100);
    assert_int_equal(signer_store_share_put_pending(st, &a), SIGNER_STORE_OK);
    uint8_t sid[32] = {9}, fp[32] = {8};

    fail_sync = 1;
    assert_int_equal(signer_store_share_put_pending(st, &b), SIGNER_STORE_ERR_IO);
    assert_non_null(strstr(signer_store_last_detail(), db_path));
    assert_int_equal(signer_store_share_activate(st, a.key_id), SIGNER_STORE_ERR_IO);
    assert_int_equal(signer_store_sid_claim(st, sid, "sign"), -1);
    assert_int_equal(signer_store_ban_add(st, fp, "node-1", "ot_check", NULL), SIGNER_STORE_ERR_IO);
    fail_sync = 0;

    assert_int_equal(signer_store_share_get(st, b.key_id, &got), SIGNER_STORE_ERR_NOT_FOUND);
    assert_int_equal(signer_store_share_get(st, a.key_id, &got), SIGNER_STORE_OK);
    assert_int_equal(got.status, SIGNER_SHARE_PENDING);
    signer_share_row_clear(&got);
    assert_int_equal(audit_seq(st), 1);
    ban_ctx c = {0};
    assert_int_equal(signer_store_ban_load(st, ban_load_cb, &c), SIGNER_STORE_OK);
    assert_int_equal(c.n, 0);
    /* still usable: a small transaction after the failed big one */
    uint8_t other[32] = {7};
    assert_int_equal(signer_store_sid_claim(st, other, "sign"), 0);
    signer_store_close(st);

    st = open_store();
    assert_int_equal(signer_store_check(st), SIGNER_STORE_OK);
    assert_int_equal(signer_store_share_get(st, b.key_id, &got), SIGNER_STORE_ERR_NOT_FOUND);
    assert_int_equal(signer_store_sid_claim(st, sid, "sign"), 0);
    assert_int_equal(signer_store_share_put_pending(st, &b), SIGNER_STORE_OK);
    assert_int_equal(audit_seq(st), 2);
    signer_store_close(st);
    sqlite3_vfs_unregister(&shim_vfs);
}

/* Four threads claiming sids and appending audit rows on one store. */
typedef struct {
    signer_store *st;
    int id;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *w = p;
    for (int i = 0; i < 50; i++) {
        uint8_t sid[32] = {0};
        sid[0] = (uint8_t)w->id;
        memcpy(sid + 1, &i, sizeof i);
        if (signer_store_sid_claim(w->st, sid, "sign") != 0)
            return (void *)1;
        if (i % 5 == 0 && signer_store_audit_append(w->st, SIGNER_AUDIT_SIGN, NULL, NULL, NULL,
                                                    NULL, "ok") != SIGNER_STORE_OK)
            return (void *)1;
    }
    return NULL;
}

static void test_concurrent_callers(void **state)
{
    (void)state;
    signer_store *st = open_store();
    pthread_t t[4];
    worker_arg w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker_arg){st, i};
        assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        assert_null(ret);
    }
    uint64_t checked;
    assert_int_equal(signer_store_audit_verify(st, &checked, NULL), SIGNER_STORE_OK);
    assert_int_equal(checked, 40);
    signer_store_close(st);
    assert_int_equal(raw_int("SELECT count(*) FROM used_sids"), 200);
}

/* ---- kill -9 --------------------------------------------------------------------------- */

/* The child reports each operation on the pipe after it returned OK ("P key", "A key",
 * "S sid"). Lines are shorter than PIPE_BUF, so each write is all or nothing. */
static void child_loop(int wfd, unsigned round)
{
    signer_store *st = NULL;
    if (signer_store_open(db_path, &st) != SIGNER_STORE_OK)
        _exit(2);
    for (unsigned i = 0;; i++) {
        char line[128];
        if (i % 3 == 0) {
            signer_share_row r;
            make_row(&r, 0, 200 + i % 5000);
            snprintf(r.key_id, sizeof r.key_id, "%08x%024x", round, i);
            if (signer_store_share_put_pending(st, &r) != SIGNER_STORE_OK)
                _exit(3);
            snprintf(line, sizeof line, "P %s\n", r.key_id);
            if (write(wfd, line, strlen(line)) < 0)
                _exit(4);
            if (i % 2 == 0) {
                if (signer_store_share_activate(st, r.key_id) != SIGNER_STORE_OK)
                    _exit(3);
                snprintf(line, sizeof line, "A %s\n", r.key_id);
                if (write(wfd, line, strlen(line)) < 0)
                    _exit(4);
            }
        } else {
            uint8_t sid[32] = {0};
            memcpy(sid, &round, sizeof round);
            memcpy(sid + 8, &i, sizeof i);
            if (signer_store_sid_claim(st, sid, "sign") != 0)
                _exit(5);
            snprintf(line, sizeof line, "S %08x %08x\n", round, i);
            if (write(wfd, line, strlen(line)) < 0)
                _exit(4);
        }
    }
}

typedef struct {
    char *buf;
    size_t len, cap;
} text;

static int64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads what the child wrote until deadline (CLOCK_MONOTONIC ms), or until EOF when
 * deadline is 0. */
static void drain(int fd, text *t, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline ? deadline - ms_now() : 1000;
        if (left <= 0)
            return;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0)
            return;
        if (t->cap - t->len < 4096) {
            t->cap = t->cap * 2 + 8192;
            t->buf = realloc(t->buf, t->cap);
            assert_non_null(t->buf);
            t->buf[t->len] = 0; /* also when the child wrote nothing at all */
        }
        ssize_t n = read(fd, t->buf + t->len, t->cap - t->len - 1);
        if (n <= 0)
            return;
        t->len += (size_t)n;
        t->buf[t->len] = 0;
    }
}

/* Every operation the child reported is in the reopened store. */
static void check_reported(signer_store *st, const text *t, size_t *shares, size_t *sids)
{
    char *save = NULL, *copy = strdup(t->buf ? t->buf : "");
    assert_non_null(copy);
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        signer_share_row got;
        if (l[0] == 'P' || l[0] == 'A') {
            assert_int_equal(signer_store_share_get(st, l + 2, &got), SIGNER_STORE_OK);
            if (l[0] == 'A')
                assert_int_equal(got.status, SIGNER_SHARE_ACTIVE);
            else
                (*shares)++;
            signer_share_row_clear(&got);
        } else {
            unsigned round, i;
            if (sscanf(l, "S %x %x", &round, &i) != 2)
                fail_msg("unexpected report from the child: '%s'", l);
            uint8_t sid[32] = {0};
            memcpy(sid, &round, sizeof round);
            memcpy(sid + 8, &i, sizeof i);
            assert_int_equal(signer_store_sid_claim(st, sid, "sign"), 1);
            (*sids)++;
        }
    }
    free(copy);
}

static void test_kill9(void **state)
{
    (void)state;
    const char *env = getenv("MPC_STORE_KILL_ROUNDS");
    int rounds = env ? atoi(env) : 10;
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    size_t shares = 0, sids = 0;
    for (int round = 1; round <= rounds; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_loop(fds[1], (unsigned)round);
        }
        close(fds[1]);
        text t = {0};
        drain(fds[0], &t, ms_now() + 5 + rand() % 300);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        /* killed, not failed: an early exit would mean an operation errored */
        if (!WIFSIGNALED(status))
            fail_msg("round %d (seed %u): child exited with %d", round, seed, WEXITSTATUS(status));
        drain(fds[0], &t, 0); /* to EOF: the child is gone */
        close(fds[0]);
        signer_store *st = open_store();
        assert_int_equal(signer_store_check(st), SIGNER_STORE_OK);
        check_reported(st, &t, &shares, &sids);
        signer_store_close(st);
        free(t.buf);
    }
    print_message("kill -9: %d rounds (seed %u), %zu shares and %zu sids reported and found\n",
                  rounds, seed, shares, sids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_and_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_share_put_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_share_bad_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_share_activate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_share_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_share_remove_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_share_epochs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_share_leaving_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_share_drop_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v1_database_migrates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sid_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_callers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
