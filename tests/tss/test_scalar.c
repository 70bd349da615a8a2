/* tests/tss/test_scalar.c — tss_scalar against OpenSSL BN on random and edge vectors.
 * MPC_TEST_VECTORS sets the number of random vectors per operation (default 1,000,000). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>

#include "test_rng.h"
#include "tss/scalar.h"

static BIGNUM *N;
static BN_CTX *bnctx;

static const uint8_t N_BYTES[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41};

static long vectors(void)
{
    const char *v = getenv("MPC_TEST_VECTORS");
    long n = v ? strtol(v, NULL, 10) : 1000000;
    return n > 0 ? n : 1000000;
}

static int setup(void **state)
{
    (void)state;
    N = BN_bin2bn(N_BYTES, 32, NULL);
    bnctx = BN_CTX_new();
    return N && bnctx ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    BN_free(N);
    BN_CTX_free(bnctx);
    return 0;
}

/* Random 32 bytes shaped to reach carry and reduction edges: uniform, near n, near 2^256,
 * limbs forced to all-ones or zero. */
static void edge_random(test_rng *r, uint8_t out[32])
{
    uint8_t mode;
    test_rng_bytes(r, &mode, 1);
    test_rng_bytes(r, out, 32);
    switch (mode % 8) {
    case 0: /* n + small delta (either side) */
        memcpy(out, N_BYTES, 30);
        break;
    case 1: /* near 2^256 */
        memset(out, 0xFF, 28);
        break;
    case 2: /* small */
        memset(out, 0, 28);
        break;
    case 3: /* random limbs forced to extremes */
        for (int i = 0; i < 4; i++)
            if (out[i] & 1)
                memset(out + 8 * i, (out[i] & 2) ? 0xFF : 0x00, 8);
        break;
    default:
        break;
    }
}

/* expect == BN (mod n, reduced) */
static void check_eq_bn(const tss_scalar *s, const BIGNUM *expect)
{
    uint8_t got[32], want[32];
    tss_scalar_serialize(got, s);
    assert_int_equal(BN_bn2binpad(expect, want, 32), 32);
    assert_memory_equal(got, want, 32);
}

static void load_both(test_rng *r, tss_scalar *s, BIGNUM *b)
{
    uint8_t buf[32];
    edge_random(r, buf);
    tss_scalar_reduce32(s, buf);
    BN_bin2bn(buf, 32, b);
    BN_nnmod(b, b, N, bnctx);
}

static void test_parse_and_reduce(void **state)
{
    (void)state;
    test_rng r;
    test_rng_init(&r, 1);
    BIGNUM *b = BN_new();
    long n = vectors();
    for (long i = 0; i < n; i++) {
        uint8_t buf[64];
        tss_scalar s;
        edge_random(&r, buf);
        BN_bin2bn(buf, 32, b);
        int below = BN_cmp(b, N) < 0;
        tss_err e = tss_scalar_parse(&s, buf);
        assert_int_equal(e, below ? TSS_OK : TSS_ERR_RANGE);
        BN_nnmod(b, b, N, bnctx);
        check_eq_bn(&s, b);
        tss_scalar_reduce32(&s, buf);
        check_eq_bn(&s, b);
        /* round trip of a reduced value */
        if (below) {
            uint8_t out[32];
            tss_scalar_serialize(out, &s);
            assert_memory_equal(out, buf, 32);
        }
        edge_random(&r, buf + 32);
        BN_bin2bn(buf, 64, b);
        BN_nnmod(b, b, N, bnctx);
        tss_scalar_reduce64(&s, buf);
        check_eq_bn(&s, b);
    }
    BN_free(b);
}

typedef enum { OP_ADD, OP_SUB, OP_MUL, OP_NEG, OP_INV } op_kind;

