/* tests/tss/test_ote.c — OT extension: the correlation q_r = t_r ⊕ β_r·Δ and the derived
 * strings, 10,000 honest runs without an abort, and the consistency check firing on any
 * single-bit change of U, x̃ or t̃_ℓ (all bits of x̃ and of every t̃_ℓ, a spread sample of
 * U). MPC_OT_RUNS overrides the number of honest runs (default 10,000; 2,000 under ASan).
 * Every test runs for both κ (128: new keys; 256: v1/v2 keys). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_rng.h"
#include "tss/baseot.h"
#include "tss/ote.h"

#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_RUNS 2000
#else
#define DEFAULT_RUNS 10000
#endif

static unsigned K; /* κ of the group being run */
#define MSG_LEN TSS_OTE_MSG_BYTES(K)
#define MSG_U   TSS_SID_TAG_BYTES
#define MSG_XT  (MSG_U + K * TSS_OTE_ROW_BYTES)
#define MSG_TT  (MSG_XT + 16)

typedef struct {
    tss_ote_sender_setup *alice;
    tss_ote_receiver_setup *bob;
    uint8_t msg[TSS_OTE_MSG_BYTES_MAX];
    uint8_t tampered[TSS_OTE_MSG_BYTES_MAX];
    uint8_t t[TSS_OTE_XI][32], q[TSS_OTE_XI][32];
    tss_ote_string g[TSS_OTE_XI], v0[TSS_OTE_XI], v1[TSS_OTE_XI];
} fixture;

/* One real base-OT run gives the setups every test reuses. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tss_baseot_receiver *st = tss_baseot_receiver_new();
    static uint8_t m1[TSS_BASEOT_MSG1_BYTES_MAX], m2[TSS_BASEOT_MSG2_BYTES];
    uint8_t sid[32] = {1, 2, 3};
    test_rng ra, rb;
    test_rng_init(&ra, 1);
    test_rng_init(&rb, 2);
    f->alice = tss_ote_sender_setup_new(K);
    f->bob = tss_ote_receiver_setup_new(K);
    *state = f;
    if (st == NULL || f->alice == NULL || f->bob == NULL ||
        tss_baseot_receiver_start(st, sid, K, &ra.rng, m1) != TSS_OK ||
        tss_baseot_sender_respond(sid, m1, TSS_BASEOT_MSG1_BYTES(K), &rb.rng, m2, f->bob) !=
            TSS_OK ||
        tss_baseot_receiver_finish(st, m2, sizeof m2, f->alice) != TSS_OK)
        return -1;
    tss_baseot_receiver_free(st);
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tss_ote_sender_setup_free(f->alice);
    tss_ote_receiver_setup_free(f->bob);
    free(f);
    return 0;
}

static int bit(const uint8_t *p, size_t i)
{
    return (p[i / 8] >> (i % 8)) & 1;
}

static void make_sid(uint8_t sid[32], uint64_t n)
{
    memset(sid, 0, 32);
    for (int i = 0; i < 8; i++)
        sid[i] = (uint8_t)(n >> (8 * i));
    sid[31] = 0xE7;
}

static void test_correlation_and_outputs(void **state)
{
    fixture *f = *state;
    uint8_t sid[32], beta[TSS_OTE_XI / 8];
    test_rng r;
    test_rng_init(&r, 10);
    make_sid(sid, 10);
    test_rng_bytes(&r, beta, sizeof beta);
    assert_int_equal(tss_ote_receiver_extend_rows(f->bob, sid, beta, &r.rng, f->msg, f->t), TSS_OK);
    assert_int_equal(tss_ote_sender_extend_rows(f->alice, sid, f->msg, MSG_LEN, f->q), TSS_OK);
    for (size_t row = 0; row < TSS_OTE_XI; row++)
        for (size_t i = 0; i < 32; i++) {
            uint8_t d = (uint8_t)(bit(beta, row) ? f->alice->delta[i] : 0);
            assert_int_equal(f->q[row][i], f->t[row][i] ^ d);
            if (i >= K / 8) { /* rows and Δ are κ bits, zero-padded to 32 bytes */
                assert_int_equal(f->t[row][i], 0);
                assert_int_equal(f->q[row][i], 0);
                assert_int_equal(f->alice->delta[i], 0);
            }
        }
    /* the full versions: γ_r = v_{β_r}(r) and differs from v_{1−β_r}(r) */
    assert_int_equal(tss_ote_receiver_extend(f->bob, sid, beta, &r.rng, f->msg, f->g), TSS_OK);
    assert_int_equal(tss_ote_sender_extend(f->alice, sid, f->msg, MSG_LEN, f->v0, f->v1), TSS_OK);
    for (size_t row = 0; row < TSS_OTE_XI; row++)
        for (int k = 0; k < TSS_OTE_SCALARS; k++) {
            const tss_scalar *chosen = bit(beta, row) ? &f->v1[row][k] : &f->v0[row][k];
            const tss_scalar *other = bit(beta, row) ? &f->v0[row][k] : &f->v1[row][k];
            assert_true(tss_scalar_eq(&f->g[row][k], chosen));
            assert_false(tss_scalar_eq(&f->g[row][k], other));
        }
}

