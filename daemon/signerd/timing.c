/* daemon/signerd/timing.c — see timing.h. */
#include <stdio.h>
#include <time.h>

#include "daemon/common/log.h"
#include "timing.h"

/* What the current job on this pool thread spent in the store and in unsealing. */
static __thread uint64_t tl_unseal, tl_commit, tl_lock;
static __thread unsigned tl_commits;

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t signer_timing_now(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

void signer_timing_begin(signer_timing *t)
{
    *t = (signer_timing){.start = signer_timing_now()};
}

void signer_timing_queued(signer_timing *t)
{
    t->queued = signer_timing_now();
}

void signer_timing_job_begin(signer_timing *t)
{
    t->job_wall0 = signer_timing_now();
    t->job_cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    if (t->queued)
        t->queue += t->job_wall0 - t->queued;
    tl_unseal = tl_commit = tl_lock = 0;
    tl_commits = 0;
}

void signer_timing_job_end(signer_timing *t)
{
    uint64_t wall = signer_timing_now() - t->job_wall0;
    t->wall += wall;
    t->cpu += clock_ns(CLOCK_THREAD_CPUTIME_ID) - t->job_cpu0;
    if (t->njobs < SIGNER_TIMING_JOBS)
        t->job[t->njobs] = wall;
    t->njobs++;
    t->unseal += tl_unseal;
    t->commit += tl_commit;
    t->lockwait += tl_lock;
    t->commits += tl_commits;
}

void signer_timing_unseal(uint64_t since)
{
    tl_unseal += signer_timing_now() - since;
}

void signer_timing_commit(uint64_t since)
{
    tl_commit += signer_timing_now() - since;
    tl_commits++;
}

void signer_timing_lock(uint64_t since)
{
    tl_lock += signer_timing_now() - since;
}

#define MS(ns) ((double)(ns) / 1e6)

void signer_timing_end(const signer_timing *t, const char *session_hex)
{
    char jobs[SIGNER_TIMING_JOBS * 10] = "";
    size_t n = 0;
    if (!t->start)
        return;
    for (unsigned i = 0; i < t->njobs && i < SIGNER_TIMING_JOBS; i++)
        n += (size_t)snprintf(jobs + n, sizeof jobs - n, "%s%.2f", i ? " " : "", MS(t->job[i]));
    uint64_t total = signer_timing_now() - t->start;
    uint64_t busy = t->queue + t->wall;
    log_debug("session %s timing: total %.2f ms, queue %.2f, jobs %u wall %.2f cpu %.2f [%s], "
              "unseal %.2f, commit %.2f (%u), lock %.2f, wait %.2f",
              session_hex, MS(total), MS(t->queue), t->njobs, MS(t->wall), MS(t->cpu), jobs,
              MS(t->unseal), MS(t->commit), t->commits, MS(t->lockwait),
              MS(total > busy ? total - busy : 0));
}
