/* tests/signerd/test_delegate.c — delegate signers, default signers and external ids end to
 * end (issue 16): a real mpc-hubd and three real mpc-signerd (n1 tpm2 on a swtpm, n2 pkcs11
 * on SoftHSM2, n3 soft with role = delegate; tests/support/deploy.h). A 2-of-3 keygen with
 * n3 as the delegate returns its sealed share exactly once; signing works with the blob and
 * one persistent signer, and without it by the two persistent signers; a blob for another
 * key, sealed for another party, or altered in any byte is refused with bad_delegate_share
 * and bans nobody; the hub's database and log never contain the blob; default signers are
 * used, changed and cleared (with key events); a duplicate external id is refused and a key
 * is found by it; every new endpoint's validation errors; an unclaimed share expires and
 * its key fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "api/b64.h"
#include "api/hex.h"
#include "deploy.h"
#include "hsm/hsm.h"
#include "tss/keyshare.h"
#include "tss/secmem.h"

static deploy D;
static char key_id[33], key2_id[33];
static uint8_t key_pk[33];
static char *blob, *blob2; /* the delegate shares of key_id and key2_id (base64) */

static const uint8_t HASH[32] = {0x64, 0x65, 0x6c, 0x65, 0x67, 0x61, 0x74, 0x65, 9,  8,  7,
                                 6,    5,    4,    3,    2,    1,    0,    11,   12, 13, 14,
                                 15,   16,   17,   18,   19,   20,   21,   22,   23, 24};

static int group_setup(void **state)
{
    (void)state;
    deploy_init(&D, "mpc-delegate-test", HUB_BIN, SIGNERD_BIN);
    snprintf(D.node_signer[2], sizeof D.node_signer[2], "role = delegate\n");
    snprintf(D.hub_extra_sess, sizeof D.hub_extra_sess, "delegate_pickup = 10\n");
    D.hub_log_level = "debug"; /* the log must not carry the blob even at debug level */
    deploy_up(&D);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    int bad = deploy_stop_all_clean(&D) != 0;
    deploy_cleanup(&D);
    free(blob);
    free(blob2);
    return bad;
}

/* ---- helpers ---- */

static void expect_error(const char *method, const char *path, const char *body, int status,
                         const char *code)
{
    json_t *o = NULL;
    int st = deploy_api(&D, method, path, body, &o);
    const char *got = json_string_value(json_object_get(json_object_get(o, "error"), "code"));
    if (st != status || !got || strcmp(got, code) != 0) {
        char *dump = o ? json_dumps(o, 0) : NULL;
        print_error("%s %s: want %d %s, got %d %s\n", method, path, status, code, st,
                    dump ? dump : "(no body)");
        free(dump);
        json_decref(o);
        fail();
    }
    json_decref(o);
}

/* A keygen over n1, n2, n3 with n3 as the delegate (?wait): the key id, its public key and
 * the delegate share from the answer. */
static void keygen_delegate(const char *external_id, char id[33], uint8_t pk[33], char **share)
{
    char body[256];
    json_t *o = NULL;
    snprintf(body, sizeof body,
             "{\"threshold\":2,\"parties\":[\"n1\",\"n2\",\"n3\"],\"delegate\":\"n3\"%s%s%s}",
             external_id ? ",\"external_id\":\"" : "", external_id ? external_id : "",
             external_id ? "\"" : "");
    int st = deploy_api(&D, "POST", "/v1/keys?wait=30", body, &o);
    if (st != 201)
        deploy_dump_logs(&D);
    assert_int_equal(st, 201);
    snprintf(id, 33, "%s", deploy_jstr(o, "id"));
    assert_int_equal(strlen(id), 32);
    assert_int_equal(api_hex_decode(pk, 33, deploy_jstr(o, "public_key"), 66), API_OK);
    assert_string_equal(deploy_jstr(o, "delegate"), "n3");
    const char *b = deploy_jstr(o, "delegate_share");
    size_t n;
    assert_true(api_b64_valid(b, strlen(b), &n));
    assert_true(n > tss_keyshare_encoded_len(3)); /* the sealed share, envelope included */
    *share = strdup(b);
    json_decref(o);
}

static int sign_body(const char *key, const char *parties, const char *share, json_t **out)
{
    char h[65], url[128];
    api_hex_encode(h, HASH, 32);
    size_t cap = 512 + (share ? strlen(share) : 0);
    char *body = malloc(cap);
    snprintf(body, cap, "{\"hash\":\"%s\"%s%s%s%s%s}", h, parties ? ",\"parties\":" : "",
             parties ? parties : "", share ? ",\"delegate_share\":\"" : "", share ? share : "",
             share ? "\"" : "");
    snprintf(url, sizeof url, "/v1/keys/%s/sign?wait=20", key);
    int st = deploy_api(&D, "POST", url, body, out);
    free(body);
    return st;
}

