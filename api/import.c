/* api/import.c — strict parsers of the import dealer descriptor and of the POST
 * /v1/keys/import body (see import.h). Field-by-field validation with messages that name
 * the field; nothing here needs state. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "import.h"
#include "jfield.h"

const char *api_import_source_name(api_import_source s)
{
    return s == API_IMPORT_KEY ? "key" : s == API_IMPORT_TSSLIB ? "tss-lib" : NULL;
}

/* Parses text as one JSON object (whitespace around it allowed, nothing else). */
static json_t *load(const char *text, size_t len, const char *what, api_err *e, char *msg,
                    size_t cap)
{
    char empty[64];
    snprintf(empty, sizeof empty, "%s is empty", what);
    json_t *o = api_jf_load(text, len, what, empty, e, msg, cap);
    if (o && !json_is_object(o)) {
        json_decref(o);
        *e = api_jf_fail(msg, cap, API_ERR_BAD_JSON, "%s must be a JSON object", what);
        return NULL;
    }
    return o;
}

/* A SEC1 compressed point's encoding (02/03 prefix; the curve check is the caller's). */
static api_err get_point(json_t *o, const char *what, const char *name, uint8_t out[33], char *msg,
                         size_t cap)
{
    api_err e = api_jf_get_hex(o, what, name, out, 33, msg, cap);
    if (e == API_OK && out[0] != 0x02 && out[0] != 0x03)
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                        "%s: field '%s' must be a compressed point (02 or 03, then 64 hex)", what,
                        name);
    return e;
}

/* A party id (api_party_id_valid) in out. */
static api_err get_party(json_t *v, const char *what, api_party_name out, char *msg, size_t cap)
{
    const char *s = json_string_value(v);
    if (!json_is_string(v) || strlen(s) != json_string_length(v) || !api_party_id_valid(s))
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "%s must be a party id (1 to %d characters of [A-Za-z0-9._-])", what,
                           API_PARTY_ID_MAX);
    snprintf(out, sizeof(api_party_name), "%s", s);
    return API_OK;
}

/* 1 if the big-endian x is below the secp256k1 group order q (a canonical scalar; not
 * secret: compared with a plain loop). */
static int below_order(const uint8_t x[32])
{
    static const uint8_t q[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                  0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    for (size_t i = 0; i < 32; i++)
        if (x[i] != q[i])
            return x[i] < q[i];
    return 0;
}

/* One descriptor object (what names it in messages). */
static api_err dealer_from(json_t *o, const char *what, api_import_dealer *d, char *msg, size_t cap)
{
    static const char *const allowed[] = {"party",      "source",        "public_key",
                                          "chain_code", "old_threshold", "old_n",
                                          "x",          "public_share",  NULL};
    memset(d, 0, sizeof *d);
    if (!json_is_object(o))
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "%s must be an object (a dealer descriptor)", what);
    char sub[64];
    api_err e = api_jf_check_keys(o, what, allowed, API_ERR_BAD_FIELD, msg, cap);
    json_t *party = json_object_get(o, "party"), *src = json_object_get(o, "source");
    snprintf(sub, sizeof sub, "%s: field 'party'", what);
    if (e == API_OK && !party)
        e = api_jf_fail(msg, cap, API_ERR_MISSING_FIELD, "%s is required", sub);
    if (e == API_OK)
        e = get_party(party, sub, d->party, msg, cap);
    if (e == API_OK && !src)
        e = api_jf_fail(msg, cap, API_ERR_MISSING_FIELD, "%s: field 'source' is required", what);
    if (e == API_OK) {
        const char *s = json_string_value(src);
        size_t n = json_is_string(src) ? json_string_length(src) : 0;
        if (s && n == 3 && strcmp(s, "key") == 0)
            d->source = API_IMPORT_KEY;
        else if (s && n == 7 && strcmp(s, "tss-lib") == 0)
            d->source = API_IMPORT_TSSLIB;
        else
            e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                            "%s: field 'source' must be \"key\" or \"tss-lib\"", what);
    }
    if (e == API_OK)
        e = get_point(o, what, "public_key", d->public_key, msg, cap);
    if (e == API_OK)
        e = api_jf_get_hex(o, what, "chain_code", d->chain_code, 32, msg, cap);
    if (e == API_OK)
        e = api_jf_get_uint(o, what, "old_n", 1, API_MAX_PARTIES, &d->old_n, msg, cap);
    if (e == API_OK)
        e = api_jf_get_uint(o, what, "old_threshold", 1, d->old_n, &d->old_threshold, msg, cap);
    if (e == API_OK)
        e = api_jf_get_hex(o, what, "x", d->x, 32, msg, cap);
    if (e == API_OK && api_jf_all_zero(d->x, 32))
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "%s: field 'x' must not be zero", what);
    if (e == API_OK && !below_order(d->x))
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                        "%s: field 'x' must be below the group order (ShareID mod q)", what);
    if (e == API_OK)
        e = get_point(o, what, "public_share", d->public_share, msg, cap);
    if (e != API_OK)
        memset(d, 0, sizeof *d);
    return e;
}

