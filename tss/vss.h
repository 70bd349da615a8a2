/* tss/vss.h — Feldman verifiable secret sharing over secp256k1, as the DKG and the
 * resharing deal it: a dealer's secret polynomial f(x) = a_0 + a_1 x + ... + a_{t-1} x^{t-1},
 * published as the coefficient commitments A_k = a_k*G, and the check that a share f(x)
 * matches them (DKLS23.md §2, check 4). Evaluation points x are party indices (public).
 * Nothing here draws randomness or allocates. */
#ifndef TSS_VSS_H
#define TSS_VSS_H

#include <stdint.h>

#include "point.h"
#include "scalar.h"

/* *out = f(x) = sum_{k<t} coef[k] * x^k (Horner), 1 <= t <= TSS_MAX_PARTIES.
 * Constant time in the coefficients (secret) and in the result: no branch or index depends
 * on them; t and x are public. The intermediate is cleared; the caller owns and clears *out.
 * out may not alias coef. */
void tss_vss_eval(tss_scalar *out, const tss_scalar *coef, uint8_t t, uint16_t x);

/* *out = sum_{k<t} x^k * A[k], the committed polynomial at x, i.e. f(x)*G, from public
 * commitments A[0..t), 1 <= t <= TSS_MAX_PARTIES, x >= 1. Variable time (public data only).
 * TSS_ERR_INFINITY when a term or the sum is the identity (which a tss_point cannot hold);
 * *out is then unspecified. */
tss_err tss_vss_commit_eval(tss_point *out, const tss_point *A, uint8_t t, uint16_t x);

/* 1 when share*G == sum_{k<t} x^k * A[k], the Feldman check of a share f(x) against the
 * dealer's commitments; 0 when it differs, when share is zero, or when the committed value
 * is the identity — an identity result is a failure, never a crash (TOB-SILA-3).
 * share is secret: it enters only tss_point_base_mul (constant time); the verdict is public.
 * Arguments as tss_vss_commit_eval. */
int tss_vss_share_ok(const tss_point *A, uint8_t t, uint16_t x, const tss_scalar *share);

#endif
