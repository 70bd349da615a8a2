/* tests/tss/test_point.c — tss_point: algebra, infinity handling, strict parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "test_rng.h"
#include "tss/point.h"

static const uint8_t G_COMPRESSED[33] = {0x02, 0x79, 0xBE, 0x66, 0x7E, 0xF9, 0xDC, 0xBB, 0xAC,
                                         0x55, 0xA0, 0x62, 0x95, 0xCE, 0x87, 0x0B, 0x07, 0x02,
                                         0x9B, 0xFC, 0xDB, 0x2D, 0xCE, 0x28, 0xD9, 0x59, 0xF2,
                                         0x81, 0x5B, 0x16, 0xF8, 0x17, 0x98};
/* 2G */
static const uint8_t G2_COMPRESSED[33] = {0x02, 0xC6, 0x04, 0x7F, 0x94, 0x41, 0xED, 0x7D, 0x6D,
                                          0x30, 0x45, 0x40, 0x6E, 0x95, 0xC0, 0x7C, 0xD8, 0x5C,
                                          0x77, 0x8E, 0x4B, 0x8C, 0xEF, 0x3C, 0xA7, 0xAB, 0xAC,
                                          0x09, 0xB9, 0x5C, 0x70, 0x9E, 0xE5};

static void random_scalar(test_rng *r, tss_scalar *s)
{
    uint8_t b[64];
    test_rng_bytes(r, b, 64);
    tss_scalar_reduce64(s, b);
}

static void test_known_points(void **state)
{
    (void)state;
    tss_scalar one, two;
    tss_point p, q;
    uint8_t out[33];
    tss_scalar_set_u64(&one, 1);
    tss_scalar_set_u64(&two, 2);
    assert_int_equal(tss_point_base_mul(&p, &one), TSS_OK);
    tss_point_serialize(out, &p);
    assert_memory_equal(out, G_COMPRESSED, 33);
    assert_int_equal(tss_point_base_mul(&q, &two), TSS_OK);
    tss_point_serialize(out, &q);
    assert_memory_equal(out, G2_COMPRESSED, 33);
    assert_int_equal(tss_point_add(&p, &p, &p), TSS_OK);
    assert_true(tss_point_eq(&p, &q));
}

static void test_algebra(void **state)
{
    (void)state;
    test_rng r;
    test_rng_init(&r, 11);
    for (int i = 0; i < 200; i++) {
        tss_scalar a, b, ab, apb;
        tss_point A, B, AB, ApB, t;
        random_scalar(&r, &a);
        random_scalar(&r, &b);
        tss_scalar_mul(&ab, &a, &b);
        tss_scalar_add(&apb, &a, &b);
        assert_int_equal(tss_point_base_mul(&A, &a), TSS_OK);
        assert_int_equal(tss_point_base_mul(&B, &b), TSS_OK);
        /* b*(a*G) == (ab)*G, by both multiplications */
        assert_int_equal(tss_point_mul(&t, &A, &b), TSS_OK);
        assert_int_equal(tss_point_base_mul(&AB, &ab), TSS_OK);
        assert_true(tss_point_eq(&t, &AB));
        assert_int_equal(tss_point_mul_secret(&t, &A, &b), TSS_OK);
        assert_true(tss_point_eq(&t, &AB));
        /* a*G + b*G == (a+b)*G, also via sum */
        assert_int_equal(tss_point_add(&t, &A, &B), TSS_OK);
        assert_int_equal(tss_point_base_mul(&ApB, &apb), TSS_OK);
        assert_true(tss_point_eq(&t, &ApB));
        tss_point both[2] = {A, B};
        assert_int_equal(tss_point_sum(&t, both, 2), TSS_OK);
        assert_true(tss_point_eq(&t, &ApB));
        /* round trip */
        uint8_t enc[33];
        tss_point_serialize(enc, &A);
        assert_int_equal(tss_point_parse(&t, enc), TSS_OK);
        assert_true(tss_point_eq(&t, &A));
    }
}

