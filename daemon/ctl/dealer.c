/* daemon/ctl/dealer.c — dealer descriptors (dealer.h): api/import's decoder, plus the curve
 * and interpolation checks mpcctl makes before it sends an import. Public data only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dealer.h"

#include "api/hex.h"
#include "daemon/common/importcheck.h"
#include "tss/point.h"

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

ctl_dealer_err ctl_dealer_check_request(const char *body, size_t len, api_import_req *req,
                                        char *why, size_t cap)
{
    if (api_import_req_parse(req, body, len, why, cap) != API_OK)
        return CTL_DEALER_ERR_SET;
    mpcd_import_err ie = mpcd_import_check_points(req, why, cap);
    ctl_dealer_err e = ie == MPCD_IMPORT_OK          ? CTL_DEALER_OK
                       : ie == MPCD_IMPORT_ERR_POINT ? CTL_DEALER_ERR_POINT
                       : ie == MPCD_IMPORT_ERR_KEY   ? CTL_DEALER_ERR_KEY
                                                     : CTL_DEALER_ERR_SET;
    if (e != CTL_DEALER_OK)
        memset(req, 0, sizeof *req);
    return e;
}
