/* tests/api/test_start.c — the signer's strict decoders for the hub's session-start and
 * activate payloads (PARTY_LINK.md): every shape the hub sends is accepted, every deviation
 * (a party listed twice, an index that names nobody, fields of the other kind, a non-null
 * approval, wrong lengths) is refused with the field named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/json.h"

#define KID "\"key_id\":\"00112233445566778899aabbccddeeff\""
#define NONCE                                                                                      \
    "\"nonce\":\""                                                                                 \
    "0101010101010101010101010101010101010101010101010101010101010101"                             \
    "\""
#define P(i, id) "{\"index\":" #i ",\"id\":\"" id "\",\"cert\":\"PEM\"}"

static api_err parse(const char *json, api_session_start *s, char *msg)
{
    return api_session_start_parse(s, (const uint8_t *)json, strlen(json), msg, API_MSG_MAX);
}

static void test_keygen_ok(void **state)
{
    (void)state;
    api_session_start *s = malloc(sizeof *s);
    char msg[API_MSG_MAX];
    assert_int_equal(parse("{\"kind\":\"keygen\"," KID ",\"threshold\":2,\"n\":3,\"index\":2,"
                           "\"parties\":[" P(1, "a") "," P(2, "b") "," P(
                               3, "c") "]," NONCE ",\"approval\":null}",
                           s, msg),
                     API_OK);
    assert_int_equal(s->sign, 0);
    assert_int_equal(s->nparties, 3);
    assert_string_equal(s->parties[1].id, "b");
    assert_int_equal(s->index, 2);
    free(s);
}

#define SIGN_TAIL                                                                                  \
    ",\"hash\":\""                                                                                 \
    "2222222222222222222222222222222222222222222222222222222222222222"                             \
    "\",\"public_key\":\"02"                                                                       \
    "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"                             \
    "\",\"derivation_path\":\"m/0/1\"}"

static void test_sign_ok(void **state)
{
    (void)state;
    api_session_start *s = malloc(sizeof *s);
    char msg[API_MSG_MAX];
    assert_int_equal(parse("{\"kind\":\"sign\"," KID ",\"threshold\":2,\"n\":3,\"index\":3,"
                           "\"parties\":[" P(1, "a") "," P(3, "c") "]," NONCE
                                                                   ",\"approval\":null" SIGN_TAIL,
                           s, msg),
                     API_OK);
    assert_int_equal(s->sign, 1);
    assert_int_equal(s->path_depth, 2);
    assert_int_equal(s->path_index[1], 1);
    assert_int_equal(s->public_key[0], 2);
    /* signers named in another order come back sorted by index */
    assert_int_equal(parse("{\"kind\":\"sign\"," KID ",\"threshold\":2,\"n\":3,\"index\":3,"
                           "\"parties\":[" P(3, "c") "," P(1, "a") "]," NONCE
                                                                   ",\"approval\":null" SIGN_TAIL,
                           s, msg),
                     API_OK);
    assert_int_equal(s->parties[0].index, 1);
    assert_string_equal(s->parties[1].id, "c");
    free(s);
}

