/* tests/signerd/test_policy.c — request approvals and the signer's policy (issue 15), as
 * units: the canonical approval message, signing and verifying it with each algorithm (with
 * tampering of every field), the policy file's parser and its offline signature, the
 * decision on one request, and the store's request ids and velocity window across a
 * reopen. Prints the cost of approval verification and of a whole policy check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "api/hex.h"
#include "daemon/common/approval.h"
#include "policy.h"
#include "store.h"

static char dir[64];
static EVP_PKEY *kp256, *kk1, *ked;
static const uint8_t KEY_ID[16] = {0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static uint8_t DIGEST[32];

static EVP_PKEY *gen(const char *alg, const char *group)
{
    EVP_PKEY *k =
        group ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", group) : EVP_PKEY_Q_keygen(NULL, NULL, alg);
    assert_non_null(k);
    return k;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mpc-policy-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    kp256 = gen(NULL, "P-256");
    kk1 = gen(NULL, "secp256k1");
    ked = gen("ED25519", NULL);
    for (int i = 0; i < 32; i++)
        DIGEST[i] = (uint8_t)(0x40 + i);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    EVP_PKEY_free(kp256);
    EVP_PKEY_free(kk1);
    EVP_PKEY_free(ked);
    return 0;
}

/* ---- the canonical message ---- */