/* Signs HASH with key_id; 200 expected, the signature verified, the signers checked. */
static void sign_ok(const char *parties, const char *share, const char *want_a, const char *want_b)
{
    json_t *o = NULL, *s = NULL;
    int st = sign_body(key_id, parties, share, &o);
    if (st != 200) {
        char *d = o ? json_dumps(o, 0) : NULL;
        print_error("sign: %d %s\n", st, d ? d : "");
        free(d);
        deploy_dump_logs(&D);
    }
    assert_int_equal(st, 200);
    assert_true(deploy_sig_verifies(o, key_pk, HASH));
    char url[128];
    snprintf(url, sizeof url, "/v1/sessions/%s", deploy_jstr(o, "session_id"));
    assert_int_equal(deploy_api(&D, "GET", url, NULL, &s), 200);
    json_t *p = json_object_get(s, "parties");
    assert_int_equal(json_array_size(p), 2);
    const char *a = deploy_jstr(json_array_get(p, 0), "id"),
               *b = deploy_jstr(json_array_get(p, 1), "id");
    assert_true((strcmp(a, want_a) == 0 && strcmp(b, want_b) == 0) ||
                (strcmp(a, want_b) == 0 && strcmp(b, want_a) == 0));
    assert_int_equal(json_integer_value(json_object_get(s, "threshold_t")), 2);
    assert_int_equal(json_integer_value(json_object_get(s, "threshold_n")), 3);
    json_decref(s);
    json_decref(o);
}

/* Waits (15 s at most) until GET /v1/keys/ID says status. */
static void wait_status(const char *id, const char *status)
{
    char url[128];
    snprintf(url, sizeof url, "/v1/keys/%s", id);
    for (int i = 0; i < 300; i++) {
        json_t *o = NULL;
        deploy_api(&D, "GET", url, NULL, &o);
        int ok = strcmp(deploy_jstr(o, "status"), status) == 0;
        assert_null(json_object_get(o, "delegate_share"));
        json_decref(o);
        if (ok)
            return;
        usleep(50000);
    }
    fail_msg("key %s never became %s", id, status);
}

static int count_rows(int node, const char *sql)
{
    char path[256];
    sqlite3 *db;
    sqlite3_stmt *st;
    snprintf(path, sizeof path, "%s/%s.db", D.dir, deploy_node[node]);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void no_bans(void)
{
    for (int i = 0; i < DEPLOY_NODES; i++)
        assert_int_equal(count_rows(i, "SELECT count(*) FROM bans"), 0);
}

/* 1 if the file contains needle (binary-safe). */
static int file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = 0;
    int hit = memmem(buf, got, needle, strlen(needle)) != NULL;
    free(buf);
    return hit;
}

/* ---- tests ---- */

/* Keygen with one delegate among three: the blob comes back once, in the keygen's answer;
 * the key becomes active once that answer was written; the delegate stored nothing but
 * claimed the sid and audited the keygen; the session shows t, n and its events. */
static void test_keygen_delegate(void **state)
{
    (void)state;
    keygen_delegate("user-1", key_id, key_pk, &blob);
    wait_status(key_id, "active");
    char url[128];
    snprintf(url, sizeof url, "/v1/keys/%s/delegate_share", key_id);
    expect_error("POST", url, "{}", 410, "delegate_share_gone");
    expect_error("POST", url, "{}", 410, "delegate_share_gone");
    json_t *k = NULL, *s = NULL;
    snprintf(url, sizeof url, "/v1/keys/%s", key_id);
    assert_int_equal(deploy_api(&D, "GET", url, NULL, &k), 200);
    assert_string_equal(deploy_jstr(k, "external_id"), "user-1");
    assert_string_equal(deploy_jstr(k, "delegate"), "n3");
    assert_int_equal(json_array_size(json_object_get(k, "attestations")), 3);
    json_t *ev = json_object_get(k, "events");
    assert_string_equal(deploy_jstr(json_array_get(ev, json_array_size(ev) - 1), "event"),
                        "delegate_share_handed");
    snprintf(url, sizeof url, "/v1/sessions/%s", deploy_jstr(k, "keygen_session"));
    assert_int_equal(deploy_api(&D, "GET", url, NULL, &s), 200);
    assert_int_equal(json_integer_value(json_object_get(s, "threshold_t")), 2);
    assert_int_equal(json_integer_value(json_object_get(s, "threshold_n")), 3);
    char *evs = json_dumps(json_object_get(s, "events"), 0);
    assert_non_null(strstr(evs, "delegate_share_sealed"));
    assert_non_null(strstr(evs, "share_persisted"));
    free(evs);
    json_decref(s);
    json_decref(k);
    assert_int_equal(count_rows(2, "SELECT count(*) FROM shares"), 0);
    assert_true(count_rows(2, "SELECT count(*) FROM used_sids") >= 1);
    assert_int_equal(count_rows(2, "SELECT count(*) FROM audit WHERE kind='keygen' AND outcome"
                                   " LIKE 'delegate:%'"),
                     1);
    assert_int_equal(count_rows(0, "SELECT count(*) FROM shares WHERE status='active'"), 1);
}

