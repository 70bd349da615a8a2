/* daemon/signerd/chan.h — round 0 and the end-to-end sealed channel between two signers.
 * Pure crypto over caller buffers (OpenSSL 3 + tss/ helpers): no I/O, no threads, no frame
 * building. One signer_chan per session holds the round-0 state and every pairwise channel
 * of this signer in that session. The hub relays every byte and is not trusted with any.
 *
 * Design (DESIGN.md, "Party link ... end-to-end protection"; Noise-KK-like):
 *
 * - K0_ij = HKDF-SHA256(ikm = ECDH(cert_i, cert_j), salt = hub nonce,
 *                       info = "mpc-signer/hello/v1" || i || j)       (i, j: 2 bytes BE)
 *   Only i and j can compute ECDH(cert_i, cert_j): a MAC under K0_ij proves the payload
 *   comes from the holder of cert key i and is meant for j. i || j makes it
 *   direction-bound: j's own payload to i cannot be reflected back to j as i's. The fresh
 *   hub nonce makes K0 per session; a hub that repeats a nonce can at most replay an old
 *   round-0 payload, whose ephemeral private key is gone: that channel never opens (abort).
 * - round-0 payload i -> j = eph_i (65, uncompressed P-256) || rand_i (32) ||
 *   start_digest (32) || HMAC-SHA256(K0_ij, "mpc-signer/round0/v1" || session16 || i || j ||
 *   eph_i || rand_i || start_digest). The session id of the frame header is bound, so a
 *   payload cannot be moved into another session of the same hub nonce.
 * - The receiver checks the MAC (CRYPTO_memcmp) before it looks at any other field: an
 *   unauthenticated point is never parsed, an unauthenticated digest never compared. A
 *   failed round-0 check changes no state (the caller aborts the session).
 * - start_digest: each signer sends the digest of the session-start it received; a peer
 *   whose digest differs saw another session description (a hub that told parties
 *   different parties, thresholds, hashes or paths): SIGNER_CHAN_ERR_DIGEST. The digest
 *   must be over a recipient-independent form (see signer_chan_new).
 * - sid = transcript of the kind tag, key id, binding, parties, hub nonce, session id,
 *   start digest, every eph and rand, request digest (signer_chan_derive). Each signer's own
 *   fresh rand and eph are in it, so neither a hub nor a rolled-back database can make an
 *   honest signer reuse a sid (the caller still persists every sid and refuses a used one).
 * - key(i -> j) = HKDF-SHA256(ikm = ECDH(cert_i, cert_j) || ECDH(eph_lo, eph_hi) ||
 *                                   ECDH(cert_lo, eph_hi) || ECDH(eph_lo, cert_hi),
 *                             salt = sid, info = "mpc-signer/chan/v1" || i || j),
 *   lo / hi being the lower / higher index of the pair. The static part authenticates
 *   (only i and j know it); the ephemeral part gives forward secrecy: the ephemeral private
 *   key is wiped at derive, so a certificate key stolen later does not decrypt a recorded
 *   session; the two mixed terms (Noise KK's es and se) resist key-compromise
 *   impersonation: holding cert key j does not let anyone pose as i to j. One key per
 *   direction, bound to the sid.
 * - AES-256-GCM, nonce = 4 zero bytes || 64-bit BE counter of that direction, starting at 0,
 *   never transmitted. The receiver opens only with the next expected counter, so a
 *   replayed, reordered or dropped message fails authentication; the 32-byte frame header
 *   is the associated data, so the hub cannot change type, session, from, to, round or
 *   length. Any open failure kills the whole signer_chan: the session aborts (never a ban).
 *
 * Limits, for the caller: round 0 itself is authenticated by the static ECDH only (a thief
 * of cert key j can forge round-0 payloads to j, but cannot then open or seal the channel).
 * Messages of one direction must be opened in the order they were sealed (open on arrival, buffer
 * plaintext). A signer_chan is not thread-safe (one session, one thread at a time).
 *
 * All secrets (static and ephemeral ECDH outputs, K0, channel keys) live inside the
 * signer_chan, which is in tss_secmem memory; the ephemeral private key is an OpenSSL
 * EVP_PKEY (its scalar is cleared by OpenSSL on free, and sits in OpenSSL's secure heap
 * when the daemon has called CRYPTO_secure_malloc_init). */
#ifndef SIGNER_CHAN_H
#define SIGNER_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define SIGNER_CHAN_R0_BYTES    (65 + 32 + 32 + 32) /* eph pub, rand, start digest, HMAC */
#define SIGNER_CHAN_TAG_BYTES   16
#define SIGNER_CHAN_MAX_PARTIES 32
#define SIGNER_CHAN_ID_MAX      64 /* party id (certificate CN) length */

typedef enum {
    SIGNER_CHAN_OK = 0,
    SIGNER_CHAN_ERR_ARG,    /* a caller broke a documented precondition */
    SIGNER_CHAN_ERR_CRYPTO, /* OpenSSL failed (including allocation) */
    SIGNER_CHAN_ERR_MAC,    /* round-0 MAC bad */
    SIGNER_CHAN_ERR_DIGEST, /* peer saw a different session-start */
    SIGNER_CHAN_ERR_POINT,  /* bad ephemeral key */
    SIGNER_CHAN_ERR_AUTH,   /* AEAD open failed: altered, replayed, reordered or dropped */
    SIGNER_CHAN_ERR_STATE,  /* wrong phase, duplicate round 0, or the channel is dead */
    SIGNER_CHAN_ERR_LENGTH, /* a payload has the wrong length or exceeds the frame limit */
    SIGNER_CHAN_ERR__COUNT
} signer_chan_err;

/* A static, non-secret description of e (never NULL). */
const char *signer_chan_strerror(signer_chan_err e);

