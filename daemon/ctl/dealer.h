/* daemon/ctl/dealer.h — dealer descriptors for `mpcctl keys import` (issue 17, the import
 * contract): the one line of JSON that `mpc-signerd import-key` / `migrate-stage` prints
 * on a dealer node, and the checks mpcctl makes on a set of them before it asks the hub
 * for an import. The descriptors are public data (no share is in them), but they come
 * from other machines, so the decoder is strict and has a libFuzzer target
 * (daemon/ctl/fuzz/fuzz_dealer.c).
 *
 * A descriptor is ONE JSON object with exactly these 8 fields (no others, no duplicates):
 *   party         a party id ([A-Za-z0-9._-]{1,64}): the dealer node
 *   source        "key" (a hex key or BIP32 xprv) or "tss-lib" (a LocalPartySaveData)
 *   public_key    66 hex: the key's SEC1 compressed public key (02/03 prefix, on the curve)
 *   chain_code    64 hex: the key's BIP32 chain code
 *   old_threshold integer 1..16: signers of the old sharing (tss-lib threshold + 1)
 *   old_n         integer old_threshold..16: parties of the old sharing
 *   x             64 hex: the dealer's x on the old polynomial (ShareID mod q), 0 < x < q
 *   public_share  66 hex: P(x)·G, SEC1 compressed (02/03 prefix, on the curve)
 * Hex is accepted in either case and re-encoded in lower case. */
#ifndef CTL_DEALER_H
#define CTL_DEALER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api/json.h"

#define CTL_DEALER_TEXT_MAX 2048 /* a descriptor line is about 420 bytes */

typedef enum {
    CTL_DEALER_KEY = 1,    /* "key": one dealer, old_threshold = old_n = 1 */
    CTL_DEALER_TSSLIB = 2, /* "tss-lib": old_threshold..old_n dealers */
} ctl_dealer_source;

typedef struct {
    api_party_name party;
    ctl_dealer_source source;
    uint8_t public_key[33];
    uint8_t chain_code[32];
    unsigned old_threshold, old_n;
    uint8_t x[32];
    uint8_t public_share[33];
} ctl_dealer;

typedef enum {
    CTL_DEALER_OK = 0,
    CTL_DEALER_ERR_JSON,  /* not one JSON object (or too long) */
    CTL_DEALER_ERR_FIELD, /* a field missing, unknown, of the wrong type or out of range */
    CTL_DEALER_ERR_POINT, /* public_key or public_share is not a point of secp256k1 */
    CTL_DEALER_ERR_SET,   /* the descriptors do not form one import (see ctl_dealer_check_set) */
    CTL_DEALER_ERR_KEY,   /* the public shares do not interpolate to the public key */
} ctl_dealer_err;

const char *ctl_dealer_strerror(ctl_dealer_err e);

/* Parses one descriptor from text[0..len) (a trailing newline or whitespace is fine;
 * anything else after the object is not). CTL_DEALER_OK with *d filled, else an error with
 * why[] naming the field and the reason; *d is then zeroed. */
ctl_dealer_err ctl_dealer_parse(ctl_dealer *d, const char *text, size_t len, char *why, size_t cap);

/* Checks that d[0..nd) is one import to the new committee parties[0..np) with threshold t,
 * as the hub will (the import contract): 1 <= nd <= 16; all agree on source, public_key,
 * chain_code, old_threshold and old_n; old_threshold <= nd <= old_n; party ids and x
 * distinct; 2 <= t <= np <= 16 and np + (dealers not in parties) <= 16; source "key" has
 * exactly one dealer with old_threshold = old_n = 1 and public_share = public_key. Then,
 * what the hub cannot see before the session runs: the dealers' public shares, at their
 * x, interpolate (Lagrange at 0, in the exponent) to the public key — so descriptors of
 * another key, or a stale or altered one, are refused here. CTL_DEALER_OK or
 * CTL_DEALER_ERR_SET / CTL_DEALER_ERR_KEY with why[]. Public data: not constant time. */
ctl_dealer_err ctl_dealer_check_set(const ctl_dealer *d, size_t nd, const api_party_name *parties,
                                    size_t np, unsigned t, char *why, size_t cap);

/* The descriptor as the import request carries it (a new JSON object, lower-case hex).
 * NULL only when out of memory. */
json_t *ctl_dealer_json(const ctl_dealer *d);

#endif
