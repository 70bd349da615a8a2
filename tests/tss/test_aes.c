/* tests/tss/test_aes.c — the AES-256-CTR keystream of tss/aes.h: the FIPS 197 AES-256
 * example, and the AES-NI path against OpenSSL's EVP AES-256-CTR (IV 0) for random keys
 * and every length from 0 to 300 bytes, plus a 32 KB stream (the gadget vector's). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "tss/aes.h"
#include "tss/rand.h"

/* FIPS 197 Appendix C.3: key 00 01 .. 1f, plaintext 00 11 22 .. ff. CTR with IV 0 gives
 * E_K(0^128) as its first block, so the example is checked through ECB on the same key. */
static void test_fips197(void **state)
{
    (void)state;
    static const uint8_t pt[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    static const uint8_t ct[16] = {0x8e, 0xa2, 0xb7, 0xca, 0x51, 0x67, 0x45, 0xbf,
                                   0xea, 0xfc, 0x49, 0x90, 0x4b, 0x49, 0x60, 0x89};
    uint8_t key[32], out[16], ks[16], zero[16] = {0};
    int n = 0;
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)i;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_256_ecb(), NULL, key, NULL), 1);
    EVP_CIPHER_CTX_set_padding(c, 0);
    assert_int_equal(EVP_EncryptUpdate(c, out, &n, pt, 16), 1);
    assert_memory_equal(out, ct, 16);
    assert_int_equal(EVP_EncryptUpdate(c, out, &n, zero, 16), 1);
    EVP_CIPHER_CTX_free(c);
    assert_int_equal(tss_aes256_ctr0(ks, 16, key), TSS_OK);
    assert_memory_equal(ks, out, 16);
}

static void test_ni_matches_evp(void **state)
{
    (void)state;
    static uint8_t a[32768], b[32768];
    uint8_t key[32];
    if (!tss_aes_have_ni()) {
        print_message("no AES-NI: only the EVP path is in use\n");
        skip();
    }
    for (size_t len = 0; len <= 300; len++) {
        assert_int_equal(tss_rand_bytes(tss_rng_system(), key, 32), TSS_OK);
        memset(a, 0xA5, len + 1);
        memset(b, 0x5A, len + 1);
        tss_aes256_ctr0_ni(a, len, key);
        assert_int_equal(tss_aes256_ctr0_evp(b, len, key), TSS_OK);
        assert_memory_equal(a, b, len);
        assert_int_equal(a[len], 0xA5); /* nothing written past len */
    }
    assert_int_equal(tss_rand_bytes(tss_rng_system(), key, 32), TSS_OK);
    tss_aes256_ctr0_ni(a, sizeof a, key);
    assert_int_equal(tss_aes256_ctr0_evp(b, sizeof b, key), TSS_OK);
    assert_memory_equal(a, b, sizeof a);
}

static void test_too_long(void **state)
{
    (void)state;
    uint8_t key[32] = {1}, out[1];
    assert_int_equal(tss_aes256_ctr0(out, TSS_AES_CTR_MAX + 1, key), TSS_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fips197),
        cmocka_unit_test(test_ni_matches_evp),
        cmocka_unit_test(test_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
