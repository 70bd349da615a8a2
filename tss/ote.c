/* tss/ote.c — OT-extension setups (encodings) and the KOS extension with the corrected
 * check (DKLS23.md §3 steps 1–7). */
#include "ote.h"

#include <stdlib.h>
#include <string.h>

#include "aes.h"
#include "gf128.h"
#include "secmem.h"
#include "transcript.h"

#define XI     TSS_OTE_XI
#define ROW    TSS_OTE_ROW_BYTES
#define CHUNKS (TSS_OTE_XI / TSS_OTE_S) /* m = 4 challenge chunks, then the ρ chunk */

/* The magic names the κ: '1' for 256 (the only κ of key shares v1/v2), '2' for 128. */
static const uint8_t MAGIC_SENDER[4] = {'O', 'T', 'A', '1'};
static const uint8_t MAGIC_RECEIVER[4] = {'O', 'T', 'B', '1'};

static uint8_t magic_version(unsigned kappa)
{
    return kappa == 256 ? '1' : '2';
}

int tss_ote_kappa_valid(unsigned kappa)
{
    return kappa == 128 || kappa == 256;
}

/* ---- setups ---------------------------------------------------------------------------- */

/* 1 if p[0..n) is all zero. Constant time; the result is the only thing revealed. An
 * all-zero Δ or seed table is what a setup that was allocated but never filled looks
 * like, and with Δ = 0 the VOLE would send Alice's inputs in the clear (ã = a). */
static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= b[i];
    return ((unsigned)acc - 1u) >> 31 & 1;
}

void tss_ote_sender_setup_encode(uint8_t *out, const tss_ote_sender_setup *s)
{
    size_t k = s->kappa;
    memcpy(out, MAGIC_SENDER, 3);
    out[3] = magic_version(s->kappa);
    memcpy(out + 4, s->delta, k / 8);
    memcpy(out + 4 + k / 8, s->seed, k * 32);
}

void tss_ote_receiver_setup_encode(uint8_t *out, const tss_ote_receiver_setup *s)
{
    memcpy(out, MAGIC_RECEIVER, 3);
    out[3] = magic_version(s->kappa);
    memcpy(out + 4, s->seed, (size_t)s->kappa * 64);
}

static int magic_ok(const uint8_t *in, const uint8_t magic[4], unsigned kappa)
{
    return memcmp(in, magic, 3) == 0 && in[3] == magic_version(kappa);
}

tss_err tss_ote_sender_setup_decode(tss_ote_sender_setup *s, unsigned kappa, const uint8_t *in,
                                    size_t len)
{
    memset(s, 0, sizeof *s);
    if (!tss_ote_kappa_valid(kappa))
        return TSS_ERR_ARG;
    if (len != TSS_OTE_SENDER_SETUP_BYTES(kappa))
        return TSS_ERR_LENGTH;
    if (!magic_ok(in, MAGIC_SENDER, kappa))
        return TSS_ERR_FORMAT;
    s->kappa = (uint16_t)kappa;
    memcpy(s->delta, in + 4, kappa / 8);
    memcpy(s->seed, in + 4 + kappa / 8, (size_t)kappa * 32);
    if (all_zero(s->delta, sizeof s->delta) | all_zero(s->seed, sizeof s->seed)) {
        tss_memzero(s, sizeof *s);
        return TSS_ERR_FORMAT;
    }
    return TSS_OK;
}

tss_err tss_ote_receiver_setup_decode(tss_ote_receiver_setup *s, unsigned kappa, const uint8_t *in,
                                      size_t len)
{
    memset(s, 0, sizeof *s);
    if (!tss_ote_kappa_valid(kappa))
        return TSS_ERR_ARG;
    if (len != TSS_OTE_RECEIVER_SETUP_BYTES(kappa))
        return TSS_ERR_LENGTH;
    if (!magic_ok(in, MAGIC_RECEIVER, kappa))
        return TSS_ERR_FORMAT;
    s->kappa = (uint16_t)kappa;
    memcpy(s->seed, in + 4, (size_t)kappa * 64);
    if (all_zero(s->seed, sizeof s->seed)) {
        tss_memzero(s, sizeof *s);
        return TSS_ERR_FORMAT;
    }
    return TSS_OK;
}

