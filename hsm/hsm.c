/* hsm/hsm.c — the public sealing API: configuration defaults, backend dispatch and
 * locking, the envelope (blob format, payload AEAD) and the operator self-test.
 * Backends (soft.c, pkcs11.c, tpm2.c) only wrap and unwrap the per-blob data key.
 *
 * Blob format, version 1 (all integers big-endian, every length checked on parse):
 *   0   magic "MPCH"
 *   4   u8  format version (1)
 *   5   u8  backend kind (hsm_kind)
 *   6   u16 wrap_len, then wrap[wrap_len]   backend record holding the wrapped data key
 *       u8  nonce[12]
 *       u32 ct_len, then ct[ct_len]         AES-256-GCM of the payload under the data key
 *       u8  tag[16]
 * The GCM associated data is every header byte before ct (magic .. ct_len) followed by the
 * caller's aad, so the backend record and both lengths are authenticated too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "tss/secmem.h"

#define HSM_MAGIC          "MPCH"
#define HSM_FORMAT_VERSION 1
#define HSM_HDR_FIXED      8 /* magic, version, kind, wrap_len */
#define HSM_BLOB_OVERHEAD  (HSM_HDR_FIXED + HSM_GCM_NONCE + 4 + HSM_GCM_TAG)

static const char *const hsm_kind_names[] = {"none", "soft", "pkcs11", "tpm2"};

const char *hsm_kind_name(hsm_kind kind)
{
    if ((unsigned)kind > HSM_KIND_TPM2)
        return "unknown";
    return hsm_kind_names[kind];
}

hsm_kind hsm_kind_from_name(const char *name)
{
    for (int k = HSM_KIND_SOFT; name != NULL && k <= HSM_KIND_TPM2; k++)
        if (strcmp(name, hsm_kind_names[k]) == 0)
            return (hsm_kind)k;
    return HSM_KIND_NONE;
}

void hsm_config_init(hsm_config *cfg, hsm_kind kind)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = kind;
    cfg->tpm2.tcti = "device:/dev/tpmrm0";
    /* The auth value is a high-entropy credential, not a guessable PIN, so lockout would
     * only give an attacker with TPM access a way to deny service. */
    cfg->tpm2.noda = true;
}

hsm_err hsm_parse_pcr_list(const char *list, uint32_t *mask)
{
    uint32_t m = 0;
    const char *p = list;
    if (list == NULL || mask == NULL)
        return HSM_ERR_ARG;
    if (*p == '\0' || strcmp(p, "none") == 0) {
        *mask = 0;
        return HSM_OK;
    }
    for (;;) {
        char *end;
        long lo = strtol(p, &end, 10), hi;
        if (end == p || lo < 0 || lo > 23)
            return HSM_ERR_CONFIG;
        hi = lo;
        p = end;
        if (*p == '-') {
            hi = strtol(p + 1, &end, 10);
            if (end == p + 1 || hi < lo || hi > 23)
                return HSM_ERR_CONFIG;
            p = end;
        }
        for (long i = lo; i <= hi; i++)
            m |= 1u << i;
        if (*p == '\0')
            break;
        if (*p != ',')
            return HSM_ERR_CONFIG;
        p++;
    }
    *mask = m;
    return HSM_OK;
}

hsm_err hsm_open(const hsm_config *cfg, hsm_backend **out)
{
    hsm_err err;
    hsm_detail_clear();
    if (cfg == NULL || out == NULL)
        return HSM_ERR_ARG;
    *out = NULL;
    hsm_backend *b = calloc(1, sizeof *b);
    if (b == NULL)
        return HSM_ERR_NOMEM;
    b->log = cfg->log;
    b->log_arg = cfg->log_arg;
    switch (cfg->kind) {
    case HSM_KIND_SOFT:
        err = hsm_soft_open(cfg, b);
        break;
    case HSM_KIND_PKCS11:
        err = hsm_pkcs11_open(cfg, b);
        break;
    case HSM_KIND_TPM2:
        err = hsm_tpm2_open(cfg, b);
        break;
    default:
        err = HSM_ERR_UNSUPPORTED;
    }
    if (err != HSM_OK) {
        free(b);
        return err;
    }
    pthread_mutex_init(&b->lock, NULL);
    *out = b;
    return HSM_OK;
}

