/* daemon/common/log.h — logging to stderr with syslog levels. Lines carry the sd-daemon
 * priority prefix ("<3>") so journald files them at the right level; nothing else is
 * needed under systemd. Never log secrets: API keys, shares, PINs. */
#ifndef MPCD_LOG_H
#define MPCD_LOG_H

#include <syslog.h>

/* Sets the process's name in log lines and the most verbose level printed. */
void mpcd_log_init(const char *ident, int max_level);

/* Parses "error", "warning", "notice", "info", "debug" into a LOG_* level; -1 if unknown. */
int mpcd_log_level_parse(const char *s);

void mpcd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)    mpcd_log(LOG_ERR, __VA_ARGS__)
#define log_warn(...)   mpcd_log(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) mpcd_log(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)   mpcd_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...)  mpcd_log(LOG_DEBUG, __VA_ARGS__)

#endif
