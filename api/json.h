/* api/json.h — JSON codecs (jansson) for the hub's REST API and the party link's control
 * payloads. Parsers are strict: the body must be one JSON object, no duplicate keys, no
 * fields outside the contract, exact types (an integer is not a string or a float), exact
 * hex lengths. On failure they return the api_err for the error body and write a message
 * naming the field to msg (always NUL-terminated). They never allocate what the caller
 * must free: results land in fixed-size structs. */
#ifndef API_JSON_H
#define API_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define API_MAX_PARTIES      16  /* n <= 16 */
#define API_PARTY_ID_MAX     64  /* [A-Za-z0-9._-]{1,64}, also the certificate CN */
#define API_LABEL_MAX        128 /* bytes of UTF-8, no control characters */
#define API_PATH_MAX_DEPTH   8   /* m/i1/.../i8, each non-hardened */
#define API_PATH_STR_MAX     96
#define API_ATTESTATION_MAX  160 /* DER ECDSA signature by the identity key */
#define API_MSG_MAX          160 /* size for msg buffers */
#define API_WAIT_MAX_SECONDS 60
#define API_EXTERNAL_ID_MAX  128 /* [A-Za-z0-9._@:-]{1,128}: the backend's label for a key */
/* A delegate signer's sealed share in base64 (api/b64.h): tens of KB for small keys, under
 * 512 KiB for n = 16; the bound keeps it inside a 1 MiB party-link frame with the rest of
 * a session-start. Whether it fits the hub's [api] max_body is the hub's check. */
#define API_DELEGATE_SHARE_MAX (768u * 1024u)

typedef char api_party_name[API_PARTY_ID_MAX + 1];

/* --- request authorization (issue 15): approvals, request id, typed payload --- */

#define API_REQUEST_ID_MAX 64    /* [A-Za-z0-9._-]{1,64} */
#define API_APPROVALS_MAX  16    /* approvals per request */
#define API_TYPED_MAX      32768 /* bytes of a typed payload (decoded hex, or EIP-712 JSON) */

/* What a sign request signs: a raw 32-byte hash, or a typed payload every signer decodes
 * and hashes itself. */
typedef enum {
    API_PAYLOAD_HASH = 0, /* "hash": 64 hex */
    API_PAYLOAD_ETH_TX,   /* "eth_transaction": unsigned tx (legacy EIP-155, 2930, 1559), hex */
    API_PAYLOAD_EIP191,   /* "eip191_message": the message bytes, hex (personal_sign) */
    API_PAYLOAD_EIP712, /* "eip712": the typed-data object (types, primaryType, domain, message) */
} api_payload_kind;

/* "hash", "eth_transaction", "eip191_message", "eip712" (the kind field of the approval
 * message, daemon/common/approval.h); NULL if out of range. */
const char *api_payload_kind_name(api_payload_kind kind);

/* One approval: {"approver": name, "alg": ..., "expires": unix seconds, "signature": 128 hex}.
 * approver is the approver's name in the signers' policy ([A-Za-z0-9._-]{1,64}). */
typedef struct {
    api_party_name approver;
    char alg[16];     /* "ecdsa-p256" | "ecdsa-secp256k1" | "ed25519" */
    uint64_t expires; /* unix seconds, 1 .. 2^53 - 1 */
    uint8_t signature[64];
} api_approval;

/* The authorization part of a sign request, as the REST body carries it and the hub forwards
 * it in session-start's `approval`. Large (~35 KB): allocate it on the heap or embed it. */
typedef struct {
    char request_id[API_REQUEST_ID_MAX + 1]; /* "" when absent */
    size_t napprovals;
    api_approval approvals[API_APPROVALS_MAX];
    api_payload_kind kind;
    size_t typed_len;                 /* 0 for API_PAYLOAD_HASH */
    uint8_t typed[API_TYPED_MAX + 1]; /* tx / message bytes; EIP-712: compact JSON text with
                                       * sorted keys, NUL-terminated */
} api_sign_auth;

/* 1 if a carries anything (a request id, approvals or a typed payload), else 0: a request
 * without any is forwarded with `approval: null`, exactly as before issue 15. */
int api_sign_auth_present(const api_sign_auth *a);

/* The `approval` object of session-start for a (compact JSON, malloc'd, free with free), or
 * the text "null" when api_sign_auth_present(a) is 0. NULL on OOM or invalid input. */
char *api_sign_auth_encode(const api_sign_auth *a);

