/* tests/common/test_tsslib.c — the tss-lib save-file reader (daemon/common/tsslib.h):
 * generated 2-of-3 and 3-of-5 save files (tests/support/tsslib_gen.h, from known private
 * keys) parse, pass the checks and give the expected public key and Ethereum address; every
 * malformed or inconsistent file is refused with its own error, no output, and a message
 * that never holds Xi. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/common/eth.h"
#include "daemon/common/tsslib.h"
#include "test_rng.h"
#include "tsslib_gen.h"

/* secp256k1's order q, decimal */
#define Q_DEC "115792089237316195423570985008687907852837564279074904382605163141518161494337"

static void sk_small(uint8_t sk[32], uint8_t v)
{
    memset(sk, 0, 32);
    sk[31] = v;
}

static tsslib_gen_key *make(uint64_t seed, uint8_t skv, unsigned t, unsigned n,
                            const char *const *ids)
{
    tsslib_gen_key *k = tsslib_gen_small(seed, skv, t, n, ids);
    assert_non_null(k);
    return k;
}

/* Loads text and expects err (with expected_t); on failure no output and a message
 * without Xi. */
static void expect_text(const char *text, unsigned expected_t, mpcd_tsslib_err want,
                        const char *secret)
{
    mpcd_tsslib_share *s = (mpcd_tsslib_share *)1;
    char why[512] = "";
    mpcd_tsslib_err got =
        mpcd_tsslib_load((const uint8_t *)text, strlen(text), expected_t, &s, why, sizeof why);
    if (got != want)
        fprintf(stderr, "expected %s, got %s: %s\n", mpcd_tsslib_strerror(want),
                mpcd_tsslib_strerror(got), why);
    assert_int_equal(got, want);
    if (want == MPCD_TSSLIB_OK) {
        assert_non_null(s);
        mpcd_tsslib_free(s);
        return;
    }
    assert_null(s);
    assert_true(why[0] != 0);
    if (secret)
        assert_null(strstr(why, secret));
}

/* Party j's compact save file of k, tampered with by replacing from with to (from NULL:
 * untouched), must give want. */
static void expect_edit(const tsslib_gen_key *k, unsigned j, const char *from, const char *to,
                        mpcd_tsslib_err want)
{
    char xi[100];
    char *text = tsslib_gen_json(k, j, 0), *edited = text;
    assert_non_null(text);
    if (from) {
        edited = tsslib_gen_replace(text, from, to);
        assert_non_null(edited);
    }
    tsslib_gen_xi_dec(xi, k, j);
    expect_text(edited, 0, want, xi);
    if (edited != text)
        free(edited);
    free(text);
}

/* Every party of k loads, with the expected pk, threshold, position and share; the set
 * checks out; the address is addr. */
static void expect_key(const tsslib_gen_key *k, int indent, const char *addr)
{
    mpcd_tsslib_share *s[TSSLIB_GEN_MAX] = {0};
    char why[256], a[43];
    uint8_t pk[33], xi[32];
    for (unsigned j = 0; j < k->n; j++) {
        char *text = tsslib_gen_json(k, j, indent);
        assert_non_null(text);
        mpcd_tsslib_err err =
            mpcd_tsslib_load((const uint8_t *)text, strlen(text), k->t, &s[j], why, sizeof why);
        if (err)
            fprintf(stderr, "party %u: %s\n", j, why);
        assert_int_equal(err, MPCD_TSSLIB_OK);
        free(text);
        assert_int_equal(s[j]->n, k->n);
        assert_int_equal(s[j]->i, j);
        assert_int_equal(s[j]->threshold, k->t);
        tss_point_serialize(pk, &s[j]->pk);
        assert_memory_equal(pk, k->pk, 33);
        tss_scalar_serialize(xi, &s[j]->xi);
        assert_memory_equal(xi, k->xi[j], 32);
        assert_int_equal(mpcd_eth_address(a, pk), 0);
        assert_string_equal(a, addr);
    }
    assert_int_equal(
        mpcd_tsslib_check_set((const mpcd_tsslib_share *const *)s, k->n, why, sizeof why),
        MPCD_TSSLIB_OK);
    for (unsigned j = 0; j < k->n; j++)
        mpcd_tsslib_free(s[j]);
}

