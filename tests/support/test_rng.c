/* tests/support/test_rng.c — SHA-256 counter-mode deterministic generator. */
#include "test_rng.h"

#include <string.h>

#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

static int test_rng_fill(void *ctx, uint8_t *out, size_t len)
{
    test_rng *r = ctx;
    if (r->fail_after == 0)
        return -1;
    if (r->fail_after > 0)
        r->fail_after--;
    while (len > 0) {
        uint8_t block[32], in[40];
        memcpy(in, r->seed, 32);
        for (int i = 0; i < 8; i++)
            in[32 + i] = (uint8_t)(r->counter >> (8 * i));
        r->counter++;
        SHA256(in, sizeof in, block);
        size_t n = len < 32 ? len : 32;
        memcpy(out, block, n);
        out += n;
        len -= n;
    }
    return 0;
}

void test_rng_init(test_rng *r, uint64_t seed)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < 8; i++)
        r->seed[i] = (uint8_t)(seed >> (8 * i));
    SHA256(r->seed, sizeof r->seed, r->seed);
    r->fail_after = -1;
    r->rng.fill = test_rng_fill;
    r->rng.ctx = r;
}

void test_rng_bytes(test_rng *r, uint8_t *out, size_t len)
{
    test_rng_fill(r, out, len);
}
