/* tss/h2c.h — hashing onto secp256k1 and sampling random points without a known discrete
 * logarithm. Try-and-increment: for counter = 0, 1, ... the 64-byte transcript output of
 * (domain fields, counter) gives a candidate x (first 32 bytes) and a y parity (bit 0 of
 * byte 32); the first candidate that tss_point_parse accepts (x < p, x^3 + 7 a square) is
 * the result. Each try is an independent random-oracle output, so the result is uniform
 * over the curve's finite points. The number of tries depends only on the (public) input,
 * never on a secret; callers that must hide WHICH of several inputs they hash compute all
 * of them (see baseot.c). */
#ifndef TSS_H2C_H
#define TSS_H2C_H

#include "error.h"
#include "point.h"
#include "rand.h"
#include "transcript.h"

/* Tries before giving up: each fails with probability about 1/2, so failure means 2^-256. */
#define TSS_H2C_MAX_TRIES 256

/* out = the point hashed from the fields already appended to *fields (which is not
 * modified; the caller wipes it if it holds secrets). TSS_ERR_HASH_TO_CURVE if no try
 * succeeds. */
tss_err tss_h2c(tss_point *out, const tss_transcript *fields);

/* out = a uniformly random point whose discrete logarithm nobody knows: the hash of 32
 * fresh random bytes under the tag "h2c/random-point". Cheaper than y*G and just as
 * uniform. TSS_ERR_RAND or TSS_ERR_HASH_TO_CURVE on failure. */
tss_err tss_point_random(tss_point *out, const tss_rng *rng);

#endif
