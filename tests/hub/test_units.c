/* tests/hub/test_units.c — the hub's pure pieces: CIDR allow-list, rate limit, BIP32 public
 * derivation (BIP32 test vector 1), EIP-55 addresses, signature verification rules (low-s,
 * recovery id), and config parsing (unknown keys and bad values refused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "api/hex.h"
#include "daemon/common/db.h"
#include "hub.h"
#include "tss/point.h"

static hub H;

static void hex(uint8_t *out, size_t n, const char *s)
{
    assert_int_equal(api_hex_decode(out, n, s, strlen(s)), API_OK);
}

static void test_allow_list(void **state)
{
    (void)state;
    assert_int_equal(hub_allow_parse(&H, ""), 0);
    assert_int_equal(hub_allow_check(&H, "203.0.113.9"), 1); /* empty list: everyone */
    assert_int_equal(hub_allow_parse(&H, "10.0.0.0/8, 192.168.1.7 ,2001:db8::/32"), 0);
    assert_int_equal(H.nallow, 3);
    assert_int_equal(hub_allow_check(&H, "10.200.3.4"), 1);
    assert_int_equal(hub_allow_check(&H, "::ffff:10.1.2.3"), 1); /* v4-mapped */
    assert_int_equal(hub_allow_check(&H, "11.0.0.1"), 0);
    assert_int_equal(hub_allow_check(&H, "192.168.1.7"), 1);
    assert_int_equal(hub_allow_check(&H, "192.168.1.8"), 0);
    assert_int_equal(hub_allow_check(&H, "2001:db8:ffff::1"), 1);
    assert_int_equal(hub_allow_check(&H, "2001:db9::1"), 0);
    assert_int_equal(hub_allow_check(&H, "garbage"), 0);
    assert_int_equal(hub_allow_parse(&H, "10.0.0.0/7, 172.16.0.0/12"), 0);
    assert_int_equal(hub_allow_check(&H, "11.255.0.1"), 1); /* /7 spans 10 and 11 */
    assert_int_equal(hub_allow_check(&H, "172.31.255.255"), 1);
    assert_int_equal(hub_allow_check(&H, "172.32.0.0"), 0);
    const char *bad[] = {"10.0.0.0/33", "10.0.0.300",   "10.0.0.0/",  "10.0.0.0/8x",
                         "::/129",      "host.example", "10.0.0.0/-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(hub_allow_parse(&H, bad[i]), -1);
    /* exactly HUB_MAX_ALLOW entries fit, all of them intact; one more is refused (the
     * check once ran after the entry was written, past the end of the array) */
    char list[1024] = "";
    for (int i = 1; i <= HUB_MAX_ALLOW; i++) {
        char one[32];
        snprintf(one, sizeof one, "%s10.0.0.%d", i > 1 ? "," : "", i);
        strcat(list, one);
    }
    assert_int_equal(hub_allow_parse(&H, list), 0);
    assert_int_equal(H.nallow, HUB_MAX_ALLOW);
    assert_int_equal(hub_allow_check(&H, "10.0.0.1"), 1);
    assert_int_equal(hub_allow_check(&H, "10.0.0.32"), 1);
    assert_int_equal(hub_allow_check(&H, "10.0.0.33"), 0);
    strcat(list, ",10.0.0.33");
    assert_int_equal(hub_allow_parse(&H, list), -1);
}

static void test_rate_limit(void **state)
{
    (void)state;
    H.cfg.rate_limit = 1;
    H.cfg.rate_burst = 3;
    memset(H.rate, 0, sizeof H.rate);
    for (int i = 0; i < 3; i++)
        assert_int_equal(hub_rate_check(&H, "10.0.0.1"), 1);
    assert_int_equal(hub_rate_check(&H, "10.0.0.1"), 0);
    assert_int_equal(hub_rate_check(&H, "10.0.0.2"), 1); /* another client is unaffected */
    /* IPv6: one bucket per /64 */
    for (int i = 0; i < 3; i++)
        assert_int_equal(hub_rate_check(&H, i % 2 ? "2001:db8::1" : "2001:db8::ffff:2"), 1);
    assert_int_equal(hub_rate_check(&H, "2001:db8::3"), 0);
    assert_int_equal(hub_rate_check(&H, "2001:db8:0:1::1"), 1); /* the next /64 */
    /* an IPv4 address and the IPv6 /64 with the same leading bytes are different */
    assert_int_equal(hub_rate_check(&H, "::ffff:10.0.0.1"), 0); /* v4-mapped = 10.0.0.1 */
    assert_int_equal(hub_rate_check(&H, "a00:1::"), 1);
    /* failed authentications have their own buckets */
    memset(H.rate_fail, 0, sizeof H.rate_fail);
    for (int i = 0; i < 3; i++)
        assert_int_equal(hub_rate_check_auth_failure(&H, "10.0.0.7"), 1);
    assert_int_equal(hub_rate_check_auth_failure(&H, "10.0.0.7"), 0);
    assert_int_equal(hub_rate_check(&H, "10.0.0.7"), 1);
    /* a full table evicts the least recently used bucket, never another's tokens */
    memset(H.rate, 0, sizeof H.rate);
    for (int i = 0; i < 3; i++)
        assert_int_equal(hub_rate_check(&H, "10.9.9.9"), 1);
    for (int i = 0; i < HUB_RATE_BUCKETS; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.1.%d.%d", i / 250, i % 250 + 1);
        assert_int_equal(hub_rate_check(&H, ip), 1);
        assert_int_equal(hub_rate_check(&H, "10.0.0.2"), i < 3); /* recently used: kept */
    }
    assert_int_equal(hub_rate_check(&H, "10.9.9.9"), 1); /* evicted: a fresh bucket */
    H.cfg.rate_limit = 0;
    for (int i = 0; i < 100; i++)
        assert_int_equal(hub_rate_check(&H, "10.0.0.1"), 1); /* 0 = off */
}

