/* daemon/common/eip191.c — personal_sign hashes (EIP-191 version 0x45). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eip191.h"
#include "tss/keccak.h"

mpcd_eth_err mpcd_eip191_hash(uint8_t out[32], const uint8_t *msg, size_t len)
{
    static const char prefix[] = "\x19"
                                 "Ethereum Signed Message:\n";
    char dec[24];
    if (!out || (!msg && len))
        return MPCD_ETH_ERR_ARG;
    if (len > MPCD_EIP191_MAX_LEN)
        return MPCD_ETH_ERR_TOO_LARGE;
    int dl = snprintf(dec, sizeof dec, "%zu", len);
    size_t pl = sizeof prefix - 1, total = pl + (size_t)dl + len;
    uint8_t *buf = malloc(total);
    if (!buf)
        return MPCD_ETH_ERR_NOMEM;
    memcpy(buf, prefix, pl);
    memcpy(buf + pl, dec, (size_t)dl);
    if (len)
        memcpy(buf + pl + (size_t)dl, msg, len);
    tss_keccak256(out, buf, total);
    free(buf);
    return MPCD_ETH_OK;
}
