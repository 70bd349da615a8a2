/* tss/pairsetup.h — the pairwise OT setup between two new parties, as the DKG and the
 * resharing make it (DKLS23.md §3): one batch of κ base OTs per unordered pair {a, b},
 * whose "Alice" (base-OT receiver, OT-extension sender in the direction Alice -> Bob) is
 * tss_pairsetup_alice(a, b); the reverse direction (Bob -> Alice) is bootstrapped from
 * one OT extension over the first:
 *   Bob, on base-OT message 1: answers it (baseot.h), then extends the fresh
 *     (Alice -> Bob) correlation once with random choice bits x; its rows
 *     t_l = q_l ^ x_l*Δ give Bob, as Alice of the reverse direction, Δ' = x[0..κ) and
 *     k'_l = H(t_l) (tss_pairsetup_bob);
 *   Alice, on Bob's answer: finishes the base OTs, checks Bob's extension and takes both
 *     H(q_l) and H(q_l ^ Δ) as the reverse direction's seeds (tss_pairsetup_alice_finish);
 *   both then compare a hash of the messages they exchanged (tss_pairsetup_view).
 * Every hash is bound to a domain (the protocol's tag prefix: "dkg", "reshare"), the
 * run's sid and the ordered pair; the tags are domain || "/ot-sid", "/ot-bootstrap",
 * "/ot-bootstrap/key", "/ot-view", so each protocol keeps its own transcripts. The pair's
 * zero-sharing seed (signing's zero shares) comes from the same run: domain/zero-seed.
 * Secrets (Δ, choice bits, rows, seeds) stay in secure memory or the key share's OT
 * setups and are wiped; the code is constant time in them (ote.h). */
#ifndef TSS_PAIRSETUP_H
#define TSS_PAIRSETUP_H

#include <stdint.h>

#include "baseot.h"
#include "keyshare.h"
#include "ote.h"
#include "rand.h"

/* Longest domain the tags take (longer ones are cut, which no caller does). */
#define TSS_PAIRSETUP_DOMAIN_MAX 16

/* Bob's part toward Alice: base-OT message 2, then the bootstrap extension message. */
#define TSS_PAIRSETUP_BOB_BYTES(kappa) (TSS_BASEOT_MSG2_BYTES + TSS_OTE_MSG_BYTES(kappa))

/* One party's view of the pair setups of a run. Borrowed pointers; nothing owned. */
typedef struct {
    const char *domain; /* tag prefix, e.g. "dkg" (<= TSS_PAIRSETUP_DOMAIN_MAX chars) */
    const uint8_t *sid; /* the run's sid, 32 bytes (DKG sid, reshare sid) */
    uint16_t me;        /* my index (1..TSS_MAX_PARTIES) */
    uint16_t kappa;     /* κ of the setups (tss_ote_kappa_valid) */
    const tss_rng *rng; /* the run's generator (Bob's choice bits, the extension) */
} tss_pairsetup;

/* The pair's Alice: of lo < hi, lo when lo + hi is odd, hi otherwise, so every party is
 * Alice in about half of its pairs. Public. */
uint16_t tss_pairsetup_alice(uint16_t a, uint16_t b);

/* The base-OT sid of the ordered pair (alice -> bob): H(domain/ot-sid, sid, alice, bob). */
void tss_pairsetup_ot_sid(uint8_t out[32], const tss_pairsetup *ps, uint16_t alice, uint16_t bob);

/* Bob (me) of the pair {me, alice}, after tss_baseot_sender_respond filled peer->ot_recv
 * with the (alice -> me) setup and produced msg2: draws κ-bit-or-more choice bits from
 * ps->rng, runs one extension under H(domain/ot-bootstrap, sid, alice, me), fills
 * peer->ot_send (Δ' = the first κ bits, the bytes past κ zero; seeds
 * H(domain/ot-bootstrap/key, boot sid, l, t_l)). *bob_msg = a malloc'ed
 * TSS_PAIRSETUP_BOB_BYTES(κ) buffer (msg2 || extension message, public; free() it), and
 * sent_hash = its SHA-256. peer->ot_send and peer->ot_recv must be allocated for κ.
 * Errors: TSS_ERR_NOMEM, TSS_ERR_RAND, the extension's; *bob_msg may then be allocated
 * (the caller frees it as always). */
tss_err tss_pairsetup_bob(const tss_pairsetup *ps, uint16_t alice, tss_keyshare_peer *peer,
                          const uint8_t msg2[TSS_BASEOT_MSG2_BYTES], uint8_t **bob_msg,
                          uint8_t sent_hash[32]);

/* Alice (me) of the pair {me, bob}, after tss_baseot_receiver_finish filled peer->ot_send
 * with the (me -> bob) setup: checks bob's extension message (TSS_OTE_MSG_BYTES(κ) bytes
 * at ext_msg) and writes both seeds of every reverse OT into peer->ot_recv.
 * TSS_ERR_OT_CHECK when bob's extension fails its consistency check, TSS_ERR_SESSION for
 * a message of another sid, TSS_ERR_NOMEM; peer->ot_recv is then partly written or not. */
tss_err tss_pairsetup_alice_finish(const tss_pairsetup *ps, uint16_t bob, tss_keyshare_peer *peer,
                                   const uint8_t *ext_msg);

/* Both ends' hash of the pair {me, j}'s base-OT messages: H(domain/ot-view, sid, alice,
 * bob, hash of Alice's part, hash of Bob's part), where sent / recv are the hashes of
 * what I sent to / received from j. Equal at both ends unless a message was altered. */
void tss_pairsetup_view(uint8_t out[32], const tss_pairsetup *ps, uint16_t j,
                        const uint8_t sent[32], const uint8_t recv[32]);

/* The pair {me, j}'s shared zero seed from both parts (mine = the part I sent j,
 * theirs = the part j sent me, both opened against their commitments by the caller):
 * H(domain/zero-seed, sid, lo, hi, part of lo, part of hi), lo < hi the pair's indices,
 * so both ends derive the same 32 bytes. Secret in and out; constant time. */
void tss_pairsetup_zero_seed(uint8_t out[32], const tss_pairsetup *ps, uint16_t j,
                             const uint8_t mine[32], const uint8_t theirs[32]);

#endif
