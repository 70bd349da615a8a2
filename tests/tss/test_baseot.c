/* tests/tss/test_baseot.c — Masny–Rindal base OT: the receiver gets exactly its chosen key,
 * every received point is validated (off-curve, infinity, non-canonical, forced M_b = ∞),
 * sessions and instances are separated, Q_{1−c} is a real group element, and the setup
 * encodings are strict. Every test runs for both κ (128: new keys; 256: v1/v2 keys). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_rng.h"
#include "tss/baseot.h"
#include "tss/h2c.h"
#include "tss/secmem.h"

static unsigned K; /* κ of the group being run */
#define M1 TSS_BASEOT_MSG1_BYTES(K)

typedef struct {
    tss_baseot_receiver *st;
    tss_ote_sender_setup *alice;
    tss_ote_receiver_setup *bob;
    uint8_t msg1[TSS_BASEOT_MSG1_BYTES_MAX];
    uint8_t msg2[TSS_BASEOT_MSG2_BYTES];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->st = tss_baseot_receiver_new();
    f->alice = tss_ote_sender_setup_new(K);
    f->bob = tss_ote_receiver_setup_new(K);
    *state = f;
    return f->st && f->alice && f->bob ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tss_baseot_receiver_free(f->st);
    tss_ote_sender_setup_free(f->alice);
    tss_ote_receiver_setup_free(f->bob);
    free(f);
    return 0;
}

static void sid_of(uint8_t sid[32], uint8_t v)
{
    memset(sid, 0, 32);
    sid[0] = v;
    sid[31] = 0x5a;
}

static int bit(const uint8_t *p, size_t i)
{
    return (p[i / 8] >> (i % 8)) & 1;
}

/* Runs both sides honestly with rng seed `seed` under sid. */
static void run(fixture *f, const uint8_t sid[32], uint64_t seed)
{
    test_rng ra, rb;
    test_rng_init(&ra, seed);
    test_rng_init(&rb, seed + 1000);
    assert_int_equal(tss_baseot_receiver_start(f->st, sid, K, &ra.rng, f->msg1), TSS_OK);
    assert_int_equal(tss_baseot_sender_respond(sid, f->msg1, M1, &rb.rng, f->msg2, f->bob), TSS_OK);
    assert_int_equal(tss_baseot_receiver_finish(f->st, f->msg2, sizeof f->msg2, f->alice), TSS_OK);
}

static void test_receiver_gets_chosen_key_only(void **state)
{
    fixture *f = *state;
    uint8_t sid[32];
    sid_of(sid, 1);
    run(f, sid, 1);
    int ones = 0;
    for (size_t l = 0; l < K; l++) {
        int c = bit(f->alice->delta, l);
        ones += c;
        assert_memory_equal(f->alice->seed[l], f->bob->seed[l][c], 32);
        assert_memory_not_equal(f->alice->seed[l], f->bob->seed[l][1 - c], 32);
    }
    /* Δ is random: both values occur (fails with probability 2^-255). */
    assert_true(ones > 0 && ones < (int)K);
}

static void test_instances_and_sessions_separated(void **state)
{
    fixture *f = *state;
    uint8_t sid[32];
    static uint8_t keys1[TSS_BASEOT_COUNT_MAX][2][32];
    sid_of(sid, 2);
    run(f, sid, 7);
    memcpy(keys1, f->bob->seed, (size_t)K * 64);
    /* all 512 sender keys of one batch are distinct */
    for (size_t i = 0; i < 2 * K; i++)
        for (size_t j = i + 1; j < 2 * K; j++)
            assert_memory_not_equal(&keys1[0][0][0] + 32 * i, &keys1[0][0][0] + 32 * j, 32);
    /* same randomness, another sid: every key differs */
    sid_of(sid, 3);
    run(f, sid, 7);
    for (size_t l = 0; l < K; l++)
        for (int b = 0; b < 2; b++)
            assert_memory_not_equal(keys1[l][b], f->bob->seed[l][b], 32);
}

