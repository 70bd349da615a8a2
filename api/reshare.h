/* api/reshare.h — the party link's reshare session-start payload (PARTY_LINK.md, "reshare
 * session-start"): the hub tells a participant about one refresh or reshare of a key
 * (issue 17, tss/reshare.h "Integration plan" steps 1-2). Strict like api/json.h: one JSON
 * object, no duplicate keys, no fields outside the contract, exact types and hex lengths;
 * failures return the api_err and a message naming the field. Fixed-size output, nothing
 * to free.
 * What the parser checks: the shape; 2 <= threshold <= n <= API_MAX_PARTIES (the new
 * committee, listed with indices 1..n in order, ids distinct); 1 <= old.threshold <=
 * dealer count <= old.n <= API_MAX_PARTIES; dealers' x distinct and not zero, new_index 0
 * or a distinct new index whose party has the dealer's id and certificate; at most
 * API_MAX_PARTIES participants in all; epoch >= 1; index names a participant (a new party
 * by its new index, a dealer that is not a new party by n + its rank among those).
 * What it does not check (the signer's job, with state): that the recipient is that
 * participant, the certificates, the public input against the recipient's own share
 * (tss_reshare_check_input, tss_reshare_new). */
#ifndef API_RESHARE_H
#define API_RESHARE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "json.h"

/* One old dealer (tss_reshare_dealer, plus how to reach and pin it). */
typedef struct {
    uint8_t x[32];     /* its x-coordinate on the old polynomial, big-endian, not zero */
    uint8_t pub[33];   /* P(x), SEC1 compressed */
    api_party_name id; /* its party id */
    char cert[API_CERT_PEM_MAX + 1];
    unsigned new_index; /* its index in the new committee, 0 when it is not a new party */
} api_reshare_dealer;

/* session-start of kind "reshare". Large (~140 KB): allocate it on the heap. */
typedef struct {
    uint8_t key_id[16];
    uint32_t epoch;        /* the epoch the new shares get: the key's active epoch + 1 */
    unsigned threshold, n; /* the new committee */
    unsigned index;        /* the recipient's participant number (see above) */
    size_t nparties;       /* == n */
    api_start_party parties[API_MAX_PARTIES]; /* indices 1..n in order */
    /* the old side: the key's public data */
    unsigned old_threshold, old_n;
    uint8_t public_key[33];
    uint8_t chain_code[32];
    uint8_t key_sid[32]; /* the key's DKG sid (zero: an import) */
    size_t ndealers;     /* old_threshold..old_n */
    api_reshare_dealer dealers[API_MAX_PARTIES];
    uint8_t nonce[32];
} api_reshare_start;

/* Parses a session-start payload whose "kind" is "reshare" (see the top of this file). */
api_err api_reshare_start_parse(api_reshare_start *s, const uint8_t *p, size_t len, char *msg,
                                size_t cap);

/* Participants of a parsed session: n + the dealers that are not new parties. */
unsigned api_reshare_participants(const api_reshare_start *s);

/* 1 when payload is a JSON object whose "kind" is "reshare" (then parse it with
 * api_reshare_start_parse), else 0. Reads nothing else; never fails loudly. */
int api_reshare_is_start(const uint8_t *p, size_t len);

/* The attested message of a reshare result (a new party's "my share of epoch `epoch` is
 * durable, pending"), signed with ECDSA-SHA256 by the party's identity key:
 * "mpc-signer/persisted/v2" || key_id(16) || epoch (4, big-endian) || public_key(33) ||
 * chain_code(32) || fingerprint(32). Another tag than the keygen's v1 message, so a keygen
 * attestation never passes for a reshare one (or the other way round). The result payload
 * is keygen-shaped (api_keygen_result_encode; transcript_hash = the new share's
 * tss_keyshare_fingerprint). */
#define API_RESHARE_ATTEST_MSG_BYTES (23 + 16 + 4 + 33 + 32 + 32)
void api_reshare_attestation_message(uint8_t out[API_RESHARE_ATTEST_MSG_BYTES],
                                     const uint8_t key_id[16], uint32_t epoch,
                                     const api_keygen_result *r);

/* activate of a reshare epoch (hub -> signer): the activate payload (api_activate_parse)
 * plus "epoch" (1..2^32-1): {"key_id", "epoch", "attestations": [...]} with the n' new
 * parties' reshare attestations in new-index order. Strict like api_activate_parse; a
 * payload without "epoch" is refused (it is a keygen activate). */
api_err api_reshare_activate_parse(api_activate *a, uint32_t *epoch, const uint8_t *p, size_t len,
                                   char *msg, size_t cap);

/* retire (frame type 9, hub -> signer): {"key_id": "32 hex", "epoch": e}: delete this
 * node's share of epoch e of the key (PARTY_LINK.md "retire"). Strict. */
api_err api_retire_parse(uint8_t key_id[16], uint32_t *epoch, const uint8_t *p, size_t len,
                         char *msg, size_t cap);
/* Encoders (malloc'd compact JSON, NULL on OOM): retire, and the signer's acknowledgement
 * {"key_id", "epoch", "status"}, sent as a result frame on the reshare session's id:
 * "active" after an activate switched the epoch (durably), "retired" after a retire,
 * "dealt" as the reshare result of a dealer that is not a new party. */
char *api_retire_encode(const uint8_t key_id[16], uint32_t epoch);
char *api_reshare_ack_encode(const uint8_t key_id[16], uint32_t epoch, const char *status);
/* Parses an acknowledgement (status "active", "retired", "dealt" into *active = 1, 0, 2).
 * Strict. */
api_err api_reshare_ack_parse(uint8_t key_id[16], uint32_t *epoch, int *active, const uint8_t *p,
                              size_t len, char *msg, size_t cap);

/* Encodes s as the session-start payload for participant `index` (1..participants): the
 * hub's side of api_reshare_start_parse (every field, approval null, dealers in order;
 * s->index is ignored). malloc'd compact JSON, or NULL on OOM or when s would not parse
 * back (the encoder re-parses its output, so it never emits what a signer refuses). */
char *api_reshare_start_encode(const api_reshare_start *s, unsigned index);

/* The key's public data a keygen or reshare result carries for the hub's key record (a
 * later refresh/reshare's session-start needs every old party's P(x) and the DKG sid, which
 * the hub cannot compute): an optional "key" object in the result,
 *   "key": {"key_sid": "64 hex", "epoch": e, "public_shares": ["66 hex", ...]}
 * with the share's DKG sid, its epoch and P(1)..P(n) (SEC1 compressed) in index order. All
 * of it is covered by the share's fingerprint (the result's transcript_hash), so the hub
 * requires all n results to agree, as it does for the fingerprint; a dealer checks each P(x)
 * against its own share, so a wrong value only makes a reshare fail. */
typedef struct {
    uint8_t key_sid[32];
    uint32_t epoch;
    size_t count; /* 2..API_MAX_PARTIES */
    uint8_t public_shares[API_MAX_PARTIES][33];
} api_key_public;

/* Adds the "key" object to a result's JSON text (takes and frees json). NULL on OOM, on a
 * NULL json or on an invalid kp. */
char *api_key_public_attach(char *json, const api_key_public *kp);

/* Reads the "key" object of a result payload, strictly (exactly the three fields, hex
 * lengths, 2..16 shares each 02/03-prefixed, epoch 0..2^32-1). *present = 0 and API_OK when
 * the result has none (a signer older than this field); the rest of the payload is the
 * result parsers' business. */
api_err api_key_public_get(api_key_public *kp, int *present, const uint8_t *p, size_t len,
                           char *msg, size_t cap);

#endif
