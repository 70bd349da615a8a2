/* tss/scalar.h — integers modulo the secp256k1 group order n.
 * libsecp256k1 does not export its scalar arithmetic, so this is ours: four 64-bit limbs,
 * little-endian, always fully reduced (0 <= value < n). Every function here is constant
 * time: no branch and no memory index depends on a scalar's value. Functions that return a
 * flag (parse, is_zero, eq) return it as data; branching on it is the caller's decision and
 * is fine only when the flag is public. */
#ifndef TSS_SCALAR_H
#define TSS_SCALAR_H

#include <stdint.h>

#include "error.h"

typedef struct {
    uint64_t d[4]; /* d[0] least significant; invariant: value < n */
} tss_scalar;

#define TSS_SCALAR_BYTES 32

/* Sets r to the small integer v (v < n always holds). */
void tss_scalar_set_u64(tss_scalar *r, uint64_t v);

/* Strict parse of a 32-byte big-endian encoding. Returns TSS_OK if in[] < n, else
 * TSS_ERR_RANGE; in both cases r holds in[] mod n (so a caller that ignores the result
 * never computes with an unreduced value). */
tss_err tss_scalar_parse(tss_scalar *r, const uint8_t in[32]);

/* r = the first 32-byte big-endian candidate c[0..32) if it is below n, else the second
 * c[32..64) reduced mod n: a uniform scalar from 64 uniform bytes up to 2^-256 (both
 * candidates are >= n with probability 2^-256), without the bias of a 256-bit reduction
 * and at half the cost of a 512-bit one. The same value as parsing both candidates and
 * selecting, with one carry chain per candidate. */
void tss_scalar_from_candidates(tss_scalar *r, const uint8_t c[64]);

/* r = in[0..32) mod n (big-endian). For hash outputs only: a 256-bit value reduced mod n
 * has a bias of about 2^-128; use tss_scalar_reduce64 for uniform scalars. */
void tss_scalar_reduce32(tss_scalar *r, const uint8_t in[32]);

/* r = in[0..64) mod n (big-endian); the wide reduction used for hash-to-scalar. */
void tss_scalar_reduce64(tss_scalar *r, const uint8_t in[64]);

/* out = 32-byte big-endian encoding of a. */
void tss_scalar_serialize(uint8_t out[32], const tss_scalar *a);

void tss_scalar_add(tss_scalar *r, const tss_scalar *a, const tss_scalar *b); /* a + b */
void tss_scalar_sub(tss_scalar *r, const tss_scalar *a, const tss_scalar *b); /* a - b */
void tss_scalar_negate(tss_scalar *r, const tss_scalar *a);                   /* -a    */
void tss_scalar_mul(tss_scalar *r, const tss_scalar *a, const tss_scalar *b); /* a * b */

/* r = a^-1 (Fermat: a^(n-2)); the inverse of 0 is 0. Fixed sequence of operations. */
void tss_scalar_inverse(tss_scalar *r, const tss_scalar *a);

/* 1 if a == 0 else 0. */
int tss_scalar_is_zero(const tss_scalar *a);

/* 1 if a == b else 0. */
int tss_scalar_eq(const tss_scalar *a, const tss_scalar *b);

/* r = flag ? a : r, for flag in {0, 1}, without branching on flag. */
void tss_scalar_cmov(tss_scalar *r, const tss_scalar *a, int flag);

/* Zeroes a scalar (use for every secret scalar before its storage goes out of scope). */
void tss_scalar_clear(tss_scalar *r);

#endif