/* Signing with the blob and one persistent signer, named or picked by the hub. */
static void test_sign_with_blob(void **state)
{
    (void)state;
    sign_ok("[\"n3\",\"n1\"]", blob, "n1", "n3");
    sign_ok("[\"n2\",\"n3\"]", blob, "n2", "n3");
    sign_ok(NULL, blob, "n3", "n1");
    /* the delegate kept nothing */
    assert_int_equal(count_rows(2, "SELECT count(*) FROM shares"), 0);
    /* the hub answers with the first signer's result: the delegate may audit a moment later */
    int audited = 0;
    for (int i = 0; i < 250 && audited < 3; i++, usleep(20000))
        audited = count_rows(2, "SELECT count(*) FROM audit WHERE kind='sign' AND outcome="
                                "'signed'");
    assert_true(audited >= 3);
}

/* Without the blob the two persistent signers sign; the delegate is never picked. */
static void test_sign_without_blob(void **state)
{
    (void)state;
    sign_ok(NULL, NULL, "n1", "n2");
    sign_ok("[\"n2\",\"n1\"]", NULL, "n1", "n2");
    char url[128], h[65], body[256];
    api_hex_encode(h, HASH, 32);
    snprintf(url, sizeof url, "/v1/keys/%s/sign", key_id);
    snprintf(body, sizeof body, "{\"hash\":\"%s\",\"parties\":[\"n1\",\"n3\"]}", h);
    expect_error("POST", url, body, 400, "missing_field");
    snprintf(body, sizeof body,
             "{\"hash\":\"%s\",\"parties\":[\"n1\",\"n2\"],"
             "\"delegate_share\":\"QUJD\"}",
             h);
    expect_error("POST", url, body, 400, "bad_field");
    snprintf(body, sizeof body, "{\"hash\":\"%s\",\"delegate_share\":\"not base64!\"}", h);
    expect_error("POST", url, body, 400, "bad_field");
    snprintf(body, sizeof body, "{\"hash\":\"%s\",\"delegate_share\":\"QUI=\\n\"}", h);
    expect_error("POST", url, body, 400, "bad_field");
}

static void sign_refused(const char *share)
{
    json_t *o = NULL;
    int st = sign_body(key_id, "[\"n3\",\"n1\"]", share, &o);
    const char *code = json_string_value(json_object_get(json_object_get(o, "error"), "code"));
    const char *msg = json_string_value(json_object_get(json_object_get(o, "error"), "message"));
    if (st != 422 || !code || strcmp(code, "bad_delegate_share") != 0) {
        char *d = o ? json_dumps(o, 0) : NULL;
        print_error("want 422 bad_delegate_share, got %d %s\n", st, d ? d : "");
        free(d);
        fail();
    }
    assert_non_null(strstr(msg, "delegate_share refused"));
    json_decref(o);
}

/* A blob for another key, one sealed for another party, and the blob altered in its first,
 * a middle and its last byte: each refused by the delegate with a clear error, and nobody
 * bans anybody; the right blob still signs afterwards. */
static void test_bad_blobs(void **state)
{
    (void)state;
    keygen_delegate(NULL, key2_id, (uint8_t[33]){0}, &blob2);
    sign_refused(blob2); /* another key's share */

    size_t n, len = strlen(blob);
    assert_true(api_b64_valid(blob, len, &n));
    uint8_t *raw = malloc(n);
    assert_int_equal(api_b64_decode(raw, n, &n, blob, len), API_OK);
    char *alt = malloc(len + 1);
    size_t where[] = {0, n / 2, n - 1};
    for (size_t w = 0; w < 3; w++) {
        raw[where[w]] ^= 0x01;
        api_b64_encode(alt, raw, n);
        sign_refused(alt);
        raw[where[w]] ^= 0x01;
    }
    /* The same share sealed (by the same node's soft key) for party n1: another party's. */
    uint8_t aad[HSM_AAD_SHARE_MAX + 64], *plain = NULL, *other = NULL;
    size_t aad_len, plen, olen;
    char keyfile[256];
    snprintf(keyfile, sizeof keyfile, "%s/n3.soft-key", D.dir);
    hsm_config c;
    hsm_backend *b = NULL;
    hsm_config_init(&c, HSM_KIND_SOFT);
    c.soft.key_file = keyfile;
    c.soft.allow_insecure = true;
    assert_int_equal(hsm_open(&c, &b), HSM_OK);
    static const char tag[] = "mpc-signer/delegate-share/v1";
    assert_int_equal(
        hsm_aad_build(aad, sizeof aad, &aad_len, key_id, "n3", TSS_KEYSHARE_SEAL_VERSION), HSM_OK);
    memcpy(aad + aad_len, tag, sizeof tag - 1);
    assert_int_equal(hsm_unseal(b, raw, n, aad, aad_len + sizeof tag - 1, &plain, &plen), HSM_OK);
    assert_int_equal(
        hsm_aad_build(aad, sizeof aad, &aad_len, key_id, "n1", TSS_KEYSHARE_SEAL_VERSION), HSM_OK);
    memcpy(aad + aad_len, tag, sizeof tag - 1);
    assert_int_equal(hsm_seal(b, plain, plen, aad, aad_len + sizeof tag - 1, &other, &olen),
                     HSM_OK);
    char *other64 = malloc(api_b64_len(olen) + 1);
    api_b64_encode(other64, other, olen);
    sign_refused(other64);
    tss_secmem_free(plain);
    (void)plen;
    free(other);
    free(other64);
    hsm_close(b);
    free(raw);
    free(alt);
    no_bans();
    sign_ok("[\"n3\",\"n1\"]", blob, "n1", "n3");
}

