/* daemon/common/log_limit.h — rate-limited logging for lines a peer can trigger at will
 * (refused connections, accept errors, lws diagnostics): at most `burst` lines per
 * one-second window from one call site, then one line saying how many were dropped. */
#ifndef MPCD_LOG_LIMIT_H
#define MPCD_LOG_LIMIT_H

#include <stdint.h>

/* One per call site (static storage, zero-initialised). */
typedef struct {
    uint64_t window_ms; /* start of the current one-second window */
    unsigned printed, suppressed;
} mpcd_log_limit;

/* Logs like mpcd_log unless this site already printed `burst` lines in the current
 * second; the count of dropped lines is logged when the next window opens. */
void mpcd_log_limited(mpcd_log_limit *l, unsigned burst, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
