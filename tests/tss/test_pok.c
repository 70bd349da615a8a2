/* tests/tss/test_pok.c — Schnorr proofs of knowledge (tss/pok.h) and their contexts: the
 * context layout label || sid || extra, a proof that verifies under its own context,
 * prover and statement, and that fails when any of them, or the proof, is altered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "test_rng.h"
#include "tss/pok.h"

static void test_context_layout(void **state)
{
    (void)state;
    uint8_t sid[32], extra[4] = {0, 0, 0, 7}, ctx[64];
    memset(sid, 0x3C, 32);
    size_t l = tss_pok_context(ctx, "coef", sid, extra, 4);
    assert_int_equal(l, 4 + 32 + 4);
    assert_memory_equal(ctx, "coef", 4);
    assert_memory_equal(ctx + 4, sid, 32);
    assert_memory_equal(ctx + 36, extra, 4);
    memset(ctx, 0xEE, sizeof ctx);
    l = tss_pok_context(ctx, "reshare/share", sid, NULL, 0);
    assert_int_equal(l, 13 + 32);
    assert_memory_equal(ctx, "reshare/share", 13);
    assert_memory_equal(ctx + 13, sid, 32);
    assert_int_equal(ctx[45], 0xEE); /* nothing written past the length */
}

static void test_prove_verify_tamper(void **state)
{
    (void)state;
    test_rng r;
    test_rng_init(&r, 5);
    uint8_t sid[32], ctx[64], other[64], proof[TSS_POK_BYTES];
    memset(sid, 0x21, 32);
    tss_scalar x;
    tss_point X, Y;
    assert_int_equal(tss_rand_scalar(&x, &r.rng), TSS_OK);
    assert_int_equal(tss_point_base_mul(&X, &x), TSS_OK);
    size_t cl = tss_pok_context(ctx, "share", sid, NULL, 0);
    assert_int_equal(tss_pok_prove(proof, &x, &X, ctx, cl, 3, &r.rng), TSS_OK);
    assert_int_equal(tss_pok_verify(proof, &X, ctx, cl, 3), TSS_OK);
    /* another prover, label, sid or statement */
    assert_int_equal(tss_pok_verify(proof, &X, ctx, cl, 4), TSS_ERR_PROOF);
    size_t ol = tss_pok_context(other, "coef!", sid, NULL, 0);
    assert_int_equal(tss_pok_verify(proof, &X, other, ol, 3), TSS_ERR_PROOF);
    sid[31] ^= 1;
    ol = tss_pok_context(other, "share", sid, NULL, 0);
    assert_int_equal(tss_pok_verify(proof, &X, other, ol, 3), TSS_ERR_PROOF);
    assert_int_equal(tss_point_add(&Y, &X, &X), TSS_OK);
    assert_int_equal(tss_pok_verify(proof, &Y, ctx, cl, 3), TSS_ERR_PROOF);
    /* an altered proof, in R and in z */
    proof[40] ^= 0x01;
    assert_int_equal(tss_pok_verify(proof, &X, ctx, cl, 3), TSS_ERR_PROOF);
    proof[40] ^= 0x01;
    proof[10] ^= 0x01;
    assert_int_equal(tss_pok_verify(proof, &X, ctx, cl, 3), TSS_ERR_PROOF);
    proof[10] ^= 0x01;
    assert_int_equal(tss_pok_verify(proof, &X, ctx, cl, 3), TSS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_context_layout),
        cmocka_unit_test(test_prove_verify_tamper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
