/* api/hex.h — strict hexadecimal for API values (hashes, keys, signatures, ids). */
#ifndef API_HEX_H
#define API_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Decodes exactly out_len bytes from s[0..slen): slen must be 2*out_len (else
 * API_ERR_BAD_LENGTH) and every character 0-9a-fA-F (else API_ERR_BAD_HEX). No prefix,
 * no whitespace. out is untouched on failure. */
api_err api_hex_decode(uint8_t *out, size_t out_len, const char *s, size_t slen);

/* Writes 2*len lowercase hex characters and a NUL to out (size >= 2*len + 1). */
void api_hex_encode(char *out, const uint8_t *in, size_t len);

#endif
