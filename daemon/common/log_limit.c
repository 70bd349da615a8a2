/* daemon/common/log_limit.c — per-call-site rate limit in front of mpcd_log. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "log_limit.h"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void mpcd_log_limited(mpcd_log_limit *l, unsigned burst, int level, const char *fmt, ...)
{
    char line[1024];
    uint64_t now = now_ms();
    if (now - l->window_ms >= 1000) {
        if (l->suppressed)
            mpcd_log(level, "(%u similar lines suppressed in the last second)", l->suppressed);
        l->window_ms = now;
        l->printed = l->suppressed = 0;
    }
    if (l->printed >= burst) {
        l->suppressed++;
        return;
    }
    l->printed++;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    mpcd_log(level, "%s", line);
}
