/* tss/bip32.c — CKDpub: (IL, IR) = HMAC-SHA512(c, ser_P(K) || ser32(i)); K' = K + IL*G. */
#include "bip32.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "secmem.h"

tss_err tss_bip32_parse_path(const char *text, uint32_t path[TSS_BIP32_MAX_DEPTH], size_t *depth)
{
    const char *p = text;
    *depth = 0;
    if (text == NULL)
        return TSS_ERR_FORMAT;
    if (p[0] == '\0')
        return TSS_OK; /* the root */
    if (p[0] == 'm') {
        if (p[1] == '\0')
            return TSS_OK;
        if (p[1] != '/')
            return TSS_ERR_FORMAT;
        p += 2; /* a component must follow */
    }
    for (;;) {
        if (*p < '0' || *p > '9' || *depth == TSS_BIP32_MAX_DEPTH)
            return TSS_ERR_FORMAT;
        uint64_t v = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (uint64_t)(*p++ - '0');
            if (v > 0xFFFFFFFFu)
                return TSS_ERR_FORMAT;
        }
        if (*p == '\'' || *p == 'h' || *p == 'H' || v >= TSS_BIP32_HARDENED)
            return TSS_ERR_DERIVATION;
        path[(*depth)++] = (uint32_t)v;
        if (*p == '\0')
            return TSS_OK;
        if (*p++ != '/')
            return TSS_ERR_FORMAT;
    }
}

tss_err tss_bip32_derive(const tss_point *pk, const uint8_t chain[32], const uint32_t *path,
                         size_t depth, tss_scalar *offset, tss_point *child_pk,
                         uint8_t child_chain[32])
{
    tss_point K = *pk;
    uint8_t c[32], data[37], I[64];
    unsigned int ilen = 0;
    tss_scalar_set_u64(offset, 0);
    memcpy(c, chain, 32);
    for (size_t k = 0; k < depth; k++) {
        if (path[k] >= TSS_BIP32_HARDENED)
            return TSS_ERR_DERIVATION;
        tss_point_serialize(data, &K);
        data[33] = (uint8_t)(path[k] >> 24);
        data[34] = (uint8_t)(path[k] >> 16);
        data[35] = (uint8_t)(path[k] >> 8);
        data[36] = (uint8_t)path[k];
        if (HMAC(EVP_sha512(), c, 32, data, sizeof data, I, &ilen) == NULL || ilen != 64)
            return TSS_ERR_DERIVATION;
        tss_scalar il;
        tss_point ilG;
        if (tss_scalar_parse(&il, I) != TSS_OK || tss_point_base_mul(&ilG, &il) != TSS_OK ||
            tss_point_add(&K, &K, &ilG) != TSS_OK)
            return TSS_ERR_DERIVATION;
        tss_scalar_add(offset, offset, &il);
        memcpy(c, I + 32, 32);
    }
    *child_pk = K;
    memcpy(child_chain, c, 32);
    tss_memzero(I, sizeof I);
    return TSS_OK;
}