/* The hub's database (and its WAL) and its log never hold the blob: neither its start, nor
 * a piece of its middle, nor its end; the stored sign request has its SHA-256 instead. */
static void test_hub_never_stores_blob(void **state)
{
    (void)state;
    const char *files[] = {"hub.db", "hub.db-wal", "hub.log"};
    const char *shares[] = {blob, blob2};
    for (size_t s = 0; s < 2; s++) {
        size_t len = strlen(shares[s]);
        char head[65], mid[65], tail[65];
        snprintf(head, sizeof head, "%.64s", shares[s]);
        snprintf(mid, sizeof mid, "%.64s", shares[s] + len / 2);
        snprintf(tail, sizeof tail, "%s", shares[s] + len - 64);
        for (size_t f = 0; f < 3; f++) {
            char path[256];
            snprintf(path, sizeof path, "%s/%s", D.dir, files[f]);
            assert_false(file_contains(path, head));
            assert_false(file_contains(path, mid));
            assert_false(file_contains(path, tail));
        }
    }
    char path[256];
    snprintf(path, sizeof path, "%s/hub.log", D.dir);
    assert_true(file_contains(path, "delegate share handed")); /* the log is the real one */
    snprintf(path, sizeof path, "%s/hub.db-wal", D.dir);
    char db[256];
    snprintf(db, sizeof db, "%s/hub.db", D.dir);
    assert_true(file_contains(path, "delegate_share_sha256") ||
                file_contains(db, "delegate_share_sha256"));
}

/* Default signers: used when a request names none, changed, cleared; each change is a key
 * event; every validation error of the endpoint. */
static void test_default_signers(void **state)
{
    (void)state;
    char url[128], body[128];
    json_t *o = NULL;
    snprintf(url, sizeof url, "/v1/keys/%s/signers", key_id);
    assert_int_equal(deploy_api(&D, "GET", url, NULL, &o), 200);
    assert_int_equal(json_array_size(json_object_get(o, "signers")), 0);
    json_decref(o);
    assert_int_equal(deploy_api(&D, "PUT", url, "{\"parties\":[\"n2\",\"n1\"]}", &o), 200);
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "signers"), 0)), "n2");
    json_decref(o);
    sign_ok(NULL, NULL, "n2", "n1");
    /* changed: the delegate and n2; without the blob only n2 is eligible */
    assert_int_equal(deploy_api(&D, "PUT", url, "{\"parties\":[\"n3\",\"n2\"]}", NULL), 200);
    json_t *e = NULL;
    int st = sign_body(key_id, NULL, NULL, &e);
    assert_int_equal(st, 422);
    json_decref(e);
    sign_ok(NULL, blob, "n3", "n2");
    /* cleared: the hub picks among all persistent parties again */
    assert_int_equal(deploy_api(&D, "DELETE", url, NULL, &o), 200);
    assert_int_equal(json_array_size(json_object_get(o, "signers")), 0);
    json_decref(o);
    sign_ok(NULL, NULL, "n1", "n2");
    snprintf(body, sizeof body, "/v1/keys/%s", key_id);
    assert_int_equal(deploy_api(&D, "GET", body, NULL, &o), 200);
    char *ev = json_dumps(json_object_get(o, "events"), 0);
    const char *a = strstr(ev, "signers_set"), *b = a ? strstr(a + 1, "signers_set") : NULL,
               *c = b ? strstr(b, "signers_cleared") : NULL;
    assert_non_null(c);
    free(ev);
    json_decref(o);
    /* validation */
    expect_error("PUT", url, "{\"parties\":[\"n1\"]}", 400, "bad_field");
    expect_error("PUT", url, "{\"parties\":[\"n1\",\"n1\"]}", 400, "bad_field");
    expect_error("PUT", url, "{\"parties\":[\"n1\",\"n9\"]}", 422, "unknown_party");
    expect_error("PUT", url, "{}", 400, "missing_field");
    expect_error("PUT", url, "{\"parties\":[\"n1\",\"n2\"],\"x\":1}", 400, "unknown_field");
    expect_error("PUT", url, "[1]", 400, "bad_json");
    expect_error("PUT", url, "", 400, "bad_json");
    expect_error("POST", url, "{\"parties\":[\"n1\",\"n2\"]}", 405, "method_not_allowed");
    expect_error("PUT", "/v1/keys/00000000000000000000000000000000/signers",
                 "{\"parties\":[\"n1\",\"n2\"]}", 404, "unknown_key");
    expect_error("GET", "/v1/keys/xyz/signers", NULL, 404, "unknown_key");
    expect_error("GET", "/v1/keys/00000000000000000000000000000000/signers", NULL, 404,
                 "unknown_key");
}