static int runs_from_env(void)
{
    const char *v = getenv("MPC_OT_RUNS");
    int n = v ? atoi(v) : DEFAULT_RUNS;
    return n > 0 ? n : DEFAULT_RUNS;
}

static void test_honest_runs_never_abort(void **state)
{
    fixture *f = *state;
    int runs = runs_from_env();
    test_rng r;
    test_rng_init(&r, 11);
    for (int i = 0; i < runs; i++) {
        uint8_t sid[32], beta[TSS_OTE_XI / 8];
        make_sid(sid, 1000000 + (uint64_t)i);
        test_rng_bytes(&r, beta, sizeof beta);
        assert_int_equal(tss_ote_receiver_extend_rows(f->bob, sid, beta, &r.rng, f->msg, f->t),
                         TSS_OK);
        assert_int_equal(tss_ote_sender_extend_rows(f->alice, sid, f->msg, MSG_LEN, f->q), TSS_OK);
    }
}

/* Flips bit `b` of the message at byte offset `off` and expects TSS_ERR_OT_CHECK. */
static void expect_check_fails(fixture *f, const uint8_t sid[32], size_t off, int b)
{
    memcpy(f->tampered, f->msg, MSG_LEN);
    f->tampered[off] ^= (uint8_t)(1u << b);
    assert_int_equal(tss_ote_sender_extend_rows(f->alice, sid, f->tampered, MSG_LEN, f->q),
                     TSS_ERR_OT_CHECK);
}

static void honest_message(fixture *f, uint8_t sid[32], uint64_t n)
{
    uint8_t beta[TSS_OTE_XI / 8];
    test_rng r;
    test_rng_init(&r, n);
    make_sid(sid, n);
    test_rng_bytes(&r, beta, sizeof beta);
    assert_int_equal(tss_ote_receiver_extend_rows(f->bob, sid, beta, &r.rng, f->msg, f->t), TSS_OK);
    assert_int_equal(tss_ote_sender_extend_rows(f->alice, sid, f->msg, MSG_LEN, f->q), TSS_OK);
}

static void test_every_xtilde_bit_checked(void **state)
{
    fixture *f = *state;
    uint8_t sid[32];
    honest_message(f, sid, 12);
    for (size_t i = 0; i < 16; i++)
        for (int b = 0; b < 8; b++)
            expect_check_fails(f, sid, MSG_XT + i, b);
}

static void test_every_ttilde_bit_checked(void **state)
{
    fixture *f = *state;
    uint8_t sid[32];
    honest_message(f, sid, 13);
    for (size_t pos = 0; pos < (size_t)K * 128; pos++)
        expect_check_fails(f, sid, MSG_TT + pos / 8, (int)(pos % 8));
}

static void test_u_bits_checked(void **state)
{
    fixture *f = *state;
    uint8_t sid[32];
    honest_message(f, sid, 14);
    /* every bit of the first and last rows (the β and the ρ columns), then a spread
     * sample: every 13th bit of U (1,575 more positions across all rows and columns) */
    const size_t row = TSS_OTE_ROW_BYTES, last = (K - 1) * row;
    for (size_t i = 0; i < row; i++)
        for (int b = 0; b < 8; b++) {
            expect_check_fails(f, sid, MSG_U + i, b);
            expect_check_fails(f, sid, MSG_U + last + i, b);
        }
    for (size_t pos = 5; pos < (size_t)K * row * 8; pos += 13)
        expect_check_fails(f, sid, MSG_U + pos / 8, (int)(pos % 8));
}

static void test_session_and_length_are_not_bans(void **state)
{
    fixture *f = *state;
    uint8_t sid[32], other[32];
    honest_message(f, sid, 15);
    make_sid(other, 16);
    assert_int_equal(tss_ote_sender_extend_rows(f->alice, other, f->msg, MSG_LEN, f->q),
                     TSS_ERR_SESSION);
    memcpy(f->tampered, f->msg, MSG_LEN);
    f->tampered[0] ^= 1;
    assert_int_equal(tss_ote_sender_extend_rows(f->alice, sid, f->tampered, MSG_LEN, f->q),
                     TSS_ERR_SESSION);
    assert_int_equal(tss_ote_sender_extend_rows(f->alice, sid, f->msg, MSG_LEN - 1, f->q),
                     TSS_ERR_LENGTH);
    assert_int_equal(tss_ote_sender_extend_rows(f->alice, sid, f->msg, 0, f->q), TSS_ERR_LENGTH);
    /* a message of the other κ is a length error, not a check failure */
    assert_int_equal(tss_ote_sender_extend_rows(f->alice, sid, f->msg,
                                                TSS_OTE_MSG_BYTES(K == 128 ? 256 : 128), f->q),
                     TSS_ERR_LENGTH);
    assert_int_equal(tss_ote_sender_extend_rows(f->alice, sid, f->msg, MSG_LEN, f->q), TSS_OK);
}

/* A receiver that runs the extension with the other seed swapped in for one ℓ (a
 * "selective" cheat on one column) is caught. */
