/* tests/tss/ct_scalar.c — constant-time check of the scalar module, the secret point
 * multiplications, the signing Gamma check and the polynomial / Lagrange arithmetic the
 * DKG and signing do on secrets, under Valgrind Memcheck (ctgrind style): inputs are
 * marked undefined, and any branch or memory index that depends on them is counted as an
 * error. Every operation below must produce exactly 0. The Gamma check
 * (tss_point_mul_eq_check) may declassify only what it declares public, through the
 * library's declassify hook: the blinded points and its verdict; its blinding scalar
 * comes from a generator whose output is secret. A control runs the former, direct
 * formulation (chi*X and d*G through libsecp256k1's variable-time parse / add / compare)
 * and must show errors, so the harness demonstrably sees that leak. (Results such as
 * tss_scalar_is_zero are data; branching on them is the caller's decision.) libsecp256k1's own
 * declassification of public outputs (the point from ecmult_gen / ecmult_const) is excluded by
 * marking results public before they are compared. Outside Valgrind it exits 0 with a notice. */
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include <secp256k1_ecdh.h>

#include "tss/point.h"
#include "tss/scalar.h"
#include "tss/secmem.h"
#include "tss/vss.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED(p, n)
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED(p, n)

static int failures;

static void expect_zero(const char *what, unsigned long before)
{
    unsigned long got = (unsigned long)VALGRIND_COUNT_ERRORS - before;
    printf("%-40s %lu secret-dependent branch(es)\n", what, got);
    if (got != 0)
        failures++;
}

static void fill(uint8_t *b, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(((seed + i) * 0x9E3779B97F4A7C15ULL) >> 56);
}

/* ECDH hash callback that returns the product and marks it public, as the contract of
 * tss_point_mul_secret treats it. */
static int declassify_point(unsigned char *out, const unsigned char *x32, const unsigned char *y32,
                            void *data)
{
    (void)data;
    PUBLIC(x32, 32);
    PUBLIC(y32, 32);
    out[0] = (unsigned char)(0x02 | (y32[31] & 1));
    memcpy(out + 1, x32, 32);
    return 1;
}

static void ecdh_part(const tss_point *p, const tss_scalar *s)
{
    uint8_t sk[32];
    uint8_t shared[33];
    tss_scalar_serialize(sk, s);
    int ok = secp256k1_ecdh(tss_secp_ctx(), shared, &p->pk, sk, declassify_point, NULL);
    PUBLIC(&ok, sizeof ok); /* a zero scalar is a public error */
}

/* The library's declassify hook (tss_point_set_declassify): what it makes public is
 * defined from then on. */
static void declassify_hook(const void *p, size_t n)
{
    PUBLIC(p, n);
}

/* A generator whose output is secret (the Gamma check's blinding scalar). */
static int secret_fill(void *ctx, uint8_t *out, size_t len)
{
    uint64_t *ctr = ctx;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(((*ctr)++ * 0x9E3779B97F4A7C15ULL) >> 56);
    SECRET(out, len);
    return 0;
}

/* The former direct Gamma check, for the control: chi*X == Gamma + d*G with the secret
 * products in variable-time code. */
static int gamma_direct(const tss_point *X, const tss_scalar *chi, const tss_point *Gamma,
                        const tss_scalar *d)
{
    tss_point lhs, dG, rhs;
    tss_err e1 = tss_point_mul_secret(&lhs, X, chi), e2 = tss_point_base_mul(&dG, d);
    PUBLIC(&e1, sizeof e1);
    PUBLIC(&e2, sizeof e2);
    if (e1 != TSS_OK || e2 != TSS_OK || tss_point_add(&rhs, Gamma, &dG) != TSS_OK)
        return 0;
    return tss_point_eq(&lhs, &rhs);
}

