/* tests/ctl/test_ctl_reshare.c — mpcctl keys refresh and keys reshare (issue 17) against a
 * real mpc-hubd and three real mpc-signerd (n1 tpm2 on a swtpm, n2 pkcs11 on SoftHSM2, n3
 * soft; tests/support/deploy.h, set up with mpcctl): a 2-of-3 key refreshed, reshared
 * 2-of-3 -> 2-of-3 with the same parties, then 2-of-3 -> 3-of-3 and back, and last n3
 * leaves (2-of-2 n1,n2); after each, the
 * epoch mpcctl shows, the same address, and signatures verified by mpcctl sign --verify
 * and by the openssl command line (every pair at 2-of-3, all three at 3-of-3, where a pair
 * is refused). Refused requests change nothing: a refresh with a party offline, a reshare
 * to an unknown party, an unknown key. And the dealer descriptors that mpc-signerd import-key
 * and migrate-stage print on the nodes pass keys import --dry-run with the known addresses.
 * Temp dir, free loopback ports, everything removed at the end. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "deploy.h"
#include "openssl_check.h"
#include "tsslib_gen.h"
#include "api/hex.h"

static deploy D;
static char key_id[33];
static char address[43];

static int group_setup(void **state)
{
    (void)state;
    deploy_ctl_init(&D, "mpcctl-reshare", HUB_BIN, SIGNERD_BIN, MPCCTL_BIN);
    deploy_ctl_start_hub(&D);
    deploy_ctl_start_nodes(&D, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    deploy_cleanup(&D);
    return 0;
}

static json_t *ctl_json(int expect_rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *ctl_json(int expect_rc, const char *fmt, ...)
{
    char args[1000], *out = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    int rc = deploy_ctl(&D, &out, "--json %s", args);
    if (rc != expect_rc) {
        fprintf(stderr, "mpcctl --json %s: exit %d, expected %d\n%s\n", args, rc, expect_rc,
                out ? out : "");
        deploy_dump_logs(&D);
    }
    assert_int_equal(rc, expect_rc);
    json_t *o = json_loads(out ? out : "", 0, NULL);
    free(out);
    return o;
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

/* keys create answers once the hub activated the key; each signer applies the activate a
 * moment later, and a refresh deals only from active shares: wait (10 s at most). */
static void wait_all_active(void)
{
    for (int i = 0; i < DEPLOY_NODES; i++) {
        for (int waited = 0; shares_in(i, "pending") != 0 && waited < 10000; waited += 20) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        assert_int_equal(shares_in(i, "pending"), 0);
    }
}

/* Signs a hash (from seed) with --verify, by signers (NULL: the hub picks), and checks the
 * DER with openssl against keys show --pem. */
static void sign_ok(const char *signers, int seed)
{
    uint8_t h[32];
    char hex[65];
    for (int i = 0; i < 32; i++)
        h[i] = (uint8_t)(i * 13 + seed);
    api_hex_encode(hex, h, 32);
    json_t *s = ctl_json(0, "sign %s --hash %s --verify%s%s", key_id, hex,
                         signers ? " --signers " : "", signers ? signers : "");
    assert_true(json_is_true(json_object_get(s, "verified_locally")));
    osc_verifies(&D, key_id, NULL, json_string_value(json_object_get(s, "der")), hex);
    json_decref(s);
}

/* The key as keys show prints it (verified): its epoch, threshold and address. */
static void expect_key(long epoch, int t)
{
    json_t *k = ctl_json(0, "keys show %s", key_id);
    assert_true(json_is_true(json_object_get(k, "attestations_verified")));
    assert_int_equal(json_integer_value(json_object_get(k, "epoch")), epoch);
    assert_int_equal(json_integer_value(json_object_get(k, "threshold")), t);
    assert_string_equal(json_string_value(json_object_get(k, "ethereum_address")), address);
    json_decref(k);
}

static void test_refresh(void **state)
{
    (void)state;
    json_t *k = ctl_json(0, "keys create --threshold 2 --parties n1,n2,n3 --label reshare");
    snprintf(key_id, sizeof key_id, "%s", json_string_value(json_object_get(k, "id")));
    snprintf(address, sizeof address, "%s",
             json_string_value(json_object_get(k, "ethereum_address")));
    assert_int_equal(json_integer_value(json_object_get(k, "epoch")), 0);
    json_decref(k);
    wait_all_active();
    /* text output: the key as keys create shows it, with its new epoch */
    char *out = NULL;
    int rc = deploy_ctl(&D, &out, "keys refresh %s", key_id);
    if (rc != 0)
        deploy_dump_logs(&D);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "epoch        1\n"));
    assert_non_null(strstr(out, "3 of 3 keygen attestations verified"));
    assert_non_null(strstr(out, address));
    free(out);
    assert_true(deploy_ctl_error_has(&D, "epoch 1 active (session "));
    expect_key(1, 2);
    sign_ok("n1,n2", 1);
    sign_ok("n1,n3", 2);
    sign_ok("n2,n3", 3);
    /* --json: the key view, with the session that made the epoch */
    k = ctl_json(0, "keys refresh %s", key_id);
    assert_int_equal(json_integer_value(json_object_get(k, "epoch")), 2);
    assert_int_equal(strlen(json_string_value(json_object_get(k, "session_id"))), 32);
    json_t *s =
        ctl_json(0, "sessions show %s", json_string_value(json_object_get(k, "session_id")));
    assert_string_equal(json_string_value(json_object_get(s, "kind")), "reshare");
    assert_string_equal(json_string_value(json_object_get(s, "status")), "done");
    json_decref(s);
    json_decref(k);
    sign_ok(NULL, 4);
}