/* Private key 1 and 2: their addresses are well known. */
#define ADDR_SK1 "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
#define ADDR_SK2 "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"

static void test_2of3(void **state)
{
    (void)state;
    tsslib_gen_key *k = make(1, 1, 2, 3, NULL);
    expect_key(k, 0, ADDR_SK1);
    expect_key(k, 1, ADDR_SK1); /* MarshalIndent, as tss-lib's own fixtures */
    tsslib_gen_free(k);
}

static void test_3of5(void **state)
{
    (void)state;
    tsslib_gen_key *k = make(2, 2, 3, 5, NULL);
    expect_key(k, 1, ADDR_SK2);
    char *text = tsslib_gen_json(k, 4, 0);
    expect_text(text, 3, MPCD_TSSLIB_OK, NULL);
    expect_text(text, 2, MPCD_TSSLIB_ERR_THRESHOLD, NULL); /* the operator expected 2 */
    expect_text(text, 4, MPCD_TSSLIB_ERR_THRESHOLD, NULL);
    free(text);
    tsslib_gen_free(k);
}

/* n-of-n (degree n - 1: no redundancy) and larger keys. */
static void test_other_shapes(void **state)
{
    (void)state;
    tsslib_gen_key *k = make(3, 1, 3, 3, NULL);
    expect_key(k, 0, ADDR_SK1);
    tsslib_gen_free(k);
    k = make(4, 2, 7, 20, NULL);
    expect_key(k, 0, ADDR_SK2);
    tsslib_gen_free(k);
    /* the party bound: one file of a 40-of-64 */
    k = make(4, 1, 40, MPCD_TSSLIB_MAX_PARTIES, NULL);
    char *text = tsslib_gen_json(k, MPCD_TSSLIB_MAX_PARTIES - 1, 0);
    expect_text(text, 40, MPCD_TSSLIB_OK, NULL);
    free(text);
    tsslib_gen_free(k);
}

/* ShareIDs are reduced mod q: ids above q, and ones of 300+ bits, work. Files from before
 * tss-lib's curve registry have no "Curve". */
static void test_ids_and_old_format(void **state)
{
    (void)state;
    static const char *const ids[] = {
        "115792089237316195423570985008687907852837564279074904382605163141518161494338", /* q+1 */
        "7",
        "2037035976334486086268445688409378161051468393665936250636140449354381299763336706183397"
        "376"}; /* 2^300 */
    tsslib_gen_key *k = make(5, 1, 2, 3, ids);
    expect_key(k, 0, ADDR_SK1);
    k->curve = NULL;
    expect_key(k, 1, ADDR_SK1);
    k->curve = "ed25519";
    expect_edit(k, 0, NULL, NULL, MPCD_TSSLIB_ERR_CURVE);
    tsslib_gen_free(k);
}

/* Every cut of a save file is refused as invalid JSON. */
static void test_truncated(void **state)
{
    (void)state;
    tsslib_gen_key *k = make(6, 1, 2, 3, NULL);
    char *text = tsslib_gen_json(k, 1, 0), xi[100];
    size_t len = strlen(text);
    tsslib_gen_xi_dec(xi, k, 1);
    for (size_t cut = 0; cut < len; cut += (cut < 64 || len - cut < 64) ? 1 : 37) {
        char save = text[cut];
        text[cut] = 0;
        expect_text(text, 0, MPCD_TSSLIB_ERR_JSON, xi);
        text[cut] = save;
    }
    expect_text("[1,2]", 0, MPCD_TSSLIB_ERR_JSON, NULL);
    expect_text("", 0, MPCD_TSSLIB_ERR_JSON, NULL);
    free(text);
    tsslib_gen_free(k);
}

/* The first occurrence of "\"name\":" followed by a number, as "\"name\":<digits>". */
static char *field_text(const char *json, const char *name)
{
    char pat[64], *at, *r;
    snprintf(pat, sizeof pat, "\"%s\":", name);
    at = strstr(json, pat);
    assert_non_null(at);
    size_t len = strlen(pat) + strspn(at + strlen(pat), "0123456789");
    r = strndup(at, len);
    assert_non_null(r);
    return r;
}

