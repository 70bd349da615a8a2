/* tests/tss/test_bip32.c — non-hardened derivation against BIP32 test vector 1 (the
 * non-hardened steps below m/0H and m/0H/1/2H), and path parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tss/bip32.h"

static void unhex(uint8_t *out, const char *hex, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

static void check_step(const char *pub_hex, const char *chain_hex, const uint32_t *path,
                       size_t depth, const char *want_pub, const char *want_chain,
                       const char *priv_hex, const char *want_priv)
{
    uint8_t pub[33], chain[32], wp[33], wc[32], got[33], gc[32];
    tss_point pk, child;
    tss_scalar off;
    unhex(pub, pub_hex, 33);
    unhex(chain, chain_hex, 32);
    unhex(wp, want_pub, 33);
    unhex(wc, want_chain, 32);
    assert_int_equal(tss_point_parse(&pk, pub), TSS_OK);
    assert_int_equal(tss_bip32_derive(&pk, chain, path, depth, &off, &child, gc), TSS_OK);
    tss_point_serialize(got, &child);
    assert_memory_equal(got, wp, 33);
    assert_memory_equal(gc, wc, 32);
    if (priv_hex != NULL) { /* parent secret + offset == child secret */
        uint8_t b[32], w[32];
        tss_scalar sk;
        unhex(b, priv_hex, 32);
        unhex(w, want_priv, 32);
        assert_int_equal(tss_scalar_parse(&sk, b), TSS_OK);
        tss_scalar_add(&sk, &sk, &off);
        tss_scalar_serialize(b, &sk);
        assert_memory_equal(b, w, 32);
    }
}

static void test_vector1(void **state)
{
    (void)state;
    const uint32_t p1[] = {1}, p2[] = {2}, p3[] = {2, 1000000000};
    /* m/0H -> m/0H/1 */
    check_step("035a784662a4a20a65bf6aab9ae98a6c068a81c52e4b032c0fb5400c706cfccc56",
               "47fdacbd0f1097043b78c63c20c34ef4ed9a111d980047ad16282c7ae6236141", p1, 1,
               "03501e454bf00751f24b1b489aa925215d66af2234e3891c3b21a52bedb3cd711c",
               "2a7857631386ba23dacac34180dd1983734e444fdbf774041578e9b6adb37c19",
               "edb2e14f9ee77d26dd93b4ecede8d16ed408ce149b6cd80b0715a2d911a0afea",
               "3c6cb8d0f6a264c91ea8b5030fadaa8e538b020f0a387421a12de9319dc93368");
    /* m/0H/1/2H -> m/0H/1/2H/2 */
    check_step("0357bfe1e341d01c69fe5654309956cbea516822fba8a601743a012a7896ee8dc2",
               "04466b9cc8e161e966409ca52986c584f07e9dc81f735db683c3ff6ec7b1503f", p2, 1,
               "02e8445082a72f29b75ca48748a914df60622a609cacfce8ed0e35804560741d29",
               "cfb71883f01676f587d023cc53a35bc7f88f724b1f8c2892ac1275ac822a3edd", NULL, NULL);
    /* m/0H/1/2H -> m/0H/1/2H/2/1000000000 (two steps) */
    check_step("0357bfe1e341d01c69fe5654309956cbea516822fba8a601743a012a7896ee8dc2",
               "04466b9cc8e161e966409ca52986c584f07e9dc81f735db683c3ff6ec7b1503f", p3, 2,
               "022a471424da5e657499d1ff51cb43c47481a03b1e77f951fe64cec9f5a48f7011",
               "c783e67b921d2beb8f6b389cc646d7263b4145701dadd2161548a8b078e65e9e", NULL, NULL);
}

static void test_parse(void **state)
{
    (void)state;
    uint32_t path[TSS_BIP32_MAX_DEPTH];
    size_t d = 99;
    assert_int_equal(tss_bip32_parse_path("m", path, &d), TSS_OK);
    assert_int_equal(d, 0);
    assert_int_equal(tss_bip32_parse_path("m/44/60/0/0/5", path, &d), TSS_OK);
    assert_int_equal(d, 5);
    assert_int_equal(path[0], 44);
    assert_int_equal(path[4], 5);
    assert_int_equal(tss_bip32_parse_path("0/2147483647", path, &d), TSS_OK);
    assert_int_equal(path[1], 2147483647u);
    assert_int_equal(tss_bip32_parse_path("m/44'/60", path, &d), TSS_ERR_DERIVATION);
    assert_int_equal(tss_bip32_parse_path("m/44h", path, &d), TSS_ERR_DERIVATION);
    assert_int_equal(tss_bip32_parse_path("m/2147483648", path, &d), TSS_ERR_DERIVATION);
    const char *bad[] = {"",    "/",   "m/",   "m//1",          "m/1/",
                         "x/1", "m/a", "m/1 ", "m/99999999999", "m/-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (bad[i][0] == '\0')
            continue; /* the empty path is the root */
        assert_int_equal(tss_bip32_parse_path(bad[i], path, &d), TSS_ERR_FORMAT);
    }
    char deep[200] = "m";
    for (int i = 0; i < TSS_BIP32_MAX_DEPTH + 1; i++)
        strcat(deep, "/1");
    assert_int_equal(tss_bip32_parse_path(deep, path, &d), TSS_ERR_FORMAT);
    /* a hardened index given numerically to derive */
    tss_point pk;
    tss_scalar one, off;
    uint8_t cc[32] = {0}, oc[32];
    tss_scalar_set_u64(&one, 1);
    assert_int_equal(tss_point_base_mul(&pk, &one), TSS_OK);
    uint32_t hard = TSS_BIP32_HARDENED;
    assert_int_equal(tss_bip32_derive(&pk, cc, &hard, 1, &off, &pk, oc), TSS_ERR_DERIVATION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector1),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
