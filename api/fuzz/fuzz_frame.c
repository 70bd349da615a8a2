/* api/fuzz/fuzz_frame.c — libFuzzer target for the party-link frame decoder and the
 * control-payload parsers. Properties checked on every input: the decoder never reads out
 * of bounds (ASan), a frame it accepts re-encodes to exactly the same bytes, and the JSON
 * parsers (session-start: keygen/sign and reshare) accept or reject the payload without
 * crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/b64.h"
#include "api/frame.h"
#include "api/json.h"
#include "api/reshare.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What a delegate signer (session-start) or the hub (keygen result) does with an accepted
 * payload's delegate_share: extract it and decode it; the length must be what the parser
 * reported. */
static void delegate_share(const uint8_t *p, size_t len, size_t want)
{
    char *b64 = NULL;
    size_t n = 0, blen = 0;
    if (api_delegate_share_get(p, len, &b64, &n) != API_OK || n != want)
        abort();
    uint8_t *raw = b64 ? malloc(n / 4 * 3 + 1) : NULL;
    if (b64 && (!raw || api_b64_decode(raw, n / 4 * 3, &blen, b64, n) != API_OK))
        abort();
    free(raw);
    api_delegate_share_free(b64, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    api_frame f;
    char msg[API_MSG_MAX];
    if (api_frame_decode(&f, data, size) != API_OK)
        return 0;
    uint8_t *out = malloc(size ? size : 1);
    size_t out_len = 0;
    if (!out)
        return 0;
    if (api_frame_encode(out, size, &out_len, &f) != API_OK || out_len != size ||
        memcmp(out, data, size) != 0)
        abort(); /* accepted frames must round-trip bit for bit */
    free(out);
    union {
        api_hello h;
        api_sign_result s;
        api_keygen_result k;
        api_abort a;
    } u;
    switch (f.type) {
    case API_FRAME_HELLO:
        (void)api_hello_parse(&u.h, f.payload, f.payload_len, msg, sizeof msg);
        break;
    case API_FRAME_RESULT:
        (void)api_sign_result_parse(&u.s, f.payload, f.payload_len, msg, sizeof msg);
        if (api_keygen_result_parse(&u.k, f.payload, f.payload_len, msg, sizeof msg) == API_OK)
            delegate_share(f.payload, f.payload_len, u.k.delegate_share_len);
        {
            uint8_t kid[16];
            uint32_t epoch;
            int status;
            if (api_reshare_ack_parse(kid, &epoch, &status, f.payload, f.payload_len, msg,
                                      sizeof msg) == API_OK &&
                (status < 0 || status > 2))
                abort();
            api_key_public kp;
            int present;
            if (api_key_public_get(&kp, &present, f.payload, f.payload_len, msg, sizeof msg) ==
                    API_OK &&
                present && (kp.count < 2 || kp.count > API_MAX_PARTIES))
                abort(); /* an accepted key block has 2..16 public shares */
        }
        break;
    case API_FRAME_ABORT:
        (void)api_abort_parse(&u.a, f.payload, f.payload_len, msg, sizeof msg);
        break;
    case API_FRAME_SESSION_START: {
        api_session_start *st = malloc(sizeof *st);
        if (st && api_session_start_parse(st, f.payload, f.payload_len, msg, sizeof msg) == API_OK)
            delegate_share(f.payload, f.payload_len, st->delegate_share_len);
        free(st);
        api_reshare_start *rs = malloc(sizeof *rs); /* kind "reshare" (api/reshare.h) */
        if (rs &&
            api_reshare_start_parse(rs, f.payload, f.payload_len, msg, sizeof msg) == API_OK &&
            (rs->index < 1 || rs->index > api_reshare_participants(rs) ||
             rs->ndealers < rs->old_threshold || rs->ndealers > rs->old_n))
            abort(); /* an accepted payload keeps the documented bounds */
        free(rs);
        (void)api_reshare_is_start(f.payload, f.payload_len);
        break;
    }
    case API_FRAME_ACTIVATE: {
        api_activate *a = malloc(sizeof *a);
        uint32_t epoch;
        if (a)
            (void)api_activate_parse(a, f.payload, f.payload_len, msg, sizeof msg);
        if (a &&
            api_reshare_activate_parse(a, &epoch, f.payload, f.payload_len, msg, sizeof msg) ==
                API_OK &&
            (epoch == 0 || a->count < 2 || a->count > API_MAX_PARTIES))
            abort(); /* an accepted reshare activate names an epoch and 2..16 parties */
        free(a);
        break;
    }
    case API_FRAME_RETIRE: {
        uint8_t kid[16];
        uint32_t epoch;
        (void)api_retire_parse(kid, &epoch, f.payload, f.payload_len, msg, sizeof msg);
        break;
    }
    default:
        break;
    }
    return 0;
}
