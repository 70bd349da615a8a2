/* tss/vole.c — DKLs23 random VOLE (Protocol 5.2) on top of the OT extension. */
#include "vole.h"

#include <string.h>

#include "secmem.h"
#include "transcript.h"

#define XI       TSS_OTE_XI
#define K        TSS_VOLE_INPUTS
#define MSG2_AT  TSS_SID_TAG_BYTES
#define MSG2_ETA (MSG2_AT + XI * TSS_OTE_SCALARS * 32)
#define MSG2_MU  (MSG2_ETA + 32)

tss_vole_bob *tss_vole_bob_new(void)
{
    return tss_secmem_alloc(sizeof(tss_vole_bob));
}

void tss_vole_bob_free(tss_vole_bob *st)
{
    tss_secmem_free(st);
}

static void gadget(tss_scalar g[XI], const uint8_t sid[32])
{
    tss_transcript prefix, t;
    tss_transcript_init(&prefix, "vole/gadget");
    tss_transcript_append(&prefix, sid, 32);
    for (uint32_t r = 0; r < XI; r++) {
        t = prefix;
        tss_transcript_append_u32(&t, r);
        tss_transcript_final_scalar(&t, &g[r]);
    }
}

/* θ_k = H_q("vole/theta", sid, ã, k) for k = 0, 1 (the paper's k = 1, 2). */
static void thetas(tss_scalar theta[K], const uint8_t sid[32], const uint8_t *at)
{
    tss_transcript prefix, t;
    tss_transcript_init(&prefix, "vole/theta");
    tss_transcript_append(&prefix, sid, 32);
    tss_transcript_append(&prefix, at, (size_t)XI * TSS_OTE_SCALARS * 32);
    for (uint32_t k = 0; k < K; k++) {
        t = prefix;
        tss_transcript_append_u32(&t, k);
        tss_transcript_final_scalar(&t, &theta[k]);
    }
}

/* v = s_3 + Σ_k θ_k·s_k for one row (the value μ hashes). */
static void mu_row(tss_scalar *v, const tss_scalar s[TSS_OTE_SCALARS], const tss_scalar theta[K])
{
    tss_scalar t;
    *v = s[K];
    for (int k = 0; k < K; k++) {
        tss_scalar_mul(&t, &theta[k], &s[k]);
        tss_scalar_add(v, v, &t);
    }
    tss_scalar_clear(&t);
}

tss_err tss_vole_bob_start(tss_vole_bob *st, const tss_ote_receiver_setup *setup,
                           const uint8_t sid[32], const tss_rng *rng, tss_scalar *b_out,
                           uint8_t msg1_out[TSS_VOLE_MSG1_BYTES])
{
    tss_scalar sum, t;
    memset(st, 0, sizeof *st);
    tss_scalar_set_u64(b_out, 0);
    memcpy(st->sid, sid, 32);
    tss_err err = tss_rand_bytes(rng, st->beta, sizeof st->beta);
    if (err == TSS_OK)
        err = tss_ote_receiver_extend(setup, sid, st->beta, rng, msg1_out, st->gamma);
    if (err != TSS_OK) {
        tss_memzero(st, sizeof *st);
        return err;
    }
    gadget(st->g, sid);
    /* b = Σ β_r·g_r, adding g_r under a mask so no branch depends on β_r. */
    tss_scalar_set_u64(&sum, 0);
    for (size_t r = 0; r < XI; r++) {
        tss_scalar_add(&t, &sum, &st->g[r]);
        tss_scalar_cmov(&sum, &t, (st->beta[r / 8] >> (r % 8)) & 1);
    }
    *b_out = sum;
    tss_scalar_clear(&sum);
    tss_scalar_clear(&t);
    st->started = 1;
    return TSS_OK;
}

typedef struct {
    tss_ote_string v0[XI], v1[XI];
    tss_scalar at[XI][TSS_OTE_SCALARS];
    tss_scalar mu_in[XI];
    uint8_t enc[XI][32];
} alice_work;

