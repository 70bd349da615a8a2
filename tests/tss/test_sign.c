/* tests/tss/test_sign.c — DKLs23 signing: every t-subset of (2,3) and (3,5), samples of
 * (4,7) and (7,15), BIP32 children against test vector 1, edge hashes, presigning, the
 * parameter checks, and the tamper tests of DKLS23.md §8 items 8-11 (ban vs plain abort,
 * culprit, no signature released). Each signature is checked independently with
 * libsecp256k1 (verify + recover) and, as DER, with OpenSSL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <secp256k1_recovery.h>

#include "test_rng.h"
#include "tss/secmem.h"
#include "tss/sign.h"
#include "tss/transcript.h"
#include "tss/vole.h"
#include "tss_dealer.h"
#include "tss_sim.h"

static const uint8_t HALF_N[32] = {0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                   0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x5D, 0x57, 0x6E, 0x73, 0x57, 0xA4,
                                   0x50, 0x1D, 0xDF, 0xE9, 0x2F, 0x46, 0x68, 0x1B, 0x20, 0xA0};

/* ---------- independent verification ---------- */

static void openssl_verify_der(const tss_point *pk, const uint8_t hash[32],
                               const tss_signature *sig)
{
    uint8_t pub[65];
    size_t len = sizeof pub;
    assert_true(secp256k1_ec_pubkey_serialize(tss_secp_ctx(), pub, &len, &pk->pk,
                                              SECP256K1_EC_UNCOMPRESSED));
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    assert_true(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "secp256k1", 0));
    assert_true(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, len));
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *fctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;
    assert_int_equal(EVP_PKEY_fromdata_init(fctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(fctx, &key, EVP_PKEY_PUBLIC_KEY, params), 1);
    EVP_PKEY_CTX *vctx = EVP_PKEY_CTX_new(key, NULL);
    assert_int_equal(EVP_PKEY_verify_init(vctx), 1);
    assert_int_equal(EVP_PKEY_verify(vctx, sig->der, sig->der_len, hash, 32), 1);
    EVP_PKEY_CTX_free(vctx);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(fctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
}

static void verify_signature(const tss_point *pk, const uint8_t hash[32], const tss_signature *sig)
{
    const secp256k1_context *ctx = tss_secp_ctx();
    uint8_t compact[64];
    secp256k1_ecdsa_signature es;
    secp256k1_ecdsa_recoverable_signature rs;
    secp256k1_pubkey rec;
    memcpy(compact, sig->r, 32);
    memcpy(compact + 32, sig->s, 32);
    assert_true(memcmp(sig->s, HALF_N, 32) <= 0); /* low s */
    assert_true(secp256k1_ecdsa_signature_parse_compact(ctx, &es, compact));
    assert_true(secp256k1_ecdsa_verify(ctx, &es, hash, &pk->pk));
    assert_true(sig->recovery_id < 4);
    assert_true(
        secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rs, compact, sig->recovery_id));
    assert_true(secp256k1_ecdsa_recover(ctx, &rec, &rs, hash));
    assert_int_equal(secp256k1_ec_pubkey_cmp(ctx, &rec, &pk->pk), 0);
    openssl_verify_der(pk, hash, sig);
}

/* ---------- fixtures ---------- */

/* One ban list for the states these tests build by hand (nobody is banned through it). */
static tss_banlist *test_bans(void)
{
    static tss_banlist *bl;
    if (bl == NULL)
        assert_int_equal(tss_banlist_new(&bl, sim_ban_persist, NULL), TSS_OK);
    return bl;
}

typedef struct {
    uint8_t t, n;
    tss_keyshare *shares[TSS_MAX_PARTIES + 1];
} keyset;

static void keyset_dealer_kappa(keyset *k, uint8_t t, uint8_t n, unsigned kappa, uint64_t seed)
{
    test_rng r;
    test_rng_init(&r, seed);
    memset(k, 0, sizeof *k);
    k->t = t, k->n = n;
    assert_int_equal(dealer_split_kappa(k->shares, t, n, NULL, NULL, kappa, &r), TSS_OK);
}

static void keyset_dealer(keyset *k, uint8_t t, uint8_t n, uint64_t seed)
{
    keyset_dealer_kappa(k, t, n, TSS_OTE_KAPPA_DEFAULT, seed);
}

static void keyset_free(keyset *k)
{
    for (int i = 0; i <= TSS_MAX_PARTIES; i++)
        tss_keyshare_free(k->shares[i]);
    memset(k, 0, sizeof *k);
}

static void setup_sign(sim_sign *s, const keyset *k, const uint16_t *set, size_t count,
                       uint64_t seed)
{
    test_rng hr;
    memset(s, 0, sizeof *s);
    s->shares = k->shares;
    memcpy(s->signers, set, count * sizeof set[0]);
    s->count = count;
    test_rng_init(&hr, seed);
    test_rng_bytes(&hr, s->net.session_id, 32);
    test_rng_bytes(&hr, s->hash, 32);
}

/* Runs a signature and checks it independently; all signers agree. */
static void sign_ok(sim_sign *s)
{
    tss_err err = sim_sign_run(s);
    if (err != TSS_OK)
        fail_msg("party %d: %s (culprit %d, ban %d)", s->net.failed_party, tss_strerror(err),
                 s->net.abort.culprit, s->net.abort.ban);
    for (size_t k = 1; k < s->count; k++)
        assert_memory_equal(&s->sig[s->signers[k]], &s->sig[s->signers[0]], sizeof(tss_signature));
    verify_signature(&s->pk, s->hash, &s->sig[s->signers[0]]);
}

/* κ from a test's prestate (a const unsigned *), or the default. */
static unsigned state_kappa(void **state)
{
    return state != NULL && *state != NULL ? *(const unsigned *)*state : TSS_OTE_KAPPA_DEFAULT;
}

