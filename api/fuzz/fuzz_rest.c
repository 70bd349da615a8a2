/* api/fuzz/fuzz_rest.c — libFuzzer target for the REST request codecs (the backend's
 * bodies): the first byte picks the parser (keygen, sign, default signers), the rest is the
 * body. Properties: no crash, no out-of-bounds read (ASan); a rejection always names its
 * cause; an accepted sign request's delegate_share is extracted and decoded (strict base64)
 * to exactly the length the parser reported, and re-encodes to the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/b64.h"
#include "api/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_share(const char *body, size_t len, size_t want)
{
    char *b64 = NULL;
    size_t n = 0, blen = 0;
    if (api_delegate_share_get(body, len, &b64, &n) != API_OK || n != want || (want && !b64))
        abort();
    if (!b64)
        return;
    uint8_t *raw = malloc(n / 4 * 3 + 1);
    char *again = malloc(n + 1);
    if (!raw || !again || api_b64_decode(raw, n / 4 * 3, &blen, b64, n) != API_OK)
        abort();
    api_b64_encode(again, raw, blen);
    if (strcmp(again, b64) != 0)
        abort(); /* one encoding per byte string */
    free(raw);
    free(again);
    api_delegate_share_free(b64, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[API_MSG_MAX] = "";
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    api_err e;
    switch (data[0] % 3) {
    case 0: {
        api_keygen_req r;
        e = api_keygen_req_parse(&r, body, len, msg, sizeof msg);
        break;
    }
    case 1: {
        api_sign_req r;
        e = api_sign_req_parse(&r, body, len, msg, sizeof msg);
        if (e == API_OK)
            check_share(body, len, r.delegate_share_len);
        break;
    }
    default: {
        api_signers_req r;
        e = api_signers_req_parse(&r, body, len, msg, sizeof msg);
        break;
    }
    }
    if (e != API_OK && msg[0] == 0)
        abort(); /* every rejection says why */
    size_t n;
    (void)api_b64_valid(body, len, &n); /* the raw bytes as base64, too */
    return 0;
}
