/* tss/baseot.c — Masny–Rindal endemic base OT (see baseot.h for the protocol and the
 * rationale of its choices). */
#include "baseot.h"

#include <secp256k1_ecdh.h>
#include <string.h>

#include "h2c.h"
#include "secmem.h"
#include "transcript.h"

#define NMAX TSS_BASEOT_COUNT_MAX

tss_baseot_receiver *tss_baseot_receiver_new(void)
{
    return tss_secmem_alloc(sizeof(tss_baseot_receiver));
}

void tss_baseot_receiver_free(tss_baseot_receiver *st)
{
    tss_secmem_free(st);
}

tss_err tss_baseot_h2c(tss_point *out, const uint8_t sid[32], uint32_t l, uint32_t b,
                       const uint8_t other[33])
{
    tss_transcript t;
    tss_transcript_init(&t, "ot/base/h2c");
    tss_transcript_append(&t, sid, 32);
    tss_transcript_append_u32(&t, l);
    tss_transcript_append_u32(&t, b);
    tss_transcript_append(&t, other, 33);
    return tss_h2c(out, &t);
}

/* secp256k1_ecdh hash callback that returns the compressed point itself. */
static int ecdh_point(unsigned char *out, const unsigned char *x32, const unsigned char *y32,
                      void *data)
{
    (void)data;
    out[0] = (unsigned char)(0x02 | (y32[31] & 1));
    memcpy(out + 1, x32, 32);
    return 1;
}

/* out = compressed s·P, constant time in s (ecmult_const). TSS_ERR_ZERO if s == 0. */
static tss_err ct_mul(uint8_t out[33], const tss_point *p, const tss_scalar *s)
{
    uint8_t sb[32];
    tss_scalar_serialize(sb, s);
    int ok = secp256k1_ecdh(tss_secp_ctx(), out, &p->pk, sb, ecdh_point, NULL);
    tss_memzero(sb, sizeof sb);
    return ok ? TSS_OK : TSS_ERR_ZERO;
}

/* r = flag ? a : r for flag in {0, 1}, on the point's internal bytes, without a branch. */
static void point_cmov(tss_point *r, const tss_point *a, int flag)
{
    unsigned char mask = (unsigned char)(0 - (unsigned)flag);
    unsigned char *dst = r->pk.data;
    const unsigned char *src = a->pk.data;
    for (size_t i = 0; i < sizeof r->pk.data; i++)
        dst[i] ^= mask & (dst[i] ^ src[i]);
}

/* ρ = H("ot/base/key", sid, ℓ, b, B, Q_0, Q_1, K). b may be secret: it is only hashed. */
static void base_key(uint8_t out[32], const uint8_t sid[32], uint32_t l, uint32_t b,
                     const uint8_t bpt[33], const uint8_t q0[33], const uint8_t q1[33],
                     const uint8_t k[33])
{
    tss_transcript t;
    tss_transcript_init(&t, "ot/base/key");
    tss_transcript_append(&t, sid, 32);
    tss_transcript_append_u32(&t, l);
    tss_transcript_append_u32(&t, b);
    tss_transcript_append(&t, bpt, 33);
    tss_transcript_append(&t, q0, 33);
    tss_transcript_append(&t, q1, 33);
    tss_transcript_append(&t, k, 33);
    tss_transcript_final(&t, out);
}

/* One receiver instance: Q_0, Q_1 for choice bit c (secret) and secret a. */
static tss_err receiver_instance(tss_baseot_receiver *st, uint32_t l, int c, const tss_rng *rng)
{
    tss_point A, R, H[2], Qc[2], Q0, Q1;
    uint8_t renc[33];
    tss_err err = tss_rand_scalar(&st->a[l], rng);
    if (err == TSS_OK)
        err = tss_point_base_mul(&A, &st->a[l]);
    if (err == TSS_OK)
        err = tss_point_random(&R, rng);
    if (err != TSS_OK)
        return err;
    tss_point_serialize(renc, &R);
    /* Both slot hashes and both candidates Q_c = A − H2C(ℓ, b, R), then a masked select:
     * neither the work nor the memory accessed depends on c. */
    for (uint32_t b = 0; b < 2; b++) {
        err = tss_baseot_h2c(&H[b], st->sid, l, b, renc);
        if (err != TSS_OK)
            return err;
        tss_point_negate(&H[b], &H[b]);
        err = tss_point_add(&Qc[b], &A, &H[b]);
        if (err != TSS_OK)
            return err; /* A = H2C(…): probability 2^-256 */
    }
    point_cmov(&Qc[0], &Qc[1], c); /* Qc[0] = Q_c */
    Q0 = Qc[0];
    Q1 = R;
    point_cmov(&Q0, &R, c);     /* c = 1: Q_0 = R */
    point_cmov(&Q1, &Qc[0], c); /* c = 1: Q_1 = Q_c */
    tss_point_serialize(st->q[l][0], &Q0);
    tss_point_serialize(st->q[l][1], &Q1);
    tss_memzero(&A, sizeof A);
    tss_memzero(Qc, sizeof Qc);
    return TSS_OK;
}

tss_err tss_baseot_receiver_start(tss_baseot_receiver *st, const uint8_t sid[32], unsigned kappa,
                                  const tss_rng *rng, uint8_t *msg1_out)
{
    tss_err err;
    memset(st, 0, sizeof *st);
    if (!tss_ote_kappa_valid(kappa))
        return TSS_ERR_ARG;
    memcpy(st->sid, sid, 32);
    st->kappa = (uint16_t)kappa;
    err = tss_rand_bytes(rng, st->delta, kappa / 8);
    for (uint32_t l = 0; l < kappa && err == TSS_OK; l++)
        err = receiver_instance(st, l, (st->delta[l / 8] >> (l % 8)) & 1, rng);
    if (err != TSS_OK) {
        tss_memzero(st, sizeof *st);
        memset(msg1_out, 0, TSS_BASEOT_MSG1_BYTES(kappa));
        return err;
    }
    tss_sid_tag(msg1_out, "ot/base/1", sid);
    memcpy(msg1_out + TSS_SID_TAG_BYTES, st->q, (size_t)kappa * 2 * 33);
    st->started = 1;
    return TSS_OK;
}

