/* daemon/signerd/stage.h — the dealer input of an import or a migration (issue 17), staged
 * by the operator on the node that deals it, then dealt once by the hub's import session
 * (tss/reshare.h: a dealer that is given the old polynomial's value at its x).
 *
 *   import-key:    a whole private key, as 64 hex digits (optionally 0x-prefixed) or a BIP32
 *                  extended private key (xprv / tprv, base58check); old committee t = n = 1,
 *                  x = 1, P(x) = the public key.
 *   migrate-stage: one party's tss-lib save file (daemon/common/tsslib.h, parsed and fully
 *                  checked); old committee t = tss-lib threshold + 1, n = its parties,
 *                  x = ShareID mod q, P(x) = BigXj of this party, and every party's (x, P(x))
 *                  kept so that the session's other dealers can be checked against them.
 *
 * The chain code (BIP32 derivation of the imported key): the operator's (--chain-code), else
 * the xprv's, else SHA-256("mpc-signer/import-chain-code/v1" || public key) — the same at
 * every dealer of one key, so staging needs no coordination.
 *
 * What is stored (store.h "staged"): the descriptor (public JSON text, below) and the 32-byte
 * secret sealed by the node's backend under aad = "mpc-signer/staged/v1" || party id || 0 ||
 * SHA-256(descriptor): a descriptor edited on disk no longer unseals. The descriptor:
 *   {"party", "source": "key" | "tss-lib", "public_key": 66 hex, "chain_code": 64 hex,
 *    "old_threshold", "old_n", "x": 64 hex, "public_share": 66 hex,
 *    "parties": [{"x", "public_share"}, ...]  (every old party, in the save file's order)}
 * and what the staging commands print, for `mpcctl keys import --dealer`, is the same object
 * without "parties" (the contract of POST /v1/keys/import).
 *
 * Secrets: the key text / save file is only read (the caller wipes it); the scalar lives in
 * secure memory, is parsed without branches or indices on its digits (hex and base58 both),
 * and never reaches a log or why[]. */
#ifndef SIGNER_STAGE_H
#define SIGNER_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "hsm/hsm.h"
#include "reshare.h"
#include "store.h"

typedef enum {
    SIGNER_STAGE_OK = 0,
    SIGNER_STAGE_ERR_ARG,      /* a caller broke the contract */
    SIGNER_STAGE_ERR_NOMEM,    /* an allocation failed */
    SIGNER_STAGE_ERR_KEY_TEXT, /* not 64 hex digits nor an xprv/tprv (or a bad checksum) */
    SIGNER_STAGE_ERR_KEY,      /* the private key is zero or not below the group order */
    SIGNER_STAGE_ERR_TSSLIB,   /* the save file is refused (why[] says what and why) */
    SIGNER_STAGE_ERR_BACKEND,  /* the sealing backend failed to seal or unseal */
    SIGNER_STAGE_ERR_STORE,    /* the database failed (signer_store_last_detail) */
    SIGNER_STAGE_ERR_EXISTS,   /* an input for this public key is staged already */
    SIGNER_STAGE_ERR_NONE,     /* no input is staged for this public key */
    SIGNER_STAGE_ERR_CORRUPT,  /* a stored descriptor is malformed or inconsistent */
} signer_stage_err;

/* Static description (never NULL, never secret). */
const char *signer_stage_strerror(signer_stage_err err);

/* Parses private key text[0..len) (surrounding whitespace allowed): 64 hex digits with an
 * optional 0x, or an xprv/tprv (82 bytes base58check: version, depth, parent, child, chain
 * code, 0x00 || key). *key receives the scalar (the caller's secure memory); *has_chain_code
 * = 1 and chain_code[] set for an xprv. Constant time in the key's characters for a given
 * length. ERR_KEY_TEXT / ERR_KEY with why[] (never the key). */
signer_stage_err signer_stage_parse_key(const uint8_t *text, size_t len, tss_scalar *key,
                                        uint8_t chain_code[32], int *has_chain_code, char *why,
                                        size_t cap);

/* The constant-time cores of signer_stage_parse_key, exposed for the valgrind check
 * (tests/signerd/ct_stage.c): no branch and no memory index depends on the characters.
 * signer_stage_hex32: 64 hex digits (either case) into 32 bytes; signer_stage_b58: base58
 * text[0..len) into exactly SIGNER_STAGE_XPRV_BYTES big-endian bytes (the work depends on
 * len only). Each returns 0, or non-zero when a character is not a digit (or the value does
 * not fit) — a verdict the caller may branch on. */
#define SIGNER_STAGE_XPRV_BYTES 82
uint32_t signer_stage_hex32(uint8_t out[32], const uint8_t text[64]);
uint32_t signer_stage_b58(uint8_t out[SIGNER_STAGE_XPRV_BYTES], const uint8_t *text, size_t len);

/* The chain code given to an imported key without one (see the top). */
void signer_stage_default_chain_code(uint8_t out[32], const uint8_t public_key[33]);

/* Stages a private key (text as for signer_stage_parse_key) for party_id: seals, stores
 * (fsync), and returns the printed descriptor (malloc'd JSON text) in *descriptor.
 * chain_code: the operator's, or NULL. */
signer_stage_err signer_stage_key(hsm_backend *hsm, signer_store *st, const char *party_id,
                                  const uint8_t *text, size_t len, const uint8_t *chain_code,
                                  char **descriptor, char *why, size_t cap);

/* Stages one tss-lib save file data[0..len) (checked with mpcd_tsslib_load; expected_t: the
 * number of signers the operator expects, 0 = as inferred) for party_id; as above. */
signer_stage_err signer_stage_tsslib(hsm_backend *hsm, signer_store *st, const char *party_id,
                                     const uint8_t *data, size_t len, unsigned expected_t,
                                     const uint8_t *chain_code, char **descriptor, char *why,
                                     size_t cap);

/* The input staged on this node (party_id) for public_key, unsealed: out->secret is secure
 * memory (release with signer_stage_release). ERR_NONE when nothing is staged for it. */
signer_stage_err signer_stage_load(hsm_backend *hsm, signer_store *st, const char *party_id,
                                   const uint8_t public_key[33], signer_reshare_staged *out,
                                   char *why, size_t cap);

/* Wipes and frees out->secret and zeroes *out. NULL is a no-op. */
void signer_stage_release(signer_reshare_staged *s);

/* The printed form of a stored descriptor (without "parties"); malloc'd, NULL if malformed. */
char *signer_stage_printable(const char *stored_descriptor);

#endif