static void all_subsets_kappa(uint8_t t, uint8_t n, unsigned kappa, uint64_t seed)
{
    keyset k;
    keyset_dealer_kappa(&k, t, n, kappa, seed);
    int done = 0;
    for (uint32_t mask = 0; mask < (1u << n); mask++) {
        if (__builtin_popcount(mask) != t)
            continue;
        uint16_t set[TSS_MAX_PARTIES];
        size_t c = 0;
        for (int j = 0; j < n; j++)
            if (mask & (1u << j))
                set[c++] = (uint16_t)(j + 1);
        sim_sign s;
        setup_sign(&s, &k, set, c, seed * 100 + mask);
        sign_ok(&s);
        assert_true(tss_point_eq(&s.pk, &k.shares[1]->pk));
        done++;
    }
    assert_true(done > 0);
    keyset_free(&k);
}

/* ---------- correctness ---------- */

static void test_subsets_2_3(void **state)
{
    all_subsets_kappa(2, 3, state_kappa(state), 1);
}

static void test_subsets_3_5(void **state)
{
    all_subsets_kappa(3, 5, state_kappa(state), 2);
}

static void test_samples_4_7_and_7_15(void **state)
{
    (void)state;
    keyset k;
    keyset_dealer(&k, 4, 7, 3);
    const uint16_t a[] = {7, 2, 5, 1}, b[] = {3, 4, 6, 7};
    sim_sign s;
    setup_sign(&s, &k, a, 4, 30);
    sign_ok(&s);
    setup_sign(&s, &k, b, 4, 31);
    s.net.shuffle = 1, s.net.shuffle_seed = 5;
    sign_ok(&s);
    keyset_free(&k);
    keyset_dealer(&k, 7, 15, 4);
    const uint16_t c[] = {1, 3, 5, 7, 9, 11, 15}, d[] = {15, 14, 13, 12, 11, 10, 9};
    setup_sign(&s, &k, c, 7, 40);
    sign_ok(&s);
    setup_sign(&s, &k, d, 7, 41);
    sign_ok(&s);
    keyset_free(&k);
}

/* A key made by the real DKG (with its base OTs) signs too. */
static void test_after_real_dkg(void **state)
{
    sim_dkg d;
    memset(&d, 0, sizeof d);
    d.t = 2, d.n = 3;
    d.kappa = (uint16_t)state_kappa(state);
    memset(d.net.session_id, 9, 32);
    assert_int_equal(sim_dkg_run(&d), TSS_OK);
    keyset k = {.t = 2, .n = 3};
    memcpy(k.shares, d.shares, sizeof d.shares);
    const uint16_t set[] = {3, 1};
    sim_sign s;
    setup_sign(&s, &k, set, 2, 50);
    sign_ok(&s);
    assert_true(tss_point_eq(&s.pk, &d.shares[1]->pk));
    assert_int_equal(d.shares[1]->kappa, state_kappa(state));
    /* the round-1 message (commitment, extension message) has the size of that κ */
    assert_int_equal(s.net.msg_bytes[1] - tss_sign_payload_len(1, state_kappa(state)),
                     s.net.msg_bytes[3] - tss_sign_payload_len(3, state_kappa(state)));
    sim_dkg_free(&d);
}

static void test_edge_hashes(void **state)
{
    (void)state;
    keyset k;
    keyset_dealer(&k, 2, 3, 6);
    const uint16_t set[] = {1, 2};
    uint8_t hashes[3][32];
    memset(hashes[0], 0, 32);
    memcpy(hashes[1], HALF_N, 32); /* n - 1 = 2 * HALF_N */
    static const uint8_t nm1[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
                                    0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B,
                                    0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x40};
    memcpy(hashes[1], nm1, 32);
    memset(hashes[2], 0xFF, 32);
    for (int h = 0; h < 3; h++) {
        sim_sign s;
        setup_sign(&s, &k, set, 2, 60 + (uint64_t)h);
        memcpy(s.hash, hashes[h], 32);
        sign_ok(&s);
    }
    keyset_free(&k);
}

/* BIP32 vector 1: the m/0H private key split by the dealer; m/0H/1 and a deeper path. */
static void test_bip32_children(void **state)
{
    (void)state;
    static const uint8_t sk0h[32] = {0xed, 0xb2, 0xe1, 0x4f, 0x9e, 0xe7, 0x7d, 0x26,
                                     0xdd, 0x93, 0xb4, 0xec, 0xed, 0xe8, 0xd1, 0x6e,
                                     0xd4, 0x08, 0xce, 0x14, 0x9b, 0x6c, 0xd8, 0x0b,
                                     0x07, 0x15, 0xa2, 0xd9, 0x11, 0xa0, 0xaf, 0xea};
    static const uint8_t cc0h[32] = {0x47, 0xfd, 0xac, 0xbd, 0x0f, 0x10, 0x97, 0x04,
                                     0x3b, 0x78, 0xc6, 0x3c, 0x20, 0xc3, 0x4e, 0xf4,
                                     0xed, 0x9a, 0x11, 0x1d, 0x98, 0x00, 0x47, 0xad,
                                     0x16, 0x28, 0x2c, 0x7a, 0xe6, 0x23, 0x61, 0x41};
    static const uint8_t pub_0h_1[33] = {0x03, 0x50, 0x1e, 0x45, 0x4b, 0xf0, 0x07, 0x51, 0xf2,
                                         0x4b, 0x1b, 0x48, 0x9a, 0xa9, 0x25, 0x21, 0x5d, 0x66,
                                         0xaf, 0x22, 0x34, 0xe3, 0x89, 0x1c, 0x3b, 0x21, 0xa5,
                                         0x2b, 0xed, 0xb3, 0xcd, 0x71, 0x1c};
    tss_scalar sk;
    test_rng r;
    keyset k;
    memset(&k, 0, sizeof k);
    k.t = 2, k.n = 3;
    test_rng_init(&r, 7);
    assert_int_equal(tss_scalar_parse(&sk, sk0h), TSS_OK);
    assert_int_equal(dealer_split(k.shares, 2, 3, &sk, cc0h, &r), TSS_OK);
    const uint16_t set[] = {2, 3};
    sim_sign s;
    setup_sign(&s, &k, set, 2, 70);
    s.path[0] = 1;
    s.path_len = 1;
    sign_ok(&s);
    uint8_t got[33];
    tss_point_serialize(got, &s.pk);
    assert_memory_equal(got, pub_0h_1, 33);
    /* a five-step path also signs (under its own child key) */
    setup_sign(&s, &k, set, 2, 71);
    const uint32_t p5[] = {44, 60, 0, 0, 5};
    memcpy(s.path, p5, sizeof p5);
    s.path_len = 5;
    s.presign = 1;
    sign_ok(&s);
    assert_false(tss_point_eq(&s.pk, &k.shares[1]->pk));
    keyset_free(&k);
}

