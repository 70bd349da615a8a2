/* daemon/ctl/fuzz/fuzz_dealer.c — libFuzzer target for what mpcctl adds to the hub's
 * import decoder (daemon/ctl/dealer.h; the decoder itself, api/import.h, has
 * api/fuzz/fuzz_import): the curve check of a parsed descriptor, its re-encoding into the
 * request body, and the check of that body (api_import_req_parse, the points, the
 * interpolation with tss_reshare_check_input) on what other machines produced. An input
 * is one descriptor (ctl_dealer_parse), or, starting with '!', up to 16 newline-separated
 * descriptors whose parsed ones make the body of a 2-of-3 import to n1,n2,n3
 * (ctl_dealer_request_body, ctl_dealer_check_request).
 * Properties on every input: no crash or sanitizer report; a refusal says why and leaves
 * the output zeroed; ctl_dealer_parse accepts exactly what api_import_dealer_parse accepts
 * with both points on secp256k1; a parsed descriptor round-trips (ctl_dealer_json, parsed
 * again, gives the same descriptor); a body that passes holds the descriptors as parsed,
 * in order, 1..16 with distinct parties and x, their shares interpolating to the key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dealer.h"
#include "tss/point.h"
#include "tss/reshare.h"
#include "tss/scalar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse_one(ctl_dealer *d, const char *text, size_t len)
{
    char why[256], why2[256];
    static const ctl_dealer zero;
    api_import_dealer plain;
    tss_point p;
    ctl_dealer_err e = ctl_dealer_parse(d, text, len, why, sizeof why);
    int api_ok = api_import_dealer_parse(&plain, text, len, why2, sizeof why2) == API_OK;
    int curve_ok = api_ok && tss_point_parse(&p, plain.public_key) == TSS_OK &&
                   tss_point_parse(&p, plain.public_share) == TSS_OK;
    if ((e == CTL_DEALER_OK) != curve_ok)
        abort(); /* the hub's decoder plus the curve, nothing else */
    if (e != CTL_DEALER_OK) {
        if (why[0] == 0 || memcmp(d, &zero, sizeof *d) != 0)
            abort(); /* a refusal says why and leaves nothing */
        return -1;
    }
    json_t *o = ctl_dealer_json(d);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    ctl_dealer again;
    if (!s || ctl_dealer_parse(&again, s, strlen(s), why, sizeof why) != CTL_DEALER_OK ||
        memcmp(&again, d, sizeof again) != 0)
        abort(); /* what mpcctl sends is what it read */
    free(s);
    json_decref(o);
    return 0;
}

/* r passed ctl_dealer_check_request: an independent look at what that promises. */
static void check_passed(const api_import_req *r, const ctl_dealer *d, size_t nd)
{
    tss_reshare_dealer t[API_MAX_PARTIES];
    tss_point pk;
    if (r->ndealers != nd || nd < 1 || nd > API_MAX_PARTIES || r->threshold != 2 ||
        r->nparties != 3)
        abort();
    memset(t, 0, sizeof t);
    for (size_t i = 0; i < nd; i++) {
        if (memcmp(&r->dealers[i], &d[i], sizeof d[i]) != 0)
            abort(); /* the body holds the descriptors as parsed */
        for (size_t j = 0; j < i; j++)
            if (strcmp(d[i].party, d[j].party) == 0 || memcmp(d[i].x, d[j].x, 32) == 0)
                abort();
        if (tss_scalar_parse(&t[i].x, d[i].x) != TSS_OK ||
            tss_point_parse(&t[i].pub, d[i].public_share) != TSS_OK)
            abort();
    }
    if (tss_point_parse(&pk, d[0].public_key) != TSS_OK ||
        tss_reshare_check_input(t, (uint8_t)nd, &pk) != TSS_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ctl_dealer d[API_MAX_PARTIES];
    static api_import_req r;
    static const api_import_req zero;
    char why[320];
    memset(d, 0, sizeof d);
    if (size == 0 || data[0] != '!') {
        parse_one(&d[0], (const char *)data, size);
        return 0;
    }
    size_t nd = 0, off = 1;
    while (off < size && nd < API_MAX_PARTIES) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t len = nl ? (size_t)(nl - (data + off)) : size - off;
        if (parse_one(&d[nd], (const char *)data + off, len) == 0)
            nd++;
        off += len + 1;
    }
    static const api_party_name committee[3] = {"n1", "n2", "n3"};
    char *body = ctl_dealer_request_body(2, committee, 3, d, nd, NULL);
    if (!body)
        abort();
    if (ctl_dealer_check_request(body, strlen(body), &r, why, sizeof why) == CTL_DEALER_OK)
        check_passed(&r, d, nd);
    else if (why[0] == 0 || memcmp(&r, &zero, sizeof r) != 0)
        abort();
    free(body);
    return 0;
}
