/* tests/signerd/test_refresh_e2e.c — a refresh through the real product (tests/support/
 * deploy.h: a real mpc-hubd and three real mpc-signerd on swtpm, SoftHSM2 and soft): a
 * 2-of-3 key, POST /v1/keys/{id}/refresh (the hub's "reshare" session: session-start per
 * participant, results, activate with the epoch, acks, the new epoch recorded, retire of
 * the old one), GET shows epoch 1, every pair signs and each signature verifies under the
 * unchanged public key (libsecp256k1); a second refresh builds on the first one's public
 * data (epoch 2). Refusals change nothing: a body with fields, an unknown key, a party
 * offline (the epoch stays, the key still signs); a refresh that fails mid-way keeps the
 * old epoch, and the next refresh succeeds; results whose attestation does not verify or
 * whose key block differs (n3 runs the test build and lies) fail the refresh. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "deploy.h"

static deploy D;
static deploy_client *C;
static char key_id[33];
static uint8_t key_pk[33];
static const char *const PAIR[3][2] = {{"n1", "n2"}, {"n1", "n3"}, {"n2", "n3"}};

static int group_setup(void **state)
{
    (void)state;
    deploy_init(&D, "mpc-refresh-test", HUB_BIN, SIGNERD_BIN);
    D.node_bin[2] = SIGNERD_TEST_BIN; /* n3 runs the test build (it can lie in its results) */
    D.hub_session_timeout = 60;
    deploy_up(&D);
    C = deploy_client_new(&D, NULL);
    if (!C)
        deploy_die(&D, "client");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    deploy_client_free(C);
    int bad = deploy_stop_all_clean(&D) != 0;
    deploy_cleanup(&D);
    return bad;
}

/* GET /v1/keys/{id}: its epoch (-1 on failure) and public key (must be unchanged). */
static long key_epoch(void)
{
    char url[80];
    json_t *o = NULL;
    snprintf(url, sizeof url, "/v1/keys/%s", key_id);
    int st = deploy_client_request(C, "GET", url, NULL, &o);
    long e = -1;
    if (st == 200 && json_is_true(json_object_get(o, "reshareable")))
        e = (long)json_integer_value(json_object_get(o, "epoch"));
    char pk[67];
    for (int i = 0; i < 33; i++)
        snprintf(pk + 2 * i, 3, "%02x", key_pk[i]);
    if (st != 200 || strcmp(deploy_jstr(o, "public_key"), pk) != 0)
        e = -1;
    json_decref(o);
    return e;
}

static void sign_every_pair(void)
{
    for (int p = 0; p < 3; p++) {
        uint8_t hash[32];
        json_t *o = NULL;
        RAND_bytes(hash, 32);
        int st = deploy_sign(C, key_id, PAIR[p][0], PAIR[p][1], hash, &o);
        if (st != 200) {
            fprintf(stderr, "sign %s+%s: HTTP %d\n", PAIR[p][0], PAIR[p][1], st);
            deploy_dump_logs(&D);
        }
        assert_int_equal(st, 200);
        assert_int_equal(deploy_sig_verifies(o, key_pk, hash), 1);
        json_decref(o);
    }
}

/* POST refresh?wait=60: the HTTP status, the result's epoch in *epoch. */
static int refresh(const char *body, long *epoch, json_t **keep)
{
    char url[120];
    json_t *o = NULL;
    snprintf(url, sizeof url, "/v1/keys/%s/refresh?wait=60", key_id);
    double t0 = deploy_now_ms();
    int st = deploy_client_request(C, "POST", url, body, &o);
    if (st == 200)
        fprintf(stderr, "refresh 2-of-3: %.0f ms\n", deploy_now_ms() - t0);
    *epoch = st == 200 ? (long)json_integer_value(json_object_get(o, "epoch")) : -1;
    if (keep)
        *keep = o;
    else
        json_decref(o);
    return st;
}