static void test_presign(void **state)
{
    (void)state;
    keyset k;
    keyset_dealer(&k, 3, 5, 8);
    const uint16_t set[] = {5, 1, 3};
    sim_sign s;
    setup_sign(&s, &k, set, 3, 80);
    s.presign = 1;
    s.keep_states = 1;
    sign_ok(&s);
    /* a presignature cannot be finished twice */
    tss_msgs out = {0};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tss_sign_finish(s.state[set[i]], s.hash, &out), TSS_ERR_USED);
        assert_false(tss_sign_presigned(s.state[set[i]]));
    }
    assert_int_equal(out.count, 0);
    sim_sign_free(&s);
    keyset_free(&k);
}

static void test_params(void **state)
{
    (void)state;
    keyset k;
    keyset_dealer(&k, 3, 5, 9);
    tss_sign *st = NULL;
    sim_sid_store store = {0};
    tss_sign_params p = {.share = k.shares[2],
                         .claim = sim_sid_claim,
                         .claim_ctx = &store,
                         .bans = test_bans(),
                         .has_hash = 1};
    const struct {
        uint16_t set[6];
        size_t count;
    } bad[] = {
        {{2, 3}, 2},       /* t - 1 */
        {{2, 3, 4, 5}, 4}, /* t + 1 */
        {{2, 3, 3}, 3},    /* duplicate */
        {{1, 3, 4}, 3},    /* own index missing */
        {{2, 3, 6}, 3},    /* outside 1..n */
        {{0, 2, 3}, 3},    /* index 0 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(p.signers, bad[i].set, sizeof bad[i].set);
        p.signer_count = bad[i].count;
        assert_int_equal(tss_sign_new(&st, &p, tss_rng_system()), TSS_ERR_PARAMS);
    }
    const uint16_t ok[] = {4, 2, 1};
    memcpy(p.signers, ok, sizeof ok);
    p.signer_count = 3;
    p.path[0] = TSS_BIP32_HARDENED | 44;
    p.path_len = 1;
    assert_int_equal(tss_sign_new(&st, &p, tss_rng_system()), TSS_ERR_DERIVATION);
    p.path_len = 0;
    assert_int_equal(tss_sign_new(&st, &p, NULL), TSS_ERR_ARG);
    p.claim = NULL; /* the used-sid store is required */
    assert_int_equal(tss_sign_new(&st, &p, tss_rng_system()), TSS_ERR_ARG);
    p.claim = sim_sid_claim;
    p.bans = NULL; /* so is the ban list */
    assert_int_equal(tss_sign_new(&st, &p, tss_rng_system()), TSS_ERR_ARG);
    p.bans = test_bans();
    assert_int_equal(tss_sign_new(&st, &p, tss_rng_system()), TSS_OK);
    tss_msgs out = {0};
    assert_int_equal(tss_sign_finish(st, p.hash, &out), TSS_ERR_STATE); /* nothing presigned */
    assert_int_equal(tss_sign_start(st, &out), TSS_OK);
    assert_int_equal(out.count, 2);
    assert_int_equal(tss_sign_start(st, &out), TSS_ERR_STATE);
    tss_msgs_free(&out);
    tss_sign_free(st);
    keyset_free(&k);
}

/* ---------- tamper tests ---------- */

#define R2_TAIL_AT                                                                                 \
    TSS_VOLE_MSG2_BYTES /* Gamma^u 0, Gamma^v 33, psi 66, pk 98, R 131, nonce 164                  \
                         */

static void expect_abort(keyset *k, const uint16_t *set, size_t count, sim_flip *f, tss_err reason,
                         uint16_t victim, uint16_t culprit, int ban)
{
    sim_sign s;
    setup_sign(&s, k, set, count, 90 + f->offset);
    s.net.tamper = sim_flip_hook;
    s.net.tamper_ctx = f;
    tss_err err = sim_sign_run(&s);
    assert_true(f->hits > 0);
    assert_int_not_equal(err, TSS_OK);
    if (s.net.party_err[victim] != reason || s.net.party_abort[victim].culprit != culprit ||
        s.net.party_abort[victim].ban != ban)
        fail_msg(
            "round %d offset %zu: party %d got %s culprit %d ban %d; want %s culprit %d ban %d",
            f->round, f->offset, victim, tss_strerror(s.net.party_err[victim]),
            s.net.party_abort[victim].culprit, s.net.party_abort[victim].ban, tss_strerror(reason),
            culprit, ban);
    /* no aborting call left a message in out, and nobody released a signature */
    assert_int_equal(s.net.out_after_abort, 0);
    for (size_t i = 0; i < count; i++) {
        tss_signature zero;
        memset(&zero, 0, sizeof zero);
        assert_memory_equal(&s.sig[set[i]], &zero, sizeof zero);
    }
}

static void test_tamper_bans(void **state)
{
    keyset k;
    const unsigned kappa = state_kappa(state);
    keyset_dealer_kappa(&k, 2, 3, kappa, 10);
    const uint16_t set[] = {1, 3};
    /* bad R opening (the nonce), authenticated message: abort and ban */
    sim_flip f1 = {.from = 3, .to = 1, .round = 2, .offset = R2_TAIL_AT + 164, .xor_mask = 1};
    expect_abort(&k, set, 2, &f1, TSS_ERR_COMMITMENT, 1, 3, 1);
    /* tampered Gamma^u and Gamma^v (another valid point: flip the parity prefix) */
    sim_flip f2 = {.from = 1, .to = 3, .round = 2, .offset = R2_TAIL_AT + 0, .xor_mask = 1};
    expect_abort(&k, set, 2, &f2, TSS_ERR_SIGN_CHECK, 3, 1, 1);
    sim_flip f3 = {.from = 1, .to = 3, .round = 2, .offset = R2_TAIL_AT + 33, .xor_mask = 1};
    expect_abort(&k, set, 2, &f3, TSS_ERR_SIGN_CHECK, 3, 1, 1);
    /* VOLE message 1 (U): Alice's OT-extension check fails: ban Bob */
    sim_flip f4 = {.from = 3, .to = 1, .round = 1, .offset = 32 + 16 + 1000, .xor_mask = 4};
    expect_abort(&k, set, 2, &f4, TSS_ERR_OT_CHECK, 1, 3, 1);
    /* ... and the last t~ of the extension message (the κ-th column's check value) */
    sim_flip f4b = {.from = 1,
                    .to = 3,
                    .round = 1,
                    .offset = 32 + TSS_OTE_MSG_BYTES(kappa) - 1,
                    .xor_mask = 0x80};
    expect_abort(&k, set, 2, &f4b, TSS_ERR_OT_CHECK, 3, 1, 1);
    /* VOLE message 2 (an a~ row): Bob's mu check fails: ban Alice */
    sim_flip f5 = {.from = 1, .to = 3, .round = 2, .offset = 16 + 32 * 700 + 5, .xor_mask = 1};
    expect_abort(&k, set, 2, &f5, TSS_ERR_VOLE_CHECK, 3, 1, 1);
    keyset_free(&k);
}

static void test_tamper_no_signature(void **state)
{
    (void)state;
    keyset k;
    keyset_dealer(&k, 3, 5, 11);
    const uint16_t set[] = {2, 4, 5};
    /* psi tampered: every check passes but the signature does not verify */
    sim_flip f1 = {.from = 4, .to = 2, .round = 2, .offset = R2_TAIL_AT + 66 + 31, .xor_mask = 1};
    expect_abort(&k, set, 3, &f1, TSS_ERR_SIGNATURE, 2, 0, 0);
    /* u or w tampered in round 3 */
    sim_flip f2 = {.from = 5, .to = 4, .round = 3, .offset = 31, .xor_mask = 1};
    expect_abort(&k, set, 3, &f2, TSS_ERR_SIGNATURE, 4, 0, 0);
    sim_flip f3 = {.from = 5, .to = 4, .round = 3, .offset = 63, .xor_mask = 1};
    expect_abort(&k, set, 3, &f3, TSS_ERR_SIGNATURE, 4, 0, 0);
    /* the round-3 digest (R_j, pk_j, hash) disagrees: plain abort naming the sender */
    sim_flip f4 = {.from = 2, .to = 5, .round = 3, .offset = 70, .xor_mask = 1};
    expect_abort(&k, set, 3, &f4, TSS_ERR_MISMATCH, 5, 2, 0);
    keyset_free(&k);
}

/* A party using a wrong share consistently (its Gamma checks pass) fails the pk sum. */
static void test_wrong_pk_share(void **state)
{
    (void)state;
    keyset k;
    keyset_dealer(&k, 2, 3, 12);
    tss_scalar one;
    tss_scalar_set_u64(&one, 1);
    tss_scalar_add(&k.shares[2]->secret_share, &k.shares[2]->secret_share, &one);
    const uint16_t set[] = {1, 2};
    sim_sign s;
    setup_sign(&s, &k, set, 2, 120);
    assert_int_not_equal(sim_sign_run(&s), TSS_OK);
    for (int i = 1; i <= 2; i++) {
        assert_int_equal(s.net.party_err[i], TSS_ERR_SIGN_CHECK);
        assert_int_equal(s.net.party_abort[i].ban, 0);
    }
    keyset_free(&k);
}

/* Parties that disagree on the signing sid (another path here) abort before any OT work,
 * and nobody is banned. Messages of another session are rejected at intake. */
static void test_session_mismatch(void **state)
{
    (void)state;
    keyset k;
    keyset_dealer(&k, 2, 3, 13);
    tss_sign *a = NULL, *b = NULL;
    sim_sid_store sa = {0}, sb = {0}, sc = {0};
    tss_sign_params pa = {.share = k.shares[1],
                          .claim = sim_sid_claim,
                          .claim_ctx = &sa,
                          .bans = test_bans(),
                          .signer_count = 2,
                          .has_hash = 1};
    pa.signers[0] = 1, pa.signers[1] = 2;
    tss_sign_params pb = pa;
    pb.share = k.shares[2];
    pb.claim_ctx = &sb;
    pb.path[0] = 7, pb.path_len = 1; /* b derives another sid */
    assert_int_equal(tss_sign_new(&a, &pa, tss_rng_system()), TSS_OK);
    assert_int_equal(tss_sign_new(&b, &pb, tss_rng_system()), TSS_OK);
    tss_msgs oa = {0}, ob = {0}, tmp = {0};
    assert_int_equal(tss_sign_start(a, &oa), TSS_OK);
    assert_int_equal(tss_sign_start(b, &ob), TSS_OK);
    assert_int_equal(tss_sign_receive(b, oa.items[0].data, oa.items[0].len, &tmp), TSS_ERR_SESSION);
    assert_int_equal(tss_sign_status(b), TSS_ABORTED);
    assert_int_equal(tss_sign_abort_info(b)->ban, 0);
    assert_int_equal(tss_sign_abort_info(b)->culprit, 0); /* a hub can cause it: blame nobody */
    assert_int_equal(tmp.count, 0);
    tss_msgs_free(&tmp);
    /* a replayed message from another session id is rejected, state unchanged */
    tss_sign *c = NULL;
    tss_sign_params pc = pa;
    pc.share = k.shares[2];
    pc.claim_ctx = &sc;
    pc.session_id[0] ^= 1;
    assert_int_equal(tss_sign_new(&c, &pc, tss_rng_system()), TSS_OK);
    assert_int_equal(tss_sign_start(c, &tmp), TSS_OK);
    tss_msgs_free(&tmp);
    assert_int_equal(tss_sign_receive(c, oa.items[0].data, oa.items[0].len, &tmp), TSS_ERR_SESSION);
    assert_int_equal(tss_sign_status(c), TSS_RUNNING);
    tss_msgs_free(&oa);
    tss_msgs_free(&ob);
    tss_sign_free(a);
    tss_sign_free(b);
    tss_sign_free(c);
    keyset_free(&k);
}

/* The used-sid store: a second signature with the same session id (same key, signers and
 * path) is refused before any message exists; a failing store stops the start too. */
static void test_used_session_id(void **state)
{
    (void)state;
    keyset k;
    keyset_dealer(&k, 2, 3, 14);
    sim_sid_store stores[TSS_MAX_PARTIES + 1];
    memset(stores, 0, sizeof stores);
    const uint16_t set[] = {1, 3};
    sim_sign s;
    setup_sign(&s, &k, set, 2, 140);
    s.stores = stores;
    sign_ok(&s);
    assert_int_equal(stores[1].count, 1);
    assert_int_equal(sim_sign_run(&s), TSS_ERR_USED); /* replayed session id */
    assert_int_equal(s.net.bytes[1], 0);              /* nothing left any signer */
    /* another session id signs */
    s.net.session_id[0] ^= 0x80;
    sign_ok(&s);
    /* a store that cannot record refuses to start */
    s.net.session_id[0] ^= 0x40;
    stores[1].fail = 1;
    assert_int_equal(sim_sign_run(&s), TSS_ERR_STORAGE);
    assert_int_equal(s.net.bytes[1], 0);
    keyset_free(&k);
}

/* Every abort leaves out as it was: here party 1 has already answered party 2's round 1
 * (its R2 for 2 is in out) when party 3's round-1 message fails, by an OT-extension check
 * (ban, culprit 3) or by its VOLE session tag (plain, culprit nobody). */
static void test_abort_releases_nothing(void **state)
{
    (void)state;
    keyset k;
    keyset_dealer(&k, 3, 3, 15);
    const uint16_t set[] = {1, 2, 3};
    const struct {
        size_t offset;
        tss_err reason;
        uint16_t culprit;
        int ban;
    } cases[] = {
        {32 + 16 + 1000, TSS_ERR_OT_CHECK, 3, 1}, /* a bit of U */
        {32 + 3, TSS_ERR_SESSION, 0, 0},          /* the VOLE sid tag */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sim_flip f = {.from = 3, .to = 1, .round = 1, .offset = cases[i].offset, .xor_mask = 4};
        expect_abort(&k, set, 3, &f, cases[i].reason, 1, cases[i].culprit, cases[i].ban);
    }
    keyset_free(&k);
}

/* Signing has three rounds: a round-4 message (even an empty one, which the old shared
 * inbox bound of 4 let through) is rejected, and the state is unchanged. */
static void test_round4_rejected(void **state)
{
    (void)state;
    keyset k;
    keyset_dealer(&k, 2, 3, 16);
    tss_banlist *bl = test_bans();
    sim_sid_store st1 = {0}, st2 = {0};
    tss_sign *a = NULL, *b = NULL;
    tss_sign_params pa = {.share = k.shares[1],
                          .claim = sim_sid_claim,
                          .claim_ctx = &st1,
                          .bans = bl,
                          .signer_count = 2,
                          .has_hash = 1};
    pa.signers[0] = 1, pa.signers[1] = 2;
    memset(pa.session_id, 0x16, 32);
    memset(pa.hash, 0x17, 32);
    tss_sign_params pb = pa;
    pb.share = k.shares[2];
    pb.claim_ctx = &st2;
    assert_int_equal(tss_sign_new(&a, &pa, tss_rng_system()), TSS_OK);
    assert_int_equal(tss_sign_new(&b, &pb, tss_rng_system()), TSS_OK);
    tss_msgs oa = {0}, ob = {0}, ra = {0}, rb = {0}, x = {0};
    assert_int_equal(tss_sign_start(a, &oa), TSS_OK);
    assert_int_equal(tss_sign_start(b, &ob), TSS_OK);
    assert_int_equal(tss_sign_receive(a, ob.items[0].data, ob.items[0].len, &ra), TSS_OK);
    assert_int_equal(tss_sign_receive(b, oa.items[0].data, oa.items[0].len, &rb), TSS_OK);
    assert_int_equal(tss_sign_receive(a, rb.items[0].data, rb.items[0].len, &x), TSS_OK);
    assert_int_equal(x.count, 1); /* a's R3: a now collects round 3 */
    tss_msgs r4 = {0};
    assert_int_equal(tss_msgs_append(&r4, TSS_PROTO_SIGN, 4, 0, 2, 1, pa.session_id, NULL, 0),
                     TSS_OK);
    assert_int_equal(tss_sign_receive(a, r4.items[0].data, r4.items[0].len, &x), TSS_ERR_ROUND);
    assert_int_equal(tss_sign_status(a), TSS_RUNNING);
    assert_int_equal(x.count, 1);
    tss_msgs_free(&r4);
    /* a round-4 message with a payload is rejected too */
    uint8_t pl[96] = {0};
    assert_int_equal(tss_msgs_append(&r4, TSS_PROTO_SIGN, 4, 0, 2, 1, pa.session_id, pl, 96),
                     TSS_OK);
    assert_int_equal(tss_sign_receive(a, r4.items[0].data, r4.items[0].len, &x), TSS_ERR_ROUND);
    assert_int_equal(tss_sign_status(a), TSS_RUNNING);
    tss_msgs_free(&r4);
    tss_msgs *all[] = {&oa, &ob, &ra, &rb, &x};
    for (size_t i = 0; i < 5; i++)
        tss_msgs_free(all[i]);
    tss_sign_free(a);
    tss_sign_free(b);
    keyset_free(&k);
}

/* ---------- key-share versions, epoch and identities ---------- */

static tss_keyshare *reencode(const tss_keyshare *ks)
{
    uint8_t *enc = NULL;
    size_t len = 0;
    tss_keyshare *back = NULL;
    assert_int_equal(tss_keyshare_encode(ks, &enc, &len), TSS_OK);
    assert_int_equal(tss_keyshare_decode(&back, enc, len), TSS_OK);
    tss_secmem_free(enc);
    return back;
}

static void set_check(uint8_t *enc, size_t len)
{
    tss_transcript t;
    tss_transcript_init(&t, "keyshare/check");
    tss_transcript_append(&t, enc, len - 32);
    tss_transcript_final(&t, enc + len - 32);
}

/* The version-2 encoding of a κ = 256 share ks (what the library wrote before κ was a
 * parameter): the version-3 layout without the kappa field. Caller frees (free()). */
static uint8_t *encode_v2(const tss_keyshare *ks, size_t *len2)
{
    uint8_t *v3 = NULL;
    size_t len3 = 0;
    assert_int_equal(ks->kappa, TSS_OTE_KAPPA_V2);
    assert_int_equal(tss_keyshare_encode(ks, &v3, &len3), TSS_OK);
    const size_t kappa_at = 9 + 4;
    *len2 = len3 - 2;
    uint8_t *v2 = malloc(*len2);
    memcpy(v2, v3, kappa_at);
    memcpy(v2 + kappa_at, v3 + kappa_at + 2, len3 - kappa_at - 2);
    v2[5] = 2;
    set_check(v2, *len2);
    tss_secmem_free(v3);
    return v2;
}

/* The version-1 encoding of a κ = 256 share ks (what the library wrote before epochs and
 * identities): the version-2 layout without epoch, setup sid and identities. */
static uint8_t *encode_v1(const tss_keyshare *ks, size_t *len1)
{
    size_t len2 = 0, n = ks->n, ids = (TSS_PARTY_ID_MAX + 32) * n;
    uint8_t *v2 = encode_v2(ks, &len2);
    *len1 = len2 - 4 - 32 - ids;
    uint8_t *v1 = malloc(*len1), *p = v1;
    const size_t head = 9, dkg = head + 4, cc = dkg + 64, pub = cc + 32 + 33 + 33 * n;
    memcpy(p, v2, head), p[5] = 1, p += head;
    memcpy(p, v2 + dkg, 32), p += 32;            /* DKG sid */
    memcpy(p, v2 + cc, pub - cc), p += pub - cc; /* chain code, pk, P(j) */
    memcpy(p, v2 + pub + ids, len2 - pub - ids); /* p(i), peers, check */
    set_check(v1, *len1);
    free(v2);
    return v1;
}

/* Signs with shares 1 and 3 of k as given; returns the error and party 1's abort. */
static tss_err sign_pair(tss_keyshare *s1, tss_keyshare *s3, uint64_t seed, tss_abort_info *ab)
{
    tss_keyshare *shares[TSS_MAX_PARTIES + 1] = {0};
    shares[1] = s1, shares[3] = s3;
    const uint16_t set[] = {1, 3};
    keyset tmp = {.t = 2, .n = 3};
    memcpy(tmp.shares, shares, sizeof shares);
    sim_sign s;
    setup_sign(&s, &tmp, set, 2, seed);
    tss_err err = sim_sign_run(&s);
    if (ab != NULL)
        *ab = s.net.party_abort[s.net.failed_party];
    if (err == TSS_OK)
        verify_signature(&s.pk, s.hash, &s.sig[1]);
    return err;
}

static void test_keyshare_v1_and_identities(void **state)
{
    (void)state;
    keyset k;
    keyset_dealer_kappa(&k, 2, 3, TSS_OTE_KAPPA_V2, 17); /* v1 shares have κ = 256 */
    uint8_t fp_orig[32], fp[32];
    tss_keyshare_fingerprint(fp_orig, k.shares[1]);
    /* a version-1 share decodes: epoch 0, setup sid = DKG sid, no identities */
    size_t len1 = 0;
    uint8_t *v1 = encode_v1(k.shares[1], &len1);
    tss_keyshare *old = NULL;
    assert_int_equal(tss_keyshare_decode(&old, v1, len1), TSS_OK);
    assert_int_equal(old->epoch, 0);
    assert_memory_equal(old->setup_sid, k.shares[1]->dkg_sid, 32);
    assert_false(tss_keyshare_has_identities(old));
    assert_int_equal(old->kappa, TSS_OTE_KAPPA_V2);
    assert_true(tss_point_eq(&old->pk, &k.shares[1]->pk));
    assert_true(tss_scalar_eq(&old->secret_share, &k.shares[1]->secret_share));
    assert_memory_equal(old->peer[2].ot_send->delta, k.shares[1]->peer[2].ot_send->delta, 32);
    /* strict: a flipped byte or another length is refused */
    v1[20] ^= 1;
    tss_keyshare *bad = NULL;
    assert_int_equal(tss_keyshare_decode(&bad, v1, len1), TSS_ERR_FORMAT);
    v1[20] ^= 1;
    assert_int_equal(tss_keyshare_decode(&bad, v1, len1 - 1), TSS_ERR_LENGTH);
    free(v1);
    /* it refuses to sign until its identities are set (keyshare.h says why) */
    assert_int_equal(sign_pair(old, k.shares[3], 170, NULL), TSS_ERR_IDENTITY);
    /* it re-encodes as the current version with empty identities, which decodes */
    tss_keyshare *again = reencode(old);
    assert_false(tss_keyshare_has_identities(again));
    tss_keyshare_free(again);
    tss_identity ids[TSS_MAX_PARTIES];
    sim_identities(ids, 3);
    tss_identity dup[TSS_MAX_PARTIES];
    memcpy(dup, ids, sizeof ids);
    memcpy(dup[2].fp, dup[0].fp, 32);
    assert_int_equal(tss_keyshare_set_identities(old, dup), TSS_ERR_PARAMS);
    assert_int_equal(tss_keyshare_set_identities(old, ids), TSS_OK);
    assert_int_equal(tss_keyshare_set_identities(old, ids), TSS_ERR_STATE); /* pinned */
    tss_keyshare_fingerprint(fp, old);
    assert_memory_equal(fp, fp_orig, 32);
    assert_int_equal(sign_pair(old, k.shares[3], 171, NULL), TSS_OK);
    tss_keyshare_free(old);
    /* a version-3 encoding whose identities are neither all set nor all empty */
    uint8_t *enc = NULL;
    size_t len = 0;
    assert_int_equal(tss_keyshare_encode(k.shares[1], &enc, &len), TSS_OK);
    const size_t ids_at = 9 + 4 + 2 + 32 + 32 + 32 + 33 + 33 * 3;
    memset(enc + ids_at, 0, TSS_PARTY_ID_MAX + 32); /* party 1's identity emptied */
    set_check(enc, len);
    assert_int_equal(tss_keyshare_decode(&bad, enc, len), TSS_ERR_FORMAT);
    tss_secmem_free(enc);
    keyset_free(&k);
}

/* Epoch, setup sid and identities are in the fingerprint and the signing sid: a share
 * altered in any of them no longer matches its peers' fingerprint and fails to sign with
 * them, as a plain session mismatch (nobody blamed, nobody banned). */
static void test_epoch_and_identities_bound(void **state)
{
    (void)state;
    keyset k;
    keyset_dealer(&k, 2, 3, 18);
    uint8_t fp1[32], fp3[32], fp[32];
    tss_keyshare_fingerprint(fp1, k.shares[1]);
    tss_keyshare_fingerprint(fp3, k.shares[3]);
    assert_memory_equal(fp1, fp3, 32);
    assert_int_equal(sign_pair(k.shares[1], k.shares[3], 180, NULL), TSS_OK);
    for (int what = 0; what < 4; what++) {
        tss_keyshare *alt = reencode(k.shares[1]);
        if (what == 0)
            alt->epoch = 1;
        else if (what == 1)
            alt->setup_sid[0] ^= 1;
        else if (what == 2)
            alt->ids[2].fp[7] ^= 1; /* party 3's pinned fingerprint */
        else
            alt->ids[1].party_id[0] ^= 1; /* party 2's party id (not even a signer) */
        tss_keyshare_fingerprint(fp, alt);
        assert_memory_not_equal(fp, fp1, 32);
        tss_keyshare *back = reencode(alt); /* the altered fields survive the encoding */
        uint8_t fpb[32];
        tss_keyshare_fingerprint(fpb, back);
        assert_memory_equal(fpb, fp, 32);
        tss_keyshare_free(back);
        tss_abort_info ab;
        assert_int_equal(sign_pair(alt, k.shares[3], 181 + (uint64_t)what, &ab), TSS_ERR_SESSION);
        assert_int_equal(ab.culprit, 0);
        assert_int_equal(ab.ban, 0);
        tss_keyshare_free(alt);
    }
    keyset_free(&k);
}

/* ---------- key shares written before κ was a parameter ---------- */

#ifndef MPC_TSS_TEST_DATA
#error "MPC_TSS_TEST_DATA (tests/tss/data) must be defined by the build"
#endif

/* Reads tests/tss/data/<name> into a malloc'ed buffer. */
static uint8_t *read_data(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", MPC_TSS_TEST_DATA, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    uint8_t *buf = malloc(1u << 17);
    *len = fread(buf, 1, 1u << 17, f);
    fclose(f);
    return buf;
}

/* Real version-2 shares (κ = 256) of one 2-of-3 key, written by the library before this
 * change (a DKG run at commit 3032045): they decode, sign with every pair of signers,
 * re-encode as version 3 with κ = 256 and keep their fingerprint, and still sign with
 * their peers' unconverted shares. */
static void test_v2_shares_still_sign(void **state)
{
    (void)state;
    keyset k = {.t = 2, .n = 3};
    uint8_t fp[4][32];
    for (int i = 1; i <= 3; i++) {
        char name[64];
        size_t len = 0;
        snprintf(name, sizeof name, "keyshare_v2_2of3_%d.bin", i);
        uint8_t *enc = read_data(name, &len);
        assert_int_equal(enc[5], 2); /* version 2 on disk */
        assert_int_equal(len, 49889);
        assert_int_equal(tss_keyshare_decode(&k.shares[i], enc, len), TSS_OK);
        assert_int_equal(k.shares[i]->kappa, TSS_OTE_KAPPA_V2);
        assert_true(tss_keyshare_has_identities(k.shares[i]));
        tss_keyshare_fingerprint(fp[i], k.shares[i]);
        free(enc);
    }
    assert_memory_equal(fp[1], fp[2], 32);
    assert_memory_equal(fp[1], fp[3], 32);
    const uint16_t sets[3][2] = {{1, 2}, {1, 3}, {2, 3}};
    for (int c = 0; c < 3; c++) {
        sim_sign s;
        setup_sign(&s, &k, sets[c], 2, 300 + (uint64_t)c);
        sign_ok(&s);
        assert_true(tss_point_eq(&s.pk, &k.shares[1]->pk));
        /* round 1 carries the κ = 256 extension message (24,608 B) */
        assert_int_equal(s.net.msg_bytes[1],
                         tss_sign_payload_len(1, TSS_OTE_KAPPA_V2) +
                             (s.net.msg_bytes[3] - tss_sign_payload_len(3, TSS_OTE_KAPPA_V2)));
    }
    /* re-encoded (version 3, κ = 256): same fingerprint, signs with an unconverted peer */
    tss_keyshare *v3 = reencode(k.shares[2]);
    uint8_t fp3[32];
    tss_keyshare_fingerprint(fp3, v3);
    assert_memory_equal(fp3, fp[2], 32);
    assert_int_equal(v3->kappa, TSS_OTE_KAPPA_V2);
    assert_int_equal(sign_pair(k.shares[1], k.shares[3], 310, NULL), TSS_OK);
    tss_keyshare_free(k.shares[2]);
    k.shares[2] = v3;
    const uint16_t set[] = {2, 3};
    sim_sign s;
    setup_sign(&s, &k, set, 2, 311);
    sign_ok(&s);
    /* a v2 share's encoding with a κ = 128 setup inside is refused (the version fixes κ) */
    uint8_t *enc = NULL;
    size_t len = 0;
    keyset k128;
    keyset_dealer(&k128, 2, 3, 312);
    tss_keyshare *bad = NULL;
    assert_int_equal(tss_keyshare_encode(k128.shares[1], &enc, &len), TSS_OK);
    enc[5] = 2;
    memmove(enc + 13, enc + 15, len - 15); /* drop the kappa field: a "v2" with κ = 128 setups */
    set_check(enc, len - 2);
    assert_int_equal(tss_keyshare_decode(&bad, enc, len - 2), TSS_ERR_LENGTH);
    assert_null(bad);
    /* a v3 share naming a κ the library does not implement is refused */
    assert_int_equal(tss_keyshare_encode(k128.shares[1], &enc, &len), TSS_OK);
    enc[14] = 192;
    set_check(enc, len);
    assert_int_equal(tss_keyshare_decode(&bad, enc, len), TSS_ERR_FORMAT);
    /* a v3 κ = 256 share whose field says 128 */
    tss_secmem_free(enc);
    assert_int_equal(tss_keyshare_encode(v3, &enc, &len), TSS_OK);
    enc[13] = 0, enc[14] = 128;
    set_check(enc, len);
    assert_int_equal(tss_keyshare_decode(&bad, enc, len), TSS_ERR_LENGTH);
    tss_secmem_free(enc);
    /* κ is in the fingerprint (when it is not 256) and so in the signing sid */
    uint8_t fpa[32], fpb[32];
    tss_keyshare_fingerprint(fpa, k128.shares[1]);
    k128.shares[1]->kappa = TSS_OTE_KAPPA_V2;
    tss_keyshare_fingerprint(fpb, k128.shares[1]);
    assert_memory_not_equal(fpa, fpb, 32);
    k128.shares[1]->kappa = TSS_OTE_KAPPA_DEFAULT;
    /* a share whose setups are of another κ than its own is refused by tss_sign_new */
    k128.shares[3]->peer[0].ot_recv->kappa = TSS_OTE_KAPPA_V2;
    const uint16_t set13[] = {1, 3};
    setup_sign(&s, &k128, set13, 2, 313);
    assert_int_equal(sim_sign_run(&s), TSS_ERR_ARG);
    k128.shares[3]->peer[0].ot_recv->kappa = TSS_OTE_KAPPA_DEFAULT;
    keyset_free(&k128);
    keyset_free(&k);
}

/* A refresh (tss/reshare.h, same committee, every old party deals) of the real version-2
 * key makes κ = 128 shares of the same public key that sign: the way an old key moves to
 * the new parameter. */
static void test_v2_key_refreshed_to_kappa_128(void **state)
{
    (void)state;
    keyset k = {.t = 2, .n = 3};
    for (int i = 1; i <= 3; i++) {
        char name[64];
        size_t len = 0;
        snprintf(name, sizeof name, "keyshare_v2_2of3_%d.bin", i);
        uint8_t *enc = read_data(name, &len);
        assert_int_equal(tss_keyshare_decode(&k.shares[i], enc, len), TSS_OK);
        free(enc);
    }
    sim_reshare r;
    memset(&r, 0, sizeof r);
    tss_reshare_params *p = &r.params;
    const tss_keyshare *any = k.shares[1];
    memset(p->key_id, 0x4b, 16);
    memcpy(p->key_sid, any->dkg_sid, 32);
    p->t_old = any->t;
    p->n_old = any->n;
    p->dealer_count = 3;
    for (int d = 0; d < 3; d++) {
        tss_scalar_set_u64(&p->dealers[d].x, (uint64_t)d + 1);
        p->dealers[d].pub = any->pub_shares[d];
        p->dealers[d].id = any->ids[d];
        p->dealers[d].new_index = (uint8_t)(d + 1);
        r.secrets[d] = &k.shares[d + 1]->secret_share;
    }
    p->pk = any->pk;
    memcpy(p->chain_code, any->chain_code, 32);
    p->t = 2;
    p->n = 3;
    memcpy(p->ids, any->ids, 3 * sizeof any->ids[0]);
    p->epoch = any->epoch + 1;
    memset(r.net.session_id, 0x77, 32);
    assert_int_equal(sim_reshare_run(&r), TSS_OK);
    keyset fresh = {.t = 2, .n = 3};
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(r.shares[i]->kappa, TSS_OTE_KAPPA_DEFAULT);
        assert_true(tss_point_eq(&r.shares[i]->pk, &any->pk));
        fresh.shares[i] = r.shares[i];
    }
    const uint16_t set[] = {1, 3};
    sim_sign s;
    setup_sign(&s, &fresh, set, 2, 320);
    sign_ok(&s);
    assert_true(tss_point_eq(&s.pk, &any->pk));
    assert_int_equal(s.net.msg_bytes[1] - tss_sign_payload_len(1, TSS_OTE_KAPPA_DEFAULT),
                     s.net.msg_bytes[3] - tss_sign_payload_len(3, TSS_OTE_KAPPA_DEFAULT));
    sim_reshare_free(&r);
    keyset_free(&k);
}

