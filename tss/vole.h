/* tss/vole.h — two-party random VOLE, DKLs23 Protocol 5.2 with the corrected indices
 * (DKLS23.md §4), over the OT extension of ote.h.
 *
 * Bob (the extension receiver) gets a random b = Σ_r β_r·g_r, with β ∈ {0,1}^512 and the
 * gadget g_r = the r-th 64-byte block of AES-256-CTR keyed by H("vole/gadget", sid), mod n
 * (a public sid-bound random vector); Alice (the extension sender) inputs a_1, a_2.
 * They end with c_k (Alice) and d_k (Bob) such that c_k + d_k = a_k·b, k = 1, 2.
 *
 *   msg1 Bob → Alice: the extension message (TSS_OTE_MSG_BYTES).
 *   msg2 Alice → Bob: sid tag ‖ ã_{r,k} (512 × 3 scalars) ‖ η̂ ‖ μ (64 bytes), where
 *     ã_{r,k} = α0_{r,k} − α1_{r,k} + a_k (k = 1, 2), ã_{r,3} = α0_{r,3} − α1_{r,3} + η,
 *     θ_k = H_q("vole/theta", sid, ã, k), η̂ = η + Σ_k θ_k·a_k,
 *     μ = H64("vole/mu", sid, (α0_{r,3} + Σ_k θ_k·α0_{r,k})_r).
 *   Bob: d̄_{r,k} = γ_{r,k} + β_r·ã_{r,k}; he checks that
 *     H64("vole/mu", sid, (d̄_{r,3} + Σ_k θ_k·d̄_{r,k} − β_r·η̂)_r) = μ   (tss_ct_eq),
 *   and outputs d_k = Σ_r g_r·d̄_{r,k}. Alice outputs c_k = −Σ_r g_r·α0_{r,k}.
 *
 * Sizes per ordered pair and VOLE: msg1 12,320 B with κ = 128 (24,608 B with κ = 256,
 * key shares v1/v2), msg2 49,264 B whatever κ is: 61,584 B in all (73,872 B with κ = 256;
 * the audited implementations: 58.8 KB [SL, SoftSpokenOT] and 80.3 KB [CB]).
 * ξ = 512 is not tied to κ: b = Σ β_r·g_r must be statistically close to uniform mod n
 * when a few bits of β leak, which needs ξ >= log2(n) + 2λ_s = 256 + 256 (DKLs19 §3.1,
 * leftover hash lemma; tss/PARAMETERS.md point 5), whatever the width of Δ.
 * Cost (bench/bench_ot.c, 2-core x86-64, shared and loaded): Bob start 0.38 ms, Alice
 * 0.69 ms, Bob finish 0.19 ms, about 1.26 ms per ordered pair (1.7-1.9 ms before issue
 * 14). With κ = 128 (tss-bench --cpu ot, side by side): 0.99 ms per ordered pair
 * against 1.12 ms with κ = 256; Bob's start (the extension) is what shrinks. The largest part is
 * still the 4,608 scalars derived from the OT rows: per row one SHA-256 (two compressions), an
 * AES-256 key schedule and 12 blocks with AES-NI (aes.h), and one carry chain per candidate, about
 * 0.16 ms per 512 rows (0.26 ms with EVP).
 *
 * Errors: TSS_ERR_LENGTH and TSS_ERR_SESSION are plain aborts and are checked before any
 * OT work; TSS_ERR_FORMAT for a non-canonical scalar encoding; TSS_ERR_OT_CHECK (Alice)
 * and TSS_ERR_VOLE_CHECK (Bob) are ban-class: on an authenticated message the caller must
 * ban the peer, since whether the checks pass can depend on Δ or β.
 * Constant time in β, Δ, a, η and the check values. The sid must be fresh per VOLE and
 * per ordered pair (it binds the DKG sid, the signing sid and (sender, receiver)). */
#ifndef TSS_VOLE_H
#define TSS_VOLE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ote.h"
#include "rand.h"
#include "scalar.h"

#define TSS_VOLE_INPUTS            2                        /* a_1, a_2 */
#define TSS_VOLE_MSG1_BYTES(kappa) TSS_OTE_MSG_BYTES(kappa) /* the setup's κ */
#define TSS_VOLE_MSG1_BYTES_MAX    TSS_OTE_MSG_BYTES_MAX
#define TSS_VOLE_MSG2_BYTES                                                                        \
    (TSS_SID_TAG_BYTES + TSS_OTE_XI * TSS_OTE_SCALARS * 32 + 32 + 64) /* 49264 */

/* Bob's state between his two calls. Secret: allocate with tss_vole_bob_new (locked
 * memory), release with tss_vole_bob_free. */
typedef struct {
    uint8_t sid[32];
    uint8_t beta[TSS_OTE_XI / 8];
    tss_ote_string gamma[TSS_OTE_XI]; /* his OT outputs; d̄ after finish */
    tss_scalar g[TSS_OTE_XI];         /* gadget vector (public) */
    uint8_t work[TSS_OTE_XI][32];     /* scratch: OT rows, then the μ inputs */
    int started;
} tss_vole_bob;

tss_vole_bob *tss_vole_bob_new(void);
void tss_vole_bob_free(tss_vole_bob *st);

/* Bob, step 1: draws β, outputs his random input b and msg1
 * (TSS_VOLE_MSG1_BYTES(setup->kappa) bytes). */
tss_err tss_vole_bob_start(tss_vole_bob *st, const tss_ote_receiver_setup *setup,
                           const uint8_t sid[32], const tss_rng *rng, tss_scalar *b_out,
                           uint8_t *msg1_out);

/* Alice, step 2: runs the extension check (TSS_ERR_OT_CHECK: ban Bob), then outputs c and
 * msg2. len must be TSS_VOLE_MSG1_BYTES(setup->kappa) (TSS_ERR_LENGTH). On error c_out is zeroed
 * and msg2_out must not be sent. */
tss_err tss_vole_alice_respond(const tss_ote_sender_setup *setup, const uint8_t sid[32],
                               const tss_scalar a[TSS_VOLE_INPUTS], const uint8_t *msg1, size_t len,
                               const tss_rng *rng, tss_scalar c_out[TSS_VOLE_INPUTS],
                               uint8_t msg2_out[TSS_VOLE_MSG2_BYTES]);

/* Bob, step 3: checks μ (TSS_ERR_VOLE_CHECK: ban Alice) and outputs d. The state is
 * wiped whatever the result (single use; a second call gives TSS_ERR_STATE). On error
 * d_out is zeroed. */
tss_err tss_vole_bob_finish(tss_vole_bob *st, const uint8_t *msg2, size_t len,
                            tss_scalar d_out[TSS_VOLE_INPUTS]);

#endif