static void test_numbers(void **state)
{
    (void)state;
    tsslib_gen_key *k = make(7, 1, 2, 3, NULL);
    char *text = tsslib_gen_json(k, 0, 0);
    char *xi = field_text(text, "Xi"), *sid = field_text(text, "ShareID");
    char *nt = field_text(text, "NTildei"), buf[2048];
    /* a fraction, an exponent (with and without fraction), a sign */
    snprintf(buf, sizeof buf, "%s.0", xi);
    expect_edit(k, 0, xi, buf, MPCD_TSSLIB_ERR_NUMBER);
    snprintf(buf, sizeof buf, "%se2", sid);
    expect_edit(k, 0, sid, buf, MPCD_TSSLIB_ERR_NUMBER);
    snprintf(buf, sizeof buf, "%s1.5E+3", "\"ShareID\":");
    expect_edit(k, 0, sid, buf, MPCD_TSSLIB_ERR_NUMBER);
    snprintf(buf, sizeof buf, "\"Xi\":-%s", xi + 5);
    expect_edit(k, 0, xi, buf, MPCD_TSSLIB_ERR_NUMBER);
    snprintf(buf, sizeof buf, "\"NTildei\":0%s", nt + 10);
    expect_edit(k, 0, nt, buf, MPCD_TSSLIB_ERR_NUMBER); /* leading zero */
    /* over-long: an ignored number past the digit bound; a share id past 512 bits */
    char *big = malloc(MPCD_TSSLIB_DIGITS_MAX + 32);
    memset(big, '9', MPCD_TSSLIB_DIGITS_MAX + 1);
    strcpy(big + MPCD_TSSLIB_DIGITS_MAX + 1, "");
    snprintf(buf, sizeof buf, "\"NTildei\":%s", big);
    expect_edit(k, 0, nt, buf, MPCD_TSSLIB_ERR_NUMBER);
    big[MPCD_TSSLIB_DIGITS_MAX] = 0; /* exactly the bound: fine */
    snprintf(buf, sizeof buf, "\"NTildei\":%s", big);
    expect_edit(k, 0, nt, buf, MPCD_TSSLIB_OK);
    big[160] = 0;
    snprintf(buf, sizeof buf, "\"ShareID\":%s", big);
    expect_edit(k, 0, sid, buf, MPCD_TSSLIB_ERR_NUMBER);
    /* Xi not below q */
    snprintf(buf, sizeof buf, "\"Xi\":%s", Q_DEC);
    expect_edit(k, 0, xi, buf, MPCD_TSSLIB_ERR_XI);
    expect_edit(k, 0, xi, "\"Xi\":0", MPCD_TSSLIB_ERR_XI);
    snprintf(buf, sizeof buf, "\"Xi\":%s", big); /* 160 digits: over 2^256 */
    expect_edit(k, 0, xi, buf, MPCD_TSSLIB_ERR_XI);
    free(big);
    free(xi);
    free(sid);
    free(nt);
    free(text);
    tsslib_gen_free(k);
}

