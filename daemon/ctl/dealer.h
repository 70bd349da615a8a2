/* daemon/ctl/dealer.h — dealer descriptors for `mpcctl keys import` (issue 17, the import
 * contract): the one line of JSON that `mpc-signerd import-key` / `migrate-stage` prints
 * on a dealer node, and the checks mpcctl makes on a set of them before it asks the hub
 * for an import. The descriptors are public data (no share is in them), but they come
 * from other machines.
 *
 * One decoder: the descriptor and the request are the hub's (api/import.h:
 * api_import_dealer_parse, api_import_req_parse — strict fields, agreement, counts,
 * distinct parties and x, participants, the "key" source rules), so mpcctl refuses exactly
 * what the hub would. What mpcctl adds here, because api/ has no curve arithmetic (it
 * depends on nothing above it) and the hub makes these checks only once the request has
 * arrived: the points are on secp256k1, and the dealers' public shares interpolate to the
 * public key (tss_reshare_check_input, the hub's check). Both run before anything is sent.
 * libFuzzer target: daemon/ctl/fuzz/fuzz_dealer.c (this glue; api/fuzz/fuzz_import fuzzes
 * the decoder itself). */
#ifndef CTL_DEALER_H
#define CTL_DEALER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api/import.h"

#define CTL_DEALER_TEXT_MAX 2048 /* a descriptor line is about 420 bytes */

/* A parsed descriptor: api/import.h's (party, source, public_key, chain_code,
 * old_threshold, old_n, x, public_share). */
typedef api_import_dealer ctl_dealer;

typedef enum {
    CTL_DEALER_OK = 0,
    CTL_DEALER_ERR_JSON,  /* not one JSON object */
    CTL_DEALER_ERR_FIELD, /* a field missing, unknown, of the wrong type or out of range */
    CTL_DEALER_ERR_POINT, /* public_key or public_share is not a point of secp256k1 */
    CTL_DEALER_ERR_SET,   /* the request is not one the hub takes (api_import_req_parse) */
    CTL_DEALER_ERR_KEY,   /* the public shares do not interpolate to the public key */
} ctl_dealer_err;

const char *ctl_dealer_strerror(ctl_dealer_err e);

/* Parses one descriptor from text[0..len) with api_import_dealer_parse (a trailing newline
 * or whitespace is fine; anything else after the object is not), then checks that
 * public_key and public_share are points of secp256k1. CTL_DEALER_OK with *d filled, else
 * CTL_DEALER_ERR_JSON / _FIELD (api_import_dealer_parse's refusal: API_ERR_BAD_JSON is
 * _JSON) or _POINT, with why[] naming the field and the reason; *d is then zeroed. No
 * length limit here (the caller's buffer is one). */
ctl_dealer_err ctl_dealer_parse(ctl_dealer *d, const char *text, size_t len, char *why, size_t cap);

/* The descriptor as the import request carries it (a new JSON object, lower-case hex).
 * NULL only when out of memory. */
json_t *ctl_dealer_json(const ctl_dealer *d);

/* The body of POST /v1/keys/import: {"threshold": t, "parties": parties[0..np),
 * "dealers": d[0..nd) (ctl_dealer_json), "external_id" when not NULL}, compact, in that
 * order. No check here (ctl_dealer_check_request). A malloc'ed string, NULL only when out
 * of memory. */
char *ctl_dealer_request_body(unsigned t, const api_party_name *parties, size_t np,
                              const ctl_dealer *d, size_t nd, const char *external_id);

/* Checks the request body mpcctl is about to send as the hub will: api_import_req_parse
 * (CTL_DEALER_ERR_SET with its message: the contract's shape, committee, agreement, counts,
 * distinct parties and x, participants, "key" rules); every public_key / public_share a
 * point of secp256k1 (CTL_DEALER_ERR_POINT); and what the hub checks with libsecp256k1
 * before a session, the dealers' public shares at their x interpolate (Lagrange at 0, in
 * the exponent) to the public key: tss_reshare_check_input (CTL_DEALER_ERR_KEY) — so
 * descriptors of another key, or a stale or altered one, are refused here. CTL_DEALER_OK
 * with *req filled, else the error with why[]. Public data: not
 * constant time. req is required (about 3 KB: the caller may allocate it); it is zeroed
 * on a refusal. */
ctl_dealer_err ctl_dealer_check_request(const char *body, size_t len, api_import_req *req,
                                        char *why, size_t cap);

#endif
