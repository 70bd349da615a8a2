/* daemon/hubd/crypto.c — the hub's public-key checks: ECDSA verification (libsecp256k1,
 * low-s enforced, recovery id checked), BIP32 public child derivation so a signature on a
 * derived key can be verified, and the presentation forms of a key (uncompressed SEC1,
 * EIP-55 Ethereum address). Public data only. */
#include <string.h>

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "api/hex.h"
#include "hub.h"
#include "tss/bip32.h"
#include "tss/keccak.h"
#include "tss/point.h"

int hub_crypto_pubkey_ok(const uint8_t pk[33])
{
    secp256k1_pubkey p;
    return (pk[0] == 2 || pk[0] == 3) && secp256k1_ec_pubkey_parse(tss_secp_ctx(), &p, pk, 33) == 1;
}

/* The child public key along a non-hardened BIP32 path (tss/bip32.h does the work; the
 * hub needs only the key, to verify signatures made under it). -1 for a hardened index,
 * an invalid parent key, or a path that derives no valid key. */
int hub_crypto_derive(uint8_t out[33], const uint8_t pk[33], const uint8_t cc[32],
                      const uint32_t *path, size_t depth)
{
    tss_point parent, child;
    tss_scalar offset;
    uint8_t child_cc[32];
    if (tss_point_parse(&parent, pk) != TSS_OK ||
        tss_bip32_derive(&parent, cc, path, depth, &offset, &child, child_cc) != TSS_OK)
        return -1;
    tss_point_serialize(out, &child);
    return 0;
}

int hub_crypto_verify(const uint8_t pk[33], const uint8_t hash[32], const api_sign_result *sig,
                      uint8_t der[72], size_t *der_len)
{
    const secp256k1_context *ctx = tss_secp_ctx();
    secp256k1_pubkey key, rec;
    secp256k1_ecdsa_signature s;
    secp256k1_ecdsa_recoverable_signature rs;
    uint8_t compact[64], a[33], b[33];
    size_t la = 33, lb = 33;
    memcpy(compact, sig->r, 32);
    memcpy(compact + 32, sig->s, 32);
    if (secp256k1_ec_pubkey_parse(ctx, &key, pk, 33) != 1 ||
        secp256k1_ecdsa_signature_parse_compact(ctx, &s, compact) != 1)
        return -1;
    /* verify() rejects high-s: the hub only releases the canonical (low-s) form. */
    if (secp256k1_ecdsa_verify(ctx, &s, hash, &key) != 1)
        return -1;
    if (secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rs, compact, sig->recovery_id) !=
            1 ||
        secp256k1_ecdsa_recover(ctx, &rec, &rs, hash) != 1)
        return -1;
    if (secp256k1_ec_pubkey_serialize(ctx, a, &la, &key, SECP256K1_EC_COMPRESSED) != 1 ||
        secp256k1_ec_pubkey_serialize(ctx, b, &lb, &rec, SECP256K1_EC_COMPRESSED) != 1 ||
        memcmp(a, b, 33) != 0)
        return -1; /* wrong recovery id: Ethereum would recover another address */
    *der_len = 72;
    return secp256k1_ecdsa_signature_serialize_der(ctx, der, der_len, &s) == 1 ? 0 : -1;
}

static int uncompressed_bytes(uint8_t out[65], const uint8_t pk[33])
{
    secp256k1_pubkey p;
    size_t len = 65;
    if (secp256k1_ec_pubkey_parse(tss_secp_ctx(), &p, pk, 33) != 1 ||
        secp256k1_ec_pubkey_serialize(tss_secp_ctx(), out, &len, &p, SECP256K1_EC_UNCOMPRESSED) !=
            1)
        return -1;
    return 0;
}

void hub_crypto_uncompressed(char out[131], const uint8_t pk[33])
{
    uint8_t u[65];
    if (uncompressed_bytes(u, pk) != 0) {
        out[0] = 0;
        return;
    }
    api_hex_encode(out, u, 65);
}

/* Address = last 20 bytes of Keccak-256(X || Y), written with the EIP-55 mixed-case
 * checksum (a hex letter is upper case when the matching nibble of
 * Keccak-256(lowercase hex address) is >= 8). */
void hub_crypto_eth_address(char out[43], const uint8_t pk[33])
{
    uint8_t u[65], h[32], ch[32];
    char lower[41];
    if (uncompressed_bytes(u, pk) != 0) {
        out[0] = 0;
        return;
    }
    tss_keccak256(h, u + 1, 64);
    api_hex_encode(lower, h + 12, 20);
    tss_keccak256(ch, (const uint8_t *)lower, 40);
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 40; i++) {
        int nib = (ch[i / 2] >> (i % 2 ? 0 : 4)) & 15;
        char c = lower[i];
        out[2 + i] = (c >= 'a' && nib >= 8) ? (char)(c - 32) : c;
    }
    out[42] = 0;
}