/* A sign session-start with the request's authorization (issue 15). */
static void test_sign_approval(void **state)
{
    (void)state;
    api_session_start *s = malloc(sizeof *s);
    char msg[API_MSG_MAX];
    assert_int_equal(
        parse("{\"kind\":\"sign\"," KID ",\"threshold\":2,\"n\":3,\"index\":3,"
              "\"parties\":[" P(1, "a") "," P(
                  3, "c") "]," NONCE
                          ",\"approval\":{\"request_id\":\"r-1\",\"eth_transaction\":\"02c0\","
                          "\"approvals\":[{\"approver\":\"alice\",\"alg\":\"ed25519\","
                          "\"expires\":5,\"signature\":\""
                          "1111111111111111111111111111111111111111111111111111111111111111"
                          "1111111111111111111111111111111111111111111111111111111111111111"
                          "\"}]}" SIGN_TAIL,
              s, msg),
        API_OK);
    assert_string_equal(s->auth.request_id, "r-1");
    assert_int_equal(s->auth.kind, API_PAYLOAD_ETH_TX);
    assert_int_equal(s->auth.typed_len, 2);
    assert_int_equal(s->auth.napprovals, 1);
    assert_string_equal(s->auth.approvals[0].approver, "alice");
    free(s);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        /* a party listed twice */
        "{\"kind\":\"keygen\"," KID ",\"threshold\":2,\"n\":3,\"index\":1,\"parties\":[" P(
            1, "a") "," P(2, "a") "," P(3, "c") "]," NONCE ",\"approval\":null}",
        /* index names nobody listed (sign) */
        "{\"kind\":\"sign\"," KID ",\"threshold\":2,\"n\":3,\"index\":2,\"parties\":[" P(
            1, "a") "," P(3, "c") "]," NONCE ",\"approval\":null" SIGN_TAIL,
        /* keygen with signing fields */
        "{\"kind\":\"keygen\"," KID ",\"threshold\":2,\"n\":2,\"index\":1,\"parties\":[" P(
            1, "a") "," P(2, "b") "]," NONCE ",\"approval\":null,\"hash\":\"00\"}",
        /* approval not null in a keygen */
        "{\"kind\":\"keygen\"," KID ",\"threshold\":2,\"n\":2,\"index\":1,\"parties\":[" P(
            1, "a") "," P(2, "b") "]," NONCE ",\"approval\":{}}",
        /* sign: approval neither null nor an object, an unknown field in it, two payloads */
        "{\"kind\":\"sign\"," KID ",\"threshold\":2,\"n\":3,\"index\":1,\"parties\":[" P(
            1, "a") "," P(3, "c") "]," NONCE ",\"approval\":[]" SIGN_TAIL,
        "{\"kind\":\"sign\"," KID ",\"threshold\":2,\"n\":3,\"index\":1,\"parties\":[" P(
            1, "a") "," P(3, "c") "]," NONCE ",\"approval\":{\"hash\":\"00\"}" SIGN_TAIL,
        "{\"kind\":\"sign\"," KID
        ",\"threshold\":2,\"n\":3,\"index\":1,\"parties\":[" P(1, "a") "," P(
            3,
            "c") "]," NONCE
                 ",\"approval\":{\"eth_transaction\":\"02c0\",\"eip191_message\":\"00\"}" SIGN_TAIL,
        /* sign with three parties for threshold 2 */
        "{\"kind\":\"sign\"," KID ",\"threshold\":2,\"n\":3,\"index\":1,\"parties\":[" P(
            1, "a") "," P(2, "b") "," P(3, "c") "]," NONCE ",\"approval\":null" SIGN_TAIL,
        /* sign with an index twice */
        "{\"kind\":\"sign\"," KID ",\"threshold\":2,\"n\":3,\"index\":1,\"parties\":[" P(
            1, "a") "," P(1, "c") "]," NONCE ",\"approval\":null" SIGN_TAIL,
        /* keygen indices out of order */
        "{\"kind\":\"keygen\"," KID ",\"threshold\":2,\"n\":2,\"index\":1,\"parties\":[" P(
            2, "a") "," P(1, "b") "]," NONCE ",\"approval\":null}",
        /* threshold above n */
        "{\"kind\":\"keygen\"," KID ",\"threshold\":3,\"n\":2,\"index\":1,\"parties\":[" P(
            1, "a") "," P(2, "b") "]," NONCE ",\"approval\":null}",
        /* short nonce */
        "{\"kind\":\"keygen\"," KID ",\"threshold\":2,\"n\":2,\"index\":1,\"parties\":[" P(
            1, "a") "," P(2, "b") "],\"nonce\":\"01\",\"approval\":null}",
        /* unknown field in a party */
        "{\"kind\":\"keygen\"," KID ",\"threshold\":2,\"n\":2,\"index\":1,\"parties\":[{"
        "\"index\":1,\"id\":\"a\",\"cert\":\"x\",\"x\":1}," P(2, "b") "]," NONCE
                                                                      ",\"approval\":null}",
        /* hardened path */
        "{\"kind\":\"sign\"," KID ",\"threshold\":2,\"n\":3,\"index\":1,\"parties\":[" P(
            1, "a") "," P(3, "c") "]," NONCE ",\"approval\":null,\"hash\":\""
                                  "2222222222222222222222222222222222222222222222222222222222222222"
                                  "\",\"public_key\":\"02"
                                  "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
                                  "\",\"derivation_path\":\"m/0'\"}",
        "[]",
        "",
    };
    api_session_start *s = malloc(sizeof *s);
    char msg[API_MSG_MAX];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg[0] = 0;
        api_err e = parse(bad[i], s, msg);
        if (e == API_OK)
            fprintf(stderr, "accepted case %zu\n", i);
        assert_int_not_equal(e, API_OK);
        assert_true(msg[0] != 0);
    }
    free(s);
}

#define KID_ONLY "\"key_id\":\"00112233445566778899aabbccddeeff\""
#define ATT(i)   "{\"index\":" #i ",\"certificate\":\"PEM\",\"attestation\":\"3006020101020101\"}"

static void test_activate(void **state)
{
    (void)state;
    api_activate *a = malloc(sizeof *a);
    char msg[API_MSG_MAX];
    const char *ok = "{" KID_ONLY ",\"attestations\":[" ATT(1) "," ATT(2) "," ATT(3) "]}";
    assert_int_equal(api_activate_parse(a, (const uint8_t *)ok, strlen(ok), msg, sizeof msg),
                     API_OK);
    assert_int_equal(a->key_id[15], 0xff);
    assert_int_equal(a->count, 3);
    assert_int_equal(a->parties[2].index, 3);
    assert_int_equal(a->parties[1].attestation_len, 8);
    assert_string_equal(a->parties[0].certificate, "PEM");
    const char *bad[] = {
        "{" KID_ONLY "}",                                                 /* no attestations */
        "{\"key_id\":\"0011\",\"attestations\":[" ATT(1) "," ATT(2) "]}", /* short key id */
        "{" KID_ONLY ",\"attestations\":[" ATT(1) "]}",                   /* one party */
        "{" KID_ONLY ",\"attestations\":[" ATT(2) "," ATT(1) "]}",        /* out of order */
        "{" KID_ONLY ",\"attestations\":[" ATT(1) "," ATT(2) "],\"x\":1}",
        "{" KID_ONLY ",\"attestations\":[" ATT(1) ",{\"index\":2,\"certificate\":\"PEM\","
                                                  "\"attestation\":\"30x\"}]}",
        "{" KID_ONLY ",\"attestations\":[" ATT(1) ",{\"index\":2,\"certificate\":\"\","
                                                  "\"attestation\":\"3006\"}]}",
        "{}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        api_err e = api_activate_parse(a, (const uint8_t *)bad[i], strlen(bad[i]), msg, sizeof msg);
        if (e == API_OK)
            fprintf(stderr, "accepted activate case %zu\n", i);
        assert_int_not_equal(e, API_OK);
    }
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen_ok),     cmocka_unit_test(test_sign_ok),
        cmocka_unit_test(test_sign_approval), cmocka_unit_test(test_refused),
        cmocka_unit_test(test_activate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
