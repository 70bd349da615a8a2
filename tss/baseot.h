/* tss/baseot.h — κ base OTs per ordered pair (κ = 128 for new keys, ote.h): Masny–Rindal endemic OT
 * (ePrint 2019/706, Fig. 8) over secp256k1, DKLS23.md §3.
 *
 * Roles are reversed with respect to the extension: the base-OT RECEIVER is the
 * extension sender (Alice); its random choice bits become Δ. The base-OT SENDER is the
 * extension receiver (Bob). Two messages:
 *   msg1, receiver → sender: per instance ℓ, (Q_0, Q_1) where, for c = Δ_ℓ,
 *         Q_{1−c} = a uniformly random point (hash-to-curve of fresh bytes: a REAL group
 *         element, indistinguishable from Q_c — the sl-crypto bug was random bytes here),
 *         Q_c = a_ℓ·G − H2C(sid, ℓ, c, Q_{1−c}).
 *   msg2, sender → receiver: B = β·G.
 * The sender computes M_b = Q_b + H2C(sid, ℓ, b, Q_{1−b}) (rejecting M_b = ∞, which a
 * receiver could force) and keys ρ_b = H("ot/base/key", sid, ℓ, b, B, Q_0, Q_1, β·M_b);
 * the receiver gets ρ_c = H(…, a_ℓ·B) since M_c = a_ℓ·G.
 *
 * Security decision — one sender secret β per batch, shared by both slots and all κ
 * instances (one B instead of 512): this is the DH instantiation of MR19 (the sender's
 * key-agreement message is independent of the receiver's message, so it can be sent
 * once) and what libOTe's MasnyRindal does. In the random-oracle model the receiver
 * learning ρ_{1−c} means computing CDH(B, M_{1−c}) where M_{1−c} contains a random-oracle
 * output it cannot choose; binding ℓ, b, sid, B and both Q's into every key hash (which
 * libOTe does not) keeps instances and slots from being related to each other. The
 * sender's cost is then two constant-time variable-base multiplications per instance.
 *
 * Constant time in the choice bits and in every scalar: both slot hashes H2C(…, 0, R) and
 * H2C(…, 1, R) are computed and selected with masks; secret scalar multiplications of
 * arbitrary points go through secp256k1_ecdh (ecmult_const), never through
 * tss_point_mul (libsecp256k1's tweak_mul, which is variable time). Every received point
 * is strictly parsed (33 bytes, 0x02/0x03, x < p, on the curve, never infinity), all of
 * them before the sender draws β.
 *
 * Cost (bench/bench_ot.c, 2-core x86-64, libsecp256k1 0.2.0): receiver start 15 ms,
 * sender 31 ms, receiver finish 10.5 ms — 57 ms per ordered pair, 340 ms for the six
 * ordered pairs of a 2-of-3 key generation (each party computes only its own sides:
 * about 113 ms). The floor of this design with the public libsecp256k1 API is the 768
 * constant-time variable-base multiplications (about 40 µs each, 31 ms per pair) plus
 * 256 base multiplications and about 1,000 hash-to-curve tries of 5 µs.
 *
 * Issue 14 (keygen 2-of-3 <= 100 ms, missed; measured 150-160 ms, one batch per
 * unordered pair, three batches): perf of a 2-of-3 key generation puts 52% in
 * secp256k1_ecdh (35% the sender's β·M_b, 18% the receiver's a_ℓ·B), 27% in point
 * parsing (the square root of every hash-to-curve try and of the 512 received Q's) and
 * 10% in ecmult_gen. Per batch that is about 45 ms of unavoidable calls on an idle core,
 * 135 ms for three, before the rest of the DKG. Below that needs either our own
 * constant-time field and group code (a precomputed table for the one point B that all
 * 256 receiver multiplications share, batched normalisation, a cheaper square test for
 * failed tries), which libsecp256k1 0.2 does not export, or a base OT with one sender
 * multiplication per instance (Chou-Orlandi style, with the batching rules of McQuoid,
 * Rosulek and Roy, "Batching Base Oblivious Transfers", Asiacrypt 2021), a protocol
 * change that DKLS23.md would have to adopt first.
 * What was done instead: κ = 128 for new keys (PARAMETERS.md has the argument), which
 * halves every figure above. Measured side by side in one process (tss-bench --cpu,
 * CPU time, machine shared): base OTs per ordered pair 24.3 ms (κ = 128) against
 * 49.1 ms (κ = 256); key generation 2-of-3, all parties, 72 ms against 142 ms
 * (medians of 51). */
