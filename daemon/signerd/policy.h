/* daemon/signerd/policy.h — what this signer agrees to sign (issue 15): a policy file (INI,
 * read with inih) loaded at start and on SIGHUP, optionally signed by an offline policy key,
 * and the decision for one request: raw hashes allowed or not, message signing allowed or
 * not, chain ids, destinations, value per transaction, which approver quorum the request
 * needs and whether its approvals meet it. The velocity window and the request id need the
 * database and are decided by signer_store_request_claim (store.h) with the figures this
 * module gives. Every refusal is a sentence starting "policy: " or "approval: " that names
 * the rule; it is sent to the hub in the abort, so it never holds a secret.
 *
 * The file (mpc-signerd-policy.ini.example beside this file shows every key):
 *   [policy]   raw_hashes = allow|deny (deny), messages = allow|deny (deny: EIP-191 and
 *              EIP-712, whose domain chainId must be in chain_ids and verifyingContract in
 *              destinations), quorum = k (0), chain_ids = 1, 5 (none), destinations = any | 0x..,
 *              0x.. (none), max_value = wei (no limit), window_seconds = s (86400),
 *              window_max_value = wei (no limit), large_value = wei, large_quorum = k
 *   [approver NAME]  alg = ecdsa-p256|ecdsa-secp256k1|ed25519, public_key = hex
 *   [key KEYID]      quorum = k, raw_hashes = allow|deny, messages = allow|deny
 * Approvers are distinct by name and by public key (a key listed twice is an error). */
#ifndef SIGNER_POLICY_H
#define SIGNER_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "api/json.h"
#include "daemon/common/approval.h"

#define SIGNER_POLICY_MAX_APPROVERS 32
#define SIGNER_POLICY_MAX_CHAINS    32
#define SIGNER_POLICY_MAX_DESTS     256
#define SIGNER_POLICY_MAX_KEYS      256
#define SIGNER_POLICY_MAX_BYTES     (256 * 1024)

typedef struct {
    api_party_name name;
    mpcd_approver_key key;
} signer_approver;

typedef struct {
    uint8_t key_id[16];
    int quorum;     /* -1: the default */
    int raw_hashes; /* -1: the default, 0 deny, 1 allow */
    int messages;   /* -1: the default, 0 deny, 1 allow */
} signer_policy_key;

typedef struct {
    int raw_hashes; /* 0 deny (default), 1 allow */
    int messages;   /* 0 deny (default), 1 allow */
    unsigned quorum;
    signer_approver approvers[SIGNER_POLICY_MAX_APPROVERS];
    size_t napprovers;
    uint64_t chain_ids[SIGNER_POLICY_MAX_CHAINS];
    size_t nchain_ids;
    int any_destination;
    uint8_t destinations[SIGNER_POLICY_MAX_DESTS][20];
    size_t ndestinations;
    int has_max_value;
    uint8_t max_value[32]; /* big-endian wei */
    unsigned window_seconds;
    int has_window_max;
    uint8_t window_max_value[32];
    int has_large_value;
    uint8_t large_value[32];
    unsigned large_quorum;
    signer_policy_key keys[SIGNER_POLICY_MAX_KEYS];
    size_t nkeys;
    uint8_t file_digest[32]; /* SHA-256 of the file as loaded (logged, audited) */
} signer_policy;

/* Parses a policy file's text. 0, or -1 with err naming the line, the section, the key and the
 * fix. */
int signer_policy_parse(signer_policy *p, const char *text, size_t len, char *err, size_t cap);

/* Reads and parses path. When pubkey_path is non-empty the file must carry a signature by that
 * key in path + ".sig" (signer_policy_sign): a missing or bad signature is an error (the
 * daemon refuses to start; at SIGHUP it keeps its old policy). 0, or -1 with err. */
int signer_policy_load(signer_policy *p, const char *path, const char *pubkey_path, char *err,
                       size_t cap);

/* The signed message of a policy file: "mpc-signer/policy/v1\n" || the file's bytes. The
 * signature file holds hex of ECDSA-SHA256 (DER) or Ed25519 over it, then a newline. */
/* Signs text with key (P-256 or Ed25519), writing the signature's hex + "\n" into a malloc'd
 * string. NULL on failure. */
char *signer_policy_sign(EVP_PKEY *key, const char *text, size_t len);
/* 1 if sig_hex (surrounding white space ignored) is pub's signature over text, else 0. */
int signer_policy_verify(EVP_PKEY *pub, const char *text, size_t len, const char *sig_hex);

/* What the typed payload says (filled by the caller from the decoders); zero for a raw hash. */
typedef struct {
    api_payload_kind kind;
    uint64_t chain_id; /* transaction: its chain id; EIP-712: the domain's, if has_chain_id */
    int has_chain_id;
    uint8_t to[20]; /* transaction: destination (a contract creation has none); EIP-712: the
                     * domain's verifyingContract, if any */
    int has_to;
    uint8_t value[32]; /* transaction: value in wei, big-endian */
} signer_policy_facts;

/* The velocity figures for the store: whether the request counts against the window, and its
 * limit. */
typedef struct {
    int applies;
    unsigned window_seconds;
    uint8_t value[32];
    uint8_t max[32];
} signer_policy_velocity;

/* Decides one request (everything but the request id's novelty and the velocity window):
 * key_id, the digest the key will sign (computed by this signer from the typed payload), the
 * canonical derivation path, the request's authorization and the typed payload's facts; now
 * is unix seconds. On 0, *vel says whether and how the store must check velocity. On -1 why
 * holds "policy: <rule>" or "approval: <why>". Approvals count only when they name a
 * configured approver, use its algorithm, are unexpired (now < expires) and verify over the
 * canonical message (daemon/common/approval.h); each approver counts once. A quorum > 0
 * requires a request id. *verified receives the number of signatures checked (for timing). */
int signer_policy_check(const signer_policy *p, const uint8_t key_id[16], const uint8_t digest[32],
                        const char *path, const api_sign_auth *auth,
                        const signer_policy_facts *facts, uint64_t now, signer_policy_velocity *vel,
                        unsigned *verified, char *why, size_t cap);

/* 256-bit big-endian helpers (wei). */
int signer_u256_from_dec(uint8_t out[32], const char *s); /* 0, or -1 if not 0..2^256-1 */
void signer_u256_to_dec(char out[80], const uint8_t v[32]);
int signer_u256_cmp(const uint8_t a[32], const uint8_t b[32]);
int signer_u256_add(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]); /* -1 overflow */

/* Writes a human-readable summary of p (mpcctl policy show). */
void signer_policy_print(const signer_policy *p, FILE *out);

#endif
