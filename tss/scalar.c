/* tss/scalar.c — constant-time arithmetic modulo the secp256k1 group order.
 * Reduction uses 2^256 = N_C (mod n), with N_C = 2^256 - n < 2^129: a 512-bit value
 * H*2^256 + L folds to L + H*N_C three times until it is below 2^256 + 2^133, then one
 * masked subtraction of n finishes it. Straight-line code: no loop or branch depends on
 * a value. */
#include "scalar.h"

#include <string.h>

#include "secmem.h"

typedef unsigned __int128 u128;

/* n, little-endian limbs */
static const uint64_t TSS_N[4] = {0xBFD25E8CD0364141ULL, 0xBAAEDCE6AF48A03BULL,
                                  0xFFFFFFFFFFFFFFFEULL, 0xFFFFFFFFFFFFFFFFULL};
/* 2^256 - n (three limbs; the top one is 1) */
static const uint64_t TSS_NC[3] = {0x402DA1732FC9BEBFULL, 0x4551231950B75FC4ULL, 1ULL};

/* Wipes n limbs of a stack temporary. The empty asm that takes the array's address and
 * clobbers memory keeps the compiler from dropping the stores as dead (the job
 * explicit_bzero does), without a library call in the innermost arithmetic. */
static inline void tss_wipe_limbs(uint64_t *x, int n)
{
    for (int i = 0; i < n; i++)
        x[i] = 0;
    __asm__ __volatile__("" : : "r"(x) : "memory");
}

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

/* A 192-bit accumulator (c0, c1, c2) for product scanning: every step is a fixed sequence
 * of multiplications and carries, with no data-dependent branch. */
typedef struct {
    uint64_t c0, c1, c2;
} tss_acc;

static inline void acc_muladd(tss_acc *a, uint64_t x, uint64_t y)
{
    u128 t = (u128)x * y + a->c0;
    a->c0 = (uint64_t)t;
    t = (t >> 64) + a->c1;
    a->c1 = (uint64_t)t;
    a->c2 += (uint64_t)(t >> 64);
}

static inline void acc_add(tss_acc *a, uint64_t x)
{
    u128 t = (u128)a->c0 + x;
    a->c0 = (uint64_t)t;
    t = (t >> 64) + a->c1;
    a->c1 = (uint64_t)t;
    a->c2 += (uint64_t)(t >> 64);
}

static inline uint64_t acc_extract(tss_acc *a)
{
    uint64_t r = a->c0;
    a->c0 = a->c1;
    a->c1 = a->c2;
    a->c2 = 0;
    return r;
}

/* r = x mod n for a 512-bit x (little-endian limbs), using 2^256 = N_C (mod n):
 *   stage 1: m = x[0..4) + x[4..8) * N_C           (< 2^386: 7 limbs)
 *   stage 2: p = m[0..4) + m[4..7) * N_C           (< 2^259: 5 limbs)
 *   stage 3: r = p[0..4) + p[4] * N_C              (< 2^256 + 2^132: 4 limbs + carry)
 * then one masked subtraction of n. N_C = (NC0, NC1, 1). */
static void tss_scalar_reduce512(tss_scalar *r, const uint64_t x[8])
{
    const uint64_t nc0 = TSS_NC[0], nc1 = TSS_NC[1];
    const uint64_t n0 = x[4], n1 = x[5], n2 = x[6], n3 = x[7];
    uint64_t m0, m1, m2, m3, m4, m5, m6, p0, p1, p2, p3, p4, t[4];
    tss_acc a = {x[0], 0, 0};

    acc_muladd(&a, n0, nc0);
    m0 = acc_extract(&a);
    acc_add(&a, x[1]);
    acc_muladd(&a, n1, nc0);
    acc_muladd(&a, n0, nc1);
    m1 = acc_extract(&a);
    acc_add(&a, x[2]);
    acc_muladd(&a, n2, nc0);
    acc_muladd(&a, n1, nc1);
    acc_add(&a, n0);
    m2 = acc_extract(&a);
    acc_add(&a, x[3]);
    acc_muladd(&a, n3, nc0);
    acc_muladd(&a, n2, nc1);
    acc_add(&a, n1);
    m3 = acc_extract(&a);
    acc_muladd(&a, n3, nc1);
    acc_add(&a, n2);
    m4 = acc_extract(&a);
    acc_add(&a, n3);
    m5 = acc_extract(&a);
    m6 = a.c0;

    a = (tss_acc){m0, 0, 0};
    acc_muladd(&a, m4, nc0);
    p0 = acc_extract(&a);
    acc_add(&a, m1);
    acc_muladd(&a, m5, nc0);
    acc_muladd(&a, m4, nc1);
    p1 = acc_extract(&a);
    acc_add(&a, m2);
    acc_muladd(&a, m6, nc0);
    acc_muladd(&a, m5, nc1);
    acc_add(&a, m4);
    p2 = acc_extract(&a);
    acc_add(&a, m3);
    acc_muladd(&a, m6, nc1);
    acc_add(&a, m5);
    p3 = acc_extract(&a);
    p4 = a.c0 + m6;

    u128 c = (u128)p0 + (u128)p4 * nc0;
    t[0] = (uint64_t)c;
    c = (c >> 64) + p1 + (u128)p4 * nc1;
    t[1] = (uint64_t)c;
    c = (c >> 64) + p2 + p4;
    t[2] = (uint64_t)c;
    c = (c >> 64) + p3;
    t[3] = (uint64_t)c;
    tss_scalar_final_sub(r->d, t, (uint64_t)(c >> 64));
    tss_wipe_limbs(t, 4);
}

