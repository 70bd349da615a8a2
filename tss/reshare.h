/* tss/reshare.h — resharing a key from an old committee to a new one, keeping the public
 * key: refresh, reshare to another (t, n), replacement of a lost node, import of a whole
 * private key and migration of tss-lib shares are all this one protocol ([SL]-style
 * refresh of DKLS23.md §6: each dealer's polynomial has its Lagrange-weighted share as
 * constant term, and the public key must not change).
 *
 * Participants. The NEW committee is parties 1..n' with identities ids[0..n') and x = index,
 * as in the DKG. The OLD side is a qualified set of dealers, each given by its x-coordinate
 * (any distinct non-zero scalars: tss-lib ShareIDs, or the old indices), its public share
 * P(x) and its pinned identity; a dealer may also be a new party (new_index) or not (a
 * removed node, or a one-shot import dealer holding the whole key: one dealer, t_old = 1,
 * P(x) = pk). Messages address participants by one number: a new party by its new index,
 * a dealer that is not a new party by n' + k, k = its rank among such dealers in dealer
 * order (tss_reshare_participant_count / tss_reshare_participant_identity). The culprit of
 * an abort is such a number. At most TSS_MAX_PARTIES participants.
 *
 * Rounds (every message pairwise, header tss/msg.h, protocol TSS_PROTO_RESHARE):
 *   R1  everyone -> everyone: sid_i; a dealer adds C_i = commitment to (session id, i, F_i).
 *       The reshare sid binds the tag "reshare/sid", the key id, the key's DKG sid (zero for
 *       an import), t_old, n_old, the dealers' (x, P(x), identity, new index) in order, pk,
 *       the chain code, t', n', the new identities, the epoch and every sid_i.
 *   R2  everyone -> each new party: the sid (an equivocated sid_i aborts without blame);
 *       a dealer adds F_i = (a_i0*G .. a_i,t'-1*G), the opening of C_i and a Schnorr PoK per
 *       coefficient; between new parties as in DKG R2: a commitment to the zero-seed part
 *       and, from the pair's Alice, base-OT message 1.
 *   R3  (confidential) everyone -> each new party: a dealer adds f_i(j); between new
 *       parties: the zero-seed opening and, from the pair's Bob, base-OT message 2 and the
 *       bootstrap OT extension (as in DKG R3). A dealer that is not a new party is finished
 *       once it has sent R2 and R3.
 *   R4  new party -> new party: pk, P'(i), a PoK of p'(i) bound to the chain code, per
 *       participant a hash of the R1 + R2 broadcasts received from it, and the hash of the
 *       pair's base-OT messages.
 * where f_i is dealer i's random polynomial of degree t'-1 with f_i(0) = lambda_i * p(x_i),
 * lambda_i the Lagrange coefficient at 0 over the dealers' x's. New party j's share is
 * p'(j) = sum_i f_i(j).
 *
 * Checks by every new party, each aborting with a reason and, where one participant can be
 * blamed, its number: exact lengths (intake); every opening (C_i, zero seeds); every PoK;
 * no coefficient point is infinity (strict parsing); A_i0 = lambda_i * P(x_i) for every
 * dealer (TSS_ERR_MISMATCH, the dealer: ties each dealer to its known public share); the
 * Feldman check of its own share f_i(j) (TSS_ERR_SHARE, the dealer); sum_i A_i0 = pk
 * (TSS_ERR_MISMATCH, nobody: with every A_i0 checked this fails only when the public input
 * itself is inconsistent, see tss_reshare_check_input); every P'(j) from the summed
 * commitments, p'(me)*G = P'(me), pk != infinity; in R4 the same pk, P'(j) and broadcasts
 * everywhere (blame as in the DKG: a peer that reports its own or my broadcasts differently
 * is named, a disagreement about a third participant names nobody) and the same base-OT
 * messages at both ends of every new pair. Base-OT failures (a bad point, M_b = infinity,
 * a wrong tag) are plain aborts naming the sender. A failed OT-extension check on the
 * bootstrap extension (TSS_ERR_OT_CHECK) BANS its sender (abort.ban = 1, persisted through
 * the ban list before the call returns, under the sender's ban-list lock): an honest peer
 * never fails it, and the sender already holds a share of a live key, so the node must
 * refuse it everywhere from now on (the DKG does not ban because a failed DKG leaves no
 * key behind; here the old epoch stays in use). A dealer that is not a new party checks
 * nothing beyond the intake and the bans: it only learns the sid parts.
 *
 * Output: a new party gets a tss_keyshare with t', n', its index, epoch = the given epoch,
 * dkg_sid = the key's DKG sid (the reshare sid for an import, whose key had none),
 * setup_sid = the reshare sid, the new identities, the given chain code, the unchanged pk,
 * every P'(j), p'(index), fresh zero seeds and fresh OT setups toward every new peer. The
 * fingerprint (and so every signing sid) covers epoch and setup sid: signing that mixes a
 * share of another epoch or run with these aborts with TSS_ERR_SESSION before any OT work,
 * never with a ban. Completion is not unanimous (see tss/dkg.h): the new epoch may be used
 * only when every new party has confirmed the same tss_keyshare_fingerprint.
 *
 * Cost: the new pairs' base OTs dominate, as in the DKG. Measured at κ = 256 (the figures
 * follow the DKG's when κ changes) with all participants in one process (tests/support
 * sim, a shared 2-core machine under load 7-8, so only the ratios mean much): a 2-of-3
 * refresh 222-237 ms median against 248 ms for a 2-of-3 DKG in the same run; 2-of-3 ->
 * 3-of-5 1.0-1.4 s (ten new pairs). Bytes of all messages with headers, 2-of-3 refresh
 * by three dealers: R1 648, R2 52,752, R3 74,811, R4 1,818 (the DKG: 648, 52,944, 75,195,
 * 2,010); per new pair the base-OT message 1 (16.9 KB) and message 2 with the bootstrap
 * extension (24.6 KB) are most of it.
 *
 * Secrets: the dealer's share and its polynomial live in secure memory and are wiped once
 * R3 is out (or on abort / free); shares are combined with tss/scalar's constant-time
 * arithmetic; randomness only from the injected rng, which must outlive the state.
 * Bans (tss/ban.h): as in the DKG, a participant on the ban list is refused by
 * tss_reshare_new and a state aborts (TSS_ERR_BANNED) at its next step once any of its
 * peers is banned.
 *
 * Not here (the daemons' part of issue 17): persisting the new share two-phase, activating
 * the new epoch only after every new share is durable and deleting the old one after that;
 * the "imported" mark (key metadata, not the share encoding). The plan:
 *
 * Integration plan (signer and hub; not built yet).
 *  1. Input. A dealer builds the WHOLE public input (dealers' x and P(x), pk, chain code,
 *     key_sid, t_old, n_old, epoch + 1) from its own ACTIVE share of the key, never from the
 *     hub; the hub supplies only the session, the new committee (t', n', identities, which
 *     the signer checks against its accepted-fingerprints list like a keygen's) and which
 *     old parties deal. A new party that holds no share (a replacement) takes the public
 *     input from the hub's key record: it cannot check it, but the sid covers all of it,
 *     so a hub that tells it something else than the dealers ends in TSS_ERR_SESSION, and
 *     a wrong pk fails sum A_i0 = pk. tss_reshare_check_input before the session.
 *  2. Round 0 as for keygen (kind "reshare"): session_id from round 0; the signer claims
 *     it durably (signer_store_sid_claim, kind "reshare") before R1 leaves. The dealer
 *     unseals its share only for tss_reshare_new (which copies it) and wipes its copy.
 *  3. At TSS_DONE a new party encodes and seals the new share and stores it PENDING under
 *     (key id, epoch e+1) with its fingerprint and an audit row, fsync'ed, and only then
 *     sends its persisted-attestation (which must then cover the epoch) to the hub. The
 *     store keys shares by key id today: it needs (key id, epoch), at most one active and
 *     one pending epoch per key. The epoch-e share is NOT touched: a reshare that fails or
 *     is killed at any point leaves epoch e fully usable.
 *  4. The hub activates epoch e+1 only with all n' attestations naming one fingerprint:
 *     ACTIVATE(key, e+1, attestations) to every new party, which checks them and in ONE
 *     transaction marks e+1 active and its own epoch-e share retired (no longer used to
 *     sign), fsync, then acknowledges. Signing from then on uses e+1 (a request that
 *     still mixes epochs fails with TSS_ERR_SESSION, never a ban).
 *  5. Only after every new party has acknowledged does the hub send RETIRE(key, e) to
 *     the old parties, which delete the sealed epoch-e blob (audit row) — never before,
 *     and a node not in the new committee deletes its share only then. A crash before
 *     ACTIVATE leaves a pending e+1 that the hub either activates on reconnect or tells the
 *     node to drop (operator-visible, as pending keygen shares are today).
 *  6. Import: the private key (hex or BIP32 xprv, then its chain code) is parsed into
 *     secure memory on the importing node, which deals as a dealer that is not a new party
 *     (t_old = n_old = 1, key_sid zero, x any non-zero scalar) and wipes the key after
 *     tss_reshare_new; the "imported" flag goes in the hub's and signers' key metadata.
 *     Migration: each tss-lib node deals with x = ShareID mod q, its Xi and every
 *     party's (x, BigXj) and ECDSAPub from daemon/common/tsslib (a qualified set of t_old
 *     of them); tss-lib keys have no chain code, so the operator fixes one (or a derivation
 *     from pk) and every participant must be given the same (it is in the sid).
 *  7. Bans: the same persist callback as signing (a failed bootstrap OT check); a
 *     participant's culprit number maps to an identity by tss_reshare_participant_identity.
 */