void hsm_close(hsm_backend *b)
{
    if (b == NULL)
        return;
    b->ops->close(b);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

hsm_err hsm_init(const hsm_config *cfg, char *binding, size_t size)
{
    hsm_detail_clear();
    if (cfg == NULL || binding == NULL || size == 0)
        return HSM_ERR_ARG;
    binding[0] = '\0';
    switch (cfg->kind) {
    case HSM_KIND_SOFT:
        return hsm_soft_init(cfg, binding, size);
    case HSM_KIND_TPM2:
        return hsm_tpm2_init(cfg, binding, size);
    case HSM_KIND_PKCS11: {
        hsm_backend *b;
        hsm_err err = hsm_open(cfg, &b);
        if (err != HSM_OK)
            return err;
        hsm_describe(b, binding, size);
        hsm_close(b);
        return HSM_OK;
    }
    default:
        return HSM_ERR_UNSUPPORTED;
    }
}

hsm_kind hsm_backend_kind(const hsm_backend *b)
{
    return b == NULL ? HSM_KIND_NONE : b->ops->kind;
}

int hsm_describe(const hsm_backend *b, char *buf, size_t size)
{
    if (b == NULL || buf == NULL || size == 0)
        return -1;
    return b->ops->describe(b, buf, size);
}

hsm_err hsm_seal(hsm_backend *b, const uint8_t *plaintext, size_t len, const uint8_t *aad,
                 size_t aad_len, uint8_t **blob, size_t *blob_len)
{
    uint8_t *wrap = NULL, *out = NULL, *dk = NULL;
    size_t wrap_len = 0;
    hsm_err err;

    hsm_detail_clear();
    if (b == NULL || plaintext == NULL || len == 0 || blob == NULL || blob_len == NULL ||
        (aad == NULL && aad_len > 0))
        return HSM_ERR_ARG;
    if (len > HSM_MAX_PLAINTEXT || aad_len > HSM_MAX_AAD)
        return HSM_ERR_TOO_LARGE;
    if ((dk = tss_secmem_alloc(HSM_DK_LEN)) == NULL)
        return HSM_ERR_NOMEM;
    if ((err = hsm_random(dk, HSM_DK_LEN)) != HSM_OK)
        goto out;

    pthread_mutex_lock(&b->lock);
    err = b->ops->wrap(b, dk, &wrap, &wrap_len);
    pthread_mutex_unlock(&b->lock);
    if (err != HSM_OK)
        goto out;
    if (wrap_len == 0 || wrap_len > HSM_WRAP_MAX) {
        err = HSM_ERR_CRYPTO;
        goto out;
    }

    size_t hdr_len = HSM_HDR_FIXED + wrap_len + HSM_GCM_NONCE + 4;
    size_t total = hdr_len + len + HSM_GCM_TAG;
    if ((out = malloc(total)) == NULL) {
        err = HSM_ERR_NOMEM;
        goto out;
    }
    memcpy(out, HSM_MAGIC, 4);
    out[4] = HSM_FORMAT_VERSION;
    out[5] = (uint8_t)b->ops->kind;
    hsm_put16(out + 6, (uint16_t)wrap_len);
    memcpy(out + HSM_HDR_FIXED, wrap, wrap_len);
    uint8_t *nonce = out + HSM_HDR_FIXED + wrap_len;
    if ((err = hsm_random(nonce, HSM_GCM_NONCE)) != HSM_OK)
        goto out;
    hsm_put32(nonce + HSM_GCM_NONCE, (uint32_t)len);
    err = hsm_gcm_seal(dk, nonce, out, hdr_len, aad, aad_len, plaintext, len, out + hdr_len,
                       out + hdr_len + len);
    if (err != HSM_OK)
        goto out;
    *blob = out;
    *blob_len = total;
    out = NULL;
out:
    free(out);
    free(wrap);
    tss_secmem_free(dk);
    return err;
}

/* Strict header parse: every length is checked against the buffer before it is used. */
static hsm_err parse_blob(const uint8_t *blob, size_t blob_len, hsm_kind *kind, size_t *wrap_len,
                          size_t *ct_len)
{
    if (blob_len < HSM_BLOB_OVERHEAD || memcmp(blob, HSM_MAGIC, 4) != 0) {
        hsm_detail("blob of %zu bytes has no valid header", blob_len);
        return HSM_ERR_FORMAT;
    }
    if (blob[4] != HSM_FORMAT_VERSION) {
        hsm_detail("blob format version %u, this build reads %u", blob[4], HSM_FORMAT_VERSION);
        return HSM_ERR_VERSION;
    }
    if (blob[5] < HSM_KIND_SOFT || blob[5] > HSM_KIND_TPM2) {
        hsm_detail("blob names backend kind %u", blob[5]);
        return HSM_ERR_FORMAT;
    }
    size_t w = hsm_get16(blob + 6);
    if (w == 0 || w > HSM_WRAP_MAX || w > blob_len - HSM_BLOB_OVERHEAD) {
        hsm_detail("blob wrap length %zu does not fit in %zu bytes", w, blob_len);
        return HSM_ERR_FORMAT;
    }
    size_t c = hsm_get32(blob + HSM_HDR_FIXED + w + HSM_GCM_NONCE);
    if (c == 0 || c > HSM_MAX_PLAINTEXT || c != blob_len - HSM_BLOB_OVERHEAD - w) {
        hsm_detail("blob payload length %zu does not match its size %zu", c, blob_len);
        return HSM_ERR_FORMAT;
    }
    *kind = (hsm_kind)blob[5];
    *wrap_len = w;
    *ct_len = c;
    return HSM_OK;
}

hsm_err hsm_blob_kind(const uint8_t *blob, size_t blob_len, hsm_kind *kind)
{
    size_t w, c;
    if (blob == NULL || kind == NULL)
        return HSM_ERR_ARG;
    return parse_blob(blob, blob_len, kind, &w, &c);
}

hsm_err hsm_unseal(hsm_backend *b, const uint8_t *blob, size_t blob_len, const uint8_t *aad,
                   size_t aad_len, uint8_t **plaintext, size_t *len)
{
    hsm_kind kind;
    size_t w, c;
    uint8_t *dk = NULL, *pt = NULL;
    hsm_err err;

    hsm_detail_clear();
    if (b == NULL || blob == NULL || plaintext == NULL || len == NULL ||
        (aad == NULL && aad_len > 0))
        return HSM_ERR_ARG;
    if (aad_len > HSM_MAX_AAD)
        return HSM_ERR_TOO_LARGE;
    if ((err = parse_blob(blob, blob_len, &kind, &w, &c)) != HSM_OK)
        return err;
    if (kind != b->ops->kind) {
        hsm_detail("blob sealed by the %s backend, this node uses %s", hsm_kind_name(kind),
                   hsm_kind_name(b->ops->kind));
        return HSM_ERR_WRONG_BACKEND;
    }
    if ((dk = tss_secmem_alloc(HSM_DK_LEN)) == NULL)
        return HSM_ERR_NOMEM;
    pthread_mutex_lock(&b->lock);
    err = b->ops->unwrap(b, blob + HSM_HDR_FIXED, w, dk);
    pthread_mutex_unlock(&b->lock);
    if (err != HSM_OK)
        goto out;
    if ((pt = tss_secmem_alloc(c)) == NULL) {
        err = HSM_ERR_NOMEM;
        goto out;
    }
    size_t hdr_len = HSM_HDR_FIXED + w + HSM_GCM_NONCE + 4;
    err = hsm_gcm_open(dk, blob + HSM_HDR_FIXED + w, blob, hdr_len, aad, aad_len, blob + hdr_len, c,
                       blob + hdr_len + c, pt);
    if (err != HSM_OK)
        goto out;
    *plaintext = pt;
    *len = c;
    pt = NULL;
out:
    tss_secmem_free(pt);
    tss_secmem_free(dk);
    return err;
}

hsm_err hsm_aad_build(uint8_t *out, size_t cap, size_t *len, const char *key_id,
                      const char *party_id, uint32_t format_version)
{
    static const char tag[] = "mpc-signer/share-aad/v1";
    if (out == NULL || len == NULL || key_id == NULL || party_id == NULL)
        return HSM_ERR_ARG;
    size_t k = strlen(key_id), p = strlen(party_id);
    if (k == 0 || k > 255 || p == 0 || p > 255)
        return HSM_ERR_ARG;
    size_t need = sizeof tag - 1 + 1 + k + 1 + p + 4;
    if (need > cap)
        return HSM_ERR_TOO_LARGE;
    uint8_t *q = out;
    memcpy(q, tag, sizeof tag - 1);
    q += sizeof tag - 1;
    *q++ = (uint8_t)k;
    memcpy(q, key_id, k);
    q += k;
    *q++ = (uint8_t)p;
    memcpy(q, party_id, p);
    q += p;
    hsm_put32(q, format_version);
    *len = need;
    return HSM_OK;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

hsm_err hsm_selftest(hsm_backend *b, hsm_selftest_report *r)
{
    uint8_t value[64], aad[HSM_AAD_SHARE_MAX], *blob = NULL, *back = NULL;
    size_t aad_len, blob_len = 0, back_len = 0;
    hsm_err err;

    if (b == NULL || r == NULL)
        return HSM_ERR_ARG;
    memset(r, 0, sizeof *r);
    hsm_describe(b, r->backend, sizeof r->backend);
    if ((err = hsm_random(value, sizeof value)) != HSM_OK)
        goto out;
    if ((err = hsm_aad_build(aad, sizeof aad, &aad_len, "selftest", "selftest", 1)) != HSM_OK)
        goto out;
    double t0 = now_ms();
    err = hsm_seal(b, value, sizeof value, aad, aad_len, &blob, &blob_len);
    double t1 = now_ms();
    r->seal_ms = t1 - t0;
    if (err != HSM_OK)
        goto out;
    r->blob_len = blob_len;
    err = hsm_unseal(b, blob, blob_len, aad, aad_len, &back, &back_len);
    r->unseal_ms = now_ms() - t1;
    if (err != HSM_OK)
        goto out;
    if (back_len != sizeof value || memcmp(back, value, sizeof value) != 0) {
        hsm_detail("self-test round trip returned different bytes");
        err = HSM_ERR_CRYPTO;
    }
out:
    tss_memzero(value, sizeof value);
    tss_secmem_free(back);
    free(blob);
    r->result = err;
    return err;
}
