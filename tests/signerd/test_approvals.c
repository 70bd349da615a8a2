/* tests/signerd/test_approvals.c — approvals and policy on every signer (issue 15), against
 * a MALICIOUS HUB: the test is the hub (fake_hub.c) and three real mpc-signerd processes dial
 * it. n1 and n2 run a policy signed by an offline policy key that needs 2 of 3 approvers
 * (alice: P-256, bob: Ed25519, carol: secp256k1); n3 has no policy. Every 2-of-3 signing
 * set includes n1 or n2, so no request may sign without the quorum, whatever the hub sends:
 * no approvals, too few, duplicates, expired or unknown approvers, approvals for another
 * hash, path or request id, altered signatures, different approvals to different signers, a
 * replayed request id (also after a restart). The policy is reloaded on SIGHUP only when its
 * signature verifies, and a signer with an unsigned or tampered policy refuses to start.
 * Each refusal reaches the hub as an abort whose reason names the rule; no result (so no
 * signature) leaves any signer. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <sqlite3.h>

#include "api/frame.h"
#include "api/hex.h"
#include "api/json.h"
#include "daemon/common/approval.h"
#include "daemon/common/eip712.h"
#include "hostile_fixture.h"
#include "hsm/hsm.h"
#include "policy.h"
#include "daemon/common/rlp.h"
#include "tss/keccak.h"
#include "tss/point.h"

/* ---- keys, approvals and session-starts ---- */

static EVP_PKEY *policy_key, *alice, *bob, *carol;

static void keygen(hf_key *k)
{
    const int all[3] = {0, 1, 2};
    hf_sess *s = hf_keygen_start(all, 3, 2, k, NULL);
    hf_run1(s, 30000);
    hf_expect_results(s);
    hf_jget(s->text[0], "public_key", k->pk, sizeof k->pk);
    assert_int_equal(strlen(k->pk), 66);
    hf_activate(s, k);
    hf_pump(500);
}

/* Signs hash (hex) along path with the nodes; approval[p] is the approval JSON the hub sends
 * participant p (NULL: null). */
static hf_sess *sign_with(const hf_key *k, const int *nodes, int n, const char *hash,
                          const char *path, const char *const *approval)
{
    hf_sess *s = hf_sign_start_ex(k, nodes, n, hash, path, approval, NULL);
    hf_run1(s, 20000);
    return s;
}

/* The same approval JSON to every participant. */
static hf_sess *sign_all(const hf_key *k, const int *nodes, int n, const char *hash,
                         const char *path, const char *approval)
{
    const char *a[HF_MAXP] = {approval, approval, approval};
    return sign_with(k, nodes, n, hash, path, a);
}

typedef struct {
    const char *who;
    EVP_PKEY *key;
    long expires_in; /* seconds from now */
} signer_spec;

/* The approval object: request_id, the typed payload (typed_key/typed_value, may be NULL)
 * and one approval per spec, each over the canonical message of (key, kind, digest, path,
 * rid). malloc'd JSON. */
static char *approvals_for(const hf_key *k, const char *kind, const uint8_t digest[32],
                           const char *typed_key, const char *typed_value, const char *path,
                           const char *rid, const signer_spec *specs, int count)
{
    uint8_t kid[16], msg[MPCD_APPROVAL_MSG_MAX], sig[64];
    assert_int_equal(api_hex_decode(kid, 16, k->kid, 32), API_OK);
    json_t *arr = json_array();
    for (int i = 0; i < count; i++) {
        uint64_t exp = (uint64_t)((long)time(NULL) + specs[i].expires_in);
        size_t n = mpcd_approval_message(msg, kid, kind, digest, path, rid, exp);
        assert_int_not_equal(n, 0);
        assert_int_equal(mpcd_approval_sign(specs[i].key, msg, n, sig), MPCD_APPROVAL_OK);
        char sh[129];
        api_hex_encode(sh, sig, 64);
        json_array_append_new(arr,
                              json_pack("{s:s,s:s,s:I,s:s}", "approver", specs[i].who, "alg",
                                        mpcd_approval_alg_name(mpcd_approval_alg_of(specs[i].key)),
                                        "expires", (json_int_t)exp, "signature", sh));
    }
    json_t *o = json_pack("{s:s,s:o}", "request_id", rid, "approvals", arr);
    if (typed_key)
        json_object_set_new(o, typed_key, json_string(typed_value));
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return txt;
}