static void test_message(void **state)
{
    (void)state;
    uint8_t m[MPCD_APPROVAL_MSG_MAX], m2[MPCD_APPROVAL_MSG_MAX];
    size_t n =
        mpcd_approval_message(m, KEY_ID, "hash", DIGEST, "m/0/1", "req-1", 0x0102030405060708ull);
    /* tag 22 + (4+16) + (4+4) + (4+32) + (4+5) + (4+5) + (4+8) */
    assert_int_equal(n, 22 + 20 + 8 + 36 + 9 + 9 + 12);
    assert_memory_equal(m, "mpc-signer/approval/v1", 22);
    assert_memory_equal(m + 22, "\0\0\0\x10", 4);
    assert_memory_equal(m + 22 + 20, "\0\0\0\x04hash", 8);
    assert_memory_equal(m + n - 8, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    /* fields cannot slide into each other: "m/0" + "1x" differs from "m/01" + "x" */
    size_t a = mpcd_approval_message(m, KEY_ID, "hash", DIGEST, "m/0", "1x", 1);
    size_t b = mpcd_approval_message(m2, KEY_ID, "hash", DIGEST, "m/01", "x", 1);
    assert_int_equal(a, b);
    assert_memory_not_equal(m, m2, a);
    /* out of range */
    assert_int_equal(mpcd_approval_message(m, KEY_ID, "", DIGEST, "m", "r", 1), 0);
    assert_int_equal(mpcd_approval_message(m, KEY_ID, "hash", DIGEST, "x/1", "r", 1), 0);
    assert_int_equal(mpcd_approval_message(m, KEY_ID, "hash", DIGEST, "m", "bad id", 1), 0);
    char longid[80];
    memset(longid, 'a', 65);
    longid[65] = 0;
    assert_int_equal(mpcd_approval_message(m, KEY_ID, "hash", DIGEST, "m", longid, 1), 0);
    longid[64] = 0;
    assert_int_not_equal(mpcd_approval_message(m, KEY_ID, "hash", DIGEST, "m", longid, 1), 0);
}

static void key_of(EVP_PKEY *k, mpcd_approver_key *out)
{
    char hex[131];
    assert_int_equal(mpcd_approval_public_hex(k, hex), MPCD_APPROVAL_OK);
    assert_int_equal(mpcd_approver_key_from_hex(out, mpcd_approval_alg_of(k), hex),
                     MPCD_APPROVAL_OK);
}

static void sign_verify_one(EVP_PKEY *k, mpcd_approval_alg want, EVP_PKEY *other)
{
    uint8_t m[MPCD_APPROVAL_MSG_MAX], sig[64];
    mpcd_approver_key pub, wrong;
    assert_int_equal(mpcd_approval_alg_of(k), want);
    key_of(k, &pub);
    key_of(other, &wrong);
    size_t n = mpcd_approval_message(m, KEY_ID, "eth_transaction", DIGEST, "m", "r-1", 1900000000);
    assert_int_equal(mpcd_approval_sign(k, m, n, sig), MPCD_APPROVAL_OK);
    assert_int_equal(mpcd_approval_verify(&pub, m, n, sig), MPCD_APPROVAL_OK);
    /* every byte of the message, and of the signature, matters */
    for (size_t i = 0; i < n; i++) {
        m[i] ^= 0x01;
        assert_int_not_equal(mpcd_approval_verify(&pub, m, n, sig), MPCD_APPROVAL_OK);
        m[i] ^= 0x01;
    }
    for (size_t i = 0; i < 64; i++) {
        sig[i] ^= 0x80;
        assert_int_not_equal(mpcd_approval_verify(&pub, m, n, sig), MPCD_APPROVAL_OK);
        sig[i] ^= 0x80;
    }
    /* another key of the same or another algorithm */
    wrong.alg = pub.alg;
    assert_int_not_equal(mpcd_approval_verify(&wrong, m, n, sig), MPCD_APPROVAL_OK);
}

static void test_sign_verify(void **state)
{
    (void)state;
    EVP_PKEY *p2 = gen(NULL, "P-256"), *k2 = gen(NULL, "secp256k1"), *e2 = gen("ED25519", NULL);
    sign_verify_one(kp256, MPCD_ALG_ECDSA_P256, p2);
    sign_verify_one(kk1, MPCD_ALG_ECDSA_SECP256K1, k2);
    sign_verify_one(ked, MPCD_ALG_ED25519, e2);
    EVP_PKEY_free(p2);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(e2);
    mpcd_approver_key k;
    assert_int_equal(mpcd_approver_key_from_hex(&k, MPCD_ALG_ECDSA_P256,
                                                "02"
                                                "00"),
                     MPCD_APPROVAL_ERR_KEY);
    /* x = 5 is not on secp256k1 with an even y... any 33 bytes that do not decode */
    assert_int_equal(mpcd_approver_key_from_hex(
                         &k, MPCD_ALG_ECDSA_SECP256K1,
                         "05000000000000000000000000000000000000000000000000000000000000000005"),
                     MPCD_APPROVAL_ERR_KEY);
    assert_int_equal(mpcd_approver_key_from_hex(&k, MPCD_ALG_ED25519, "00"), MPCD_APPROVAL_ERR_KEY);
    /* Ed25519 keys of small order: an all-zero signature would verify on some messages, so
     * such a key is refused outright (found by fuzz_policy) */
    static const char *const weak[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    };
    for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++)
        assert_int_equal(mpcd_approver_key_from_hex(&k, MPCD_ALG_ED25519, weak[i]),
                         MPCD_APPROVAL_ERR_KEY);
    assert_int_equal(mpcd_approver_key_from_hex(&k, MPCD_ALG_NONE, "00"), MPCD_APPROVAL_ERR_ALG);
    assert_int_equal(mpcd_approval_alg_parse("ecdsa-p384"), MPCD_ALG_NONE);
}

/* A valid secp256k1 signature turned into its high-s twin (n - s) is refused. */
static void test_high_s(void **state)
{
    (void)state;
    static const char *n_hex = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141";
    uint8_t m[MPCD_APPROVAL_MSG_MAX], sig[64];
    mpcd_approver_key pub;
    key_of(kk1, &pub);
    size_t len = mpcd_approval_message(m, KEY_ID, "hash", DIGEST, "m", "r", 5);
    assert_int_equal(mpcd_approval_sign(kk1, m, len, sig), MPCD_APPROVAL_OK);
    BIGNUM *n = NULL, *s = BN_bin2bn(sig + 32, 32, NULL);
    assert_true(BN_hex2bn(&n, n_hex) > 0);
    assert_true(BN_sub(s, n, s));
    assert_int_equal(BN_bn2binpad(s, sig + 32, 32), 32);
    assert_int_equal(mpcd_approval_verify(&pub, m, len, sig), MPCD_APPROVAL_ERR_HIGH_S);
    BN_free(n);
    BN_free(s);
}

/* ---- the policy file ---- */

