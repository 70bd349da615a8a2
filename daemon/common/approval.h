/* daemon/common/approval.h — request approvals (issue 15): the canonical message an approver
 * signs, approver public keys, and signing / verifying it with ECDSA P-256 (OpenSSL),
 * ECDSA secp256k1 (libsecp256k1, low s) or Ed25519 (OpenSSL). One encoding, used by
 * mpc-signerd (which checks approvals), mpc-hubd and mpcctl (which makes them), so that the
 * three can never disagree on what an approval means.
 * Not here: which approvers and how many a request needs (daemon/signerd/policy.h), the JSON
 * of an approval (api/json.h). Nothing here is secret except the private key a caller passes
 * to mpcd_approval_sign, which stays in OpenSSL. */
#ifndef MPCD_APPROVAL_H
#define MPCD_APPROVAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

typedef enum {
    MPCD_APPROVAL_OK = 0,
    MPCD_APPROVAL_ERR_ARG,       /* a caller broke a documented precondition */
    MPCD_APPROVAL_ERR_ALG,       /* unknown algorithm name, or the key is of another one */
    MPCD_APPROVAL_ERR_KEY,       /* the public key does not decode or is not on the curve */
    MPCD_APPROVAL_ERR_SIGNATURE, /* the signature does not verify */
    MPCD_APPROVAL_ERR_HIGH_S,    /* secp256k1: s > n/2 (malleable form), refused */
    MPCD_APPROVAL_ERR_CRYPTO,    /* OpenSSL or libsecp256k1 failed (out of memory) */
    MPCD_APPROVAL_ERR__COUNT
} mpcd_approval_err;

/* Static text naming the cause (never NULL, never secret). */
const char *mpcd_approval_strerror(mpcd_approval_err err);

typedef enum {
    MPCD_ALG_NONE = 0,
    MPCD_ALG_ECDSA_P256,      /* "ecdsa-p256": ECDSA over SHA-256(message) */
    MPCD_ALG_ECDSA_SECP256K1, /* "ecdsa-secp256k1": ECDSA over SHA-256(message), low s */
    MPCD_ALG_ED25519,         /* "ed25519": pure Ed25519 over the message */
} mpcd_approval_alg;

/* "ecdsa-p256" | "ecdsa-secp256k1" | "ed25519" -> alg; MPCD_ALG_NONE for anything else. */
mpcd_approval_alg mpcd_approval_alg_parse(const char *name);
/* The name of alg, NULL for MPCD_ALG_NONE or out of range. */
const char *mpcd_approval_alg_name(mpcd_approval_alg alg);

/* What an approval is about. The payload kinds of the sign request (REST `hash`,
 * `eth_transaction`, `eip191_message`, `eip712`). */
#define MPCD_APPROVAL_KIND_MAX 16

/* The canonical message of an approval, the bytes an approver signs:
 *   "mpc-signer/approval/v1" (22 bytes, no NUL)
 *   || F(key_id, 16 bytes) || F(kind) || F(digest, 32 bytes) || F(path)
 *   || F(request_id) || F(u64be(expires))
 * with F(x) = u32be(length of x) || x. kind is "hash", "eth_transaction", "eip191_message"
 * or "eip712" (1..15 characters); digest is the 32-byte hash the key will sign, as computed
 * from the typed payload (Keccak-256 signing hash of the transaction, EIP-191 or EIP-712
 * digest) or the raw hash itself; path the canonical derivation path ("m" or "m/0/1");
 * request_id 1..64 characters of [A-Za-z0-9._-]; expires unix seconds (the approval is
 * valid while now < expires). Length-prefixed fields cannot be shifted into one another.
 * Writes at most MPCD_APPROVAL_MSG_MAX bytes to out and returns the length, or 0 if an
 * argument is out of range (nothing meaningful written). */
#define MPCD_APPROVAL_MSG_MAX 320
size_t mpcd_approval_message(uint8_t out[MPCD_APPROVAL_MSG_MAX], const uint8_t key_id[16],
                             const char *kind, const uint8_t digest[32], const char *path,
                             const char *request_id, uint64_t expires);

/* An approver's public key, as a policy file names it. */
typedef struct {
    mpcd_approval_alg alg;
    uint8_t pub[65]; /* ECDSA: SEC1 compressed (33) or uncompressed (65); Ed25519: 32 raw */
    size_t pub_len;
} mpcd_approver_key;

/* Decodes a public key given as hex for alg and checks it (point on the curve, right
 * length; an Ed25519 key of small order, for which forged signatures verify, is refused).
 * OK, ALG or KEY. */
mpcd_approval_err mpcd_approver_key_from_hex(mpcd_approver_key *k, mpcd_approval_alg alg,
                                             const char *hex);

/* Verifies sig (64 bytes: r || s big-endian for ECDSA, R || S for Ed25519) over msg under
 * k. OK, SIGNATURE, HIGH_S (secp256k1 only: a valid signature in the malleable high-s form
 * is refused, as libsecp256k1 does), KEY or CRYPTO. Public data only: not constant time. */
mpcd_approval_err mpcd_approval_verify(const mpcd_approver_key *k, const uint8_t *msg, size_t len,
                                       const uint8_t sig[64]);

/* The algorithm of an OpenSSL private or public key: P-256 and secp256k1 EC keys, Ed25519;
 * MPCD_ALG_NONE for anything else. */
mpcd_approval_alg mpcd_approval_alg_of(EVP_PKEY *pkey);

/* Signs msg with pkey (a P-256 or secp256k1 EC key, or an Ed25519 key; its algorithm gives
 * alg), writing the 64-byte form mpcd_approval_verify takes; secp256k1 signatures are
 * normalized to low s. Works for any EVP_PKEY OpenSSL can sign with, including a key in a
 * PKCS#11 token through libp11. OK, ALG or CRYPTO. */
mpcd_approval_err mpcd_approval_sign(EVP_PKEY *pkey, const uint8_t *msg, size_t len,
                                     uint8_t sig[64]);

/* The same with the algorithm given: for keys whose parameters OpenSSL cannot read through
 * the provider interface (a libp11 token key is a legacy EC_KEY with a method), the caller
 * determines alg itself. ALG if alg is MPCD_ALG_NONE. */
mpcd_approval_err mpcd_approval_sign_alg(EVP_PKEY *pkey, mpcd_approval_alg alg, const uint8_t *msg,
                                         size_t len, uint8_t sig[64]);

/* The public key of pkey in the form mpcd_approver_key_from_hex reads (compressed for
 * ECDSA), as hex in out (at least 131 bytes). OK, ALG or CRYPTO. */
mpcd_approval_err mpcd_approval_public_hex(EVP_PKEY *pkey, char out[131]);

#endif
