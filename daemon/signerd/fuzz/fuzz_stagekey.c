/* daemon/signerd/fuzz/fuzz_stagekey.c — libFuzzer target for the private key text an
 * operator stages for an import (stage.h signer_stage_parse_key: hex with or without 0x,
 * BIP32 xprv/tprv base58check). Properties: no crash, no out-of-bounds read (ASan), no
 * undefined behaviour (UBSan); an accepted key is a valid non-zero scalar and its hex form
 * parses back to the same key; a refusal always says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/hex.h"
#include "stage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tss_scalar k, k2;
    uint8_t cc[32], cc2[32], raw[32];
    char why[256] = {0}, hex[65];
    int has_cc = 0, has_cc2 = 0;
    if (signer_stage_parse_key(data, size, &k, cc, &has_cc, why, sizeof why) != SIGNER_STAGE_OK) {
        if (!why[0])
            abort();
        return 0;
    }
    if (tss_scalar_is_zero(&k))
        abort();
    tss_scalar_serialize(raw, &k);
    api_hex_encode(hex, raw, 32);
    if (signer_stage_parse_key((const uint8_t *)hex, 64, &k2, cc2, &has_cc2, why, sizeof why) !=
            SIGNER_STAGE_OK ||
        has_cc2 || !tss_scalar_eq(&k, &k2))
        abort();
    return 0;
}
