/* tests/api/test_delegate_codec.c — the codecs issue 16 added: strict base64 (api/b64.h)
 * against RFC 4648's vectors and random round trips, every rejection; keygen requests with
 * external_id and delegate, sign requests with delegate_share, the default-signers body,
 * hello's role, a keygen result and a session-start carrying a delegate share, and
 * api_delegate_share_get. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/b64.h"
#include "api/json.h"

static void test_b64_vectors(void **state)
{
    (void)state;
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char enc[16];
    uint8_t dec[16];
    size_t n;
    for (size_t i = 0; i < 7; i++) {
        api_b64_encode(enc, (const uint8_t *)in[i], strlen(in[i]));
        assert_string_equal(enc, out[i]);
        assert_int_equal(api_b64_len(strlen(in[i])), strlen(out[i]));
        if (i == 0)
            continue; /* the empty string is never a valid value */
        assert_int_equal(api_b64_decode(dec, sizeof dec, &n, out[i], strlen(out[i])), API_OK);
        assert_int_equal(n, strlen(in[i]));
        assert_memory_equal(dec, in[i], n);
    }
}

static void test_b64_random(void **state)
{
    (void)state;
    uint8_t buf[300], dec[300];
    char enc[401];
    size_t n;
    srand(16);
    for (size_t len = 1; len < sizeof buf; len++) {
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)rand();
        api_b64_encode(enc, buf, len);
        assert_int_equal(strlen(enc), api_b64_len(len));
        assert_int_equal(api_b64_decode(dec, sizeof dec, &n, enc, strlen(enc)), API_OK);
        assert_int_equal(n, len);
        assert_memory_equal(dec, buf, len);
        assert_int_equal(api_b64_decode(dec, len - 1, &n, enc, strlen(enc)), API_ERR_BAD_LENGTH);
    }
}

static void test_b64_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",       "Zg=",
        "Zg",     "Z===",
        "====",   "Zg==Zg==",
        "Zm9v\n", " Zm9v",
        "Zm9v ",  "Zm-v",
        "Zm_v",   "Zh==", /* unused bits set */
        "Zm9=",   /* unused bits set */ "Zm=v",
        "=m9v",   "Zm9vYg=A",
        "Zm9\0",
    };
    uint8_t dec[16];
    size_t n = 99;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = strlen(bad[i]) ? strlen(bad[i]) : (i == 0 ? 0 : 4);
        assert_int_equal(api_b64_valid(bad[i], len, &n), 0);
        assert_int_equal(api_b64_decode(dec, sizeof dec, &n, bad[i], len), API_ERR_BAD_FIELD);
    }
    assert_int_equal(n, 99); /* untouched on failure */
}

static api_err kg(const char *body, api_keygen_req *r)
{
    char msg[API_MSG_MAX] = "";
    api_err e = api_keygen_req_parse(r, body, strlen(body), msg, sizeof msg);
    if (e != API_OK)
        assert_true(strlen(msg) > 0);
    return e;
}

