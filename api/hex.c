/* api/hex.c — strict hex codec. */
#include "hex.h"

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

api_err api_hex_decode(uint8_t *out, size_t out_len, const char *s, size_t slen)
{
    if (!s || slen != 2 * out_len)
        return API_ERR_BAD_LENGTH;
    for (size_t i = 0; i < slen; i++)
        if (nibble(s[i]) < 0)
            return API_ERR_BAD_HEX;
    for (size_t i = 0; i < out_len; i++)
        out[i] = (uint8_t)(nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]));
    return API_OK;
}

void api_hex_encode(char *out, const uint8_t *in, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = 0;
}
