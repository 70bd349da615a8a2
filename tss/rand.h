/* tss/rand.h — the one way randomness enters the library.
 * Every function that needs randomness takes a tss_rng. Production code uses
 * tss_rng_system() (getrandom); tests inject a deterministic generator through the same
 * struct. The library never reads randomness from anywhere else. */
#ifndef TSS_RAND_H
#define TSS_RAND_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "scalar.h"

/* Fills out[0..len) with random bytes. Returns 0 on success, non-zero on failure. */
typedef int (*tss_rand_fn)(void *ctx, uint8_t *out, size_t len);

typedef struct {
    tss_rand_fn fill;
    void *ctx;
} tss_rng;

/* The operating system's generator: getrandom(2), blocking until the pool is seeded,
 * retried on EINTR and short reads. */
const tss_rng *tss_rng_system(void);

/* Fills out[0..len) from rng. Returns TSS_OK or TSS_ERR_RAND; on failure out is zeroed so
 * a caller that ignores the error does not use stale or partial bytes. */
tss_err tss_rand_bytes(const tss_rng *rng, uint8_t *out, size_t len);

/* out = a uniform non-zero scalar: 64 random bytes reduced mod n (bias ~2^-256), drawn
 * again in the (probability 2^-256) case of zero. TSS_ERR_RAND if the source fails. */
tss_err tss_rand_scalar(tss_scalar *out, const tss_rng *rng);

#endif