static void test_keygen_extras(void **state)
{
    (void)state;
    api_keygen_req r;
    assert_int_equal(kg("{\"threshold\":2,\"n\":3,\"external_id\":\"user@x.io:42\","
                        "\"delegate\":\"n3\"}",
                        &r),
                     API_OK);
    assert_string_equal(r.external_id, "user@x.io:42");
    assert_string_equal(r.delegate, "n3");
    assert_int_equal(kg("{\"threshold\":2,\"parties\":[\"a\",\"b\"],\"delegate\":\"b\"}", &r),
                     API_OK);
    assert_int_equal(kg("{\"threshold\":2,\"n\":3}", &r), API_OK);
    assert_string_equal(r.external_id, "");
    assert_string_equal(r.delegate, "");
    char long_id[200];
    memset(long_id, 'a', 129);
    long_id[129] = 0;
    char body[300];
    snprintf(body, sizeof body, "{\"threshold\":2,\"n\":3,\"external_id\":\"%s\"}", long_id);
    assert_int_equal(kg(body, &r), API_ERR_BAD_FIELD);
    long_id[128] = 0;
    snprintf(body, sizeof body, "{\"threshold\":2,\"n\":3,\"external_id\":\"%s\"}", long_id);
    assert_int_equal(kg(body, &r), API_OK);
    static const char *const bad[] = {
        "{\"threshold\":2,\"n\":3,\"external_id\":\"\"}",
        "{\"threshold\":2,\"n\":3,\"external_id\":\"a b\"}",
        "{\"threshold\":2,\"n\":3,\"external_id\":\"a/b\"}",
        "{\"threshold\":2,\"n\":3,\"external_id\":\"a+b\"}",
        "{\"threshold\":2,\"n\":3,\"external_id\":1}",
        "{\"threshold\":2,\"n\":3,\"external_id\":null}",
        "{\"threshold\":2,\"n\":3,\"delegate\":\"\"}",
        "{\"threshold\":2,\"n\":3,\"delegate\":\"..\"}",
        "{\"threshold\":2,\"n\":3,\"delegate\":[\"n3\"]}",
        "{\"threshold\":2,\"parties\":[\"a\",\"b\"],\"delegate\":\"c\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(kg(bad[i], &r), API_ERR_BAD_FIELD);
    /* an embedded NUL never reaches the check: jansson refuses \u0000 */
    assert_int_equal(kg("{\"threshold\":2,\"n\":3,\"external_id\":\"a\\u0000b\"}", &r),
                     API_ERR_BAD_JSON);
}

static void test_sign_delegate_share(void **state)
{
    (void)state;
    api_sign_req r;
    char msg[API_MSG_MAX];
    const char *h = "\"hash\":\"0000000000000000000000000000000000000000000000000000000000000001\"";
    char body[512];
    snprintf(body, sizeof body, "{%s,\"delegate_share\":\"Zm9vYmFy\"}", h);
    assert_int_equal(api_sign_req_parse(&r, body, strlen(body), msg, sizeof msg), API_OK);
    assert_int_equal(r.delegate_share_len, 8);
    char *b64;
    size_t n;
    assert_int_equal(api_delegate_share_get(body, strlen(body), &b64, &n), API_OK);
    assert_string_equal(b64, "Zm9vYmFy");
    assert_int_equal(n, 8);
    api_delegate_share_free(b64, n);
    snprintf(body, sizeof body, "{%s}", h);
    assert_int_equal(api_sign_req_parse(&r, body, strlen(body), msg, sizeof msg), API_OK);
    assert_int_equal(r.delegate_share_len, 0);
    assert_int_equal(api_delegate_share_get(body, strlen(body), &b64, &n), API_OK);
    assert_null(b64);
    static const char *const bad[] = {"\"\"", "\"Zm9\"", "\"Zm9v\\n\"", "7", "null", "[\"Zm9v\"]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(body, sizeof body, "{%s,\"delegate_share\":%s}", h, bad[i]);
        assert_int_equal(api_sign_req_parse(&r, body, strlen(body), msg, sizeof msg),
                         API_ERR_BAD_FIELD);
        assert_non_null(strstr(msg, "delegate_share"));
    }
    assert_int_equal(api_delegate_share_get("[1]", 3, &b64, &n), API_ERR_BAD_JSON);
    /* over the limit */
    size_t big = API_DELEGATE_SHARE_MAX + 4;
    char *huge = malloc(big + 200);
    int off = snprintf(huge, 200, "{%s,\"delegate_share\":\"", h);
    memset(huge + off, 'A', big);
    strcpy(huge + off + big, "\"}");
    assert_int_equal(api_sign_req_parse(&r, huge, strlen(huge), msg, sizeof msg),
                     API_ERR_BAD_FIELD);
    free(huge);
}

static void test_signers_req(void **state)
{
    (void)state;
    api_signers_req r;
    char msg[API_MSG_MAX];
    const char *ok = "{\"parties\":[\"n2\",\"n1\"]}";
    assert_int_equal(api_signers_req_parse(&r, ok, strlen(ok), msg, sizeof msg), API_OK);
    assert_int_equal(r.nparties, 2);
    assert_string_equal(r.parties[0], "n2");
    static const struct {
        const char *body;
        api_err e;
    } bad[] = {
        {"{}", API_ERR_MISSING_FIELD},
        {"{\"parties\":[\"n1\"]}", API_ERR_BAD_FIELD},
        {"{\"parties\":[\"n1\",\"n1\"]}", API_ERR_BAD_FIELD},
        {"{\"parties\":\"n1\"}", API_ERR_BAD_FIELD},
        {"{\"parties\":[\"n1\",2]}", API_ERR_BAD_FIELD},
        {"{\"parties\":[\"n1\",\"n2\"],\"x\":1}", API_ERR_UNKNOWN_FIELD},
        {"[]", API_ERR_BAD_JSON},
        {"", API_ERR_BAD_JSON},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg[0] = 0;
        assert_int_equal(
            api_signers_req_parse(&r, bad[i].body, strlen(bad[i].body), msg, sizeof msg), bad[i].e);
        assert_true(strlen(msg) > 0);
    }
}

static void test_hello_role(void **state)
{
    (void)state;
    api_hello h = {"0.1.0", "soft", "delegate"}, p;
    char msg[API_MSG_MAX];
    char *j = api_hello_encode(&h);
    assert_non_null(strstr(j, "\"role\":\"delegate\""));
    assert_int_equal(api_hello_parse(&p, (const uint8_t *)j, strlen(j), msg, sizeof msg), API_OK);
    assert_string_equal(p.role, "delegate");
    free(j);
    api_hello q = {"0.1.0", "soft", ""};
    j = api_hello_encode(&q);
    assert_null(strstr(j, "role")); /* a persistent signer's hello is what it always was */
    free(j);
    const char *bad = "{\"version\":\"0.1.0\",\"backend\":\"soft\",\"role\":\"boss\"}";
    assert_int_equal(api_hello_parse(&p, (const uint8_t *)bad, strlen(bad), msg, sizeof msg),
                     API_ERR_BAD_FIELD);
}

static void test_keygen_result_delegate(void **state)
{
    (void)state;
    api_keygen_result r = {.attestation_len = 3}, p;
    char msg[API_MSG_MAX], *b64;
    size_t n;
    r.attestation[0] = 0x30;
    assert_null(api_keygen_result_encode_delegate(&r, "not b64"));
    assert_null(api_keygen_result_encode_delegate(&r, ""));
    char *j = api_keygen_result_encode_delegate(&r, "Zm9vYmFy");
    assert_non_null(j);
    assert_int_equal(api_keygen_result_parse(&p, (const uint8_t *)j, strlen(j), msg, sizeof msg),
                     API_OK);
    assert_int_equal(p.delegate_share_len, 8);
    assert_int_equal(api_delegate_share_get(j, strlen(j), &b64, &n), API_OK);
    assert_string_equal(b64, "Zm9vYmFy");
    api_delegate_share_free(b64, n);
    free(j);
    j = api_keygen_result_encode(&r);
    assert_int_equal(api_keygen_result_parse(&p, (const uint8_t *)j, strlen(j), msg, sizeof msg),
                     API_OK);
    assert_int_equal(p.delegate_share_len, 0);
    free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_vectors),         cmocka_unit_test(test_b64_random),
        cmocka_unit_test(test_b64_rejects),         cmocka_unit_test(test_keygen_extras),
        cmocka_unit_test(test_sign_delegate_share), cmocka_unit_test(test_signers_req),
        cmocka_unit_test(test_hello_role),          cmocka_unit_test(test_keygen_result_delegate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
