/* tss/keyshare.h — one party's share of a threshold key, and its versioned encoding.
 * A key share holds the public key material every party agrees on (t, n, DKG session id,
 * epoch and setup id, public key, chain code, every party's public share P(j), the pinned
 * identity of every party) and this party's secrets (p(i), the pairwise zero-share seeds,
 * the OT-extension setup toward each peer). The struct lives in secure memory
 * (tss_keyshare_new / tss_keyshare_free). The encoding is what the sealing backend
 * encrypts: strict decoding checks every length, range and point, and that the share is
 * consistent with the public key.
 *
 * Epoch: 0 for a share fresh from the DKG; a refresh or reshare (later work) gives its
 * shares the next epoch and its own setup_sid (the sid of the run that produced the
 * current OT setups; the DKG sid for epoch 0). Both are in the fingerprint and bound into
 * every signing sid, so parties holding OT setups of different runs disagree on the sid
 * (a plain TSS_ERR_SESSION abort before any OT work) instead of failing an OT check,
 * which would make an honest party ban another.
 *
 * Identities: ids[j-1] is party j's pinned (party id, identity-key fingerprint), bound
 * into the DKG sid and the fingerprint; signing looks up each peer's fingerprint here for
 * the ban list, and the daemon refuses a participant whose certificate differs.
 * Version-1 shares (before identities existed) decode with all identities empty and are
 * REFUSED by tss_sign_new (TSS_ERR_IDENTITY) until tss_keyshare_set_identities fills them:
 * signing with zero fingerprints would put every peer under one ban entry and one lock
 * and leave nothing to pin, so the safe choice is to sign nothing until the list is
 * known. Every party must set the same list (the key's records at the hub); the
 * fingerprint, which the parties compare, and the signing sid cover it, so a divergent
 * list only ever aborts a signature with TSS_ERR_SESSION, never bans. */
#ifndef TSS_KEYSHARE_H
#define TSS_KEYSHARE_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "ote.h"
#include "point.h"
#include "scalar.h"

#define TSS_KEYSHARE_MAGIC   "MPKS"
#define TSS_KEYSHARE_VERSION 3 /* the encoding written; decoders also read versions 1 and 2 */
/* The share-format version the signer binds into its sealing AAD (hsm_aad_build). It
 * stays 2 for every encoding version: the AAD is fixed when a share is sealed and must
 * be rebuilt identically to unseal it, before anyone can read the version inside, so
 * changing it would make every stored share unopenable. The encoding names its own
 * version, and the AEAD authenticates all of it. */
#define TSS_KEYSHARE_SEAL_VERSION 2

#define TSS_PARTY_ID_MAX 64 /* bytes of a party id (the certificate CN in the daemon) */

/* One party's pinned identity. */
typedef struct {
    char party_id[TSS_PARTY_ID_MAX + 1]; /* NUL-terminated, 1..64 bytes, no NUL inside */
    uint8_t fp[32]; /* identity-key fingerprint (SHA-256 of the DER certificate); non-zero */
} tss_identity;

typedef struct {
    uint8_t zero_seed[32];           /* s_ij, shared with peer j */
    tss_ote_sender_setup *ot_send;   /* as OT-extension sender (VOLE Alice) toward j */
    tss_ote_receiver_setup *ot_recv; /* as OT-extension receiver (VOLE Bob) toward j */
} tss_keyshare_peer;

typedef struct {
    uint8_t t, n, index; /* index in 1..n; x_i = index */
    uint16_t kappa;      /* κ of every OT setup (ote.h): 128, or 256 in a v1/v2 share */
    uint32_t epoch;      /* 0 from the DKG */
    uint8_t dkg_sid[32];
    uint8_t setup_sid[32];                   /* run that produced the OT setups (see above) */
    tss_identity ids[TSS_MAX_PARTIES];       /* party j at [j-1]; all empty in a v1 share */
    uint8_t chain_code[32];                  /* BIP32 chain code of the root key */
    tss_point pk;                            /* the joint public key */
    tss_point pub_shares[TSS_MAX_PARTIES];   /* P(j) = p(j)*G at [j-1] */
    tss_scalar secret_share;                 /* p(index) */
    tss_keyshare_peer peer[TSS_MAX_PARTIES]; /* [j-1]; own slot unused (zero) */
} tss_keyshare;