int main(void)
{
    static const unsigned kappa_v2 = TSS_OTE_KAPPA_V2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_subsets_2_3),
        cmocka_unit_test_prestate(test_subsets_2_3, (void *)&kappa_v2),
        cmocka_unit_test(test_subsets_3_5),
        cmocka_unit_test_prestate(test_subsets_3_5, (void *)&kappa_v2),
        cmocka_unit_test(test_after_real_dkg),
        cmocka_unit_test_prestate(test_after_real_dkg, (void *)&kappa_v2),
        cmocka_unit_test(test_v2_shares_still_sign),
        cmocka_unit_test(test_v2_key_refreshed_to_kappa_128),
        cmocka_unit_test(test_edge_hashes),
        cmocka_unit_test(test_bip32_children),
        cmocka_unit_test(test_presign),
        cmocka_unit_test(test_tamper_bans),
        cmocka_unit_test_prestate(test_tamper_bans, (void *)&kappa_v2),
        cmocka_unit_test(test_tamper_no_signature),
        cmocka_unit_test(test_wrong_pk_share),
        cmocka_unit_test(test_session_mismatch),
        cmocka_unit_test(test_used_session_id),
        cmocka_unit_test(test_abort_releases_nothing),
        cmocka_unit_test(test_round4_rejected),
        cmocka_unit_test(test_keyshare_v1_and_identities),
        cmocka_unit_test(test_epoch_and_identities_bound),
        cmocka_unit_test(test_samples_4_7_and_7_15),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