#ifndef TSS_BASEOT_H
#define TSS_BASEOT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ote.h"
#include "point.h"
#include "rand.h"
#include "scalar.h"

#define TSS_BASEOT_COUNT_MAX TSS_OTE_KAPPA_MAX
/* msg1 for κ instances: 8464 bytes for κ = 128, 16912 for κ = 256 */
#define TSS_BASEOT_MSG1_BYTES(kappa) (TSS_SID_TAG_BYTES + (size_t)(kappa)*2 * 33)
#define TSS_BASEOT_MSG1_BYTES_MAX    TSS_BASEOT_MSG1_BYTES(TSS_BASEOT_COUNT_MAX)
#define TSS_BASEOT_MSG2_BYTES        (TSS_SID_TAG_BYTES + 33) /* 49 */

/* The receiver's state between its two calls. Secret: allocate with
 * tss_baseot_receiver_new (locked memory) and release with tss_baseot_receiver_free. */
typedef struct {
    uint8_t sid[32];
    uint16_t kappa;                          /* instances */
    uint8_t delta[TSS_BASEOT_COUNT_MAX / 8]; /* choice bits c_ℓ = Δ_ℓ (zero past κ) */
    tss_scalar a[TSS_BASEOT_COUNT_MAX];      /* a_ℓ */
    uint8_t q[TSS_BASEOT_COUNT_MAX][2][33];  /* Q_0, Q_1 as sent */
    int started;
} tss_baseot_receiver;

tss_baseot_receiver *tss_baseot_receiver_new(void);
void tss_baseot_receiver_free(tss_baseot_receiver *st);

/* Receiver (extension sender, Alice), message 1 (TSS_BASEOT_MSG1_BYTES(kappa) bytes) for
 * kappa instances (tss_ote_kappa_valid, else TSS_ERR_ARG). Draws Δ and the a_ℓ from rng.
 * sid is the base-OT sid, H(DKG sid, sender, receiver), fresh per ordered pair. */
tss_err tss_baseot_receiver_start(tss_baseot_receiver *st, const uint8_t sid[32], unsigned kappa,
                                  const tss_rng *rng, uint8_t *msg1_out);

/* Sender (extension receiver, Bob): checks msg1 and answers with msg2; setup_out receives
 * both keys of every instance (Bob's extension setup); the number of instances is
 * setup_out->kappa (tss_ote_kappa_valid, else TSS_ERR_ARG), and len must be
 * TSS_BASEOT_MSG1_BYTES(setup_out->kappa). Errors: TSS_ERR_LENGTH,
 * TSS_ERR_SESSION (sid tag differs; checked first), TSS_ERR_POINT (a point fails strict
 * parsing), TSS_ERR_INFINITY (some M_b = ∞), TSS_ERR_RAND. On error setup_out is zeroed. */
tss_err tss_baseot_sender_respond(const uint8_t sid[32], const uint8_t *msg1, size_t len,
                                  const tss_rng *rng, uint8_t msg2_out[TSS_BASEOT_MSG2_BYTES],
                                  tss_ote_receiver_setup *setup_out);

/* Receiver, message 2: setup_out receives Δ and k_ℓ^{Δ_ℓ} (Alice's extension setup; its
 * kappa must equal the state's, else TSS_ERR_ARG). The state's secrets are wiped whatever
 * the result. Errors: TSS_ERR_STATE, TSS_ERR_LENGTH, TSS_ERR_SESSION, TSS_ERR_POINT. */
tss_err tss_baseot_receiver_finish(tss_baseot_receiver *st, const uint8_t *msg2, size_t len,
                                   tss_ote_sender_setup *setup_out);

/* out = H2C("ot/base/h2c", sid, ℓ, b, other): the slot hash of instance ℓ. Public so that
 * tests and auditors can recompute M_b. */
tss_err tss_baseot_h2c(tss_point *out, const uint8_t sid[32], uint32_t l, uint32_t b,
                       const uint8_t other[33]);

#endif
