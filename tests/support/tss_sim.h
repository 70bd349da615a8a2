/* tests/support/tss_sim.h — runs protocol parties in one process, routing their messages
 * through a queue, with a hook that may tamper with or drop messages and an option to
 * deliver in a shuffled order. Used by the tss tests and benchmarks; not by any daemon. */
#ifndef TSS_SIM_H
#define TSS_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "tss/ban.h"
#include "tss/dkg.h"
#include "tss/rand.h"
#include "tss/reshare.h"
#include "tss/sign.h"

/* The identity the simulator pins for party i: party id "party-<i>", fingerprint
 * SHA-256("sim-identity" || i). sim_identities fills ids[0..n). */
void sim_identity(tss_identity *out, uint16_t i);
void sim_identities(tss_identity ids[TSS_MAX_PARTIES], uint8_t n);

/* A ban store in memory (what the signer daemon keeps in SQLite): the persist callback
 * records (fp, reason) or, with `fail` set, fails. Optionally sleeps `delay_us` first, as
 * an fsync would. Thread-safe only through the ban list's locks (one writer per peer). */
typedef struct {
    uint8_t fps[16][32];
    tss_err reasons[16];
    size_t count;
    int fail;
    unsigned delay_us;
} sim_ban_store;

/* tss_ban_persist_fn over a sim_ban_store (ctx). */
int sim_ban_persist(void *ctx, const uint8_t fp[32], tss_err reason);

/* Called for every message before delivery. May modify *data / *len (realloc allowed,
 * the buffer is malloc'ed). Return 0 to deliver, 1 to drop. */
typedef int (*sim_tamper_fn)(void *ctx, uint8_t **data, size_t *len, uint16_t from, uint16_t to,
                             uint8_t round);

/* A ready-made tamper hook: XORs xor_mask into byte `offset` of the payload of every
 * round-`round` message from `from` (to `to`, or to everyone when to == 0). */
typedef struct {
    uint16_t from, to;
    uint8_t round;
    size_t offset;
    uint8_t xor_mask;
    int hits; /* messages altered */
} sim_flip;

int sim_flip_hook(void *ctx, uint8_t **data, size_t *len, uint16_t from, uint16_t to,
                  uint8_t round);

/* What every run shares: routing options in, per-party outcomes out. */
typedef struct {
    const tss_rng *rng[TSS_MAX_PARTIES + 1]; /* per party; NULL = system generator */
    tss_banlist *bans[TSS_MAX_PARTIES + 1];  /* per party; NULL = a fresh empty list per run */
    sim_tamper_fn tamper;
    void *tamper_ctx;
    int shuffle; /* deliver in a pseudo-random order (seeded by shuffle_seed) */
    uint64_t shuffle_seed;
    uint8_t session_id[32];
    /* results */
    uint16_t failed_party; /* the first party whose receive returned an error, 0 if none */
    tss_err failed_err;    /* that error */
    tss_abort_info abort;  /* its abort info when it aborted */
    int rejected;          /* 1 when that error was a rejection (state unchanged) */
    int out_after_abort;   /* calls that aborted a state yet left messages in out (must be 0) */
    tss_err party_err[TSS_MAX_PARTIES + 1];          /* per party: first error, or OK */
    tss_abort_info party_abort[TSS_MAX_PARTIES + 1]; /* per party, when it aborted */
    size_t bytes[5];                                 /* total bytes per round */
    size_t msg_bytes[5];                             /* last message per round */
    size_t max_msg[5];                               /* largest message per round */
} sim_net;

typedef struct {
    sim_net net;
    uint8_t t, n;
    uint16_t kappa;                                     /* tss_dkg_params.kappa (0: default) */
    tss_identity ids[TSS_MAX_PARTIES];                  /* all empty: sim_identities */
    const tss_identity *party_ids[TSS_MAX_PARTIES + 1]; /* per party: another list, or NULL */
    tss_keyshare *shares[TSS_MAX_PARTIES + 1];          /* [1..n] on success */
} sim_dkg;

/* Runs a DKG. TSS_OK when every party finished with a key share. A party whose receive
 * fails gets no further messages; the others run on. Returns the first error (details in
 * net). Free with sim_dkg_free. */
tss_err sim_dkg_run(sim_dkg *s);
void sim_dkg_free(sim_dkg *s);

/* A reshare among participants 1..m (tss/reshare.h numbering). `params` holds the public
 * input every participant shares (its role fields and session id are ignored: the run sets
 * them per participant, the session id from net); secrets[d-1] is dealer d's p(x).
 * party_params[i], when set, replaces participant i's parameters whole (role included),
 * to give one party a divergent view. */
typedef struct {
    sim_net net;
    tss_reshare_params params;
    const tss_scalar *secrets[TSS_MAX_PARTIES];
    const tss_reshare_params *party_params[TSS_MAX_PARTIES + 1];
    uint16_t m;                                /* participants (set by the run) */
    tss_keyshare *shares[TSS_MAX_PARTIES + 1]; /* new parties [1..n] on success */
    tss_status status[TSS_MAX_PARTIES + 1];    /* per participant at the end */
} sim_reshare;

/* The parameters of participant i (1..m) of s: params with i's role filled in. */
void sim_reshare_role(const sim_reshare *s, uint16_t i, tss_reshare_params *out);

/* Runs a reshare. TSS_OK when every participant finished and every new party holds a key
 * share; otherwise the first error (details in net). Free with sim_reshare_free. */
tss_err sim_reshare_run(sim_reshare *s);
void sim_reshare_free(sim_reshare *s);

/* An in-memory used-sid set: what the signer daemon keeps in SQLite. One per party. */
typedef struct {
    uint8_t sids[64][32];
    size_t count;
    int fail; /* make the next claim fail as a broken store would */
} sim_sid_store;

/* tss_sid_claim_fn over a sim_sid_store. */
int sim_sid_claim(void *store, const uint8_t sid[32]);

typedef struct {
    sim_net net;
    tss_keyshare *const *shares; /* [1..n], borrowed */
    sim_sid_store *stores;       /* [1..n] used-sid stores; NULL: a fresh one per run */
    uint16_t signers[TSS_MAX_PARTIES];
    size_t count;
    uint32_t path[TSS_BIP32_MAX_DEPTH];
    size_t path_len;
    uint8_t hash[32];
    int presign; /* start without the hash; finish every party once presigned */
    /* results */
    tss_signature sig[TSS_MAX_PARTIES + 1]; /* per signer */
    tss_point pk;                           /* the key the signature verifies under */
    tss_sign *state[TSS_MAX_PARTIES + 1];   /* kept when keep_states is set */
    int keep_states;
    tss_banlist *kept_bans[TSS_MAX_PARTIES + 1]; /* fresh lists the kept states use */
} sim_sign;

/* Runs one signature among s->signers. TSS_OK when every signer output a verified
 * signature (all equal). Free kept states with sim_sign_free. */
tss_err sim_sign_run(sim_sign *s);
void sim_sign_free(sim_sign *s);

#endif
