/* tss/aes.c — AES-256-CTR keystream (IV 0) with AES-NI, and the EVP path it must match. */
#include "aes.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#include "secmem.h"

tss_err tss_aes256_ctr0_evp(uint8_t *out, size_t len, const uint8_t key[32])
{
    static const uint8_t iv[16] = {0};
    if (len > TSS_AES_CTR_MAX)
        return TSS_ERR_ARG;
    memset(out, 0, len); /* CTR: encrypting zeros gives the keystream */
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0;
    int ok = ctx != NULL && EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), NULL, key, iv) &&
             EVP_EncryptUpdate(ctx, out, &n, out, (int)len) && n == (int)len;
    EVP_CIPHER_CTX_free(ctx); /* wipes the key schedule */
    if (!ok)
        memset(out, 0, len);
    return ok ? TSS_OK : TSS_ERR_NOMEM;
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define TSS_AES_TARGET __attribute__((target("aes,sse2,ssse3")))

/* One step of the AES-256 key expansion (FIPS 197 §5.2): w = the previous round key of
 * the same parity, spread by three shifted XORs (prefix XOR of its words), then XORed
 * with t, the broadcast word SubWord(RotWord(w3)) ^ Rcon (even steps) or SubWord(w3)
 * (odd steps) of the round key just before. */
TSS_AES_TARGET static inline __m128i expand(__m128i w, __m128i t)
{
    w = _mm_xor_si128(w, _mm_slli_si128(w, 4));
    w = _mm_xor_si128(w, _mm_slli_si128(w, 4));
    w = _mm_xor_si128(w, _mm_slli_si128(w, 4));
    return _mm_xor_si128(w, t);
}

/* The SubWord steps use AESENCLAST on a register holding one word in all four columns
 * (ShiftRows then moves nothing, so AESENCLAST is SubWord plus the round-constant XOR):
 * a byte shuffle and one AES round, faster than AESKEYGENASSIST (Gueron, "Intel
 * Advanced Encryption Standard (AES) New Instructions Set", rev. 3.01, 2012, on key
 * expansion with AESENCLAST). Even steps take RotWord of word 3, odd steps word 3 as is. */
#define ROT3  _mm_set1_epi32(0x0c0f0e0d)
#define WORD3 _mm_set1_epi32(0x0f0e0d0c)
#define EVEN(i, rcon)                                                                              \
    rk[i] = expand(rk[i - 2],                                                                      \
                   _mm_aesenclast_si128(_mm_shuffle_epi8(rk[i - 1], ROT3), _mm_set1_epi32(rcon)))
#define ODD(i)                                                                                     \
    rk[i] = expand(rk[i - 2],                                                                      \
                   _mm_aesenclast_si128(_mm_shuffle_epi8(rk[i - 1], WORD3), _mm_setzero_si128()))

TSS_AES_TARGET static void key_expand(__m128i rk[15], const uint8_t key[32])
{
    rk[0] = _mm_loadu_si128((const __m128i *)key);
    rk[1] = _mm_loadu_si128((const __m128i *)(key + 16));
    EVEN(2, 0x01);
    ODD(3);
    EVEN(4, 0x02);
    ODD(5);
    EVEN(6, 0x04);
    ODD(7);
    EVEN(8, 0x08);
    ODD(9);
    EVEN(10, 0x10);
    ODD(11);
    EVEN(12, 0x20);
    ODD(13);
    EVEN(14, 0x40);
}

TSS_AES_TARGET static inline __m128i ctr_block(uint64_t j, __m128i rk0)
{
    const __m128i bswap = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return _mm_xor_si128(_mm_shuffle_epi8(_mm_set_epi64x(0, (long long)j), bswap), rk0);
}

/* Four counter blocks at a time in registers (the AES unit is pipelined), then the rest
 * one by one. The counter is public; only the key is secret, and it only enters AES
 * instructions. */
TSS_AES_TARGET void tss_aes256_ctr0_ni(uint8_t *out, size_t len, const uint8_t key[32])
{
    __m128i rk[15];
    uint64_t j = 0;
    key_expand(rk, key);
    for (; len >= 64; len -= 64, out += 64, j += 4) {
        __m128i b0 = ctr_block(j, rk[0]), b1 = ctr_block(j + 1, rk[0]);
        __m128i b2 = ctr_block(j + 2, rk[0]), b3 = ctr_block(j + 3, rk[0]);
        for (int r = 1; r < 14; r++) {
            b0 = _mm_aesenc_si128(b0, rk[r]);
            b1 = _mm_aesenc_si128(b1, rk[r]);
            b2 = _mm_aesenc_si128(b2, rk[r]);
            b3 = _mm_aesenc_si128(b3, rk[r]);
        }
        _mm_storeu_si128((__m128i *)out, _mm_aesenclast_si128(b0, rk[14]));
        _mm_storeu_si128((__m128i *)(out + 16), _mm_aesenclast_si128(b1, rk[14]));
        _mm_storeu_si128((__m128i *)(out + 32), _mm_aesenclast_si128(b2, rk[14]));
        _mm_storeu_si128((__m128i *)(out + 48), _mm_aesenclast_si128(b3, rk[14]));
    }
    for (; len > 0; j++) {
        __m128i b = ctr_block(j, rk[0]);
        for (int r = 1; r < 14; r++)
            b = _mm_aesenc_si128(b, rk[r]);
        b = _mm_aesenclast_si128(b, rk[14]);
        size_t take = len < 16 ? len : 16;
        if (take == 16) {
            _mm_storeu_si128((__m128i *)out, b);
        } else {
            uint8_t last[16];
            _mm_storeu_si128((__m128i *)last, b);
            memcpy(out, last, take);
            tss_memzero(last, sizeof last);
        }
        out += take, len -= take;
    }
    tss_memzero(rk, sizeof rk);
}

static int have_ni;
static pthread_once_t ni_once = PTHREAD_ONCE_INIT;

static void detect_ni(void)
{
    __builtin_cpu_init();
    have_ni = __builtin_cpu_supports("aes") && __builtin_cpu_supports("ssse3");
}

int tss_aes_have_ni(void)
{
    pthread_once(&ni_once, detect_ni);
    return have_ni;
}
#else
void tss_aes256_ctr0_ni(uint8_t *out, size_t len, const uint8_t key[32])
{
    (void)tss_aes256_ctr0_evp(out, len, key);
}

int tss_aes_have_ni(void)
{
    return 0;
}
#endif

static int evp_ok;
static pthread_once_t evp_once = PTHREAD_ONCE_INIT;

static void probe_evp(void)
{
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-256-CTR", NULL);
    evp_ok = c != NULL;
    EVP_CIPHER_free(c);
}

tss_err tss_aes_ready(void)
{
    if (tss_aes_have_ni())
        return TSS_OK;
    pthread_once(&evp_once, probe_evp);
    return evp_ok ? TSS_OK : TSS_ERR_NOMEM;
}

tss_err tss_aes256_ctr0(uint8_t *out, size_t len, const uint8_t key[32])
{
    if (len > TSS_AES_CTR_MAX)
        return TSS_ERR_ARG;
    /* The branch is on a CPU feature, never on data. */
    if (tss_aes_have_ni()) {
        tss_aes256_ctr0_ni(out, len, key);
        return TSS_OK;
    }
    return tss_aes256_ctr0_evp(out, len, key);
}
