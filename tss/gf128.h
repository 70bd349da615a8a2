/* tss/gf128.h — GF(2^128) arithmetic and the bit-matrix transpose of the OT extension.
 * The field is GF(2)[x] / (x^128 + x^7 + x^2 + x + 1). An element is 16 bytes, little
 * endian in both bits and bytes: bit i of byte j is the coefficient of x^(8j+i). This is
 * NOT the bit-reflected GHASH convention, so OpenSSL's GHASH cannot be reused.
 * Every function here is constant time: no branch or memory index depends on the data.
 * Multiplication uses PCLMULQDQ when the CPU has it (detected once at run time) and a
 * portable carry-less multiply built from integer multiplications otherwise. */
#ifndef TSS_GF128_H
#define TSS_GF128_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t lo; /* coefficients of x^0 .. x^63 (bit i = x^i) */
    uint64_t hi; /* coefficients of x^64 .. x^127 */
} tss_gf128;

#define TSS_GF128_BYTES 16

/* Little-endian 16-byte encoding (see above). */
void tss_gf128_load(tss_gf128 *r, const uint8_t in[16]);
void tss_gf128_store(uint8_t out[16], const tss_gf128 *a);

/* r = a + b (XOR). r may alias a or b. */
static inline void tss_gf128_add(tss_gf128 *r, const tss_gf128 *a, const tss_gf128 *b)
{
    r->lo = a->lo ^ b->lo;
    r->hi = a->hi ^ b->hi;
}

/* r = a * b, with the fastest implementation the CPU supports. r may alias a or b. */
void tss_gf128_mul(tss_gf128 *r, const tss_gf128 *a, const tss_gf128 *b);

/* The two implementations, exposed so tests can compare them. tss_gf128_mul_pclmul may
 * only be called when tss_gf128_have_pclmul() returns 1. */
void tss_gf128_mul_portable(tss_gf128 *r, const tss_gf128 *a, const tss_gf128 *b);
void tss_gf128_mul_pclmul(tss_gf128 *r, const tss_gf128 *a, const tss_gf128 *b);
int tss_gf128_have_pclmul(void);

/* Bit-matrix transpose. in is a matrix of `rows` rows, each `in_stride` bytes; bit c of
 * row i (bit c%8 of byte c/8) is entry (i, c). out receives `cols` rows of rows/8 bytes:
 * bit i of out row c = entry (i, c). rows and cols must be multiples of 8, and
 * cols <= 8 * in_stride. Constant time (data-independent access pattern). */
void tss_bit_transpose(uint8_t *out, const uint8_t *in, size_t rows, size_t in_stride, size_t cols);

#endif
