/* tests/signerd/test_e2e.c — the product end to end: a real mpc-hubd and three real
 * mpc-signerd processes — n1 sealing with tpm2 on a swtpm, n2 with pkcs11 on a SoftHSM2
 * token, n3 with the soft backend (the test build, which can misbehave on request) — with a
 * temporary CA, free loopback ports and a temp dir, all removed at the end. Each node's
 * identity key is created and sealed by mpc-signerd itself (init-identity) and certified
 * from its CSR. Then: a 2-of-3 key over the REST API, a signature from every pair and one
 * along a derivation path, each checked with libsecp256k1 and with the openssl command
 * line; and the faults: tampered / replayed / dropped frames, a certificate that differs
 * from the pinned one, a signer killed mid-session, restarts of a signer and of the hub,
 * the TPM gone and back, a full disk during keygen, and the selective-failure attack on
 * the OT setup driven through a real daemon (the honest peer bans after the first failed
 * check and never answers that peer again). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <secp256k1.h>
#include <sqlite3.h>

#include "deploy.h"
#include "api/hex.h"
#include "hsm/hsm.h"
#include "tss/bip32.h"
#include "tss/point.h"

static deploy D;
static char key_id[33];
static uint8_t key_pk[33], key_cc[32];

/* ---- the deployment (tests/support/deploy.h) ---- */

static void wait_online(int i, int online)
{
    if (deploy_wait_online(&D, i, online) != 0) {
        deploy_dump_logs(&D);
        fail();
    }
}

static int group_setup(void **state)
{
    (void)state;
    deploy_init(&D, "mpc-signerd-test", HUB_BIN, SIGNERD_BIN);
    D.node_bin[2] = SIGNERD_TEST_BIN; /* n3 runs the test build (it can misbehave) */
    deploy_up(&D);
    return 0;
}

/* Every daemon stops cleanly on SIGTERM (exit 0; in the sanitizer build also no leak). */
static int teardown_failed;

static int group_teardown(void **state)
{
    (void)state;
    int bad = deploy_stop_all_clean(&D) != 0;
    deploy_cleanup(&D);
    teardown_failed = bad;
    return bad;
}

/* ---- signatures ---- */

static const uint8_t HASH[32] = {0x4d, 0x70, 0x63, 0x2d, 0x73, 0x69, 0x67, 0x6e, 0x65, 0x72, 1,
                                 2,    3,    4,    5,    6,    7,    8,    9,    10,   11,   12,
                                 13,   14,   15,   16,   17,   18,   19,   20,   21,   22};

/* Signs HASH with the given signers (NULL: the hub picks) and path; returns the HTTP
 * status, and the response in *out. */
static int sign(const char *a, const char *b, const char *path, json_t **out)
{
    char body[400], url[120], h[65], parties[80] = "";
    api_hex_encode(h, HASH, 32);
    if (a)
        snprintf(parties, sizeof parties, ",\"parties\":[\"%s\",\"%s\"]", a, b);
    snprintf(body, sizeof body, "{\"hash\":\"%s\"%s%s%s%s}", h, parties,
             path ? ",\"derivation_path\":\"" : "", path ? path : "", path ? "\"" : "");
    snprintf(url, sizeof url, "/v1/keys/%s/sign?wait=20", key_id);
    return deploy_api(&D, "POST", url, body, out);
}

/* Writes the (derived) public key as a PEM SubjectPublicKeyInfo for the openssl CLI. */
static void write_pub_pem(const uint8_t pk[33], const char *path)
{
    /* SPKI DER for a compressed secp256k1 point: a fixed 23-byte prefix, then the point. */
    static const uint8_t prefix[] = {0x30, 0x36, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
                                     0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
                                     0x81, 0x04, 0x00, 0x0a, 0x03, 0x22, 0x00};
    uint8_t der[sizeof prefix + 33];
    const uint8_t *p = der;
    memcpy(der, prefix, sizeof prefix);
    memcpy(der + sizeof prefix, pk, 33);
    EVP_PKEY *k = d2i_PUBKEY(NULL, &p, sizeof der);
    assert_non_null(k);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_PUBKEY(f, k), 1);
    fclose(f);
    EVP_PKEY_free(k);
}

/* Checks r, s, recovery id and DER against pk with libsecp256k1, and the DER signature with
 * `openssl pkeyutl -verify` against the key's PEM (independent of our code). */