api_err api_import_dealer_parse(api_import_dealer *d, const char *text, size_t len, char *msg,
                                size_t cap)
{
    api_err e;
    memset(d, 0, sizeof *d);
    if (msg && cap)
        msg[0] = 0;
    json_t *o = load(text, len, "dealer descriptor", &e, msg, cap);
    if (!o)
        return e;
    e = dealer_from(o, "dealer descriptor", d, msg, cap);
    json_decref(o);
    return e;
}

size_t api_import_participants(const api_import_req *r)
{
    size_t count = r->nparties;
    for (size_t k = 0; k < r->ndealers; k++) {
        size_t j = 0;
        while (j < r->nparties && strcmp(r->parties[j], r->dealers[k].party) != 0)
            j++;
        count += j == r->nparties;
    }
    return count;
}

static api_err get_committee(json_t *root, api_import_req *r, char *msg, size_t cap)
{
    json_t *a = json_object_get(root, "parties");
    char what[48];
    if (!a)
        return api_jf_fail(msg, cap, API_ERR_MISSING_FIELD, "field 'parties' is required");
    if (!json_is_array(a) || json_array_size(a) < 2 || json_array_size(a) > API_MAX_PARTIES)
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "field 'parties' must be an array of 2 to %d party ids",
                           API_MAX_PARTIES);
    for (size_t j = 0; j < json_array_size(a); j++) {
        snprintf(what, sizeof what, "field 'parties' item %zu", j);
        api_err e = get_party(json_array_get(a, j), what, r->parties[j], msg, cap);
        if (e != API_OK)
            return e;
        for (size_t q = 0; q < j; q++)
            if (strcmp(r->parties[q], r->parties[j]) == 0)
                return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                                   "field 'parties' lists party '%s' twice", r->parties[j]);
        r->nparties = j + 1;
    }
    return api_jf_get_uint(root, "body", "threshold", 2, (json_int_t)r->nparties, &r->threshold,
                           msg, cap) == API_OK
               ? API_OK
               : api_jf_fail(msg, cap,
                             json_object_get(root, "threshold") ? API_ERR_BAD_FIELD
                                                                : API_ERR_MISSING_FIELD,
                             "field 'threshold' must be an integer with 2 <= threshold <= %zu (the "
                             "number of parties)",
                             r->nparties);
}

