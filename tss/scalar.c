/* tss/scalar.c — constant-time arithmetic modulo the secp256k1 group order.
 * Reduction uses 2^256 = N_C (mod n), with N_C = 2^256 - n < 2^129: a 512-bit value
 * H*2^256 + L folds to L + H*N_C three times until it is below 2^256 + 2^132, then one
 * masked subtraction of n finishes it. All loops have fixed trip counts. */
#include "scalar.h"

#include <string.h>

#include "secmem.h"

typedef unsigned __int128 u128;

/* n, little-endian limbs */
static const uint64_t TSS_N[4] = {0xBFD25E8CD0364141ULL, 0xBAAEDCE6AF48A03BULL,
                                  0xFFFFFFFFFFFFFFFEULL, 0xFFFFFFFFFFFFFFFFULL};
/* 2^256 - n (three limbs; the top one is 1) */
static const uint64_t TSS_NC[3] = {0x402DA1732FC9BEBFULL, 0x4551231950B75FC4ULL, 1ULL};

/* r[0..4) = x[0..4) mod n given x = x[0..4) + carry*2^256 < 2n.
 * x >= n  <=>  carry or (x + N_C overflows 2^256); then x - n = x + N_C mod 2^256. */
static void tss_scalar_final_sub(uint64_t r[4], const uint64_t x[4], uint64_t carry)
{
    uint64_t t[4];
    u128 acc = (u128)x[0] + TSS_NC[0];
    t[0] = (uint64_t)acc;
    acc = (acc >> 64) + x[1] + TSS_NC[1];
    t[1] = (uint64_t)acc;
    acc = (acc >> 64) + x[2] + TSS_NC[2];
    t[2] = (uint64_t)acc;
    acc = (acc >> 64) + x[3];
    t[3] = (uint64_t)acc;
    uint64_t over = (uint64_t)(acc >> 64) | carry;
    uint64_t mask = 0 - over; /* all ones when x >= n */
    for (int i = 0; i < 4; i++)
        r[i] = (t[i] & mask) | (x[i] & ~mask);
}

/* out[0..ln) = lo[0..4) (zero-extended) + hi[0..hn) * N_C; ln = max(4, hn + 3) + 1. */
static void tss_fold(uint64_t *out, int ln, const uint64_t lo[4], const uint64_t *hi, int hn)
{
    for (int i = 0; i < ln; i++)
        out[i] = i < 4 ? lo[i] : 0;
    for (int i = 0; i < hn; i++) {
        u128 carry = 0;
        for (int j = 0; j < 3; j++) {
            u128 acc = (u128)hi[i] * TSS_NC[j] + out[i + j] + carry;
            out[i + j] = (uint64_t)acc;
            carry = acc >> 64;
        }
        for (int k = i + 3; k < ln; k++) {
            u128 acc = (u128)out[k] + carry;
            out[k] = (uint64_t)acc;
            carry = acc >> 64;
        }
    }
}

/* r = x mod n for a 512-bit x (little-endian limbs). */
static void tss_scalar_reduce512(tss_scalar *r, const uint64_t x[8])
{
    uint64_t a[8], b[6], c[5];
    tss_fold(a, 8, x, x + 4, 4); /* < 2^256 + 2^385: 7 significant limbs */
    tss_fold(b, 6, a, a + 4, 3); /* < 2^256 + 2^258 */
    tss_fold(c, 5, b, b + 4, 1); /* b[5] == 0 here; < 2^256 + 2^132 */
    tss_scalar_final_sub(r->d, c, c[4]);
    tss_memzero(a, sizeof a);
    tss_memzero(b, sizeof b);
    tss_memzero(c, sizeof c);
}

void tss_scalar_set_u64(tss_scalar *r, uint64_t v)
{
    r->d[0] = v;
    r->d[1] = r->d[2] = r->d[3] = 0;
}

static void tss_load_be32(uint64_t d[4], const uint8_t in[32])
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        for (int k = 0; k < 8; k++)
            v = (v << 8) | in[(3 - i) * 8 + k];
        d[i] = v;
    }
}

tss_err tss_scalar_parse(tss_scalar *r, const uint8_t in[32])
{
    uint64_t x[4];
    tss_load_be32(x, in);
    /* x >= n iff x - n does not borrow */
    u128 borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 diff = (u128)x[i] - TSS_N[i] - borrow;
        borrow = (diff >> 64) & 1;
    }
    uint64_t overflow = (uint64_t)borrow ^ 1;
    tss_scalar_final_sub(r->d, x, 0);
    tss_memzero(x, sizeof x);
    return overflow ? TSS_ERR_RANGE : TSS_OK; /* the range result is public */
}

