/* tss/h2c.c — try-and-increment hash-to-curve over the transcript hash. */
#include "h2c.h"

#include "secmem.h"

tss_err tss_h2c(tss_point *out, const tss_transcript *fields)
{
    for (uint32_t ctr = 0; ctr < TSS_H2C_MAX_TRIES; ctr++) {
        tss_transcript t = *fields;
        uint8_t h[64], enc[33];
        tss_transcript_append_u32(&t, ctr);
        tss_transcript_final64(&t, h);
        enc[0] = (uint8_t)(0x02 | (h[32] & 1));
        for (int i = 0; i < 32; i++)
            enc[1 + i] = h[i];
        if (tss_point_parse(out, enc) == TSS_OK)
            return TSS_OK;
    }
    return TSS_ERR_HASH_TO_CURVE;
}

tss_err tss_point_random(tss_point *out, const tss_rng *rng)
{
    uint8_t seed[32];
    tss_err err = tss_rand_bytes(rng, seed, sizeof seed);
    if (err != TSS_OK)
        return err;
    tss_transcript t;
    tss_transcript_init(&t, "h2c/random-point");
    tss_transcript_append(&t, seed, sizeof seed);
    err = tss_h2c(out, &t);
    tss_memzero(&t, sizeof t);
    tss_memzero(seed, sizeof seed);
    return err;
}
