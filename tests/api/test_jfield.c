/* tests/api/test_jfield.c — api/jfield.h, the field readers internal to api/: each one on a
 * good value (exact output), on a missing field, a wrong type and each bound, with the code
 * and the exact message its contract gives, with and without the `what` prefix; outputs
 * untouched on failure; no message written with msg NULL or cap 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/jfield.h"

static json_t *obj(const char *text)
{
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    assert_non_null(o);
    return o;
}

static void test_fail(void **state)
{
    (void)state;
    char msg[16];
    assert_int_equal(api_jf_fail(msg, sizeof msg, API_ERR_BAD_FIELD, "field '%s' %d", "ab", 7),
                     API_ERR_BAD_FIELD);
    assert_string_equal(msg, "field 'ab' 7");
    /* truncated, always terminated */
    assert_int_equal(api_jf_fail(msg, 6, API_ERR_BAD_JSON, "%s", "0123456789"), API_ERR_BAD_JSON);
    assert_string_equal(msg, "01234");
    /* no message wanted: nothing written */
    memcpy(msg, "untouched", 10);
    assert_int_equal(api_jf_fail(msg, 0, API_ERR_MISSING_FIELD, "x"), API_ERR_MISSING_FIELD);
    assert_string_equal(msg, "untouched");
    assert_int_equal(api_jf_fail(NULL, 99, API_OK, "x"), API_OK);
}

static void test_load(void **state)
{
    (void)state;
    char msg[128];
    api_err e = API_OK;
    assert_null(api_jf_load(NULL, 3, "x", "thing is empty", &e, msg, sizeof msg));
    assert_int_equal(e, API_ERR_BAD_JSON);
    assert_string_equal(msg, "thing is empty");
    assert_null(api_jf_load("{}", 0, NULL, "empty!", &e, msg, sizeof msg));
    assert_string_equal(msg, "empty!");
    assert_null(api_jf_load("{\"a\":1,\"a\":2}", 13, NULL, "e", &e, msg, sizeof msg));
    assert_int_equal(e, API_ERR_BAD_JSON);
    assert_memory_equal(msg, "invalid JSON at line 1 column ", 30);
    assert_null(api_jf_load("{} x", 4, "body", "e", &e, msg, sizeof msg));
    assert_memory_equal(msg, "body: invalid JSON at line 1", 28);
    /* a value that is not an object is the caller's to refuse */
    json_t *v = api_jf_load(" [1] ", 5, NULL, "e", &e, msg, sizeof msg);
    assert_non_null(v);
    assert_int_equal(e, API_OK);
    assert_true(json_is_array(v));
    json_decref(v);
}

static void test_keys(void **state)
{
    (void)state;
    static const char *const allowed[] = {"a", "b", NULL};
    char msg[128];
    json_t *o = obj("{\"a\":1,\"b\":2}");
    assert_null(api_jf_unknown_key(o, allowed));
    assert_int_equal(api_jf_check_keys(o, "o", allowed, API_ERR_UNKNOWN_FIELD, msg, sizeof msg),
                     API_OK);
    json_decref(o);
    o = obj("{\"a\":1,\"an-unknown-field-with-a-name-longer-than-forty-bytes\":2}");
    assert_string_equal(api_jf_unknown_key(o, allowed),
                        "an-unknown-field-with-a-name-longer-than-forty-bytes");
    /* the caller picks the code; the key is cut to 40 characters */
    assert_int_equal(api_jf_check_keys(o, "old", allowed, API_ERR_UNKNOWN_FIELD, msg, sizeof msg),
                     API_ERR_UNKNOWN_FIELD);
    assert_string_equal(msg, "old: unknown field 'an-unknown-field-with-a-name-longer-than'");
    assert_int_equal(api_jf_check_keys(o, NULL, allowed, API_ERR_BAD_FIELD, msg, sizeof msg),
                     API_ERR_BAD_FIELD);
    assert_string_equal(msg, "unknown field 'an-unknown-field-with-a-name-longer-than'");
    json_decref(o);
    o = obj("[1]");
    assert_null(api_jf_unknown_key(o, allowed));
    assert_int_equal(
        api_jf_check_keys(o, "parties[2]", allowed, API_ERR_UNKNOWN_FIELD, msg, sizeof msg),
        API_ERR_BAD_FIELD);
    assert_string_equal(msg, "parties[2] must be an object");
    json_decref(o);
}

