/* tests/common/test_rlp.c — the RLP decoder and encoder against ethereum/tests
 * RLPTests/rlptest.json (valid: decode, re-encode bit for bit, values) and
 * RLPTests/invalidRLPTest.json (every case refused), commit 0d2c026f / 16806bfc of
 * github.com/ethereum/tests, plus the limits (depth, trailing bytes, integers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/common/rlp.h"
#include "vec.h"

/* Re-encodes a decoded tree with the encoder: for canonical input, the same bytes. */
static void reencode(mpcd_rlp_enc *e, const mpcd_rlp_item *it)
{
    if (!it->is_list) {
        mpcd_rlp_enc_bytes(e, it->payload, it->len);
        return;
    }
    size_t m = mpcd_rlp_enc_list_begin(e);
    const uint8_t *cur = it->payload, *end = it->payload + it->len;
    mpcd_rlp_item child;
    while (mpcd_rlp_next(&child, &cur, end) == MPCD_ETH_OK)
        reencode(e, &child);
    assert_ptr_equal(cur, end);
    mpcd_rlp_enc_list_end(e, m);
}

static void check_roundtrip(const char *hex)
{
    size_t len, out_len;
    uint8_t *in = vec_unhex(hex, &len);
    uint8_t *out = malloc(len + 16);
    mpcd_rlp_item it;
    mpcd_rlp_enc e;
    assert_int_equal(mpcd_rlp_decode(&it, in, len), MPCD_ETH_OK);
    assert_ptr_equal(it.raw, in);
    assert_int_equal(it.raw_len, len);
    mpcd_rlp_enc_init(&e, out, len + 16);
    reencode(&e, &it);
    assert_int_equal(mpcd_rlp_enc_finish(&e, &out_len), MPCD_ETH_OK);
    assert_int_equal(out_len, len);
    assert_memory_equal(out, in, len);
    free(out);
    free(in);
}

/* rlptest.json, every "out" (the longstring2 and listofbinaries cases are exercised by
 * their generated equivalents in test_long below). */
static void test_valid_vectors(void **state)
{
    (void)state;
    static const char *outs[] = {
        "0x80",
        "0x00",
        "0x01",
        "0x7f",
        "0x83646f67",
        "0xb74c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e736563746574757220"
        "6164697069736963696e6720656c69",
        "0xb8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e73656374657475"
        "72206164697069736963696e6720656c6974",
        "0x10",
        "0x4f",
        "0x8180",
        "0x8203e8",
        "0x830186a0",
        "0x8f102030405060708090a0b0c0d0e0f2",
        "0x9c0100020003000400050006000700080009000a000b000c000d000e01",
        "0xc0",
        "0xcc83646f6783676f6483636174",
        "0xc6827a77c10401",
        "0xf784617364668471776572847a78637684617364668471776572847a78637684617364668471776572"
        "847a78637684617364668471776572",
        "0xf840cf84617364668471776572847a786376cf84617364668471776572847a786376cf846173646684"
        "71776572847a786376cf84617364668471776572847a786376",
        "0xc4c2c0c0c0",
        "0xc7c0c1c0c3c0c1c0",
        "0xecca846b6579318476616c31ca846b6579328476616c32ca846b6579338476616c33ca846b657934847661"
        "6c34",
        "0xa1010000000000000000000000000000000000000000000000000000000000000000",
    };
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        check_roundtrip(outs[i]);
}