/* Checks ids[0..n): every party id 1..64 bytes, NUL-terminated, no two equal; every
 * fingerprint non-zero, no two equal. TSS_OK or TSS_ERR_PARAMS. */
tss_err tss_identities_check(const tss_identity *ids, uint8_t n);

/* 1 when ks carries pinned identities (tss_identities_check passes), 0 for a v1 share. */
int tss_keyshare_has_identities(const tss_keyshare *ks);

/* Fills the identities of a share that has none (a decoded version-1 share). TSS_ERR_STATE
 * if it already has identities (they are pinned: never replaced), TSS_ERR_PARAMS if ids
 * fail tss_identities_check. The fingerprint changes; re-encode and re-seal the share. */
tss_err tss_keyshare_set_identities(tss_keyshare *ks, const tss_identity ids[TSS_MAX_PARTIES]);

/* Allocates a zeroed key share in secure memory; NULL on failure. */
tss_keyshare *tss_keyshare_new(void);

/* With n, index and kappa set: allocates (secure memory) the OT setups (of that κ) for
 * every peer. TSS_ERR_ARG if kappa is not valid (tss_ote_kappa_valid). */
tss_err tss_keyshare_alloc_peers(tss_keyshare *ks);

/* Zeroizes and frees the share and its peers' OT setups. NULL is a no-op. */
void tss_keyshare_free(tss_keyshare *ks);

/* Exact encoded size (current version) of a share of an n-party key made now (κ =
 * TSS_OTE_KAPPA_DEFAULT); _kappa: of a share with that κ (a v1/v2 share re-encoded has
 * κ = 256, about twice the size). */
size_t tss_keyshare_encoded_len(uint8_t n);
size_t tss_keyshare_encoded_len_kappa(uint8_t n, unsigned kappa);

/* Encodes ks (always the current version) into a newly allocated secure buffer (*out,
 * free with tss_secmem_free). Identities are written as they are: all set or all empty. */
tss_err tss_keyshare_encode(const tss_keyshare *ks, uint8_t **out, size_t *out_len);

/* Strictly decodes buf (version 3; version 2: κ = 256; version 1: κ = 256, epoch 0,
 * setup_sid = dkg_sid, no identities) into a new key share (*out, free with
 * tss_keyshare_free). A version-3 κ other than 128 or 256 is TSS_ERR_FORMAT.
 * TSS_ERR_FORMAT (magic, version, parameters, identities neither all valid nor all
 * empty), TSS_ERR_LENGTH, TSS_ERR_POINT,
 * TSS_ERR_RANGE, or TSS_ERR_MISMATCH when p(i)*G != P(i) or the public shares do not
 * interpolate to pk. Nothing is allocated on failure. */
tss_err tss_keyshare_decode(tss_keyshare **out, const uint8_t *buf, size_t len);

/* Fingerprint of the public parts every party shares (t, n, epoch, DKG sid, setup sid,
 * pk, chain code, all P(j), every identity in index order, and κ when it is not 256, so
 * that a v1/v2 share keeps its fingerprint): equal across the parties of one key and
 * epoch. Signing binds it into its sid. */
void tss_keyshare_fingerprint(uint8_t out[32], const tss_keyshare *ks);

/* Verifies that the public shares lie on one degree t-1 polynomial whose value at 0 is pk
 * (every P(j) and pk, interpolated from P(1..t)). */
tss_err tss_keyshare_check_public(const tss_keyshare *ks);

#endif
