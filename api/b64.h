/* api/b64.h — strict base64 (RFC 4648 section 4, standard alphabet, '=' padding) for
 * large opaque API values: a delegate signer's sealed share (tens to hundreds of KB, where
 * hex would double the bytes against the hub's body limit). Strict: no whitespace, no
 * line breaks, no missing or extra padding, and the unused bits of the last character must
 * be zero, so every byte string has exactly one encoding (OpenSSL's EVP_DecodeBlock
 * accepts whitespace and ignores padding errors, which is why this exists). */
#ifndef API_B64_H
#define API_B64_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Characters api_b64_encode writes for len bytes, without the NUL. */
static inline size_t api_b64_len(size_t len)
{
    return (len + 2) / 3 * 4;
}

/* Writes the encoding of in[0..len) and a NUL to out (size >= api_b64_len(len) + 1). */
void api_b64_encode(char *out, const uint8_t *in, size_t len);

/* 1 if s[0..slen) is a non-empty strict encoding, else 0; *decoded_len is the byte count
 * it decodes to (set only on 1). */
int api_b64_valid(const char *s, size_t slen, size_t *decoded_len);

/* Decodes s[0..slen) into out (cap >= the decoded length). API_ERR_BAD_FIELD if s is not a
 * non-empty strict encoding, API_ERR_BAD_LENGTH if cap is too small; out is untouched on
 * failure. *out_len = bytes written. */
api_err api_b64_decode(uint8_t *out, size_t cap, size_t *out_len, const char *s, size_t slen);

#endif