tss_ote_sender_setup *tss_ote_sender_setup_new(unsigned kappa)
{
    if (!tss_ote_kappa_valid(kappa))
        return NULL;
    tss_ote_sender_setup *s = tss_secmem_alloc(sizeof *s);
    if (s != NULL)
        s->kappa = (uint16_t)kappa;
    return s;
}

void tss_ote_sender_setup_free(tss_ote_sender_setup *s)
{
    tss_secmem_free(s);
}

tss_ote_receiver_setup *tss_ote_receiver_setup_new(unsigned kappa)
{
    if (!tss_ote_kappa_valid(kappa))
        return NULL;
    tss_ote_receiver_setup *s = tss_secmem_alloc(sizeof *s);
    if (s != NULL)
        s->kappa = (uint16_t)kappa;
    return s;
}

void tss_ote_receiver_setup_free(tss_ote_receiver_setup *s)
{
    tss_secmem_free(s);
}

void tss_sid_tag(uint8_t out[TSS_SID_TAG_BYTES], const char *label, const uint8_t sid[32])
{
    uint8_t h[32];
    tss_transcript t;
    tss_transcript_init(&t, "sid-tag");
    tss_transcript_append(&t, label, strlen(label));
    tss_transcript_append(&t, sid, 32);
    tss_transcript_final(&t, h);
    memcpy(out, h, TSS_SID_TAG_BYTES);
}

/* ---- PRG: AES-256-CTR keyed per row (aes.h: AES-NI when present) ---------------- */

typedef struct {
    tss_transcript prefix; /* H("ot/ext/prg", sid, ...) with the sid absorbed */
} prg;

static tss_err prg_init(prg *p, const uint8_t sid[32])
{
    tss_err err = tss_aes_ready();
    if (err != TSS_OK)
        return err;
    tss_transcript_init(&p->prefix, "ot/ext/prg");
    tss_transcript_append(&p->prefix, sid, 32);
    return TSS_OK;
}

static void prg_done(prg *p)
{
    tss_memzero(p, sizeof *p);
}

/* out[0..ROW) = PRG(sid, ℓ, seed): AES-256-CTR keystream, key H(tag, sid, ℓ, seed), IV 0. */
static tss_err prg_row(prg *p, uint32_t l, const uint8_t seed[32], uint8_t out[ROW])
{
    uint8_t key[32];
    tss_transcript t = p->prefix;
    tss_transcript_append_u32(&t, l);
    tss_transcript_append(&t, seed, 32);
    tss_transcript_final(&t, key);
    tss_err err = tss_aes256_ctr0(out, ROW, key);
    tss_memzero_inline(key, sizeof key);
    return err;
}

/* ---- the check -------------------------------------------------------------------------- */

static void derive_chi(tss_gf128 chi[CHUNKS], const uint8_t sid[32], const uint8_t *u, size_t kappa)
{
    uint8_t h[64];
    tss_transcript t;
    tss_transcript_init(&t, "ot/ext/chi");
    tss_transcript_append(&t, sid, 32);
    tss_transcript_append(&t, u, kappa * ROW);
    tss_transcript_final64(&t, h);
    for (int j = 0; j < CHUNKS; j++)
        tss_gf128_load(&chi[j], h + 16 * j);
}

/* out = Σ_j χ_j · row^(j) + row^(m+1), over the 16-byte chunks of an 80-byte row. */
static void compress_row(uint8_t out[16], const tss_gf128 chi[CHUNKS], const uint8_t row[ROW])
{
    tss_gf128 acc, c, p;
    tss_gf128_load(&acc, row + 16 * CHUNKS);
    for (int j = 0; j < CHUNKS; j++) {
        tss_gf128_load(&c, row + 16 * j);
        tss_gf128_mul(&p, &chi[j], &c);
        tss_gf128_add(&acc, &acc, &p);
    }
    tss_gf128_store(out, &acc);
}

