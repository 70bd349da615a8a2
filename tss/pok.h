/* tss/pok.h — Schnorr proofs of knowledge of a discrete logarithm (Fiat–Shamir).
 * proof = R (33) || z (32) with R = k*G, e = H("pok", context, prover, X, R), z = k + e*x.
 * The context carries the session id and a label, so a proof made for one statement,
 * session or prover cannot be replayed for another (DKLS23.md §2, check 3). */
#ifndef TSS_POK_H
#define TSS_POK_H

#include <stddef.h>
#include <stdint.h>

#include "point.h"
#include "rand.h"
#include "scalar.h"

#define TSS_POK_BYTES 65

/* Writes a proof context, label || sid || extra (label without its NUL; sid 32 bytes;
 * extra_len may be 0, extra then unused), to ctx, which must hold
 * strlen(label) + 32 + extra_len bytes, and returns that length. Public data. The DKG and
 * the resharing bind their proofs to their run's sid this way. */
size_t tss_pok_context(uint8_t *ctx, const char *label, const uint8_t sid[32], const uint8_t *extra,
                       size_t extra_len);

/* Proves knowledge of x with X = x*G. x is secret (constant-time); k from rng. */
tss_err tss_pok_prove(uint8_t proof[TSS_POK_BYTES], const tss_scalar *x, const tss_point *X,
                      const uint8_t *context, size_t context_len, uint16_t prover,
                      const tss_rng *rng);

/* TSS_OK if proof shows knowledge of log_G(X) for (context, prover); else TSS_ERR_PROOF. */
tss_err tss_pok_verify(const uint8_t proof[TSS_POK_BYTES], const tss_point *X,
                       const uint8_t *context, size_t context_len, uint16_t prover);

#endif
