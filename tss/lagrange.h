/* tss/lagrange.h — Lagrange coefficients at zero for Shamir shares at x = party index. */
#ifndef TSS_LAGRANGE_H
#define TSS_LAGRANGE_H

#include <stddef.h>
#include <stdint.h>

#include "scalar.h"

/* out = prod_{j in set, j != me} x_j / (x_j - x_me), with x_j = j. The set (count >= 1)
 * must hold distinct indices in 1..TSS_MAX_PARTIES and contain me; else TSS_ERR_PARAMS.
 * Indices are public, so this is not constant time in them. */
tss_err tss_lagrange_at_zero(tss_scalar *out, const uint16_t *set, size_t count, uint16_t me);

/* out = prod_{j in set, j != me} (x - x_j) / (x_me - x_j): the coefficient of share `me`
 * when interpolating at x (x = 0 gives tss_lagrange_at_zero). Same rules for the set. */
tss_err tss_lagrange_at(tss_scalar *out, const uint16_t *set, size_t count, uint16_t me,
                        uint16_t x);

/* Checks that set[0..count) holds distinct indices in 1..n. TSS_OK or TSS_ERR_PARAMS. */
tss_err tss_check_index_set(const uint16_t *set, size_t count, uint16_t n);

#endif
