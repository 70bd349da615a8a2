/* daemon/common/fuzz/fuzz_eip712.c — libFuzzer target for the EIP-712 decoder, fed JSON
 * text. Properties checked on every input (abort on violation): no crash or out-of-bounds
 * access (ASan/UBSan); the detail string is always NUL-terminated within its buffer; an
 * accepted document gives the same result twice (text and jansson tree) and its digest is
 * keccak256(0x19 0x01 || domainSeparator [|| hashStruct(message)]). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/common/eip712.h"
#include "tss/keccak.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mpcd_eip712 r, r2;
    char detail[MPCD_EIP712_DETAIL_MAX + 1];
    detail[MPCD_EIP712_DETAIL_MAX] = 'x';
    mpcd_eth_err e =
        mpcd_eip712_hash_text(&r, (const char *)data, size, detail, MPCD_EIP712_DETAIL_MAX);
    if (detail[MPCD_EIP712_DETAIL_MAX] != 'x' || !memchr(detail, 0, MPCD_EIP712_DETAIL_MAX))
        abort();
    if (e != MPCD_ETH_OK)
        return 0;
    uint8_t pre[66] = {0x19, 0x01}, d[32];
    memcpy(pre + 2, r.domain_separator, 32);
    memcpy(pre + 34, r.message_hash, 32);
    tss_keccak256(d, pre, r.has_message ? 66 : 34);
    if (memcmp(d, r.digest, 32))
        abort();
    json_error_t jerr;
    json_t *td =
        json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!td || mpcd_eip712_hash(&r2, td, NULL, 0) != MPCD_ETH_OK || memcmp(&r, &r2, sizeof r) != 0)
        abort();
    json_decref(td);
    return 0;
}
