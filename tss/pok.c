/* tss/pok.c — Schnorr proof of knowledge. */
#include "pok.h"

#include <string.h>

#include "secmem.h"
#include "transcript.h"

static void tss_pok_challenge(tss_scalar *e, const uint8_t *context, size_t context_len,
                              uint16_t prover, const tss_point *X, const uint8_t R[33])
{
    tss_transcript t;
    tss_transcript_init(&t, "pok");
    tss_transcript_append(&t, context, context_len);
    tss_transcript_append_u32(&t, prover);
    tss_transcript_append_point(&t, X);
    tss_transcript_append(&t, R, 33);
    tss_transcript_final_scalar(&t, e);
}

tss_err tss_pok_prove(uint8_t proof[TSS_POK_BYTES], const tss_scalar *x, const tss_point *X,
                      const uint8_t *context, size_t context_len, uint16_t prover,
                      const tss_rng *rng)
{
    tss_scalar k, e, z;
    tss_point R;
    tss_err err;
    if ((err = tss_rand_scalar(&k, rng)) != TSS_OK ||
        (err = tss_point_base_mul(&R, &k)) != TSS_OK) /* k != 0, so R is finite */
        goto out;
    tss_point_serialize(proof, &R);
    tss_pok_challenge(&e, context, context_len, prover, X, proof);
    tss_scalar_mul(&z, &e, x);
    tss_scalar_add(&z, &z, &k);
    tss_scalar_serialize(proof + 33, &z);
    err = TSS_OK;
out:
    tss_scalar_clear(&k);
    tss_scalar_clear(&z);
    return err;
}

tss_err tss_pok_verify(const uint8_t proof[TSS_POK_BYTES], const tss_point *X,
                       const uint8_t *context, size_t context_len, uint16_t prover)
{
    tss_point R, zG, eX;
    tss_scalar e, z;
    if (tss_point_parse(&R, proof) != TSS_OK || tss_scalar_parse(&z, proof + 33) != TSS_OK)
        return TSS_ERR_PROOF;
    tss_pok_challenge(&e, context, context_len, prover, X, proof);
    /* z*G == R + e*X */
    if (tss_point_base_mul(&zG, &z) != TSS_OK || tss_point_mul(&eX, X, &e) != TSS_OK ||
        tss_point_add(&eX, &eX, &R) != TSS_OK)
        return TSS_ERR_PROOF;
    return tss_point_eq(&zG, &eX) ? TSS_OK : TSS_ERR_PROOF;
}

size_t tss_pok_context(uint8_t *ctx, const char *label, const uint8_t sid[32], const uint8_t *extra,
                       size_t extra_len)
{
    size_t l = strlen(label);
    memcpy(ctx, label, l);
    memcpy(ctx + l, sid, 32);
    if (extra_len > 0)
        memcpy(ctx + l + 32, extra, extra_len);
    return l + 32 + extra_len;
}