static void test_infinity_is_an_error(void **state)
{
    (void)state;
    tss_scalar zero, x;
    tss_point p, np, out;
    tss_scalar_set_u64(&zero, 0);
    tss_scalar_set_u64(&x, 12345);
    assert_int_equal(tss_point_base_mul(&out, &zero), TSS_ERR_INFINITY);
    assert_int_equal(tss_point_base_mul(&p, &x), TSS_OK);
    assert_int_equal(tss_point_mul(&out, &p, &zero), TSS_ERR_INFINITY);
    assert_int_equal(tss_point_mul_secret(&out, &p, &zero), TSS_ERR_INFINITY);
    tss_point_negate(&np, &p);
    assert_false(tss_point_eq(&np, &p));
    assert_int_equal(tss_point_add(&out, &p, &np), TSS_ERR_INFINITY);
    tss_point three[3] = {p, np, p};
    assert_int_equal(tss_point_sum(&out, three, 3), TSS_OK); /* only the total matters */
    assert_true(tss_point_eq(&out, &p));
    tss_point two[2] = {p, np};
    assert_int_equal(tss_point_sum(&out, two, 2), TSS_ERR_INFINITY);
    assert_int_equal(tss_point_sum(&out, two, 0), TSS_ERR_ARG);
    assert_int_equal(tss_point_sum(&out, two, TSS_POINT_SUM_MAX + 1), TSS_ERR_ARG);
    /* (n-1)*P == -P */
    uint8_t nm1[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                       0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48,
                       0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x40};
    tss_scalar m1;
    assert_int_equal(tss_scalar_parse(&m1, nm1), TSS_OK);
    assert_int_equal(tss_point_mul(&out, &p, &m1), TSS_OK);
    assert_true(tss_point_eq(&out, &np));
}

static void test_strict_parse(void **state)
{
    (void)state;
    tss_point p;
    uint8_t b[33];
    memcpy(b, G_COMPRESSED, 33);
    assert_int_equal(tss_point_parse(&p, b), TSS_OK);
    /* wrong prefixes: uncompressed / hybrid / infinity / garbage */
    const uint8_t bad_prefix[] = {0x00, 0x01, 0x04, 0x05, 0x06, 0x07, 0xFF};
    for (size_t i = 0; i < sizeof bad_prefix; i++) {
        b[0] = bad_prefix[i];
        assert_int_equal(tss_point_parse(&p, b), TSS_ERR_POINT);
    }
    /* all zero (an encoding some libraries use for infinity) */
    memset(b, 0, 33);
    assert_int_equal(tss_point_parse(&p, b), TSS_ERR_POINT);
    /* x >= p (field prime): non-canonical */
    memset(b, 0xFF, 33);
    b[0] = 0x02;
    assert_int_equal(tss_point_parse(&p, b), TSS_ERR_POINT);
    /* x = p + 1 with G's small-x sibling trick: x = 2^256 - 2^32 - 977 + 1 (= p + 1) */
    static const uint8_t p_plus_1[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                         0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                         0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                         0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFC, 0x30};
    b[0] = 0x02;
    memcpy(b + 1, p_plus_1, 32);
    assert_int_equal(tss_point_parse(&p, b), TSS_ERR_POINT);
    /* off-curve: x = 5 has no y on secp256k1 (x^3 + 7 = 132 is a non-residue) */
    memset(b, 0, 33);
    b[0] = 0x02;
    b[32] = 5;
    assert_int_equal(tss_point_parse(&p, b), TSS_ERR_POINT);
}

static int failing_fill(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx, (void)out, (void)len;
    return -1;
}

/* The Gamma check against the direct computation: random equal cases pass, a Gamma off
 * by any point fails, d = 0 counts as a failure (documented), a failing generator is
 * TSS_ERR_RAND and never "unequal". */
