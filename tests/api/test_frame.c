/* tests/api/test_frame.c — party-link frame codec: round trip, every rule of
 * PARTY_LINK.md rejected, lengths exact, truncation at every byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/frame.h"

static const uint8_t SID[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static size_t make(uint8_t *buf, size_t cap, uint8_t type, const uint8_t *sid, uint16_t from,
                   uint16_t to, uint32_t round, const char *payload)
{
    api_frame f = {0};
    size_t n = 0;
    f.type = type;
    if (sid)
        memcpy(f.session, sid, 16);
    f.from = from;
    f.to = to;
    f.round = round;
    f.payload = (const uint8_t *)payload;
    f.payload_len = payload ? (uint32_t)strlen(payload) : 0;
    assert_int_equal(api_frame_encode(buf, cap, &n, &f), API_OK);
    return n;
}

static void test_round_trip(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t n = make(buf, sizeof buf, API_FRAME_PROTOCOL, SID, 1, 3, 7, "opaque-bytes");
    assert_int_equal(n, 32 + 12);
    /* Header layout is big-endian at fixed offsets. */
    assert_int_equal(buf[0], 1);
    assert_int_equal(buf[1], API_FRAME_PROTOCOL);
    assert_memory_equal(buf + 4, SID, 16);
    assert_int_equal(buf[21], 1);
    assert_int_equal(buf[23], 3);
    assert_int_equal(buf[27], 7);
    assert_int_equal(buf[31], 12);
    api_frame f;
    assert_int_equal(api_frame_decode(&f, buf, n), API_OK);
    assert_int_equal(f.type, API_FRAME_PROTOCOL);
    assert_int_equal(f.from, 1);
    assert_int_equal(f.to, 3);
    assert_int_equal(f.round, 7);
    assert_int_equal(f.payload_len, 12);
    assert_ptr_equal(f.payload, buf + 32);
    assert_memory_equal(f.payload, "opaque-bytes", 12);
}

static void test_lengths(void **state)
{
    (void)state;
    uint8_t buf[128];
    api_frame f;
    size_t n = make(buf, sizeof buf, API_FRAME_PROTOCOL, SID, 1, 2, 1, "abc");
    for (size_t cut = 0; cut < n; cut++)
        assert_int_not_equal(api_frame_decode(&f, buf, cut), API_OK);
    assert_int_equal(api_frame_decode(&f, buf, n + 1), API_ERR_FRAME_LENGTH); /* trailing */
    buf[28] = 0x7f; /* length over the limit */
    assert_int_equal(api_frame_decode(&f, buf, n), API_ERR_FRAME_LENGTH);
    assert_int_equal(api_frame_decode(&f, NULL, 0), API_ERR_FRAME_LENGTH);
    /* encoder: buffer too small */
    api_frame g = {.type = API_FRAME_PING};
    size_t out;
    assert_int_equal(api_frame_encode(buf, 31, &out, &g), API_ERR_FRAME_LENGTH);
    g.payload_len = API_FRAME_MAX_PAYLOAD + 1;
    g.payload = buf;
    assert_int_equal(api_frame_encode(buf, sizeof buf, &out, &g), API_ERR_FRAME_LENGTH);
}

static void expect_reject(uint8_t *buf, size_t n, size_t off, uint8_t val, api_err want)
{
    uint8_t copy[256];
    api_frame f;
    memcpy(copy, buf, n);
    copy[off] = val;
    assert_int_equal(api_frame_decode(&f, copy, n), want);
}

static void test_header_fields(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t n = make(buf, sizeof buf, API_FRAME_PROTOCOL, SID, 1, 2, 1, "x");
    expect_reject(buf, n, 0, 0, API_ERR_FRAME_VERSION);
    expect_reject(buf, n, 0, 2, API_ERR_FRAME_VERSION);
    expect_reject(buf, n, 1, 0, API_ERR_FRAME_TYPE);
    expect_reject(buf, n, 1, API_FRAME__MAX + 1, API_ERR_FRAME_TYPE);
    expect_reject(buf, n, 3, 1, API_ERR_FRAME);  /* reserved flags */
    expect_reject(buf, n, 23, 1, API_ERR_FRAME); /* to == from */
    expect_reject(buf, n, 23, 0, API_ERR_FRAME); /* protocol to the hub */
    expect_reject(buf, n, 21, 0, API_ERR_FRAME); /* protocol from the hub */
    expect_reject(buf, n, 20, 1, API_ERR_FRAME); /* index 257 > 255 */
}

static void test_type_rules(void **state)
{
    (void)state;
    uint8_t buf[128];
    api_frame f = {0};
    size_t out;
    /* hello: no session, non-empty payload */
    f.type = API_FRAME_HELLO;
    assert_int_equal(api_frame_encode(buf, sizeof buf, &out, &f), API_ERR_FRAME);
    f.payload = (const uint8_t *)"{}";
    f.payload_len = 2;
    assert_int_equal(api_frame_encode(buf, sizeof buf, &out, &f), API_OK);
    memcpy(f.session, SID, 16);
    assert_int_equal(api_frame_encode(buf, sizeof buf, &out, &f), API_ERR_FRAME);
    /* session-start: needs a session, from the hub, to a party */
    f.type = API_FRAME_SESSION_START;
    f.to = 2;
    assert_int_equal(api_frame_encode(buf, sizeof buf, &out, &f), API_OK);
    f.from = 1;
    assert_int_equal(api_frame_encode(buf, sizeof buf, &out, &f), API_ERR_FRAME);
    /* result: to the hub only */
    f.type = API_FRAME_RESULT;
    assert_int_equal(api_frame_encode(buf, sizeof buf, &out, &f), API_ERR_FRAME);
    f.to = 0;
    assert_int_equal(api_frame_encode(buf, sizeof buf, &out, &f), API_OK);
    memset(f.session, 0, 16);
    assert_int_equal(api_frame_encode(buf, sizeof buf, &out, &f), API_ERR_FRAME);
    /* ping: empty payload allowed, no round */
    f = (api_frame){.type = API_FRAME_PING};
    assert_int_equal(api_frame_encode(buf, sizeof buf, &out, &f), API_OK);
    assert_int_equal(out, 32);
    f.round = 1;
    assert_int_equal(api_frame_encode(buf, sizeof buf, &out, &f), API_ERR_FRAME);
    assert_string_equal(api_frame_type_name(API_FRAME_PROTOCOL), "protocol");
    assert_string_equal(api_frame_type_name(99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_type_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
