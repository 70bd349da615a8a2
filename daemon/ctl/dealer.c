/* daemon/ctl/dealer.c — dealer descriptors (dealer.h): the strict decoder, the checks on a
 * set of them that the import contract fixes, and the interpolation check that their
 * public shares make the public key. Everything here is public data. */
#include <stdio.h>
#include <string.h>

#include "dealer.h"

#include "api/hex.h"
#include "tss/point.h"
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

static const char *const fields[] = {"party",         "source", "public_key", "chain_code",
                                     "old_threshold", "old_n",  "x",          "public_share"};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* A hex field of exactly len bytes. 0 or -1 with why[]. */
static int hex_field(json_t *o, const char *name, uint8_t *out, size_t len, char *why, size_t cap)
{
    const char *s = json_string_value(json_object_get(o, name));
    if (!s || strlen(s) != 2 * len || api_hex_decode(out, len, s, 2 * len) != API_OK) {
        snprintf(why, cap, "field '%s' must be %zu hex characters", name, 2 * len);
        return -1;
    }
    return 0;
}

/* An integer field in [lo, hi]. 0 or -1 with why[]. */
static int int_field(json_t *o, const char *name, unsigned lo, unsigned hi, unsigned *out,
                     char *why, size_t cap)
{
    json_t *v = json_object_get(o, name);
    json_int_t i = json_is_integer(v) ? json_integer_value(v) : -1;
    if (i < (json_int_t)lo || i > (json_int_t)hi) {
        snprintf(why, cap, "field '%s' must be an integer from %u to %u", name, lo, hi);
        return -1;
    }
    *out = (unsigned)i;
    return 0;
}

/* A compressed point: 02/03 prefix (the contract's form) and on the curve. */
static ctl_dealer_err point_field(json_t *o, const char *name, uint8_t out[33], char *why,
                                  size_t cap)
{
    tss_point p;
    if (hex_field(o, name, out, 33, why, cap) != 0)
        return CTL_DEALER_ERR_FIELD;
    if ((out[0] != 0x02 && out[0] != 0x03) || tss_point_parse(&p, out) != TSS_OK) {
        snprintf(why, cap, "field '%s' is not a compressed point of secp256k1 (02/03 || x)", name);
        return CTL_DEALER_ERR_POINT;
    }
    return CTL_DEALER_OK;
}

static ctl_dealer_err parse_fields(ctl_dealer *d, json_t *o, char *why, size_t cap)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        size_t i = 0;
        while (i < NFIELDS && strcmp(key, fields[i]) != 0)
            i++;
        if (i == NFIELDS) {
            snprintf(why, cap,
                     "unknown field '%.40s' (a descriptor has exactly: party, source, "
                     "public_key, chain_code, old_threshold, old_n, x, public_share)",
                     key);
            return CTL_DEALER_ERR_FIELD;
        }
    }
    for (size_t i = 0; i < NFIELDS; i++)
        if (!json_object_get(o, fields[i])) {
            snprintf(why, cap, "field '%s' is missing", fields[i]);
            return CTL_DEALER_ERR_FIELD;
        }
    const char *party = json_string_value(json_object_get(o, "party"));
    if (!party || !api_party_id_valid(party)) {
        snprintf(why, cap, "field 'party' must be a party id (1..64 of A-Z a-z 0-9 . _ -)");
        return CTL_DEALER_ERR_FIELD;
    }
    snprintf(d->party, sizeof d->party, "%s", party);
    const char *src = json_string_value(json_object_get(o, "source"));
    if (src && strcmp(src, "key") == 0)
        d->source = CTL_DEALER_KEY;
    else if (src && strcmp(src, "tss-lib") == 0)
        d->source = CTL_DEALER_TSSLIB;
    else {
        snprintf(why, cap, "field 'source' must be \"key\" or \"tss-lib\"");
        return CTL_DEALER_ERR_FIELD;
    }
    ctl_dealer_err e = point_field(o, "public_key", d->public_key, why, cap);
    if (e != CTL_DEALER_OK)
        return e;
    if (hex_field(o, "chain_code", d->chain_code, 32, why, cap) != 0 ||
        int_field(o, "old_threshold", 1, API_MAX_PARTIES, &d->old_threshold, why, cap) != 0 ||
        int_field(o, "old_n", d->old_threshold, API_MAX_PARTIES, &d->old_n, why, cap) != 0 ||
        hex_field(o, "x", d->x, 32, why, cap) != 0)
        return CTL_DEALER_ERR_FIELD;
    tss_scalar x;
    if (tss_scalar_parse(&x, d->x) != TSS_OK || tss_scalar_is_zero(&x)) {
        snprintf(why, cap, "field 'x' must be a non-zero number below the group order");
        return CTL_DEALER_ERR_FIELD;
    }
    return point_field(o, "public_share", d->public_share, why, cap);
}

ctl_dealer_err ctl_dealer_parse(ctl_dealer *d, const char *text, size_t len, char *why, size_t cap)
{
    memset(d, 0, sizeof *d);
    why[0] = 0;
    if (len > CTL_DEALER_TEXT_MAX) {
        snprintf(why, cap, "%zu bytes: a descriptor is one line of JSON (at most %d bytes)", len,
                 CTL_DEALER_TEXT_MAX);
        return CTL_DEALER_ERR_JSON;
    }
    json_error_t je;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!o || !json_is_object(o)) {
        if (o)
            snprintf(why, cap, "not a JSON object");
        else
            snprintf(why, cap, "not one JSON object: %.80s (line %d)", je.text, je.line);
        json_decref(o);
        return CTL_DEALER_ERR_JSON;
    }
    ctl_dealer_err e = parse_fields(d, o, why, cap);
    json_decref(o);
    if (e != CTL_DEALER_OK)
        memset(d, 0, sizeof *d);
    return e;
}

