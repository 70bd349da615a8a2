/* tests/tss/test_vss.c — Feldman VSS (tss/vss.h): polynomial evaluation against a direct
 * sum of powers, the committed polynomial against f(x)*G, and the share check: it accepts
 * honest shares and rejects a tampered share, a share for another x, a tampered
 * commitment, a zero share and an identity commitment value (TOB-SILA-3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_rng.h"
#include "tss/vss.h"

#define TMAX 32

/* sum_k coef[k] * x^k with every power computed from scratch (independent of Horner). */
static void direct_eval(tss_scalar *out, const tss_scalar *coef, int t, uint16_t x)
{
    tss_scalar xs, term, acc;
    tss_scalar_set_u64(&xs, x);
    acc = coef[0];
    for (int k = 1; k < t; k++) {
        term = coef[k];
        for (int e = 0; e < k; e++)
            tss_scalar_mul(&term, &term, &xs);
        tss_scalar_add(&acc, &acc, &term);
    }
    *out = acc;
}

/* A random dealing of degree t - 1: coefficients and their commitments. */
static void deal(test_rng *r, tss_scalar *coef, tss_point *A, int t)
{
    for (int k = 0; k < t; k++) {
        assert_int_equal(tss_rand_scalar(&coef[k], &r->rng), TSS_OK);
        assert_int_equal(tss_point_base_mul(&A[k], &coef[k]), TSS_OK);
    }
}

static void test_eval_and_commitments(void **state)
{
    (void)state;
    static const int ts[] = {1, 2, 3, 5, TMAX};
    static const uint16_t xs[] = {1, 2, 7, 32, 65535};
    test_rng r;
    test_rng_init(&r, 1);
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        tss_scalar coef[TMAX], got, want;
        tss_point A[TMAX], P, Q;
        deal(&r, coef, A, ts[i]);
        for (size_t k = 0; k < sizeof xs / sizeof xs[0]; k++) {
            tss_vss_eval(&got, coef, (uint8_t)ts[i], xs[k]);
            direct_eval(&want, coef, ts[i], xs[k]);
            assert_true(tss_scalar_eq(&got, &want));
            assert_int_equal(tss_vss_commit_eval(&P, A, (uint8_t)ts[i], xs[k]), TSS_OK);
            assert_int_equal(tss_point_base_mul(&Q, &got), TSS_OK);
            assert_true(tss_point_eq(&P, &Q));
            assert_int_equal(tss_vss_share_ok(A, (uint8_t)ts[i], xs[k], &got), 1);
        }
    }
}

static void test_share_check_rejects(void **state)
{
    (void)state;
    test_rng r;
    test_rng_init(&r, 2);
    tss_scalar coef[3], share, bad, one, zero;
    tss_point A[3], saved;
    deal(&r, coef, A, 3);
    tss_vss_eval(&share, coef, 3, 4);
    assert_int_equal(tss_vss_share_ok(A, 3, 4, &share), 1);
    /* a tampered share */
    tss_scalar_set_u64(&one, 1);
    tss_scalar_add(&bad, &share, &one);
    assert_int_equal(tss_vss_share_ok(A, 3, 4, &bad), 0);
    /* the right share checked at another x */
    assert_int_equal(tss_vss_share_ok(A, 3, 5, &share), 0);
    /* a tampered commitment, in each position */
    for (int k = 0; k < 3; k++) {
        saved = A[k];
        assert_int_equal(tss_point_add(&A[k], &A[k], &A[(k + 1) % 3]), TSS_OK);
        assert_int_equal(tss_vss_share_ok(A, 3, 4, &share), 0);
        A[k] = saved;
    }
    assert_int_equal(tss_vss_share_ok(A, 3, 4, &share), 1);
    /* a zero share (no 33-byte point to compare): rejected, no crash */
    tss_scalar_set_u64(&zero, 0);
    assert_int_equal(tss_vss_share_ok(A, 3, 4, &zero), 0);
}

/* Commitments whose value at x is the identity: A_1 = -A_0 at x = 1. The check fails and
 * the evaluation reports TSS_ERR_INFINITY instead of crashing (TOB-SILA-3). */
static void test_identity_commitment(void **state)
{
    (void)state;
    test_rng r;
    test_rng_init(&r, 3);
    tss_scalar coef[2], share;
    tss_point A[2], P;
    deal(&r, coef, A, 2);
    tss_point_negate(&A[1], &A[0]);
    assert_int_equal(tss_vss_commit_eval(&P, A, 2, 1), TSS_ERR_INFINITY);
    tss_scalar_set_u64(&share, 1);
    assert_int_equal(tss_vss_share_ok(A, 2, 1, &share), 0);
    assert_int_equal(tss_vss_share_ok(A, 2, 1, &coef[0]), 0);
    /* the same commitments at x = 2 are a valid dealing of f(x) = a_0 - a_0 x */
    tss_scalar_negate(&coef[1], &coef[0]);
    tss_vss_eval(&share, coef, 2, 2);
    assert_int_equal(tss_vss_share_ok(A, 2, 2, &share), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_and_commitments),
        cmocka_unit_test(test_share_check_rejects),
        cmocka_unit_test(test_identity_commitment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