/* Sender, one instance: both keys. q points into msg1 (already strictly parsed). */
static tss_err sender_instance(const uint8_t sid[32], uint32_t l, const uint8_t q[2][33],
                               const tss_point Q[2], const tss_scalar *beta, const uint8_t benc[33],
                               uint8_t keys[2][32])
{
    for (uint32_t b = 0; b < 2; b++) {
        tss_point H, M;
        uint8_t k[33];
        tss_err err = tss_baseot_h2c(&H, sid, l, b, q[1 - b]);
        if (err == TSS_OK)
            err = tss_point_add(&M, &Q[b], &H); /* M_b = ∞ → TSS_ERR_INFINITY */
        if (err == TSS_OK)
            err = ct_mul(k, &M, beta);
        if (err != TSS_OK)
            return err;
        base_key(keys[b], sid, l, b, benc, q[0], q[1], k);
        tss_memzero(k, sizeof k);
    }
    return TSS_OK;
}

tss_err tss_baseot_sender_respond(const uint8_t sid[32], const uint8_t *msg1, size_t len,
                                  const tss_rng *rng, uint8_t msg2_out[TSS_BASEOT_MSG2_BYTES],
                                  tss_ote_receiver_setup *setup_out)
{
    uint8_t tag[TSS_SID_TAG_BYTES], benc[33];
    const uint8_t(*q)[2][33] = (const uint8_t(*)[2][33])(msg1 + TSS_SID_TAG_BYTES);
    const unsigned N = setup_out->kappa;
    tss_scalar beta;
    tss_point B;
    tss_err err;

    tss_point Q[NMAX][2]; /* public; 32 KB of stack */

    memset(setup_out, 0, sizeof *setup_out);
    tss_scalar_set_u64(&beta, 0);
    if (!tss_ote_kappa_valid(N))
        return TSS_ERR_ARG;
    setup_out->kappa = (uint16_t)N;
    if (len != TSS_BASEOT_MSG1_BYTES(N))
        return TSS_ERR_LENGTH;
    tss_sid_tag(tag, "ot/base/1", sid);
    if (!tss_ct_eq(tag, msg1, TSS_SID_TAG_BYTES))
        return TSS_ERR_SESSION;
    /* Every point strictly parsed before any secret is drawn or multiplied. */
    for (uint32_t l = 0; l < N; l++)
        for (int b = 0; b < 2; b++)
            if (tss_point_parse(&Q[l][b], q[l][b]) != TSS_OK)
                return TSS_ERR_POINT;
    err = tss_rand_scalar(&beta, rng);
    if (err == TSS_OK)
        err = tss_point_base_mul(&B, &beta);
    if (err != TSS_OK)
        goto out;
    tss_point_serialize(benc, &B);
    for (uint32_t l = 0; l < N && err == TSS_OK; l++)
        err = sender_instance(sid, l, q[l], Q[l], &beta, benc, setup_out->seed[l]);
    if (err == TSS_OK) {
        tss_sid_tag(msg2_out, "ot/base/2", sid);
        memcpy(msg2_out + TSS_SID_TAG_BYTES, benc, 33);
    }
out:
    tss_scalar_clear(&beta);
    if (err != TSS_OK) {
        tss_memzero(setup_out, sizeof *setup_out);
        setup_out->kappa = (uint16_t)N;
    }
    return err;
}

tss_err tss_baseot_receiver_finish(tss_baseot_receiver *st, const uint8_t *msg2, size_t len,
                                   tss_ote_sender_setup *setup_out)
{
    uint8_t tag[TSS_SID_TAG_BYTES], k[33];
    const uint8_t *benc = msg2 + TSS_SID_TAG_BYTES;
    tss_point B;
    tss_err err = TSS_OK;

    const unsigned N = st->kappa, want = setup_out->kappa;
    memset(setup_out, 0, sizeof *setup_out);
    setup_out->kappa = (uint16_t)want;
    if (!st->started)
        return TSS_ERR_STATE;
    if (want != N)
        err = TSS_ERR_ARG;
    else if (len != TSS_BASEOT_MSG2_BYTES)
        err = TSS_ERR_LENGTH;
    if (err == TSS_OK) {
        tss_sid_tag(tag, "ot/base/2", st->sid);
        if (!tss_ct_eq(tag, msg2, TSS_SID_TAG_BYTES))
            err = TSS_ERR_SESSION;
    }
    if (err == TSS_OK)
        err = tss_point_parse(&B, benc);
    for (uint32_t l = 0; l < N && err == TSS_OK; l++) {
        uint32_t c = (st->delta[l / 8] >> (l % 8)) & 1;
        err = ct_mul(k, &B, &st->a[l]);
        if (err == TSS_OK)
            base_key(setup_out->seed[l], st->sid, l, c, benc, st->q[l][0], st->q[l][1], k);
    }
    if (err == TSS_OK)
        memcpy(setup_out->delta, st->delta, sizeof st->delta);
    else {
        tss_memzero(setup_out, sizeof *setup_out);
        setup_out->kappa = (uint16_t)want;
    }
    tss_memzero(k, sizeof k);
    tss_memzero(st, sizeof *st); /* single use: started = 0 */
    return err;
}