/* external_id: unique (a duplicate is refused), found by lookup, validated. Keygen and
 * pickup validation around delegates. */
static void test_external_id_and_validation(void **state)
{
    (void)state;
    json_t *o = NULL;
    expect_error("POST", "/v1/keys",
                 "{\"threshold\":2,\"parties\":[\"n1\",\"n2\",\"n3\"],\"delegate\":\"n3\","
                 "\"external_id\":\"user-1\"}",
                 409, "external_id_taken");
    assert_int_equal(deploy_api(&D, "GET", "/v1/keys?external_id=user-1", NULL, &o), 200);
    assert_int_equal(json_array_size(json_object_get(o, "keys")), 1);
    assert_string_equal(deploy_jstr(json_array_get(json_object_get(o, "keys"), 0), "id"), key_id);
    json_decref(o);
    assert_int_equal(deploy_api(&D, "GET", "/v1/keys?external_id=nobody", NULL, &o), 200);
    assert_int_equal(json_array_size(json_object_get(o, "keys")), 0);
    json_decref(o);
    expect_error("GET", "/v1/keys?external_id=a%20b", NULL, 400, "bad_query");
    expect_error("GET", "/v1/keys?external_id=", NULL, 400, "bad_query");
    expect_error("GET", "/v1/keys?external_id", NULL, 400, "bad_query");
    expect_error("GET", "/v1/keys?external_id=a&external_id=b", NULL, 400, "bad_query");
    expect_error("POST", "/v1/keys", "{\"threshold\":2,\"n\":2,\"external_id\":\"a b\"}", 400,
                 "bad_field");
    expect_error("POST", "/v1/keys", "{\"threshold\":2,\"n\":2,\"external_id\":7}", 400,
                 "bad_field");
    /* delegates */
    expect_error("POST", "/v1/keys",
                 "{\"threshold\":2,\"parties\":[\"n1\",\"n2\"],\"delegate\":\"n1\"}", 400,
                 "bad_field"); /* n1 is persistent */
    expect_error("POST", "/v1/keys",
                 "{\"threshold\":2,\"parties\":[\"n1\",\"n2\"],\"delegate\":\"n3\"}", 400,
                 "bad_field"); /* not among the parties */
    expect_error("POST", "/v1/keys", "{\"threshold\":2,\"parties\":[\"n1\",\"n3\"]}", 400,
                 "bad_field"); /* a delegate signer named as persistent */
    expect_error("POST", "/v1/keys", "{\"threshold\":2,\"n\":2,\"delegate\":\"n9\"}", 422,
                 "unknown_party");
    expect_error("POST", "/v1/keys", "{\"threshold\":2,\"n\":2,\"delegate\":\"../x\"}", 400,
                 "bad_field");
    expect_error(
        "POST", "/v1/keys", "{\"threshold\":2,\"n\":24,\"delegate\":\"n3\"}", 400,
        "bad_field"); /* its share (κ = 128: 12.3 KB a peer) would not fit under max_body */
    /* pickup */
    expect_error("POST", "/v1/keys/00000000000000000000000000000000/delegate_share", "{}", 404,
                 "unknown_key");
    expect_error("GET", "/v1/keys/00000000000000000000000000000000/delegate_share", NULL, 405,
                 "method_not_allowed");
    char url[128];
    json_t *k = NULL;
    /* a key without a delegate: hub-picked parties never include the delegate signer */
    assert_int_equal(deploy_api(&D, "POST", "/v1/keys?wait=30", "{\"threshold\":2,\"n\":2}", &k),
                     201);
    assert_null(json_object_get(k, "delegate_share"));
    char *parties = json_dumps(json_object_get(k, "parties"), 0);
    assert_null(strstr(parties, "n3"));
    free(parties);
    snprintf(url, sizeof url, "/v1/keys/%s/delegate_share", deploy_jstr(k, "id"));
    expect_error("POST", url, "{}", 404, "not_found");
    snprintf(url, sizeof url, "/v1/keys/%s/sign", deploy_jstr(k, "id"));
    expect_error("POST", url,
                 "{\"hash\":\"0000000000000000000000000000000000000000000000000000000000000001\","
                 "\"delegate_share\":\"QUJD\"}",
                 400, "bad_field");
    json_decref(k);
}