void tss_scalar_reduce32(tss_scalar *r, const uint8_t in[32])
{
    uint64_t x[4];
    tss_load_be32(x, in);
    tss_scalar_final_sub(r->d, x, 0);
    tss_memzero(x, sizeof x);
}

void tss_scalar_reduce64(tss_scalar *r, const uint8_t in[64])
{
    uint64_t x[8];
    tss_load_be32(x + 4, in);
    tss_load_be32(x, in + 32);
    tss_scalar_reduce512(r, x);
    tss_memzero(x, sizeof x);
}

void tss_scalar_serialize(uint8_t out[32], const tss_scalar *a)
{
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 8; k++)
            out[(3 - i) * 8 + k] = (uint8_t)(a->d[i] >> (56 - 8 * k));
}

void tss_scalar_add(tss_scalar *r, const tss_scalar *a, const tss_scalar *b)
{
    uint64_t x[4];
    u128 acc = 0;
    for (int i = 0; i < 4; i++) {
        acc += (u128)a->d[i] + b->d[i];
        x[i] = (uint64_t)acc;
        acc >>= 64;
    }
    tss_scalar_final_sub(r->d, x, (uint64_t)acc);
    tss_memzero(x, sizeof x);
}

void tss_scalar_negate(tss_scalar *r, const tss_scalar *a)
{
    /* n - a, masked to 0 when a == 0 (n - 0 = n is not reduced) */
    uint64_t nz = (uint64_t)(tss_scalar_is_zero(a) ^ 1);
    uint64_t mask = 0 - nz;
    u128 borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 diff = (u128)TSS_N[i] - a->d[i] - borrow;
        r->d[i] = (uint64_t)diff & mask;
        borrow = (diff >> 64) & 1;
    }
}

void tss_scalar_sub(tss_scalar *r, const tss_scalar *a, const tss_scalar *b)
{
    tss_scalar nb;
    tss_scalar_negate(&nb, b);
    tss_scalar_add(r, a, &nb);
    tss_scalar_clear(&nb);
}

void tss_scalar_mul(tss_scalar *r, const tss_scalar *a, const tss_scalar *b)
{
    uint64_t x[8] = {0};
    for (int i = 0; i < 4; i++) {
        u128 carry = 0;
        for (int j = 0; j < 4; j++) {
            u128 acc = (u128)a->d[i] * b->d[j] + x[i + j] + carry;
            x[i + j] = (uint64_t)acc;
            carry = acc >> 64;
        }
        x[i + 4] = (uint64_t)carry;
    }
    tss_scalar_reduce512(r, x);
    tss_memzero(x, sizeof x);
}

void tss_scalar_inverse(tss_scalar *r, const tss_scalar *a)
{
    /* a^(n-2) by left-to-right square-and-multiply; the exponent is public, so branching
     * on its bits leaks nothing about a. */
    static const uint64_t e[4] = {0xBFD25E8CD036413FULL, 0xBAAEDCE6AF48A03BULL,
                                  0xFFFFFFFFFFFFFFFEULL, 0xFFFFFFFFFFFFFFFFULL};
    tss_scalar acc, base = *a;
    tss_scalar_set_u64(&acc, 1);
    for (int i = 255; i >= 0; i--) {
        tss_scalar_mul(&acc, &acc, &acc);
        if ((e[i / 64] >> (i % 64)) & 1)
            tss_scalar_mul(&acc, &acc, &base);
    }
    *r = acc;
    tss_scalar_clear(&acc);
    tss_scalar_clear(&base);
}

int tss_scalar_is_zero(const tss_scalar *a)
{
    uint64_t z = a->d[0] | a->d[1] | a->d[2] | a->d[3];
    return (int)(((z | (0 - z)) >> 63) ^ 1);
}

int tss_scalar_eq(const tss_scalar *a, const tss_scalar *b)
{
    uint64_t z = (a->d[0] ^ b->d[0]) | (a->d[1] ^ b->d[1]) | (a->d[2] ^ b->d[2]) |
                 (a->d[3] ^ b->d[3]);
    return (int)(((z | (0 - z)) >> 63) ^ 1);
}

void tss_scalar_cmov(tss_scalar *r, const tss_scalar *a, int flag)
{
    uint64_t mask = 0 - (uint64_t)(flag & 1);
    for (int i = 0; i < 4; i++)
        r->d[i] = (a->d[i] & mask) | (r->d[i] & ~mask);
}

void tss_scalar_clear(tss_scalar *r)
{
    tss_memzero(r, sizeof *r);
}
