/* tss/point.c — group operations through libsecp256k1's public API. */
#include "point.h"

#include <pthread.h>
#include <secp256k1_ecdh.h>
#include <stdlib.h>
#include <string.h>

#include "rand.h"
#include "secmem.h"

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
