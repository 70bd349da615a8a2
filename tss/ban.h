/* tss/ban.h — the ban list: identities of peers that failed an OT-extension, VOLE or Gamma
 * check on an authenticated message (DKLS23.md pitfall 1, DESIGN.md "Threshold protocol").
 *
 * Why the library enforces it. Whether Alice's OT-extension check passes can depend on
 * one bit of her Δ, which every later signature with that peer reuses: a peer that
 * corrupts one base-OT column per session learns Δ bit by bit from which sessions answer
 * (selective failure), then the share. The only defence is that the first failure ends
 * everything with that peer. So one tss_banlist per node, shared by every tss_sign and
 * tss_dkg state, is required by both (the params' `bans`), and the states use it
 * themselves:
 *   - tss_sign_new / tss_dkg_new refuse a peer on the list (TSS_ERR_BANNED);
 *   - at every step (start, receive, finish) a state whose peer is on the list aborts
 *     (reason TSS_ERR_BANNED, culprit that peer, ban 0) before it looks at the input;
 *   - a ban-class failure (TSS_ERR_OT_CHECK, _VOLE_CHECK, _SIGN_CHECK, the R opening)
 *     calls the persist callback and adds the peer before the state returns.
 *
 * Per-peer serialization. Checking the list before a check is not enough: with many
 * concurrent sessions, checks with one peer that run at the same time as the first
 * failure would still release their pass/fail outcome, one bit of Δ each. So every
 * section
 *     check the list -> check the peer's message -> either output produced into `out`
 *                                                    or persist callback returned and
 *                                                       the peer is in the list
 * holds that peer's lock (a mutex of a striped table keyed by the fingerprint) from start
 * to end. Sections with one peer are then totally ordered; every section after a failed
 * one sees the ban and releases nothing. At most one check outcome per ban decision is
 * revealed beyond those that were already released before it. A state whose output
 * depends on several peers (signing round 3) holds all their locks, taken in stripe order
 * (no deadlock). The caller has nothing to do beyond passing the list, handing the states
 * only messages that passed channel authentication (the ban rule applies to those only;
 * AEAD, version, sid and epoch failures are plain aborts and never reach a check), and
 * sending nothing from a call that reported an abort (the states leave `out` as it was on
 * entry then).
 *
 * Persisting. The callback records the ban durably (fsync) before it returns; it runs
 * with the peer's lock held and must not call into the list. If it fails (-1), the state
 * that hit the failure stays aborted and releases nothing, and the peer is still added to
 * the in-memory list (fail closed: this process refuses it); the ban is then not durable,
 * which only the callback's owner knows and must handle (retry, alert, stop the node).
 * If the list cannot even record the peer in memory (out of memory), it treats EVERY peer
 * as banned from then on.
 *
 * Lifetime: create once per node, load the stored bans, then share it; free it only after
 * every state that uses it is freed. Everything here is thread-safe. Fingerprints are
 * public (SHA-256 of the peer's DER certificate in the daemon); nothing here is secret. */
#ifndef TSS_BAN_H
#define TSS_BAN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "keyshare.h" /* tss_identity */

typedef struct tss_banlist tss_banlist;

/* Records a ban of the peer with identity fingerprint fp durably (fsync) before returning.
 * 0 on success, -1 on failure (then the state that hit the failure stays aborted and
 * releases nothing). Called with the peer's lock held; must not call back into the list. */
typedef int (*tss_ban_persist_fn)(void *ctx, const uint8_t fp[32], tss_err reason);

/* Creates an empty list. persist is required (TSS_ERR_ARG when NULL); ctx is passed to it. */
tss_err tss_banlist_new(tss_banlist **out, tss_ban_persist_fn persist, void *ctx);

/* Frees the list. NULL is a no-op. No state may still use it. */
void tss_banlist_free(tss_banlist *bl);

/* Startup: adds a ban read from storage (no callback). Idempotent. TSS_ERR_NOMEM. */
tss_err tss_banlist_load(tss_banlist *bl, const uint8_t fp[32]);

/* 1 when fp is banned (or the list failed closed, see above), else 0. Thread-safe. */
int tss_banlist_contains(tss_banlist *bl, const uint8_t fp[32]);

/* Operator: removes the ban of fp (TSS_OK also when it was not banned). The caller
 * updates its storage; no callback. */
tss_err tss_banlist_lift(tss_banlist *bl, const uint8_t fp[32]);

/* ---- for the state machines (tss/sign.c); a caller never needs these ---- */

/* The first party j in 1..count, j != me, whose identity ids[j - 1] is on the list (in
 * index order, one tss_banlist_contains each), 0 when none is: the check the DKG and the
 * resharing make before every step. count <= TSS_MAX_PARTIES. */
uint16_t tss_banlist_first(tss_banlist *bl, const tss_identity *ids, uint16_t count, uint16_t me);

/* The stripe of fp's lock as a bit of a 64-bit set. */
uint64_t tss_banlist_stripe(const tss_banlist *bl, const uint8_t fp[32]);

/* Locks every stripe in `stripes`, in increasing order; release with tss_banlist_release. */
void tss_banlist_hold(tss_banlist *bl, uint64_t stripes);
void tss_banlist_release(tss_banlist *bl, uint64_t stripes);

/* With fp's stripe held: calls the persist callback, then adds fp to the list (also when
 * the callback failed). TSS_OK when persisted, TSS_ERR_STORAGE when the callback failed. */
tss_err tss_banlist_ban_held(tss_banlist *bl, const uint8_t fp[32], tss_err reason);

#endif