static void test_reshare_same_committee(void **state)
{
    (void)state;
    json_t *k = ctl_json(0, "keys reshare %s --threshold 2 --parties n1,n2,n3", key_id);
    assert_int_equal(json_integer_value(json_object_get(k, "epoch")), 3);
    assert_string_equal(json_string_value(json_object_get(k, "ethereum_address")), address);
    json_decref(k);
    sign_ok("n3,n1", 5);
    sign_ok("n2,n1", 6);
}

/* 2-of-3 -> 3-of-3: every party signs, a pair no longer can; then back to 2-of-3. */
static void test_reshare_threshold(void **state)
{
    (void)state;
    char *out = NULL, h[65];
    memset(h, 'c', 64);
    h[64] = 0;
    assert_int_equal(
        deploy_ctl(&D, &out, "keys reshare %s --threshold 3 --parties n1,n2,n3", key_id), 0);
    assert_non_null(strstr(out, "threshold    3 of 3"));
    assert_non_null(strstr(out, "epoch        4\n"));
    free(out);
    expect_key(4, 3);
    sign_ok("n1,n2,n3", 7);
    sign_ok(NULL, 8);
    assert_int_equal(deploy_ctl(&D, NULL, "sign %s --hash %s --signers n1,n2", key_id, h), 1);
    json_t *k = ctl_json(0, "keys reshare %s --threshold 2 --parties n1,n2,n3 --wait 90", key_id);
    assert_int_equal(json_integer_value(json_object_get(k, "epoch")), 5);
    assert_int_equal(json_integer_value(json_object_get(k, "threshold")), 2);
    json_decref(k);
    expect_key(5, 2);
    sign_ok("n1,n2", 9);
    sign_ok("n2,n3", 10);
}

/* The hub refuses: exit 1, the hub's message; the epoch and the key stay as they were. */
static void test_refused(void **state)
{
    (void)state;
    assert_int_equal(
        deploy_ctl(&D, NULL, "keys reshare %s --threshold 2 --parties n1,n2,n9", key_id), 1);
    assert_true(deploy_ctl_error_has(&D, "keys reshare: the hub answered"));
    assert_int_equal(deploy_ctl(&D, NULL, "keys refresh 00000000000000000000000000000000"), 1);
    assert_true(deploy_ctl_error_has(&D, "unknown_key"));
    /* a party offline: a refresh needs every party */
    deploy_stop_pid(&D.node_pid[2], SIGTERM);
    assert_int_equal(deploy_wait_online(&D, 2, 0), 0);
    assert_int_equal(deploy_ctl(&D, NULL, "keys refresh %s", key_id), 1);
    assert_true(deploy_ctl_error_has(&D, "offline"));
    expect_key(5, 2);
    sign_ok("n1,n2", 11);
    deploy_start_node(&D, 2, NULL, 0);
    assert_int_equal(deploy_wait_online(&D, 2, 1), 0);
    sign_ok("n1,n3", 12);
}

/* A committee change, last (n3 does not come back): n3 leaves, 2-of-3 -> 2-of-2 n1,n2.
 * The key's attestations are still its keygen's, by n1, n2 and n3: keys show and sign
 * --verify check them against the keygen session's committee. (n3 keeps its old share
 * when the hub picked n1 and n2 as dealers; a signer refuses to join a later epoch of a
 * key while it holds an older share, so n3 could come back only as a new node.) */
static void test_reshare_committee(void **state)
{
    (void)state;
    char *out = NULL, h[65];
    memset(h, 'd', 64);
    h[64] = 0;
    int rc = deploy_ctl(&D, &out, "keys reshare %s --threshold 2 --parties n1,n2", key_id);
    if (rc != 0)
        deploy_dump_logs(&D);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "threshold    2 of 2 (parties: n1, n2)"));
    assert_non_null(strstr(out, "epoch        6\n"));
    assert_non_null(strstr(out, "3 of 3 keygen attestations verified"));
    assert_non_null(strstr(out, "made by      n1, n2, n3"));
    assert_non_null(strstr(out, address));
    free(out);
    json_t *k = ctl_json(0, "keys show %s", key_id);
    assert_true(json_is_true(json_object_get(k, "attestations_verified")));
    assert_int_equal(json_integer_value(json_object_get(k, "epoch")), 6);
    assert_int_equal(json_array_size(json_object_get(k, "parties")), 2);
    json_decref(k);
    sign_ok("n1,n2", 13);
    sign_ok(NULL, 14);
    /* n3 is no party of the key now */
    assert_int_equal(deploy_ctl(&D, NULL, "sign %s --hash %s --signers n1,n3", key_id, h), 1);
}