/* ---- Bob -------------------------------------------------------------------------------- */

typedef struct {
    uint8_t t[TSS_OTE_KAPPA_MAX][ROW]; /* T_ℓ */
    uint8_t p1[ROW];                   /* PRG(k_ℓ^1) */
    uint8_t x[ROW];                    /* β ‖ ρ */
} recv_work;

/* Step 6 for both sides: rows_out[r] = column r of the κ × ξ matrix m (κ bits), zero
 * bytes up to 32. The transpose writes rows of κ/8 bytes packed at the start of rows_out;
 * for κ < 256 they are spread to their 32-byte slots from the last one down (slot r
 * starts at or after packed row r, so nothing is overwritten before it is moved). */
static void columns(uint8_t rows_out[XI][32], const uint8_t *m, size_t kappa)
{
    tss_bit_transpose(&rows_out[0][0], m, kappa, ROW, XI);
    size_t w = kappa / 8;
    if (w == 32)
        return;
    for (size_t r = XI; r-- > 0;) {
        memmove(rows_out[r], &rows_out[0][0] + r * w, w);
        memset(rows_out[r] + w, 0, 32 - w);
    }
}

tss_err tss_ote_receiver_extend_rows(const tss_ote_receiver_setup *setup, const uint8_t sid[32],
                                     const uint8_t choice[TSS_OTE_XI / 8], const tss_rng *rng,
                                     uint8_t *msg_out, uint8_t rows_out[TSS_OTE_XI][32])
{
    if (!tss_ote_kappa_valid(setup->kappa) || all_zero(setup->seed, sizeof setup->seed))
        return TSS_ERR_ARG; /* an unfilled setup */
    const size_t kappa = setup->kappa;
    uint8_t *u = msg_out + TSS_SID_TAG_BYTES;
    uint8_t *xt = u + kappa * ROW;
    uint8_t *tt = xt + 16;
    tss_gf128 chi[CHUNKS];
    prg p;
    tss_err err;
    recv_work *w = tss_secmem_alloc(sizeof *w);
    if (w == NULL)
        return TSS_ERR_NOMEM;
    /* Step 1: x = β ‖ ρ with a random ρ ∈ {0,1}^s. */
    memcpy(w->x, choice, XI / 8);
    err = tss_rand_bytes(rng, w->x + XI / 8, TSS_OTE_S / 8);
    if (err == TSS_OK)
        err = prg_init(&p, sid);
    if (err != TSS_OK)
        goto out_work;
    /* Step 2: T_ℓ = PRG(k_ℓ^0), U_ℓ = T_ℓ ⊕ PRG(k_ℓ^1) ⊕ x. */
    for (uint32_t l = 0; l < kappa && err == TSS_OK; l++) {
        err = prg_row(&p, l, setup->seed[l][0], w->t[l]);
        if (err == TSS_OK)
            err = prg_row(&p, l, setup->seed[l][1], w->p1);
        for (size_t i = 0; i < ROW; i++)
            u[l * ROW + i] = w->t[l][i] ^ w->p1[i] ^ w->x[i];
    }
    prg_done(&p);
    if (err != TSS_OK)
        goto out_work;
    /* Step 3: χ = H(sid, U); x̃ and every t̃_ℓ. */
    tss_sid_tag(msg_out, "ot/ext", sid);
    derive_chi(chi, sid, u, kappa);
    compress_row(xt, chi, w->x);
    for (size_t l = 0; l < kappa; l++)
        compress_row(tt + 16 * l, chi, w->t[l]);
    /* Step 6: t_r = column r of T. */
    columns(rows_out, &w->t[0][0], kappa);
out_work:
    tss_secmem_free(w);
    if (err != TSS_OK)
        memset(msg_out, 0, TSS_OTE_MSG_BYTES(kappa));
    return err;
}

