/* tss/dkg.h — distributed key generation for t-of-n secp256k1 keys (DKLS23.md §2, variant A).
 *
 * Four rounds, every message sent pairwise (header: tss/msg.h):
 *   R1  sid_i, commitment C_i to (session id, i, F_i)
 *   R2  the DKG sid (compared first: an equivocated sid_i aborts without blame), F_i =
 *       (a_i0*G .. a_i,t-1*G), opening of C_i, a Schnorr PoK per coefficient, a
 *       commitment to the chain-code share; pairwise: a commitment to the zero-seed part
 *       and, when i is the pair's "Alice", base-OT message 1 (tss/baseot.h; the OT sid
 *       binds the DKG sid, which exists only after R1)
 *   R3  (confidential) f_i(x_j), chain-code opening, zero-seed opening; when i is the
 *       pair's "Bob", base-OT message 2 and one OT-extension message over the fresh
 *       (Alice -> Bob) correlation whose outputs become the base OTs of (Bob -> Alice)
 *   R4  pk, chain code, P(i), PoK of p(i) bound to the chain code, and per sender a hash
 *       of the R1 + R2 broadcasts received from it (a sender that reports its own or our
 *       broadcasts differently is named; a disagreement about a third party names nobody,
 *       since pairwise channels cannot prove who lied);
 *       pairwise: a hash of the four base-OT messages of the pair, so both ends know
 *       their OT setups come from the same transcript
 * The DKG session id binds the caller's session id (from round 0), t, n, the ordered list
 * of pinned identities (index, party id, identity-key fingerprint) and all sid_i; the key
 * share stores that list (epoch 0, setup sid = DKG sid).
 * Bans (tss/ban.h): a party on the node's ban list is refused by tss_dkg_new, and a state
 * aborts (TSS_ERR_BANNED) at its next step once any of its peers is banned. The DKG
 * itself bans nobody: its OT setups are fresh and discarded with the key on any failure,
 * so its aborts are plain, with a culprit.
 * Every check of DKLS23.md §2 aborts with a reason and, where one party can be blamed, its
 * index: exact lengths (1), openings (2), proofs (3), Feldman (4), no infinity (5), equal
 * F / pk / chain code everywhere (6), P(j) consistent and pk != infinity (7). Check 8
 * (authenticated, encrypted point-to-point channels) is the transport's: messages that
 * carry secrets are flagged TSS_MSG_CONFIDENTIAL.
 *
 * OT setup: every unordered pair {i, j} runs ONE batch of κ Masny-Rindal base OTs (κ =
 * params.kappa, 128 by default, bound into the DKG sid), with
 * Alice = the lower index when i + j is odd, else the higher (so the work alternates).
 * The reverse direction's setup is bootstrapped from an OT extension over the first
 * (random OTs from a maliciously secure extension are valid base OTs): Bob's random
 * choice bits become his Delta, Alice receives both keys. This halves the
 * constant-time scalar multiplications of key generation at the cost of 24.6 KB more in
 * R3 per pair (12.3 KB with κ = 128).
 *
 * Completion is not unanimous: one party can abort while the others reach TSS_DONE (a
 * dishonest peer can make its last message fail for one recipient). The caller must not
 * use a key until every party has confirmed the same tss_keyshare_fingerprint (DESIGN.md:
 * the hub activates a key only with all n persisted attestations).
 *
 * Limits: 2 <= t <= n <= TSS_MAX_PARTIES (32); party indices 1..n (x_i = i).
 * No I/O, no threads; randomness only from the injected rng, which must outlive the state.
 */
#ifndef TSS_DKG_H
#define TSS_DKG_H

#include <stddef.h>
#include <stdint.h>

#include "ban.h"
#include "keyshare.h"
#include "msg.h"
#include "rand.h"

typedef struct {
    uint8_t t;                         /* signers required */
    uint8_t n;                         /* parties */
    uint8_t index;                     /* this party, 1..n */
    uint8_t session_id[32];            /* unique per session (round 0 of DESIGN.md); never reused */
    tss_identity ids[TSS_MAX_PARTIES]; /* party i at [i-1], for i = 1..n (tss_identities_check) */
    tss_banlist *bans;                 /* required: the node's ban list, shared by every state */
    uint16_t kappa; /* κ of the OT setups (ote.h): 0 = TSS_OTE_KAPPA_DEFAULT (128); 256 makes
                     * shares like those of versions 1/2 (tests and benchmarks of that path) */
} tss_dkg_params;

typedef enum { TSS_RUNNING = 0, TSS_DONE, TSS_ABORTED } tss_status;

typedef struct {
    tss_err reason;
    uint16_t culprit; /* party to blame, 0 when none can be singled out */
    int ban;          /* 1: a ban-class failure (OT, VOLE, Gamma checks, R opening) by the culprit,
                       * whose identity this state put on the ban list (tss/ban.h). 0 for plain
                       * aborts, including TSS_ERR_BANNED (culprit: a peer banned earlier). */
} tss_abort_info;

typedef struct tss_dkg tss_dkg;

/* Creates the state (in secure memory). TSS_ERR_ARG without a ban list; TSS_ERR_PARAMS
 * for out-of-range t, n, index or invalid identities; TSS_ERR_BANNED when a peer's
 * fingerprint is on the ban list. */
tss_err tss_dkg_new(tss_dkg **out, const tss_dkg_params *params, const tss_rng *rng);

/* Zeroizes and frees the state (and any key share not taken). NULL is a no-op. */
void tss_dkg_free(tss_dkg *st);

/* Produces the round-1 messages (one per peer) into out. Call once. An error aborts the
 * state and leaves out as it was on entry. */
tss_err tss_dkg_start(tss_dkg *st, tss_msgs *out);

/* Takes one inbound message. Returns:
 *  - TSS_OK: accepted; out receives the next round's messages when a round completes.
 *  - a rejection (TSS_ERR_LENGTH, _FORMAT, _ROUND, _PARTY, _SESSION, _STATE): the message
 *    failed a header or length check before any work; the state is unchanged.
 *  - any other error: the protocol aborted (tss_dkg_status() == TSS_ABORTED); the reason
 *    and culprit are in tss_dkg_abort_info(). No further messages are accepted. Every
 *    message this call appended to out is freed: out is as it was on entry.
 *  - TSS_ERR_BANNED (an abort): a peer is on the ban list; checked before the message.
 * Messages for rounds after 4 are rejected (TSS_ERR_ROUND). */
tss_err tss_dkg_receive(tss_dkg *st, const uint8_t *msg, size_t len, tss_msgs *out);

tss_status tss_dkg_status(const tss_dkg *st);
const tss_abort_info *tss_dkg_abort_info(const tss_dkg *st);

/* After TSS_DONE: hands over the key share (caller frees with tss_keyshare_free). Returns
 * NULL before completion or if already taken. */
tss_keyshare *tss_dkg_take_keyshare(tss_dkg *st);

/* Expected payload size of the DKG round-r (1..4) message from `from` to `to` for (t, n)
 * and κ; 0 for other rounds or an invalid κ. (R2 and R3 carry the pair's OT parts in one
 * direction only.) */
size_t tss_dkg_payload_len(uint8_t round, uint8_t t, uint8_t n, unsigned kappa, uint16_t from,
                           uint16_t to);

#endif