/* Without ?wait the keygen answers 202; the backend picks the share up once with POST
 * .../delegate_share. A share nobody picks up is wiped after delegate_pickup (10 s here):
 * the key fails, with an event, and its external id is free again. */
static void test_pickup_and_expiry(void **state)
{
    (void)state;
    json_t *o = NULL;
    char url[160], id[33];
    const char *body = "{\"threshold\":2,\"parties\":[\"n1\",\"n2\",\"n3\"],\"delegate\":\"n3\","
                       "\"external_id\":\"user-2\"}";
    for (int round = 0; round < 2; round++) {
        assert_int_equal(deploy_api(&D, "POST", "/v1/keys", body, &o), 202);
        char sess[40];
        snprintf(sess, sizeof sess, "%s", deploy_jstr(o, "id"));
        snprintf(id, sizeof id, "%s", deploy_jstr(o, "key_id"));
        json_decref(o);
        snprintf(url, sizeof url, "/v1/sessions/%s", sess);
        for (int i = 0; i < 200; i++) {
            assert_int_equal(deploy_api(&D, "GET", url, NULL, &o), 200);
            int done = strcmp(deploy_jstr(o, "status"), "running") != 0;
            assert_null(json_object_get(json_object_get(o, "result"), "delegate_share"));
            json_decref(o);
            if (done)
                break;
            usleep(50000);
        }
        wait_status(id, "delivering");
        assert_true(deploy_metric(&D, "mpc_hub_delegate_shares_waiting") >= 1);
        if (round == 0) { /* picked up once */
            snprintf(url, sizeof url, "/v1/keys/%s/delegate_share", id);
            assert_int_equal(deploy_api(&D, "POST", url, "{}", &o), 200);
            size_t n;
            const char *b = deploy_jstr(o, "delegate_share");
            assert_true(api_b64_valid(b, strlen(b), &n));
            json_decref(o);
            expect_error("POST", url, "{}", 410, "delegate_share_gone");
            wait_status(id, "active");
            /* the external id is taken by this key now; fail its retry */
            expect_error("POST", "/v1/keys", body, 409, "external_id_taken");
            body = "{\"threshold\":2,\"parties\":[\"n1\",\"n2\",\"n3\"],\"delegate\":\"n3\","
                   "\"external_id\":\"user-3\"}";
        }
    }
    /* round 1: never picked up */
    sleep(11);
    wait_status(id, "failed");
    assert_true(deploy_metric(&D, "mpc_hub_delegate_shares_waiting") == 0);
    snprintf(url, sizeof url, "/v1/keys/%s/delegate_share", id);
    expect_error("POST", url, "{}", 410, "delegate_share_gone");
    snprintf(url, sizeof url, "/v1/keys/%s", id);
    assert_int_equal(deploy_api(&D, "GET", url, NULL, &o), 200);
    char *ev = json_dumps(json_object_get(o, "events"), 0);
    assert_non_null(strstr(ev, "delegate_share_expired"));
    free(ev);
    assert_true(json_is_null(json_object_get(o, "external_id")));
    json_decref(o);
    assert_int_equal(deploy_api(&D, "GET", "/v1/keys?external_id=user-3", NULL, &o), 200);
    assert_int_equal(json_array_size(json_object_get(o, "keys")), 0);
    json_decref(o);
}

/* mpcctl, the backend's tool: keys create --delegate --share-out (file 0600, written once,
 * never overwritten), keys list --external-id, sign --delegate-share, keys signers. */