/* Shares node i holds in status st (its store, read-only). */
static int shares_in(int i, const char *st)
{
    char path[256], sql[96];
    sqlite3 *db;
    sqlite3_stmt *q;
    snprintf(path, sizeof path, "%s/%s.db", D.dir, deploy_node[i]);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM shares WHERE status='%s'", st);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

/* A keygen answers 201 once the hub has activated the key; each signer applies the activate
 * frame a moment later, and a reshare deals only from an ACTIVE share (a pending one is
 * refused: "share of the key is pending"). Wait (up to 10 s) until every node has applied it. */
static void wait_all_active(void)
{
    for (int i = 0; i < 3; i++) {
        int waited = 0;
        while (shares_in(i, "pending") != 0 && waited < 10000) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
            waited += 20;
        }
        assert_int_equal(shares_in(i, "pending"), 0);
        assert_true(shares_in(i, "active") >= 1);
    }
}

static void test_refresh_then_sign(void **state)
{
    (void)state;
    long epoch = -1;
    json_t *o = NULL;
    assert_int_equal(deploy_keygen(C, key_id, key_pk), 201);
    wait_all_active();
    assert_int_equal(key_epoch(), 0);
    int st = refresh("{}", &epoch, &o);
    if (st != 200)
        deploy_dump_logs(&D);
    assert_int_equal(st, 200);
    assert_int_equal(epoch, 1);
    /* the session is recorded as a reshare, done */
    char url[80];
    json_t *s = NULL;
    snprintf(url, sizeof url, "/v1/sessions/%s", deploy_jstr(o, "session_id"));
    assert_int_equal(deploy_client_request(C, "GET", url, NULL, &s), 200);
    assert_string_equal(deploy_jstr(s, "kind"), "reshare");
    assert_string_equal(deploy_jstr(s, "status"), "done");
    json_decref(s);
    json_decref(o);
    assert_int_equal(key_epoch(), 1);
    sign_every_pair();
    /* the second refresh deals from epoch 1's shares and public data */
    assert_int_equal(refresh("{}", &epoch, NULL), 200);
    assert_int_equal(epoch, 2);
    assert_int_equal(key_epoch(), 2);
    sign_every_pair();
}

static void test_refresh_refused(void **state)
{
    (void)state;
    long epoch = 0;
    json_t *o = NULL;
    /* fields in the body */
    assert_int_equal(refresh("{\"threshold\":3}", &epoch, NULL), 400);
    /* an unknown key */
    char saved[33];
    memcpy(saved, key_id, 33);
    memcpy(key_id, "00000000000000000000000000000000", 33);
    assert_int_equal(refresh("{}", &epoch, NULL), 404);
    memcpy(key_id, saved, 33);
    /* a party offline: refused up front, the epoch stays and the key still signs */
    deploy_stop_pid(&D.node_pid[2], SIGTERM);
    assert_int_equal(deploy_wait_online(&D, 2, 0), 0);
    int st = refresh("{}", &epoch, &o);
    assert_int_equal(st, 422);
    assert_non_null(strstr(deploy_jstr(json_object_get(o, "error"), "message"), "offline"));
    json_decref(o);
    assert_int_equal(key_epoch(), 2);
    deploy_start_node(&D, 2, NULL, 0);
    assert_int_equal(deploy_wait_online(&D, 2, 1), 0);
    sign_every_pair();
}

/* A refresh that fails mid-way (n3 frozen, then killed, while the session runs) is a failed
 * session: the hub keeps the old epoch, every pair still signs with it, and a refresh after
 * n3's restart reaches the next epoch. */
