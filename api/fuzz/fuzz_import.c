/* api/fuzz/fuzz_import.c — libFuzzer target for the key-import decoders (api/import.h): the
 * POST /v1/keys/import body and the dealer descriptor, both untrusted (the body comes from
 * the backend, a descriptor from a staging node's output). The first byte picks the parser
 * ('d': a descriptor, anything else: a request body); the rest is the input. Properties: no
 * crash or out-of-bounds read (ASan); a rejection always names its cause and leaves a zeroed
 * result; an accepted request satisfies every rule the header promises (so the hub may rely
 * on them), and re-encoded field by field it parses back to the same request. Seeds:
 * seeds/fuzz_import/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/hex.h"
#include "api/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int zeroed(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

static json_t *hexj(const uint8_t *b, size_t n)
{
    char h[67];
    api_hex_encode(h, b, n);
    return json_string(h);
}

static json_t *dealer_json(const api_import_dealer *d)
{
    return json_pack("{s:s,s:s,s:o,s:o,s:i,s:i,s:o,s:o}", "party", d->party, "source",
                     api_import_source_name(d->source), "public_key", hexj(d->public_key, 33),
                     "chain_code", hexj(d->chain_code, 32), "old_threshold", (int)d->old_threshold,
                     "old_n", (int)d->old_n, "x", hexj(d->x, 32), "public_share",
                     hexj(d->public_share, 33));
}

static void check_dealer(const api_import_dealer *d)
{
    if (!api_import_source_name(d->source) || !api_party_id_valid(d->party) ||
        (d->public_key[0] != 2 && d->public_key[0] != 3) ||
        (d->public_share[0] != 2 && d->public_share[0] != 3) || zeroed(d->x, 32) ||
        d->old_threshold < 1 || d->old_threshold > d->old_n || d->old_n > API_MAX_PARTIES)
        abort();
}

/* Every rule of import.h holds for an accepted request. */
static void check_request(const api_import_req *r)
{
    if (r->nparties < 2 || r->nparties > API_MAX_PARTIES || r->threshold < 2 ||
        r->threshold > r->nparties || r->ndealers < 1 || r->ndealers > API_MAX_PARTIES ||
        api_import_participants(r) > API_MAX_PARTIES)
        abort();
    for (size_t j = 0; j < r->nparties; j++) {
        if (!api_party_id_valid(r->parties[j]))
            abort();
        for (size_t q = 0; q < j; q++)
            if (strcmp(r->parties[q], r->parties[j]) == 0)
                abort();
    }
    const api_import_dealer *f = &r->dealers[0];
    if (r->ndealers < f->old_threshold || r->ndealers > f->old_n)
        abort();
    if (f->source == API_IMPORT_KEY &&
        (r->ndealers != 1 || f->old_n != 1 || memcmp(f->public_key, f->public_share, 33) != 0))
        abort();
    for (size_t k = 0; k < r->ndealers; k++) {
        const api_import_dealer *d = &r->dealers[k];
        check_dealer(d);
        if (d->source != f->source || memcmp(d->public_key, f->public_key, 33) ||
            memcmp(d->chain_code, f->chain_code, 32) || d->old_threshold != f->old_threshold ||
            d->old_n != f->old_n)
            abort();
        for (size_t q = 0; q < k; q++)
            if (strcmp(r->dealers[q].party, d->party) == 0 ||
                memcmp(r->dealers[q].x, d->x, 32) == 0)
                abort();
    }
}

/* The request re-encoded from its fields parses back to the same request. */
static void round_trip(const api_import_req *r)
{
    json_t *parties = json_array(), *dealers = json_array();
    for (size_t j = 0; j < r->nparties; j++)
        json_array_append_new(parties, json_string(r->parties[j]));
    for (size_t k = 0; k < r->ndealers; k++)
        json_array_append_new(dealers, dealer_json(&r->dealers[k]));
    json_t *o = json_pack("{s:i,s:o,s:o}", "threshold", (int)r->threshold, "parties", parties,
                          "dealers", dealers);
    if (o && r->external_id[0])
        json_object_set_new(o, "external_id", json_string(r->external_id));
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    api_import_req *again = malloc(sizeof *again);
    char msg[API_MSG_MAX];
    if (!text || !again ||
        api_import_req_parse(again, text, strlen(text), msg, sizeof msg) != API_OK ||
        memcmp(again, r, sizeof *r) != 0)
        abort();
    free(again);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[API_MSG_MAX];
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    msg[0] = 0;
    if (data[0] == 'd') {
        api_import_dealer d;
        if (api_import_dealer_parse(&d, text, len, msg, sizeof msg) != API_OK) {
            if (!msg[0] || !zeroed(&d, sizeof d))
                abort(); /* a refusal says why and leaves nothing behind */
            return 0;
        }
        check_dealer(&d);
        return 0;
    }
    api_import_req *r = malloc(sizeof *r);
    if (!r)
        return 0;
    if (api_import_req_parse(r, text, len, msg, sizeof msg) != API_OK) {
        if (!msg[0] || !zeroed(r, sizeof *r))
            abort();
    } else {
        check_request(r);
        round_trip(r);
    }
    free(r);
    return 0;
}
