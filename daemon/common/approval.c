/* daemon/common/approval.c — see approval.h. The canonical message, and the three signature
 * algorithms an approver may use: P-256 and Ed25519 through OpenSSL, secp256k1 through
 * libsecp256k1 (DESIGN.md: never OpenSSL's EC code for secp256k1 verification). */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>
#include <secp256k1.h>

#include "api/hex.h"
#include "approval.h"
#include "tss/point.h"

static const char *const messages[MPCD_APPROVAL_ERR__COUNT] = {
    [MPCD_APPROVAL_OK] = "success",
    [MPCD_APPROVAL_ERR_ARG] = "invalid argument",
    [MPCD_APPROVAL_ERR_ALG] =
        "unknown or mismatched algorithm (use ecdsa-p256, ecdsa-secp256k1, ed25519)",
    [MPCD_APPROVAL_ERR_KEY] = "the public key does not decode or is not on the curve",
    [MPCD_APPROVAL_ERR_SIGNATURE] = "bad signature",
    [MPCD_APPROVAL_ERR_HIGH_S] = "secp256k1 signature with high s (malleable form) refused",
    [MPCD_APPROVAL_ERR_CRYPTO] = "the crypto library failed (out of memory?)",
};

const char *mpcd_approval_strerror(mpcd_approval_err err)
{
    if ((unsigned)err >= MPCD_APPROVAL_ERR__COUNT)
        return "unknown approval error";
    return messages[err];
}

static const char *const alg_names[] = {NULL, "ecdsa-p256", "ecdsa-secp256k1", "ed25519"};

mpcd_approval_alg mpcd_approval_alg_parse(const char *name)
{
    for (int a = MPCD_ALG_ECDSA_P256; name && a <= MPCD_ALG_ED25519; a++)
        if (strcmp(name, alg_names[a]) == 0)
            return (mpcd_approval_alg)a;
    return MPCD_ALG_NONE;
}

const char *mpcd_approval_alg_name(mpcd_approval_alg alg)
{
    return (unsigned)alg <= MPCD_ALG_ED25519 ? alg_names[alg] : NULL;
}

/* ---- the canonical message ---- */

static size_t put_field(uint8_t *out, size_t at, const void *p, size_t len)
{
    out[at] = (uint8_t)(len >> 24);
    out[at + 1] = (uint8_t)(len >> 16);
    out[at + 2] = (uint8_t)(len >> 8);
    out[at + 3] = (uint8_t)len;
    memcpy(out + at + 4, p, len);
    return at + 4 + len;
}

static int request_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-') ||
            n >= 64)
            return 0;
    }
    return n > 0;
}

size_t mpcd_approval_message(uint8_t out[MPCD_APPROVAL_MSG_MAX], const uint8_t key_id[16],
                             const char *kind, const uint8_t digest[32], const char *path,
                             const char *request_id, uint64_t expires)
{
    static const char tag[] = "mpc-signer/approval/v1";
    uint8_t exp[8];
    if (!out || !key_id || !kind || !digest || !path || !request_id || !kind[0] ||
        strlen(kind) >= MPCD_APPROVAL_KIND_MAX || path[0] != 'm' || strlen(path) > 96 ||
        !request_id_ok(request_id))
        return 0;
    for (int i = 0; i < 8; i++)
        exp[i] = (uint8_t)(expires >> (56 - 8 * i));
    size_t at = sizeof tag - 1;
    memcpy(out, tag, at);
    at = put_field(out, at, key_id, 16);
    at = put_field(out, at, kind, strlen(kind));
    at = put_field(out, at, digest, 32);
    at = put_field(out, at, path, strlen(path));
    at = put_field(out, at, request_id, strlen(request_id));
    return put_field(out, at, exp, 8); /* at most 22 + 6*4 + 16 + 15 + 32 + 96 + 64 + 8 */
}

/* ---- keys ---- */

/* An OpenSSL public key for an EC point (P-256) or a raw Ed25519 key. NULL if invalid. */
static EVP_PKEY *openssl_pub(const mpcd_approver_key *k)
{
    if (k->alg == MPCD_ALG_ED25519)
        return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->pub, k->pub_len);
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (b && ctx &&
        OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
        OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, k->pub, k->pub_len) &&
        (params = OSSL_PARAM_BLD_to_param(b)) && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* Ed25519 public keys of small order (and their non-canonical encodings), as libsodium
 * blocks them; compared without the sign bit. OpenSSL's verification accepts such a key, and
 * for it a signature that verifies on every message is easy to make: an approver's key must
 * never be one of these (a policy that named one would accept forged approvals). */