/* POST /v1/keys */
typedef struct {
    unsigned threshold; /* signers required, 2 <= threshold <= n */
    unsigned n;
    size_t nparties; /* 0: the hub picks n online parties */
    api_party_name parties[API_MAX_PARTIES];
    char label[API_LABEL_MAX + 1];
    api_party_name delegate;                   /* "" or the delegate signer (one per key) */
    char external_id[API_EXTERNAL_ID_MAX + 1]; /* "" or the backend's unique id */
} api_keygen_req;

/* POST /v1/keys/{id}/sign: exactly one of hash, eth_transaction, eip191_message, eip712;
 * request_id and approvals optional (the signers' policy decides what it needs). */
typedef struct {
    uint8_t hash[32];                /* zero unless auth.kind == API_PAYLOAD_HASH */
    char path[API_PATH_STR_MAX + 1]; /* "" when absent, else canonical "m/..." */
    uint32_t path_index[API_PATH_MAX_DEPTH];
    size_t path_depth;
    size_t nparties; /* 0: the hub picks threshold online parties of the key */
    api_party_name parties[API_MAX_PARTIES];
    size_t delegate_share_len; /* 0, or the length of the base64 "delegate_share" (checked
                                * strict base64; fetch it with api_delegate_share_get) */
    api_sign_auth auth;
} api_sign_req;

/* PUT /v1/keys/{id}/signers: {"parties": [...]} (2..16 distinct party ids). */
typedef struct {
    size_t nparties;
    api_party_name parties[API_MAX_PARTIES];
} api_signers_req;

api_err api_signers_req_parse(api_signers_req *r, const char *body, size_t len, char *msg,
                              size_t msg_cap);

/* 1 if s is a valid external id ([A-Za-z0-9._@:-]{1,128}), else 0. */
int api_external_id_valid(const char *s, size_t len);

/* The "delegate_share" member of a JSON object already accepted by one of the parsers
 * here (a sign request, a keygen result, a session-start): a malloc'd NUL-terminated copy
 * of the base64 in *out (free with api_delegate_share_free) and its length, or *out NULL
 * when the member is absent. API_ERR_BAD_FIELD if it is present and not strict base64 of
 * at most API_DELEGATE_SHARE_MAX characters; API_ERR_INTERNAL on OOM. */
api_err api_delegate_share_get(const void *json, size_t len, char **out, size_t *out_len);
/* Wipes and frees a copy from api_delegate_share_get (NULL is a no-op). */
void api_delegate_share_free(char *b64, size_t len);

api_err api_keygen_req_parse(api_keygen_req *r, const char *body, size_t len, char *msg,
                             size_t msg_cap);
api_err api_sign_req_parse(api_sign_req *r, const char *body, size_t len, char *msg,
                           size_t msg_cap);

/* 1 if s is a valid party id ([A-Za-z0-9._-]{1,64}, not "." or ".."), else 0. */
int api_party_id_valid(const char *s);

/* Parses "m" or "m/0/1/..." (decimal, no leading zeros, each < 2^31, depth <= 8).
 * API_ERR_BAD_PATH otherwise (hardened indices are refused: the hub must be able to
 * derive the public key to verify the signature). */
api_err api_path_parse(const char *s, uint32_t index[API_PATH_MAX_DEPTH], size_t *depth);

/* The error body {"error":{"code":..., "message":...}}; message NULL -> api_strerror.
 * Returns a malloc'd NUL-terminated string (free with free), NULL only on OOM. */
char *api_error_body(api_err err, const char *message);

/* --- party-link control payloads (PARTY_LINK.md) --- */

typedef struct {
    char version[33];
    char backend[33];
    char role[16]; /* "" (persistent, the default: not sent) or "delegate" */
} api_hello;

typedef struct {
    uint8_t r[32];
    uint8_t s[32];
    int recovery_id; /* 0..3 */
} api_sign_result;

typedef struct {
    uint8_t public_key[33]; /* SEC1 compressed */
    uint8_t chain_code[32];
    uint8_t transcript_hash[32];
    uint8_t attestation[API_ATTESTATION_MAX];
    size_t attestation_len;
    size_t delegate_share_len; /* a delegate's result: the base64 length of its sealed share
                                * (api_delegate_share_get); 0 for a persistent signer */
} api_keygen_result;

typedef struct {
    char reason[129];
    unsigned culprit; /* party index, 0 = none */
} api_abort;

