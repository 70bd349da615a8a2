/* api/import.h — the import of an existing key (issue 17, IMPORT_CONTRACT part 2): the
 * "dealer descriptor" a staging node prints (mpc-signerd import-key / migrate-stage) and the
 * body of POST /v1/keys/import that carries them to the hub. Strict like api/json.h: one
 * JSON object, no duplicate keys, exactly the contract's fields (an unknown field is
 * API_ERR_BAD_FIELD, as the contract fixes it), exact types and hex lengths; failures
 * return the api_err for the error body and a message naming the field (always
 * NUL-terminated). Fixed-size output, nothing to free.
 * What the parsers check (no state needed): the shape; hex lengths; 02/03 prefixes of
 * public_key and public_share; x not zero and below the group order; 1 <= old_threshold <= old_n <=
 * API_MAX_PARTIES; and for a request: 2 <= threshold <= len(parties) <= API_MAX_PARTIES, party ids
 * valid and distinct; 1..API_MAX_PARTIES dealers that agree on source, public_key, chain_code,
 * old_threshold and old_n; old_threshold <= dealers <= old_n; dealer parties and x distinct;
 * at most API_MAX_PARTIES participants (the new parties and the dealers outside them);
 * source "key": exactly one dealer, old_threshold = old_n = 1, public_share = public_key.
 * What they do not check (the hub's job, with state and libsecp256k1): that the points are
 * on the curve, that the parties are known, online and persistent, that no key has this
 * public key; and that the public shares interpolate to the key (the hub before the
 * session, the signers in it). mpcctl (daemon/ctl/dealer.h) uses these parsers on the
 * descriptors and on the body it sends, and adds the curve and interpolation checks. */
#ifndef API_IMPORT_H
#define API_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "json.h"

typedef enum {
    API_IMPORT_KEY = 1, /* "key": a hex private key or a BIP32 xprv, one dealer */
    API_IMPORT_TSSLIB,  /* "tss-lib": LocalPartySaveData files, one dealer per old party */
} api_import_source;

/* "key" or "tss-lib"; NULL if out of range. */
const char *api_import_source_name(api_import_source s);

/* One dealer descriptor:
 *   {"party":"n4","source":"key","public_key":"<66 hex>","chain_code":"<64 hex>",
 *    "old_threshold":1,"old_n":1,"x":"<64 hex>","public_share":"<66 hex>"} */
typedef struct {
    api_party_name party;
    api_import_source source;
    uint8_t public_key[33];
    uint8_t chain_code[32];
    unsigned old_threshold, old_n;
    uint8_t x[32];            /* big-endian, 0 < x < q */
    uint8_t public_share[33]; /* P(x), SEC1 compressed */
} api_import_dealer;

/* POST /v1/keys/import {"threshold", "parties", "dealers", optional "external_id"}. */
typedef struct {
    unsigned threshold;
    size_t nparties;
    api_party_name parties[API_MAX_PARTIES]; /* the new committee, in new-index order */
    size_t ndealers;
    api_import_dealer dealers[API_MAX_PARTIES]; /* in request order */
    char external_id[API_EXTERNAL_ID_MAX + 1];  /* "" when absent */
} api_import_req;

/* One descriptor as text (a staging command's output line; surrounding whitespace, such as
 * the trailing newline, is allowed). */
api_err api_import_dealer_parse(api_import_dealer *d, const char *text, size_t len, char *msg,
                                size_t cap);

/* The request body (see the top of this file for what is checked). */
api_err api_import_req_parse(api_import_req *r, const char *body, size_t len, char *msg,
                             size_t cap);

/* Participants of a parsed request: the new parties plus the dealers that are not one. */
size_t api_import_participants(const api_import_req *r);

#endif
