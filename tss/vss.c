/* tss/vss.c — Feldman VSS (vss.h): evaluating a dealer's secret polynomial in constant
 * time, its commitments at a public point, and the share check. */
#include "vss.h"

#include "msg.h" /* TSS_MAX_PARTIES */

void tss_vss_eval(tss_scalar *out, const tss_scalar *coef, uint8_t t, uint16_t x)
{
    tss_scalar xs, acc = coef[t - 1];
    tss_scalar_set_u64(&xs, x);
    for (int k = t - 2; k >= 0; k--) {
        tss_scalar_mul(&acc, &acc, &xs);
        tss_scalar_add(&acc, &acc, &coef[k]);
    }
    *out = acc;
    tss_scalar_clear(&acc);
}

tss_err tss_vss_commit_eval(tss_point *out, const tss_point *A, uint8_t t, uint16_t x)
{
    tss_point terms[TSS_MAX_PARTIES];
    tss_scalar xs, xk;
    tss_err err;
    tss_scalar_set_u64(&xs, x);
    xk = xs;
    terms[0] = A[0];
    for (int k = 1; k < t; k++) {
        if ((err = tss_point_mul(&terms[k], &A[k], &xk)) != TSS_OK)
            return err;
        tss_scalar_mul(&xk, &xk, &xs);
    }
    return tss_point_sum(out, terms, t);
}

int tss_vss_share_ok(const tss_point *A, uint8_t t, uint16_t x, const tss_scalar *share)
{
    tss_point lhs, rhs;
    if (tss_point_base_mul(&lhs, share) != TSS_OK)
        return 0;
    if (tss_vss_commit_eval(&rhs, A, t, x) != TSS_OK)
        return 0; /* an identity result is an error, not a crash (TOB-SILA-3) */
    return tss_point_eq(&lhs, &rhs);
}