api_err api_hello_parse(api_hello *h, const uint8_t *p, size_t len, char *msg, size_t cap);
api_err api_sign_result_parse(api_sign_result *r, const uint8_t *p, size_t len, char *msg,
                              size_t cap);
api_err api_keygen_result_parse(api_keygen_result *r, const uint8_t *p, size_t len, char *msg,
                                size_t cap);
api_err api_abort_parse(api_abort *a, const uint8_t *p, size_t len, char *msg, size_t cap);

/* Encoders: malloc'd compact JSON (free with free), NULL on OOM or invalid input. */
char *api_hello_encode(const api_hello *h);
/* A keygen result with the delegate's sealed share (b64, strict base64) added. */
char *api_keygen_result_encode_delegate(const api_keygen_result *r, const char *b64);
char *api_sign_result_encode(const api_sign_result *r);
char *api_keygen_result_encode(const api_keygen_result *r);
char *api_abort_encode(const api_abort *a);

/* The attested message of a keygen result, the bytes a signer's identity key signs with
 * ECDSA-SHA256: "mpc-signer/persisted/v1" || key_id(16) || public_key(33) ||
 * chain_code(32) || transcript_hash(32). out must hold API_ATTEST_MSG_BYTES. */
#define API_ATTEST_MSG_BYTES (23 + 16 + 33 + 32 + 32)
void api_attestation_message(uint8_t out[API_ATTEST_MSG_BYTES], const uint8_t key_id[16],
                             const api_keygen_result *r);

/* session-start (hub -> signer). Certificates are PEM, each at most API_CERT_PEM_MAX bytes;
 * the struct is large (~70 KB): allocate it on the heap. */
#define API_CERT_PEM_MAX 4096

typedef struct {
    unsigned index; /* 1..n, the party's index in this key (keygen: 1..n in order) */
    api_party_name id;
    char cert[API_CERT_PEM_MAX + 1];
} api_start_party;

typedef struct {
    int sign; /* 0 keygen, 1 sign */
    uint8_t key_id[16];
    unsigned threshold, n;
    unsigned index; /* the recipient's index */
    size_t nparties;
    api_start_party parties[API_MAX_PARTIES]; /* sorted by index; distinct indices and ids */
    uint8_t nonce[32];
    /* sign only */
    uint8_t hash[32];
    uint8_t public_key[33];
    char path[API_PATH_STR_MAX + 1]; /* canonical "m/..." or "m" */
    uint32_t path_index[API_PATH_MAX_DEPTH];
    size_t path_depth;
    size_t delegate_share_len; /* sign to a delegate: base64 length of its sealed share */
    api_sign_auth auth;        /* `approval`: all zero (kind hash, nothing else) when null */
} api_session_start;

/* Strictly parses a session-start payload (PARTY_LINK.md): every field of its kind present
 * with the exact type and length, nothing else; 2 <= threshold <= n <= 16;
 * keygen lists n parties with indices 1..n in order, sign lists exactly threshold parties
 * with distinct indices in 1..n (in any order; returned sorted by index); party ids valid
 * and distinct; index is one of them. `approval` is null, or (sign only) an object with
 * optional request_id, approvals and at most one of eth_transaction, eip191_message, eip712
 * (PARTY_LINK.md); `hash` is always the hub's hash, which a signer must recompute from a
 * typed payload rather than trust.
 * Whether the recipient is the party at that index is the caller's check. */
api_err api_session_start_parse(api_session_start *s, const uint8_t *p, size_t len, char *msg,
                                size_t cap);

/* activate (hub -> signer): the key id and, for every party in index order, the
 * certificate its attestation verified under and the attestation itself, so that each
 * signer can check for itself that all n shares are durable before it activates its own.
 * Large (~70 KB): allocate it on the heap. */
typedef struct {
    unsigned index; /* 1..n, in order */
    char certificate[API_CERT_PEM_MAX + 1];
    uint8_t attestation[API_ATTESTATION_MAX];
    size_t attestation_len;
} api_activate_party;

typedef struct {
    uint8_t key_id[16];
    size_t count; /* 2..API_MAX_PARTIES */
    api_activate_party parties[API_MAX_PARTIES];
} api_activate;

/* {"key_id": "32 hex", "attestations": [{"index", "certificate", "attestation"}...]}:
 * strict, indices 1..count in order. Whether count is the key's n is the caller's check. */
api_err api_activate_parse(api_activate *a, const uint8_t *p, size_t len, char *msg, size_t cap);

#endif
