/* tss/point.c — group operations through libsecp256k1's public API. */
#include "point.h"

#include <pthread.h>
#include <secp256k1_ecdh.h>
#include <stdlib.h>
#include <string.h>

#include "rand.h"
#include "secmem.h"
#include "transcript.h"

static secp256k1_context *tss_ctx;
static pthread_once_t tss_ctx_once = PTHREAD_ONCE_INIT;

static void tss_ctx_create(void)
{
    /* SECP256K1_CONTEXT_NONE is all 0.2 needs for signing, verification and tweaks. The
     * context is blinded once with fresh randomness (side-channel hardening of ecmult_gen),
     * before any thread can use it; it is read-only afterwards. */
    uint8_t seed[32];
    tss_ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (tss_ctx == NULL || tss_rand_bytes(tss_rng_system(), seed, sizeof seed) != TSS_OK ||
        !secp256k1_context_randomize(tss_ctx, seed))
        abort();
    tss_memzero(seed, sizeof seed);
}

const secp256k1_context *tss_secp_ctx(void)
{
    pthread_once(&tss_ctx_once, tss_ctx_create);
    return tss_ctx;
}

tss_err tss_point_base_mul(tss_point *r, const tss_scalar *s)
{
    uint8_t b[32];
    tss_scalar_serialize(b, s);
    int ok = secp256k1_ec_pubkey_create(tss_secp_ctx(), &r->pk, b);
    tss_memzero(b, sizeof b);
    return ok ? TSS_OK : TSS_ERR_INFINITY; /* s < n always, so only s == 0 fails */
}

tss_err tss_point_mul(tss_point *r, const tss_point *p, const tss_scalar *s)
{
    uint8_t b[32];
    tss_scalar_serialize(b, s);
    if (r != p)
        *r = *p;
    int ok = secp256k1_ec_pubkey_tweak_mul(tss_secp_ctx(), &r->pk, b);
    tss_memzero(b, sizeof b);
    return ok ? TSS_OK : TSS_ERR_INFINITY;
}

/* ECDH "hash" that returns the shared point itself, compressed. */
static int tss_ecdh_point(unsigned char *out, const unsigned char *x32, const unsigned char *y32,
                          void *data)
{
    (void)data;
    out[0] = (unsigned char)(0x02 | (y32[31] & 1));
    memcpy(out + 1, x32, 32);
    return 1;
}

tss_err tss_point_mul_secret(tss_point *r, const tss_point *p, const tss_scalar *s)
{
    uint8_t b[32], shared[33];
    tss_scalar_serialize(b, s);
    int ok = secp256k1_ecdh(tss_secp_ctx(), shared, &p->pk, b, tss_ecdh_point, NULL);
    tss_memzero(b, sizeof b);
    if (!ok) /* the ECDH module rejects a zero (or overflowing) scalar */
        return TSS_ERR_INFINITY;
    ok = secp256k1_ec_pubkey_parse(tss_secp_ctx(), &r->pk, shared, 33);
    tss_memzero(shared, sizeof shared);
    return ok ? TSS_OK : TSS_ERR_POINT;
}

tss_err tss_point_add(tss_point *r, const tss_point *a, const tss_point *b)
{
    const secp256k1_pubkey *ins[2] = {&a->pk, &b->pk};
    secp256k1_pubkey out;
    if (!secp256k1_ec_pubkey_combine(tss_secp_ctx(), &out, ins, 2))
        return TSS_ERR_INFINITY;
    r->pk = out;
    return TSS_OK;
}

tss_err tss_point_sum(tss_point *r, const tss_point *pts, size_t count)
{
    /* One combine over all inputs: only the true total can be reported as infinity. */
    const secp256k1_pubkey *ins[TSS_POINT_SUM_MAX];
    secp256k1_pubkey out;
    if (count == 0 || count > TSS_POINT_SUM_MAX)
        return TSS_ERR_ARG;
    for (size_t i = 0; i < count; i++)
        ins[i] = &pts[i].pk;
    if (!secp256k1_ec_pubkey_combine(tss_secp_ctx(), &out, ins, count))
        return TSS_ERR_INFINITY;
    r->pk = out;
    return TSS_OK;
}

