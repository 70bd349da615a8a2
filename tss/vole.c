/* tss/vole.c — DKLs23 random VOLE (Protocol 5.2) on top of the OT extension.
 * Alice streams her rows (one OT output pair at a time) so she holds only α0; Bob's state
 * holds all his scratch space, so his finish allocates nothing. */
#include "vole.h"

#include <string.h>

#include "aes.h"
#include "secmem.h"
#include "transcript.h"

#define XI       TSS_OTE_XI
#define K        TSS_VOLE_INPUTS
#define S        TSS_OTE_SCALARS
#define MSG2_AT  TSS_SID_TAG_BYTES
#define MSG2_ETA (MSG2_AT + XI * S * 32)
#define MSG2_MU  (MSG2_ETA + 32)

tss_vole_bob *tss_vole_bob_new(void)
{
    return tss_secmem_alloc(sizeof(tss_vole_bob));
}

void tss_vole_bob_free(tss_vole_bob *st)
{
    tss_secmem_free(st);
}

/* The gadget vector: g_r = (64 bytes r of AES-256-CTR keyed with H("vole/gadget", sid),
 * IV 0) mod n, for r < XI. A public, sid-bound random vector like H_q(sid, r) per row, at
 * a tenth of the cost (one key schedule, 32 KB of keystream, 512 wide reductions). */
static tss_err gadget_vector(tss_scalar g[XI], const uint8_t sid[32])
{
    static _Thread_local uint8_t stream[XI * 64]; /* public; 32 KB off the stack */
    uint8_t key[32];
    tss_transcript t;
    tss_transcript_init(&t, "vole/gadget");
    tss_transcript_append(&t, sid, 32);
    tss_transcript_final(&t, key);
    tss_err err = tss_aes256_ctr0(stream, sizeof stream, key);
    for (uint32_t r = 0; err == TSS_OK && r < XI; r++)
        tss_scalar_reduce64(&g[r], stream + 64 * r);
    return err;
}

/* θ_k = H_q("vole/theta", sid, ã, k) for k = 0, 1 (the paper's k = 1, 2). */
static void thetas(tss_scalar theta[K], const uint8_t sid[32], const uint8_t *at)
{
    tss_transcript prefix, t;
    tss_transcript_init(&prefix, "vole/theta");
    tss_transcript_append(&prefix, sid, 32);
    tss_transcript_append(&prefix, at, (size_t)XI * S * 32);
    for (uint32_t k = 0; k < K; k++) {
        t = prefix;
        tss_transcript_append_u32(&t, k);
        tss_transcript_final_scalar(&t, &theta[k]);
    }
}

/* v = s_3 + Σ_k θ_k·s_k for one row (the value μ hashes). */
static void mu_row(tss_scalar *v, const tss_scalar s[S], const tss_scalar theta[K])
{
    tss_scalar t;
    *v = s[K];
    for (int k = 0; k < K; k++) {
        tss_scalar_mul(&t, &theta[k], &s[k]);
        tss_scalar_add(v, v, &t);
    }
    tss_scalar_clear(&t);
}

/* μ = H64("vole/mu", sid, enc) over the 512 encoded row values. */
static void mu_hash(uint8_t out[64], const uint8_t sid[32], const uint8_t enc[XI][32])
{
    tss_transcript t;
    tss_transcript_init(&t, "vole/mu");
    tss_transcript_append(&t, sid, 32);
    tss_transcript_append(&t, enc, (size_t)XI * 32);
    tss_transcript_final64(&t, out);
}