void tss_scalar_set_u64(tss_scalar *r, uint64_t v)
{
    r->d[0] = v;
    r->d[1] = r->d[2] = r->d[3] = 0;
}

/* Big-endian 8-byte loads and stores: memcpy + byte swap (one load and one bswap per
 * limb; the byte-at-a-time loops they replace were a tenth of a signature's time). */
static inline uint64_t tss_be64_load(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void tss_be64_store(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

static void tss_load_be32(uint64_t d[4], const uint8_t in[32])
{
    for (int i = 0; i < 4; i++)
        d[i] = tss_be64_load(in + (3 - i) * 8);
}

tss_err tss_scalar_parse(tss_scalar *r, const uint8_t in[32])
{
    /* x >= n iff x + N_C carries out of 2^256; tss_scalar_final_sub computes the same sum
     * and selects x - n = x + N_C mod 2^256 in that case, so one pass gives both. */
    uint64_t x[4];
    tss_load_be32(x, in);
    u128 acc = (u128)x[0] + TSS_NC[0];
    acc = (acc >> 64) + x[1] + TSS_NC[1];
    acc = (acc >> 64) + x[2] + TSS_NC[2];
    acc = (acc >> 64) + x[3];
    uint64_t overflow = (uint64_t)(acc >> 64);
    tss_scalar_final_sub(r->d, x, 0);
    tss_wipe_limbs(x, (int)(sizeof x / sizeof x[0]));
    return overflow ? TSS_ERR_RANGE : TSS_OK; /* the range result is public */
}

void tss_scalar_from_candidates(tss_scalar *r, const uint8_t c[64])
{
    uint64_t x[4], y[4], z[4];
    tss_load_be32(x, c);
    tss_load_be32(y, c + 32);
    /* x >= n iff x + N_C carries out of 2^256 */
    u128 acc = (u128)x[0] + TSS_NC[0];
    acc = (acc >> 64) + x[1] + TSS_NC[1];
    acc = (acc >> 64) + x[2] + TSS_NC[2];
    acc = (acc >> 64) + x[3];
    uint64_t mask = 0 - (uint64_t)(acc >> 64); /* all ones: take the second */
    for (int i = 0; i < 4; i++)
        z[i] = (y[i] & mask) | (x[i] & ~mask);
    tss_scalar_final_sub(r->d, z, 0); /* reduces the second if it is >= n too */
    tss_wipe_limbs(x, 4);
    tss_wipe_limbs(y, 4);
    tss_wipe_limbs(z, 4);
}

void tss_scalar_reduce32(tss_scalar *r, const uint8_t in[32])
{
    uint64_t x[4];
    tss_load_be32(x, in);
    tss_scalar_final_sub(r->d, x, 0);
    tss_wipe_limbs(x, 4);
}

void tss_scalar_reduce64(tss_scalar *r, const uint8_t in[64])
{
    uint64_t x[8];
    tss_load_be32(x + 4, in);
    tss_load_be32(x, in + 32);
    tss_scalar_reduce512(r, x);
    tss_wipe_limbs(x, (int)(sizeof x / sizeof x[0]));
}

void tss_scalar_serialize(uint8_t out[32], const tss_scalar *a)
{
    for (int i = 0; i < 4; i++)
        tss_be64_store(out + (3 - i) * 8, a->d[i]);
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
    tss_wipe_limbs(x, (int)(sizeof x / sizeof x[0]));
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
    /* product scanning: column k collects every a_i * b_j with i + j = k */
    const uint64_t *x = a->d, *y = b->d;
    uint64_t l[8];
    tss_acc c = {0, 0, 0};
    acc_muladd(&c, x[0], y[0]);
    l[0] = acc_extract(&c);
    acc_muladd(&c, x[0], y[1]);
    acc_muladd(&c, x[1], y[0]);
    l[1] = acc_extract(&c);
    acc_muladd(&c, x[0], y[2]);
    acc_muladd(&c, x[1], y[1]);
    acc_muladd(&c, x[2], y[0]);
    l[2] = acc_extract(&c);
    acc_muladd(&c, x[0], y[3]);
    acc_muladd(&c, x[1], y[2]);
    acc_muladd(&c, x[2], y[1]);
    acc_muladd(&c, x[3], y[0]);
    l[3] = acc_extract(&c);
    acc_muladd(&c, x[1], y[3]);
    acc_muladd(&c, x[2], y[2]);
    acc_muladd(&c, x[3], y[1]);
    l[4] = acc_extract(&c);
    acc_muladd(&c, x[2], y[3]);
    acc_muladd(&c, x[3], y[2]);
    l[5] = acc_extract(&c);
    acc_muladd(&c, x[3], y[3]);
    l[6] = acc_extract(&c);
    l[7] = c.c0;
    tss_scalar_reduce512(r, l);
    tss_wipe_limbs(l, 8);
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
    uint64_t z =
        (a->d[0] ^ b->d[0]) | (a->d[1] ^ b->d[1]) | (a->d[2] ^ b->d[2]) | (a->d[3] ^ b->d[3]);
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
