/* daemon/ctl/dealer.c — dealer descriptors (dealer.h): api/import's decoder, plus the curve
 * and interpolation checks mpcctl makes before it sends an import. Public data only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dealer.h"

#include "api/hex.h"
#include "tss/point.h"
#include "tss/reshare.h"
#include "tss/scalar.h"

const char *ctl_dealer_strerror(ctl_dealer_err e)
{
    switch (e) {
    case CTL_DEALER_OK:
        return "ok";
    case CTL_DEALER_ERR_JSON:
        return "not one JSON object";
    case CTL_DEALER_ERR_FIELD:
        return "bad field";
    case CTL_DEALER_ERR_POINT:
        return "not a curve point";
    case CTL_DEALER_ERR_SET:
        return "not one import";
    case CTL_DEALER_ERR_KEY:
        return "public shares do not make the public key";
    }
    return "unknown error";
}

/* 0 if the 33 bytes are a point of secp256k1 (the 02/03 prefix is api/import's check). */
static int on_curve(const uint8_t p[33])
{
    tss_point q;
    return tss_point_parse(&q, p) == TSS_OK ? 0 : -1;
}

ctl_dealer_err ctl_dealer_parse(ctl_dealer *d, const char *text, size_t len, char *why, size_t cap)
{
    api_err e = api_import_dealer_parse(d, text, len, why, cap);
    if (e != API_OK)
        return e == API_ERR_BAD_JSON ? CTL_DEALER_ERR_JSON : CTL_DEALER_ERR_FIELD;
    const char *bad = on_curve(d->public_key) != 0     ? "public_key"
                      : on_curve(d->public_share) != 0 ? "public_share"
                                                       : NULL;
    if (bad) {
        snprintf(why, cap,
                 "dealer descriptor: field '%s' is not a compressed point of secp256k1 "
                 "(02/03 || x)",
                 bad);
        memset(d, 0, sizeof *d);
        return CTL_DEALER_ERR_POINT;
    }
    return CTL_DEALER_OK;
}

json_t *ctl_dealer_json(const ctl_dealer *d)
{
    char pk[67], cc[65], x[65], ps[67];
    const char *src = api_import_source_name(d->source);
    api_hex_encode(pk, d->public_key, 33);
    api_hex_encode(cc, d->chain_code, 32);
    api_hex_encode(x, d->x, 32);
    api_hex_encode(ps, d->public_share, 33);
    return json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:s,s:s}", "party", d->party, "source",
                     src ? src : "", "public_key", pk, "chain_code", cc, "old_threshold",
                     (int)d->old_threshold, "old_n", (int)d->old_n, "x", x, "public_share", ps);
}

char *ctl_dealer_request_body(unsigned t, const api_party_name *parties, size_t np,
                              const ctl_dealer *d, size_t nd, const char *external_id)
{
    json_t *p = json_array(), *a = json_array();
    for (size_t i = 0; p && i < np; i++)
        json_array_append_new(p, json_string(parties[i]));
    for (size_t i = 0; a && i < nd; i++)
        json_array_append_new(a, ctl_dealer_json(&d[i]));
    json_t *o = json_pack("{s:i,s:o,s:o}", "threshold", (int)t, "parties", p, "dealers", a);
    if (o && external_id)
        json_object_set_new(o, "external_id", json_string(external_id));
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s;
}

/* The request's points and their interpolation (the checks the hub makes with
 * libsecp256k1 after api_import_req_parse). */
static ctl_dealer_err check_points(const api_import_req *r, char *why, size_t cap)
{
    tss_reshare_dealer t[API_MAX_PARTIES];
    tss_point pk;
    memset(t, 0, sizeof t);
    if (tss_point_parse(&pk, r->dealers[0].public_key) != TSS_OK) {
        snprintf(why, cap, "dealers[0]: field 'public_key' is not a point of secp256k1");
        return CTL_DEALER_ERR_POINT;
    }
    for (size_t i = 0; i < r->ndealers; i++) {
        if (tss_point_parse(&t[i].pub, r->dealers[i].public_share) != TSS_OK) {
            snprintf(why, cap, "dealers[%zu]: field 'public_share' is not a point of secp256k1", i);
            return CTL_DEALER_ERR_POINT;
        }
        if (tss_scalar_parse(&t[i].x, r->dealers[i].x) != TSS_OK) { /* api/import checked */
            snprintf(why, cap, "dealers[%zu]: field 'x' is not below the group order", i);
            return CTL_DEALER_ERR_SET;
        }
    }
    tss_err e = tss_reshare_check_input(t, (uint8_t)r->ndealers, &pk);
    if (e == TSS_ERR_PARAMS) { /* x zero or repeated: api/import refuses both first */
        snprintf(why, cap, "dealers: an x is zero or repeated");
        return CTL_DEALER_ERR_SET;
    }
    if (e != TSS_OK) {
        snprintf(why, cap,
                 "the dealers' public shares do not make the public key (their sum weighted "
                 "by the Lagrange coefficients at the dealers' x differs: descriptors of "
                 "different keys, or altered)");
        return CTL_DEALER_ERR_KEY;
    }
    return CTL_DEALER_OK;
}

ctl_dealer_err ctl_dealer_check_request(const char *body, size_t len, api_import_req *req,
                                        char *why, size_t cap)
{
    if (api_import_req_parse(req, body, len, why, cap) != API_OK)
        return CTL_DEALER_ERR_SET;
    ctl_dealer_err e = check_points(req, why, cap);
    if (e != CTL_DEALER_OK)
        memset(req, 0, sizeof *req);
    return e;
}
