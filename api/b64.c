/* api/b64.c — strict base64, see b64.h. Table-driven, no allocation. Used for sealed
 * blobs, which are not secret, so the lookups need not be constant time. */
#include <string.h>

#include "b64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void api_b64_encode(char *out, const uint8_t *in, size_t len)
{
    size_t i = 0, o = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = 0;
}

static int value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int api_b64_valid(const char *s, size_t slen, size_t *decoded_len)
{
    if (!s || slen == 0 || slen % 4)
        return 0;
    size_t pad = s[slen - 1] == '=' ? (s[slen - 2] == '=' ? 2 : 1) : 0;
    for (size_t i = 0; i < slen - pad; i++)
        if (value(s[i]) < 0)
            return 0;
    /* The bits below the last full byte must be zero: one encoding per byte string. */
    int last = value(s[slen - pad - 1]);
    if ((pad == 1 && (last & 3)) || (pad == 2 && (last & 15)))
        return 0;
    if (decoded_len)
        *decoded_len = slen / 4 * 3 - pad;
    return 1;
}

api_err api_b64_decode(uint8_t *out, size_t cap, size_t *out_len, const char *s, size_t slen)
{
    size_t n;
    if (!api_b64_valid(s, slen, &n))
        return API_ERR_BAD_FIELD;
    if (n > cap)
        return API_ERR_BAD_LENGTH;
    size_t o = 0;
    for (size_t i = 0; i < slen; i += 4) {
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++)
            v = v << 6 | (uint32_t)(s[i + k] == '=' ? 0 : value(s[i + k]));
        uint8_t b[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
        size_t take = n - o < 3 ? n - o : 3;
        memcpy(out + o, b, take);
        o += take;
    }
    *out_len = n;
    return API_OK;
}