static void test_wrong_sid_is_session_error(void **state)
{
    fixture *f = *state;
    uint8_t sid[32], other[32];
    test_rng ra, rb;
    test_rng_init(&ra, 11);
    test_rng_init(&rb, 12);
    sid_of(sid, 4);
    sid_of(other, 5);
    assert_int_equal(tss_baseot_receiver_start(f->st, sid, K, &ra.rng, f->msg1), TSS_OK);
    assert_int_equal(tss_baseot_sender_respond(other, f->msg1, M1, &rb.rng, f->msg2, f->bob),
                     TSS_ERR_SESSION);
    assert_int_equal(tss_baseot_sender_respond(sid, f->msg1, M1, &rb.rng, f->msg2, f->bob), TSS_OK);
    /* a message 2 from the right peer under another sid */
    uint8_t msg2_other[TSS_BASEOT_MSG2_BYTES];
    tss_sid_tag(msg2_other, "ot/base/2", other);
    memcpy(msg2_other + TSS_SID_TAG_BYTES, f->msg2 + TSS_SID_TAG_BYTES, 33);
    assert_int_equal(tss_baseot_receiver_finish(f->st, msg2_other, sizeof msg2_other, f->alice),
                     TSS_ERR_SESSION);
    /* the state is single use: a second finish is refused */
    assert_int_equal(tss_baseot_receiver_finish(f->st, f->msg2, sizeof f->msg2, f->alice),
                     TSS_ERR_STATE);
}

static void test_lengths(void **state)
{
    fixture *f = *state;
    uint8_t sid[32];
    test_rng ra, rb;
    test_rng_init(&ra, 21);
    test_rng_init(&rb, 22);
    sid_of(sid, 6);
    assert_int_equal(tss_baseot_receiver_start(f->st, sid, K, &ra.rng, f->msg1), TSS_OK);
    static uint8_t big[TSS_BASEOT_MSG1_BYTES_MAX + 1];
    memcpy(big, f->msg1, M1);
    assert_int_equal(tss_baseot_sender_respond(sid, f->msg1, M1 - 1, &rb.rng, f->msg2, f->bob),
                     TSS_ERR_LENGTH);
    assert_int_equal(tss_baseot_sender_respond(sid, big, M1 + 1, &rb.rng, f->msg2, f->bob),
                     TSS_ERR_LENGTH);
    assert_int_equal(tss_baseot_sender_respond(sid, f->msg1, M1, &rb.rng, f->msg2, f->bob), TSS_OK);
    assert_int_equal(tss_baseot_receiver_finish(f->st, f->msg2, sizeof f->msg2 - 1, f->alice),
                     TSS_ERR_LENGTH);
}

/* x = p + 1 (non-canonical: some parsers reduce it mod p) */
static const uint8_t P_PLUS_1[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFC, 0x30};

/* Bad encodings a peer might send for a point. */
static void bad_point(uint8_t out[33], int which, const uint8_t good[33])
{
    memcpy(out, good, 33);
    switch (which) {
    case 0: /* all zero: the "infinity" encoding of some libraries */
        memset(out, 0, 33);
        break;
    case 1: /* 0x00 prefix */
        out[0] = 0x00;
        break;
    case 2: /* x >= p */
        out[0] = 0x02;
        memcpy(out + 1, P_PLUS_1, 32);
        break;
    case 3: /* all-ones x (>= p) */
        memset(out + 1, 0xFF, 32);
        break;
    case 4: /* off curve: x = 5, x^3 + 7 is not a square */
        memset(out, 0, 33);
        out[0] = 0x03;
        out[32] = 5;
        break;
    default: /* uncompressed / hybrid prefix on a compressed-length encoding */
        out[0] = 0x04;
        break;
    }
}

static void test_sender_rejects_bad_points(void **state)
{
    fixture *f = *state;
    uint8_t sid[32];
    test_rng ra, rb;
    test_rng_init(&ra, 31);
    sid_of(sid, 7);
    assert_int_equal(tss_baseot_receiver_start(f->st, sid, K, &ra.rng, f->msg1), TSS_OK);
    static uint8_t m[TSS_BASEOT_MSG1_BYTES_MAX];
    const size_t insts[] = {0, 100, K - 1};
    for (size_t ii = 0; ii < 3; ii++)
        for (int slot = 0; slot < 2; slot++)
            for (int which = 0; which < 6; which++) {
                memcpy(m, f->msg1, M1);
                uint8_t *p = m + TSS_SID_TAG_BYTES + (insts[ii] * 2 + (size_t)slot) * 33;
                bad_point(p, which, f->msg1 + (p - m));
                test_rng_init(&rb, 32);
                assert_int_equal(tss_baseot_sender_respond(sid, m, M1, &rb.rng, f->msg2, f->bob),
                                 TSS_ERR_POINT);
            }
}

static void test_receiver_rejects_bad_point(void **state)
{
    fixture *f = *state;
    uint8_t sid[32], m2[TSS_BASEOT_MSG2_BYTES];
    for (int which = 0; which < 6; which++) {
        test_rng ra, rb;
        test_rng_init(&ra, 41);
        test_rng_init(&rb, 42);
        sid_of(sid, 8);
        assert_int_equal(tss_baseot_receiver_start(f->st, sid, K, &ra.rng, f->msg1), TSS_OK);
        assert_int_equal(tss_baseot_sender_respond(sid, f->msg1, M1, &rb.rng, f->msg2, f->bob),
                         TSS_OK);
        memcpy(m2, f->msg2, sizeof m2);
        bad_point(m2 + TSS_SID_TAG_BYTES, which, f->msg2 + TSS_SID_TAG_BYTES);
        assert_int_equal(tss_baseot_receiver_finish(f->st, m2, sizeof m2, f->alice), TSS_ERR_POINT);
    }
}