static void test_refresh_failed_midway(void **state)
{
    (void)state;
    char url[120], sid[33];
    json_t *o = NULL;
    long epoch = 0;
    kill(D.node_pid[2], SIGSTOP);
    snprintf(url, sizeof url, "/v1/keys/%s/refresh", key_id);
    assert_int_equal(deploy_client_request(C, "POST", url, "{}", &o), 202);
    snprintf(sid, sizeof sid, "%s", deploy_jstr(o, "id"));
    json_decref(o);
    assert_int_equal(strlen(sid), 32);
    deploy_stop_pid(&D.node_pid[2], SIGKILL);
    snprintf(url, sizeof url, "/v1/sessions/%s", sid);
    const char *status = "";
    for (int tries = 0; tries < 100; tries++) {
        o = NULL;
        assert_int_equal(deploy_client_request(C, "GET", url, NULL, &o), 200);
        status = strcmp(deploy_jstr(o, "status"), "failed") == 0 ? "failed" : "";
        json_decref(o);
        if (status[0])
            break;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_string_equal(status, "failed");
    assert_int_equal(key_epoch(), 2);
    deploy_start_node(&D, 2, NULL, 0);
    assert_int_equal(deploy_wait_online(&D, 2, 1), 0);
    sign_every_pair();
    assert_int_equal(refresh("{}", &epoch, NULL), 200);
    assert_int_equal(epoch, 3);
    assert_int_equal(key_epoch(), 3);
    sign_every_pair();
}

/* The hub's checks of the new shares fire: n3 (test build) sends a result whose attestation
 * does not verify, then one whose key block differs from the others'. Each refresh fails
 * naming the check; the epoch stays and every pair signs; a clean refresh then succeeds. */
static void test_refresh_lying_results(void **state)
{
    (void)state;
    static const char *const mode[2] = {"reshare-att", "reshare-pub"};
    static const char *const code[2] = {"bad_attestation", "result_mismatch"};
    long epoch = 0;
    for (int m = 0; m < 2; m++) {
        json_t *o = NULL;
        deploy_stop_pid(&D.node_pid[2], SIGTERM);
        assert_int_equal(deploy_wait_online(&D, 2, 0), 0);
        deploy_start_node(&D, 2, mode[m], 0);
        assert_int_equal(deploy_wait_online(&D, 2, 1), 0);
        int st = refresh("{}", &epoch, &o);
        const char *msg = deploy_jstr(json_object_get(o, "error"), "message");
        if (st == 200 || !strstr(msg, code[m]))
            fprintf(stderr, "%s: HTTP %d: %s\n", mode[m], st, msg);
        assert_int_not_equal(st, 200);
        assert_non_null(strstr(msg, code[m]));
        json_decref(o);
        assert_int_equal(key_epoch(), 3);
        /* the nodes stored pending shares of epoch 4 before n3 lied: a retry to the same
         * epoch needs them removed (README "Recovery": shares remove-pending). A node may
         * still be storing its share when the hub has already failed the session, so the
         * operator's removal is repeated until no node has stored one for a while. */
        for (int quiet = 0, round = 0; quiet < 3 && round < 50; round++) {
            int removed = 0;
            for (int i = 0; i < DEPLOY_NODES; i++) {
                char conf[256];
                deploy_node_conf_path(&D, i, conf, sizeof conf);
                removed |= deploy_sh("%s --config %s shares remove-pending %s >/dev/null 2>&1",
                                     SIGNERD_BIN, conf, key_id) == 0;
            }
            quiet = removed ? 0 : quiet + 1;
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    deploy_stop_pid(&D.node_pid[2], SIGTERM);
    assert_int_equal(deploy_wait_online(&D, 2, 0), 0);
    deploy_start_node(&D, 2, NULL, 0);
    assert_int_equal(deploy_wait_online(&D, 2, 1), 0);
    sign_every_pair();
    assert_int_equal(refresh("{}", &epoch, NULL), 200);
    assert_int_equal(epoch, 4);
    sign_every_pair();
}

/* POST reshare?wait=60 with body: the HTTP status, the result's epoch (-1 if not 200). */
static long reshare(const char *body, int *status)
{
    char url[120];
    json_t *o = NULL;
    snprintf(url, sizeof url, "/v1/keys/%s/reshare?wait=60", key_id);
    double t0 = deploy_now_ms();
    *status = deploy_client_request(C, "POST", url, body, &o);
    long e = *status == 200 ? (long)json_integer_value(json_object_get(o, "epoch")) : -1;
    if (*status == 200)
        fprintf(stderr, "reshare %s: %.0f ms\n", body, deploy_now_ms() - t0);
    else
        fprintf(stderr, "reshare %s: HTTP %d: %s\n", body, *status,
                deploy_jstr(json_object_get(o, "error"), "message"));
    json_decref(o);
    return e;
}

/* Signs with the named parties (JSON array text); returns the HTTP status; a 200 must verify. */
static int sign_with(const char *parties)
{
    char url[120], body[300], h[65];
    uint8_t hash[32];
    json_t *o = NULL;
    RAND_bytes(hash, 32);
    for (int i = 0; i < 32; i++)
        snprintf(h + 2 * i, 3, "%02x", hash[i]);
    snprintf(body, sizeof body, "{\"hash\":\"%s\",\"parties\":%s}", h, parties);
    snprintf(url, sizeof url, "/v1/keys/%s/sign?wait=30", key_id);
    int st = deploy_client_request(C, "POST", url, body, &o);
    if (st == 200)
        assert_int_equal(deploy_sig_verifies(o, key_pk, hash), 1);
    json_decref(o);
    return st;
}

/* Reshare: 2-of-3 -> 3-of-3 -> 2-of-3 (same nodes), then to 2-of-2 {n2, n3} (dealer n1
 * outside the new committee answers "dealt" and loses its share), and back to 2-of-3 with
 * n1 rejoining. Every step signs under the unchanged key; bad requests change nothing. */
static void test_reshare(void **state)
{
    (void)state;
    int st = 0;
    assert_int_equal(reshare("{\"threshold\":4,\"parties\":[\"n1\",\"n2\",\"n3\"]}", &st), -1);
    assert_int_equal(st, 400);
    assert_int_equal(reshare("{\"threshold\":2,\"parties\":[\"n1\",\"n9\"]}", &st), -1);
    assert_int_not_equal(st, 200);
    assert_int_equal(reshare("{\"threshold\":2,\"parties\":[\"n1\",\"n1\"]}", &st), -1);
    assert_int_equal(st, 400);
    assert_int_equal(reshare("{\"parties\":[\"n1\",\"n2\"]}", &st), -1);
    assert_int_equal(st, 400);
    assert_int_equal(key_epoch(), 4);
    assert_int_equal(reshare("{\"threshold\":3,\"parties\":[\"n1\",\"n2\",\"n3\"]}", &st), 5);
    assert_int_equal(key_epoch(), 5);
    assert_int_equal(sign_with("[\"n1\",\"n2\",\"n3\"]"), 200);
    assert_int_equal(sign_with("[\"n1\",\"n2\"]"), 400); /* the hub: needs 3 signers */
    assert_int_equal(reshare("{\"threshold\":2,\"parties\":[\"n1\",\"n2\",\"n3\"]}", &st), 6);
    sign_every_pair();
    assert_int_equal(reshare("{\"threshold\":2,\"parties\":[\"n2\",\"n3\"]}", &st), 7);
    assert_int_equal(key_epoch(), 7);
    assert_int_equal(sign_with("[\"n2\",\"n3\"]"), 200);
    assert_int_not_equal(sign_with("[\"n1\",\"n2\"]"), 200); /* n1 holds no share now */
    assert_int_equal(reshare("{\"threshold\":2,\"parties\":[\"n1\",\"n2\",\"n3\"]}", &st), 8);
    sign_every_pair();
    /* n3, the last old party, leaves: it deals too, so the retire deletes its share; it
     * can then rejoin like a replacement */
    assert_int_equal(reshare("{\"threshold\":2,\"parties\":[\"n1\",\"n2\"]}", &st), 9);
    assert_int_equal(sign_with("[\"n1\",\"n2\"]"), 200);
    int gone = 0;
    for (int tries = 0; tries < 50 && !gone; tries++) {
        char conf[256];
        deploy_node_conf_path(&D, 2, conf, sizeof conf);
        gone = deploy_sh("%s --config %s shares list 2>/dev/null | grep -q %s", SIGNERD_BIN, conf,
                         key_id) != 0;
        struct timespec ts = {0, 100 * 1000 * 1000};
        if (!gone)
            nanosleep(&ts, NULL);
    }
    assert_true(gone);
    assert_int_equal(reshare("{\"threshold\":2,\"parties\":[\"n1\",\"n2\",\"n3\"]}", &st), 10);
    sign_every_pair();
}

int main(void)
{
    if (deploy_check_tools() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refresh_then_sign), cmocka_unit_test(test_refresh_refused),
        cmocka_unit_test(test_refresh_failed_midway), cmocka_unit_test(test_refresh_lying_results),
        cmocka_unit_test(test_reshare)};
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