tss_err tss_vole_bob_start(tss_vole_bob *st, const tss_ote_receiver_setup *setup,
                           const uint8_t sid[32], const tss_rng *rng, tss_scalar *b_out,
                           uint8_t *msg1_out)
{
    tss_scalar sum, t;
    memset(st, 0, sizeof *st);
    tss_scalar_set_u64(b_out, 0);
    if (!tss_ote_kappa_valid(setup->kappa))
        return TSS_ERR_ARG;
    memcpy(st->sid, sid, 32);
    tss_err err = tss_rand_bytes(rng, st->beta, sizeof st->beta);
    if (err == TSS_OK)
        err = tss_ote_receiver_extend_rows(setup, sid, st->beta, rng, msg1_out, st->work);
    if (err == TSS_OK)
        err = tss_ote_derive(st->gamma, sid, (const uint8_t(*)[32])st->work, NULL);
    if (err != TSS_OK) {
        tss_memzero(st, sizeof *st);
        memset(msg1_out, 0, TSS_VOLE_MSG1_BYTES(setup->kappa));
        return err;
    }
    tss_memzero(st->work, sizeof st->work);
    /* b = Σ β_r·g_r, adding g_r under a mask so no branch depends on β_r. */
    if ((err = gadget_vector(st->g, sid)) != TSS_OK) {
        tss_memzero(st, sizeof *st);
        memset(msg1_out, 0, TSS_VOLE_MSG1_BYTES(setup->kappa));
        return err;
    }
    tss_scalar_set_u64(&sum, 0);
    for (uint32_t r = 0; r < XI; r++) {
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
    uint8_t rows[XI][32];  /* q_r */
    tss_ote_string v0[XI]; /* α0 */
    tss_ote_string v1;     /* α1 of the current row */
    uint8_t enc[XI][32];   /* μ inputs */
    tss_scalar g[XI];      /* gadget vector (public) */
    tss_scalar t, acc[K];
} alice_work;

/* Alice's per-row pass: α0, α1 → ã (into msg2) and Σ g_r·α0 (into acc). */
static tss_err alice_rows(alice_work *w, const tss_ote_sender_setup *setup, const uint8_t sid[32],
                          const tss_scalar a[K], const tss_scalar *eta, uint8_t *at)
{
    tss_ote_deriver d;
    tss_scalar x;
    tss_err err = gadget_vector(w->g, sid);
    if (err != TSS_OK)
        return err;
    err = tss_ote_deriver_init(&d, sid);
    for (int k = 0; k < K; k++)
        tss_scalar_set_u64(&w->acc[k], 0);
    for (uint32_t r = 0; r < XI && err == TSS_OK; r++) {
        err = tss_ote_deriver_row(&d, r, w->rows[r], NULL, w->v0[r]);
        if (err == TSS_OK)
            err = tss_ote_deriver_row(&d, r, w->rows[r], setup->delta, w->v1);
        /* ã_{r,k} = α0 − α1 + a_k, and ã_{r,3} with η; encoded straight into msg2. */
        for (int k = 0; k < S; k++) {
            tss_scalar_sub(&x, &w->v0[r][k], &w->v1[k]);
            tss_scalar_add(&x, &x, k < K ? &a[k] : eta);
            tss_scalar_serialize(at + ((size_t)r * S + (size_t)k) * 32, &x);
        }
        for (int k = 0; k < K; k++) {
            tss_scalar_mul(&w->t, &w->g[r], &w->v0[r][k]);
            tss_scalar_add(&w->acc[k], &w->acc[k], &w->t);
        }
    }
    tss_ote_deriver_done(&d);
    tss_scalar_clear(&x);
    return err;
}

tss_err tss_vole_alice_respond(const tss_ote_sender_setup *setup, const uint8_t sid[32],
                               const tss_scalar a[TSS_VOLE_INPUTS], const uint8_t *msg1, size_t len,
                               const tss_rng *rng, tss_scalar c_out[TSS_VOLE_INPUTS],
                               uint8_t msg2_out[TSS_VOLE_MSG2_BYTES])
{
    tss_scalar eta, eta_hat, theta[K], v;
    uint8_t wide[64];
    tss_err err;
    for (int k = 0; k < K; k++)
        tss_scalar_set_u64(&c_out[k], 0);
    tss_scalar_set_u64(&eta, 0);
    /* Length before allocating; the session tag is checked first thing inside the
     * extension, before any OT work (both plain aborts). */
    if (len != TSS_VOLE_MSG1_BYTES(setup->kappa))
        return TSS_ERR_LENGTH;
    alice_work *w = tss_secmem_alloc(sizeof *w);
    if (w == NULL)
        return TSS_ERR_NOMEM;
    err = tss_ote_sender_extend_rows(setup, sid, msg1, len, w->rows);
    if (err == TSS_OK)
        err = tss_rand_bytes(rng, wide, sizeof wide);
    if (err == TSS_OK) {
        tss_scalar_reduce64(&eta, wide);
        err = alice_rows(w, setup, sid, a, &eta, msg2_out + MSG2_AT);
    }
    if (err != TSS_OK)
        goto out;
    thetas(theta, sid, msg2_out + MSG2_AT);
    /* η̂ = η + Σ θ_k·a_k */
    eta_hat = eta;
    for (int k = 0; k < K; k++) {
        tss_scalar_mul(&w->t, &theta[k], &a[k]);
        tss_scalar_add(&eta_hat, &eta_hat, &w->t);
    }
    tss_scalar_serialize(msg2_out + MSG2_ETA, &eta_hat);
    /* μ = H64(sid, (α0_{r,3} + Σ θ_k·α0_{r,k})_r) */
    for (size_t r = 0; r < XI; r++) {
        mu_row(&v, w->v0[r], theta);
        tss_scalar_serialize(w->enc[r], &v);
    }
    mu_hash(msg2_out + MSG2_MU, sid, (const uint8_t(*)[32])w->enc);
    /* c_k = −Σ g_r·α0_{r,k} */
    for (int k = 0; k < K; k++)
        tss_scalar_negate(&c_out[k], &w->acc[k]);
    tss_sid_tag(msg2_out, "vole/2", sid);
out:
    tss_secmem_free(w);
    tss_scalar_clear(&eta);
    tss_scalar_clear(&v);
    tss_memzero(wide, sizeof wide);
    if (err != TSS_OK)
        memset(msg2_out, 0, TSS_VOLE_MSG2_BYTES);
    return err;
}

tss_err tss_vole_bob_finish(tss_vole_bob *st, const uint8_t *msg2, size_t len,
                            tss_scalar d_out[TSS_VOLE_INPUTS])
{
    uint8_t tag[TSS_SID_TAG_BYTES], mu[64];
    tss_scalar theta[K], eta_hat, at, t, v;
    tss_err err = TSS_OK;
    int bad = 0;
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
    if (err != TSS_OK)
        goto out;
    bad |= tss_scalar_parse(&eta_hat, msg2 + MSG2_ETA) != TSS_OK;
    thetas(theta, st->sid, msg2 + MSG2_AT);
    /* d̄_{r,k} = γ_{r,k} + β_r·ã_{r,k} (in place of γ); the check value
     * d̄_{r,3} + Σ θ_k d̄_{r,k} − β_r·η̂. Every ã is parsed strictly; a non-canonical one
     * makes the whole message malformed (reported below, before the check result). */
    for (size_t r = 0; r < XI; r++) {
        int br = (st->beta[r / 8] >> (r % 8)) & 1;
        for (int k = 0; k < S; k++) {
            bad |= tss_scalar_parse(&at, msg2 + MSG2_AT + (r * S + (size_t)k) * 32) != TSS_OK;
            tss_scalar_add(&t, &st->gamma[r][k], &at);
            tss_scalar_cmov(&st->gamma[r][k], &t, br);
        }
        mu_row(&v, st->gamma[r], theta);
        tss_scalar_sub(&t, &v, &eta_hat);
        tss_scalar_cmov(&v, &t, br);
        tss_scalar_serialize(st->work[r], &v);
    }
    if (bad) {
        err = TSS_ERR_FORMAT;
        goto out;
    }
    mu_hash(mu, st->sid, (const uint8_t(*)[32])st->work);
    if (!tss_ct_eq(mu, msg2 + MSG2_MU, 64)) {
        err = TSS_ERR_VOLE_CHECK;
        goto out;
    }
    /* d_k = Σ g_r·d̄_{r,k} */
    for (int k = 0; k < K; k++) {
        tss_scalar sum;
        tss_scalar_set_u64(&sum, 0);
        for (size_t r = 0; r < XI; r++) {
            tss_scalar_mul(&t, &st->g[r], &st->gamma[r][k]);
            tss_scalar_add(&sum, &sum, &t);
        }
        d_out[k] = sum;
        tss_scalar_clear(&sum);
    }
out:
    tss_scalar_clear(&at);
    tss_scalar_clear(&t);
    tss_scalar_clear(&v);
    tss_memzero(st, sizeof *st); /* single use */
    return err;
}