/* A malicious receiver sets Q_b = −H2C(sid, ℓ, b, Q_{1−b}), so M_b = ∞: rejected. */
static void test_forced_infinity_rejected(void **state)
{
    fixture *f = *state;
    uint8_t sid[32];
    test_rng ra, rb;
    test_rng_init(&ra, 51);
    sid_of(sid, 9);
    assert_int_equal(tss_baseot_receiver_start(f->st, sid, K, &ra.rng, f->msg1), TSS_OK);
    static uint8_t m[TSS_BASEOT_MSG1_BYTES_MAX];
    for (uint32_t b = 0; b < 2; b++) {
        const uint32_t l = 77;
        memcpy(m, f->msg1, M1);
        uint8_t *q = m + TSS_SID_TAG_BYTES + l * 66;
        tss_point h;
        assert_int_equal(tss_baseot_h2c(&h, sid, l, b, q + 33 * (1 - b)), TSS_OK);
        tss_point_negate(&h, &h);
        tss_point_serialize(q + 33 * b, &h);
        test_rng_init(&rb, 52);
        assert_int_equal(tss_baseot_sender_respond(sid, m, M1, &rb.rng, f->msg2, f->bob),
                         TSS_ERR_INFINITY);
    }
}

/* Both points of every instance are real group elements; the chosen one satisfies
 * Q_c + H2C(ℓ, c, Q_{1−c}) = a_ℓ·G and the other is not of that form for the other slot. */
static void test_other_slot_is_a_group_element(void **state)
{
    fixture *f = *state;
    uint8_t sid[32];
    test_rng ra;
    test_rng_init(&ra, 61);
    sid_of(sid, 10);
    assert_int_equal(tss_baseot_receiver_start(f->st, sid, K, &ra.rng, f->msg1), TSS_OK);
    for (uint32_t l = 0; l < K; l++) {
        const uint8_t *q = f->msg1 + TSS_SID_TAG_BYTES + l * 66;
        tss_point Q[2], h, m, A;
        uint32_t c = (uint32_t)bit(f->st->delta, l);
        assert_int_equal(tss_point_parse(&Q[0], q), TSS_OK);
        assert_int_equal(tss_point_parse(&Q[1], q + 33), TSS_OK);
        assert_false(tss_point_eq(&Q[0], &Q[1]));
        assert_int_equal(tss_point_base_mul(&A, &f->st->a[l]), TSS_OK);
        assert_int_equal(tss_baseot_h2c(&h, sid, l, c, q + 33 * (1 - c)), TSS_OK);
        assert_int_equal(tss_point_add(&m, &Q[c], &h), TSS_OK);
        assert_true(tss_point_eq(&m, &A));
        assert_int_equal(tss_baseot_h2c(&h, sid, l, 1 - c, q + 33 * c), TSS_OK);
        assert_int_equal(tss_point_add(&m, &Q[1 - c], &h), TSS_OK);
        assert_false(tss_point_eq(&m, &A));
    }
}

