/* tss/lagrange.c — interpolation coefficients for signer subsets. */
#include "lagrange.h"

#include "msg.h"

tss_err tss_check_index_set(const uint16_t *set, size_t count, uint16_t n)
{
    uint64_t seen = 0;
    if (set == NULL || count == 0 || count > TSS_MAX_PARTIES || n > TSS_MAX_PARTIES)
        return TSS_ERR_PARAMS;
    for (size_t i = 0; i < count; i++) {
        if (set[i] < 1 || set[i] > n || (seen >> set[i]) & 1)
            return TSS_ERR_PARAMS;
        seen |= 1ULL << set[i];
    }
    return TSS_OK;
}

tss_err tss_lagrange_at(tss_scalar *out, const uint16_t *set, size_t count, uint16_t me, uint16_t x)
{
    tss_scalar num, den, xj, xme, xx, t, inv;
    int found = 0;
    if (tss_check_index_set(set, count, TSS_MAX_PARTIES) != TSS_OK)
        return TSS_ERR_PARAMS;
    tss_scalar_set_u64(&num, 1);
    tss_scalar_set_u64(&den, 1);
    tss_scalar_set_u64(&xme, me);
    tss_scalar_set_u64(&xx, x);
    for (size_t i = 0; i < count; i++) {
        if (set[i] == me) {
            found = 1;
            continue;
        }
        tss_scalar_set_u64(&xj, set[i]);
        tss_scalar_sub(&t, &xx, &xj);
        tss_scalar_mul(&num, &num, &t);
        tss_scalar_sub(&t, &xme, &xj);
        tss_scalar_mul(&den, &den, &t);
    }
    if (!found)
        return TSS_ERR_PARAMS;
    tss_scalar_inverse(&inv, &den);
    tss_scalar_mul(out, &num, &inv);
    return TSS_OK;
}

tss_err tss_lagrange_at_zero(tss_scalar *out, const uint16_t *set, size_t count, uint16_t me)
{
    return tss_lagrange_at(out, set, count, me, 0);
}
