/* hsm/pkcs11.c — the PKCS#11 backend (libp11): the data key is wrapped with ECIES to a
 * non-extractable P-256 key in a token. Sealing needs only the token key's public half
 * (software ECDH with a fresh ephemeral key); unsealing asks the token for the ECDH with
 * the ephemeral public key (CKM_ECDH1_DERIVE through libp11's EC_KEY method).
 *   kek  = HKDF-SHA256(ikm = ECDH x, salt = "", info = tag || eph_pub || token_pub)
 *   wrap = u8 version (1) | fingerprint[16] | eph_pub[65] | nonce[12] | ct[32] | tag[16]
 * with AES-256-GCM(kek) over the data key, the record's first 82 bytes as associated data,
 * and fingerprint = SHA-256(token_pub)[0..16) naming the token key.
 * One logged-in session is opened at hsm_open and reused; the generic layer's mutex
 * serializes every call. This file alone is built with -Wno-deprecated-declarations:
 * libp11 hands out legacy EC_KEY objects under OpenSSL 3. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libp11.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdh.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>

#include "internal.h"
#include "tss/secmem.h"

#define P11_WRAP_VERSION 1
#define P11_FP_LEN       16
#define P11_PUB_LEN      65
#define P11_WRAP_HDR     (1 + P11_FP_LEN + P11_PUB_LEN)
#define P11_WRAP_LEN     (P11_WRAP_HDR + HSM_GCM_NONCE + HSM_DK_LEN + HSM_GCM_TAG)
#define P11_PIN_MAX      256

/* PKCS#11 return values we map (from the standard; libp11 does not export pkcs11t.h). */
#define P11_CKR_PIN_INCORRECT 0xA0UL
#define P11_CKR_PIN_INVALID   0xA1UL
#define P11_CKR_PIN_LEN_RANGE 0xA2UL
#define P11_CKR_PIN_EXPIRED   0xA3UL
#define P11_CKR_PIN_LOCKED    0xA4UL

static const char p11_kdf_tag[] = "mpc-signer/hsm/pkcs11/v1";

typedef struct {
    PKCS11_CTX *ctx;
    PKCS11_SLOT *slots;
    unsigned int nslots;
    int loaded;
    EVP_PKEY *priv; /* token-backed private key (libp11) */
    EVP_PKEY *peer; /* the same key's public half as a plain OpenSSL key */
    const EC_GROUP *group;
    uint8_t pub[P11_PUB_LEN];
    uint8_t fp[P11_FP_LEN];
    char module[256], token[128], key_desc[300], pin_file[256];
} p11_state;

typedef struct {
    char token[128];
    char label[128];
    uint8_t id[64];
    int id_len; /* -1: not given */
} p11_selector;

/* Last CKR value libp11 reported (0 if none), consuming the OpenSSL error queue. */
static unsigned long p11_last_ckr(void)
{
    unsigned long e, ckr = 0;
    while ((e = ERR_get_error()) != 0)
        if (ERR_GET_LIB(e) == ERR_get_CKR_code())
            ckr = ERR_GET_REASON(e);
    return ckr;
}

