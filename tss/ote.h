/* tss/ote.h — OT extension (KOS with the corrected consistency check, DKLS23.md §3) and
 * the OT-extension setups that the base OTs produce and the key share stores.
 *
 * Roles, for one ordered pair: the extension SENDER ("Alice", VOLE sender) holds a random
 * Δ ∈ {0,1}^κ and one seed per base OT, k_ℓ^{Δ_ℓ}; the extension RECEIVER ("Bob") holds
 * both seeds k_ℓ^0, k_ℓ^1. One extension gives ξ = 512 random OTs: Bob chooses β ∈
 * {0,1}^512; Alice learns two 3-scalar strings per OT, Bob the one his bit selects.
 *
 * Parameters: κ base OTs (the width of Δ and of every correlated row t_r, q_r), a
 * property of the key share: κ = 128 for new shares (key-share version 3), κ = 256 for
 * shares of versions 1 and 2, which keep working. tss/PARAMETERS.md is the argument
 * for 128, with its citations. λ_s = 128 (check in GF(2^128), x^128+x^7+x^2+x+1);
 * ξ = 512 = log2(n) + 2λ_s rounded up — the size of the SCALAR field, not κ (vole.h) —
 * and rows of ξ + λ_s = 640 bits. PRG(sid, ℓ, k) = AES-256-CTR keyed with
 * H("ot/ext/prg", sid, ℓ, k), IV 0. χ_1..χ_4 = H("ot/ext/chi", sid, U).
 * The correlated rows t_r, q_r are handed over as 32-byte arrays: κ bits, then zero
 * bytes up to 32 (and so is Δ in the setup), so step 7 hashes the same 32-byte encoding
 * whatever κ is; κ is fixed for a key and the sid binds the key.
 *
 * The sid must be fresh for every extension and every ordered pair (the caller derives it
 * from the signing sid, the DKG sid and (sender, receiver)); reusing one reuses the pads.
 * Every message starts with a 16-byte tag of the sid so that a sid mismatch is reported
 * as TSS_ERR_SESSION (a plain abort) before any OT work, distinct from TSS_ERR_OT_CHECK
 * (a ban). Constant time in Δ, β and the check values; the check compares with tss_ct_eq.
 * Working state lives in tss_secmem_alloc memory allocated once per call (no allocation
 * inside loops) and is wiped before it is freed.
 *
 * Output hash (step 7), and why it is not a fixed-key AES hash. Issue 14 proposed the
 * tweakable correlation-robust hashes of Guo, Katz, Wang and Yu, "Efficient and Secure
 * Multiparty Computation from Fixed-Key Block Ciphers" (IEEE S&P 2020, ePrint 2019/074):
 * TCCR(i, x) = π(π(x) ⊕ i) ⊕ π(x) and MMO-style variants, π = AES under a fixed key. They
 * hash 128-bit inputs, and their bounds (ideal-permutation model) are of the order of
 * q·p / 2^128 for q hash calls and p offline evaluations of π: with κ = 256 rows a
 * 128-bit-block construction caps the correlation robustness that protects Δ (and the
 * unchosen OT outputs) near 2^128 work minus log q, which is lowering κ in effect, and
 * the issue forbids that without a written argument in crypto/. A 256-bit variant from
 * a 128-bit permutation (halves combined) has no analysis we could cite, and keying
 * AES-256 with the secret row itself meets AES-256's related-key weaknesses (the rows
 * differ from each other by known XORs of Δ). So v_r stays H = SHA-256 (a random oracle
 * over the whole 32-byte row, index and sid) expanded by AES-256-CTR; what was slow was
 * OpenSSL's per-row re-key, now AES-NI (aes.h): about 0.28 µs a row. Measured options
 * (2-of-3 signing): a block-aligned hash prefix (one SHA-256 compression a row instead
 * of two, a v2 derivation) gained only 2-3% and was not worth a wire-incompatible
 * change. With κ = 128 (PARAMETERS.md) the 2^128 cap above no longer costs anything
 * and a fixed-key construction becomes arguable; it is not adopted: the output still
 * has to be stretched to three scalars, and the same one random-oracle hash serves both
 * κ. */
#ifndef TSS_OTE_H
#define TSS_OTE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rand.h"
#include "scalar.h"
#include "transcript.h"

