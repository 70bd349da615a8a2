/* tss/keyshare.h — one party's share of a threshold key, and its versioned encoding.
 * A key share holds the public key material every party agrees on (t, n, DKG session id,
 * public key, chain code, every party's public share P(j)) and this party's secrets
 * (p(i), the pairwise zero-share seeds, the OT-extension setup toward each peer). The
 * struct lives in secure memory (tss_keyshare_new / tss_keyshare_free). The encoding is
 * what the sealing backend encrypts: strict decoding checks every length, range and point,
 * and that the share is consistent with the public key. */
#ifndef TSS_KEYSHARE_H
#define TSS_KEYSHARE_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "ote.h"
#include "point.h"
#include "scalar.h"

#define TSS_KEYSHARE_MAGIC   "MPKS"
#define TSS_KEYSHARE_VERSION 1

typedef struct {
    uint8_t zero_seed[32];           /* s_ij, shared with peer j */
    tss_ote_sender_setup *ot_send;   /* as OT-extension sender (VOLE Alice) toward j */
    tss_ote_receiver_setup *ot_recv; /* as OT-extension receiver (VOLE Bob) toward j */
} tss_keyshare_peer;

typedef struct {
    uint8_t t, n, index; /* index in 1..n; x_i = index */
    uint8_t dkg_sid[32];
    uint8_t chain_code[32];                  /* BIP32 chain code of the root key */
    tss_point pk;                            /* the joint public key */
    tss_point pub_shares[TSS_MAX_PARTIES];   /* P(j) = p(j)*G at [j-1] */
    tss_scalar secret_share;                 /* p(index) */
    tss_keyshare_peer peer[TSS_MAX_PARTIES]; /* [j-1]; own slot unused (zero) */
} tss_keyshare;

/* Allocates a zeroed key share in secure memory; NULL on failure. */
tss_keyshare *tss_keyshare_new(void);

/* With n and index set: allocates (secure memory) the OT setups for every peer. */
tss_err tss_keyshare_alloc_peers(tss_keyshare *ks);

/* Zeroizes and frees the share and its peers' OT setups. NULL is a no-op. */
void tss_keyshare_free(tss_keyshare *ks);

/* Exact encoded size for a share of an n-party key. */
size_t tss_keyshare_encoded_len(uint8_t n);

/* Encodes ks into a newly allocated secure buffer (*out, free with tss_secmem_free). */
tss_err tss_keyshare_encode(const tss_keyshare *ks, uint8_t **out, size_t *out_len);

/* Strictly decodes buf into a new key share (*out, free with tss_keyshare_free).
 * TSS_ERR_FORMAT (magic, version, parameters), TSS_ERR_LENGTH, TSS_ERR_POINT,
 * TSS_ERR_RANGE, or TSS_ERR_MISMATCH when p(i)*G != P(i) or the public shares do not
 * interpolate to pk. Nothing is allocated on failure. */
tss_err tss_keyshare_decode(tss_keyshare **out, const uint8_t *buf, size_t len);

/* Fingerprint of the public parts every party shares (t, n, DKG sid, pk, chain code, all
 * P(j)): equal across the parties of one key. */
void tss_keyshare_fingerprint(uint8_t out[32], const tss_keyshare *ks);

/* Verifies that the public shares lie on one degree t-1 polynomial whose value at 0 is pk
 * (every P(j) and pk, interpolated from P(1..t)). */
tss_err tss_keyshare_check_public(const tss_keyshare *ks);

#endif