static int pct_decode(char *out, size_t cap, const char *in, size_t n, size_t *out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (o + 1 >= cap)
            return -1;
        if (in[i] == '%') {
            if (i + 2 >= n || !isxdigit((unsigned char)in[i + 1]) ||
                !isxdigit((unsigned char)in[i + 2]) || sscanf(in + i + 1, "%2x", &v) != 1)
                return -1;
            out[o++] = (char)v;
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
    *out_len = o;
    return 0;
}

/* RFC 7512 subset: path attributes token, object, id (others ignored); a PIN in the URI
 * (pin-value) is refused so that PINs only ever come from the PIN file. */
static hsm_err parse_uri(const char *uri, p11_selector *sel)
{
    const char *p = uri + strlen("pkcs11:");
    if (strstr(uri, "pin-value") != NULL) {
        hsm_detail("PKCS#11 URI carries a PIN: use pin_file instead");
        return HSM_ERR_CONFIG;
    }
    while (*p != '\0' && *p != '?') {
        size_t n = strcspn(p, ";?"), vlen;
        const char *eq = memchr(p, '=', n);
        char val[128];
        if (eq == NULL)
            return HSM_ERR_CONFIG;
        size_t klen = (size_t)(eq - p);
        if (pct_decode(val, sizeof val, eq + 1, n - klen - 1, &vlen) != 0)
            return HSM_ERR_CONFIG;
        if (klen == 5 && memcmp(p, "token", 5) == 0)
            snprintf(sel->token, sizeof sel->token, "%s", val);
        else if (klen == 6 && memcmp(p, "object", 6) == 0)
            snprintf(sel->label, sizeof sel->label, "%s", val);
        else if (klen == 2 && memcmp(p, "id", 2) == 0) {
            if (vlen > sizeof sel->id)
                return HSM_ERR_CONFIG;
            memcpy(sel->id, val, vlen);
            sel->id_len = (int)vlen;
        }
        p += n;
        if (*p == ';')
            p++;
    }
    return HSM_OK;
}

static hsm_err parse_selector(const hsm_config *cfg, p11_selector *sel)
{
    memset(sel, 0, sizeof *sel);
    sel->id_len = -1;
    if (cfg->pkcs11.token_label != NULL)
        snprintf(sel->token, sizeof sel->token, "%s", cfg->pkcs11.token_label);
    if (cfg->pkcs11.uri != NULL && cfg->pkcs11.uri[0] != '\0') {
        /* The URI is not echoed: a malformed one might carry a PIN. */
        if (strncmp(cfg->pkcs11.uri, "pkcs11:", 7) != 0) {
            hsm_detail("PKCS#11 URI must start with pkcs11:");
            return HSM_ERR_CONFIG;
        }
        hsm_err err = parse_uri(cfg->pkcs11.uri, sel);
        if (err != HSM_OK) {
            if (hsm_last_detail()[0] == '\0')
                hsm_detail("cannot parse the PKCS#11 URI (expected pkcs11:token=..;object=..)");
            return err;
        }
    }
    if (cfg->pkcs11.key_label != NULL)
        snprintf(sel->label, sizeof sel->label, "%s", cfg->pkcs11.key_label);
    if (cfg->pkcs11.key_id != NULL) {
        sel->id_len = hsm_unhex(sel->id, sizeof sel->id, cfg->pkcs11.key_id);
        if (sel->id_len <= 0) {
            hsm_detail("key_id '%s' is not hex", cfg->pkcs11.key_id);
            return HSM_ERR_CONFIG;
        }
    }
    if (sel->token[0] == '\0' || (sel->label[0] == '\0' && sel->id_len < 0)) {
        hsm_detail("pkcs11 needs a token label and a key label, id or URI");
        return HSM_ERR_CONFIG;
    }
    return HSM_OK;
}

/* Reads the PIN file (private, newline stripped) into NUL-terminated secure memory. */
static hsm_err read_pin(const char *path, char **pin)
{
    uint8_t *raw;
    size_t len;
    if (path == NULL || path[0] == '\0') {
        hsm_detail("pkcs11 needs pin_file");
        return HSM_ERR_CONFIG;
    }
    hsm_err err = hsm_read_private_file(path, P11_PIN_MAX, HSM_ERR_PIN_FILE, &raw, &len);
    if (err != HSM_OK)
        return err;
    while (len > 0 && (raw[len - 1] == '\n' || raw[len - 1] == '\r'))
        len--;
    char *s = tss_secmem_alloc(len + 1);
    if (s != NULL) {
        memcpy(s, raw, len);
        s[len] = '\0';
    }
    tss_secmem_free(raw);
    if (s == NULL)
        return HSM_ERR_NOMEM;
    if (len == 0) {
        tss_secmem_free(s);
        hsm_detail("%s is empty", path);
        return HSM_ERR_PIN_FILE;
    }
    *pin = s;
    return HSM_OK;
}

static hsm_err login(p11_state *s, PKCS11_SLOT *slot, const char *pin)
{
    if (PKCS11_open_session(slot, 0) != 0) {
        hsm_detail("C_OpenSession failed (CKR 0x%lx)", p11_last_ckr());
        return HSM_ERR_TOKEN;
    }
    if (PKCS11_login(slot, 0, pin) == 0)
        return HSM_OK;
    unsigned long ckr = p11_last_ckr();
    hsm_detail("C_Login on token '%s' failed (CKR 0x%lx)", s->token, ckr);
    switch (ckr) {
    case P11_CKR_PIN_INCORRECT:
    case P11_CKR_PIN_INVALID:
    case P11_CKR_PIN_LEN_RANGE:
        return HSM_ERR_PIN_INCORRECT;
    case P11_CKR_PIN_LOCKED:
    case P11_CKR_PIN_EXPIRED:
        return HSM_ERR_PIN_LOCKED;
    default:
        return HSM_ERR_TOKEN;
    }
}

static int key_matches(const PKCS11_KEY *k, const p11_selector *sel)
{
    if (!k->isPrivate)
        return 0;
    if (sel->label[0] != '\0' && (k->label == NULL || strcmp(k->label, sel->label) != 0))
        return 0;
    if (sel->id_len >= 0 &&
        (k->id_len != (size_t)sel->id_len || memcmp(k->id, sel->id, k->id_len) != 0))
        return 0;
    return 1;
}

/* Finds the key, checks it is EC P-256, and keeps its EVP_PKEY, public point and an
 * equivalent plain public key for software ECDH. */
static hsm_err find_key(p11_state *s, PKCS11_SLOT *slot, const p11_selector *sel)
{
    PKCS11_KEY *keys = NULL, *key = NULL;
    unsigned int n = 0;
    if (PKCS11_enumerate_keys(slot->token, &keys, &n) != 0) {
        hsm_detail("listing keys failed (CKR 0x%lx)", p11_last_ckr());
        return HSM_ERR_TOKEN;
    }
    for (unsigned int i = 0; i < n && key == NULL; i++)
        if (key_matches(&keys[i], sel))
            key = &keys[i];
    if (key == NULL || PKCS11_get_key_type(key) != EVP_PKEY_EC) {
        hsm_detail("no EC private key %s in token '%s'", s->key_desc, s->token);
        return HSM_ERR_KEY_NOT_FOUND;
    }
    if ((s->priv = PKCS11_get_private_key(key)) == NULL) {
        hsm_detail("cannot load key %s (CKR 0x%lx)", s->key_desc, p11_last_ckr());
        return HSM_ERR_TOKEN;
    }
    const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(s->priv);
    const EC_POINT *pt = ec != NULL ? EC_KEY_get0_public_key(ec) : NULL;
    s->group = ec != NULL ? EC_KEY_get0_group(ec) : NULL;
    if (pt == NULL || s->group == NULL ||
        EC_GROUP_get_curve_name(s->group) != NID_X9_62_prime256v1) {
        hsm_detail("key %s is not a P-256 key with a readable public point", s->key_desc);
        return HSM_ERR_KEY_NOT_FOUND;
    }
    if (EC_POINT_point2oct(s->group, pt, POINT_CONVERSION_UNCOMPRESSED, s->pub, P11_PUB_LEN,
                           NULL) != P11_PUB_LEN)
        return HSM_ERR_CRYPTO;
    return HSM_OK;
}

static EVP_PKEY *p256_public(const uint8_t pub[P11_PUB_LEN])
{
    EVP_PKEY *pk = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (bld != NULL && c != NULL &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, P11_PUB_LEN) &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(c) == 1 &&
        EVP_PKEY_fromdata(c, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pk = NULL;
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(c);
    return pk;
}

static hsm_err sha256(const uint8_t *in, size_t len, uint8_t out[32])
{
    unsigned int n;
    return EVP_Digest(in, len, out, &n, EVP_sha256(), NULL) == 1 ? HSM_OK : HSM_ERR_CRYPTO;
}

static hsm_err derive_kek(const uint8_t z[32], const uint8_t eph_pub[P11_PUB_LEN],
                          const uint8_t token_pub[P11_PUB_LEN], uint8_t kek[32])
{
    uint8_t info[sizeof p11_kdf_tag - 1 + 2 * P11_PUB_LEN];
    size_t out_len = 32;
    memcpy(info, p11_kdf_tag, sizeof p11_kdf_tag - 1);
    memcpy(info + sizeof p11_kdf_tag - 1, eph_pub, P11_PUB_LEN);
    memcpy(info + sizeof p11_kdf_tag - 1 + P11_PUB_LEN, token_pub, P11_PUB_LEN);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    int ok = c != NULL && EVP_PKEY_derive_init(c) == 1 &&
             EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set1_hkdf_key(c, z, 32) == 1 &&
             EVP_PKEY_CTX_add1_hkdf_info(c, info, sizeof info) == 1 &&
             EVP_PKEY_derive(c, kek, &out_len) == 1 && out_len == 32;
    EVP_PKEY_CTX_free(c);
    return ok ? HSM_OK : HSM_ERR_CRYPTO;
}

static hsm_err p11_wrap(hsm_backend *b, const uint8_t dk[HSM_DK_LEN], uint8_t **wrap,
                        size_t *wrap_len)
{
    p11_state *s = b->impl;
    hsm_err err = HSM_ERR_CRYPTO;
    uint8_t z[32], kek[32], *w = NULL;
    size_t zlen = sizeof z, plen = P11_PUB_LEN;
    EVP_PKEY_CTX *dc = NULL;
    EVP_PKEY *eph = EVP_EC_gen("P-256");
    if (eph == NULL || (w = malloc(P11_WRAP_LEN)) == NULL)
        goto out;
    w[0] = P11_WRAP_VERSION;
    memcpy(w + 1, s->fp, P11_FP_LEN);
    uint8_t *eph_pub = w + 1 + P11_FP_LEN;
    if (EVP_PKEY_get_octet_string_param(eph, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, eph_pub,
                                        P11_PUB_LEN, &plen) != 1 ||
        plen != P11_PUB_LEN)
        goto out;
    dc = EVP_PKEY_CTX_new(eph, NULL);
    if (dc == NULL || EVP_PKEY_derive_init(dc) != 1 || EVP_PKEY_derive_set_peer(dc, s->peer) != 1 ||
        EVP_PKEY_derive(dc, z, &zlen) != 1 || zlen != sizeof z)
        goto out;
    if ((err = derive_kek(z, eph_pub, s->pub, kek)) != HSM_OK)
        goto out;
    uint8_t *nonce = w + P11_WRAP_HDR;
    if ((err = hsm_random(nonce, HSM_GCM_NONCE)) != HSM_OK)
        goto out;
    err = hsm_gcm_seal(kek, nonce, w, P11_WRAP_HDR, NULL, 0, dk, HSM_DK_LEN, nonce + HSM_GCM_NONCE,
                       nonce + HSM_GCM_NONCE + HSM_DK_LEN);
    if (err == HSM_OK) {
        *wrap = w;
        *wrap_len = P11_WRAP_LEN;
        w = NULL;
    }
out:
    tss_memzero(z, sizeof z);
    tss_memzero(kek, sizeof kek);
    EVP_PKEY_CTX_free(dc);
    EVP_PKEY_free(eph);
    free(w);
    return err;
}

static hsm_err p11_unwrap(hsm_backend *b, const uint8_t *w, size_t wrap_len, uint8_t dk[HSM_DK_LEN])
{
    p11_state *s = b->impl;
    uint8_t z[32], kek[32];
    hsm_err err;
    if (wrap_len != P11_WRAP_LEN || w[0] != P11_WRAP_VERSION) {
        hsm_detail("pkcs11 wrap record of %zu bytes, version %u", wrap_len, w[0]);
        return HSM_ERR_FORMAT;
    }
    if (memcmp(w + 1, s->fp, P11_FP_LEN) != 0) {
        hsm_detail("blob was sealed to another token key");
        return HSM_ERR_WRONG_NODE;
    }
    const uint8_t *eph_pub = w + 1 + P11_FP_LEN;
    EC_POINT *pt = EC_POINT_new(s->group);
    if (pt == NULL)
        return HSM_ERR_NOMEM;
    /* oct2point rejects encodings that are not points on P-256. */
    if (EC_POINT_oct2point(s->group, pt, eph_pub, P11_PUB_LEN, NULL) != 1) {
        EC_POINT_free(pt);
        ERR_clear_error();
        hsm_detail("ephemeral public key in the blob is not a P-256 point");
        return HSM_ERR_TAMPERED;
    }
    /* ECDH inside the token (libp11's EC_KEY method → C_DeriveKey CKM_ECDH1_DERIVE). */
    int n = ECDH_compute_key(z, sizeof z, pt, EVP_PKEY_get0_EC_KEY(s->priv), NULL);
    EC_POINT_free(pt);
    if (n != (int)sizeof z) {
        hsm_detail("token ECDH failed (CKR 0x%lx)", p11_last_ckr());
        return HSM_ERR_TOKEN;
    }
    err = derive_kek(z, eph_pub, s->pub, kek);
    tss_memzero(z, sizeof z);
    if (err == HSM_OK) {
        const uint8_t *nonce = w + P11_WRAP_HDR;
        err = hsm_gcm_open(kek, nonce, w, P11_WRAP_HDR, NULL, 0, nonce + HSM_GCM_NONCE, HSM_DK_LEN,
                           nonce + HSM_GCM_NONCE + HSM_DK_LEN, dk);
    }
    tss_memzero(kek, sizeof kek);
    return err;
}

static int p11_describe(const hsm_backend *b, char *buf, size_t size)
{
    const p11_state *s = b->impl;
    char fp[2 * P11_FP_LEN + 1];
    hsm_hex(fp, s->fp, P11_FP_LEN);
    return snprintf(buf, size,
                    "pkcs11 module=%s token=%s key=%s curve=P-256 fingerprint=%s pin_file=%s "
                    "wrap=ECIES(ECDH,HKDF-SHA256,AES-256-GCM)",
                    s->module, s->token, s->key_desc, fp, s->pin_file);
}

static void p11_free(p11_state *s)
{
    EVP_PKEY_free(s->priv);
    EVP_PKEY_free(s->peer);
    if (s->slots != NULL)
        PKCS11_release_all_slots(s->ctx, s->slots, s->nslots); /* logs out, closes */
    if (s->loaded)
        PKCS11_CTX_unload(s->ctx);
    if (s->ctx != NULL)
        PKCS11_CTX_free(s->ctx);
    free(s);
}

static void p11_close(hsm_backend *b)
{
    p11_free(b->impl);
}

static const hsm_ops p11_ops = {HSM_KIND_PKCS11, p11_wrap, p11_unwrap, p11_describe, p11_close};

static void describe_selector(p11_state *s, const hsm_config *cfg, const p11_selector *sel)
{
    char id[2 * sizeof sel->id + 1] = "";
    if (sel->id_len > 0)
        hsm_hex(id, sel->id, (size_t)sel->id_len);
    if (cfg->pkcs11.uri != NULL && cfg->pkcs11.uri[0] != '\0')
        snprintf(s->key_desc, sizeof s->key_desc, "%s", cfg->pkcs11.uri);
    else
        snprintf(s->key_desc, sizeof s->key_desc, "%s%s%s%s", sel->label[0] ? "label:" : "",
                 sel->label, sel->id_len > 0 ? (sel->label[0] ? ",id:" : "id:") : "", id);
}

static hsm_err p11_connect(p11_state *s, const p11_selector *sel, const char *pin)
{
    hsm_err err;
    PKCS11_SLOT *slot = NULL;
    if ((s->ctx = PKCS11_CTX_new()) == NULL)
        return HSM_ERR_NOMEM;
    if (PKCS11_CTX_load(s->ctx, s->module) != 0) {
        ERR_clear_error();
        hsm_detail("cannot load PKCS#11 module %s", s->module);
        return HSM_ERR_MODULE;
    }
    s->loaded = 1;
    if (PKCS11_enumerate_slots(s->ctx, &s->slots, &s->nslots) != 0) {
        s->slots = NULL;
        hsm_detail("listing slots failed (CKR 0x%lx)", p11_last_ckr());
        return HSM_ERR_TOKEN;
    }
    /* Slot ids are not stable (SoftHSM assigns random ones): select by token label. */
    for (unsigned int i = 0; i < s->nslots && slot == NULL; i++)
        if (s->slots[i].token != NULL && s->slots[i].token->initialized &&
            s->slots[i].token->label != NULL && strcmp(s->slots[i].token->label, sel->token) == 0)
            slot = &s->slots[i];
    if (slot == NULL) {
        hsm_detail("no token labelled '%s' behind %s", sel->token, s->module);
        return HSM_ERR_TOKEN_NOT_FOUND;
    }
    if ((err = login(s, slot, pin)) != HSM_OK)
        return err;
    if ((err = find_key(s, slot, sel)) != HSM_OK)
        return err;
    uint8_t h[32];
    if ((err = sha256(s->pub, P11_PUB_LEN, h)) != HSM_OK)
        return err;
    memcpy(s->fp, h, P11_FP_LEN);
    if ((s->peer = p256_public(s->pub)) == NULL)
        return HSM_ERR_CRYPTO;
    return HSM_OK;
}

hsm_err hsm_pkcs11_open(const hsm_config *cfg, hsm_backend *b)
{
    p11_selector sel;
    char *pin = NULL;
    hsm_err err;
    if (cfg->pkcs11.module == NULL || cfg->pkcs11.module[0] == '\0') {
        hsm_detail("pkcs11 needs module");
        return HSM_ERR_CONFIG;
    }
    if ((err = parse_selector(cfg, &sel)) != HSM_OK)
        return err;
    p11_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return HSM_ERR_NOMEM;
    snprintf(s->module, sizeof s->module, "%s", cfg->pkcs11.module);
    snprintf(s->token, sizeof s->token, "%s", sel.token);
    snprintf(s->pin_file, sizeof s->pin_file, "%s",
             cfg->pkcs11.pin_file ? cfg->pkcs11.pin_file : "");
    describe_selector(s, cfg, &sel);
    if ((err = read_pin(cfg->pkcs11.pin_file, &pin)) == HSM_OK)
        err = p11_connect(s, &sel, pin);
    tss_secmem_free(pin);
    ERR_clear_error();
    if (err != HSM_OK) {
        p11_free(s);
        return err;
    }
    b->ops = &p11_ops;
    b->impl = s;
    return HSM_OK;
}