static char *approvals(const hf_key *k, const char *hash_hex, const char *path, const char *rid,
                       const signer_spec *specs, int count)
{
    uint8_t digest[32];
    assert_int_equal(api_hex_decode(digest, 32, hash_hex, 64), API_OK);
    return approvals_for(k, "hash", digest, NULL, NULL, path, rid, specs, count);
}

/* ---- policies ---- */

static void pubhex(EVP_PKEY *k, char out[131])
{
    assert_int_equal(mpcd_approval_public_hex(k, out), MPCD_APPROVAL_OK);
}

/* Writes node i's policy (extra lines appended to [policy]) and, if sign, its signature. */
static void write_policy(int i, const char *extra, int sign)
{
    char a[131], b[131], c[131], path[256], text[4096];
    pubhex(alice, a);
    pubhex(bob, b);
    pubhex(carol, c);
    snprintf(text, sizeof text,
             "[policy]\nraw_hashes = allow\nmessages = allow\nquorum = 2\n"
             "chain_ids = 1, 11155111\n"
             "destinations = 0x1111111111111111111111111111111111111111\n"
             "destinations = 0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC\n"
             "max_value = 1000000\nwindow_seconds = 3600\nwindow_max_value = 1500000\n%s\n"
             "[approver alice]\nalg = ecdsa-p256\npublic_key = %s\n"
             "[approver bob]\nalg = ed25519\npublic_key = %s\n"
             "[approver carol]\nalg = ecdsa-secp256k1\npublic_key = %s\n",
             extra ? extra : "", a, b, c);
    snprintf(path, sizeof path, "%s/%s.policy.ini", hf_dir, hf_node[i]);
    FILE *f = fopen(path, "w");
    if (!f)
        hf_die("policy");
    fputs(text, f);
    fclose(f);
    if (!sign)
        return;
    char *sig = signer_policy_sign(policy_key, text, strlen(text));
    snprintf(path, sizeof path, "%s/%s.policy.ini.sig", hf_dir, hf_node[i]);
    f = fopen(path, "w");
    if (!f || !sig)
        hf_die("policy signature");
    fputs(sig, f);
    fclose(f);
    free(sig);
}

static int log_has(int i, const char *needle)
{
    char name[32];
    snprintf(name, sizeof name, "%s.log", hf_node[i]);
    char *t = hf_slurp(name);
    int hit = t && strstr(t, needle);
    free(t);
    return hit;
}

static void wait_log(int i, const char *needle)
{
    for (int k = 0; k < 200 && !log_has(i, needle); k++)
        hf_pump(25);
    if (!log_has(i, needle)) {
        hf_dump_logs();
        fail_msg("%s's log never said \"%s\"", hf_node[i], needle);
    }
}

static void restart(int i)
{
    hf_stop(i, SIGTERM);
    hf_hellos[i] = 0;
    hf_start_node(i);
    hf_wait_links();
}

/* ---- setup ---- */

static hf_key K;
static char H1[65], H2[65];

/* The offline policy key and the approvers' keys; policy.pub. */
static void make_keys(void)
{
    policy_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    alice = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    bob = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    carol = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    if (!policy_key || !alice || !bob || !carol)
        hf_die("approver keys");
    char path[256];
    snprintf(path, sizeof path, "%s/policy.pub", hf_dir);
    FILE *f = fopen(path, "w");
    if (!f || PEM_write_PUBKEY(f, policy_key) != 1)
        hf_die("policy public key");
    fclose(f);
}