#define TSS_OTE_KAPPA_MAX     256 /* largest κ: the arrays below are sized for it */
#define TSS_OTE_KAPPA_V2      256 /* κ of key shares of versions 1 and 2 */
#define TSS_OTE_KAPPA_DEFAULT 128 /* κ of new key shares (version 3): tss/PARAMETERS.md */
#define TSS_OTE_XI            512 /* extended OTs per extension */
#define TSS_OTE_S             128 /* statistical security λ_s, bits of the check field */
#define TSS_OTE_ROW_BYTES     ((TSS_OTE_XI + TSS_OTE_S) / 8) /* 80: one PRG row */
#define TSS_OTE_SCALARS       3 /* scalars each extended OT string expands to */
#define TSS_SID_TAG_BYTES     16

/* 1 if kappa is a κ this library implements (128 or 256), else 0. */
int tss_ote_kappa_valid(unsigned kappa);

/* Alice's setup: κ, Δ (bit ℓ = bit ℓ%8 of byte ℓ/8) and k_ℓ^{Δ_ℓ} for ℓ < κ. Secret.
 * Invariant: the bytes of delta and seed past κ are zero. */
typedef struct {
    uint16_t kappa;
    uint8_t delta[TSS_OTE_KAPPA_MAX / 8];
    uint8_t seed[TSS_OTE_KAPPA_MAX][32];
} tss_ote_sender_setup;

/* Bob's setup: κ, k_ℓ^0 and k_ℓ^1 for ℓ < κ (zero past κ). Secret. */
typedef struct {
    uint16_t kappa;
    uint8_t seed[TSS_OTE_KAPPA_MAX][2][32];
} tss_ote_receiver_setup;

/* Encodings: a 4-byte magic that names the format and κ ("OTA1" / "OTB1": κ = 256, the
 * encoding of key shares v1/v2; "OTA2" / "OTB2": κ = 128), then the fields for ℓ < κ. */
#define TSS_OTE_SENDER_SETUP_BYTES(kappa)   (4 + (size_t)(kappa) / 8 + (size_t)(kappa)*32)
#define TSS_OTE_RECEIVER_SETUP_BYTES(kappa) (4 + (size_t)(kappa)*2 * 32)
/* 8228 and 16388 bytes for κ = 256; 4116 and 8196 for κ = 128 */

/* Write TSS_OTE_*_SETUP_BYTES(s->kappa) bytes; s->kappa must be valid. */
void tss_ote_sender_setup_encode(uint8_t *out, const tss_ote_sender_setup *s);
void tss_ote_receiver_setup_encode(uint8_t *out, const tss_ote_receiver_setup *s);
/* Strict, for the κ the caller expects (the key share's): an invalid kappa is
 * TSS_ERR_ARG; exactly the right length (TSS_ERR_LENGTH) and the magic of that κ
 * (TSS_ERR_FORMAT); an all-zero Δ or seed table (an unfilled setup) is TSS_ERR_FORMAT.
 * On failure *s is zeroed. */
tss_err tss_ote_sender_setup_decode(tss_ote_sender_setup *s, unsigned kappa, const uint8_t *in,
                                    size_t len);
tss_err tss_ote_receiver_setup_decode(tss_ote_receiver_setup *s, unsigned kappa, const uint8_t *in,
                                      size_t len);

/* Setups in locked, non-dumpable memory (tss_secmem_alloc), zeroed but for kappa. NULL on
 * failure (or an invalid kappa). Free with the matching _free, which wipes. */
tss_ote_sender_setup *tss_ote_sender_setup_new(unsigned kappa);
void tss_ote_sender_setup_free(tss_ote_sender_setup *s);
tss_ote_receiver_setup *tss_ote_receiver_setup_new(unsigned kappa);
void tss_ote_receiver_setup_free(tss_ote_receiver_setup *s);

/* out = first 16 bytes of H("sid-tag", label, sid): the session check every message of
 * this layer starts with. */
void tss_sid_tag(uint8_t out[TSS_SID_TAG_BYTES], const char *label, const uint8_t sid[32]);

/* Bob → Alice: sid tag ‖ U (κ rows of 80 B) ‖ x̃ (16 B) ‖ t̃_ℓ (κ × 16 B). */
#define TSS_OTE_MSG_BYTES(kappa)                                                                   \
    (TSS_SID_TAG_BYTES + (size_t)(kappa)*TSS_OTE_ROW_BYTES + 16 + (size_t)(kappa)*16)