static void check_signature(json_t *o, const uint8_t pk[33])
{
    uint8_t r[32], s[32], compact[64], der[72];
    secp256k1_ecdsa_signature sig;
    secp256k1_pubkey pub;
    const secp256k1_context *ctx = tss_secp_ctx();
    assert_int_equal(api_hex_decode(r, 32, deploy_jstr(o, "r"), 64), API_OK);
    assert_int_equal(api_hex_decode(s, 32, deploy_jstr(o, "s"), 64), API_OK);
    memcpy(compact, r, 32);
    memcpy(compact + 32, s, 32);
    assert_int_equal(secp256k1_ec_pubkey_parse(ctx, &pub, pk, 33), 1);
    assert_int_equal(secp256k1_ecdsa_signature_parse_compact(ctx, &sig, compact), 1);
    assert_int_equal(secp256k1_ecdsa_verify(ctx, &sig, HASH, &pub), 1); /* also low-s */
    size_t dl = strlen(deploy_jstr(o, "der")) / 2;
    assert_true(dl >= 8 && dl <= 72);
    assert_int_equal(api_hex_decode(der, dl, deploy_jstr(o, "der"), 2 * dl), API_OK);
    char pem[256], sigf[256], hashf[256];
    snprintf(pem, sizeof pem, "%s/key.pem", D.dir);
    snprintf(sigf, sizeof sigf, "%s/sig.der", D.dir);
    snprintf(hashf, sizeof hashf, "%s/hash.bin", D.dir);
    write_pub_pem(pk, pem);
    FILE *f = fopen(sigf, "wb");
    assert_non_null(f);
    fwrite(der, 1, dl, f);
    fclose(f);
    f = fopen(hashf, "wb");
    assert_non_null(f);
    fwrite(HASH, 1, 32, f);
    fclose(f);
    assert_int_equal(
        deploy_sh("openssl pkeyutl -verify -pubin -inkey %s -in %s -sigfile %s >/dev/null", pem,
                  hashf, sigf),
        0);
}

static void expect_signed(const char *a, const char *b, const char *path)
{
    json_t *o = NULL;
    int st = sign(a, b, path, &o);
    if (st != 200 && st != 201) {
        char *txt = o ? json_dumps(o, 0) : NULL;
        fprintf(stderr, "sign %s+%s %s: HTTP %d %s\n", a ? a : "-", b ? b : "-", path ? path : "",
                st, txt ? txt : "");
        free(txt);
        deploy_dump_logs(&D);
    }
    assert_true(st == 200 || st == 201);
    uint8_t pk[33];
    if (path) {
        uint32_t idx[TSS_BIP32_MAX_DEPTH];
        size_t depth;
        tss_point root, child;
        uint8_t cc[32];
        tss_scalar offset;
        assert_int_equal(tss_bip32_parse_path(path, idx, &depth), TSS_OK);
        assert_int_equal(tss_point_parse(&root, key_pk), TSS_OK);
        assert_int_equal(tss_bip32_derive(&root, key_cc, idx, depth, &offset, &child, cc), TSS_OK);
        tss_point_serialize(pk, &child);
    } else {
        memcpy(pk, key_pk, 33);
    }
    check_signature(o, pk);
    json_decref(o);
}

/* Expects the sign to fail (HTTP 502 session_failed) with `needle` in the message. */
static void expect_sign_fails(const char *a, const char *b, const char *needle)
{
    json_t *o = NULL;
    int st = sign(a, b, NULL, &o);
    json_t *err = json_object_get(o, "error");
    const char *msg = deploy_jstr(err, "message");
    if (st == 200 || st == 201 || (needle && !strstr(msg, needle))) {
        fprintf(stderr, "sign %s+%s: expected a failure mentioning '%s', got HTTP %d: %s\n", a, b,
                needle ? needle : "", st, msg);
        deploy_dump_logs(&D);
    }
    assert_true(st != 200 && st != 201);
    if (needle)
        assert_non_null(strstr(msg, needle));
    json_decref(o);
}

/* ---- tests, in order ---- */