/* Values, as the vectors' "in" say. */
static void test_valid_values(void **state)
{
    (void)state;
    size_t len, n;
    mpcd_rlp_item it, items[4];
    uint64_t v;
    uint8_t w[32];

    uint8_t *b = vec_unhex("83646f67", &len); /* "dog" */
    assert_int_equal(mpcd_rlp_decode(&it, b, len), MPCD_ETH_OK);
    assert_false(it.is_list);
    assert_int_equal(it.len, 3);
    assert_memory_equal(it.payload, "dog", 3);
    free(b);

    static const struct {
        const char *hex;
        uint64_t v;
    } ints[] = {{"80", 0},       {"01", 1},         {"10", 16},           {"4f", 79},
                {"7f", 127},     {"8180", 128},     {"8203e8", 1000},     {"830186a0", 100000},
                {"00", ~0ull}, /* bytestring00 is a string, not the integer 0 */};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        b = vec_unhex(ints[i].hex, &len);
        assert_int_equal(mpcd_rlp_decode(&it, b, len), MPCD_ETH_OK);
        if (ints[i].v == ~0ull) {
            assert_int_equal(mpcd_rlp_u64(&v, &it), MPCD_ETH_ERR_RLP_INT);
        } else {
            assert_int_equal(mpcd_rlp_u64(&v, &it), MPCD_ETH_OK);
            assert_int_equal(v, ints[i].v);
        }
        free(b);
    }
    /* mediumint4 = 83729609699884896815286331701780722 = 0x102030405060708090a0b0c0d0e0f2 */
    b = vec_unhex("8f102030405060708090a0b0c0d0e0f2", &len);
    assert_int_equal(mpcd_rlp_decode(&it, b, len), MPCD_ETH_OK);
    assert_int_equal(mpcd_rlp_u64(&v, &it), MPCD_ETH_ERR_RLP_INT); /* wider than 64 bits */
    assert_int_equal(mpcd_rlp_u256(w, &it), MPCD_ETH_OK);
    assert_memory_equal(w + 17, b + 1, 15);
    for (int i = 0; i < 17; i++)
        assert_int_equal(w[i], 0);
    free(b);
    /* bigint = 2^256: 33 bytes, over u256 */
    b = vec_unhex("a1010000000000000000000000000000000000000000000000000000000000000000", &len);
    assert_int_equal(mpcd_rlp_decode(&it, b, len), MPCD_ETH_OK);
    assert_int_equal(mpcd_rlp_u256(w, &it), MPCD_ETH_ERR_RLP_INT);
    free(b);
    /* multilist ["zw", [4], 1] */
    b = vec_unhex("c6827a77c10401", &len);
    assert_int_equal(mpcd_rlp_decode(&it, b, len), MPCD_ETH_OK);
    assert_int_equal(mpcd_rlp_list(items, 4, &n, &it), MPCD_ETH_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(items[0].payload, "zw", 2);
    assert_true(items[1].is_list);
    assert_int_equal(mpcd_rlp_u64(&v, &items[2]), MPCD_ETH_OK);
    assert_int_equal(v, 1);
    assert_int_equal(mpcd_rlp_u64(&v, &items[1]), MPCD_ETH_ERR_RLP_SHAPE);
    assert_int_equal(mpcd_rlp_list(items, 2, &n, &it), MPCD_ETH_ERR_TOO_LARGE);
    assert_int_equal(mpcd_rlp_list(items, 4, &n, &items[0]), MPCD_ETH_ERR_RLP_SHAPE);
    free(b);
}