static void test_mul_eq_check(void **state)
{
    (void)state;
    test_rng r;
    test_rng_init(&r, 31);
    for (int i = 0; i < 64; i++) {
        uint8_t w[64];
        tss_scalar x, chi, d;
        tss_point X, cX, dG, Gamma, bad;
        test_rng_bytes(&r, w, 64);
        tss_scalar_reduce64(&x, w);
        test_rng_bytes(&r, w, 64);
        tss_scalar_reduce64(&chi, w);
        test_rng_bytes(&r, w, 64);
        tss_scalar_reduce64(&d, w);
        assert_int_equal(tss_point_base_mul(&X, &x), TSS_OK);
        assert_int_equal(tss_point_mul(&cX, &X, &chi), TSS_OK);
        assert_int_equal(tss_point_base_mul(&dG, &d), TSS_OK);
        tss_point_negate(&dG, &dG);
        assert_int_equal(tss_point_add(&Gamma, &cX, &dG), TSS_OK); /* chi*X - d*G */
        int eq = -1;
        assert_int_equal(tss_point_mul_eq_check(&eq, &X, &chi, &Gamma, &d, &r.rng), TSS_OK);
        assert_int_equal(eq, 1);
        assert_int_equal(tss_point_add(&bad, &Gamma, &X), TSS_OK);
        assert_int_equal(tss_point_mul_eq_check(&eq, &X, &chi, &bad, &d, &r.rng), TSS_OK);
        assert_int_equal(eq, 0);
        assert_int_equal(tss_point_mul_eq_check(&eq, &bad, &chi, &Gamma, &d, &r.rng), TSS_OK);
        assert_int_equal(eq, 0);
        /* d = 0 with Gamma = chi*X: mathematically equal, reported unequal (2^-256) */
        tss_scalar zero;
        tss_scalar_set_u64(&zero, 0);
        assert_int_equal(tss_point_mul_eq_check(&eq, &X, &chi, &cX, &zero, &r.rng), TSS_OK);
        assert_int_equal(eq, 0);
        tss_rng broken = {failing_fill, NULL};
        eq = -1;
        assert_int_equal(tss_point_mul_eq_check(&eq, &X, &chi, &Gamma, &d, &broken), TSS_ERR_RAND);
        assert_int_equal(eq, 0);
    }
}

/* The folded pair of checks: passes exactly when both equations hold. Tampering with
 * either Gamma, or swapping the two d values, fails it; a failing rng is TSS_ERR_RAND. */
static void test_mul_eq_check2(void **state)
{
    (void)state;
    test_rng r;
    test_rng_init(&r, 37);
    for (int i = 0; i < 64; i++) {
        uint8_t w[64];
        tss_scalar x[2], chi, d[2], dswap[2];
        tss_point X[2], G[2], bad[2];
        test_rng_bytes(&r, w, 64);
        tss_scalar_reduce64(&chi, w);
        for (int k = 0; k < 2; k++) {
            tss_point cX, dG;
            test_rng_bytes(&r, w, 64);
            tss_scalar_reduce64(&x[k], w);
            test_rng_bytes(&r, w, 64);
            tss_scalar_reduce64(&d[k], w);
            assert_int_equal(tss_point_base_mul(&X[k], &x[k]), TSS_OK);
            assert_int_equal(tss_point_mul(&cX, &X[k], &chi), TSS_OK);
            assert_int_equal(tss_point_base_mul(&dG, &d[k]), TSS_OK);
            tss_point_negate(&dG, &dG);
            assert_int_equal(tss_point_add(&G[k], &cX, &dG), TSS_OK);
        }
        int eq = -1;
        assert_int_equal(tss_point_mul_eq_check2(&eq, X, &chi, G, d, &r.rng), TSS_OK);
        assert_int_equal(eq, 1);
        for (int k = 0; k < 2; k++) {
            bad[0] = G[0], bad[1] = G[1];
            assert_int_equal(tss_point_add(&bad[k], &G[k], &X[0]), TSS_OK);
            assert_int_equal(tss_point_mul_eq_check2(&eq, X, &chi, bad, d, &r.rng), TSS_OK);
            assert_int_equal(eq, 0);
        }
        dswap[0] = d[1], dswap[1] = d[0];
        assert_int_equal(tss_point_mul_eq_check2(&eq, X, &chi, G, dswap, &r.rng), TSS_OK);
        assert_int_equal(eq, 0);
        /* the same point twice (X[0] + e*X[1] never infinity here) */
        tss_point XX[2] = {X[0], X[0]}, GG[2] = {G[0], G[0]};
        tss_scalar dd[2] = {d[0], d[0]};
        assert_int_equal(tss_point_mul_eq_check2(&eq, XX, &chi, GG, dd, &r.rng), TSS_OK);
        assert_int_equal(eq, 1);
        tss_rng broken = {failing_fill, NULL};
        eq = -1;
        assert_int_equal(tss_point_mul_eq_check2(&eq, X, &chi, G, d, &broken), TSS_ERR_RAND);
        assert_int_equal(eq, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_points),         cmocka_unit_test(test_algebra),
        cmocka_unit_test(test_infinity_is_an_error), cmocka_unit_test(test_strict_parse),
        cmocka_unit_test(test_mul_eq_check),         cmocka_unit_test(test_mul_eq_check2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
