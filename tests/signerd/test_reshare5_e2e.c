/* tests/signerd/test_reshare5_e2e.c — issue 17's "reshare 2-of-3 -> 3-of-5 and back, with
 * a node replaced" through the real product (tests/support/deploy.h with nodes = 5: a real
 * mpc-hubd and five real mpc-signerd, n1 on swtpm, n2 on SoftHSM2, n3..n5 soft). A 2-of-3
 * key on n1..n3 is reshared to 3-of-5 on n1..n5: every 3-subset signs and each signature
 * verifies under the unchanged public key (libsecp256k1), a 2-subset is refused. Then n2 is
 * lost (SIGKILL) and the survivors reshare to 2-of-3 on {n1, n4, n5} (n2 replaced, n3
 * leaves): every pair signs; n3, online and out of the committee, deletes its share on the
 * retire; n2, restarted with its old epoch's share, cannot sign (the hub refuses it) nor
 * rejoin a committee (the reshare fails cleanly, the current epoch stays usable) until the
 * operator drops its stale share (`shares drop-stale KEY EPOCH`): then it rejoins like a
 * replacement and signs. Nobody is banned anywhere. */
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

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static int group_setup(void **state)
{
    (void)state;
    deploy_init(&D, "mpc-reshare5-test", HUB_BIN, SIGNERD_BIN);
    D.nodes = 5;
    D.hub_session_timeout = 60;
    double t0 = deploy_now_ms();
    deploy_up(&D);
    fprintf(stderr, "deploy_up with 5 signers: %.0f ms\n", deploy_now_ms() - t0);
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

/* GET /v1/keys/{id}: its epoch, threshold and party count (-1 each on failure, or if the
 * public key changed). */
static long key_epoch(long *t, long *n)
{
    char url[80], pk[67];
    json_t *o = NULL;
    snprintf(url, sizeof url, "/v1/keys/%s", key_id);
    int st = deploy_client_request(C, "GET", url, NULL, &o);
    for (int i = 0; i < 33; i++)
        snprintf(pk + 2 * i, 3, "%02x", key_pk[i]);
    int ok = st == 200 && strcmp(deploy_jstr(o, "public_key"), pk) == 0;
    long e = ok ? (long)json_integer_value(json_object_get(o, "epoch")) : -1;
    *t = ok ? (long)json_integer_value(json_object_get(o, "threshold")) : -1;
    *n = ok ? (long)json_array_size(json_object_get(o, "parties")) : -1;
    json_decref(o);
    return e;
}

/* Shares node i holds (its store, read-only) of this key: in status st, or of epoch epoch
 * in any status when st is NULL. */
static int shares_of_key(int i, const char *st, long epoch)
{
    char path[256];
    sqlite3 *db;
    sqlite3_stmt *q;
    snprintf(path, sizeof path, "%s/%s.db", D.dir, deploy_node[i]);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        st ? "SELECT count(*) FROM shares WHERE key_id = ?1 AND "
                                             "status = ?2"
                                           : "SELECT count(*) FROM shares WHERE key_id = ?1 AND "
                                             "epoch = ?3",
                                        -1, &q, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(q, 1, key_id, -1, SQLITE_STATIC);
    if (st)
        sqlite3_bind_text(q, 2, st, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(q, 3, epoch);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

/* The hub answers a keygen or reshare once it has activated the epoch; each signer applies
 * the activate frame a moment later, and a reshare deals only from an ACTIVE share. Waits
 * (up to 10 s each) until every node in nodes[0..k) holds an active share and no pending
 * one. */
static void wait_active(const int *nodes, int k)
{
    for (int j = 0; j < k; j++) {
        int i = nodes[j];
        for (int waited = 0; shares_of_key(i, "pending", 0) != 0 && waited < 10000; waited += 20)
            sleep_ms(20);
        assert_int_equal(shares_of_key(i, "pending", 0), 0);
        assert_int_equal(shares_of_key(i, "active", 0), 1);
    }
}

/* POST reshare?wait=60 with body: the HTTP status, the result's epoch (-1 if not 200); the
 * logs are printed when the status is not expect. */
static long reshare(const char *body, int expect, int *status)
{
    char url[120];
    json_t *o = NULL;
    snprintf(url, sizeof url, "/v1/keys/%s/reshare?wait=60", key_id);
    double t0 = deploy_now_ms();
    *status = deploy_client_request(C, "POST", url, body, &o);
    long e = *status == 200 ? (long)json_integer_value(json_object_get(o, "epoch")) : -1;
    if (*status == 200)
        fprintf(stderr, "reshare %s: %.0f ms\n", body, deploy_now_ms() - t0);
    else {
        fprintf(stderr, "reshare %s: HTTP %d: %s\n", body, *status,
                deploy_jstr(json_object_get(o, "error"), "message"));
    }
    if (*status != expect)
        deploy_dump_logs(&D);
    json_decref(o);
    return e;
}

/* Signs a fresh random hash with the parties named by index (k of them); returns the HTTP
 * status; a 200 must carry a signature that verifies under the key's public key. */
static int sign_with(const int *nodes, int k)
{
    char url[120], body[300], h[65], parties[100] = "[";
    uint8_t hash[32];
    json_t *o = NULL;
    RAND_bytes(hash, 32);
    for (int i = 0; i < 32; i++)
        snprintf(h + 2 * i, 3, "%02x", hash[i]);
    for (int j = 0; j < k; j++)
        snprintf(parties + strlen(parties), sizeof parties - strlen(parties), "%s\"%s\"",
                 j ? "," : "", deploy_node[nodes[j]]);
    snprintf(body, sizeof body, "{\"hash\":\"%s\",\"parties\":%s]}", h, parties);
    snprintf(url, sizeof url, "/v1/keys/%s/sign?wait=30", key_id);
    double t0 = deploy_now_ms();
    int st = deploy_client_request(C, "POST", url, body, &o);
    fprintf(stderr, "sign %s]: HTTP %d, %.0f ms%s%s\n", parties, st, deploy_now_ms() - t0,
            st == 200 ? "" : ": ",
            st == 200 ? "" : deploy_jstr(json_object_get(o, "error"), "message"));
    if (st == 200)
        assert_int_equal(deploy_sig_verifies(o, key_pk, hash), 1);
    json_decref(o);
    return st;
}

/* 0 if `mpc-signerd --config <node i> ARGS` prints no line mentioning needle (NULL: no line
 * at all), 1 if it does, -1 if the command fails. */
static int admin_mentions(int i, const char *args, const char *needle)
{
    char conf[256], cmd[800], line[512];
    deploy_node_conf_path(&D, i, conf, sizeof conf);
    snprintf(cmd, sizeof cmd, "%s --config %s %s 2>/dev/null", SIGNERD_BIN, conf, args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    int hit = 0;
    while (fgets(line, sizeof line, p))
        if (!needle || strstr(line, needle)) {
            fprintf(stderr, "%s %s: %s", deploy_node[i], args, line);
            hit = 1;
        }
    return pclose(p) == 0 ? hit : -1;
}

/* 2-of-3 on n1..n3, reshared to 3-of-5 on n1..n5: every one of the ten 3-subsets signs
 * under the unchanged public key; 2-subsets (with and without the new nodes) are refused. */
static void test_grow_to_3_of_5(void **state)
{
    (void)state;
    static const int old3[3] = {0, 1, 2}, all5[5] = {0, 1, 2, 3, 4};
    long t = 0, n = 0;
    int st = 0;
    assert_int_equal(deploy_keygen(C, key_id, key_pk), 201);
    wait_active(old3, 3);
    assert_int_equal(key_epoch(&t, &n), 0);
    assert_int_equal(t, 2);
    assert_int_equal(n, 3);
    /* n4 and n5 hold nothing of the key before the reshare */
    assert_int_equal(shares_of_key(3, "active", 0) + shares_of_key(4, "active", 0), 0);
    assert_int_equal(
        reshare("{\"threshold\":3,\"parties\":[\"n1\",\"n2\",\"n3\",\"n4\",\"n5\"]}", 200, &st), 1);
    assert_int_equal(key_epoch(&t, &n), 1);
    assert_int_equal(t, 3);
    assert_int_equal(n, 5);
    wait_active(all5, 5);
    for (int i = 0; i < 5; i++) /* the old epoch is gone everywhere (retired and deleted) */
        for (int waited = 0; shares_of_key(i, NULL, 0) != 0 && waited < 5000; waited += 50)
            sleep_ms(50);
    for (int i = 0; i < 5; i++)
        assert_int_equal(shares_of_key(i, NULL, 0), 0);
    int subsets = 0;
    for (int a = 0; a < 5; a++)
        for (int b = a + 1; b < 5; b++)
            for (int c = b + 1; c < 5; c++) {
                const int s[3] = {a, b, c};
                assert_int_equal(sign_with(s, 3), 200);
                subsets++;
            }
    assert_int_equal(subsets, 10);
    static const int pairs[3][2] = {{0, 1}, {3, 4}, {1, 3}}; /* old, new, mixed */
    for (int p = 0; p < 3; p++)
        assert_int_not_equal(sign_with(pairs[p], 2), 200);
    assert_int_equal(key_epoch(&t, &n), 1);
}

/* n2 is lost (SIGKILL); the survivors n1, n3, n4, n5 deal to 2-of-3 on {n1, n4, n5}: n2 is
 * replaced and n3 leaves. Every pair signs; n3 (online, a dealer outside the committee)
 * deletes its share on the retire; signing with n3 is refused. */
static void test_replace_lost_node(void **state)
{
    (void)state;
    static const int pairs[3][2] = {{0, 3}, {0, 4}, {3, 4}};
    long t = 0, n = 0;
    int st = 0;
    assert_int_equal(deploy_stop_pid(&D.node_pid[1], SIGKILL), 128 + SIGKILL);
    assert_int_equal(deploy_wait_online(&D, 1, 0), 0);
    /* a committee of the four survivors needs n2 nowhere; a new party offline is refused */
    assert_int_equal(reshare("{\"threshold\":2,\"parties\":[\"n1\",\"n2\",\"n4\"]}", 422, &st), -1);
    assert_int_equal(st, 422);
    assert_int_equal(key_epoch(&t, &n), 1);
    assert_int_equal(reshare("{\"threshold\":2,\"parties\":[\"n1\",\"n4\",\"n5\"]}", 200, &st), 2);
    assert_int_equal(key_epoch(&t, &n), 2);
    assert_int_equal(t, 2);
    assert_int_equal(n, 3);
    static const int committee[3] = {0, 3, 4};
    wait_active(committee, 3);
    for (int p = 0; p < 3; p++)
        assert_int_equal(sign_with(pairs[p], 2), 200);
    /* n3 left the committee: its share (epoch 1) is deleted on the retire */
    int listed = 1;
    for (int tries = 0; tries < 50 && listed != 0; tries++) {
        listed = admin_mentions(2, "shares list", key_id);
        if (listed != 0)
            sleep_ms(100);
    }
    assert_int_equal(listed, 0);
    assert_int_equal(shares_of_key(2, NULL, 1) + shares_of_key(2, NULL, 2), 0);
    static const int with_n3[2][2] = {{0, 2}, {2, 3}};
    for (int p = 0; p < 2; p++)
        assert_int_not_equal(sign_with(with_n3[p], 2), 200);
    assert_int_equal(key_epoch(&t, &n), 2);
}

/* n2 comes back with the share of epoch 1 (3-of-5) it held when it was lost: signing with
 * it is refused, the committee still signs, and no node has banned anyone. */
static void test_old_epoch_unusable(void **state)
{
    (void)state;
    long t = 0, n = 0;
    deploy_start_node(&D, 1, NULL, 0);
    assert_int_equal(deploy_wait_online(&D, 1, 1), 0);
    /* what n2 still holds: its old epoch's share (it missed the retire while lost) */
    fprintf(stderr, "n2 holds %d share(s) of epoch 1 of the key after its restart\n",
            shares_of_key(1, NULL, 1));
    assert_int_equal(shares_of_key(1, NULL, 2), 0);
    /* epoch 1 (3-of-5) is gone from every other node: the shares left of it are fewer than
     * its threshold, so they cannot sign or make the key together either */
    int old = 0;
    for (int waited = 0; waited <= 5000; waited += 50) {
        old = 0;
        for (int i = 0; i < D.nodes; i++)
            old += i == 1 ? 0 : shares_of_key(i, NULL, 1);
        if (old == 0)
            break;
        sleep_ms(50);
    }
    assert_int_equal(old, 0);
    assert_true(old + shares_of_key(1, NULL, 1) < 3);
    static const int with_n2[4][3] = {{0, 1, -1}, {1, 3, -1}, {1, 4, -1}, {0, 1, 3}};
    static const int k[4] = {2, 2, 2, 3};
    for (int p = 0; p < 4; p++)
        assert_int_not_equal(sign_with(with_n2[p], k[p]), 200);
    static const int ok[2] = {0, 4};
    assert_int_equal(sign_with(ok, 2), 200);
    assert_int_equal(key_epoch(&t, &n), 2);
    for (int i = 0; i < D.nodes; i++)
        assert_int_equal(admin_mentions(i, "bans list", NULL), 0);
}

/* n2 back in a committee with its stale share (README "Recovery": a lost node is replaced,
 * never restored): the reshare fails (n2 refuses a session that is not its active epoch +
 * 1), nothing is left pending anywhere, epoch 2 stays and signs; the committee's next
 * reshare reaches epoch 3, n2 is still refused and nobody is banned. */
static void test_stale_node_cannot_rejoin(void **state)
{
    (void)state;
    static const int pairs[3][2] = {{0, 3}, {0, 4}, {3, 4}}, with_n2[2] = {1, 3};
    long t = 0, n = 0;
    int st = 0;
    assert_int_equal(reshare("{\"threshold\":2,\"parties\":[\"n1\",\"n2\",\"n4\"]}", 502, &st), -1);
    assert_int_not_equal(st, 200);
    assert_int_equal(key_epoch(&t, &n), 2);
    for (int i = 0; i < D.nodes; i++)
        assert_int_equal(shares_of_key(i, "pending", 0), 0);
    for (int p = 0; p < 3; p++)
        assert_int_equal(sign_with(pairs[p], 2), 200);
    assert_int_equal(reshare("{\"threshold\":2,\"parties\":[\"n1\",\"n4\",\"n5\"]}", 200, &st), 3);
    assert_int_equal(key_epoch(&t, &n), 3);
    static const int committee[3] = {0, 3, 4};
    wait_active(committee, 3);
    for (int p = 0; p < 3; p++)
        assert_int_equal(sign_with(pairs[p], 2), 200);
    assert_int_not_equal(sign_with(with_n2, 2), 200);
    for (int i = 0; i < D.nodes; i++)
        assert_int_equal(admin_mentions(i, "bans list", NULL), 0);

    /* the operator drops n2's stale share (named by its epoch; a wrong epoch changes
     * nothing), and n2 rejoins like a replacement */
    char cmd[120];
    snprintf(cmd, sizeof cmd, "shares drop-stale %s 2", key_id);
    assert_int_equal(admin_mentions(1, cmd, NULL), -1);
    assert_int_equal(shares_of_key(1, "active", 1), 1);
    snprintf(cmd, sizeof cmd, "shares drop-stale %s 1", key_id);
    assert_int_equal(admin_mentions(1, cmd, NULL), 0);
    assert_int_equal(shares_of_key(1, "active", 1), 0);
    assert_int_equal(reshare("{\"threshold\":2,\"parties\":[\"n1\",\"n2\",\"n4\"]}", 200, &st), 4);
    static const int back[3] = {0, 1, 3}, back_pairs[3][2] = {{0, 1}, {0, 3}, {1, 3}};
    wait_active(back, 3);
    for (int p = 0; p < 3; p++)
        assert_int_equal(sign_with(back_pairs[p], 2), 200);
    for (int i = 0; i < D.nodes; i++)
        assert_int_equal(admin_mentions(i, "bans list", NULL), 0);
}

int main(void)
{
    if (deploy_check_tools() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow_to_3_of_5), cmocka_unit_test(test_replace_lost_node),
        cmocka_unit_test(test_old_epoch_unusable), cmocka_unit_test(test_stale_node_cannot_rejoin)};
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
