/* tests/api/test_json.c — REST and control-payload codecs: every validation rule fires
 * with the right code, valid input parses exactly, encoders round-trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/hex.h"
#include "api/json.h"

static api_err kg(const char *body, api_keygen_req *r)
{
    char msg[API_MSG_MAX];
    api_err e = api_keygen_req_parse(r, body, strlen(body), msg, sizeof msg);
    if (e != API_OK)
        assert_true(strlen(msg) > 0); /* every rejection names its cause */
    return e;
}

static api_err sg(const char *body, api_sign_req *r)
{
    char msg[API_MSG_MAX];
    api_err e = api_sign_req_parse(r, body, strlen(body), msg, sizeof msg);
    if (e != API_OK)
        assert_true(strlen(msg) > 0);
    return e;
}

static void test_keygen_valid(void **state)
{
    (void)state;
    api_keygen_req r;
    assert_int_equal(kg("{\"threshold\":2,\"n\":3,\"label\":\"hot wallet\"}", &r), API_OK);
    assert_int_equal(r.threshold, 2);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.nparties, 0);
    assert_string_equal(r.label, "hot wallet");
    assert_int_equal(kg("{\"threshold\":3,\"parties\":[\"a\",\"b-1\",\"c.x_y\"]}", &r), API_OK);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.nparties, 3);
    assert_string_equal(r.parties[1], "b-1");
    assert_int_equal(kg("{\"threshold\":2,\"n\":2,\"parties\":[\"a\",\"b\"]}", &r), API_OK);
}

static void test_keygen_invalid(void **state)
{
    (void)state;
    api_keygen_req r;
    assert_int_equal(kg("", &r), API_ERR_BAD_JSON);
    assert_int_equal(kg("{", &r), API_ERR_BAD_JSON);
    assert_int_equal(kg("[1]", &r), API_ERR_BAD_JSON);
    assert_int_equal(kg("{\"threshold\":2,\"n\":3} x", &r), API_ERR_BAD_JSON);
    assert_int_equal(kg("{\"threshold\":2,\"threshold\":2,\"n\":3}", &r), API_ERR_BAD_JSON);
    assert_int_equal(kg("{\"threshold\":2,\"n\":3,\"x\":1}", &r), API_ERR_UNKNOWN_FIELD);
    assert_int_equal(kg("{\"n\":3}", &r), API_ERR_MISSING_FIELD);
    assert_int_equal(kg("{\"threshold\":2}", &r), API_ERR_MISSING_FIELD);
    assert_int_equal(kg("{\"threshold\":\"2\",\"n\":3}", &r), API_ERR_BAD_FIELD);
    assert_int_equal(kg("{\"threshold\":2.0,\"n\":3}", &r), API_ERR_BAD_FIELD);
    assert_int_equal(kg("{\"threshold\":true,\"n\":3}", &r), API_ERR_BAD_FIELD);
    assert_int_equal(kg("{\"threshold\":-1,\"n\":3}", &r), API_ERR_BAD_FIELD);
    assert_int_equal(kg("{\"threshold\":99999999999999999999,\"n\":3}", &r), API_ERR_BAD_JSON);
    assert_int_equal(kg("{\"threshold\":1,\"n\":3}", &r), API_ERR_BAD_THRESHOLD);
    assert_int_equal(kg("{\"threshold\":4,\"n\":3}", &r), API_ERR_BAD_THRESHOLD);
    assert_int_equal(kg("{\"threshold\":2,\"n\":1}", &r), API_ERR_BAD_FIELD);
    assert_int_equal(kg("{\"threshold\":2,\"n\":17}", &r), API_ERR_BAD_FIELD);
    assert_int_equal(kg("{\"threshold\":2,\"n\":2,\"parties\":[\"a\",\"b\",\"c\"]}", &r),
                     API_ERR_BAD_FIELD);
    assert_int_equal(kg("{\"threshold\":2,\"parties\":[\"a\",\"a\"]}", &r), API_ERR_BAD_FIELD);
    assert_int_equal(kg("{\"threshold\":2,\"parties\":[\"a\",\"b c\"]}", &r), API_ERR_BAD_FIELD);
    assert_int_equal(kg("{\"threshold\":2,\"parties\":[\"a\",\"..\"]}", &r), API_ERR_BAD_FIELD);
    assert_int_equal(kg("{\"threshold\":2,\"parties\":[\"a\",2]}", &r), API_ERR_BAD_FIELD);
    assert_int_equal(kg("{\"threshold\":2,\"parties\":\"a,b\"}", &r), API_ERR_BAD_FIELD);
    assert_int_equal(kg("{\"threshold\":2,\"parties\":[\"a\"]}", &r), API_ERR_BAD_FIELD);
    assert_int_equal(kg("{\"threshold\":2,\"n\":3,\"label\":\"a\\u0000b\"}", &r), API_ERR_BAD_JSON);
    assert_int_equal(kg("{\"threshold\":2,\"n\":3,\"label\":\"a\\nb\"}", &r), API_ERR_BAD_FIELD);
    assert_int_equal(kg("{\"threshold\":2,\"n\":3,\"label\":\"\xff\"}", &r), API_ERR_BAD_JSON);
    char big[400];
    snprintf(big, sizeof big, "{\"threshold\":2,\"n\":3,\"label\":\"%0200d\"}", 0);
    assert_int_equal(kg(big, &r), API_ERR_BAD_FIELD);
    char id65[120];
    snprintf(id65, sizeof id65, "{\"threshold\":2,\"parties\":[\"a\",\"%065d\"]}", 0);
    assert_int_equal(kg(id65, &r), API_ERR_BAD_FIELD);
}

