/* tests/common/test_eip191.c — personal_sign hashes. Vector: MetaMask eth-sig-util
 * src/personal-sign.test.ts (commit 0832d49): "Hello, world!" signed with key
 * 4af1bcee...8bb0 gives 0x90a938f7...1c; libsecp256k1's RFC 6979 signature of our hash must
 * be exactly that, and recover to the key's address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "daemon/common/eip191.h"
#include "tss/keccak.h"
#include "vec.h"

static void test_hello_world(void **state)
{
    (void)state;
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    uint8_t h[32], sk[32], rs[64], want[65];
    int recid;
    secp256k1_ecdsa_recoverable_signature sig;
    assert_int_equal(mpcd_eip191_hash(h, (const uint8_t *)"Hello, world!", 13), MPCD_ETH_OK);
    vec_unhex_n(sk, 32, "4af1bceebf7f3634ec3cff8a2c38e51178d5d4ce585c52d6043e5e2cc3418bb0");
    vec_unhex_n(want, 65,
                "90a938f7457df6e8f741264c32697fc52f9a8f867c52dd70713d9d2d472f2e415d9c94148991bb"
                "e1f4a1818d1dff09165782749c877f5cf1eff4ef126e55714d1c");
    assert_true(secp256k1_ecdsa_sign_recoverable(ctx, &sig, h, sk, NULL, NULL));
    assert_true(secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, rs, &recid, &sig));
    assert_memory_equal(rs, want, 64);
    assert_int_equal(27 + recid, want[64]);
    secp256k1_context_destroy(ctx);
}

/* The prefix carries the decimal length: check against the definition for lengths with
 * 1..7 digits, and that a message and its length are bound together. */
static void test_lengths(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 1, 9, 10, 99, 100, 135, 136, 1000, 65536, MPCD_EIP191_MAX_LEN};
    uint8_t *msg = malloc(MPCD_EIP191_MAX_LEN + 64), *buf = malloc(MPCD_EIP191_MAX_LEN + 64);
    for (size_t i = 0; i < MPCD_EIP191_MAX_LEN; i++)
        msg[i] = (uint8_t)(i * 7);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        uint8_t got[32], want[32];
        int n = sprintf((char *)buf,
                        "\x19"
                        "Ethereum Signed Message:\n%zu",
                        lens[i]);
        memcpy(buf + n, msg, lens[i]);
        tss_keccak256(want, buf, (size_t)n + lens[i]);
        assert_int_equal(mpcd_eip191_hash(got, msg, lens[i]), MPCD_ETH_OK);
        assert_memory_equal(got, want, 32);
    }
    /* "1" + "2..." must not hash like "12" + "..." */
    uint8_t a[32], b[32];
    assert_int_equal(mpcd_eip191_hash(a, (const uint8_t *)"2ab", 3), MPCD_ETH_OK);
    assert_int_equal(mpcd_eip191_hash(b, (const uint8_t *)"ab", 2), MPCD_ETH_OK);
    assert_memory_not_equal(a, b, 32);
    free(msg);
    free(buf);
}

static void test_refusals(void **state)
{
    (void)state;
    uint8_t h[32], z[32] = {0};
    memset(h, 0, 32);
    uint8_t *big = calloc(1, MPCD_EIP191_MAX_LEN + 1);
    assert_int_equal(mpcd_eip191_hash(h, big, MPCD_EIP191_MAX_LEN + 1), MPCD_ETH_ERR_TOO_LARGE);
    assert_memory_equal(h, z, 32); /* untouched */
    assert_int_equal(mpcd_eip191_hash(h, NULL, 1), MPCD_ETH_ERR_ARG);
    assert_int_equal(mpcd_eip191_hash(h, NULL, 0), MPCD_ETH_OK);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_world),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