/* The encoder writes the vectors from their values. */
static void test_encode_values(void **state)
{
    (void)state;
    uint8_t buf[64];
    size_t len, n;
    mpcd_rlp_enc e;
    static const struct {
        uint64_t v;
        const char *hex;
    } ints[] = {{0, "80"},
                {1, "01"},
                {16, "10"},
                {79, "4f"},
                {127, "7f"},
                {128, "8180"},
                {1000, "8203e8"},
                {100000, "830186a0"},
                {~0ull, "88ffffffffffffffff"}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        uint8_t *want = vec_unhex(ints[i].hex, &n);
        mpcd_rlp_enc_init(&e, buf, sizeof buf);
        mpcd_rlp_enc_u64(&e, ints[i].v);
        assert_int_equal(mpcd_rlp_enc_finish(&e, &len), MPCD_ETH_OK);
        assert_int_equal(len, n);
        assert_memory_equal(buf, want, n);
        free(want);
    }
    /* stringlist ["dog", "god", "cat"] and listsoflists2 [ [], [[]], [ [], [[]] ] ] */
    uint8_t *want = vec_unhex("cc83646f6783676f6483636174", &n);
    mpcd_rlp_enc_init(&e, buf, sizeof buf);
    size_t m = mpcd_rlp_enc_list_begin(&e);
    mpcd_rlp_enc_bytes(&e, (const uint8_t *)"dog", 3);
    mpcd_rlp_enc_bytes(&e, (const uint8_t *)"god", 3);
    mpcd_rlp_enc_bytes(&e, (const uint8_t *)"cat", 3);
    mpcd_rlp_enc_list_end(&e, m);
    assert_int_equal(mpcd_rlp_enc_finish(&e, &len), MPCD_ETH_OK);
    assert_int_equal(len, n);
    assert_memory_equal(buf, want, n);
    free(want);
    want = vec_unhex("c7c0c1c0c3c0c1c0", &n);
    mpcd_rlp_enc_init(&e, buf, sizeof buf);
    size_t l0 = mpcd_rlp_enc_list_begin(&e);
    mpcd_rlp_enc_list_end(&e, mpcd_rlp_enc_list_begin(&e));
    size_t l1 = mpcd_rlp_enc_list_begin(&e);
    mpcd_rlp_enc_list_end(&e, mpcd_rlp_enc_list_begin(&e));
    mpcd_rlp_enc_list_end(&e, l1);
    size_t l2 = mpcd_rlp_enc_list_begin(&e);
    mpcd_rlp_enc_list_end(&e, mpcd_rlp_enc_list_begin(&e));
    size_t l3 = mpcd_rlp_enc_list_begin(&e);
    mpcd_rlp_enc_list_end(&e, mpcd_rlp_enc_list_begin(&e));
    mpcd_rlp_enc_list_end(&e, l3);
    mpcd_rlp_enc_list_end(&e, l2);
    mpcd_rlp_enc_list_end(&e, l0);
    assert_int_equal(mpcd_rlp_enc_finish(&e, &len), MPCD_ETH_OK);
    assert_int_equal(len, n);
    assert_memory_equal(buf, want, n);
    free(want);
    /* uint with leading zeros is written minimal; 0x00 alone is the integer 0 = 0x80 */
    uint8_t be[4] = {0, 0, 0x04, 0x00};
    mpcd_rlp_enc_init(&e, buf, sizeof buf);
    mpcd_rlp_enc_uint(&e, be, 4);
    mpcd_rlp_enc_uint(&e, be, 2);
    assert_int_equal(mpcd_rlp_enc_finish(&e, &len), MPCD_ETH_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(buf, "\x82\x04\x00\x80", 4);
    /* overflow: reported at finish, nothing written past cap */
    uint8_t small[4] = {0xaa, 0xaa, 0xaa, 0xaa};
    mpcd_rlp_enc_init(&e, small, 3);
    mpcd_rlp_enc_bytes(&e, (const uint8_t *)"dog", 3);
    assert_int_equal(mpcd_rlp_enc_finish(&e, &len), MPCD_ETH_ERR_BUFFER);
    assert_int_equal(small[3], 0xaa);
    mpcd_rlp_enc_init(&e, small, 4);
    m = mpcd_rlp_enc_list_begin(&e);
    mpcd_rlp_enc_bytes(&e, (const uint8_t *)"dog", 3); /* fits, but its list header does not */
    mpcd_rlp_enc_list_end(&e, m);
    assert_int_equal(mpcd_rlp_enc_finish(&e, &len), MPCD_ETH_ERR_BUFFER);
}

/* longstring2 (1024 bytes: b9 04 00 header) and long lists, generated. */
static void test_long(void **state)
{
    (void)state;
    uint8_t payload[1024], buf[1100];
    size_t len;
    mpcd_rlp_enc e;
    mpcd_rlp_item it;
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(' ' + i % 90);
    mpcd_rlp_enc_init(&e, buf, sizeof buf);
    mpcd_rlp_enc_bytes(&e, payload, sizeof payload);
    assert_int_equal(mpcd_rlp_enc_finish(&e, &len), MPCD_ETH_OK);
    assert_int_equal(len, 1027);
    assert_memory_equal(buf, "\xb9\x04\x00", 3);
    assert_int_equal(mpcd_rlp_decode(&it, buf, len), MPCD_ETH_OK);
    assert_int_equal(it.len, 1024);
    /* a list of 300 single bytes: f9 01 2c header */
    mpcd_rlp_enc_init(&e, buf, sizeof buf);
    size_t m = mpcd_rlp_enc_list_begin(&e);
    for (int i = 0; i < 300; i++)
        mpcd_rlp_enc_u64(&e, (uint64_t)(i % 100) + 1);
    mpcd_rlp_enc_list_end(&e, m);
    assert_int_equal(mpcd_rlp_enc_finish(&e, &len), MPCD_ETH_OK);
    assert_int_equal(len, 303);
    assert_memory_equal(buf, "\xf9\x01\x2c", 3);
    assert_int_equal(mpcd_rlp_decode(&it, buf, len), MPCD_ETH_OK);
    /* truncate it anywhere: refused */
    for (size_t cut = 0; cut < len; cut += 7)
        assert_int_not_equal(mpcd_rlp_decode(&it, buf, cut), MPCD_ETH_OK);
}

/* invalidRLPTest.json: each refused, with the error its cause predicts. */
static void test_invalid_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *name, *hex;
        mpcd_eth_err want;
    } bad[] = {
        {"int32Overflow", "bf0f000000000000021111", MPCD_ETH_ERR_RLP_TRUNCATED},
        {"int32Overflow2", "ff0f000000000000021111", MPCD_ETH_ERR_RLP_TRUNCATED},
        {"wrongSizeList", "f80180", MPCD_ETH_ERR_RLP_NONCANON},
        {"wrongSizeList2", "f80100", MPCD_ETH_ERR_RLP_NONCANON},
        {"incorrectLengthInArray",
         "b9002100dc2b275d0f74e8a53e6f4ec61b27f24278820be3f82ea2110e582081b0565df0",
         MPCD_ETH_ERR_RLP_NONCANON},
        {"randomRLP",
         "f861f83eb9002100dc2b275d0f74e8a53e6f4ec61b27f24278820be3f82ea2110e582081b0565df027b9"
         "0015002d5ef8325ae4d034df55d4b58d0dfba64d61ddd17be00000b9001a00dae30907045a2f66fa36f2"
         "bb8aa9029cbb0b8a7b3b5c435ab331",
         MPCD_ETH_ERR__COUNT /* any error */},
        {"bytesShouldBeSingleByte00", "8100", MPCD_ETH_ERR_RLP_NONCANON},
        {"bytesShouldBeSingleByte01", "8101", MPCD_ETH_ERR_RLP_NONCANON},
        {"bytesShouldBeSingleByte7F", "817F", MPCD_ETH_ERR_RLP_NONCANON},
        {"leadingZerosInLongLengthArray1",
         "b90040000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627"
         "28292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
         MPCD_ETH_ERR_RLP_NONCANON},
        {"leadingZerosInLongLengthArray2", "b800", MPCD_ETH_ERR_RLP_NONCANON},
        {"leadingZerosInLongLengthList1",
         "fb00000040000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425"
         "262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
         MPCD_ETH_ERR_RLP_NONCANON},
        {"leadingZerosInLongLengthList2", "f800", MPCD_ETH_ERR_RLP_NONCANON},
        {"nonOptimalLongLengthArray1", "b81000112233445566778899aabbccddeeff",
         MPCD_ETH_ERR_RLP_NONCANON},
        {"nonOptimalLongLengthArray2", "b801ff", MPCD_ETH_ERR_RLP_NONCANON},
        {"nonOptimalLongLengthList1", "f810000102030405060708090a0b0c0d0e0f",
         MPCD_ETH_ERR_RLP_NONCANON},
        {"nonOptimalLongLengthList2", "f803112233", MPCD_ETH_ERR_RLP_NONCANON},
        /* ours: empty input, trailing bytes, a list whose element overruns it, an
         * element inside a list that is not canonical */
        {"empty", "", MPCD_ETH_ERR_RLP_TRUNCATED},
        {"trailing", "8080", MPCD_ETH_ERR_RLP_TRAILING},
        {"trailing2", "c0c0", MPCD_ETH_ERR_RLP_TRAILING},
        {"childOverrun", "c28364", MPCD_ETH_ERR_RLP_TRUNCATED},
        {"childNonCanon", "c28101", MPCD_ETH_ERR_RLP_NONCANON},
        {"shortTruncated", "83646f", MPCD_ETH_ERR_RLP_TRUNCATED},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len;
        uint8_t *b = vec_unhex(bad[i].hex, &len);
        mpcd_rlp_item it = {0};
        mpcd_eth_err e = mpcd_rlp_decode(&it, b, len);
        if (e == MPCD_ETH_OK || (bad[i].want != MPCD_ETH_ERR__COUNT && e != bad[i].want))
            fail_msg("%s: got %s", bad[i].name, mpcd_eth_strerror(e));
        assert_null(it.raw); /* untouched on failure */
        free(b);
    }
}