tss_err tss_vole_alice_respond(const tss_ote_sender_setup *setup, const uint8_t sid[32],
                               const tss_scalar a[TSS_VOLE_INPUTS], const uint8_t *msg1, size_t len,
                               const tss_rng *rng, tss_scalar c_out[TSS_VOLE_INPUTS],
                               uint8_t msg2_out[TSS_VOLE_MSG2_BYTES])
{
    tss_scalar eta, theta[K], t, g[XI];
    uint8_t wide[64];
    tss_err err;
    for (int k = 0; k < K; k++)
        tss_scalar_set_u64(&c_out[k], 0);
    /* Length and session before allocating or doing OT work (plain aborts). */
    if (len != TSS_VOLE_MSG1_BYTES)
        return TSS_ERR_LENGTH;
    alice_work *w = tss_secmem_alloc(sizeof *w);
    if (w == NULL)
        return TSS_ERR_NOMEM;
    err = tss_ote_sender_extend(setup, sid, msg1, len, w->v0, w->v1);
    if (err == TSS_OK)
        err = tss_rand_bytes(rng, wide, sizeof wide);
    if (err != TSS_OK)
        goto out;
    tss_scalar_reduce64(&eta, wide);
    /* ã_{r,k} = α0 − α1 + a_k, and ã_{r,3} with η; encoded straight into msg2. */
    uint8_t *at = msg2_out + MSG2_AT;
    for (size_t r = 0; r < XI; r++)
        for (int k = 0; k < TSS_OTE_SCALARS; k++) {
            tss_scalar_sub(&w->at[r][k], &w->v0[r][k], &w->v1[r][k]);
            tss_scalar_add(&w->at[r][k], &w->at[r][k], k < K ? &a[k] : &eta);
            tss_scalar_serialize(at + (r * TSS_OTE_SCALARS + (size_t)k) * 32, &w->at[r][k]);
        }
    thetas(theta, sid, at);
    /* η̂ = η + Σ θ_k·a_k */
    tss_scalar eta_hat = eta;
    for (int k = 0; k < K; k++) {
        tss_scalar_mul(&t, &theta[k], &a[k]);
        tss_scalar_add(&eta_hat, &eta_hat, &t);
    }
    tss_scalar_serialize(msg2_out + MSG2_ETA, &eta_hat);
    /* μ = H64(sid, (α0_{r,3} + Σ θ_k·α0_{r,k})_r) */
    tss_transcript mt;
    tss_transcript_init(&mt, "vole/mu");
    tss_transcript_append(&mt, sid, 32);
    for (size_t r = 0; r < XI; r++) {
        mu_row(&w->mu_in[r], w->v0[r], theta);
        tss_scalar_serialize(w->enc[r], &w->mu_in[r]);
    }
    tss_transcript_append(&mt, w->enc, sizeof w->enc);
    tss_transcript_final64(&mt, msg2_out + MSG2_MU);
    /* c_k = −Σ g_r·α0_{r,k} */
    gadget(g, sid);
    for (int k = 0; k < K; k++) {
        tss_scalar sum;
        tss_scalar_set_u64(&sum, 0);
        for (size_t r = 0; r < XI; r++) {
            tss_scalar_mul(&t, &g[r], &w->v0[r][k]);
            tss_scalar_add(&sum, &sum, &t);
        }
        tss_scalar_negate(&c_out[k], &sum);
        tss_scalar_clear(&sum);
    }
    tss_sid_tag(msg2_out, "vole/2", sid);
    tss_scalar_clear(&eta_hat);
out:
    tss_secmem_free(w);
    tss_scalar_clear(&eta);
    tss_scalar_clear(&t);
    tss_memzero(wide, sizeof wide);
    if (err != TSS_OK)
        memset(msg2_out, 0, TSS_VOLE_MSG2_BYTES);
    return err;
}

typedef struct {
    tss_scalar dbar[XI][TSS_OTE_SCALARS];
    uint8_t enc[XI][32];
    uint8_t mu[64];
} bob_work;