static void test_fields(void **state)
{
    (void)state;
    tsslib_gen_key *k = make(8, 1, 2, 3, NULL);
    char *text = tsslib_gen_json(k, 2, 0);
    char *xi = field_text(text, "Xi"), buf[2048];
    /* missing: Xi removed, ECDSAPub renamed (an EdDSA save file has EDDSAPub) */
    snprintf(buf, sizeof buf, ",%s", xi);
    expect_edit(k, 2, buf, "", MPCD_TSSLIB_ERR_FIELD);
    expect_edit(k, 2, "\"ECDSAPub\"", "\"EDDSAPub\"", MPCD_TSSLIB_ERR_FIELD);
    expect_edit(k, 2, "\"BigXj\"", "\"BigXs\"", MPCD_TSSLIB_ERR_FIELD);
    /* wrong types */
    snprintf(buf, sizeof buf, "\"Xi\":\"%s\"", xi + 5);
    expect_edit(k, 2, xi, buf, MPCD_TSSLIB_ERR_FIELD);
    expect_edit(k, 2, "\"NTildei\":", "\"NTildei\":\"x\",\"Q2\":", MPCD_TSSLIB_ERR_FIELD);
    expect_edit(k, 2, "\"Coords\":[", "\"Coords\":[1,", MPCD_TSSLIB_ERR_FIELD);
    expect_edit(k, 2, "\"Curve\":\"secp256k1\"", "\"Curve\":7", MPCD_TSSLIB_ERR_FIELD);
    expect_edit(k, 2, "\"Curve\":\"secp256k1\"", "\"Curve\":\"secp256k1\",\"X\":1",
                MPCD_TSSLIB_ERR_FIELD);
    /* ignored fields may be null or absent (older tss-lib) */
    expect_edit(k, 2, "\"Alpha\":", "\"Alpha\":null,\"Q0\":", MPCD_TSSLIB_ERR_FIELD);
    char *alpha = field_text(text, "Alpha");
    expect_edit(k, 2, alpha, "\"Alpha\":null", MPCD_TSSLIB_OK);
    snprintf(buf, sizeof buf, "%s,", alpha);
    expect_edit(k, 2, buf, "", MPCD_TSSLIB_OK);
    /* JSON-level: duplicate key, a string with \u0000 (could pass for a number) */
    expect_edit(k, 2, "{", "{\"Xi\":1,", MPCD_TSSLIB_ERR_JSON);
    expect_edit(k, 2, "\"secp256k1\"", "\"\\u00000\"", MPCD_TSSLIB_ERR_JSON);
    free(alpha);
    free(xi);
    free(text);
    tsslib_gen_free(k);
}

/* Coordinates off the curve, at or past p, past 2^256. */
static void test_points(void **state)
{
    (void)state;
    tsslib_gen_key *k = make(9, 1, 2, 3, NULL);
    k->bigx[1][63] ^= 1; /* y of BigXj[1] */
    expect_edit(k, 0, NULL, NULL, MPCD_TSSLIB_ERR_POINT);
    k->bigx[1][63] ^= 1;
    k->pub[40] ^= 0x10; /* ECDSAPub */
    expect_edit(k, 0, NULL, NULL, MPCD_TSSLIB_ERR_POINT);
    k->pub[40] ^= 0x10;
    memset(k->bigx[2], 0, 64); /* (0, 0): how Go would write infinity */
    expect_edit(k, 0, NULL, NULL, MPCD_TSSLIB_ERR_POINT);
    memset(k->bigx[2], 0xff, 32); /* x >= p */
    expect_edit(k, 0, NULL, NULL, MPCD_TSSLIB_ERR_POINT);
    tsslib_gen_free(k);
    k = make(9, 1, 2, 3, NULL);
    char *text = tsslib_gen_json(k, 0, 0);
    char *at = strstr(text, "\"Coords\":[") + 10;
    char from[100], to[200];
    snprintf(from, sizeof from, "%.*s", (int)strspn(at, "0123456789"), at);
    snprintf(to, sizeof to, "1%s", from); /* 79 digits: past 2^256; 78: at least p */
    expect_edit(k, 0, from, to, MPCD_TSSLIB_ERR_POINT);
    free(text);
    tsslib_gen_free(k);
}

