/* daemon/common/log.c — one line per message on stderr, with a journald priority. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static const char *log_ident = "mpc";
static int log_max = LOG_INFO;

void mpcd_log_init(const char *ident, int max_level)
{
    log_ident = ident;
    log_max = max_level;
}

int mpcd_log_level_parse(const char *s)
{
    static const struct {
        const char *name;
        int level;
    } t[] = {{"error", LOG_ERR},
             {"warning", LOG_WARNING},
             {"notice", LOG_NOTICE},
             {"info", LOG_INFO},
             {"debug", LOG_DEBUG}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(s, t[i].name) == 0)
            return t[i].level;
    return -1;
}

void mpcd_log(int level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (level > log_max)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* Control characters from peers (party ids, reasons) must not forge log lines. */
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = '?';
    fprintf(stderr, "<%d>%s: %s\n", level, log_ident, line);
}