#ifndef TSS_RESHARE_H
#define TSS_RESHARE_H

#include <stddef.h>
#include <stdint.h>

#include "ban.h"
#include "dkg.h" /* tss_status, tss_abort_info */
#include "keyshare.h"
#include "msg.h"
#include "point.h"
#include "rand.h"
#include "scalar.h"

/* One old dealer, as every participant knows it (public). */
typedef struct {
    tss_scalar x;      /* its x-coordinate on the old polynomial: non-zero, distinct */
    tss_point pub;     /* P(x) = p(x)*G */
    tss_identity id;   /* its pinned identity; equal to ids[new_index-1] when new_index > 0 */
    uint8_t new_index; /* its index in the new committee, 0 when it is not a new party */
} tss_reshare_dealer;

typedef struct {
    uint8_t key_id[16];     /* the key (the daemon's key id) */
    uint8_t key_sid[32];    /* the key's DKG sid (kept in the new shares); zero: an import */
    uint8_t session_id[32]; /* unique per session (round 0 of DESIGN.md); never reused */
    /* the old side */
    uint8_t t_old, n_old; /* 1 <= t_old <= dealer_count <= n_old (n_old is bound, not used) */
    uint8_t dealer_count;
    tss_reshare_dealer dealers[TSS_MAX_PARTIES];
    tss_point pk;           /* the public key, unchanged */
    uint8_t chain_code[32]; /* kept (refresh/reshare) or given (import/migration) */
    /* the new side */
    uint8_t t, n;                      /* 2 <= t <= n <= TSS_MAX_PARTIES */
    tss_identity ids[TSS_MAX_PARTIES]; /* new party j at [j-1] */
    uint32_t epoch;                    /* the epoch the new shares get: old epoch + 1 */
    /* this participant's role(s) */
    uint8_t dealer;          /* 1-based position in dealers[], 0 when not a dealer */
    const tss_scalar *share; /* a dealer's secret p(x): copied, the caller wipes its own */
    uint8_t index;           /* its new index 1..n, 0 when not a new party */
    tss_banlist *bans;       /* required: the node's ban list */
} tss_reshare_params;

