/* tss/gf128.c — GF(2^128) multiplication (PCLMUL and portable) and the bit transpose.
 * Both multipliers compute the same 256-bit carry-less product and share one reduction. */
#include "gf128.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TSS_GF128_X86 1
#endif

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void store_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void tss_gf128_load(tss_gf128 *r, const uint8_t in[16])
{
    r->lo = load_le64(in);
    r->hi = load_le64(in + 8);
}

void tss_gf128_store(uint8_t out[16], const tss_gf128 *a)
{
    store_le64(out, a->lo);
    store_le64(out + 8, a->hi);
}

/* Reduces the 256-bit product z[0] (lowest) .. z[3] modulo x^128 + x^7 + x^2 + x + 1.
 * x^128 = x^7 + x^2 + x + 1, so a word w at x^(64k), k >= 2, folds into w*(1+x+x^2+x^7)
 * at x^(64(k-2)); the up to 7 bits that spill over the next word boundary go one word up.
 * z[3] is folded first, so the spill of z[2]'s fold lands in z[1] only. */
static void gf128_reduce(tss_gf128 *r, uint64_t z0, uint64_t z1, uint64_t z2, uint64_t z3)
{
    z2 ^= (z3 >> 63) ^ (z3 >> 62) ^ (z3 >> 57);
    z1 ^= z3 ^ (z3 << 1) ^ (z3 << 2) ^ (z3 << 7);
    z1 ^= (z2 >> 63) ^ (z2 >> 62) ^ (z2 >> 57);
    z0 ^= z2 ^ (z2 << 1) ^ (z2 << 2) ^ (z2 << 7);
    r->lo = z0;
    r->hi = z1;
}

/* Low 64 bits of the carry-less product x*y, from ordinary integer multiplications.
 * Each operand is split into four "holed" parts (every 4th bit); in a product of two
 * parts each result position sums at most 15 terms below bit 64 (16 only at bit 60+4 =
 * 64, which falls off), so the carries never reach the next kept position. Integer
 * multiplication is constant time on the CPUs we target. */
static uint64_t clmul64_lo(uint64_t x, uint64_t y)
{
    const uint64_t m0 = 0x1111111111111111ULL, m1 = m0 << 1, m2 = m0 << 2, m3 = m0 << 3;
    uint64_t x0 = x & m0, x1 = x & m1, x2 = x & m2, x3 = x & m3;
    uint64_t y0 = y & m0, y1 = y & m1, y2 = y & m2, y3 = y & m3;
    uint64_t z0 = (x0 * y0) ^ (x1 * y3) ^ (x2 * y2) ^ (x3 * y1);
    uint64_t z1 = (x0 * y1) ^ (x1 * y0) ^ (x2 * y3) ^ (x3 * y2);
    uint64_t z2 = (x0 * y2) ^ (x1 * y1) ^ (x2 * y0) ^ (x3 * y3);
    uint64_t z3 = (x0 * y3) ^ (x1 * y2) ^ (x2 * y1) ^ (x3 * y0);
    return (z0 & m0) | (z1 & m1) | (z2 & m2) | (z3 & m3);
}