static void test_keygen(void **state)
{
    (void)state;
    json_t *o = NULL;
    double t0 = deploy_now_ms();
    int st =
        deploy_api(&D, "POST", "/v1/keys?wait=30",
                   "{\"threshold\":2,\"parties\":[\"n1\",\"n2\",\"n3\"],\"label\":\"e2e\"}", &o);
    fprintf(stderr, "keygen 2-of-3 through the hub (tpm2 + pkcs11 + soft): %.1f ms\n",
            deploy_now_ms() - t0);
    if (st != 201) {
        char *t = o ? json_dumps(o, 0) : NULL;
        fprintf(stderr, "keygen: HTTP %d %s\n", st, t ? t : "");
        free(t);
        deploy_dump_logs(&D);
    }
    assert_int_equal(st, 201);
    json_t *k = json_object_get(o, "key") ? json_object_get(o, "key") : o;
    const char *id = json_string_value(json_object_get(k, "id"));
    if (!id)
        id = deploy_jstr(k, "key_id");
    assert_int_equal(strlen(id), 32);
    memcpy(key_id, id, 33);
    json_decref(o);
    char url[80];
    snprintf(url, sizeof url, "/v1/keys/%s", key_id);
    assert_int_equal(deploy_api(&D, "GET", url, NULL, &o), 200);
    assert_string_equal(deploy_jstr(o, "status"), "active");
    assert_int_equal(api_hex_decode(key_pk, 33, deploy_jstr(o, "public_key"), 66), API_OK);
    /* real signers report the key's public data: the hub holds epoch 0's record */
    assert_int_equal(json_integer_value(json_object_get(o, "epoch")), 0);
    assert_true(json_is_true(json_object_get(o, "reshareable")));
    json_decref(o);
    /* The chain code, read from n1's own share row (it is public) rather than from the
     * hub, derives child keys independently of the hub. */
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    char path[256];
    snprintf(path, sizeof path, "%s/n1.db", D.dir);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT chain_code FROM shares WHERE key_id = ?", -1, &q, NULL),
        SQLITE_OK);
    sqlite3_bind_text(q, 1, key_id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_bytes(q, 0), 32);
    memcpy(key_cc, sqlite3_column_blob(q, 0), 32);
    sqlite3_finalize(q);
    sqlite3_close(db);
    /* Every node's share is active (activate arrived) and the audit chain verifies. */
    for (int i = 0; i < DEPLOY_NODES; i++) {
        char conf[256];
        deploy_node_conf_path(&D, i, conf, sizeof conf);
        for (int k2 = 0; k2 < 100; k2++) {
            if (deploy_sh("%s --config %s shares list 2>/dev/null | grep -q '%s active'",
                          SIGNERD_BIN, conf, key_id) == 0)
                break;
            usleep(50000);
        }
        assert_int_equal(deploy_sh("%s --config %s shares list 2>/dev/null | grep -q '%s active'",
                                   SIGNERD_BIN, conf, key_id),
                         0);
    }
}

static void test_sign_every_pair(void **state)
{
    (void)state;
    expect_signed("n1", "n2", NULL);
    expect_signed("n1", "n3", NULL);
    expect_signed("n2", "n3", NULL);
    expect_signed(NULL, NULL, NULL);
    expect_signed("n2", "n3", "m/0/1");
    expect_signed("n1", "n2", "m/7/2147483647/3");
}

/* Latency figures for the notes (not an assertion: performance is measured in bench/). */
static void test_latency(void **state)
{
    (void)state;
    enum { N = 21 };
    double t[N];
    static const char *const pairs[3][2] = {{"n1", "n2"}, {"n1", "n3"}, {"n2", "n3"}};
    for (int p = 0; p < 3; p++) {
        for (int i = 0; i < N; i++) {
            json_t *o = NULL;
            double t0 = deploy_now_ms();
            int st = sign(pairs[p][0], pairs[p][1], NULL, &o);
            t[i] = deploy_now_ms() - t0;
            assert_true(st == 200 || st == 201);
            json_decref(o);
        }
        qsort(t, N, sizeof t[0], deploy_cmp_double);
        fprintf(stderr,
                "sign %s+%s through the hub, one client, new TLS connection each: "
                "median %.1f ms, min %.1f, max %.1f (%d runs)\n",
                pairs[p][0], pairs[p][1], t[N / 2], t[0], t[N - 1], N);
    }
}

static void restart_n3(const char *tamper)
{
    deploy_stop_pid(&D.node_pid[2], SIGTERM);
    wait_online(2, 0);
    deploy_start_node(&D, 2, tamper, 0);
    wait_online(2, 1);
}

/* A hub (here: n3's own test build) that alters, replays or drops protocol frames makes the
 * session fail — never a wrong signature, never a ban; afterwards the nodes sign again. */
static void test_tampered_frames(void **state)
{
    (void)state;
    static const char *const modes[] = {"flip", "replay"};
    for (size_t m = 0; m < 2; m++) {
        restart_n3(modes[m]);
        expect_sign_fails("n1", "n3", "channel authentication");
        expect_sign_fails("n2", "n3", "channel authentication");
    }
    restart_n3("drop");
    expect_sign_fails("n1", "n3", NULL);
    restart_n3(NULL);
    expect_signed("n1", "n3", NULL);
    for (int i = 0; i < 2; i++) {
        char conf[256];
        deploy_node_conf_path(&D, i, conf, sizeof conf);
        assert_int_equal(
            deploy_sh("test -z \"$(%s --config %s bans list 2>/dev/null)\"", SIGNERD_BIN, conf), 0);
    }
}