typedef struct {
    uint16_t index;       /* session index 1..255 */
    const char *party_id; /* certificate CN, 1..SIGNER_CHAN_ID_MAX bytes */
    uint8_t fp[32];       /* SHA-256 of the certificate DER (mpcd_tls_cert_fingerprint) */
    EVP_PKEY *pub;        /* certificate public key (P-256); a reference is held until derive */
} signer_chan_party;

/* One session's round-0 state and all its pairwise channels; in secure memory. */
typedef struct signer_chan signer_chan;

/* Creates the session's channel state. self_key: own identity key (P-256 private,
 * a reference is held until derive). parties[0..n): every participant including self, strictly
 * increasing index, 2 <= n <= SIGNER_CHAN_MAX_PARTIES, distinct fingerprints, each pub a P-256 key,
 * self's pub equal to self_key's public key, no peer's equal to it. hub_nonce: the nonce of
 * session-start; session16: the frame header's session id; start_digest: a digest of the
 * session description that is the same for every recipient (NB: the hub's session-start
 * JSON carries the recipient's own "index", so a hash of the raw bytes differs per party;
 * hash a canonical form without it). Generates the ephemeral key and rand (RAND_priv_bytes),
 * computes the static ECDH with every peer (which validates their keys) and the K0 keys.
 * Nothing in parties is referenced after return. *out = NULL on failure. */
signer_chan_err signer_chan_new(signer_chan **out, EVP_PKEY *self_key, uint16_t self_index,
                                const signer_chan_party *parties, size_t n,
                                const uint8_t hub_nonce[32], const uint8_t session16[16],
                                const uint8_t start_digest[32]);

/* Zeroizes and frees c (NULL is a no-op). */
void signer_chan_free(signer_chan *c);

/* Writes the round-0 payload for peer `to` (the same eph, rand and digest for every peer,
 * a MAC under K0_{self,to}). Any time before signer_chan_derive; STATE afterwards. */
signer_chan_err signer_chan_round0(signer_chan *c, uint16_t to, uint8_t out[SIGNER_CHAN_R0_BYTES]);

/* Takes peer `from`'s round-0 payload. Order of checks: `from` is a peer (ARG), phase and
 * duplicate (STATE), length (LENGTH), MAC in constant time (MAC), digest equals ours
 * (DIGEST), ephemeral point uncompressed, on the curve, not ours (POINT). On any error c
 * is unchanged. */
signer_chan_err signer_chan_receive_round0(signer_chan *c, uint16_t from, const uint8_t *p,
                                           size_t len);

/* 1 when every peer's round-0 payload has been accepted (also after derive) and c is not
 * dead, else 0. */
int signer_chan_round0_complete(const signer_chan *c);

/* After round 0 is complete: computes the sid (tss transcript with domain "signerd/sid" whose
 * first field is the tag "mpc-signer/<kind>/v1", kind "keygen", "sign" or "reshare"), then
 * key_id (16), binding (length-prefixed; for sign the DKG sid and epoch, for keygen t and n,
 * for reshare the new epoch, t' and n', encoded by the caller), n and every (index, party id, fp)
 * in index order, hub nonce, session16, start digest, every party's eph pub and rand in index
 * order, request_digest (32). Derives both channel keys with every peer and wipes the ephemeral
 * private key, the static ECDH outputs and the K0 keys: a second derive, or round 0 after it, fails
 * with STATE. sid_out receives the sid (the caller persists it as used before its first message).
 */
signer_chan_err signer_chan_derive(signer_chan *c, const char *kind, const uint8_t key_id[16],
                                   const uint8_t *binding, size_t binding_len,
                                   const uint8_t request_digest[32], uint8_t sid_out[32]);

/* The sid signer_chan_derive would compute, without deriving anything or changing c: same
 * arguments and errors (STATE unless round 0 is complete and derive has not run). */
signer_chan_err signer_chan_sid(const signer_chan *c, const char *kind, const uint8_t key_id[16],
                                const uint8_t *binding, size_t binding_len,
                                const uint8_t request_digest[32], uint8_t sid_out[32]);

/* AES-256-GCM seal of pt[0..len) for peer `to` with the next counter of self -> to.
 * aad = the 32-byte header of the frame that will carry out: it must say version 1,
 * type protocol, session16, from = self, to = `to`, payload_len = len + 16 (ARG otherwise,
 * nothing consumed). out receives ciphertext || tag (len + SIGNER_CHAN_TAG_BYTES bytes);
 * len + 16 <= API_FRAME_MAX_PAYLOAD (LENGTH). STATE before derive or once c is dead. If the
 * cipher itself fails, CRYPTO and c is dead (a counter is never risked twice). */
signer_chan_err signer_chan_seal(signer_chan *c, uint16_t to, const uint8_t aad[32],
                                 const uint8_t *pt, size_t len, uint8_t *out);

/* Opens ct[0..len) from peer `from` with the next expected counter of from -> self.
 * aad = the header of the frame as received. On any failure of the message (too short,
 * header not matching from/self/session/length, tag) returns SIGNER_CHAN_ERR_AUTH, zeroes
 * pt, and c is dead: every later seal/open with anyone fails with STATE; abort the session.
 * pt receives len - 16 bytes; provide secure memory for confidential rounds. ARG for a
 * `from` that is not a peer (c unchanged); STATE before derive or once dead. */
signer_chan_err signer_chan_open(signer_chan *c, uint16_t from, const uint8_t aad[32],
                                 const uint8_t *ct, size_t len, uint8_t *pt);

/* 1 once an open, a seal's cipher call or a derive's key derivation has failed, else 0. */
int signer_chan_dead(const signer_chan *c);

#endif