#define TSS_OTE_MSG_BYTES_MAX TSS_OTE_MSG_BYTES(TSS_OTE_KAPPA_MAX)
/* 24608 bytes for κ = 256, 12320 for κ = 128 */

/* One extended OT's output: TSS_OTE_SCALARS uniform scalars. */
typedef tss_scalar tss_ote_string[TSS_OTE_SCALARS];

/* Both extension functions refuse an unfilled setup (all-zero seeds, or Δ = 0 for Alice)
 * or one with an invalid κ with TSS_ERR_ARG before anything else. */

/* Bob, steps 1–3 and 6: extends with choice bits choice[0..64) (bit r = bit r%8 of byte
 * r/8), writes his message (TSS_OTE_MSG_BYTES(setup->kappa) bytes) to msg_out and the
 * 512 correlated rows t_r (κ bits, zero-padded to 32 bytes) to rows_out (secret;
 * caller-owned, e.g. in secmem). */
tss_err tss_ote_receiver_extend_rows(const tss_ote_receiver_setup *setup, const uint8_t sid[32],
                                     const uint8_t choice[TSS_OTE_XI / 8], const tss_rng *rng,
                                     uint8_t *msg_out, uint8_t rows_out[TSS_OTE_XI][32]);

/* Alice, steps 4–6: checks msg and writes the rows q_r with q_r = t_r ⊕ β_r·Δ (κ bits,
 * zero-padded to 32 bytes). TSS_ERR_LENGTH if len != TSS_OTE_MSG_BYTES(setup->kappa);
 * TSS_ERR_SESSION if the sid tag differs
 * (both before any OT work); TSS_ERR_OT_CHECK if the consistency check fails — a ban:
 * whether it passes depends on Δ, which every later extension reuses. */
tss_err tss_ote_sender_extend_rows(const tss_ote_sender_setup *setup, const uint8_t sid[32],
                                   const uint8_t *msg, size_t len,
                                   uint8_t rows_out[TSS_OTE_XI][32]);

/* Step 7: out[r] = TSS_OTE_SCALARS uniform scalars expanded (AES-256-CTR, 64 bytes per
 * scalar: two 32-byte candidates, the first below n wins) from the random-oracle output
 * H("ot/ext/out", sid, r, row_r), with row_r = rows[r] ⊕ (Δ if delta != NULL), all 32 bytes
 * (κ bits and the zero padding; delta is a setup's 32-byte array). Alice calls it twice
 * (without and with Δ), Bob once. TSS_ERR_NOMEM if OpenSSL fails (out is then zeroed). */
tss_err tss_ote_derive(tss_ote_string out[TSS_OTE_XI], const uint8_t sid[32],
                       const uint8_t rows[TSS_OTE_XI][32], const uint8_t *delta);

/* The same derivation one row at a time (so a caller can stream rows without holding all
 * outputs): init once per sid, then any rows, then done (which wipes). */
typedef struct {
    tss_transcript prefix; /* H("ot/ext/out", sid, ...) with the sid absorbed */
} tss_ote_deriver;

tss_err tss_ote_deriver_init(tss_ote_deriver *d, const uint8_t sid[32]);
tss_err tss_ote_deriver_row(tss_ote_deriver *d, uint32_t r, const uint8_t row[32],
                            const uint8_t *delta, tss_ote_string out);
void tss_ote_deriver_done(tss_ote_deriver *d);

/* Whole extension, Bob: message plus his outputs γ_r = v_{β_r}(r). */
tss_err tss_ote_receiver_extend(const tss_ote_receiver_setup *setup, const uint8_t sid[32],
                                const uint8_t choice[TSS_OTE_XI / 8], const tss_rng *rng,
                                uint8_t *msg_out, tss_ote_string out[TSS_OTE_XI]);

/* Whole extension, Alice: check (errors as tss_ote_sender_extend_rows), then her outputs
 * v0_r, v1_r. */
tss_err tss_ote_sender_extend(const tss_ote_sender_setup *setup, const uint8_t sid[32],
                              const uint8_t *msg, size_t len, tss_ote_string out0[TSS_OTE_XI],
                              tss_ote_string out1[TSS_OTE_XI]);

#endif