/* ---- Alice ------------------------------------------------------------------------------ */

typedef struct {
    uint8_t q[TSS_OTE_KAPPA_MAX][ROW];  /* Q_ℓ */
    uint8_t lhs[TSS_OTE_KAPPA_MAX][16]; /* Σ χ_j Q_ℓ^(j) + Q_ℓ^(m+1) */
    uint8_t rhs[TSS_OTE_KAPPA_MAX][16]; /* t̃_ℓ + Δ_ℓ·x̃ */
} send_work;

tss_err tss_ote_sender_extend_rows(const tss_ote_sender_setup *setup, const uint8_t sid[32],
                                   const uint8_t *msg, size_t len, uint8_t rows_out[TSS_OTE_XI][32])
{
    uint8_t tag[TSS_SID_TAG_BYTES];
    tss_gf128 chi[CHUNKS];
    prg p;
    tss_err err;

    if (!tss_ote_kappa_valid(setup->kappa) || all_zero(setup->delta, sizeof setup->delta))
        return TSS_ERR_ARG; /* an unfilled setup: Δ = 0 would expose Alice's inputs */
    const size_t kappa = setup->kappa;
    /* Length and session first: neither is a ban, and no OT work happens before them. */
    if (len != TSS_OTE_MSG_BYTES(kappa))
        return TSS_ERR_LENGTH;
    tss_sid_tag(tag, "ot/ext", sid);
    if (!tss_ct_eq(tag, msg, TSS_SID_TAG_BYTES))
        return TSS_ERR_SESSION;
    const uint8_t *u = msg + TSS_SID_TAG_BYTES;
    const uint8_t *xt = u + kappa * ROW;
    const uint8_t *tt = xt + 16;

    send_work *w = tss_secmem_alloc(sizeof *w);
    if (w == NULL)
        return TSS_ERR_NOMEM;
    err = prg_init(&p, sid);
    if (err != TSS_OK)
        goto out_work;
    derive_chi(chi, sid, u, kappa);
    /* Step 4: Q_ℓ = PRG(k_ℓ^{Δ_ℓ}) ⊕ Δ_ℓ·U_ℓ, with Δ_ℓ applied as a mask, never a branch. */
    for (uint32_t l = 0; l < kappa && err == TSS_OK; l++) {
        uint8_t mask = (uint8_t)(0 - ((setup->delta[l / 8] >> (l % 8)) & 1));
        err = prg_row(&p, l, setup->seed[l], w->q[l]);
        for (size_t i = 0; i < ROW; i++)
            w->q[l][i] ^= mask & u[l * ROW + i];
        /* Step 5, both sides of the equation for this ℓ. */
        compress_row(w->lhs[l], chi, w->q[l]);
        for (size_t i = 0; i < 16; i++)
            w->rhs[l][i] = tt[16 * l + i] ^ (mask & xt[i]);
    }
    prg_done(&p);
    if (err != TSS_OK)
        goto out_work;
    /* One constant-time comparison over all κ equations; only its result is public. */
    if (!tss_ct_eq(w->lhs, w->rhs, kappa * 16)) {
        err = TSS_ERR_OT_CHECK;
        goto out_work;
    }
    /* Step 6: q_r = column r of Q. */
    columns(rows_out, &w->q[0][0], kappa);
out_work:
    tss_secmem_free(w);
    return err;
}

/* ---- step 7 ----------------------------------------------------------------------------- */

tss_err tss_ote_deriver_init(tss_ote_deriver *d, const uint8_t sid[32])
{
    memset(d, 0, sizeof *d);
    tss_transcript_init(&d->prefix, "ot/ext/out");
    tss_transcript_append(&d->prefix, sid, 32);
    return TSS_OK;
}