/* n3 comes back with a new identity key (and a valid certificate for it): the peers refuse
 * to sign with it, since the key pins n3's original certificate. */
static void test_pinned_identity(void **state)
{
    (void)state;
    deploy_stop_pid(&D.node_pid[2], SIGTERM);
    wait_online(2, 0);
    assert_int_equal(
        deploy_sh("cd %s && mv n3.identity n3.identity.orig && mv n3.pem n3.pem.orig", D.dir), 0);
    deploy_enrol(&D, 2, "n3");
    deploy_start_node(&D, 2, NULL, 0);
    wait_online(2, 1);
    expect_sign_fails("n1", "n3", "pinned");
    deploy_stop_pid(&D.node_pid[2], SIGTERM);
    wait_online(2, 0);
    assert_int_equal(
        deploy_sh("cd %s && mv n3.identity.orig n3.identity && mv n3.pem.orig n3.pem", D.dir), 0);
    deploy_start_node(&D, 2, NULL, 0);
    wait_online(2, 1);
    expect_signed("n1", "n3", NULL);
}

typedef struct {
    const char *a, *b;
    int status;
    json_t *out;
    pthread_t t;
} async_sign;

static void *async_run(void *p)
{
    async_sign *s = p;
    s->status = sign(s->a, s->b, NULL, &s->out);
    return NULL;
}

/* A signer that dies mid-session fails that session quickly, naming it; the other two still
 * sign; restarted, it unseals its share and signs again. */
static void test_signer_killed_and_restarted(void **state)
{
    (void)state;
    async_sign a = {.a = "n1", .b = "n3"};
    kill(D.node_pid[2], SIGSTOP); /* frozen: the session cannot finish */
    assert_int_equal(pthread_create(&a.t, NULL, async_run, &a), 0);
    usleep(400000);
    deploy_stop_pid(&D.node_pid[2], SIGKILL);
    pthread_join(a.t, NULL);
    assert_int_equal(a.status, 502);
    assert_non_null(strstr(deploy_jstr(json_object_get(a.out, "error"), "message"), "n3"));
    json_decref(a.out);
    wait_online(2, 0);
    expect_signed("n1", "n2", NULL);
    deploy_start_node(&D, 2, NULL, 0);
    wait_online(2, 1);
    expect_signed("n2", "n3", NULL);
}

/* The hub restarts: the signers reconnect by themselves and the key is still usable. */
static void test_hub_restarted(void **state)
{
    (void)state;
    deploy_stop_pid(&D.hub_pid, SIGTERM);
    deploy_start_hub(&D);
    for (int i = 0; i < DEPLOY_NODES; i++)
        wait_online(i, 1);
    expect_signed("n1", "n2", NULL);
    expect_signed("n3", "n1", NULL);
}

/* The TPM goes away: n1 cannot unseal, the session fails with the backend's reason and
 * nothing is lost; a restart of n1 without its TPM fails at once with a clear error (for
 * systemd to retry); when the TPM is back, n1 starts and signs again. */
static void test_tpm_unavailable(void **state)
{
    (void)state;
    kill(D.tpm.pid, SIGKILL);
    waitpid(D.tpm.pid, NULL, 0);
    D.tpm.pid = -1;
    expect_sign_fails("n1", "n2", "sealing backend");
    deploy_stop_pid(&D.node_pid[0], SIGTERM);
    wait_online(0, 0);
    deploy_start_node(&D, 0, NULL, 0);
    int st = -1; /* a sanitizer build exits slowly (leak check) on a loaded machine: 30 s */
    for (int i = 0; i < 600 && st < 0; i++) {
        int ws;
        if (waitpid(D.node_pid[0], &ws, WNOHANG) == D.node_pid[0]) {
            st = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
            D.node_pid[0] = -1;
        } else {
            usleep(50000);
        }
    }
    assert_int_equal(st, 1);
    assert_int_equal(deploy_sh("grep -q '\\[backend\\] tpm2' %s/n1.log", D.dir), 0);
    assert_int_equal(fx_swtpm_restart(&D.tpm), 0);
    deploy_start_node(&D, 0, NULL, 0);
    wait_online(0, 1);
    expect_signed("n1", "n2", NULL);
}

/* A full disk during keygen (n3's database may not grow): its share cannot be stored, so
 * it sends no attestation; the key fails with a clear error and no share of it becomes
 * active anywhere; signing with the existing key still works. */
