/* tests/hub/test_head.c — the REST port's request-head parser (daemon/hubd/head.c): what it
 * accepts, each refusal with its status and code, and that a head arriving byte by byte
 * parses to the same result as all at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "head.h"

static hub_head H;

static hub_head_err parse(const char *s)
{
    hub_head_init(&H);
    return hub_head_parse(&H, s, strlen(s));
}

static void test_accepts(void **state)
{
    (void)state;
    const char *req = "POST /v1/keys/ab%63d/sign?wait=5s&x=a+b%2F HTTP/1.1\r\n"
                      "Host: hub:8443\r\nX-API-Key:  k1 \r\nCONTENT-TYPE: application/json\r\n"
                      "Content-Length: 12\r\nExpect: 100-continue\r\n\r\n{\"hash\":\"\"}x";
    assert_int_equal(parse(req), HUB_HEAD_OK);
    assert_int_equal(H.method, HUB_METHOD_POST);
    assert_int_equal(H.minor, 1);
    assert_string_equal(H.path, "/v1/keys/abcd/sign");
    assert_int_equal(H.nargs, 2);
    assert_string_equal(H.args[0], "wait=5s");
    assert_string_equal(H.args[1], "x=a b/");
    assert_string_equal(hub_head_get(&H, "x-api-key", NULL), "k1");
    assert_string_equal(hub_head_get(&H, "content-type", NULL), "application/json");
    assert_int_equal(H.has_content_length, 1);
    assert_int_equal(H.content_length, 12);
    assert_int_equal(H.expect_continue, 1);
    assert_int_equal(H.keep_alive, 1);
    assert_int_equal(H.head_len, strlen(req) - 12);
    assert_null(H.upgrade);
    /* Connection: close, HTTP/1.0, and empty lines before the request line */
    assert_int_equal(parse("\r\nGET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n"),
                     HUB_HEAD_OK);
    assert_int_equal(H.keep_alive, 0);
    assert_int_equal(H.method, HUB_METHOD_GET);
    assert_int_equal(parse("GET /healthz HTTP/1.0\r\n\r\n"), HUB_HEAD_OK);
    assert_int_equal(H.keep_alive, 0);
    assert_int_equal(H.has_content_length, 0);
    /* byte by byte: incomplete until the last byte, then the same result */
    char buf[512];
    snprintf(buf, sizeof buf,
             "GET /v1/parties HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
             "mpck_x\r\n\r\n");
    size_t n = strlen(buf);
    hub_head_init(&H);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(hub_head_parse(&H, buf, i), HUB_HEAD_INCOMPLETE);
    assert_int_equal(hub_head_parse(&H, buf, n), HUB_HEAD_OK);
    assert_string_equal(hub_head_get(&H, "authorization", NULL), "Bearer mpck_x");
}

static void expect(const char *req, hub_head_err want, int status, const char *code)
{
    hub_head_err e = parse(req);
    if (e != want)
        fail_msg("'%.60s': %s, expected %s", req, hub_head_strerror(e), hub_head_strerror(want));
    assert_int_equal(hub_head_status(e), status);
    assert_string_equal(hub_head_code(e), code);
    assert_true(H.msg[0] != 0);
}