#define H64 "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"

static void test_sign(void **state)
{
    (void)state;
    api_sign_req r;
    assert_int_equal(sg("{\"hash\":\"" H64 "\"}", &r), API_OK);
    assert_int_equal(r.hash[0], 0x00);
    assert_int_equal(r.hash[31], 0xff);
    assert_int_equal(r.path_depth, 0);
    assert_string_equal(r.path, "");
    assert_int_equal(sg("{\"hash\":\"" H64
                        "\",\"derivation_path\":\"m/0/2147483647\",\"parties\":[\"a\",\"b\"]}",
                        &r),
                     API_OK);
    assert_int_equal(r.path_depth, 2);
    assert_int_equal(r.path_index[1], 2147483647u);
    assert_int_equal(r.nparties, 2);
    assert_int_equal(sg("{}", &r), API_ERR_MISSING_FIELD);
    assert_int_equal(sg("{\"hash\":1}", &r), API_ERR_BAD_FIELD);
    assert_int_equal(sg("{\"hash\":\"00\"}", &r), API_ERR_BAD_LENGTH);
    assert_int_equal(sg("{\"hash\":\"" H64 "00\"}", &r), API_ERR_BAD_LENGTH);
    assert_int_equal(
        sg("{\"hash\":\"zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}", &r),
        API_ERR_BAD_HEX);
    assert_int_equal(
        sg("{\"hash\":\"0x112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}", &r),
        API_ERR_BAD_HEX);
    assert_int_equal(sg("{\"hash\":\"" H64 "\",\"derivation_path\":\"m/0'\"}", &r),
                     API_ERR_BAD_PATH);
    assert_int_equal(sg("{\"hash\":\"" H64 "\",\"derivation_path\":\"m/2147483648\"}", &r),
                     API_ERR_BAD_PATH);
    assert_int_equal(sg("{\"hash\":\"" H64 "\",\"derivation_path\":7}", &r), API_ERR_BAD_FIELD);
    assert_int_equal(sg("{\"hash\":\"" H64 "\",\"amount\":7}", &r), API_ERR_UNKNOWN_FIELD);
}

#define SIG128 H64 H64
#define APPROVAL(who, alg, exp, sig)                                                               \
    "{\"approver\":\"" who "\",\"alg\":\"" alg "\",\"expires\":" exp ",\"signature\":\"" sig "\"}"