static void run_op(op_kind op, uint64_t seed)
{
    test_rng r;
    test_rng_init(&r, seed);
    BIGNUM *a = BN_new(), *b = BN_new(), *e = BN_new();
    long n = vectors();
    for (long i = 0; i < n; i++) {
        tss_scalar sa, sb, sr;
        load_both(&r, &sa, a);
        load_both(&r, &sb, b);
        switch (op) {
        case OP_ADD:
            tss_scalar_add(&sr, &sa, &sb);
            BN_mod_add(e, a, b, N, bnctx);
            break;
        case OP_SUB:
            tss_scalar_sub(&sr, &sa, &sb);
            BN_mod_sub(e, a, b, N, bnctx);
            break;
        case OP_MUL:
            tss_scalar_mul(&sr, &sa, &sb);
            BN_mod_mul(e, a, b, N, bnctx);
            break;
        case OP_NEG:
            tss_scalar_negate(&sr, &sa);
            BN_mod_sub(e, N, a, N, bnctx);
            break;
        case OP_INV:
            tss_scalar_inverse(&sr, &sa);
            if (BN_is_zero(a))
                BN_zero(e);
            else
                assert_non_null(BN_mod_inverse(e, a, N, bnctx));
            break;
        }
        check_eq_bn(&sr, e);
        /* aliasing: result written over an input */
        if (op == OP_MUL) {
            tss_scalar_mul(&sa, &sa, &sb);
            check_eq_bn(&sa, e);
        }
    }
    BN_free(a);
    BN_free(b);
    BN_free(e);
}

static void test_add(void **state)
{
    (void)state;
    run_op(OP_ADD, 2);
}
static void test_sub(void **state)
{
    (void)state;
    run_op(OP_SUB, 3);
}
static void test_mul(void **state)
{
    (void)state;
    run_op(OP_MUL, 4);
}
static void test_neg(void **state)
{
    (void)state;
    run_op(OP_NEG, 5);
}
static void test_inv(void **state)
{
    (void)state;
    run_op(OP_INV, 6);
}

/* tss_scalar_from_candidates == parse both, take the second when the first is >= n;
 * random and edge-shaped candidates (n, n - 1, all ones, zero appear among them). */
static void test_from_candidates(void **state)
{
    (void)state;
    test_rng r;
    test_rng_init(&r, 9);
    long rounds = vectors() / 10 + 100;
    for (long i = 0; i < rounds; i++) {
        uint8_t c[64];
        tss_scalar got, want, second;
        edge_random(&r, c);
        edge_random(&r, c + 32);
        if (i % 4 == 1)
            memcpy(c, N_BYTES, 32);
        if (i % 8 == 3)
            memset(c, 0xFF, 32);
        if (i % 16 == 5)
            memcpy(c + 32, N_BYTES, 32);
        int bad = tss_scalar_parse(&want, c) != TSS_OK;
        (void)tss_scalar_parse(&second, c + 32);
        tss_scalar_cmov(&want, &second, bad);
        tss_scalar_from_candidates(&got, c);
        assert_true(tss_scalar_eq(&got, &want));
    }
}