/* Parses ã and η̂ strictly (TSS_ERR_FORMAT on a non-canonical scalar). */
static tss_err parse_msg2(tss_scalar at[XI][TSS_OTE_SCALARS], tss_scalar *eta_hat,
                          const uint8_t *msg2)
{
    int bad = 0;
    for (size_t r = 0; r < XI; r++)
        for (int k = 0; k < TSS_OTE_SCALARS; k++)
            bad |=
                tss_scalar_parse(&at[r][k],
                                 msg2 + MSG2_AT + (r * TSS_OTE_SCALARS + (size_t)k) * 32) != TSS_OK;
    bad |= tss_scalar_parse(eta_hat, msg2 + MSG2_ETA) != TSS_OK;
    return bad ? TSS_ERR_FORMAT : TSS_OK;
}

tss_err tss_vole_bob_finish(tss_vole_bob *st, const uint8_t *msg2, size_t len,
                            tss_scalar d_out[TSS_VOLE_INPUTS])
{
    uint8_t tag[TSS_SID_TAG_BYTES];
    tss_scalar theta[K], eta_hat, t, v;
    tss_err err = TSS_OK;
    bob_work *w = NULL;
    for (int k = 0; k < K; k++)
        tss_scalar_set_u64(&d_out[k], 0);
    if (!st->started)
        return TSS_ERR_STATE;
    if (len != TSS_VOLE_MSG2_BYTES)
        err = TSS_ERR_LENGTH;
    if (err == TSS_OK) {
        tss_sid_tag(tag, "vole/2", st->sid);
        if (!tss_ct_eq(tag, msg2, TSS_SID_TAG_BYTES))
            err = TSS_ERR_SESSION;
    }
    if (err == TSS_OK && (w = tss_secmem_alloc(sizeof *w)) == NULL)
        err = TSS_ERR_NOMEM;
    if (err == TSS_OK)
        err = parse_msg2(w->dbar, &eta_hat, msg2); /* dbar holds ã for now */
    if (err != TSS_OK)
        goto out;
    thetas(theta, st->sid, msg2 + MSG2_AT);
    /* d̄_{r,k} = γ_{r,k} + β_r·ã_{r,k}; the check value d̄_{r,3} + Σ θ_k d̄_{r,k} − β_r·η̂. */
    for (size_t r = 0; r < XI; r++) {
        int br = (st->beta[r / 8] >> (r % 8)) & 1;
        for (int k = 0; k < TSS_OTE_SCALARS; k++) {
            tss_scalar_add(&t, &st->gamma[r][k], &w->dbar[r][k]);
            w->dbar[r][k] = st->gamma[r][k];
            tss_scalar_cmov(&w->dbar[r][k], &t, br);
        }
        mu_row(&v, w->dbar[r], theta);
        tss_scalar_sub(&t, &v, &eta_hat);
        tss_scalar_cmov(&v, &t, br);
        tss_scalar_serialize(w->enc[r], &v);
    }
    tss_transcript mt;
    tss_transcript_init(&mt, "vole/mu");
    tss_transcript_append(&mt, st->sid, 32);
    tss_transcript_append(&mt, w->enc, sizeof w->enc);
    tss_transcript_final64(&mt, w->mu);
    if (!tss_ct_eq(w->mu, msg2 + MSG2_MU, 64)) {
        err = TSS_ERR_VOLE_CHECK;
        goto out;
    }
    /* d_k = Σ g_r·d̄_{r,k} */
    for (int k = 0; k < K; k++) {
        tss_scalar sum;
        tss_scalar_set_u64(&sum, 0);
        for (size_t r = 0; r < XI; r++) {
            tss_scalar_mul(&t, &st->g[r], &w->dbar[r][k]);
            tss_scalar_add(&sum, &sum, &t);
        }
        d_out[k] = sum;
        tss_scalar_clear(&sum);
    }
out:
    tss_secmem_free(w);
    tss_scalar_clear(&t);
    tss_scalar_clear(&v);
    tss_memzero(st, sizeof *st); /* single use */
    return err;
}
