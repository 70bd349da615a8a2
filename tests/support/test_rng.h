/* tests/support/test_rng.h — deterministic tss_rng for tests (never for production).
 * SHA-256 in counter mode over a 32-byte seed: reproducible runs and failure injection. */
#ifndef TEST_RNG_H
#define TEST_RNG_H

#include <stdint.h>

#include "tss/rand.h"

typedef struct {
    uint8_t seed[32];
    uint64_t counter;
    int fail_after; /* < 0: never fail; else fail once this many calls have succeeded */
    tss_rng rng;
} test_rng;

/* Initialises r from a small integer seed; r->rng is the tss_rng to pass around. */
void test_rng_init(test_rng *r, uint64_t seed);

/* Convenience: random bytes from r (aborts the test binary on misuse). */
void test_rng_bytes(test_rng *r, uint8_t *out, size_t len);

#endif