/* Request authorization (issue 15): request id, approvals, typed payloads. */
static void test_sign_auth(void **state)
{
    (void)state;
    api_sign_req *r = malloc(sizeof *r), *r2 = malloc(sizeof *r2);
    assert_int_equal(
        sg("{\"eth_transaction\":\"0x02c0\",\"request_id\":\"req-1.a_B\","
           "\"approvals\":[" APPROVAL("alice", "ecdsa-p256", "1900000000", SIG128) "," APPROVAL(
               "bob", "ed25519", "9007199254740991", SIG128) "]}",
           r),
        API_OK);
    assert_int_equal(r->auth.kind, API_PAYLOAD_ETH_TX);
    assert_int_equal(r->auth.typed_len, 2);
    assert_int_equal(r->auth.typed[0], 0x02);
    assert_string_equal(r->auth.request_id, "req-1.a_B");
    assert_int_equal(r->auth.napprovals, 2);
    assert_string_equal(r->auth.approvals[1].approver, "bob");
    assert_int_equal(r->auth.approvals[1].expires, 9007199254740991ull);
    assert_int_equal(r->auth.approvals[0].signature[31], 0xff);
    assert_true(api_sign_auth_present(&r->auth));
    /* the encoding the hub forwards parses back to the same authorization */
    char *enc = api_sign_auth_encode(&r->auth);
    assert_non_null(enc);
    assert_int_equal(sg(enc, r2), API_OK);
    assert_memory_equal(&r->auth, &r2->auth, sizeof r->auth);
    free(enc);
    /* EIP-191 may be empty; EIP-712 is kept as compact JSON with sorted keys */
    assert_int_equal(sg("{\"eip191_message\":\"\"}", r), API_OK);
    assert_int_equal(r->auth.kind, API_PAYLOAD_EIP191);
    assert_int_equal(r->auth.typed_len, 0);
    assert_int_equal(sg("{\"eip712\":{\"types\":{},\"domain\":{\"b\":1,\"a\":2}}}", r), API_OK);
    assert_string_equal((const char *)r->auth.typed, "{\"domain\":{\"a\":2,\"b\":1},\"types\":{}}");
    enc = api_sign_auth_encode(&r->auth);
    assert_int_equal(sg(enc, r2), API_OK);
    assert_string_equal((const char *)r2->auth.typed, (const char *)r->auth.typed);
    free(enc);
    /* a raw hash with nothing else: no authorization, forwarded as null */
    assert_int_equal(sg("{\"hash\":\"" H64 "\"}", r), API_OK);
    assert_false(api_sign_auth_present(&r->auth));
    enc = api_sign_auth_encode(&r->auth);
    assert_string_equal(enc, "null");
    free(enc);
    /* refusals, each naming its cause */
    assert_int_equal(sg("{\"hash\":\"" H64 "\",\"eth_transaction\":\"02c0\"}", r),
                     API_ERR_BAD_FIELD);
    assert_int_equal(sg("{\"eip191_message\":\"00\",\"eth_transaction\":\"02c0\"}", r),
                     API_ERR_BAD_FIELD);
    assert_int_equal(sg("{\"eth_transaction\":\"\"}", r), API_ERR_BAD_FIELD);
    assert_int_equal(sg("{\"eth_transaction\":\"0\"}", r), API_ERR_BAD_LENGTH);
    assert_int_equal(sg("{\"eth_transaction\":\"zz\"}", r), API_ERR_BAD_HEX);
    assert_int_equal(sg("{\"eth_transaction\":7}", r), API_ERR_BAD_FIELD);
    assert_int_equal(sg("{\"eip712\":\"text\"}", r), API_ERR_BAD_FIELD);
    assert_int_equal(sg("{\"hash\":\"" H64 "\",\"request_id\":\"a b\"}", r), API_ERR_BAD_FIELD);
    assert_int_equal(sg("{\"hash\":\"" H64 "\",\"request_id\":\"\"}", r), API_ERR_BAD_FIELD);
    assert_int_equal(
        sg("{\"hash\":\"" H64 "\",\"approvals\":[" APPROVAL("a", "ed25519", "5", SIG128) "]}", r),
        API_ERR_MISSING_FIELD); /* approvals need a request id */
    assert_int_equal(sg("{\"hash\":\"" H64 "\",\"request_id\":\"r\",\"approvals\":[]}", r),
                     API_ERR_BAD_FIELD);
    assert_int_equal(sg("{\"hash\":\"" H64 "\",\"request_id\":\"r\",\"approvals\":[" APPROVAL(
                            "a b", "ed25519", "5", SIG128) "]}",
                        r),
                     API_ERR_BAD_FIELD);
    assert_int_equal(sg("{\"hash\":\"" H64 "\",\"request_id\":\"r\",\"approvals\":[" APPROVAL(
                            "a", "rsa", "5", SIG128) "]}",
                        r),
                     API_ERR_BAD_FIELD);
    assert_int_equal(sg("{\"hash\":\"" H64 "\",\"request_id\":\"r\",\"approvals\":[" APPROVAL(
                            "a", "ed25519", "0", SIG128) "]}",
                        r),
                     API_ERR_BAD_FIELD);
    assert_int_equal(sg("{\"hash\":\"" H64 "\",\"request_id\":\"r\",\"approvals\":[" APPROVAL(
                            "a", "ed25519", "\"5\"", SIG128) "]}",
                        r),
                     API_ERR_BAD_FIELD);
    assert_int_equal(sg("{\"hash\":\"" H64 "\",\"request_id\":\"r\",\"approvals\":[" APPROVAL(
                            "a", "ed25519", "5", H64) "]}",
                        r),
                     API_ERR_BAD_FIELD);
    assert_int_equal(
        sg("{\"hash\":\"" H64 "\",\"request_id\":\"r\",\"approvals\":[{\"approver\":\"a\"}]}", r),
        API_ERR_MISSING_FIELD);
    assert_int_equal(sg("{\"hash\":\"" H64 "\",\"request_id\":\"r\",\"approvals\":[{\"x\":1}]}", r),
                     API_ERR_UNKNOWN_FIELD);
    char big[8192];
    int n = snprintf(big, sizeof big, "{\"hash\":\"" H64 "\",\"request_id\":\"r\",\"approvals\":[");
    for (int i = 0; i < API_APPROVALS_MAX + 1; i++)
        n += snprintf(big + n, sizeof big - (size_t)n, "%s" APPROVAL("a", "ed25519", "5", SIG128),
                      i ? "," : "");
    snprintf(big + n, sizeof big - (size_t)n, "]}");
    assert_int_equal(sg(big, r), API_ERR_BAD_FIELD);
    free(r);
    free(r2);
}

