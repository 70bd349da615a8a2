/* daemon/signerd/reshare.h — a signer's input to a refresh or reshare (issue 17;
 * tss/reshare.h "Integration plan", step 1): from the hub's reshare session-start
 * (api/reshare.h) and this node's own active share of the key, the tss_reshare_params of
 * this node's role. Pure: no I/O, no store, no clock; the session code (not built yet)
 * claims the sid, unseals the share, calls this, runs tss_reshare_* and persists.
 *
 * Trust: the hub chooses the session, the new committee and which old parties deal, and
 * nothing else. A node that holds a share takes the WHOLE public input from that share —
 * t_old, n_old, pk, chain code, DKG sid, each dealer's x (its old index) and P(x), and the
 * dealers' pinned identities — and refuses a session-start that says otherwise (a lying or
 * confused hub is named here, before any protocol message, instead of ending in
 * TSS_ERR_SESSION). A node that holds no share (a replacement) takes the public input from
 * the session-start: it cannot check it, but the sid covers all of it (a different story
 * told to it ends the session with TSS_ERR_SESSION, a wrong pk fails sum A_i0 = pk), and it
 * cannot deal. New parties' identities are (party id, certificate fingerprint) with the
 * fingerprints the caller computed after validating each certificate against the CA/CRL.
 * Secrets: out->share points INTO own (own->secret_share): own must outlive
 * tss_reshare_new, which copies it; nothing secret is copied here or put in why[]. */
#ifndef SIGNER_RESHARE_H
#define SIGNER_RESHARE_H

#include <stddef.h>
#include <stdint.h>

#include "api/reshare.h"
#include "tss/reshare.h"

typedef enum {
    SIGNER_RESHARE_OK = 0,
    SIGNER_RESHARE_ERR_ARG,     /* a NULL pointer or a fingerprint list too short */
    SIGNER_RESHARE_ERR_ROLE,    /* `index` is not this node, or a node without a share deals */
    SIGNER_RESHARE_ERR_EPOCH,   /* the epoch is not this node's active epoch + 1 */
    SIGNER_RESHARE_ERR_KEY,     /* the key's public data differs from this node's share */
    SIGNER_RESHARE_ERR_DEALER,  /* a dealer's x, P(x) or identity differs from the share's */
    SIGNER_RESHARE_ERR_ENCODING /* a point or scalar in the session-start is invalid */
} signer_reshare_err;

/* Static description (never NULL). */
const char *signer_reshare_strerror(signer_reshare_err err);

/* A dealer input staged for an import or a migration (stage.h), as a session uses it. */
#define SIGNER_STAGED_PARTIES_MAX 64 /* the old committee of a tss-lib key */
typedef struct {
    uint8_t public_key[33], chain_code[32];
    unsigned old_threshold, old_n; /* 1, 1 for a whole key */
    uint8_t x[32], pub[33];        /* this node's x and P(x) */
    size_t count;                  /* every old party's (x, P(x)), this node's among them */
    uint8_t xs[SIGNER_STAGED_PARTIES_MAX][32];
    uint8_t pubs[SIGNER_STAGED_PARTIES_MAX][33];
    tss_scalar *secret; /* SECRET: p(x), secure memory (stage.c) */
} signer_reshare_staged;

/* Fills *out for this node (party id `me`) from session-start s.
 *   own:        this node's ACTIVE share of s->key_id (decoded), or NULL if it holds none;
 *   staged:     for a node without a share that deals an import or a migration (key_sid
 *               zero, epoch 1), its staged input (stage.h), else NULL. The session-start
 *               must name the staged key (public key, chain code, old t and n) and every
 *               dealer's (x, P(x)) must be one of the staged old parties', this node's its
 *               own; out->share then points into staged->secret;
 *   party_fps:  s->n fingerprints, party_fps[j] of s->parties[j] (validated certificates);
 *   dealer_fps: s->ndealers fingerprints, dealer_fps[k] of s->dealers[k];
 *   session_id: the session id from round 0; bans: the node's ban list (required).
 * On failure *out is zeroed and why[] (cap bytes, NUL-terminated) names the field. */
signer_reshare_err
signer_reshare_params(tss_reshare_params *out, const api_reshare_start *s, const char *me,
                      const tss_keyshare *own, const signer_reshare_staged *staged,
                      const uint8_t (*party_fps)[32], const uint8_t (*dealer_fps)[32],
                      const uint8_t session_id[32], tss_banlist *bans, char *why, size_t cap);

/* The session's participants as a session-start (api/json.h) so that the signer's session
 * machinery (certificate checks, round 0, routing by index) runs unchanged: sign = 0, the
 * key id, threshold = the new t, n = every participant, index = s->index, nonce, and the
 * parties: the new committee (indices 1..n') then each dealer that is not a new party with
 * its participant number n' + k (tss/reshare.h). SIGNER_RESHARE_ERR_ARG on NULL. */
signer_reshare_err signer_reshare_session_parties(api_session_start *out,
                                                  const api_reshare_start *s);

/* dealer_fps[k] of s->dealers[k] from the participants' fingerprints fps[] (in the order of
 * signer_reshare_session_parties). */
void signer_reshare_dealer_fps(uint8_t (*dealer_fps)[32], const api_reshare_start *s,
                               const uint8_t (*fps)[32]);

/* The digest round 0 binds (chan.h start_digest): every recipient-independent field of the
 * reshare session-start (key id, epoch, new t and n, each participant's (index, id,
 * certificate fingerprint), the old public data, each dealer's (x, P(x), id, new index),
 * the nonce) under its own tag, so a participant told anything else aborts in round 0. */
void signer_reshare_start_digest(uint8_t out[32], const api_reshare_start *s,
                                 const uint8_t (*fps)[32]);

#endif
