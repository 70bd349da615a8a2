/* tests/tss/test_transcript.c — domain separation, length prefixing, wide hash-to-scalar,
 * commitments and constant-time comparison. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>

#include "test_rng.h"
#include "tss/transcript.h"

static void hash_fields(uint8_t out[32], const char *tag, const char *a, const char *b)
{
    tss_transcript t;
    tss_transcript_init(&t, tag);
    tss_transcript_append(&t, a, strlen(a));
    tss_transcript_append(&t, b, strlen(b));
    tss_transcript_final(&t, out);
}

static void test_separation(void **state)
{
    (void)state;
    uint8_t h1[32], h2[32], h3[32], h4[32];
    hash_fields(h1, "x", "ab", "c");
    hash_fields(h2, "x", "a", "bc"); /* same concatenation, other split */
    hash_fields(h3, "y", "ab", "c"); /* other domain */
    hash_fields(h4, "x", "ab", "c");
    assert_memory_not_equal(h1, h2, 32);
    assert_memory_not_equal(h1, h3, 32);
    assert_memory_equal(h1, h4, 32);
    /* tag vs field boundary: tag "xa" + "b" differs from tag "x" + "ab" */
    uint8_t h5[32], h6[32];
    tss_transcript t;
    tss_transcript_init(&t, "xa");
    tss_transcript_append(&t, "b", 1);
    tss_transcript_final(&t, h5);
    tss_transcript_init(&t, "x");
    tss_transcript_append(&t, "ab", 2);
    tss_transcript_final(&t, h6);
    assert_memory_not_equal(h5, h6, 32);
}

/* final_scalar is (H(s||0)||H(s||1)) mod n: recompute it with OpenSSL BN. */
static void test_wide_scalar(void **state)
{
    (void)state;
    tss_transcript t, t2;
    uint8_t wide[64], got[32], want[32];
    tss_scalar s;
    tss_transcript_init(&t, "scalar");
    tss_transcript_append_u32(&t, 7);
    t2 = t;
    tss_transcript_final64(&t2, wide);
    tss_transcript_final_scalar(&t, &s);
    tss_scalar_serialize(got, &s);
    BIGNUM *w = BN_bin2bn(wide, 64, NULL);
    BIGNUM *n = NULL;
    BN_hex2bn(&n, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141");
    BN_CTX *ctx = BN_CTX_new();
    BN_nnmod(w, w, n, ctx);
    BN_bn2binpad(w, want, 32);
    assert_memory_equal(got, want, 32);
    assert_memory_not_equal(wide, wide + 32, 32);
    BN_free(w);
    BN_free(n);
    BN_CTX_free(ctx);
}

static void test_commit(void **state)
{
    (void)state;
    test_rng r;
    test_rng_init(&r, 3);
    uint8_t c[32], nonce[32], data[40];
    memset(data, 0x42, sizeof data);
    assert_int_equal(tss_commit(c, nonce, "t", data, sizeof data, &r.rng), TSS_OK);
    assert_int_equal(tss_commit_verify(c, nonce, "t", data, sizeof data), TSS_OK);
    /* wrong tag, data, length, nonce, commitment: each fails */
    assert_int_equal(tss_commit_verify(c, nonce, "u", data, sizeof data), TSS_ERR_COMMITMENT);
    data[3] ^= 1;
    assert_int_equal(tss_commit_verify(c, nonce, "t", data, sizeof data), TSS_ERR_COMMITMENT);
    data[3] ^= 1;
    assert_int_equal(tss_commit_verify(c, nonce, "t", data, sizeof data - 1),
                     TSS_ERR_COMMITMENT);
    nonce[31] ^= 0x80;
    assert_int_equal(tss_commit_verify(c, nonce, "t", data, sizeof data), TSS_ERR_COMMITMENT);
    nonce[31] ^= 0x80;
    c[0] ^= 1;
    assert_int_equal(tss_commit_verify(c, nonce, "t", data, sizeof data), TSS_ERR_COMMITMENT);
    /* two commitments to the same data differ (fresh nonce) */
    uint8_t c2[32], n2[32];
    c[0] ^= 1;
    assert_int_equal(tss_commit(c2, n2, "t", data, sizeof data, &r.rng), TSS_OK);
    assert_memory_not_equal(c, c2, 32);
    /* a failing random source fails the commitment */
    r.fail_after = 0;
    assert_int_equal(tss_commit(c2, n2, "t", data, sizeof data, &r.rng), TSS_ERR_RAND);
}

static void test_ct_eq(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    memset(a, 7, 32);
    memcpy(b, a, 32);
    assert_int_equal(tss_ct_eq(a, b, 32), 1);
    for (int i = 0; i < 32; i++) {
        b[i] ^= 0x01;
        assert_int_equal(tss_ct_eq(a, b, 32), 0);
        b[i] ^= 0x01;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_separation),
        cmocka_unit_test(test_wide_scalar),
        cmocka_unit_test(test_commit),
        cmocka_unit_test(test_ct_eq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