static char *policy_text(const char *extra)
{
    char p[131], k[131], e[131];
    static char buf[8192];
    assert_int_equal(mpcd_approval_public_hex(kp256, p), MPCD_APPROVAL_OK);
    assert_int_equal(mpcd_approval_public_hex(kk1, k), MPCD_APPROVAL_OK);
    assert_int_equal(mpcd_approval_public_hex(ked, e), MPCD_APPROVAL_OK);
    snprintf(buf, sizeof buf,
             "[policy]\nraw_hashes = allow\nquorum = 2\nchain_ids = 1, 5\nchain_ids = 11155111\n"
             "destinations = 0x1111111111111111111111111111111111111111\n"
             "max_value = 1000\nwindow_seconds = 3600\nwindow_max_value = 2500\n"
             "large_value = 500\nlarge_quorum = 3\n%s\n"
             "[approver alice]\nalg = ecdsa-p256\npublic_key = %s\n"
             "[approver carol]\nalg = ecdsa-secp256k1\npublic_key = %s\n"
             "[approver bob]\nalg = ed25519\npublic_key = %s\n"
             "[key 00000000000000000000000000000001]\nraw_hashes = deny\nquorum = 1\n",
             extra ? extra : "", p, k, e);
    return buf;
}

static void expect_parse_error(const char *text, const char *needle)
{
    signer_policy *p = malloc(sizeof *p);
    char err[512];
    assert_int_equal(signer_policy_parse(p, text, strlen(text), err, sizeof err), -1);
    if (!strstr(err, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, err);
    free(p);
}

static void test_parse(void **state)
{
    (void)state;
    signer_policy *p = malloc(sizeof *p);
    char err[512];
    const char *t = policy_text(NULL);
    if (signer_policy_parse(p, t, strlen(t), err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(p->napprovers, 3);
    assert_int_equal(p->nchain_ids, 3);
    assert_int_equal(p->chain_ids[2], 11155111);
    assert_int_equal(p->ndestinations, 1);
    assert_int_equal(p->quorum, 2);
    assert_int_equal(p->nkeys, 1);
    char v[80];
    signer_u256_to_dec(v, p->window_max_value);
    assert_string_equal(v, "2500");
    free(p);
    uint8_t u[32], w[32];
    assert_int_equal(
        signer_u256_from_dec(
            u, "115792089237316195423570985008687907853269984665640564039457584007913129639935"),
        0);
    signer_u256_to_dec(v, u);
    assert_string_equal(
        v, "115792089237316195423570985008687907853269984665640564039457584007913129639935");
    assert_int_equal(
        signer_u256_from_dec(
            w, "115792089237316195423570985008687907853269984665640564039457584007913129639936"),
        -1);
    assert_int_equal(signer_u256_add(w, u, u), -1);
    assert_int_equal(signer_u256_from_dec(w, "01"), -1);

    expect_parse_error("[policy]\ncolour = red\n", "unknown key 'colour' in [policy]");
    expect_parse_error("[policy]\nquorum = 1\nquorum = 1\n", "set twice");
    expect_parse_error("[policy]\nraw_hashes = maybe\n", "raw_hashes = 'maybe'");
    expect_parse_error("[policy]\ndestinations = 0x12\n", "destinations");
    expect_parse_error("[policy]\nquorum = 2\n[approver a]\nalg = ed25519\npublic_key = "
                       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\n",
                       "a quorum of 2 needs at least 2 approvers");
    expect_parse_error("[approver a]\nalg = rsa\n", "alg = 'rsa'");
    expect_parse_error("[approver a]\nalg = ed25519\n", "needs both alg and public_key");
    expect_parse_error("[approver a]\nalg = ecdsa-p256\npublic_key = 0211\n", "not a valid");
    expect_parse_error("[approver a]\nalg = ed25519\npublic_key = "
                       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\n"
                       "[approver b]\nalg = ed25519\npublic_key = "
                       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\n",
                       "the same public key");
    expect_parse_error("[policy]\nlarge_value = 5\n", "large_value and large_quorum");
    expect_parse_error("[key 12]\nquorum = 1\n", "32 hex digits");
    expect_parse_error("[rules]\na = b\n", "unknown section [rules]");
    expect_parse_error("not ini\n", "line 1");
}

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void write_pub(const char *name, EVP_PKEY *k)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_PUBKEY(f, k), 1);
    fclose(f);
}

static int load(const char *name, const char *pub, char *err, size_t cap)
{
    char path[128], pp[128];
    signer_policy *p = malloc(sizeof *p);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(pp, sizeof pp, "%s/%s", dir, pub ? pub : "");
    int rc = signer_policy_load(p, path, pub ? pp : "", err, cap);
    free(p);
    return rc;
}

/* An unsigned, tampered or otherwise signed policy is refused when a policy key is set. */
static void test_signed_policy(void **state)
{
    (void)state;
    char err[600];
    const char *t = policy_text(NULL);
    EVP_PKEY *pk[2] = {kp256, ked};
    write_pub("p256.pub", kp256);
    write_pub("ed.pub", ked);
    for (int i = 0; i < 2; i++) {
        const char *pub = i ? "ed.pub" : "p256.pub", *otherpub = i ? "p256.pub" : "ed.pub";
        write_file("pol.ini", t);
        unlink("/nonexistent");
        char sigpath[128];
        snprintf(sigpath, sizeof sigpath, "%s/pol.ini.sig", dir);
        unlink(sigpath);
        /* unsigned: loads without a policy key, refused with one */
        assert_int_equal(load("pol.ini", NULL, err, sizeof err), 0);
        assert_int_equal(load("pol.ini", pub, err, sizeof err), -1);
        assert_non_null(strstr(err, "is not signed"));
        char *sig = signer_policy_sign(pk[i], t, strlen(t));
        assert_non_null(sig);
        write_file("pol.ini.sig", sig);
        if (load("pol.ini", pub, err, sizeof err) != 0)
            fail_msg("%s", err);
        /* signed by another key */
        assert_int_equal(load("pol.ini", otherpub, err, sizeof err), -1);
        assert_non_null(strstr(err, "does not verify"));
        /* tampered: one character of the policy changed after signing */
        char *bad = strdup(t);
        char *q = strstr(bad, "quorum = 2");
        q[9] = '1';
        write_file("pol.ini", bad);
        assert_int_equal(load("pol.ini", pub, err, sizeof err), -1);
        assert_non_null(strstr(err, "does not verify"));
        /* a truncated or garbage signature */
        write_file("pol.ini", t);
        sig[10] = 0;
        write_file("pol.ini.sig", sig);
        assert_int_equal(load("pol.ini", pub, err, sizeof err), -1);
        write_file("pol.ini.sig", "zz\n");
        assert_int_equal(load("pol.ini", pub, err, sizeof err), -1);
        free(bad);
        free(sig);
    }
}

/* ---- the decision ---- */

static signer_policy *pol;

static void approve(api_sign_auth *a, const char *who, EVP_PKEY *k, const char *alg,
                    const char *kind, const uint8_t *key_id, const uint8_t *digest,
                    const char *path, const char *rid, uint64_t expires)
{
    uint8_t m[MPCD_APPROVAL_MSG_MAX];
    api_approval *x = &a->approvals[a->napprovals++];
    snprintf(x->approver, sizeof x->approver, "%s", who);
    snprintf(x->alg, sizeof x->alg, "%s", alg);
    x->expires = expires;
    size_t n = mpcd_approval_message(m, key_id, kind, digest, path, rid, expires);
    assert_int_not_equal(n, 0);
    assert_int_equal(mpcd_approval_sign(k, m, n, x->signature), MPCD_APPROVAL_OK);
}

static int decide(const api_sign_auth *a, const signer_policy_facts *f, const uint8_t *key_id,
                  char *why, size_t cap)
{
    signer_policy_velocity vel;
    unsigned verified;
    why[0] = 0;
    return signer_policy_check(pol, key_id ? key_id : KEY_ID, DIGEST, "m/1", a, f,
                               (uint64_t)time(NULL), &vel, &verified, why, cap);
}

#define EXPECT_REFUSED(a, f, needle)                                                               \
    do {                                                                                           \
        char why_[256];                                                                            \
        assert_int_equal(decide(a, f, NULL, why_, sizeof why_), -1);                               \
        if (!strstr(why_, needle))                                                                 \
            fail_msg("expected \"%s\" in \"%s\"", needle, why_);                                   \
    } while (0)

static void test_check(void **state)
{
    (void)state;
    char err[512], why[256];
    uint64_t later = (uint64_t)time(NULL) + 300;
    pol = malloc(sizeof *pol);
    const char *t = policy_text(NULL);
    assert_int_equal(signer_policy_parse(pol, t, strlen(t), err, sizeof err), 0);
    api_sign_auth *a = calloc(1, sizeof *a);
    signer_policy_facts raw = {.kind = API_PAYLOAD_HASH};

    /* no approvals, no request id */
    EXPECT_REFUSED(a, &raw, "approval: this signer needs 2 approvals and a request_id");
    snprintf(a->request_id, sizeof a->request_id, "req-1");
    EXPECT_REFUSED(a, &raw, "approval: 0 of 2 required approvals valid");
    /* one is too few */
    approve(a, "alice", kp256, "ecdsa-p256", "hash", KEY_ID, DIGEST, "m/1", "req-1", later);
    EXPECT_REFUSED(a, &raw, "approval: 1 of 2");
    /* the same approver twice counts once */
    approve(a, "alice", kp256, "ecdsa-p256", "hash", KEY_ID, DIGEST, "m/1", "req-1", later);
    EXPECT_REFUSED(a, &raw, "alice: duplicate approver");
    /* a second, distinct approver: quorum met */
    a->napprovals = 1;
    approve(a, "bob", ked, "ed25519", "hash", KEY_ID, DIGEST, "m/1", "req-1", later);
    assert_int_equal(decide(a, &raw, NULL, why, sizeof why), 0);
    /* any field the approvers signed, altered by the hub: the approval no longer counts */
    a->napprovals = 1;
    uint8_t other[32];
    memcpy(other, DIGEST, 32);
    other[0] ^= 1;
    approve(a, "bob", ked, "ed25519", "hash", KEY_ID, other, "m/1", "req-1", later);
    EXPECT_REFUSED(a, &raw, "bob: bad signature");
    a->napprovals = 1;
    approve(a, "bob", ked, "ed25519", "hash", KEY_ID, DIGEST, "m/2", "req-1", later);
    EXPECT_REFUSED(a, &raw, "bob: bad signature");
    a->napprovals = 1;
    approve(a, "bob", ked, "ed25519", "hash", KEY_ID, DIGEST, "m/1", "req-2", later);
    EXPECT_REFUSED(a, &raw, "bob: bad signature");
    a->napprovals = 1;
    approve(a, "bob", ked, "ed25519", "eip712", KEY_ID, DIGEST, "m/1", "req-1", later);
    EXPECT_REFUSED(a, &raw, "bob: bad signature");
    a->napprovals = 1;
    uint8_t kid2[16];
    memcpy(kid2, KEY_ID, 16);
    kid2[15] ^= 1;
    approve(a, "bob", ked, "ed25519", "hash", kid2, DIGEST, "m/1", "req-1", later);
    EXPECT_REFUSED(a, &raw, "bob: bad signature");
    /* expired, unknown, wrong algorithm, a signature by another approver's key */
    a->napprovals = 1;
    approve(a, "bob", ked, "ed25519", "hash", KEY_ID, DIGEST, "m/1", "req-1",
            (uint64_t)time(NULL) - 1);
    EXPECT_REFUSED(a, &raw, "bob: expired");
    a->napprovals = 1;
    approve(a, "mallory", ked, "ed25519", "hash", KEY_ID, DIGEST, "m/1", "req-1", later);
    EXPECT_REFUSED(a, &raw, "mallory: unknown approver");
    a->napprovals = 1;
    approve(a, "carol", kp256, "ecdsa-p256", "hash", KEY_ID, DIGEST, "m/1", "req-1", later);
    EXPECT_REFUSED(a, &raw, "carol: wrong alg");
    a->napprovals = 1;
    approve(a, "carol", kp256, "ecdsa-secp256k1", "hash", KEY_ID, DIGEST, "m/1", "req-1", later);
    EXPECT_REFUSED(a, &raw, "1 of 2 required approvals valid (carol: "); /* bad or high-s */
    a->napprovals = 1;
    approve(a, "carol", kk1, "ecdsa-secp256k1", "hash", KEY_ID, DIGEST, "m/1", "req-1", later);
    assert_int_equal(decide(a, &raw, NULL, why, sizeof why), 0);

    /* per-key rules: raw hashes denied for key ...01 (whose quorum is 1) */
    uint8_t k1[16] = {0};
    k1[15] = 1;
    assert_int_equal(decide(a, &raw, k1, why, sizeof why), -1);
    assert_non_null(strstr(why, "policy: raw_hashes = deny"));

    /* transactions */
    signer_policy_facts tx = {.kind = API_PAYLOAD_ETH_TX, .chain_id = 1, .has_to = 1};
    memset(tx.to, 0x11, 20);
    tx.value[31] = 100;
    a->napprovals = 0;
    approve(a, "alice", kp256, "ecdsa-p256", "eth_transaction", KEY_ID, DIGEST, "m/1", "req-1",
            later);
    approve(a, "bob", ked, "ed25519", "eth_transaction", KEY_ID, DIGEST, "m/1", "req-1", later);
    signer_policy_velocity vel;
    unsigned verified;
    assert_int_equal(signer_policy_check(pol, KEY_ID, DIGEST, "m/1", a, &tx, (uint64_t)time(NULL),
                                         &vel, &verified, why, sizeof why),
                     0);
    assert_int_equal(verified, 2);
    assert_int_equal(vel.applies, 1);
    assert_int_equal(vel.window_seconds, 3600);
    tx.chain_id = 56;
    EXPECT_REFUSED(a, &tx, "policy: chain_ids: chain id 56 is not allowed");
    tx.chain_id = 11155111;
    tx.to[19] = 0x12;
    EXPECT_REFUSED(a, &tx, "policy: destinations: 0x1111111111111111111111111111111111111112");
    tx.to[19] = 0x11;
    tx.has_to = 0;
    EXPECT_REFUSED(a, &tx, "contract creation is not on the list");
    tx.has_to = 1;
    tx.value[30] = 4; /* 1124 > max_value 1000 */
    EXPECT_REFUSED(a, &tx, "policy: max_value: 1124 wei is over the limit of 1000 wei");
    tx.value[30] = 2; /* 612 > large_value 500: three approvals */
    EXPECT_REFUSED(a, &tx, "approval: 2 of 3 required");
    approve(a, "carol", kk1, "ecdsa-secp256k1", "eth_transaction", KEY_ID, DIGEST, "m/1", "req-1",
            later);
    assert_int_equal(decide(a, &tx, NULL, why, sizeof why), 0);
    /* messages are denied by default */
    signer_policy_facts msg = {.kind = API_PAYLOAD_EIP191};
    EXPECT_REFUSED(a, &msg, "policy: messages = deny");
    free(a);
}

/* ---- request ids and velocity in the store ---- */

static signer_store *open_db(void)
{
    char path[128];
    signer_store *st = NULL;
    snprintf(path, sizeof path, "%s/claims.db", dir);
    assert_int_equal(signer_store_open(path, &st), SIGNER_STORE_OK);
    return st;
}

static void test_claims(void **state)
{
    (void)state;
    const char *kid = "aa0102030405060708090a0b0c0d0e0f";
    uint8_t max[32] = {0}, v6[32] = {0}, v5[32] = {0}, v4[32] = {0}, spent[32];
    max[31] = 10;
    v6[31] = 6;
    v5[31] = 5;
    v4[31] = 4;
    signer_store *st = open_db();
    assert_int_equal(signer_store_request_claim(st, "r1", kid, NULL, 0, NULL, NULL),
                     SIGNER_CLAIM_OK);
    assert_int_equal(signer_store_request_claim(st, "r1", kid, NULL, 0, NULL, NULL),
                     SIGNER_CLAIM_SEEN);
    assert_int_equal(signer_store_request_claim(st, "r2", kid, v6, 3600, max, spent),
                     SIGNER_CLAIM_OK);
    assert_int_equal(signer_store_request_claim(st, "r3", kid, v5, 3600, max, spent),
                     SIGNER_CLAIM_OVER);
    assert_int_equal(spent[31], 6);
    signer_store_close(st);
    /* a restart changes nothing: the id is still used, the window still full */
    st = open_db();
    assert_int_equal(signer_store_request_claim(st, "r1", kid, NULL, 0, NULL, NULL),
                     SIGNER_CLAIM_SEEN);
    assert_int_equal(signer_store_request_claim(st, "r3", kid, v5, 3600, max, spent),
                     SIGNER_CLAIM_OVER);
    /* a refusal recorded nothing: r3 is still free, and 4 fits */
    assert_int_equal(signer_store_request_claim(st, "r3", kid, v4, 3600, max, spent),
                     SIGNER_CLAIM_OK);
    assert_int_equal(signer_store_request_claim(st, "r4", kid, v4, 3600, max, spent),
                     SIGNER_CLAIM_OVER);
    assert_int_equal(spent[31], 10);
    /* another key has its own window */
    assert_int_equal(signer_store_request_claim(st, "r4", "bb0102030405060708090a0b0c0d0e0f", v6,
                                                3600, max, spent),
                     SIGNER_CLAIM_OK);
    /* a window of one second forgets after it */
    sleep(2);
    assert_int_equal(signer_store_request_claim(st, "r5", kid, v6, 1, max, spent), SIGNER_CLAIM_OK);
    /* neither a request id nor a value: a caller's error, nothing recorded */
    assert_int_equal(signer_store_request_claim(st, NULL, kid, NULL, 0, NULL, NULL),
                     SIGNER_CLAIM_ERROR);
    signer_store_close(st);
}

/* ---- cost ---- */

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void test_cost(void **state)
{
    (void)state;
    EVP_PKEY *ks[3] = {kp256, kk1, ked};
    const int N = 300;
    for (int i = 0; i < 3; i++) {
        uint8_t m[MPCD_APPROVAL_MSG_MAX], sig[64];
        mpcd_approver_key pub;
        key_of(ks[i], &pub);
        size_t n = mpcd_approval_message(m, KEY_ID, "hash", DIGEST, "m", "r", 9999999999ull);
        assert_int_equal(mpcd_approval_sign(ks[i], m, n, sig), MPCD_APPROVAL_OK);
        double t0 = now_us();
        for (int k = 0; k < N; k++)
            assert_int_equal(mpcd_approval_verify(&pub, m, n, sig), MPCD_APPROVAL_OK);
        printf("cost: verify one %s approval: %.1f us\n", mpcd_approval_alg_name(pub.alg),
               (now_us() - t0) / N);
    }
    api_sign_auth *a = calloc(1, sizeof *a);
    uint64_t later = (uint64_t)time(NULL) + 300;
    snprintf(a->request_id, sizeof a->request_id, "req-cost");
    approve(a, "alice", kp256, "ecdsa-p256", "eth_transaction", KEY_ID, DIGEST, "m/1", "req-cost",
            later);
    approve(a, "bob", ked, "ed25519", "eth_transaction", KEY_ID, DIGEST, "m/1", "req-cost", later);
    signer_policy_facts tx = {.kind = API_PAYLOAD_ETH_TX, .chain_id = 1, .has_to = 1};
    memset(tx.to, 0x11, 20);
    tx.value[31] = 100;
    char why[256];
    double t0 = now_us();
    for (int k = 0; k < N; k++)
        assert_int_equal(decide(a, &tx, NULL, why, sizeof why), 0);
    printf("cost: policy check of a transaction with 2 approvals (p256 + ed25519): %.1f us\n",
           (now_us() - t0) / N);
    /* the durable part: request id + velocity in one fsync'ed transaction */
    signer_store *st = open_db();
    uint8_t max[32], v[32] = {0}, spent[32];
    memset(max, 0xff, 32);
    v[31] = 1;
    const int M = 50;
    t0 = now_us();
    for (int k = 0; k < M; k++) {
        char rid[32];
        snprintf(rid, sizeof rid, "cost-%d", k);
        assert_int_equal(signer_store_request_claim(st, rid, "cc0102030405060708090a0b0c0d0e0f", v,
                                                    86400, max, spent),
                         SIGNER_CLAIM_OK);
    }
    printf("cost: request id + velocity claim (one fsync'ed transaction): %.0f us\n",
           (now_us() - t0) / M);
    signer_store_close(st);
    free(a);
    free(pol);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_message),       cmocka_unit_test(test_sign_verify),
        cmocka_unit_test(test_high_s),        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_signed_policy), cmocka_unit_test(test_check),
        cmocka_unit_test(test_claims),        cmocka_unit_test(test_cost),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