static void test_mpcctl(void **state)
{
    (void)state;
    char share[256], bad[256], h[65], *out = NULL, kid[33];
    D.ctl_bin = MPCCTL_BIN;
    deploy_ctl_env(&D);
    snprintf(share, sizeof share, "%s/ctl-share.b64", D.dir);
    snprintf(bad, sizeof bad, "%s/ctl-bad.b64", D.dir);
    api_hex_encode(h, HASH, 32);
    assert_int_equal(
        deploy_ctl(&D, NULL, "keys create --threshold 2 --parties n1,n2,n3 --delegate n3"), 2);
    assert_int_equal(deploy_ctl(&D, &out,
                                "--json keys create --threshold 2 --parties n1,n2,n3 --delegate n3"
                                " --share-out %s --external-id ctl-1",
                                share),
                     0);
    json_t *k = json_loads(out, 0, NULL);
    free(out);
    assert_string_equal(deploy_jstr(k, "status"), "active");
    assert_null(json_object_get(k, "delegate_share"));
    snprintf(kid, sizeof kid, "%s", deploy_jstr(k, "id"));
    json_decref(k);
    struct stat sb;
    assert_int_equal(stat(share, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* the file is never overwritten: a second create refuses before asking the hub */
    assert_int_equal(deploy_ctl(&D, NULL,
                                "keys create --threshold 2 --parties n1,n2,n3 --delegate n3"
                                " --share-out %s",
                                share),
                     5);
    assert_int_equal(deploy_ctl(&D, &out, "--json keys list --external-id ctl-1"), 0);
    k = json_loads(out, 0, NULL);
    free(out);
    assert_string_equal(deploy_jstr(json_array_get(json_object_get(k, "keys"), 0), "id"), kid);
    json_decref(k);
    assert_int_equal(deploy_ctl(&D, NULL,
                                "sign %s --hash %s --delegate-share %s --signers n3,n1 --verify",
                                kid, h, share),
                     0);
    assert_int_equal(deploy_ctl(&D, NULL, "keys signers set %s n2,n1", kid), 0);
    assert_int_equal(deploy_ctl(&D, &out, "--json keys signers get %s", kid), 0);
    k = json_loads(out, 0, NULL);
    free(out);
    assert_string_equal(json_string_value(json_array_get(json_object_get(k, "signers"), 0)), "n2");
    assert_string_equal(json_string_value(json_array_get(json_object_get(k, "signers"), 1)), "n1");
    json_decref(k);
    assert_int_equal(deploy_ctl(&D, NULL, "sign %s --hash %s --verify", kid, h), 0);
    assert_int_equal(deploy_ctl(&D, NULL, "keys signers clear %s", kid), 0);
    /* an altered share: the hub answers 422 bad_delegate_share, mpcctl exits 1 */
    assert_int_equal(
        deploy_sh("sed -E 's/^(.{200})A/\\1B/; t; s/^(.{200})./\\1A/' %s > %s", share, bad), 0);
    assert_int_equal(
        deploy_ctl(&D, NULL, "sign %s --hash %s --delegate-share %s --signers n3,n1", kid, h, bad),
        1);
    assert_int_equal(deploy_sh("tail -n 2 %s/mpcctl.log | grep -q bad_delegate_share", D.dir), 0);
    assert_int_equal(
        deploy_ctl(&D, NULL, "sign %s --hash %s --delegate-share %s/nonexistent", kid, h, D.dir),
        5);
    no_bans();
}

/* A new key waiting for its delegate share lives in the hub's memory only: a hub restart
 * loses the share, and the key is failed with an event saying so. */
static void test_hub_restart_loses_waiting_share(void **state)
{
    (void)state;
    json_t *o = NULL;
    char id[33], url[128];
    assert_int_equal(deploy_api(&D, "POST", "/v1/keys",
                                "{\"threshold\":2,\"parties\":[\"n1\",\"n2\",\"n3\"],"
                                "\"delegate\":\"n3\"}",
                                &o),
                     202);
    snprintf(id, sizeof id, "%s", deploy_jstr(o, "key_id"));
    json_decref(o);
    wait_status(id, "delivering");
    assert_int_equal(deploy_stop_pid(&D.hub_pid, SIGTERM), 0);
    deploy_start_hub(&D);
    snprintf(url, sizeof url, "/v1/keys/%s", id);
    assert_int_equal(deploy_api(&D, "GET", url, NULL, &o), 200);
    assert_string_equal(deploy_jstr(o, "status"), "failed");
    char *ev = json_dumps(json_object_get(o, "events"), 0);
    assert_non_null(strstr(ev, "delegate_share_lost"));
    free(ev);
    json_decref(o);
    snprintf(url, sizeof url, "/v1/keys/%s/delegate_share", id);
    expect_error("POST", url, "{}", 410, "delegate_share_gone");
    for (int i = 0; i < DEPLOY_NODES; i++)
        assert_int_equal(deploy_wait_online(&D, i, 1), 0);
}

#ifdef SIGNERD_TEST_BIN
/* Restarts node i, the test build with tamper mode (NULL: the normal build). */
static void restart(int i, const char *tamper)
{
    assert_int_equal(deploy_stop_pid(&D.node_pid[i], SIGTERM), 0);
    D.node_bin[i] = tamper ? SIGNERD_TEST_BIN : NULL;
    deploy_start_node(&D, i, tamper, 0);
    assert_int_equal(deploy_wait_online(&D, i, 1), 0);
}

static void keygen_fails(const char *needle)
{
    json_t *o = NULL;
    int st = deploy_api(&D, "POST", "/v1/keys?wait=30",
                        "{\"threshold\":2,\"parties\":[\"n1\",\"n2\",\"n3\"],"
                        "\"delegate\":\"n3\"}",
                        &o);
    const char *msg = json_string_value(json_object_get(json_object_get(o, "error"), "message"));
    if (st != 502 || !msg || !strstr(msg, needle)) {
        char *d = o ? json_dumps(o, 0) : NULL;
        print_error("want 502 with '%s', got %d %s\n", needle, st, d ? d : "");
        free(d);
        fail();
    }
    assert_non_null(strstr(msg, "bad_result"));
    json_decref(o);
}

/* The hub takes a delegate share only from the party the keygen named as delegate, and
 * requires it from that party: a persistent signer that returns a blob, or a delegate
 * that keeps its share and returns none, fails the keygen (bad_result); no key. */
static void test_signer_lying_about_its_role(void **state)
{
    (void)state;
    restart(1, "delegate-lie"); /* n2, persistent, returns a blob */
    keygen_fails("'n2' is not the key's delegate but returned a delegate_share");
    restart(1, NULL);
    restart(2, "delegate-keep"); /* n3, the delegate, stores its share instead */
    keygen_fails("'n3' is the key's delegate but returned no delegate_share");
    restart(2, NULL);
    sign_ok(NULL, blob, "n3", "n1"); /* everything as before */
}
#endif

/* A delegate on the TPM: n1 (swtpm) restarts as a delegate (its stored shares still sign
 * without a blob), a 2-of-2 key with n2 seals n1's share in the TPM; it signs with that
 * blob; the soft delegate's blob of another key, and the TPM blob altered, are refused. */
static void test_tpm_delegate(void **state)
{
    (void)state;
    json_t *o = NULL;
    assert_int_equal(deploy_stop_pid(&D.node_pid[0], SIGTERM), 0);
    deploy_write_node_conf(&D, 0, "role = delegate\n");
    deploy_start_node(&D, 0, NULL, 0);
    assert_int_equal(deploy_wait_online(&D, 0, 1), 0);
    sign_ok("[\"n1\",\"n2\"]", NULL, "n1", "n2"); /* a stored share: no blob needed */
    int st = deploy_api(&D, "POST", "/v1/keys?wait=30",
                        "{\"threshold\":2,\"parties\":[\"n1\",\"n2\"],\"delegate\":\"n1\"}", &o);
    assert_int_equal(st, 201);
    char id[33];
    uint8_t pk[33];
    snprintf(id, sizeof id, "%s", deploy_jstr(o, "id"));
    assert_int_equal(api_hex_decode(pk, 33, deploy_jstr(o, "public_key"), 66), API_OK);
    char *tblob = strdup(deploy_jstr(o, "delegate_share"));
    json_decref(o);
    size_t n, len = strlen(tblob);
    assert_true(api_b64_valid(tblob, len, &n));
    hsm_kind kind;
    uint8_t *full = malloc(n);
    assert_int_equal(api_b64_decode(full, n, &n, tblob, len), API_OK);
    assert_int_equal(hsm_blob_kind(full, n, &kind), HSM_OK);
    assert_int_equal(kind, HSM_KIND_TPM2); /* sealed by n1's TPM */
    wait_status(id, "active");
    json_t *r = NULL;
    assert_int_equal(sign_body(id, "[\"n1\",\"n2\"]", tblob, &r), 200);
    assert_true(deploy_sig_verifies(r, pk, HASH));
    json_decref(r);
    assert_int_equal(sign_body(id, "[\"n1\",\"n2\"]", blob, &r), 422); /* n3's, soft */
    json_decref(r);
    full[n - 1] ^= 0x80;
    char *alt = malloc(api_b64_len(n) + 1);
    api_b64_encode(alt, full, n);
    assert_int_equal(sign_body(id, "[\"n1\",\"n2\"]", alt, &r), 422);
    json_decref(r);
    free(alt);
    free(full);
    free(tblob);
    no_bans();
}

int main(void)
{
    if (deploy_check_tools() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen_delegate),
        cmocka_unit_test(test_sign_with_blob),
        cmocka_unit_test(test_sign_without_blob),
        cmocka_unit_test(test_bad_blobs),
        cmocka_unit_test(test_hub_never_stores_blob),
        cmocka_unit_test(test_default_signers),
        cmocka_unit_test(test_external_id_and_validation),
        cmocka_unit_test(test_pickup_and_expiry),
        cmocka_unit_test(test_mpcctl),
        cmocka_unit_test(test_hub_restart_loses_waiting_share),
#ifdef SIGNERD_TEST_BIN
        cmocka_unit_test(test_signer_lying_about_its_role),
#endif
        cmocka_unit_test(test_tpm_delegate),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