typedef struct tss_reshare tss_reshare;

/* Participants of a session with these parameters (n + dealers that are not new parties),
 * 0 when the parameters are structurally invalid (see tss_reshare_new). */
uint16_t tss_reshare_participant_count(const tss_reshare_params *p);

/* The participant number of this party's role (its index when it is a new party, else
 * n + its rank among the dealers that are not new parties), 0 for no role. */
uint16_t tss_reshare_participant_of(const tss_reshare_params *p);

/* The identity of participant `who` (1..count), NULL when out of range. */
const tss_identity *tss_reshare_participant_identity(const tss_reshare_params *p, uint16_t who);

/* Checks that the public input is one key: the dealers' x distinct and non-zero, and
 * sum_i lambda_i * P(x_i) = pk. TSS_OK, TSS_ERR_PARAMS (x zero or repeated, no dealer) or
 * TSS_ERR_MISMATCH. Callers should run it before a session (a migration tool on the save
 * files); the protocol checks the same thing through the dealers' commitments. */
tss_err tss_reshare_check_input(const tss_reshare_dealer *dealers, uint8_t count,
                                const tss_point *pk);

/* Creates the state (secure memory). TSS_ERR_ARG: a required pointer missing (a dealer
 * without its share). TSS_ERR_PARAMS: t, n, t_old, n_old, dealer_count, indices or roles
 * out of range, x zero or repeated, identities invalid or repeated among participants, a
 * dealer's identity not the one of its new index, more than TSS_MAX_PARTIES participants,
 * no role, or a dealer whose share does not match its P(x). TSS_ERR_BANNED: a participant
 * is on the ban list. */
tss_err tss_reshare_new(tss_reshare **out, const tss_reshare_params *params, const tss_rng *rng);

/* Zeroizes and frees the state (and a key share not taken). NULL is a no-op. */
void tss_reshare_free(tss_reshare *st);

/* Round-1 messages (one per other participant). Call once. Same contract as tss_dkg_start. */
tss_err tss_reshare_start(tss_reshare *st, tss_msgs *out);

/* One inbound message; the contract of tss_dkg_receive (rejections leave the state as it
 * was; an abort leaves `out` as it was on entry; TSS_ERR_BANNED first). */
tss_err tss_reshare_receive(tss_reshare *st, const uint8_t *msg, size_t len, tss_msgs *out);

/* TSS_DONE: a new party holds its share; a dealer that is not a new party has sent all it
 * had to send. */
tss_status tss_reshare_status(const tss_reshare *st);
const tss_abort_info *tss_reshare_abort_info(const tss_reshare *st);

/* After TSS_DONE, for a new party: hands over the key share (free with tss_keyshare_free).
 * NULL otherwise or if already taken. */
tss_keyshare *tss_reshare_take_keyshare(tss_reshare *st);

#endif
