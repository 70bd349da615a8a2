/* daemon/signerd/timing.h — where a session's time goes on this node, logged at debug level
 * when the session ends (one line, "session HEX timing ..."; no secret, only durations):
 *   total   session-start arrived → session finished on this node (wall)
 *   queue   jobs waiting for a libuv pool thread
 *   jobs    the session's jobs on pool threads: wall, thread CPU, and each job's wall time
 *           in order (job 1: checks, unseal, round 0; then one per batch of frames: the
 *           protocol rounds, the last one with the result)
 *   unseal  hsm_unseal of the share (0 with share_cache = memory after first use)
 *   commit  SQLite COMMITs (synchronous=FULL: the fsyncs), with their count
 *   lock    waiting for the store's mutex (other sessions' writes)
 *   wait    total - queue - jobs: waiting for the peers' messages through the hub
 * Jobs' wall minus CPU is time blocked inside a job (TPM / PKCS#11, fsync, locks).
 * The hooks are plain calls from session.c and store.c; the store and unseal figures are
 * thread-local and collected at the end of each job, which runs on one pool thread. */
#ifndef SIGNER_TIMING_H
#define SIGNER_TIMING_H

#include <stdint.h>

#define SIGNER_TIMING_JOBS 8

typedef struct signer_timing {
    uint64_t start, queued;           /* ns, monotonic */
    uint64_t queue, wall, cpu;        /* totals over jobs */
    uint64_t job[SIGNER_TIMING_JOBS]; /* wall of the first jobs */
    unsigned njobs;
    uint64_t unseal, commit, lockwait;
    unsigned commits;
    uint64_t job_wall0, job_cpu0; /* the running job */
} signer_timing;

uint64_t signer_timing_now(void); /* CLOCK_MONOTONIC, ns */

/* session.c (loop thread): the session starts / a job is queued / the session ends. */
void signer_timing_begin(signer_timing *t);
void signer_timing_queued(signer_timing *t);
void signer_timing_end(const signer_timing *t, const char *session_hex);
/* session.c (pool thread): around each job. */
void signer_timing_job_begin(signer_timing *t);
void signer_timing_job_end(signer_timing *t);
/* Inside a job: add the time since `since` (signer_timing_now()) to this thread's count. */
void signer_timing_unseal(uint64_t since);
void signer_timing_commit(uint64_t since); /* store.c: one COMMIT */
void signer_timing_lock(uint64_t since);   /* store.c: waiting for the store's mutex */

#endif