/* Lagrange coefficient at 0 of x[me] among x[0..n): prod_{j != me} x_j / (x_j - x_me).
 * The x are distinct (checked by the caller), so no denominator is zero. */
static void lagrange0(tss_scalar *out, const tss_scalar *x, size_t n, size_t me)
{
    tss_scalar num, den, t;
    tss_scalar_set_u64(&num, 1);
    tss_scalar_set_u64(&den, 1);
    for (size_t j = 0; j < n; j++) {
        if (j == me)
            continue;
        tss_scalar_mul(&num, &num, &x[j]);
        tss_scalar_sub(&t, &x[j], &x[me]);
        tss_scalar_mul(&den, &den, &t);
    }
    tss_scalar_inverse(&den, &den);
    tss_scalar_mul(out, &num, &den);
}

/* sum_i lambda_i * P_i == public key? (All nd points lie on one polynomial of degree
 * < old_threshold <= nd exactly when this holds for honest data; any old_threshold of
 * them would do, all of them also catch one stray descriptor.) */
static int interpolates(const ctl_dealer *d, size_t nd)
{
    tss_scalar x[API_MAX_PARTIES], l;
    tss_point terms[API_MAX_PARTIES], sum, pk;
    for (size_t i = 0; i < nd; i++)
        tss_scalar_parse(&x[i], d[i].x);
    for (size_t i = 0; i < nd; i++) {
        tss_point p;
        lagrange0(&l, x, nd, i);
        if (tss_point_parse(&p, d[i].public_share) != TSS_OK ||
            tss_point_mul(&terms[i], &p, &l) != TSS_OK)
            return 0;
    }
    if (tss_point_sum(&sum, terms, nd) != TSS_OK || tss_point_parse(&pk, d[0].public_key) != TSS_OK)
        return 0;
    return tss_point_eq(&sum, &pk);
}

ctl_dealer_err ctl_dealer_check_set(const ctl_dealer *d, size_t nd, const api_party_name *parties,
                                    size_t np, unsigned t, char *why, size_t cap)
{
    if (nd < 1 || nd > API_MAX_PARTIES) {
        snprintf(why, cap, "%zu dealer descriptors: give 1 to %d", nd, API_MAX_PARTIES);
        return CTL_DEALER_ERR_SET;
    }
    if (np < 2 || np > API_MAX_PARTIES || t < 2 || t > np) {
        snprintf(why, cap, "threshold %u of %zu parties: need 2 <= threshold <= parties <= %d", t,
                 np, API_MAX_PARTIES);
        return CTL_DEALER_ERR_SET;
    }
    size_t outside = 0;
    for (size_t i = 0; i < nd; i++) {
        const ctl_dealer *a = &d[i];
        if (a->source != d[0].source || memcmp(a->public_key, d[0].public_key, 33) != 0 ||
            memcmp(a->chain_code, d[0].chain_code, 32) != 0 ||
            a->old_threshold != d[0].old_threshold || a->old_n != d[0].old_n) {
            snprintf(why, cap,
                     "dealer '%s' describes another import than dealer '%s' (source, public "
                     "key, chain code, old threshold and old n must be the same at every "
                     "dealer)",
                     a->party, d[0].party);
            return CTL_DEALER_ERR_SET;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(a->party, d[j].party) == 0) {
                snprintf(why, cap, "dealer '%s' is given twice", a->party);
                return CTL_DEALER_ERR_SET;
            }
            if (memcmp(a->x, d[j].x, 32) == 0) {
                snprintf(why, cap, "dealers '%s' and '%s' have the same x", d[j].party, a->party);
                return CTL_DEALER_ERR_SET;
            }
        }
        size_t k = 0;
        while (k < np && strcmp(parties[k], a->party) != 0)
            k++;
        outside += k == np;
    }
    if (nd < d[0].old_threshold || nd > d[0].old_n) {
        snprintf(why, cap, "%zu dealers for an old sharing of %u-of-%u: give %u to %u descriptors",
                 nd, d[0].old_threshold, d[0].old_n, d[0].old_threshold, d[0].old_n);
        return CTL_DEALER_ERR_SET;
    }
    if (np + outside > API_MAX_PARTIES) {
        snprintf(why, cap,
                 "%zu parties and %zu dealers outside them: at most %d participants in all", np,
                 outside, API_MAX_PARTIES);
        return CTL_DEALER_ERR_SET;
    }
    if (d[0].source == CTL_DEALER_KEY && (nd != 1 || d[0].old_threshold != 1 || d[0].old_n != 1 ||
                                          memcmp(d[0].public_share, d[0].public_key, 33) != 0)) {
        snprintf(why, cap,
                 "source \"key\" has exactly one dealer, old_threshold = old_n = 1 and "
                 "public_share = public_key");
        return CTL_DEALER_ERR_SET;
    }
    if (!interpolates(d, nd)) {
        snprintf(why, cap,
                 "the dealers' public shares do not make the public key (descriptors of "
                 "different keys, or altered)");
        return CTL_DEALER_ERR_KEY;
    }
    return CTL_DEALER_OK;
}

json_t *ctl_dealer_json(const ctl_dealer *d)
{
    char pk[67], cc[65], x[65], ps[67];
    api_hex_encode(pk, d->public_key, 33);
    api_hex_encode(cc, d->chain_code, 32);
    api_hex_encode(x, d->x, 32);
    api_hex_encode(ps, d->public_share, 33);
    return json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:s,s:s}", "party", d->party, "source",
                     d->source == CTL_DEALER_KEY ? "key" : "tss-lib", "public_key", pk,
                     "chain_code", cc, "old_threshold", (int)d->old_threshold, "old_n",
                     (int)d->old_n, "x", x, "public_share", ps);
}