static void test_setup_encodings(void **state)
{
    fixture *f = *state;
    uint8_t sid[32];
    const size_t SA = TSS_OTE_SENDER_SETUP_BYTES(K), SB = TSS_OTE_RECEIVER_SETUP_BYTES(K);
    const unsigned other = K == 128 ? 256 : 128;
    sid_of(sid, 11);
    run(f, sid, 71);
    static uint8_t ea[TSS_OTE_SENDER_SETUP_BYTES(256) + 1],
        eb[TSS_OTE_RECEIVER_SETUP_BYTES(256) + 1];
    tss_ote_sender_setup *a2 = tss_ote_sender_setup_new(K);
    tss_ote_receiver_setup *b2 = tss_ote_receiver_setup_new(K);
    tss_ote_sender_setup_encode(ea, f->alice);
    tss_ote_receiver_setup_encode(eb, f->bob);
    assert_int_equal(ea[3], K == 256 ? '1' : '2'); /* "OTA1" is the v1/v2 encoding */
    assert_int_equal(tss_ote_sender_setup_decode(a2, K, ea, SA), TSS_OK);
    assert_memory_equal(a2, f->alice, sizeof *a2);
    assert_int_equal(tss_ote_receiver_setup_decode(b2, K, eb, SB), TSS_OK);
    assert_memory_equal(b2, f->bob, sizeof *b2);
    /* strict: length ±1, the other role's magic, a bad version, the other κ (its length
     * and its magic), a κ the library does not implement */
    assert_int_equal(tss_ote_sender_setup_decode(a2, K, ea, SA - 1), TSS_ERR_LENGTH);
    assert_int_equal(tss_ote_sender_setup_decode(a2, K, ea, SA + 1), TSS_ERR_LENGTH);
    assert_int_equal(tss_ote_receiver_setup_decode(b2, K, eb, SB + 1), TSS_ERR_LENGTH);
    assert_int_equal(tss_ote_sender_setup_decode(a2, other, ea, SA), TSS_ERR_LENGTH);
    assert_int_equal(tss_ote_receiver_setup_decode(b2, other, eb, SB), TSS_ERR_LENGTH);
    assert_int_equal(tss_ote_sender_setup_decode(a2, 64, ea, SA), TSS_ERR_ARG);
    assert_int_equal(tss_ote_receiver_setup_decode(b2, 512, eb, SB), TSS_ERR_ARG);
    eb[3] = K == 256 ? '2' : '1'; /* the magic of the other κ */
    assert_int_equal(tss_ote_receiver_setup_decode(b2, K, eb, SB), TSS_ERR_FORMAT);
    memcpy(ea, eb, 4);
    assert_int_equal(tss_ote_sender_setup_decode(a2, K, ea, SA), TSS_ERR_FORMAT);
    eb[3] ^= 0x7F;
    assert_int_equal(tss_ote_receiver_setup_decode(b2, K, eb, SB), TSS_ERR_FORMAT);
    tss_ote_sender_setup_free(a2);
    tss_ote_receiver_setup_free(b2);
}

/* The slot hash binds sid, index, slot and the other point; it is deterministic; random
 * points come out with both y parities (a hash-to-curve that fixed the parity would only
 * reach half the group). */
static void test_h2c_domain_separation(void **state)
{
    (void)state;
    uint8_t sid[32], sid2[32], other[33], other2[33], e[6][33];
    tss_point p[6], q;
    sid_of(sid, 20);
    sid_of(sid2, 21);
    assert_int_equal(tss_point_random(&q, tss_rng_system()), TSS_OK);
    tss_point_serialize(other, &q);
    assert_int_equal(tss_point_random(&q, tss_rng_system()), TSS_OK);
    tss_point_serialize(other2, &q);
    assert_int_equal(tss_baseot_h2c(&p[0], sid, 5, 0, other), TSS_OK);
    assert_int_equal(tss_baseot_h2c(&p[1], sid, 5, 1, other), TSS_OK);  /* slot */
    assert_int_equal(tss_baseot_h2c(&p[2], sid, 6, 0, other), TSS_OK);  /* index */
    assert_int_equal(tss_baseot_h2c(&p[3], sid2, 5, 0, other), TSS_OK); /* sid */
    assert_int_equal(tss_baseot_h2c(&p[4], sid, 5, 0, other2), TSS_OK); /* other point */
    assert_int_equal(tss_baseot_h2c(&p[5], sid, 5, 0, other), TSS_OK);  /* again */
    for (int i = 0; i < 6; i++)
        tss_point_serialize(e[i], &p[i]);
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++)
            assert_memory_not_equal(e[i], e[j], 33);
    assert_memory_equal(e[0], e[5], 33);
    int parity[2] = {0, 0};
    test_rng r;
    test_rng_init(&r, 81);
    for (int i = 0; i < 64; i++) {
        uint8_t enc[33];
        assert_int_equal(tss_point_random(&q, &r.rng), TSS_OK);
        tss_point_serialize(enc, &q);
        parity[enc[0] & 1]++;
    }
    assert_true(parity[0] > 0 && parity[1] > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_receiver_gets_chosen_key_only),
        cmocka_unit_test(test_instances_and_sessions_separated),
        cmocka_unit_test(test_wrong_sid_is_session_error),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_sender_rejects_bad_points),
        cmocka_unit_test(test_receiver_rejects_bad_point),
        cmocka_unit_test(test_forced_infinity_rejected),
        cmocka_unit_test(test_other_slot_is_a_group_element),
        cmocka_unit_test(test_setup_encodings),
        cmocka_unit_test(test_h2c_domain_separation),
    };
    int failed = 0;
    K = TSS_OTE_KAPPA_DEFAULT;
    failed += cmocka_run_group_tests_name("baseot k=128", tests, setup, teardown);
    K = TSS_OTE_KAPPA_V2;
    failed += cmocka_run_group_tests_name("baseot k=256", tests, setup, teardown);
    return failed;
}