void tss_point_negate(tss_point *r, const tss_point *a)
{
    if (r != a)
        *r = *a;
    int ok = secp256k1_ec_pubkey_negate(tss_secp_ctx(), &r->pk);
    (void)ok; /* cannot fail on a valid key */
}

void tss_point_serialize(uint8_t out[33], const tss_point *p)
{
    size_t len = 33;
    int ok =
        secp256k1_ec_pubkey_serialize(tss_secp_ctx(), out, &len, &p->pk, SECP256K1_EC_COMPRESSED);
    (void)ok; /* cannot fail with a 33-byte buffer */
}

tss_err tss_point_parse(tss_point *r, const uint8_t in[33])
{
    if (in[0] != 0x02 && in[0] != 0x03)
        return TSS_ERR_POINT;
    if (!secp256k1_ec_pubkey_parse(tss_secp_ctx(), &r->pk, in, 33))
        return TSS_ERR_POINT;
    /* Canonical check: re-serialization must give back exactly the input (rejects x >= p
     * should any library version reduce it silently). */
    uint8_t back[33];
    tss_point_serialize(back, r);
    if (memcmp(back, in, 33) != 0)
        return TSS_ERR_POINT;
    return TSS_OK;
}

int tss_point_eq(const tss_point *a, const tss_point *b)
{
    return secp256k1_ec_pubkey_cmp(tss_secp_ctx(), &a->pk, &b->pk) == 0;
}

static void (*tss_declassify_fn)(const void *p, size_t len);

void tss_point_set_declassify(void (*fn)(const void *p, size_t len))
{
    tss_declassify_fn = fn;
}

static void declassify(const void *p, size_t len)
{
    if (tss_declassify_fn != NULL)
        tss_declassify_fn(p, len);
}

/* chi*X == Gamma + d*G without a secret point in variable-time code.
 *
 * The direct way computes chi*X (secret: with Gamma public it gives d*G, and it is
 * r_j*chi*G for the peer's nonce r_j) and d*G in constant time, but then parses, adds and
 * compares them with libsecp256k1's public API, which is variable time (sqrt, inversion,
 * normalisation and comparison of the secret coordinates).
 *
 * Instead, with a fresh uniform rho (never reused, never output):
 *     rho*chi*X  ==  rho*Gamma + (rho*d)*G
 * The three points are computed in constant time (ECDH = ecmult_const for the first two,
 * ecmult_gen for the third, with the scalars products rho*chi and rho*d formed by our
 * constant-time scalar code), and only they are handed to variable-time code. Each is
 * rho times a fixed non-zero point, hence uniform on its own. Jointly they reveal nothing
 * about chi*X or d*G either: writing d*G = k*Gamma, the tuple (Gamma, rho*Gamma, d*G,
 * rho*d*G) is a DDH tuple in base Gamma, so even complete knowledge of the blinded points
 * would not let anyone test a guess of d*G (or of chi*X = Gamma + d*G) under DDH; timing
 * leaks at most part of that. The left side never needs parsing: the ECDH callback
 * returns its compressed encoding, compared bytewise with the encoded right side.
 * Equality is preserved (rho != 0), so the verdict is exactly the check's.
 * Zero scalars: rho*chi and rho*d are replaced by 1 with cmov when zero, so the
 * multiplications cannot fail on a secret condition; the zero flags, like every success
 * flag, go into the verdict, the one value declassified at the end. */