static void test_depth(void **state)
{
    (void)state;
    uint8_t buf[MPCD_RLP_MAX_DEPTH + 1];
    mpcd_rlp_item it;
    /* n nested lists: c(n-1) ... c1 c0 — the innermost is at depth n */
    for (size_t n = 1; n <= MPCD_RLP_MAX_DEPTH + 1; n++) {
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)(0xc0 + (n - 1 - i));
        mpcd_eth_err e = mpcd_rlp_decode(&it, buf, n);
        assert_int_equal(e, n <= MPCD_RLP_MAX_DEPTH ? MPCD_ETH_OK : MPCD_ETH_ERR_RLP_DEPTH);
    }
}

static void test_errors_named(void **state)
{
    (void)state;
    for (int e = 0; e < MPCD_ETH_ERR__COUNT; e++) {
        assert_non_null(mpcd_eth_strerror((mpcd_eth_err)e));
        assert_non_null(mpcd_eth_errname((mpcd_eth_err)e));
        assert_string_not_equal(mpcd_eth_errname((mpcd_eth_err)e), "unknown");
    }
    assert_string_equal(mpcd_eth_errname(MPCD_ETH_ERR__COUNT), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_vectors),   cmocka_unit_test(test_valid_values),
        cmocka_unit_test(test_encode_values),   cmocka_unit_test(test_long),
        cmocka_unit_test(test_invalid_vectors), cmocka_unit_test(test_depth),
        cmocka_unit_test(test_errors_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
