/* tests/tss/test_keccak.c — Keccak-256 against standard vectors.
 * The empty, "abc" and fox vectors are the published Keccak-256 values; the counted-byte
 * vectors (bytes i & 0xff) cover the 136-byte block boundary and were computed with an
 * independent implementation (js-sha3 0.9.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tss/keccak.h"
#include "tss/point.h"

static void hex32(char out[65], const uint8_t h[32])
{
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", h[i]);
}

static void check(const uint8_t *in, size_t len, const char *want)
{
    uint8_t h[32];
    char got[65];
    tss_keccak256(h, in, len);
    hex32(got, h);
    assert_string_equal(got, want);
}

static void test_strings(void **state)
{
    (void)state;
    check((const uint8_t *)"", 0,
          "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    check((const uint8_t *)"abc", 3,
          "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    const char *fox = "The quick brown fox jumps over the lazy dog";
    check((const uint8_t *)fox, strlen(fox),
          "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
}

static void test_block_boundaries(void **state)
{
    (void)state;
    static const struct {
        size_t len;
        const char *hex;
    } v[] = {
        {135, "cbdfd9dee5faad3818d6b06f95a219fd290b0e1706f6a82e5a595b9ce9faca62"},
        {136, "7ce759f1ab7f9ce437719970c26b0a66ff11fe3e38e17df89cf5d29c7d7f807e"},
        {137, "ac73d4fae68b8453f764007c1a20ce95994187861f0c3227a3a8e99a73a3b1db"},
        {200, "bfb0aa97863e797943cf7c33bb7e880bb4543f3d2703c0923c6901c2af57b890"},
        {272, "fdf2ec49e749960d3c8521a0219af8d03e30e2b3bf19bd16150ee0eaf133d66e"},
        {1000, "aca79e4146e30eb1c733f6d6060d72471c36ea4e01ebf45d7f4916249c2bbd82"},
    };
    uint8_t buf[1000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        check(buf, v[i].len, v[i].hex);
}

/* The Ethereum address of private key 1 is 0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf:
 * keccak256 of the 64-byte uncompressed public key, last 20 bytes. */
static void test_ethereum_address(void **state)
{
    (void)state;
    uint8_t sk[32] = {0}, pub[65], h[32];
    size_t len = sizeof pub;
    secp256k1_pubkey pk;
    sk[31] = 1;
    assert_true(secp256k1_ec_pubkey_create(tss_secp_ctx(), &pk, sk));
    assert_true(secp256k1_ec_pubkey_serialize(tss_secp_ctx(), pub, &len, &pk,
                                              SECP256K1_EC_UNCOMPRESSED));
    tss_keccak256(h, pub + 1, 64);
    static const uint8_t addr[20] = {0x7E, 0x5F, 0x45, 0x52, 0x09, 0x1A, 0x69,
                                     0x12, 0x5d, 0x5D, 0xfC, 0xb7, 0xb8, 0xC2,
                                     0x65, 0x90, 0x29, 0x39, 0x5B, 0xdf};
    assert_memory_equal(h + 12, addr, 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_block_boundaries),
        cmocka_unit_test(test_ethereum_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