/* dealers[k] agrees with dealers[0] and differs from the earlier ones where it must. */
static api_err check_dealer(const api_import_req *r, size_t k, char *msg, size_t cap)
{
    const api_import_dealer *d = &r->dealers[k], *f = &r->dealers[0];
    const char *field = d->source != f->source                          ? "source"
                        : memcmp(d->public_key, f->public_key, 33) != 0 ? "public_key"
                        : memcmp(d->chain_code, f->chain_code, 32) != 0 ? "chain_code"
                        : d->old_threshold != f->old_threshold          ? "old_threshold"
                        : d->old_n != f->old_n                          ? "old_n"
                                                                        : NULL;
    if (field)
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "dealers[%zu]: field '%s' differs from dealers[0]'s (every dealer must "
                           "describe the same key)",
                           k, field);
    for (size_t q = 0; q < k; q++) {
        if (strcmp(r->dealers[q].party, d->party) == 0)
            return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                               "dealers[%zu]: field 'party' repeats dealers[%zu]'s ('%s')", k, q,
                               d->party);
        if (memcmp(r->dealers[q].x, d->x, 32) == 0)
            return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                               "dealers[%zu]: field 'x' repeats dealers[%zu]'s", k, q);
    }
    return API_OK;
}

static api_err get_dealers(json_t *root, api_import_req *r, char *msg, size_t cap)
{
    json_t *a = json_object_get(root, "dealers");
    char what[32];
    if (!a)
        return api_jf_fail(msg, cap, API_ERR_MISSING_FIELD, "field 'dealers' is required");
    if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > API_MAX_PARTIES)
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "field 'dealers' must be an array of 1 to %d dealer descriptors",
                           API_MAX_PARTIES);
    for (size_t k = 0; k < json_array_size(a); k++) {
        snprintf(what, sizeof what, "dealers[%zu]", k);
        api_err e = dealer_from(json_array_get(a, k), what, &r->dealers[k], msg, cap);
        if (e == API_OK)
            e = check_dealer(r, k, msg, cap);
        if (e != API_OK)
            return e;
        r->ndealers = k + 1;
    }
    const api_import_dealer *f = &r->dealers[0];
    if (r->ndealers < f->old_threshold || r->ndealers > f->old_n)
        return api_jf_fail(
            msg, cap, API_ERR_BAD_FIELD,
            "field 'dealers' lists %zu dealers; the key needs old_threshold..old_n = "
            "%u..%u",
            r->ndealers, f->old_threshold, f->old_n);
    if (f->source == API_IMPORT_KEY &&
        (r->ndealers != 1 || f->old_threshold != 1 || f->old_n != 1 ||
         memcmp(f->public_share, f->public_key, 33) != 0))
        return api_jf_fail(
            msg, cap, API_ERR_BAD_FIELD,
            "dealers[0]: source \"key\" needs exactly one dealer with old_threshold = "
            "old_n = 1 and public_share = public_key");
    return API_OK;
}

api_err api_import_req_parse(api_import_req *r, const char *body, size_t len, char *msg, size_t cap)
{
    static const char *const allowed[] = {"threshold", "parties", "dealers", "external_id", NULL};
    api_err e;
    memset(r, 0, sizeof *r);
    if (msg && cap)
        msg[0] = 0;
    json_t *root = load(body, len, "request body", &e, msg, cap);
    if (!root)
        return e;
    e = api_jf_check_keys(root, "body", allowed, API_ERR_BAD_FIELD, msg, cap);
    if (e == API_OK)
        e = get_committee(root, r, msg, cap);
    if (e == API_OK)
        e = get_dealers(root, r, msg, cap);
    json_t *x = json_object_get(root, "external_id");
    if (e == API_OK && x) {
        const char *s = json_string_value(x);
        size_t n = json_is_string(x) ? json_string_length(x) : 0;
        if (!s || strlen(s) != n || !api_external_id_valid(s, n))
            e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                            "field 'external_id' must be 1 to %d characters of [A-Za-z0-9._@:-]",
                            API_EXTERNAL_ID_MAX);
        else
            memcpy(r->external_id, s, n + 1);
    }
    if (e == API_OK && api_import_participants(r) > API_MAX_PARTIES)
        e = api_jf_fail(
            msg, cap, API_ERR_BAD_FIELD,
            "field 'dealers': %zu participants (the parties and the dealers outside them), "
            "at most %d",
            api_import_participants(r), API_MAX_PARTIES);
    json_decref(root);
    if (e != API_OK)
        memset(r, 0, sizeof *r);
    return e;
}