static void test_full_disk_keygen(void **state)
{
    (void)state;
    deploy_stop_pid(&D.node_pid[2], SIGTERM);
    wait_online(2, 0);
    setenv("MPC_SIGNERD_TEST_FULL_DISK", "1", 1);
    deploy_start_node(&D, 2, NULL, 0);
    unsetenv("MPC_SIGNERD_TEST_FULL_DISK");
    wait_online(2, 1);
    json_t *o = NULL;
    int status = deploy_api(&D, "POST", "/v1/keys?wait=30",
                            "{\"threshold\":2,\"parties\":[\"n1\",\"n2\",\"n3\"]}", &o);
    const char *msg = deploy_jstr(json_object_get(o, "error"), "message");
    if (status == 201 || !strstr(msg, "store"))
        fprintf(stderr, "full-disk keygen: HTTP %d %s\n", status, msg), deploy_dump_logs(&D);
    assert_true(status != 201);
    assert_non_null(strstr(msg, "store"));
    json_decref(o);
    for (int i = 0; i < DEPLOY_NODES; i++) {
        char conf[256];
        deploy_node_conf_path(&D, i, conf, sizeof conf);
        assert_int_equal(
            deploy_sh("test $(%s --config %s shares list 2>/dev/null | grep -c active) -eq 1",
                      SIGNERD_BIN, conf),
            0);
    }
    restart_n3(NULL);
    expect_signed("n1", "n3", NULL);
}

/* The selective-failure attack through a real daemon: n3 corrupts one base-OT column of its
 * own setup per session. n1 bans n3 at the first failed check (persisted before any other
 * output) and from then on refuses every session with it at once; n1 still signs with n2.
 * The ban survives n1's restart, and an operator can lift it. */
static void test_ot_attack_banned(void **state)
{
    (void)state;
    char conf[256];
    deploy_node_conf_path(&D, 0, conf, sizeof conf);
    restart_n3("ot");
    int answered = 0, banned_at = -1;
    for (int k = 0; k < 40 && banned_at < 0; k++) {
        json_t *o = NULL;
        int st = sign("n1", "n3", NULL, &o);
        const char *msg = deploy_jstr(json_object_get(o, "error"), "message");
        if (k < 3 || (st != 200 && st != 201))
            fprintf(stderr, "ot attack session %d: HTTP %d %s\n", k, st, msg);
        if (st == 200 || st == 201)
            answered++;
        else if (strstr(msg, "OT") || strstr(msg, "ot-extension") || strstr(msg, "check"))
            banned_at = k;
        json_decref(o);
    }
    fprintf(stderr, "ot attack: %d sessions answered before the first failed check (at %d)\n",
            answered, banned_at);
    assert_true(banned_at >= 0);
    assert_int_equal(
        deploy_sh("%s --config %s bans list 2>/dev/null | grep -q .", SIGNERD_BIN, conf), 0);
    for (int k = 0; k < 5; k++)
        expect_sign_fails("n1", "n3", "banned");
    expect_signed("n1", "n2", NULL);
    /* The ban holds across n1's restart. */
    deploy_stop_pid(&D.node_pid[0], SIGTERM);
    wait_online(0, 0);
    deploy_start_node(&D, 0, NULL, 0);
    wait_online(0, 1);
    expect_sign_fails("n1", "n3", "banned");
    /* Lifted by the operator (and n3 honest again), they sign together. */
    assert_int_equal(
        deploy_sh("for fp in $(%s --config %s bans list 2>/dev/null | cut -d' ' -f1); do "
                  "%s --config %s bans lift $fp || exit 1; done",
                  SIGNERD_BIN, conf, SIGNERD_BIN, conf),
        0);
    deploy_stop_pid(&D.node_pid[0], SIGTERM);
    wait_online(0, 0);
    deploy_start_node(&D, 0, NULL, 0);
    wait_online(0, 1);
    restart_n3(NULL);
    expect_signed("n1", "n3", NULL);
    assert_int_equal(deploy_sh("%s --config %s audit verify >/dev/null 2>&1", SIGNERD_BIN, conf),
                     0);
}

int main(void)
{
    if (deploy_check_tools() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen),           cmocka_unit_test(test_sign_every_pair),
        cmocka_unit_test(test_latency),          cmocka_unit_test(test_tampered_frames),
        cmocka_unit_test(test_pinned_identity),  cmocka_unit_test(test_signer_killed_and_restarted),
        cmocka_unit_test(test_hub_restarted),    cmocka_unit_test(test_tpm_unavailable),
        cmocka_unit_test(test_full_disk_keygen), cmocka_unit_test(test_ot_attack_banned),
    };
    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
    return failed || teardown_failed ? 1 : 0; /* cmocka does not count a failed teardown */
}
