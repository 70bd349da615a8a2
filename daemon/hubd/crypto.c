/* daemon/hubd/crypto.c — the hub's public-key checks: ECDSA verification (libsecp256k1,
 * low-s enforced, recovery id checked), BIP32 public child derivation so a signature on a
 * derived key can be verified, and the presentation forms of a key (uncompressed SEC1,
 * EIP-55 Ethereum address). Public data only. */
#include <stdlib.h>
#include <string.h>

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "api/hex.h"
#include "daemon/common/eth.h"
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

/* The EIP-55 address (daemon/common/eth.h); "" for an invalid key. */
void hub_crypto_eth_address(char out[43], const uint8_t pk[33])
{
    if (mpcd_eth_address(out, pk) != 0)
        out[0] = 0;
}

/* x-coordinate prefix (8 bytes, big endian) of k*G for k = 1 .. 2^HUB_SMALL_K_BITS - 1,
 * sorted; built once. -k*G has the same x, so one table covers both signs. */
static uint64_t *small_x;
static size_t small_n;

static uint64_t x_prefix(const uint8_t pk[33])
{
    uint64_t v = 0;
    for (int i = 1; i <= 8; i++)
        v = v << 8 | pk[i];
    return v;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int small_table_build(void)
{
    const secp256k1_context *ctx = tss_secp_ctx();
    size_t n = ((size_t)1 << HUB_SMALL_K_BITS) - 1;
    uint8_t one[32] = {[31] = 1}, ser[33];
    secp256k1_pubkey g, q, t;
    uint64_t *x = malloc(n * sizeof *x);
    if (!x || secp256k1_ec_pubkey_create(ctx, &g, one) != 1) {
        free(x);
        return -1;
    }
    q = g;
    for (size_t k = 1; k <= n; k++) {
        size_t len = 33;
        if (k > 1) {
            const secp256k1_pubkey *in[2] = {&q, &g};
            if (secp256k1_ec_pubkey_combine(ctx, &t, in, 2) != 1) {
                free(x);
                return -1;
            }
            q = t;
        }
        if (secp256k1_ec_pubkey_serialize(ctx, ser, &len, &q, SECP256K1_EC_COMPRESSED) != 1) {
            free(x);
            return -1;
        }
        x[k - 1] = x_prefix(ser);
    }
    qsort(x, n, sizeof *x, cmp_u64);
    small_x = x;
    small_n = n;
    return 0;
}

unsigned hub_crypto_small_multiple(const uint8_t pk[33])
{
    if (!small_x && small_table_build() != 0)
        return 0;
    uint64_t want = x_prefix(pk);
    if (!bsearch(&want, small_x, small_n, sizeof want, cmp_u64))
        return 0;
    /* A prefix hit: find k exactly (rare: only for keys that really are small). */
    const secp256k1_context *ctx = tss_secp_ctx();
    for (unsigned k = 1; k <= small_n; k++) {
        uint8_t sk[32] = {0}, ser[33];
        size_t len = 33;
        secp256k1_pubkey q;
        sk[30] = (uint8_t)(k >> 8);
        sk[31] = (uint8_t)k;
        if (secp256k1_ec_pubkey_create(ctx, &q, sk) == 1 &&
            secp256k1_ec_pubkey_serialize(ctx, ser, &len, &q, SECP256K1_EC_COMPRESSED) == 1 &&
            memcmp(ser + 1, pk + 1, 32) == 0)
            return k;
    }
    return 0;
}

/* Decodes one UTF-8 sequence (input already validated by jansson). */
static unsigned utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    unsigned c = s[0];
    int n = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
    if (n)
        c &= 0x3f >> n;
    for (int i = 1; i <= n && s[i]; i++)
        c = c << 6 | (s[i] & 0x3f);
    *p = s + 1 + n;
    return c;
}

int hub_label_ok(const char *label)
{
    const unsigned char *p = (const unsigned char *)label;
    while (*p) {
        unsigned c = utf8_next(&p);
        if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || /* C0, DEL, C1 */
            c == 0x061c || c == 0x180e ||           /* Arabic letter mark, Mongolian vs */
            (c >= 0x200b && c <= 0x200f) ||         /* zero-width, LRM, RLM */
            (c >= 0x2028 && c <= 0x202e) ||         /* separators, bidi embeddings */
            (c >= 0x2060 && c <= 0x206f) ||         /* word joiner, bidi isolates */
            c == 0xfeff)                            /* zero-width no-break space */
            return 0;
    }
    return 1;
}
