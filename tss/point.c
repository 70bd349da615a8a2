/* tss/point.c — group operations through libsecp256k1's public API. */
#include "point.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "secmem.h"

static secp256k1_context *tss_ctx;
static pthread_once_t tss_ctx_once = PTHREAD_ONCE_INIT;

static void tss_ctx_create(void)
{
    /* SECP256K1_CONTEXT_NONE is all 0.2 needs for signing, verification and tweaks.
     * Randomization of the context would need a seed; the context is shared and read-only,
     * and ecmult_gen is constant time without it. */
    tss_ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (tss_ctx == NULL)
        abort();
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
    int ok = secp256k1_ec_pubkey_serialize(tss_secp_ctx(), out, &len, &p->pk,
                                           SECP256K1_EC_COMPRESSED);
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