int main(void)
{
    if (!RUNNING_ON_VALGRIND) {
        printf("ct_scalar: not under Valgrind, nothing checked (ctest runs it under valgrind)\n");
        return 0;
    }
    uint8_t in[64], out[32];
    tss_scalar a, b, r;
    tss_point G1, P;
    fill(in, sizeof in, 1);
    tss_scalar_reduce64(&a, in);
    fill(in, sizeof in, 2);
    tss_scalar_reduce64(&b, in);
    tss_scalar_set_u64(&r, 1);
    if (tss_point_base_mul(&G1, &r) != TSS_OK)
        return 1;

    unsigned long e;
#define CHECK(name, stmt)                                                                          \
    do {                                                                                           \
        SECRET(&a, sizeof a);                                                                      \
        SECRET(&b, sizeof b);                                                                      \
        SECRET(in, sizeof in);                                                                     \
        e = (unsigned long)VALGRIND_COUNT_ERRORS;                                                  \
        stmt;                                                                                      \
        expect_zero(name, e);                                                                      \
        PUBLIC(&a, sizeof a);                                                                      \
        PUBLIC(&b, sizeof b);                                                                      \
        PUBLIC(in, sizeof in);                                                                     \
    } while (0)
    CHECK("scalar_reduce32", tss_scalar_reduce32(&r, in));
    CHECK("scalar_from_candidates", tss_scalar_from_candidates(&r, in));
    CHECK("scalar_reduce64", tss_scalar_reduce64(&r, in));
    CHECK("scalar_parse (result is data)", {
        tss_err pe = tss_scalar_parse(&r, in);
        PUBLIC(&pe, sizeof pe); /* in range or not: the caller's public verdict */
    });
    CHECK("scalar_serialize", tss_scalar_serialize(out, &a));
    CHECK("scalar_add", tss_scalar_add(&r, &a, &b));
    CHECK("scalar_sub", tss_scalar_sub(&r, &a, &b));
    CHECK("scalar_negate", tss_scalar_negate(&r, &a));
    CHECK("scalar_mul", tss_scalar_mul(&r, &a, &b));
    CHECK("scalar_inverse", tss_scalar_inverse(&r, &a));
    CHECK("scalar_cmov", tss_scalar_cmov(&r, &a, (int)(in[0] & 1)));
    CHECK("vss_eval (secret polynomial, public x)", {
        tss_scalar coef[3]; /* copies of secrets stay secret */
        coef[0] = a;
        coef[1] = b;
        coef[2] = a;
        tss_vss_eval(&r, coef, 3, 7);
    });
    CHECK("scalar_is_zero / eq (as data)", {
        int z = tss_scalar_is_zero(&a) + tss_scalar_eq(&a, &b);
        PUBLIC(&z, sizeof z);
    });
    CHECK("point_base_mul", {
        tss_err pe = tss_point_base_mul(&P, &a);
        PUBLIC(&pe, sizeof pe);
        PUBLIC(&P, sizeof P);
    });
    /* tss_point_mul_secret = secp256k1_ecdh (ecmult_const) + re-encoding the product, which
     * the contract treats as public; the multiplication itself must be clean */
    CHECK("point_mul_secret (ecdh part)", ecdh_part(&G1, &a));
    /* the Gamma check: X public, chi = a and d = b secret, Gamma = chi*X - d*G public */
    tss_point X, Gam, Gbad, t1, t2;
    tss_scalar x;
    uint64_t ctr = 99;
    tss_rng srng = {secret_fill, &ctr};
    tss_scalar_set_u64(&x, 12345);
    if (tss_point_base_mul(&X, &x) != TSS_OK || tss_point_mul(&t1, &X, &a) != TSS_OK ||
        tss_point_base_mul(&t2, &b) != TSS_OK)
        return 1;
    tss_point_negate(&t2, &t2);
    if (tss_point_add(&Gam, &t1, &t2) != TSS_OK || tss_point_add(&Gbad, &Gam, &G1) != TSS_OK)
        return 1;
    tss_point_set_declassify(declassify_hook);
    CHECK("point_mul_eq_check (Gamma check, equal)", {
        int eq = -1;
        tss_err pe = tss_point_mul_eq_check(&eq, &X, &a, &Gam, &b, &srng);
        PUBLIC(&pe, sizeof pe);
        if (pe != TSS_OK || eq != 1)
            failures++;
    });
    CHECK("point_mul_eq_check (Gamma check, unequal)", {
        int eq = -1;
        tss_err pe = tss_point_mul_eq_check(&eq, &X, &a, &Gbad, &b, &srng);
        PUBLIC(&pe, sizeof pe);
        if (pe != TSS_OK || eq != 0)
            failures++;
    });
    /* both Gamma checks folded (tss_point_mul_eq_check2): the folding coefficient e is
     * declassified by design; chi, d[0], d[1] stay secret */
    tss_point X2[2] = {X, G1}, G2[2] = {Gam, G1}, G2bad[2] = {Gam, Gbad};
    tss_scalar d2[2], one;
    tss_scalar_set_u64(&one, 1);
    d2[0] = b;
    tss_scalar_sub(&d2[1], &a, &one); /* a*G1 == G1 + (a - 1)*G1 with G1 = G */
    CHECK("point_mul_eq_check2 (both Gamma checks, equal)", {
        int eq = -1;
        SECRET(d2, sizeof d2);
        tss_err pe = tss_point_mul_eq_check2(&eq, X2, &a, G2, d2, &srng);
        PUBLIC(d2, sizeof d2);
        PUBLIC(&pe, sizeof pe);
        if (pe != TSS_OK || eq != 1)
            failures++;
    });
    CHECK("point_mul_eq_check2 (both Gamma checks, unequal)", {
        int eq = -1;
        SECRET(d2, sizeof d2);
        tss_err pe = tss_point_mul_eq_check2(&eq, X2, &a, G2bad, d2, &srng);
        PUBLIC(d2, sizeof d2);
        PUBLIC(&pe, sizeof pe);
        if (pe != TSS_OK || eq != 0)
            failures++;
    });
    tss_point_set_declassify(NULL);
    /* control: the direct formulation leaks (the harness must see it) */
    SECRET(&a, sizeof a);
    SECRET(&b, sizeof b);
    e = (unsigned long)VALGRIND_COUNT_ERRORS;
    int direct = gamma_direct(&X, &a, &Gam, &b);
    PUBLIC(&direct, sizeof direct);
    unsigned long leaks = (unsigned long)VALGRIND_COUNT_ERRORS - e;
    PUBLIC(&a, sizeof a);
    PUBLIC(&b, sizeof b);
    printf("%-40s %lu secret-dependent branch(es), expected > 0\n", "control: direct Gamma check",
           leaks);
    if (leaks == 0 || direct != 1)
        failures++;
    CHECK("memzero", tss_memzero(in, sizeof in));
    printf("ct_scalar: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