tss_err tss_ote_deriver_row(tss_ote_deriver *d, uint32_t r, const uint8_t row_in[32],
                            const uint8_t *delta, tss_ote_string out)
{
    /* v_r = PRG(H("ot/ext/out", sid, r, row_r)): one hash per row, then 192 bytes of
     * AES-256-CTR keystream (IV 0), 64 per scalar, so each scalar is uniform up to
     * 2^-256. Six SHA-256 calls per row did the same job at twice the cost. */
    uint8_t row[32], key[32], wide[TSS_OTE_SCALARS * 64];
    tss_transcript t = d->prefix;
    for (int i = 0; i < 32; i++)
        row[i] = row_in[i] ^ (delta != NULL ? delta[i] : 0);
    tss_transcript_append_u32(&t, r);
    tss_transcript_append(&t, row, 32);
    tss_transcript_final(&t, key);
    int ok = tss_aes256_ctr0(wide, sizeof wide, key) == TSS_OK;
    /* Each scalar from 64 keystream bytes: the first 32-byte candidate if it is below n,
     * else the second (selected without a branch). A candidate fails with probability
     * 2^-128, both with 2^-256 (the output is then a reduced value); half the cost of a
     * 512-bit reduction. */
    for (int k = 0; k < TSS_OTE_SCALARS; k++)
        tss_scalar_from_candidates(&out[k], wide + 64 * k);
    tss_memzero_inline(row, sizeof row);
    tss_memzero_inline(key, sizeof key);
    tss_memzero_inline(wide, sizeof wide);
    if (!ok)
        tss_memzero(out, sizeof(tss_ote_string));
    return ok ? TSS_OK : TSS_ERR_NOMEM;
}

void tss_ote_deriver_done(tss_ote_deriver *d)
{
    tss_memzero(d, sizeof *d);
}

tss_err tss_ote_derive(tss_ote_string out[TSS_OTE_XI], const uint8_t sid[32],
                       const uint8_t rows[TSS_OTE_XI][32], const uint8_t *delta)
{
    tss_ote_deriver d;
    tss_err err = tss_ote_deriver_init(&d, sid);
    for (uint32_t r = 0; r < XI && err == TSS_OK; r++)
        err = tss_ote_deriver_row(&d, r, rows[r], delta, out[r]);
    tss_ote_deriver_done(&d);
    if (err != TSS_OK)
        tss_memzero(out, sizeof(tss_ote_string) * XI);
    return err;
}

/* ---- whole extension ------------------------------------------------------------------- */

tss_err tss_ote_receiver_extend(const tss_ote_receiver_setup *setup, const uint8_t sid[32],
                                const uint8_t choice[TSS_OTE_XI / 8], const tss_rng *rng,
                                uint8_t *msg_out, tss_ote_string out[TSS_OTE_XI])
{
    uint8_t(*rows)[32] = tss_secmem_alloc((size_t)XI * 32);
    if (rows == NULL)
        return TSS_ERR_NOMEM;
    tss_err err = tss_ote_receiver_extend_rows(setup, sid, choice, rng, msg_out, rows);
    if (err == TSS_OK)
        err = tss_ote_derive(out, sid, (const uint8_t(*)[32])rows, NULL);
    tss_secmem_free(rows);
    return err;
}

tss_err tss_ote_sender_extend(const tss_ote_sender_setup *setup, const uint8_t sid[32],
                              const uint8_t *msg, size_t len, tss_ote_string out0[TSS_OTE_XI],
                              tss_ote_string out1[TSS_OTE_XI])
{
    uint8_t(*rows)[32] = tss_secmem_alloc((size_t)XI * 32);
    if (rows == NULL)
        return TSS_ERR_NOMEM;
    tss_err err = tss_ote_sender_extend_rows(setup, sid, msg, len, rows);
    if (err == TSS_OK)
        err = tss_ote_derive(out0, sid, (const uint8_t(*)[32])rows, NULL);
    if (err == TSS_OK)
        err = tss_ote_derive(out1, sid, (const uint8_t(*)[32])rows, setup->delta);
    tss_secmem_free(rows);
    return err;
}