tss_err tss_point_mul_eq_check(int *equal, const tss_point *X, const tss_scalar *chi,
                               const tss_point *Gamma, const tss_scalar *d, const tss_rng *rng)
{
    const secp256k1_context *ctx = tss_secp_ctx();
    uint8_t wide[64], s_rho[32], s_a[32], s_b[32], lhs[33], rho_gamma[33], rhs[33];
    tss_scalar rho, a, b, one;
    tss_point rg, bg, sum;
    *equal = 0;
    tss_err err = tss_rand_bytes(rng, wide, sizeof wide);
    if (err != TSS_OK)
        return err;
    tss_scalar_reduce64(&rho, wide); /* rho == 0 (2^-256) shows up as a == 0 below */
    tss_scalar_mul(&a, &rho, chi);
    tss_scalar_mul(&b, &rho, d);
    int zero = tss_scalar_is_zero(&a) | tss_scalar_is_zero(&b);
    tss_scalar_set_u64(&one, 1);
    tss_scalar_cmov(&a, &one, tss_scalar_is_zero(&a));
    tss_scalar_cmov(&b, &one, tss_scalar_is_zero(&b));
    tss_scalar_cmov(&rho, &one, tss_scalar_is_zero(&rho));
    tss_scalar_serialize(s_rho, &rho);
    tss_scalar_serialize(s_a, &a);
    tss_scalar_serialize(s_b, &b);
    int ok = secp256k1_ecdh(ctx, lhs, &X->pk, s_a, tss_ecdh_point, NULL);
    ok &= secp256k1_ecdh(ctx, rho_gamma, &Gamma->pk, s_rho, tss_ecdh_point, NULL);
    ok &= secp256k1_ec_pubkey_create(ctx, &bg.pk, s_b);
    /* from here on only blinded points: public */
    declassify(lhs, sizeof lhs);
    declassify(rho_gamma, sizeof rho_gamma);
    declassify(&bg, sizeof bg);
    int eq = 0;
    if (secp256k1_ec_pubkey_parse(ctx, &rg.pk, rho_gamma, 33) &&
        tss_point_add(&sum, &rg, &bg) == TSS_OK) { /* infinity: chi*X = infinity, unequal */
        tss_point_serialize(rhs, &sum);
        eq = tss_ct_eq(lhs, rhs, 33);
    }
    int verdict = eq & ok & !zero;
    declassify(&verdict, sizeof verdict); /* the check's outcome is public by design */
    *equal = verdict;
    tss_memzero(wide, sizeof wide);
    tss_memzero(s_rho, sizeof s_rho);
    tss_memzero(s_a, sizeof s_a);
    tss_memzero(s_b, sizeof s_b);
    tss_scalar_clear(&rho);
    tss_scalar_clear(&a);
    tss_scalar_clear(&b);
    return TSS_OK;
}

tss_err tss_point_mul_eq_check2(int *equal, const tss_point X[2], const tss_scalar *chi,
                                const tss_point Gamma[2], const tss_scalar d[2], const tss_rng *rng)
{
    uint8_t eb[32] = {0};
    tss_scalar e, dd;
    tss_point eX, eG, Xf, Gf;
    *equal = 0;
    /* e: 128 random bits (the top half of a 32-byte big-endian scalar); public */
    tss_err err = tss_rand_bytes(rng, eb + 16, 16);
    if (err != TSS_OK)
        return err;
    declassify(eb, sizeof eb);
    (void)tss_scalar_parse(&e, eb); /* < 2^128 < n: always in range */
    if (tss_scalar_is_zero(&e) || tss_point_mul(&eX, &X[1], &e) != TSS_OK ||
        tss_point_mul(&eG, &Gamma[1], &e) != TSS_OK || tss_point_add(&Xf, &X[0], &eX) != TSS_OK ||
        tss_point_add(&Gf, &Gamma[0], &eG) != TSS_OK) {
        /* e = 0 or a folded point at infinity (2^-128 each): check one by one */
        int eq0 = 0, eq1 = 0;
        if ((err = tss_point_mul_eq_check(&eq0, &X[0], chi, &Gamma[0], &d[0], rng)) == TSS_OK)
            err = tss_point_mul_eq_check(&eq1, &X[1], chi, &Gamma[1], &d[1], rng);
        *equal = err == TSS_OK && eq0 && eq1;
        return err;
    }
    tss_scalar_mul(&dd, &e, &d[1]);
    tss_scalar_add(&dd, &dd, &d[0]);
    err = tss_point_mul_eq_check(equal, &Xf, chi, &Gf, &dd, rng);
    tss_scalar_clear(&dd);
    return err;
}