static uint64_t rev64(uint64_t x)
{
    x = ((x >> 1) & 0x5555555555555555ULL) | ((x & 0x5555555555555555ULL) << 1);
    x = ((x >> 2) & 0x3333333333333333ULL) | ((x & 0x3333333333333333ULL) << 2);
    x = ((x >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((x & 0x0F0F0F0F0F0F0F0FULL) << 4);
    return __builtin_bswap64(x);
}

/* Full 128-bit carry-less product of two 64-bit words: the high half is the bit reversal
 * of the low half of the reversed operands' product, shifted by one (the product has
 * degree <= 126). */
static void clmul64(uint64_t *lo, uint64_t *hi, uint64_t x, uint64_t y)
{
    *lo = clmul64_lo(x, y);
    *hi = rev64(clmul64_lo(rev64(x), rev64(y))) >> 1;
}

void tss_gf128_mul_portable(tss_gf128 *r, const tss_gf128 *a, const tss_gf128 *b)
{
    /* Karatsuba: three 64x64 products. */
    uint64_t l0, l1, h0, h1, m0, m1;
    clmul64(&l0, &l1, a->lo, b->lo);
    clmul64(&h0, &h1, a->hi, b->hi);
    clmul64(&m0, &m1, a->lo ^ a->hi, b->lo ^ b->hi);
    m0 ^= l0 ^ h0;
    m1 ^= l1 ^ h1;
    gf128_reduce(r, l0, l1 ^ m0, h0 ^ m1, h1);
}

#ifdef TSS_GF128_X86
__attribute__((target("pclmul,sse2"))) void tss_gf128_mul_pclmul(tss_gf128 *r, const tss_gf128 *a,
                                                                 const tss_gf128 *b)
{
    __m128i x = _mm_set_epi64x((long long)a->hi, (long long)a->lo);
    __m128i y = _mm_set_epi64x((long long)b->hi, (long long)b->lo);
    __m128i lo = _mm_clmulepi64_si128(x, y, 0x00);
    __m128i hi = _mm_clmulepi64_si128(x, y, 0x11);
    __m128i mid = _mm_xor_si128(_mm_clmulepi64_si128(x, y, 0x01), _mm_clmulepi64_si128(x, y, 0x10));
    uint64_t z0 = (uint64_t)_mm_cvtsi128_si64(lo);
    uint64_t z1 = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(lo, lo));
    uint64_t z2 = (uint64_t)_mm_cvtsi128_si64(hi);
    uint64_t z3 = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(hi, hi));
    uint64_t m0 = (uint64_t)_mm_cvtsi128_si64(mid);
    uint64_t m1 = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(mid, mid));
    gf128_reduce(r, z0, z1 ^ m0, z2 ^ m1, z3);
}

static int have_pclmul;
static pthread_once_t pclmul_once = PTHREAD_ONCE_INIT;

static void detect_pclmul(void)
{
    __builtin_cpu_init();
    have_pclmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse2");
}

int tss_gf128_have_pclmul(void)
{
    pthread_once(&pclmul_once, detect_pclmul);
    return have_pclmul;
}
#else
void tss_gf128_mul_pclmul(tss_gf128 *r, const tss_gf128 *a, const tss_gf128 *b)
{
    tss_gf128_mul_portable(r, a, b);
}

int tss_gf128_have_pclmul(void)
{
    return 0;
}
#endif

void tss_gf128_mul(tss_gf128 *r, const tss_gf128 *a, const tss_gf128 *b)
{
    /* The branch is on a CPU feature, never on data. */
    if (tss_gf128_have_pclmul())
        tss_gf128_mul_pclmul(r, a, b);
    else
        tss_gf128_mul_portable(r, a, b);
}

/* Transposes the 8x8 bit matrix held in x (byte k = row k, bit j of a byte = column j):
 * bit 8k+j moves to bit 8j+k. Three delta swaps (2x2, 4x4, then 8x8 blocks of bits). */
static uint64_t transpose8x8(uint64_t x)
{
    uint64_t t;
    t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAULL;
    x ^= t ^ (t << 7);
    t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCULL;
    x ^= t ^ (t << 14);
    t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ULL;
    x ^= t ^ (t << 28);
    return x;
}

void tss_bit_transpose(uint8_t *out, const uint8_t *in, size_t rows, size_t in_stride, size_t cols)
{
    size_t out_stride = rows / 8;
    for (size_t rb = 0; rb < rows / 8; rb++) {
        for (size_t cb = 0; cb < cols / 8; cb++) {
            uint64_t x = 0;
            for (size_t k = 0; k < 8; k++)
                x |= (uint64_t)in[(rb * 8 + k) * in_stride + cb] << (8 * k);
            x = transpose8x8(x);
            for (size_t j = 0; j < 8; j++)
                out[(cb * 8 + j) * out_stride + rb] = (uint8_t)(x >> (8 * j));
        }
    }
}
