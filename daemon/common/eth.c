/* daemon/common/eth.c — see eth.h. Public data only: nothing here is secret. */
#include <secp256k1.h>

#include "api/hex.h"
#include "eth.h"
#include "tss/keccak.h"
#include "tss/point.h"

int mpcd_eth_address(char out[43], const uint8_t pk[33])
{
    secp256k1_pubkey p;
    uint8_t u[65], h[32], ch[32];
    size_t len = sizeof u;
    char lower[41];
    const secp256k1_context *ctx = tss_secp_ctx();
    if (!secp256k1_ec_pubkey_parse(ctx, &p, pk, 33) ||
        !secp256k1_ec_pubkey_serialize(ctx, u, &len, &p, SECP256K1_EC_UNCOMPRESSED))
        return -1;
    tss_keccak256(h, u + 1, 64);
    api_hex_encode(lower, h + 12, 20);
    /* EIP-55: a letter is upper case where the Keccak of the lower-case hex has a nibble
     * >= 8 at the same position. */
    tss_keccak256(ch, (const uint8_t *)lower, 40);
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 40; i++) {
        int nib = (ch[i / 2] >> (i % 2 ? 0 : 4)) & 15;
        char c = lower[i];
        out[2 + i] = (c >= 'a' && nib >= 8) ? (char)(c - 32) : c;
    }
    out[42] = 0;
    return 0;
}
