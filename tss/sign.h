/* tss/sign.h — DKLs23 threshold ECDSA signing (Protocol 3.6, DKLS23.md §5) for any set of
 * exactly t parties that includes the caller.
 *
 *   R1 (i -> j)  commitment to R_i binding (sid, i, j); VOLE message 1 with i as Bob
 *                (this fixes i's random VOLE input chi_ij)
 *   R2 (i -> j)  VOLE message 2 with i as Alice on inputs (r_i, sk_i); Gamma^u = c^u*G,
 *                Gamma^v = c^v*G, psi_ij = phi_i - chi_ij, pk_i, and the opening of R_i
 *   R3 (i -> j)  (u_i, w_i) and a digest of every R_j, pk_j and the message hash
 * then every signer combines s = sum(w) / sum(u), normalises to low s, and verifies the
 * signature before releasing it.
 *
 * Session id: the caller passes a 32-byte id that must be unique for every signature ever
 * attempted with this key share (DESIGN.md round 0: it includes a fresh random value of
 * every signer). The library binds it with the key share's fingerprint (DKG sid, epoch,
 * setup sid, public key material, pinned identities), the signer set and the derivation
 * path into the signing sid, and from that into every VOLE sid and
 * commitment. Reusing a signing sid reuses OT pads and leaks the key, so tss_sign_start
 * first calls the caller's claim function with the signing sid, which must record it
 * durably (fsync) and say whether it was already used; only then is the first message
 * produced. The daemon backs it with SQLite; tests with an in-memory set.
 *
 * Presigning: with no hash in the parameters the state stops after round 2 holding a
 * presignature (tss_sign_presigned); tss_sign_finish(hash) then emits round 3. The
 * presignature is single use: it is claimed and wiped before w_i is computed. At finish
 * the nonce is re-randomised with delta = H(sid, R, z): R' = R + delta*G,
 * u_i' = u_i + delta*phi_i, so whoever saw R before choosing z gains nothing (Groth-Shoup).
 *
 * Bans (tss/ban.h): the params carry the node's ban list. tss_sign_new refuses a banned
 * peer (TSS_ERR_BANNED); each peer's identity fingerprint comes from the share's pinned
 * identities (a share without them is refused: TSS_ERR_IDENTITY). A ban-class failure
 * (abort.ban = 1, culprit named: a failed OT-extension check, VOLE check, Gamma check or
 * R opening on the peer's message) persists the ban through the list's callback and lists
 * the peer before the call returns; every other state with that peer aborts with
 * TSS_ERR_BANNED at its next step. The checks whose outcome depends on a peer's OT or VOLE
 * messages (round 1's OT-extension check, round 2's VOLE and Gamma checks) and the output
 * that follows them (R2 toward that peer; R3, also at tss_sign_finish) run under the
 * peer's ban-list lock, after one more look-up. So the caller must hand the state only
 * messages that passed channel authentication; nothing else is asked of it.
 * Plain aborts: session-id mismatches, a wrong pk_j sum, digest mismatches, a signature
 * that fails to verify, and the caller's own failures.
 *
 * `out`: on every call that aborts the state, every message the call appended is freed
 * and `out` is left as it was on entry (empty if it was empty): nothing of an aborted
 * step may leave. */
#ifndef TSS_SIGN_H
#define TSS_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "ban.h"
#include "bip32.h"
#include "dkg.h"
#include "keyshare.h"
#include "msg.h"
#include "rand.h"

/* Records sid as used, durably, before returning. Returns 0 when newly recorded, 1 when
 * it was already used, -1 when it could not be recorded. */
typedef int (*tss_sid_claim_fn)(void *ctx, const uint8_t sid[32]);

typedef struct {
    const tss_keyshare *share; /* borrowed; must outlive the state */
    tss_sid_claim_fn claim;    /* required: the used-sid store */
    void *claim_ctx;
    tss_banlist *bans;      /* required: the node's ban list, shared by every state (tss/ban.h) */
    uint8_t session_id[32]; /* unique per signature (see above) */
    uint16_t signers[TSS_MAX_PARTIES]; /* exactly share->t distinct indices, incl. own */
    size_t signer_count;
    uint32_t path[TSS_BIP32_MAX_DEPTH]; /* non-hardened BIP32 path, may be empty */
    size_t path_len;
    int has_hash;     /* 0: presign, finish with tss_sign_finish */
    uint8_t hash[32]; /* the 32-byte message hash when has_hash */
} tss_sign_params;

typedef struct {
    uint8_t r[32], s[32]; /* low-s */
    uint8_t recovery_id;  /* bit 0: R.y odd; bit 1: R.x >= n */
    uint8_t der[72];
    size_t der_len;
} tss_signature;

typedef struct tss_sign tss_sign;

/* Validates the parameters (TSS_ERR_ARG: a required pointer missing; TSS_ERR_PARAMS: set
 * size != t, duplicates, indices outside 1..n, own index missing; TSS_ERR_DERIVATION: bad
 * path; TSS_ERR_IDENTITY: the share has no pinned identities; TSS_ERR_BANNED: a peer in
 * the set is on the ban list) and creates the state. */
tss_err tss_sign_new(tss_sign **out, const tss_sign_params *params, const tss_rng *rng);
void tss_sign_free(tss_sign *st);

/* Checks the ban list, claims the signing sid (TSS_ERR_USED if already used,
 * TSS_ERR_STORAGE if the store failed; either way nothing is produced and the state
 * aborts), then produces the round 1 messages. Call once. */
tss_err tss_sign_start(tss_sign *st, tss_msgs *out);

/* One inbound message, which must have passed channel authentication; same contract as
 * tss_dkg_receive (rejection leaves the state unchanged; any other error aborts, see
 * tss_sign_abort_info, and leaves `out` as it was on entry). A state with a banned peer
 * aborts with TSS_ERR_BANNED before it looks at the message. Messages for rounds after 3
 * are rejected (TSS_ERR_ROUND). Culprits: a session, length or format error names nobody
 * (a hub that hands signers different sets, paths or shares causes those). */
tss_err tss_sign_receive(tss_sign *st, const uint8_t *msg, size_t len, tss_msgs *out);

/* 1 when a presignature is ready and waits for tss_sign_finish. */
int tss_sign_presigned(const tss_sign *st);

/* Supplies the hash to a presignature and emits round 3 (after one more ban-list look-up
 * under the peers' locks). TSS_ERR_USED if the presignature was already finished;
 * TSS_ERR_STATE if none is ready; TSS_ERR_BANNED (abort, nothing emitted) if a peer was
 * banned since. */
tss_err tss_sign_finish(tss_sign *st, const uint8_t hash[32], tss_msgs *out);

tss_status tss_sign_status(const tss_sign *st);
const tss_abort_info *tss_sign_abort_info(const tss_sign *st);

/* After TSS_DONE: the verified signature and the (derived) public key it verifies under. */
tss_err tss_sign_result(const tss_sign *st, tss_signature *sig, tss_point *pk);

/* Payload size of signing round r (1..3) with a key share of that κ (tss_keyshare.kappa);
 * 0 for other rounds or an invalid κ. Round 1 carries the OT-extension message, whose
 * size depends on κ. */
size_t tss_sign_payload_len(uint8_t round, unsigned kappa);

#endif
