/* daemon/common/config.h — value parsers for the daemons' INI files (read with inih).
 * Each returns 0 or -1; the caller names the section and key in its message. */
#ifndef MPCD_CONFIG_H
#define MPCD_CONFIG_H

#include <stdint.h>

/* yes/no/true/false/on/off/1/0 */
int mpcd_parse_bool(const char *s, int *out);

/* Decimal unsigned integer in [lo, hi], nothing after it. */
int mpcd_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* Copies s into out (cap bytes); -1 if it does not fit. */
int mpcd_copy_string(char *out, size_t cap, const char *s);

#endif
