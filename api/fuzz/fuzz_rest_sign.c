/* api/fuzz/fuzz_rest_sign.c — libFuzzer target for the REST sign request (issue 15: request id,
 * approvals, typed payloads), the untrusted body the hub parses first. Properties: the parser
 * accepts or rejects without crashing or reading out of bounds (ASan), a rejection names its
 * cause, and an accepted typed request's authorization re-encodes (as the hub forwards it to
 * the signers) to JSON that parses back to the same authorization. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[API_MSG_MAX];
    api_sign_req *r = malloc(sizeof *r), *r2 = malloc(sizeof *r2);
    if (!r || !r2)
        goto out;
    msg[0] = 0;
    if (api_sign_req_parse(r, (const char *)data, size, msg, sizeof msg) != API_OK) {
        if (!msg[0])
            abort(); /* every rejection says why */
        goto out;
    }
    char *enc = api_sign_auth_encode(&r->auth);
    if (!enc)
        abort();
    if (r->auth.kind != API_PAYLOAD_HASH) {
        /* the forwarded object is itself a valid typed sign request body */
        if (api_sign_req_parse(r2, enc, strlen(enc), msg, sizeof msg) != API_OK ||
            memcmp(&r->auth, &r2->auth, sizeof r->auth) != 0)
            abort();
    }
    free(enc);
out:
    free(r);
    free(r2);
    return 0;
}