static void test_label_and_known_keys(void **state)
{
    (void)state;
    assert_int_equal(hub_label_ok(""), 1);
    assert_int_equal(hub_label_ok("treasury \xe2\x80\x93 K\xc3\xa4se"), 1);
    static const char *const bad[] = {
        "a\x7f",        "a\xc2\x85",    "a\xc2\x9f", "\xe2\x80\xae", "\xe2\x81\xa6",
        "\xe2\x80\x8b", "\xef\xbb\xbf", "\xd8\x9c",  "\xe2\x80\x8f", "a\tb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(hub_label_ok(bad[i]), 0);
    uint8_t pk[33];
    hex(pk, 33, "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
    assert_int_equal(hub_crypto_small_multiple(pk), 1);
    pk[0] = 3; /* -G */
    assert_int_equal(hub_crypto_small_multiple(pk), 1);
    hex(pk, 33, "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5");
    assert_int_equal(hub_crypto_small_multiple(pk), 2);
    /* the web3.js documentation key: not small */
    hex(pk, 33, "03c8abd1ec1ee8bc3c8b63d5bb2a43ee6e4a40ca8f1e44ba54b1d4c4ec58d3cdbb");
    assert_int_equal(hub_crypto_small_multiple(pk), 0);
}

static void test_bip32_vector(void **state)
{
    (void)state;
    /* BIP32 test vector 1: from m/0H (public key + chain code) to m/0H/1, the only
     * non-hardened step of that vector, which is exactly what the hub can derive. */
    uint8_t pk[33], cc[32], out[33], want[33];
    hex(pk, 33, "035a784662a4a20a65bf6aab9ae98a6c068a81c52e4b032c0fb5400c706cfccc56");
    hex(cc, 32, "47fdacbd0f1097043b78c63c20c34ef4ed9a111d980047ad16282c7ae6236141");
    hex(want, 33, "03501e454bf00751f24b1b489aa925215d66af2234e3891c3b21a52bedb3cd711c");
    const uint32_t path[1] = {1};
    assert_int_equal(hub_crypto_derive(out, pk, cc, path, 1), 0);
    assert_memory_equal(out, want, 33);
    assert_int_equal(hub_crypto_derive(out, pk, cc, path, 0), 0); /* "m": the key itself */
    assert_memory_equal(out, pk, 33);
    const uint32_t hard[1] = {0x80000000u};
    assert_int_equal(hub_crypto_derive(out, pk, cc, hard, 1), -1);
}

static void test_eth_address(void **state)
{
    (void)state;
    uint8_t pk[33];
    char addr[43], unc[131];
    /* secret key 1 -> G */
    hex(pk, 33, "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
    hub_crypto_eth_address(addr, pk);
    assert_string_equal(addr, "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
    hub_crypto_uncompressed(unc, pk);
    assert_int_equal(strlen(unc), 130);
    assert_memory_equal(unc, "0479be667ef9", 12);
    /* secret key 2 -> 2G */
    hex(pk, 33, "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5");
    hub_crypto_eth_address(addr, pk);
    assert_string_equal(addr, "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF");
    assert_int_equal(hub_crypto_pubkey_ok(pk), 1);
    pk[0] = 4;
    assert_int_equal(hub_crypto_pubkey_ok(pk), 0);
}

static void test_verify_rules(void **state)
{
    (void)state;
    const secp256k1_context *ctx = tss_secp_ctx();
    uint8_t sk[32] = {[31] = 7}, hash[32], pk[33], compact[64], der[72];
    size_t pl = 33, dl;
    int recid;
    secp256k1_pubkey p;
    secp256k1_ecdsa_recoverable_signature rs;
    memset(hash, 0xab, 32);
    assert_int_equal(secp256k1_ec_pubkey_create(ctx, &p, sk), 1);
    secp256k1_ec_pubkey_serialize(ctx, pk, &pl, &p, SECP256K1_EC_COMPRESSED);
    assert_int_equal(secp256k1_ecdsa_sign_recoverable(ctx, &rs, hash, sk, NULL, NULL), 1);
    secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, compact, &recid, &rs);
    api_sign_result sig = {.recovery_id = recid};
    memcpy(sig.r, compact, 32);
    memcpy(sig.s, compact + 32, 32);
    assert_int_equal(hub_crypto_verify(pk, hash, &sig, der, &dl), 0);
    assert_true(dl >= 8 && dl <= 72 && der[0] == 0x30);
    /* wrong recovery id: Ethereum would recover another address */
    sig.recovery_id = recid ^ 1;
    assert_int_equal(hub_crypto_verify(pk, hash, &sig, der, &dl), -1);
    sig.recovery_id = recid;
    /* high-s form of the same signature: valid ECDSA, refused (not canonical) */
    secp256k1_ecdsa_signature s, neg;
    secp256k1_ecdsa_signature_parse_compact(ctx, &s, compact);
    uint8_t n_minus_s[32];
    static const uint8_t N[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                  0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = N[i] - sig.s[i] - borrow;
        borrow = d < 0;
        n_minus_s[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
    (void)neg;
    api_sign_result high = sig;
    memcpy(high.s, n_minus_s, 32);
    high.recovery_id = recid ^ 1; /* negating s flips the recovery id */
    assert_int_equal(hub_crypto_verify(pk, hash, &high, der, &dl), -1);
    /* another hash, another key */
    hash[0] ^= 1;
    assert_int_equal(hub_crypto_verify(pk, hash, &sig, der, &dl), -1);
    hash[0] ^= 1;
    sk[31] = 8;
    assert_int_equal(secp256k1_ec_pubkey_create(ctx, &p, sk), 1);
    pl = 33;
    secp256k1_ec_pubkey_serialize(ctx, pk, &pl, &p, SECP256K1_EC_COMPRESSED);
    assert_int_equal(hub_crypto_verify(pk, hash, &sig, der, &dl), -1);
}

static int write_conf(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static void test_config(void **state)
{
    (void)state;
    char path[] = "/tmp/mpc-hub-conf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    hub_config c;
    assert_int_equal(
        write_conf(path, "[api]\ncert = /c.pem\nkey = /k.pem\n[party]\nca = /ca.pem\n"), 0);
    assert_int_equal(hub_config_load(&c, path), 0);
    assert_int_equal(c.api_port, 8443); /* defaults */
    assert_int_equal(c.party_port, 8444);
    assert_int_equal(c.session_timeout, 30);
    assert_int_equal(c.party_ping, 20);
    assert_int_equal(c.party_timeout, 45);
    assert_string_equal(c.party_cert, "/c.pem"); /* party link shares the API certificate */
    const char *bad[] = {
        "[party]\nca = /ca.pem\n[api]\nport = 0\n",
        "[party]\nca = /ca.pem\n[api]\nport = 65536\n",
        "[party]\nca = /ca.pem\n[api]\nprot = 1\n",           /* typo: refused, not ignored */
        "[party]\nca = /ca.pem\n[sessions]\ntimeout = 10s\n", /* units are not accepted */
        "[party]\nca = /ca.pem\n[hub]\nlog_level = loud\n",
        "[api]\nport = 9000\n", /* no [party] ca */
        "[party]\nca = /ca.pem\nping_interval = 30\nidle_timeout = 30\n",
        "[party\nca = /x\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(write_conf(path, bad[i]), 0);
        assert_int_equal(hub_config_load(&c, path), -1);
    }
    unlink(path);
    assert_int_equal(hub_config_load(&c, "/nonexistent/mpc-hubd.conf"), -1);
}

/* The database opens in WAL mode, and a failed COMMIT never leaves the connection inside
 * the transaction (a deferred foreign-key violation fails at COMMIT and, in SQLite,
 * keeps the transaction open: without the rollback every later BEGIN would fail). */
static void test_db_commit_failure(void **state)
{
    (void)state;
    char path[] = "/tmp/mpc-db-XXXXXX", side[64];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    sqlite3 *db = NULL;
    assert_int_equal(mpcd_db_open(path, &db), 0);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(mpcd_db_exec(db, "CREATE TABLE p(id INTEGER PRIMARY KEY);"
                                      "CREATE TABLE c(pid INTEGER REFERENCES p(id) "
                                      "DEFERRABLE INITIALLY DEFERRED);"),
                     0);
    assert_int_equal(mpcd_db_begin(db), 0);
    assert_int_equal(mpcd_db_exec(db, "INSERT INTO c VALUES (42)"), 0);
    assert_int_equal(mpcd_db_commit(db), -1); /* the deferred check fails at COMMIT */
    assert_int_equal(mpcd_db_begin(db), 0);   /* not stuck in the failed transaction */
    assert_int_equal(mpcd_db_commit(db), 0);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM c", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0); /* and nothing of it was kept */
    sqlite3_finalize(st);
    sqlite3_close(db);
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Schema version 2 (imported keys): a database made by the version before it (keys table
 * without imported / import_source, user_version 1, one active key) opens, gets the columns,
 * keeps its key (shown as not imported) and takes imported keys; opening it again changes
 * nothing. */
static void test_store_migration(void **state)
{
    (void)state;
    char path[] = "/tmp/mpc-hub-db-XXXXXX", side[64];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    sqlite3 *db = NULL;
    assert_int_equal(mpcd_db_open(path, &db), 0);
    assert_int_equal(
        mpcd_db_exec(db,
                     "CREATE TABLE keys(id TEXT PRIMARY KEY, label TEXT NOT NULL,"
                     "  threshold INTEGER NOT NULL, n INTEGER NOT NULL, parties TEXT NOT NULL,"
                     "  status TEXT NOT NULL, public_key BLOB, chain_code BLOB,"
                     "  keygen_session TEXT NOT NULL, created INTEGER NOT NULL, activated INTEGER);"
                     "INSERT INTO keys VALUES('00112233445566778899aabbccddeeff', 'old', 2, 3,"
                     "  '[\"p1\",\"p2\",\"p3\"]', 'active', x'"
                     "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798', x'"
                     "5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c',"
                     "  'ffeeddccbbaa99887766554433221100', 1700000000, 1700000001);"
                     "PRAGMA user_version = 1;"),
        0);
    sqlite3_close(db);
    hub *h = calloc(1, sizeof *h);
    assert_non_null(h);
    snprintf(h->cfg.database, sizeof h->cfg.database, "%s", path);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(hub_store_open(h), 0);
        assert_int_equal(user_version(h->db), 2);
        uint8_t id[HUB_ID_BYTES], pk[33];
        assert_int_equal(hub_id_parse(id, "00112233445566778899aabbccddeeff", 32), 0);
        json_t *o = hub_store_key_json(h, id);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "label")), "old");
        assert_string_equal(json_string_value(json_object_get(o, "status")), "active");
        assert_true(json_is_false(json_object_get(o, "imported")));
        assert_null(json_object_get(o, "import_source"));
        json_decref(o);
        hex(pk, 33, "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
        char found[HUB_ID_HEX];
        assert_int_equal(hub_store_key_live_with_pk(h, pk, found), 0);
        assert_string_equal(found, "00112233445566778899aabbccddeeff");
        if (round == 0) { /* an imported key, pending with its public key */
            hub_key_row k = {.threshold = 2, .n = 2, .has_public_key = 1};
            assert_int_equal(hub_id_parse(k.id, "0123456789abcdef0123456789abcdef", 32), 0);
            snprintf(k.parties[0], sizeof k.parties[0], "p1");
            snprintf(k.parties[1], sizeof k.parties[1], "p2");
            hex(k.public_key, 33,
                "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5");
            memset(k.chain_code, 0x11, 32);
            snprintf(k.import_source, sizeof k.import_source, "tss-lib");
            assert_int_equal(hub_store_key_insert(h, &k, id), 0);
        }
        assert_int_equal(hub_id_parse(id, "0123456789abcdef0123456789abcdef", 32), 0);
        o = hub_store_key_json(h, id);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "status")), "pending");
        assert_true(json_is_true(json_object_get(o, "imported")));
        assert_string_equal(json_string_value(json_object_get(o, "import_source")), "tss-lib");
        assert_string_equal(json_string_value(json_object_get(o, "public_key")),
                            "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5");
        json_decref(o);
        hex(pk, 33, "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5");
        assert_int_equal(hub_store_key_live_with_pk(h, pk, found), 0);
        if (round == 1) { /* a failed key no longer holds its public key */
            assert_int_equal(hub_store_key_fail(h, id), 0);
            assert_int_equal(hub_store_key_live_with_pk(h, pk, found), 1);
        }
        hub_store_close(h);
    }
    free(h);
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allow_list),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_label_and_known_keys),
        cmocka_unit_test(test_bip32_vector),
        cmocka_unit_test(test_eth_address),
        cmocka_unit_test(test_verify_rules),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_db_commit_failure),
        cmocka_unit_test(test_store_migration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