static const uint8_t ed25519_small_order[7][32] = {
    {0},
    {1},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

static int ed25519_weak(const uint8_t pub[32])
{
    for (size_t i = 0; i < 7; i++)
        if (memcmp(pub, ed25519_small_order[i], 31) == 0 &&
            (pub[31] & 0x7f) == ed25519_small_order[i][31])
            return 1;
    return 0;
}

mpcd_approval_err mpcd_approver_key_from_hex(mpcd_approver_key *k, mpcd_approval_alg alg,
                                             const char *hex)
{
    if (!k || !hex)
        return MPCD_APPROVAL_ERR_ARG;
    memset(k, 0, sizeof *k);
    size_t n = strlen(hex) / 2;
    if (alg == MPCD_ALG_NONE || !mpcd_approval_alg_name(alg))
        return MPCD_APPROVAL_ERR_ALG;
    if (strlen(hex) % 2 || n > sizeof k->pub || api_hex_decode(k->pub, n, hex, 2 * n) != API_OK)
        return MPCD_APPROVAL_ERR_KEY;
    k->alg = alg;
    k->pub_len = n;
    int ok;
    if (alg == MPCD_ALG_ED25519) {
        EVP_PKEY *p = n == 32 && !ed25519_weak(k->pub) ? openssl_pub(k) : NULL;
        ok = p != NULL;
        EVP_PKEY_free(p);
    } else if (alg == MPCD_ALG_ECDSA_SECP256K1) {
        secp256k1_pubkey p;
        ok = (n == 33 || n == 65) && secp256k1_ec_pubkey_parse(tss_secp_ctx(), &p, k->pub, n);
    } else {
        EVP_PKEY *p = (n == 33 || n == 65) ? openssl_pub(k) : NULL;
        ok = p != NULL;
        EVP_PKEY_free(p);
    }
    if (!ok) {
        memset(k, 0, sizeof *k);
        return MPCD_APPROVAL_ERR_KEY;
    }
    return MPCD_APPROVAL_OK;
}

/* ---- verify ---- */

static mpcd_approval_err verify_secp256k1(const mpcd_approver_key *k, const uint8_t *msg,
                                          size_t len, const uint8_t sig[64])
{
    const secp256k1_context *ctx = tss_secp_ctx();
    secp256k1_pubkey pub;
    secp256k1_ecdsa_signature s, norm;
    uint8_t h[32];
    if (!secp256k1_ec_pubkey_parse(ctx, &pub, k->pub, k->pub_len))
        return MPCD_APPROVAL_ERR_KEY;
    if (!secp256k1_ecdsa_signature_parse_compact(ctx, &s, sig))
        return MPCD_APPROVAL_ERR_SIGNATURE;
    if (secp256k1_ecdsa_signature_normalize(ctx, &norm, &s))
        return MPCD_APPROVAL_ERR_HIGH_S;
    SHA256(msg, len, h);
    return secp256k1_ecdsa_verify(ctx, &s, h, &pub) == 1 ? MPCD_APPROVAL_OK
                                                         : MPCD_APPROVAL_ERR_SIGNATURE;
}

/* r || s (64 bytes) as DER ECDSA-Sig-Value. Returns the length, 0 on failure. */
static size_t raw_to_der(const uint8_t sig[64], uint8_t der[80])
{
    ECDSA_SIG *e = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    size_t n = 0;
    if (e && r && s && ECDSA_SIG_set0(e, r, s) == 1) {
        r = s = NULL; /* owned by e */
        unsigned char *p = der;
        int len = i2d_ECDSA_SIG(e, NULL);
        if (len > 0 && len <= 80 && i2d_ECDSA_SIG(e, &p) == len)
            n = (size_t)len;
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(e);
    return n;
}

mpcd_approval_err mpcd_approval_verify(const mpcd_approver_key *k, const uint8_t *msg, size_t len,
                                       const uint8_t sig[64])
{
    if (!k || !msg || !sig || !mpcd_approval_alg_name(k->alg) || k->alg == MPCD_ALG_NONE)
        return MPCD_APPROVAL_ERR_ARG;
    if (k->alg == MPCD_ALG_ECDSA_SECP256K1)
        return verify_secp256k1(k, msg, len, sig);
    EVP_PKEY *pkey = openssl_pub(k);
    if (!pkey)
        return MPCD_APPROVAL_ERR_KEY;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t der[80];
    const uint8_t *s = sig;
    size_t slen = 64;
    int rc = -1;
    if (k->alg == MPCD_ALG_ECDSA_P256) {
        slen = raw_to_der(sig, der);
        s = der;
    }
    if (md && slen &&
        EVP_DigestVerifyInit(md, NULL, k->alg == MPCD_ALG_ED25519 ? NULL : EVP_sha256(), NULL,
                             pkey) == 1)
        rc = EVP_DigestVerify(md, s, slen, msg, len);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    if (!md)
        return MPCD_APPROVAL_ERR_CRYPTO;
    /* 0 is a wrong signature, < 0 a malformed one: both are simply bad. */
    return rc == 1 ? MPCD_APPROVAL_OK : MPCD_APPROVAL_ERR_SIGNATURE;
}

/* ---- sign (mpcctl approve, tests) ---- */

mpcd_approval_alg mpcd_approval_alg_of(EVP_PKEY *pkey)
{
    char group[64];
    size_t n = 0;
    if (!pkey)
        return MPCD_ALG_NONE;
    if (EVP_PKEY_is_a(pkey, "ED25519"))
        return MPCD_ALG_ED25519;
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC ||
        EVP_PKEY_get_group_name(pkey, group, sizeof group, &n) != 1)
        return MPCD_ALG_NONE;
    if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
        return MPCD_ALG_ECDSA_P256;
    if (strcmp(group, "secp256k1") == 0)
        return MPCD_ALG_ECDSA_SECP256K1;
    return MPCD_ALG_NONE;
}

/* The order of secp256k1, big-endian: a high s is replaced by n - s. */
static const uint8_t secp_n[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                   0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};

static int der_to_raw(const uint8_t *der, size_t len, mpcd_approval_alg alg, uint8_t sig[64])
{
    const unsigned char *p = der;
    ECDSA_SIG *e = d2i_ECDSA_SIG(NULL, &p, (long)len);
    int ok = 0;
    if (e) {
        const BIGNUM *r = ECDSA_SIG_get0_r(e), *s = ECDSA_SIG_get0_s(e);
        BIGNUM *n = BN_bin2bn(secp_n, 32, NULL), *half = n ? BN_dup(n) : NULL, *ls = BN_dup(s);
        ok = n && half && ls && BN_rshift1(half, n) && BN_bn2binpad(r, sig, 32) == 32;
        if (ok && alg == MPCD_ALG_ECDSA_SECP256K1 && BN_cmp(ls, half) > 0)
            ok = BN_sub(ls, n, ls);
        ok = ok && BN_bn2binpad(ls, sig + 32, 32) == 32;
        BN_free(n);
        BN_free(half);
        BN_free(ls);
        ECDSA_SIG_free(e);
    }
    return ok;
}

mpcd_approval_err mpcd_approval_sign(EVP_PKEY *pkey, const uint8_t *msg, size_t len,
                                     uint8_t sig[64])
{
    return mpcd_approval_sign_alg(pkey, mpcd_approval_alg_of(pkey), msg, len, sig);
}

mpcd_approval_err mpcd_approval_sign_alg(EVP_PKEY *pkey, mpcd_approval_alg alg, const uint8_t *msg,
                                         size_t len, uint8_t sig[64])
{
    if (!pkey || !msg || !sig)
        return MPCD_APPROVAL_ERR_ARG;
    if (alg == MPCD_ALG_NONE)
        return MPCD_APPROVAL_ERR_ALG;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t out[128];
    size_t olen = sizeof out;
    int ok = md &&
             EVP_DigestSignInit(md, NULL, alg == MPCD_ALG_ED25519 ? NULL : EVP_sha256(), NULL,
                                pkey) == 1 &&
             EVP_DigestSign(md, out, &olen, msg, len) == 1;
    EVP_MD_CTX_free(md);
    if (ok && alg == MPCD_ALG_ED25519) {
        ok = olen == 64;
        if (ok)
            memcpy(sig, out, 64);
    } else if (ok) {
        ok = der_to_raw(out, olen, alg, sig);
    }
    return ok ? MPCD_APPROVAL_OK : MPCD_APPROVAL_ERR_CRYPTO;
}

mpcd_approval_err mpcd_approval_public_hex(EVP_PKEY *pkey, char out[131])
{
    mpcd_approval_alg alg = mpcd_approval_alg_of(pkey);
    uint8_t pub[133];
    size_t n = 0;
    if (!out)
        return MPCD_APPROVAL_ERR_ARG;
    if (alg == MPCD_ALG_NONE)
        return MPCD_APPROVAL_ERR_ALG;
    if (alg == MPCD_ALG_ED25519) {
        n = 32;
        if (EVP_PKEY_get_raw_public_key(pkey, pub, &n) != 1 || n != 32)
            return MPCD_APPROVAL_ERR_CRYPTO;
    } else {
        if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
                                            sizeof pub, &n) != 1)
            return MPCD_APPROVAL_ERR_CRYPTO;
        if (n == 65 && pub[0] == 4) { /* compress: 02 / 03 by the parity of y */
            pub[0] = (uint8_t)(2 + (pub[64] & 1));
            n = 33;
        }
        if (n != 33)
            return MPCD_APPROVAL_ERR_CRYPTO;
    }
    api_hex_encode(out, pub, n);
    return MPCD_APPROVAL_OK;
}