static void test_inconsistent_receiver_caught(void **state)
{
    fixture *f = *state;
    uint8_t sid[32], beta[TSS_OTE_XI / 8];
    tss_ote_receiver_setup *bad = tss_ote_receiver_setup_new(K);
    test_rng r;
    test_rng_init(&r, 17);
    make_sid(sid, 17);
    test_rng_bytes(&r, beta, sizeof beta);
    memcpy(bad, f->bob, sizeof *bad);
    bad->seed[42][1][0] ^= 1; /* column 42 now uses a different x */
    assert_int_equal(tss_ote_receiver_extend_rows(bad, sid, beta, &r.rng, f->msg, f->t), TSS_OK);
    int delta42 = bit(f->alice->delta, 42);
    tss_err e = tss_ote_sender_extend_rows(f->alice, sid, f->msg, MSG_LEN, f->q);
    /* Alice uses k^{Δ}: if Δ_42 = 1 she sees the corrupted PRG and the check fails */
    assert_int_equal(e, delta42 ? TSS_ERR_OT_CHECK : TSS_OK);
    tss_ote_receiver_setup_free(bad);
}

/* A setup that was allocated but never filled (all zero) is refused, not used: with Δ = 0
 * Alice's VOLE inputs would travel in the clear. */
static void test_unfilled_setups_refused(void **state)
{
    fixture *f = *state;
    uint8_t sid[32], beta[TSS_OTE_XI / 8] = {0};
    tss_ote_sender_setup *a0 = tss_ote_sender_setup_new(K);
    tss_ote_receiver_setup *b0 = tss_ote_receiver_setup_new(K);
    test_rng r;
    test_rng_init(&r, 18);
    make_sid(sid, 18);
    assert_int_equal(tss_ote_receiver_extend_rows(b0, sid, beta, &r.rng, f->msg, f->t),
                     TSS_ERR_ARG);
    assert_int_equal(tss_ote_receiver_extend_rows(f->bob, sid, beta, &r.rng, f->msg, f->t), TSS_OK);
    assert_int_equal(tss_ote_sender_extend_rows(a0, sid, f->msg, MSG_LEN, f->q), TSS_ERR_ARG);
    /* Δ = 0 with real seeds is refused too */
    memcpy(a0, f->alice, sizeof *a0);
    memset(a0->delta, 0, sizeof a0->delta);
    assert_int_equal(tss_ote_sender_extend_rows(a0, sid, f->msg, MSG_LEN, f->q), TSS_ERR_ARG);
    /* and the decoders refuse the same */
    static uint8_t ea[TSS_OTE_SENDER_SETUP_BYTES(256)], eb[TSS_OTE_RECEIVER_SETUP_BYTES(256)];
    const size_t la = TSS_OTE_SENDER_SETUP_BYTES(K), lb = TSS_OTE_RECEIVER_SETUP_BYTES(K);
    tss_ote_sender_setup_encode(ea, a0);
    assert_int_equal(tss_ote_sender_setup_decode(a0, K, ea, la), TSS_ERR_FORMAT);
    memset(b0, 0, sizeof *b0);
    b0->kappa = (uint16_t)K;
    tss_ote_receiver_setup_encode(eb, b0);
    assert_int_equal(tss_ote_receiver_setup_decode(b0, K, eb, lb), TSS_ERR_FORMAT);
    tss_ote_sender_setup_encode(ea, f->alice);
    assert_int_equal(tss_ote_sender_setup_decode(a0, K, ea, la), TSS_OK);
    /* a setup whose κ is not one the library implements is refused before any work */
    memcpy(a0, f->alice, sizeof *a0);
    a0->kappa = 192;
    assert_int_equal(tss_ote_sender_extend_rows(a0, sid, f->msg, MSG_LEN, f->q), TSS_ERR_ARG);
    memcpy(b0, f->bob, sizeof *b0);
    b0->kappa = 0;
    assert_int_equal(tss_ote_receiver_extend_rows(b0, sid, beta, &r.rng, f->msg, f->t),
                     TSS_ERR_ARG);
    assert_null(tss_ote_sender_setup_new(64));
    tss_ote_sender_setup_free(a0);
    tss_ote_receiver_setup_free(b0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_correlation_and_outputs),
        cmocka_unit_test(test_honest_runs_never_abort),
        cmocka_unit_test(test_every_xtilde_bit_checked),
        cmocka_unit_test(test_every_ttilde_bit_checked),
        cmocka_unit_test(test_u_bits_checked),
        cmocka_unit_test(test_session_and_length_are_not_bans),
        cmocka_unit_test(test_inconsistent_receiver_caught),
        cmocka_unit_test(test_unfilled_setups_refused),
    };
    int failed = 0;
    K = TSS_OTE_KAPPA_DEFAULT;
    failed += cmocka_run_group_tests_name("ote k=128", tests, setup, teardown);
    K = TSS_OTE_KAPPA_V2;
    failed += cmocka_run_group_tests_name("ote k=256", tests, setup, teardown);
    return failed;
}