/* Every pair of edge values, every operation. */
static void test_edges(void **state)
{
    (void)state;
    uint8_t edges[10][32];
    memset(edges, 0, sizeof edges);
    edges[1][31] = 1;              /* 1 */
    memcpy(edges[2], N_BYTES, 32); /* n - 1 */
    edges[2][31] -= 1;
    memcpy(edges[3], N_BYTES, 32); /* n - 2 */
    edges[3][31] -= 2;
    memcpy(edges[4], N_BYTES, 32); /* n: parses as 0 with TSS_ERR_RANGE */
    memcpy(edges[5], N_BYTES, 32); /* n + 1 */
    edges[5][31] += 1;
    memset(edges[6], 0xFF, 32);    /* 2^256 - 1 */
    edges[7][16] = 0x80;           /* 2^127 */
    memcpy(edges[8], N_BYTES, 32); /* (n-1)/2 */
    BIGNUM *h = BN_bin2bn(N_BYTES, 32, NULL);
    BN_rshift1(h, h);
    BN_bn2binpad(h, edges[8], 32);
    BN_free(h);
    memset(edges[9], 0xFF, 16); /* 2^256 - 2^128 ... just over n's high half */

    tss_scalar s;
    assert_int_equal(tss_scalar_parse(&s, edges[4]), TSS_ERR_RANGE);
    assert_true(tss_scalar_is_zero(&s));
    assert_int_equal(tss_scalar_parse(&s, edges[5]), TSS_ERR_RANGE);
    assert_int_equal(tss_scalar_parse(&s, edges[6]), TSS_ERR_RANGE);
    assert_int_equal(tss_scalar_parse(&s, edges[2]), TSS_OK);

    BIGNUM *a = BN_new(), *b = BN_new(), *e = BN_new();
    for (int i = 0; i < 10; i++) {
        for (int j = 0; j < 10; j++) {
            tss_scalar sa, sb, sr;
            tss_scalar_reduce32(&sa, edges[i]);
            tss_scalar_reduce32(&sb, edges[j]);
            BN_bin2bn(edges[i], 32, a);
            BN_nnmod(a, a, N, bnctx);
            BN_bin2bn(edges[j], 32, b);
            BN_nnmod(b, b, N, bnctx);
            tss_scalar_add(&sr, &sa, &sb);
            BN_mod_add(e, a, b, N, bnctx);
            check_eq_bn(&sr, e);
            tss_scalar_sub(&sr, &sa, &sb);
            BN_mod_sub(e, a, b, N, bnctx);
            check_eq_bn(&sr, e);
            tss_scalar_mul(&sr, &sa, &sb);
            BN_mod_mul(e, a, b, N, bnctx);
            check_eq_bn(&sr, e);
            uint8_t wide[64];
            memcpy(wide, edges[i], 32);
            memcpy(wide + 32, edges[j], 32);
            tss_scalar_reduce64(&sr, wide);
            BN_bin2bn(wide, 64, e);
            BN_nnmod(e, e, N, bnctx);
            check_eq_bn(&sr, e);
        }
    }
    /* the largest 512-bit value */
    uint8_t ones[64];
    memset(ones, 0xFF, 64);
    tss_scalar_reduce64(&s, ones);
    BN_bin2bn(ones, 64, e);
    BN_nnmod(e, e, N, bnctx);
    check_eq_bn(&s, e);
    BN_free(a);
    BN_free(b);
    BN_free(e);
}

static void test_flags_and_cmov(void **state)
{
    (void)state;
    tss_scalar z, one, x, y;
    tss_scalar_set_u64(&z, 0);
    tss_scalar_set_u64(&one, 1);
    assert_int_equal(tss_scalar_is_zero(&z), 1);
    assert_int_equal(tss_scalar_is_zero(&one), 0);
    assert_int_equal(tss_scalar_eq(&one, &one), 1);
    assert_int_equal(tss_scalar_eq(&one, &z), 0);
    x = z;
    tss_scalar_cmov(&x, &one, 0);
    assert_int_equal(tss_scalar_eq(&x, &z), 1);
    tss_scalar_cmov(&x, &one, 1);
    assert_int_equal(tss_scalar_eq(&x, &one), 1);
    /* a * a^-1 == 1, -a + a == 0 */
    tss_scalar_set_u64(&x, 0xDEADBEEF);
    tss_scalar_inverse(&y, &x);
    tss_scalar_mul(&y, &y, &x);
    assert_int_equal(tss_scalar_eq(&y, &one), 1);
    tss_scalar_negate(&y, &x);
    tss_scalar_add(&y, &y, &x);
    assert_int_equal(tss_scalar_is_zero(&y), 1);
    tss_scalar_inverse(&y, &z);
    assert_int_equal(tss_scalar_is_zero(&y), 1);
    tss_scalar_clear(&x);
    assert_int_equal(tss_scalar_is_zero(&x), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_flags_and_cmov),
        cmocka_unit_test(test_parse_and_reduce),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_sub),
        cmocka_unit_test(test_mul),
        cmocka_unit_test(test_neg),
        cmocka_unit_test(test_inv),
        cmocka_unit_test(test_from_candidates),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