static void test_ids(void **state)
{
    (void)state;
    static const char *const dup[] = {"5", "9",
                                      "115792089237316195423570985008687907852837564279074904382"
                                      "605163141518161494342"}; /* q + 5 */
    static const char *const zero[] = {"5", Q_DEC, "9"};
    static const char *const zero2[] = {"0", "5", "9"};
    tsslib_gen_key *k = make(10, 1, 2, 3, dup);
    expect_edit(k, 1, NULL, NULL, MPCD_TSSLIB_ERR_SHARE_ID);
    tsslib_gen_free(k);
    k = make(10, 1, 2, 3, zero);
    expect_edit(k, 0, NULL, NULL, MPCD_TSSLIB_ERR_SHARE_ID);
    tsslib_gen_free(k);
    k = make(10, 1, 2, 3, zero2);
    expect_edit(k, 1, NULL, NULL, MPCD_TSSLIB_ERR_SHARE_ID);
    tsslib_gen_free(k);
    /* ShareID not in Ks; Ks and BigXj of different lengths */
    static const char *const small[] = {"5", "9", "13"};
    k = make(10, 1, 2, 3, small);
    expect_edit(k, 1, "\"ShareID\":9", "\"ShareID\":10", MPCD_TSSLIB_ERR_NOT_MEMBER);
    expect_edit(k, 1, "\"ShareID\":9", "\"ShareID\":0", MPCD_TSSLIB_ERR_SHARE_ID);
    expect_edit(k, 1, ",13]", "]", MPCD_TSSLIB_ERR_COUNT);
    expect_edit(k, 1, ",13]", ",13,17]", MPCD_TSSLIB_ERR_COUNT);
    expect_edit(k, 1, "\"Ks\":[5,9,13]", "\"Ks\":[5]", MPCD_TSSLIB_ERR_COUNT);
    expect_edit(k, 1, "\"Ks\":[5,9,13]", "\"Ks\":[5,[9],13]", MPCD_TSSLIB_ERR_FIELD);
    expect_edit(k, 1, "\"Ks\":[5,9,13]", "\"Ks\":[5,\"9\",13]", MPCD_TSSLIB_ERR_FIELD);
    expect_edit(k, 1, "\"Ks\":[5,9,13]", "\"Ks\":5", MPCD_TSSLIB_ERR_FIELD);
    tsslib_gen_free(k);
}

/* The checks between fields: Xi against BigXj[i], the polynomial, ECDSAPub. */
static void test_consistency(void **state)
{
    (void)state;
    tsslib_gen_key *k = make(11, 1, 3, 5, NULL);
    uint8_t save[64], other[64], s7[32];
    /* Xi of another party */
    memcpy(k->xi[0], k->xi[1], 32);
    expect_edit(k, 0, NULL, NULL, MPCD_TSSLIB_ERR_XI_MISMATCH);
    tsslib_gen_free(k);
    k = make(11, 1, 3, 5, NULL);
    sk_small(s7, 7);
    assert_int_equal(tsslib_gen_point(other, s7), 0);
    /* one public share off the polynomial: every position, in another party's file */
    for (unsigned j = 0; j < 5; j++) {
        memcpy(save, k->bigx[j], 64);
        memcpy(k->bigx[j], other, 64);
        expect_edit(k, (j + 1) % 5, NULL, NULL, MPCD_TSSLIB_ERR_POLYNOMIAL);
        memcpy(k->bigx[j], save, 64);
    }
    /* ECDSAPub of another key: the shares still agree among themselves */
    memcpy(save, k->pub, 64);
    memcpy(k->pub, other, 64);
    expect_edit(k, 2, NULL, NULL, MPCD_TSSLIB_ERR_PUBKEY);
    memcpy(k->pub, save, 64);
    expect_edit(k, 2, NULL, NULL, MPCD_TSSLIB_OK);
    tsslib_gen_free(k);
    /* n-of-n: no redundancy, so a wrong ECDSAPub is all that can be seen */
    k = make(12, 1, 3, 3, NULL);
    memcpy(k->pub, other, 64);
    expect_edit(k, 0, NULL, NULL, MPCD_TSSLIB_ERR_POLYNOMIAL);
    tsslib_gen_free(k);
    /* degree 0: every share the key itself */
    k = make(13, 1, 2, 3, NULL);
    for (unsigned j = 0; j < 3; j++) {
        sk_small(k->xi[j], 1);
        memcpy(k->bigx[j], k->pub, 64);
    }
    expect_edit(k, 0, NULL, NULL, MPCD_TSSLIB_ERR_POLYNOMIAL);
    tsslib_gen_free(k);
}

static mpcd_tsslib_share *load(const tsslib_gen_key *k, unsigned j)
{
    mpcd_tsslib_share *s = NULL;
    char why[256], *text = tsslib_gen_json(k, j, 0);
    assert_int_equal(mpcd_tsslib_load((const uint8_t *)text, strlen(text), 0, &s, why, sizeof why),
                     MPCD_TSSLIB_OK);
    free(text);
    return s;
}

