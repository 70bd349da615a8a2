/* tests/common/vec.h — hex helpers shared by the typed-signing decoder tests. */
#ifndef TESTS_COMMON_VEC_H
#define TESTS_COMMON_VEC_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Decodes hex (optional 0x) into a new buffer; *len gets its size. Aborts on bad hex: the
 * vectors are fixed strings in the tests. */
static inline uint8_t *vec_unhex(const char *hex, size_t *len)
{
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
        hex += 2;
    size_t n = strlen(hex);
    if (n % 2)
        abort();
    uint8_t *b = malloc(n / 2 + 1);
    if (!b)
        abort();
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        char two[3] = {hex[2 * i], hex[2 * i + 1], 0};
        char *end;
        v = (unsigned)strtoul(two, &end, 16);
        if (*end)
            abort();
        b[i] = (uint8_t)v;
    }
    *len = n / 2;
    return b;
}

/* Fixed-size variant: hex must decode to exactly n bytes. */
static inline void vec_unhex_n(uint8_t *out, size_t n, const char *hex)
{
    size_t len;
    uint8_t *b = vec_unhex(hex, &len);
    if (len != n)
        abort();
    memcpy(out, b, n);
    free(b);
}

/* Lower-case hex of in[0..len) into a new NUL-terminated string. */
static inline char *vec_hex(const uint8_t *in, size_t len)
{
    char *s = malloc(2 * len + 1);
    if (!s)
        abort();
    for (size_t i = 0; i < len; i++) {
        static const char d[] = "0123456789abcdef";
        s[2 * i] = d[in[i] >> 4];
        s[2 * i + 1] = d[in[i] & 15];
    }
    s[2 * len] = 0;
    return s;
}

#endif