/* n1 and n2 have a signed policy with approvers; n3 has none */
static void policy_conf(FILE *f, int i)
{
    if (i < 2)
        fprintf(f, "\n[policy]\nfile = %s/%s.policy.ini\npublic_key = %s/policy.pub\n", hf_dir,
                hf_node[i], hf_dir);
}

static void policy_file(int i)
{
    if (i < 2)
        write_policy(i, NULL, 1);
}

static int group_setup(void **state)
{
    (void)state;
    const hf_options o = {.name = "approvals",
                          .conf_tail = policy_conf,
                          .prepare = make_keys,
                          .before_start = policy_file};
    hf_setup(&o);
    hf_hexr(H1, 32);
    hf_hexr(H2, 32);
    keygen(&K);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    hf_teardown();
    EVP_PKEY_free(policy_key);
    EVP_PKEY_free(alice);
    EVP_PKEY_free(bob);
    EVP_PKEY_free(carol);
    return 0;
}

static const int P12[2] = {0, 1}, P13[2] = {0, 2}, P23[2] = {1, 2};

/* ---- the quorum ---- */

/* Without approvals no pair signs: each includes a signer with the policy. */
static void t_no_approvals(void **state)
{
    (void)state;
    const int *pairs[3] = {P12, P13, P23};
    for (int i = 0; i < 3; i++) {
        hf_sess *s = sign_all(&K, pairs[i], 2, H1, "m", NULL);
        hf_expect_aborted(s, "approval: this signer needs 2 approvals and a request_id");
    }
    /* approvals sent only to the signer without a policy (n3) */
    signer_spec ok[2] = {{"alice", alice, 300}, {"bob", bob, 300}};
    char *a = approvals(&K, H1, "m", "only-n3", ok, 2);
    const char *per[2] = {NULL, a};
    hf_expect_aborted(sign_with(&K, P23, 2, H1, "m", per), "approval: this signer needs 2");
    free(a);
    hf_expect_alive();
}

static void refused(const signer_spec *specs, int count, const char *rid, const char *needle)
{
    char *a = approvals(&K, H1, "m", rid, specs, count);
    hf_expect_aborted(sign_all(&K, P13, 2, H1, "m", a), needle);
    free(a);
}

/* Too few, duplicate, expired, unknown and wrong-key approvals. */
static void t_too_few(void **state)
{
    (void)state;
    signer_spec one[1] = {{"alice", alice, 300}};
    refused(one, 1, "few-1", "approval: 1 of 2 required approvals valid");
    signer_spec dup[2] = {{"alice", alice, 300}, {"alice", alice, 300}};
    refused(dup, 2, "dup-1", "alice: duplicate approver");
    signer_spec exp[2] = {{"alice", alice, 300}, {"bob", bob, -1}};
    refused(exp, 2, "exp-1", "bob: expired");
    signer_spec unk[2] = {{"alice", alice, 300}, {"mallory", bob, 300}};
    refused(unk, 2, "unk-1", "mallory: unknown approver");
    signer_spec wrong[2] = {{"alice", alice, 300}, {"carol", alice, 300}};
    refused(wrong, 2, "wrong-1", "carol: wrong alg");
    hf_expect_alive();
}

static char rid_ok[32];

/* The quorum signs, with each pair; the approvals' digest is bound into the sid (the signers
 * agree on it at round 0) and written to the audit log. */
