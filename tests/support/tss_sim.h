/* tests/support/tss_sim.h — runs n protocol parties in one process, routing their
 * messages through a queue, with a hook that may tamper with, drop or reorder messages.
 * Used by the tss tests and benchmarks; not part of any daemon. */
#ifndef TSS_SIM_H
#define TSS_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "tss/dkg.h"
#include "tss/rand.h"

/* Called for every message before delivery. May modify *data / *len (realloc allowed,
 * the buffer is malloc'ed) — return 0 to deliver, 1 to drop. */
typedef int (*sim_tamper_fn)(void *ctx, uint8_t **data, size_t *len, uint16_t from, uint16_t to,
                             uint8_t round);

typedef struct {
    uint8_t t, n;
    const tss_rng *rng[TSS_MAX_PARTIES + 1]; /* per party; NULL = system generator */
    sim_tamper_fn tamper;
    void *tamper_ctx;
    int shuffle; /* deliver in a pseudo-random order (seeded by shuffle_seed) */
    uint64_t shuffle_seed;
    uint8_t session_id[32];
    /* results */
    tss_keyshare *shares[TSS_MAX_PARTIES + 1]; /* [1..n] on success */
    uint16_t failed_party; /* the party whose receive returned an error, 0 if none */
    tss_err failed_err;    /* that error */
    tss_abort_info abort;  /* its abort info when it aborted */
    int rejected;          /* 1 when the error was a rejection (state unchanged) */
    tss_err party_err[TSS_MAX_PARTIES + 1];          /* per party: first error, or OK */
    tss_abort_info party_abort[TSS_MAX_PARTIES + 1]; /* per party, when it aborted */
    size_t bytes[5];                                 /* total bytes per round */
    size_t msg_bytes[5];                             /* size of one message per round */
} sim_dkg;

/* Runs a DKG. Returns TSS_OK when every party finished with a key share. A party whose
 * receive fails gets no further messages; the others run on. Returns the first error
 * (details in s, per party in party_err / party_abort). Free with sim_dkg_free. */
tss_err sim_dkg_run(sim_dkg *s);
void sim_dkg_free(sim_dkg *s);

#endif