/* Staged on real nodes, checked by mpcctl: a private key staged on n3 (mpc-signerd
 * import-key) and a generated 2-of-3 tss-lib wallet of private key 2 whose parties 0 and
 * 1 are staged on n3 and n2 (migrate-stage); the descriptors they print pass keys import
 * --dry-run (every check mpcctl makes before a request, the interpolation included) with
 * the known addresses of those keys; one party alone is refused. (The import itself needs
 * the hub's POST /v1/keys/import.) The staged inputs are removed afterwards. */
static void test_staged_descriptors(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/cold.key", D.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318\n", f);
    fclose(f);
    assert_int_equal(deploy_sh("%s --config %s/n3.conf import-key --key-file %s > %s/cold.json "
                               "2>>%s/stage.log",
                               SIGNERD_BIN, D.dir, path, D.dir, D.dir),
                     0);
    json_t *o = ctl_json(0,
                         "keys import --threshold 2 --parties n1,n2,n3 --dealer %s/cold.json "
                         "--external-id cold-1 --dry-run",
                         D.dir);
    assert_string_equal(json_string_value(json_object_get(o, "ethereum_address")),
                        "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23");
    json_t *d0 = json_array_get(json_object_get(json_object_get(o, "body"), "dealers"), 0);
    assert_string_equal(json_string_value(json_object_get(d0, "party")), "n3");
    assert_string_equal(json_string_value(json_object_get(d0, "source")), "key");
    char cold_pk[67];
    snprintf(cold_pk, sizeof cold_pk, "%s", json_string_value(json_object_get(o, "public_key")));
    json_decref(o);
    /* a tss-lib wallet: two of its three parties staged on two nodes */
    tsslib_gen_key *k = tsslib_gen_small(41, 2, 2, 3, NULL);
    assert_non_null(k);
    for (unsigned j = 0; j < 2; j++) {
        const char *node = j == 0 ? "n3" : "n2";
        snprintf(path, sizeof path, "%s/old%u.json", D.dir, j);
        assert_int_equal(tsslib_gen_write(k, j, 1, path), 0);
        assert_int_equal(deploy_sh("%s --config %s/%s.conf migrate-stage --save-file %s > "
                                   "%s/%s-desc.json 2>>%s/stage.log",
                                   SIGNERD_BIN, D.dir, node, path, D.dir, node, D.dir),
                         0);
    }
    tsslib_gen_free(k);
    char *out = NULL;
    assert_int_equal(
        deploy_ctl(&D, &out,
                   "keys import --threshold 2 --parties n1,n2 --dealer %s/n3-desc.json "
                   "--dealer %s/n2-desc.json --dry-run",
                   D.dir, D.dir),
        0);
    assert_non_null(strstr(out, "address      0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"));
    assert_non_null(strstr(out, "from tss-lib (old sharing 2 of 3; dealers: n3, n2)"));
    free(out);
    assert_int_equal(
        deploy_ctl(&D, NULL,
                   "keys import --threshold 2 --parties n1,n2 --dealer %s/n3-desc.json "
                   "--dry-run",
                   D.dir),
        4);
    assert_true(
        deploy_ctl_error_has(&D, "lists 1 dealers; the key needs old_threshold..old_n = 2..3"));
    /* nothing stays staged */
    assert_int_equal(deploy_sh("%s --config %s/n3.conf staged remove %s 2>>%s/stage.log >/dev/null",
                               SIGNERD_BIN, D.dir, cold_pk, D.dir),
                     0);
    o = ctl_json(0,
                 "keys import --threshold 2 --parties n1,n2 --dealer %s/n2-desc.json "
                 "--dealer %s/n3-desc.json --dry-run",
                 D.dir, D.dir);
    const char *pk = json_string_value(json_object_get(o, "public_key"));
    assert_int_equal(deploy_sh("%s --config %s/n3.conf staged remove %s 2>>%s/stage.log >/dev/null"
                               " && %s --config %s/n2.conf staged remove %s 2>>%s/stage.log "
                               ">/dev/null",
                               SIGNERD_BIN, D.dir, pk, D.dir, SIGNERD_BIN, D.dir, pk, D.dir),
                     0);
    json_decref(o);
}

int main(void)
{
    if (deploy_check_tools() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refresh),           cmocka_unit_test(test_reshare_same_committee),
        cmocka_unit_test(test_reshare_threshold), cmocka_unit_test(test_refused),
        cmocka_unit_test(test_reshare_committee), cmocka_unit_test(test_staged_descriptors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