static void test_refuses(void **state)
{
    (void)state;
    /* the four items of issue 18 that lws decided by itself */
    expect("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", HUB_HEAD_METHOD, 405, "method_not_allowed");
    expect("GET https://x/v1/keys HTTP/1.1\r\nHost: x\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET * HTTP/1.1\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET /v1/keys%00 HTTP/1.1\r\nHost: x\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET /v1/keys?wait=%00 HTTP/1.1\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET /v1/%0a HTTP/1.1\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET /v1/%zz HTTP/1.1\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET /v1/% HTTP/1.1\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET /healthz HTTP/1.1\nHost: x\n\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET /healthz HTTP/1.1\r\nHost: x\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET /healthz HTTP/1.1\r\nHost: x\r\n\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET /healthz HTTP/1.1\rHost: x\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    /* a bare LF is refused before the head is complete */
    expect("GET /healthz HTTP/1.1\nHost: x", HUB_HEAD_BAD, 400, "bad_request");
    /* resumed scans: a CR at the end of one read and its LF (or not) in the next, and the
     * empty line split across reads */
    static const char *const pieces[][3] = {
        {"GET / HTTP/1.1\r", "\nHost: x\r\n\r", "\n"},
        {"GET / HTTP/1.1\r\nHost: x\r\n", "\r", "\n"},
        {"\r\n\r\n", "GET / HTTP/1.1\r\n", "\r\n"},
    };
    for (size_t k = 0; k < 3; k++) {
        char acc[128] = "";
        hub_head_init(&H);
        for (size_t j = 0; j < 3; j++) {
            strcat(acc, pieces[k][j]);
            assert_int_equal(hub_head_parse(&H, acc, strlen(acc)),
                             j == 2 ? HUB_HEAD_OK : HUB_HEAD_INCOMPLETE);
        }
    }
    hub_head_init(&H);
    assert_int_equal(hub_head_parse(&H, "GET / HTTP/1.1\r", 15), HUB_HEAD_INCOMPLETE);
    assert_int_equal(hub_head_parse(&H, "GET / HTTP/1.1\rX", 16), HUB_HEAD_BAD);
    /* size: a head over HUB_HEAD_MAX, or too many fields */
    static char big[HUB_HEAD_MAX + 64];
    snprintf(big, sizeof big, "GET / HTTP/1.1\r\nX-Big: ");
    size_t n = strlen(big);
    memset(big + n, 'a', sizeof big - n - 1);
    big[sizeof big - 1] = 0;
    expect(big, HUB_HEAD_TOO_LARGE, 431, "request_header_fields_too_large");
    memcpy(big + HUB_HEAD_MAX - 8, "\r\n\r\n", 4); /* complete just below the limit: fine */
    assert_int_equal(parse(big), HUB_HEAD_OK);
    char many[4096] = "GET / HTTP/1.1\r\n";
    for (int i = 0; i <= HUB_HEAD_MAX_FIELDS; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "X-%d: 1\r\n", i);
    strcat(many, "\r\n");
    expect(many, HUB_HEAD_TOO_LARGE, 431, "request_header_fields_too_large");
    /* methods, versions, request line shape */
    expect("CONNECT x:1 HTTP/1.1\r\n\r\n", HUB_HEAD_METHOD, 405, "method_not_allowed");
    expect("TRACE / HTTP/1.1\r\n\r\n", HUB_HEAD_METHOD, 405, "method_not_allowed");
    expect("PATCH /v1/keys HTTP/1.1\r\n\r\n", HUB_HEAD_METHOD, 405, "method_not_allowed");
    assert_int_equal(parse("DELETE /v1/keys/x/signers HTTP/1.1\r\n\r\n"), HUB_HEAD_OK);
    assert_int_equal(H.method, HUB_METHOD_DELETE);
    assert_int_equal(parse("PUT /v1/keys/x/signers HTTP/1.1\r\n\r\n"), HUB_HEAD_OK);
    assert_int_equal(H.method, HUB_METHOD_PUT);
    expect("get / HTTP/1.1\r\n\r\n", HUB_HEAD_METHOD, 405, "method_not_allowed");
    expect("GET / HTTP/2.0\r\n\r\n", HUB_HEAD_VERSION, 505, "http_version_not_supported");
    expect("GET / HTTP/1.1 \r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET  / HTTP/1.1\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET /\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("G(T / HTTP/1.1\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET /a#b HTTP/1.1\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    assert_int_equal(parse("\r\n\r\n"), HUB_HEAD_INCOMPLETE); /* empty lines before a request */
    expect("\r\n\r\n\r\n\r\n\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    /* fields */
    expect("GET / HTTP/1.1\r\nHost : x\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET / HTTP/1.1\r\nno colon\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET / HTTP/1.1\r\n: x\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HUB_HEAD_BAD, 400, "bad_request");
    expect("GET / HTTP/1.1\r\nX: a\x01"
           "b\r\n\r\n",
           HUB_HEAD_BAD, 400, "bad_request");
    /* framing */
    static const char *const cls[] = {"00",  "abc", "0x10", "+5",
                                      "5 5", "-1",  "",     "99999999999999999999"};
    for (size_t i = 0; i < sizeof cls / sizeof cls[0]; i++) {
        char req[128];
        snprintf(req, sizeof req, "POST / HTTP/1.1\r\nContent-Length: %s\r\n\r\n", cls[i]);
        expect(req, HUB_HEAD_FRAMING, 400, "bad_request");
    }
    expect("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", HUB_HEAD_FRAMING,
           400, "bad_request");
    expect("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
           HUB_HEAD_FRAMING, 400, "bad_request");
    expect("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", HUB_HEAD_FRAMING, 400,
           "bad_request");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
