/* tss/keccak.c — Keccak-f[1600] and the Keccak-256 sponge (rate 136 bytes). */
#include "keccak.h"

#include <string.h>

#define KECCAK_RATE 136

static const uint64_t keccak_rc[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808AULL, 0x8000000080008000ULL,
    0x000000000000808BULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008AULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000AULL,
    0x000000008000808BULL, 0x800000000000008BULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800AULL, 0x800000008000000AULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* rotation offset of lane x + 5y */
static const unsigned keccak_rot[25] = {
    0,  1,  62, 28, 27, /* y = 0 */
    36, 44, 6,  55, 20, /* y = 1 */
    3,  10, 43, 25, 39, /* y = 2 */
    41, 45, 15, 21, 8,  /* y = 3 */
    18, 2,  61, 56, 14, /* y = 4 */
};

static uint64_t rol64(uint64_t v, unsigned r)
{
    return r == 0 ? v : (v << r) | (v >> (64 - r));
}

static void keccak_f1600(uint64_t a[25])
{
    uint64_t c[5], b[25];
    for (int round = 0; round < 24; round++) {
        for (int x = 0; x < 5; x++)
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        for (int x = 0; x < 5; x++) {
            uint64_t d = c[(x + 4) % 5] ^ rol64(c[(x + 1) % 5], 1);
            for (int y = 0; y < 25; y += 5)
                a[x + y] ^= d;
        }
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 5; y++)
                b[y + 5 * ((2 * x + 3 * y) % 5)] = rol64(a[x + 5 * y], keccak_rot[x + 5 * y]);
        for (int y = 0; y < 25; y += 5)
            for (int x = 0; x < 5; x++)
                a[x + y] = b[x + y] ^ (~b[(x + 1) % 5 + y] & b[(x + 2) % 5 + y]);
        a[0] ^= keccak_rc[round];
    }
}

static void keccak_absorb_block(uint64_t a[25], const uint8_t *block)
{
    for (int i = 0; i < KECCAK_RATE / 8; i++) {
        uint64_t lane = 0;
        for (int k = 7; k >= 0; k--)
            lane = (lane << 8) | block[8 * i + k];
        a[i] ^= lane;
    }
    keccak_f1600(a);
}

void tss_keccak256(uint8_t out[32], const uint8_t *in, size_t len)
{
    uint64_t a[25] = {0};
    uint8_t last[KECCAK_RATE];
    while (len >= KECCAK_RATE) {
        keccak_absorb_block(a, in);
        in += KECCAK_RATE;
        len -= KECCAK_RATE;
    }
    memset(last, 0, sizeof last);
    if (len > 0)
        memcpy(last, in, len);
    last[len] ^= 0x01;
    last[KECCAK_RATE - 1] ^= 0x80;
    keccak_absorb_block(a, last);
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 8; k++)
            out[8 * i + k] = (uint8_t)(a[i] >> (8 * k));
}