static void t_quorum_signs(void **state)
{
    (void)state;
    signer_spec ab[2] = {{"alice", alice, 300}, {"bob", bob, 300}};
    snprintf(rid_ok, sizeof rid_ok, "ok-%ld", (long)time(NULL));
    char *a = approvals(&K, H1, "m", rid_ok, ab, 2);
    hf_expect_signature(sign_all(&K, P13, 2, H1, "m", a), &K, H1);
    free(a);
    signer_spec bc[2] = {{"bob", bob, 300}, {"carol", carol, 300}};
    a = approvals(&K, H2, "m/5", "ok-second", bc, 2);
    hf_sess *s = sign_all(&K, P12, 2, H2, "m/5", a);
    hf_expect_results(s);
    free(a);
    /* the audit log holds the authorization (request id, approvers) and verifies */
    char out[8192];
    assert_true(hf_admin_lines(0, "audit verify", out, sizeof out) >= 0);
    assert_true(log_has(0, "signature released"));
    char path[256], like[96];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(path, sizeof path, "%s/n1.db", hf_dir);
    snprintf(like, sizeof like, "authorized hash, request %s, policy %%, approvals alice,bob",
             rid_ok);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM audit WHERE outcome LIKE ?", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* A hub that alters what the approvers signed: the hash, the path, the request id, an
 * approval's bytes; or sends different approvals to different signers. */
static void t_hub_alters(void **state)
{
    (void)state;
    signer_spec ab[2] = {{"alice", alice, 300}, {"bob", bob, 300}};
    /* A signer without a policy (n3) still claims every request id it sees, so each attempt
     * gets a fresh one: the refusal under test is n1's. */
    char *a = approvals(&K, H1, "m", "alter-1", ab, 2);
    hf_expect_aborted(sign_all(&K, P13, 2, H2, "m", a), "approval: 0 of 2 required");
    free(a);
    a = approvals(&K, H1, "m", "alter-2", ab, 2);
    hf_expect_aborted(sign_all(&K, P13, 2, H1, "m/7", a), "approval: 0 of 2 required");
    free(a);
    a = approvals(&K, H1, "m", "alter-3", ab, 2);
    char *rid = strstr(a, "alter-3");
    rid[6] = '4'; /* the hub renames the request */
    hf_expect_aborted(sign_all(&K, P13, 2, H1, "m", a), "bad signature");
    free(a);
    a = approvals(&K, H1, "m", "alter-5", ab, 2);
    char *sig = strstr(a, "\"signature\":\"") + 13;
    sig[5] = sig[5] == '0' ? '1' : '0';
    hf_expect_aborted(sign_all(&K, P13, 2, H1, "m", a), "alice: bad signature");
    free(a);
    /* n1 gets the approvals, n3 (no policy) gets none: their session-starts differ, round 0
     * aborts before any protocol message; nothing is signed */
    a = approvals(&K, H1, "m", "split-1", ab, 2);
    const char *per[2] = {a, NULL};
    hf_sess *s = sign_with(&K, P13, 2, H1, "m", per);
    hf_expect_aborted(s, "hub equivocation");
    free(a);
    hf_expect_alive();
}

/* A request id signs once, also across a restart of the signer. */
static void t_replay(void **state)
{
    (void)state;
    signer_spec bc[2] = {{"bob", bob, 300}, {"carol", carol, 300}};
    char *a = approvals(&K, H1, "m", rid_ok, bc, 2);
    hf_expect_aborted(sign_all(&K, P13, 2, H1, "m", a), "was already used on this signer");
    restart(0);
    hf_expect_aborted(sign_all(&K, P13, 2, H1, "m", a), "was already used on this signer");
    free(a);
}

/* SIGHUP: an unsigned new policy is refused (the old one stays), a signed one replaces it. */
static void t_reload(void **state)
{
    (void)state;
    char extra[128];
    snprintf(extra, sizeof extra, "[key %s]\nraw_hashes = deny", K.kid);
    write_policy(0, extra, 0);
    kill(hf_pid[0], SIGHUP);
    wait_log(0, "keeping the policy in force");
    signer_spec ab[2] = {{"alice", alice, 300}, {"bob", bob, 300}};
    char *a = approvals(&K, H1, "m", "reload-1", ab, 2);
    hf_expect_signature(sign_all(&K, P13, 2, H1, "m", a), &K, H1);
    free(a);
    write_policy(0, extra, 1);
    kill(hf_pid[0], SIGHUP);
    wait_log(0, "reloaded");
    a = approvals(&K, H1, "m", "reload-2", ab, 2);
    hf_expect_aborted(sign_all(&K, P13, 2, H1, "m", a), "policy: raw_hashes = deny");
    free(a);
    write_policy(0, NULL, 1);
    kill(hf_pid[0], SIGHUP);
    hf_pump(300);
}

/* A signer whose policy is unsigned or tampered refuses to start, saying why. */
static void t_bad_policy_start(void **state)
{
    (void)state;
    char path[256];
    hf_stop(1, SIGTERM);
    write_policy(1, "quorum = 0", 0); /* changed after signing: the old .sig remains */
    hf_start_node(1);
    for (int k = 0; k < 100 && hf_alive(1); k++)
        usleep(50000);
    assert_false(hf_alive(1));
    hf_pid[1] = -1;
    assert_true(log_has(1, "does not verify"));
    snprintf(path, sizeof path, "%s/n2.policy.ini.sig", hf_dir);
    unlink(path);
    hf_start_node(1);
    for (int k = 0; k < 100 && hf_alive(1); k++)
        usleep(50000);
    assert_false(hf_alive(1));
    hf_pid[1] = -1;
    assert_true(log_has(1, "is not signed"));
    write_policy(1, NULL, 1);
    hf_hellos[1] = 0;
    hf_start_node(1);
    hf_wait_links();
    hf_expect_alive();
}

/* ---- typed payloads ---- */

/* An unsigned EIP-1559 transaction (hex into out) and its signing hash, Keccak-256 of its
 * bytes, computed here. */
static void build_tx(char *out, size_t cap, uint8_t sighash[32], uint64_t chain, uint8_t to_byte,
                     uint64_t value)
{
    uint8_t buf[256], to[20];
    mpcd_rlp_enc e;
    size_t len;
    memset(to, to_byte, 20);
    buf[0] = 0x02;
    mpcd_rlp_enc_init(&e, buf + 1, sizeof buf - 1);
    size_t m = mpcd_rlp_enc_list_begin(&e);
    mpcd_rlp_enc_u64(&e, chain);
    mpcd_rlp_enc_u64(&e, 7);          /* nonce */
    mpcd_rlp_enc_u64(&e, 1000000000); /* max priority fee */
    mpcd_rlp_enc_u64(&e, 30000000000ull);
    mpcd_rlp_enc_u64(&e, 21000);
    mpcd_rlp_enc_bytes(&e, to, 20);
    mpcd_rlp_enc_u64(&e, value);
    mpcd_rlp_enc_bytes(&e, NULL, 0);
    size_t al = mpcd_rlp_enc_list_begin(&e);
    mpcd_rlp_enc_list_end(&e, al);
    mpcd_rlp_enc_list_end(&e, m);
    assert_int_equal(mpcd_rlp_enc_finish(&e, &len), 0);
    assert_true(2 * (len + 1) < cap);
    api_hex_encode(out, buf, len + 1);
    tss_keccak256(sighash, buf, len + 1);
}

/* A signing session for a transaction: the hub sends hash_hex (normally the tx's own). */
static hf_sess *sign_tx(const char *tx_hex, const uint8_t approved[32], const char *hash_hex,
                        const char *rid, const char *tx_sent)
{
    signer_spec ab[2] = {{"alice", alice, 300}, {"bob", bob, 300}};
    char *a = approvals_for(&K, "eth_transaction", approved, "eth_transaction",
                            tx_sent ? tx_sent : tx_hex, "m", rid, ab, 2);
    hf_sess *s = sign_all(&K, P13, 2, hash_hex, "m", a);
    free(a);
    return s;
}

static void t_tx(void **state)
{
    (void)state;
    char tx[600], other[600], hh[65], oh[65];
    uint8_t h[32], ho[32];
    build_tx(tx, sizeof tx, h, 1, 0x11, 1000);
    api_hex_encode(hh, h, 32);
    hf_expect_signature(sign_tx(tx, h, hh, "tx-1", NULL), &K, hh);
    /* what the policy says no to */
    build_tx(other, sizeof other, ho, 56, 0x11, 1000);
    api_hex_encode(oh, ho, 32);
    hf_expect_aborted(sign_tx(other, ho, oh, "tx-2", NULL), "policy: chain_ids: chain id 56");
    build_tx(other, sizeof other, ho, 11155111, 0x22, 1000);
    api_hex_encode(oh, ho, 32);
    hf_expect_aborted(sign_tx(other, ho, oh, "tx-3", NULL),
                      "policy: destinations: 0x2222222222222222222222222222222222222222");
    build_tx(other, sizeof other, ho, 1, 0x11, 1000001);
    api_hex_encode(oh, ho, 32);
    hf_expect_aborted(sign_tx(other, ho, oh, "tx-4", NULL), "policy: max_value: 1000001 wei");
    /* a hub that forges the hash, or swaps the transaction (with its matching hash) */
    build_tx(other, sizeof other, ho, 1, 0x11, 999);
    api_hex_encode(oh, ho, 32);
    hf_expect_aborted(sign_tx(tx, h, oh, "tx-5", NULL), "approval: the hub's hash is not the hash");
    hf_expect_aborted(sign_tx(tx, h, oh, "tx-6", other), "approval: 0 of 2 required");
    /* garbage in place of a transaction */
    hf_expect_aborted(sign_tx("02c0", h, hh, "tx-7", NULL), "policy: the eth_transaction payload "
                                                            "does not decode");
    hf_expect_alive();
}

/* The velocity window (window_max_value 1500000 wei per hour) holds across restarts. */
static void t_velocity(void **state)
{
    (void)state;
    char tx[600], hh[65];
    uint8_t h[32];
    build_tx(tx, sizeof tx, h, 1, 0x11, 900000); /* plus t_tx's 1000: 901000 */
    api_hex_encode(hh, h, 32);
    hf_expect_signature(sign_tx(tx, h, hh, "vel-1", NULL), &K, hh);
    build_tx(tx, sizeof tx, h, 1, 0x11, 700000);
    api_hex_encode(hh, h, 32);
    hf_expect_aborted(sign_tx(tx, h, hh, "vel-2", NULL),
                      "policy: window_max_value: 901000 wei signed in the last 3600 s plus 700000");
    restart(0);
    hf_expect_aborted(sign_tx(tx, h, hh, "vel-3", NULL), "policy: window_max_value: 901000 wei");
    build_tx(tx, sizeof tx, h, 1, 0x11, 599000); /* exactly 1500000 */
    api_hex_encode(hh, h, 32);
    hf_expect_signature(sign_tx(tx, h, hh, "vel-4", NULL), &K, hh);
}

/* EIP-191: the signer hashes the message itself. */
static void t_eip191(void **state)
{
    (void)state;
    const char *text = "I approve this custody test";
    char hex[128], hh[65];
    uint8_t pre[128], h[32];
    int n = snprintf((char *)pre, sizeof pre,
                     "\x19"
                     "Ethereum Signed Message:\n%zu%s",
                     strlen(text), text);
    tss_keccak256(h, pre, (size_t)n);
    api_hex_encode(hh, h, 32);
    api_hex_encode(hex, (const uint8_t *)text, strlen(text));
    signer_spec ab[2] = {{"alice", alice, 300}, {"carol", carol, 300}};
    char *a = approvals_for(&K, "eip191_message", h, "eip191_message", hex, "m", "msg-1", ab, 2);
    hf_expect_signature(sign_all(&K, P13, 2, hh, "m", a), &K, hh);
    free(a);
}

/* EIP-712: the EIP's own Mail example, whose digest is published; the signature verifies over
 * that digest. A domain on another chain, or a verifying contract off the list, is refused. */
static const char MAIL[] =
    "{\"types\":{\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"version\","
    "\"type\":\"string\"},{\"name\":\"chainId\",\"type\":\"uint256\"},{\"name\":"
    "\"verifyingContract\",\"type\":\"address\"}],\"Person\":[{\"name\":\"name\",\"type\":"
    "\"string\"},{\"name\":\"wallet\",\"type\":\"address\"}],\"Mail\":[{\"name\":\"from\","
    "\"type\":\"Person\"},{\"name\":\"to\",\"type\":\"Person\"},{\"name\":\"contents\",\"type\":"
    "\"string\"}]},\"primaryType\":\"Mail\",\"domain\":{\"name\":\"Ether Mail\",\"version\":"
    "\"1\",\"chainId\":%s,\"verifyingContract\":\"%s\"},\"message\":{\"from\":{\"name\":"
    "\"Cow\",\"wallet\":\"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826\"},\"to\":{\"name\":"
    "\"Bob\",\"wallet\":\"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB\"},\"contents\":"
    "\"Hello, Bob!\"}}";
static const char MAIL_DIGEST[] =
    "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2";

/* digest: the hex the hub sends and the approvers approve; NULL: the domain's own digest
 * (daemon/common/eip712, as an honest hub computes it). */
static hf_sess *sign_712(const char *chain, const char *contract, const char *rid,
                         const char *digest)
{
    char text[2048], dh[65];
    uint8_t d[32];
    snprintf(text, sizeof text, MAIL, chain, contract);
    json_t *td = json_loads(text, 0, NULL);
    assert_non_null(td);
    if (!digest) {
        mpcd_eip712 out;
        assert_int_equal(mpcd_eip712_hash(&out, td, NULL, 0), MPCD_ETH_OK);
        api_hex_encode(dh, out.digest, 32);
        digest = dh;
    }
    assert_int_equal(api_hex_decode(d, 32, digest, 64), API_OK);
    signer_spec ab[2] = {{"alice", alice, 300}, {"bob", bob, 300}};
    char *a = approvals_for(&K, "eip712", d, NULL, NULL, "m", rid, ab, 2);
    json_t *o = json_loads(a, 0, NULL);
    json_object_set_new(o, "eip712", td);
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    hf_sess *s = sign_all(&K, P13, 2, digest, "m", txt);
    free(a);
    free(txt);
    return s;
}

static void t_eip712(void **state)
{
    (void)state;
    const char *cc = "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC";
    hf_expect_signature(sign_712("1", cc, "712-1", MAIL_DIGEST), &K, MAIL_DIGEST);
    /* the digest changes with the domain: the hub's hash (the published one) no longer fits */
    hf_expect_aborted(sign_712("56", cc, "712-2", MAIL_DIGEST),
                      "approval: the hub's hash is not the hash of the eip712 payload");
    /* with the domain's own digest, the policy decides */
    hf_expect_aborted(sign_712("56", cc, "712-3", NULL),
                      "policy: chain_ids: EIP-712 domain chain id 56 is not allowed");
    hf_expect_aborted(sign_712("1", "0x2222222222222222222222222222222222222222", "712-4", NULL),
                      "policy: destinations: EIP-712 verifying contract 0x2222");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_no_approvals),     cmocka_unit_test(t_too_few),
        cmocka_unit_test(t_quorum_signs),     cmocka_unit_test(t_hub_alters),
        cmocka_unit_test(t_replay),           cmocka_unit_test(t_reload),
        cmocka_unit_test(t_bad_policy_start), cmocka_unit_test(t_tx),
        cmocka_unit_test(t_velocity),         cmocka_unit_test(t_eip191),
        cmocka_unit_test(t_eip712),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