static void test_set(void **state)
{
    (void)state;
    tsslib_gen_key *a = make(14, 1, 2, 3, NULL), *b = make(15, 1, 2, 3, NULL);
    tsslib_gen_key *c = make(14, 2, 2, 3, NULL); /* same ids and coefficients, other key */
    mpcd_tsslib_share *s[3] = {load(a, 0), load(a, 1), load(a, 2)};
    char why[256];
    const mpcd_tsslib_share *const *set = (const mpcd_tsslib_share *const *)s;
    assert_int_equal(mpcd_tsslib_check_set(set, 3, why, sizeof why), MPCD_TSSLIB_OK);
    assert_int_equal(mpcd_tsslib_check_set(set, 1, why, sizeof why), MPCD_TSSLIB_OK);
    /* the same party twice */
    mpcd_tsslib_share *twice[2] = {s[1], s[1]};
    assert_int_equal(
        mpcd_tsslib_check_set((const mpcd_tsslib_share *const *)twice, 2, why, sizeof why),
        MPCD_TSSLIB_ERR_SET);
    /* another key's file (other ids), another key with the same ids */
    mpcd_tsslib_free(s[2]);
    s[2] = load(b, 2);
    assert_int_equal(mpcd_tsslib_check_set(set, 3, why, sizeof why), MPCD_TSSLIB_ERR_SET);
    mpcd_tsslib_free(s[2]);
    s[2] = load(c, 2);
    assert_int_equal(mpcd_tsslib_check_set(set, 3, why, sizeof why), MPCD_TSSLIB_ERR_SET);
    /* a 2-of-3 and a 3-of-3 of the same key and ids */
    tsslib_gen_key *d = make(14, 1, 3, 3, NULL);
    mpcd_tsslib_free(s[2]);
    s[2] = load(d, 2);
    assert_int_equal(mpcd_tsslib_check_set(set, 3, why, sizeof why), MPCD_TSSLIB_ERR_SET);
    /* unchecked shares are refused */
    s[2]->threshold = 0;
    assert_int_equal(mpcd_tsslib_check_set(set, 3, why, sizeof why), MPCD_TSSLIB_ERR_ARG);
    for (int j = 0; j < 3; j++)
        mpcd_tsslib_free(s[j]);
    tsslib_gen_free(a);
    tsslib_gen_free(b);
    tsslib_gen_free(c);
    tsslib_gen_free(d);
}

static void test_bounds(void **state)
{
    (void)state;
    char why[128];
    mpcd_tsslib_share *s = NULL;
    size_t len = MPCD_TSSLIB_FILE_MAX + 1;
    uint8_t *big = calloc(1, len);
    assert_int_equal(mpcd_tsslib_parse(big, len, &s, why, sizeof why), MPCD_TSSLIB_ERR_SIZE);
    assert_null(s);
    /* more number tokens than the bound */
    memset(big, ' ', len);
    big[0] = '[';
    for (size_t k = 0; k <= MPCD_TSSLIB_NUMBERS_MAX; k++)
        memcpy(big + 1 + 2 * k, "1,", 2);
    assert_int_equal(mpcd_tsslib_parse(big, 2 * MPCD_TSSLIB_NUMBERS_MAX + 8, &s, why, sizeof why),
                     MPCD_TSSLIB_ERR_SIZE);
    free(big);
    assert_int_equal(mpcd_tsslib_parse(NULL, 1, &s, why, sizeof why), MPCD_TSSLIB_ERR_ARG);
    assert_int_equal(mpcd_tsslib_check(NULL, 0, why, sizeof why), MPCD_TSSLIB_ERR_ARG);
    for (int e = 0; e <= MPCD_TSSLIB_ERR__COUNT; e++)
        assert_non_null(mpcd_tsslib_strerror((mpcd_tsslib_err)e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_2of3),         cmocka_unit_test(test_3of5),
        cmocka_unit_test(test_other_shapes), cmocka_unit_test(test_ids_and_old_format),
        cmocka_unit_test(test_truncated),    cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_fields),       cmocka_unit_test(test_points),
        cmocka_unit_test(test_ids),          cmocka_unit_test(test_consistency),
        cmocka_unit_test(test_set),          cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