static void test_path(void **state)
{
    (void)state;
    uint32_t idx[API_PATH_MAX_DEPTH];
    size_t d;
    assert_int_equal(api_path_parse("m", idx, &d), API_OK);
    assert_int_equal(d, 0);
    assert_int_equal(api_path_parse("m/1/0/44", idx, &d), API_OK);
    assert_int_equal(d, 3);
    assert_int_equal(idx[2], 44);
    const char *bad[] = {"",
                         "M/1",
                         "m/",
                         "m//1",
                         "m/01",
                         "m/1/",
                         "m/-1",
                         "m/1h",
                         "m/1'",
                         "m/1/2/3/4/5/6/7/8/9",
                         "m/99999999999",
                         "/1",
                         "m1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(api_path_parse(bad[i], idx, &d), API_ERR_BAD_PATH);
}

static void test_error_body(void **state)
{
    (void)state;
    char *s = api_error_body(API_ERR_BAD_HEX, "field 'hash' must contain only hex digits");
    assert_string_equal(s, "{\"error\":{\"code\":\"bad_hex\",\"message\":\"field 'hash' must "
                           "contain only hex digits\"}}");
    free(s);
    s = api_error_body(API_ERR_UNKNOWN_KEY, NULL);
    assert_string_equal(s, "{\"error\":{\"code\":\"unknown_key\",\"message\":\"no key with "
                           "this id\"}}");
    free(s);
    assert_int_equal(api_err_http_status(API_ERR_UNAUTHENTICATED), 401);
    assert_int_equal(api_err_http_status(API_ERR_TOO_LARGE), 413);
    assert_int_equal(api_err_http_status(API_ERR_RATE_LIMITED), 429);
    assert_int_equal(api_err_http_status(API_ERR_BUSY), 503);
    /* every code has a distinct name and a status */
    for (int a = 0; a < API_ERR__COUNT; a++) {
        assert_true(api_err_http_status((api_err)a) >= 200);
        for (int b = a + 1; b < API_ERR__COUNT; b++)
            assert_string_not_equal(api_err_code((api_err)a), api_err_code((api_err)b));
    }
    assert_string_equal(api_err_code(API_ERR__COUNT), "internal");
}

static void test_hex(void **state)
{
    (void)state;
    uint8_t b[2] = {0xaa, 0xbb};
    char s[5];
    assert_int_equal(api_hex_decode(b, 2, "0g00", 4), API_ERR_BAD_HEX);
    assert_int_equal(b[0], 0xaa); /* untouched on failure */
    assert_int_equal(api_hex_decode(b, 2, "012", 3), API_ERR_BAD_LENGTH);
    assert_int_equal(api_hex_decode(b, 2, "0aFf", 4), API_OK);
    api_hex_encode(s, b, 2);
    assert_string_equal(s, "0aff");
}

static void test_control_payloads(void **state)
{
    (void)state;
    char msg[API_MSG_MAX];
    api_sign_result sr = {.recovery_id = 1}, sr2;
    memset(sr.r, 0x11, 32);
    memset(sr.s, 0x22, 32);
    char *j = api_sign_result_encode(&sr);
    assert_int_equal(api_sign_result_parse(&sr2, (uint8_t *)j, strlen(j), msg, sizeof msg), API_OK);
    assert_memory_equal(&sr, &sr2, sizeof sr);
    free(j);
    const char *bad_rid = "{\"r\":\"" H64 "\",\"s\":\"" H64 "\",\"recovery_id\":4}";
    assert_int_equal(
        api_sign_result_parse(&sr2, (const uint8_t *)bad_rid, strlen(bad_rid), msg, sizeof msg),
        API_ERR_BAD_FIELD);

    api_keygen_result kr = {0}, kr2;
    kr.public_key[0] = 2;
    memset(kr.chain_code, 3, 32);
    kr.attestation_len = 70;
    memset(kr.attestation, 0x30, 70);
    j = api_keygen_result_encode(&kr);
    assert_int_equal(api_keygen_result_parse(&kr2, (uint8_t *)j, strlen(j), msg, sizeof msg),
                     API_OK);
    assert_memory_equal(&kr, &kr2, sizeof kr);
    free(j);

    api_abort a = {.culprit = 2}, a2;
    strcpy(a.reason, "ot check failed");
    j = api_abort_encode(&a);
    assert_int_equal(api_abort_parse(&a2, (uint8_t *)j, strlen(j), msg, sizeof msg), API_OK);
    assert_string_equal(a2.reason, a.reason);
    assert_int_equal(a2.culprit, 2);
    free(j);

    api_hello h = {"0.1.0", "tpm2", ""}, h2;
    j = api_hello_encode(&h);
    assert_int_equal(api_hello_parse(&h2, (uint8_t *)j, strlen(j), msg, sizeof msg), API_OK);
    assert_string_equal(h2.backend, "tpm2");
    free(j);
    assert_int_equal(
        api_hello_parse(&h2, (const uint8_t *)"{\"version\":\"1\"}", 15, msg, sizeof msg),
        API_ERR_MISSING_FIELD);

    uint8_t m[API_ATTEST_MSG_BYTES], kid[16] = {9};
    api_attestation_message(m, kid, &kr);
    assert_memory_equal(m, "mpc-signer/persisted/v1", 23);
    assert_int_equal(m[23], 9);
    assert_int_equal(m[39], 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen_valid), cmocka_unit_test(test_keygen_invalid),
        cmocka_unit_test(test_sign),         cmocka_unit_test(test_sign_auth),
        cmocka_unit_test(test_path),         cmocka_unit_test(test_error_body),
        cmocka_unit_test(test_hex),          cmocka_unit_test(test_control_payloads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