static void test_int(void **state)
{
    (void)state;
    char msg[128];
    json_int_t v = 42;
    unsigned u = 42;
    json_t *o = obj("{\"lo\":2,\"hi\":5,\"big\":4294967295,\"s\":\"3\",\"f\":3.0,\"neg\":-1}");
    assert_int_equal(api_jf_get_int(o, "w", "lo", 2, 5, &v, msg, sizeof msg), API_OK);
    assert_int_equal(v, 2);
    assert_int_equal(api_jf_get_int(o, "w", "hi", 2, 5, &v, msg, sizeof msg), API_OK);
    assert_int_equal(v, 5);
    assert_int_equal(api_jf_get_uint(o, NULL, "big", 0, UINT32_MAX, &u, msg, sizeof msg), API_OK);
    assert_int_equal(u, UINT32_MAX);
    v = 42;
    assert_int_equal(api_jf_get_int(o, "w", "hi", 2, 4, &v, msg, sizeof msg), API_ERR_BAD_FIELD);
    assert_string_equal(msg, "w: field 'hi' must be an integer in 2..4");
    assert_int_equal(api_jf_get_int(o, "w", "lo", 3, 4, &v, msg, sizeof msg), API_ERR_BAD_FIELD);
    assert_int_equal(api_jf_get_int(o, NULL, "s", 0, 9, &v, msg, sizeof msg), API_ERR_BAD_FIELD);
    assert_string_equal(msg, "field 's' must be an integer in 0..9");
    assert_int_equal(api_jf_get_int(o, NULL, "f", 0, 9, &v, msg, sizeof msg), API_ERR_BAD_FIELD);
    assert_int_equal(api_jf_get_int(o, NULL, "neg", 0, 9, &v, msg, sizeof msg), API_ERR_BAD_FIELD);
    assert_int_equal(api_jf_get_int(o, "old", "n", 0, 9, &v, msg, sizeof msg),
                     API_ERR_MISSING_FIELD);
    assert_string_equal(msg, "old: field 'n' is required");
    assert_int_equal(v, 42); /* untouched on every failure */
    u = 42;
    assert_int_equal(api_jf_get_uint(o, "w", "neg", 0, 9, &u, msg, sizeof msg), API_ERR_BAD_FIELD);
    assert_int_equal(u, 42);
    json_decref(o);
}

static void test_string_text(void **state)
{
    (void)state;
    char msg[128], out[6] = "zzzzz";
    const char *s = "x";
    size_t n = 9;
    json_t *o = obj("{\"s\":\"abc\",\"nul\":\"a\\u0000b\",\"i\":1,\"e\":\"\",\"long\":\"abcdef\"}");
    assert_int_equal(api_jf_get_string(o, NULL, "s", 1, &s, &n, msg, sizeof msg), API_OK);
    assert_string_equal(s, "abc");
    assert_int_equal(n, 3);
    /* NUL bytes pass here (the length tells), absent and optional is not an error */
    assert_int_equal(api_jf_get_string(o, NULL, "nul", 1, &s, &n, msg, sizeof msg), API_OK);
    assert_int_equal(n, 3);
    assert_int_equal(strlen(s), 1);
    assert_int_equal(api_jf_get_string(o, NULL, "none", 0, &s, &n, msg, sizeof msg), API_OK);
    assert_null(s);
    assert_int_equal(n, 0);
    assert_int_equal(api_jf_get_string(o, NULL, "none", 1, &s, &n, msg, sizeof msg),
                     API_ERR_MISSING_FIELD);
    assert_string_equal(msg, "field 'none' is required");
    assert_int_equal(api_jf_get_string(o, "p", "i", 1, &s, &n, msg, sizeof msg), API_ERR_BAD_FIELD);
    assert_string_equal(msg, "p: field 'i' must be a string");
    assert_null(s);

    assert_int_equal(api_jf_get_text(o, "p", "s", 5, out, msg, sizeof msg), API_OK);
    assert_string_equal(out, "abc");
    memcpy(out, "zzzzz", 6);
    const char *bad[] = {"nul", "i", "e", "long"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        assert_int_equal(api_jf_get_text(o, "p", bad[k], 5, out, msg, sizeof msg),
                         API_ERR_BAD_FIELD);
        assert_string_equal(out, "zzzzz");
    }
    assert_string_equal(msg, "p: field 'long' must be a string of 1..5 bytes");
    assert_int_equal(api_jf_get_text(o, "p", "none", 5, out, msg, sizeof msg),
                     API_ERR_MISSING_FIELD);
    assert_string_equal(msg, "p: field 'none' is required");
    json_decref(o);
}

static void test_hex(void **state)
{
    (void)state;
    char msg[128];
    uint8_t out[2] = {0x55, 0x55};
    json_t *o =
        obj("{\"h\":\"0aFf\",\"short\":\"0a\",\"odd\":\"0aF\",\"g\":\"0agg\",\"p\":\"0x0a\","
            "\"i\":10}");
    assert_int_equal(api_jf_get_hex(o, "w", "h", out, 2, msg, sizeof msg), API_OK);
    assert_int_equal(out[0], 0x0a);
    assert_int_equal(out[1], 0xff);
    out[0] = out[1] = 0x55;
    const char *bad[] = {"short", "odd", "g", "p", "i"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        assert_int_equal(api_jf_get_hex(o, "w", bad[k], out, 2, msg, sizeof msg),
                         API_ERR_BAD_FIELD);
        assert_int_equal(out[0], 0x55);
        assert_int_equal(out[1], 0x55);
    }
    assert_string_equal(msg, "w: field 'i' must be 4 hex characters");
    assert_int_equal(api_jf_get_hex(o, NULL, "none", out, 2, msg, sizeof msg),
                     API_ERR_MISSING_FIELD);
    assert_string_equal(msg, "field 'none' is required");
    json_decref(o);
}

static void test_all_zero(void **state)
{
    (void)state;
    uint8_t b[32] = {0};
    assert_true(api_jf_all_zero(b, sizeof b));
    assert_true(api_jf_all_zero(b, 0));
    for (size_t i = 0; i < sizeof b; i++) {
        b[i] = 0x80;
        assert_false(api_jf_all_zero(b, sizeof b));
        b[i] = 0;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail),        cmocka_unit_test(test_load),
        cmocka_unit_test(test_keys),        cmocka_unit_test(test_int),
        cmocka_unit_test(test_string_text), cmocka_unit_test(test_hex),
        cmocka_unit_test(test_all_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
