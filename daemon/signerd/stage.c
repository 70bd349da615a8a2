/* daemon/signerd/stage.c — staging the dealer input of an import or a migration (see
 * stage.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "api/hex.h"
#include "daemon/common/tsslib.h"
#include "stage.h"
#include "tss/point.h"
#include "tss/secmem.h"

static const char *const messages[] = {
    [SIGNER_STAGE_OK] = "success",
    [SIGNER_STAGE_ERR_ARG] = "invalid argument (a caller broke the contract)",
    [SIGNER_STAGE_ERR_NOMEM] = "out of memory",
    [SIGNER_STAGE_ERR_KEY_TEXT] = "the key is neither 64 hex digits nor a valid xprv/tprv",
    [SIGNER_STAGE_ERR_KEY] = "the private key is zero or not below the secp256k1 group order",
    [SIGNER_STAGE_ERR_TSSLIB] = "the tss-lib save file is refused",
    [SIGNER_STAGE_ERR_BACKEND] = "the sealing backend failed",
    [SIGNER_STAGE_ERR_STORE] = "the signer database failed",
    [SIGNER_STAGE_ERR_EXISTS] = ("an input for this public key is staged already (one per key: "
                                 "import it, or remove it with `staged remove`)"),
    [SIGNER_STAGE_ERR_NONE] = "no input is staged on this node for this public key",
    [SIGNER_STAGE_ERR_CORRUPT] = "a staged input's stored descriptor is malformed",
};

const char *signer_stage_strerror(signer_stage_err err)
{
    if ((unsigned)err >= sizeof messages / sizeof messages[0])
        return "unknown staging error";
    return messages[err];
}

__attribute__((format(printf, 4, 5))) static signer_stage_err fail(signer_stage_err err, char *why,
                                                                   size_t cap, const char *fmt, ...)
{
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return err;
}

/* ---- key text (constant time in the characters) ---- */

/* 0xff.. when a == b, else 0 (no branch). */
static uint32_t ct_eq(uint32_t a, uint32_t b)
{
    uint32_t x = a ^ b;
    return (uint32_t)(((uint64_t)x - 1) >> 32) & 0xffffffffu;
}

/* 0xff.. when lo <= c <= hi (all three below 2^31), else 0. */
static uint32_t ct_range(uint32_t c, uint32_t lo, uint32_t hi)
{
    return (((c - lo) | (hi - c)) >> 31) - 1;
}

/* The value of hex digit c, or 0x100 when c is none; no branch or index on c. */
static uint32_t ct_hex(uint32_t c)
{
    uint32_t d = ct_range(c, '0', '9'), l = ct_range(c, 'a', 'f'), u = ct_range(c, 'A', 'F');
    return ((c - '0') & d) | ((c - 'a' + 10) & l) | ((c - 'A' + 10) & u) | (0x100 & ~(d | l | u));
}

static const char b58_alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* The base58 value of c, or 0x100 when c is none: every alphabet entry is compared. */
static uint32_t ct_b58(uint32_t c)
{
    uint32_t v = 0, found = 0;
    for (uint32_t i = 0; i < 58; i++) {
        uint32_t m = ct_eq(c, (uint8_t)b58_alphabet[i]);
        v |= i & m;
        found |= m;
    }
    return v | (0x100 & ~found);
}

#define XPRV_BYTES SIGNER_STAGE_XPRV_BYTES

uint32_t signer_stage_hex32(uint8_t out[32], const uint8_t text[64])
{
    uint32_t bad = 0;
    for (size_t i = 0; i < 32; i++) {
        uint32_t hi = ct_hex(text[2 * i]), lo = ct_hex(text[2 * i + 1]);
        bad |= (hi | lo) >> 8;
        out[i] = (uint8_t)((hi << 4) | (lo & 0xf));
    }
    return bad;
}

uint32_t signer_stage_b58(uint8_t out[SIGNER_STAGE_XPRV_BYTES], const uint8_t *text, size_t len)
{
    uint32_t acc[XPRV_BYTES] = {0}, bad = 0, carry;
    for (size_t i = 0; i < len; i++) {
        uint32_t d = ct_b58(text[i]);
        bad |= d >> 8;
        carry = d & 0xff;
        for (size_t j = XPRV_BYTES; j-- > 0;) {
            carry += acc[j] * 58;
            acc[j] = carry & 0xff;
            carry >>= 8;
        }
        bad |= carry;
    }
    for (size_t j = 0; j < XPRV_BYTES; j++)
        out[j] = (uint8_t)acc[j];
    tss_memzero(acc, sizeof acc);
    return bad;
}

static void sha256(uint8_t out[32], const void *a, size_t alen, const void *b, size_t blen)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned len = 32;
    if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(c, a, alen) != 1 ||
        (blen && EVP_DigestUpdate(c, b, blen) != 1) || EVP_DigestFinal_ex(c, out, &len) != 1)
        memset(out, 0, 32); /* OpenSSL out of memory: a wrong digest fails every check */
    EVP_MD_CTX_free(c);
}

signer_stage_err signer_stage_parse_key(const uint8_t *text, size_t len, tss_scalar *key,
                                        uint8_t chain_code[32], int *has_chain_code, char *why,
                                        size_t cap)
{
    if (!text || !key || !chain_code || !has_chain_code)
        return fail(SIGNER_STAGE_ERR_ARG, why, cap, "NULL argument");
    *has_chain_code = 0;
    while (len && (text[0] == ' ' || text[0] == '\t' || text[0] == '\n' || text[0] == '\r'))
        text++, len--;
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\n' ||
                   text[len - 1] == '\r'))
        len--;
    uint8_t *raw = tss_secmem_alloc(XPRV_BYTES + 32);
    if (!raw)
        return fail(SIGNER_STAGE_ERR_NOMEM, why, cap, "out of memory");
    uint8_t *k = raw + XPRV_BYTES;
    signer_stage_err err = SIGNER_STAGE_OK;
    /* Format decisions read only characters a valid key never has there: whitespace at the
     * ends, and 'x' as the second character (tested before the '0' before it). */
    if (len >= 2 && (text[1] == 'x' || text[1] == 'X') && text[0] == '0')
        text += 2, len -= 2;
    if (len == 64) {
        if (signer_stage_hex32(k, text) != 0)
            err = fail(SIGNER_STAGE_ERR_KEY_TEXT, why, cap,
                       "64 characters that are not all hex digits");
    } else if (len >= 100 && len <= 115 &&
               (memcmp(text, "xprv", 4) == 0 || memcmp(text, "tprv", 4) == 0)) {
        uint8_t check[32];
        static const uint8_t xprv[4] = {0x04, 0x88, 0xad, 0xe4}, tprv[4] = {0x04, 0x35, 0x83, 0x94};
        if (signer_stage_b58(raw, text, len) != 0)
            err = fail(SIGNER_STAGE_ERR_KEY_TEXT, why, cap,
                       "an extended key with a character outside base58, or too long");
        if (err == SIGNER_STAGE_OK) {
            sha256(check, raw, 78, NULL, 0);
            sha256(check, check, 32, NULL, 0);
            int mismatch = CRYPTO_memcmp(check, raw + 78, 4) != 0;
            tss_memzero(check, sizeof check); /* a digest of the key */
            if (mismatch)
                err = fail(SIGNER_STAGE_ERR_KEY_TEXT, why, cap,
                           "the extended key's checksum does not match (a typo?)");
        }
        if (err == SIGNER_STAGE_OK && memcmp(raw, xprv, 4) != 0 && memcmp(raw, tprv, 4) != 0)
            err = fail(SIGNER_STAGE_ERR_KEY_TEXT, why, cap,
                       "not an xprv/tprv (version bytes); an xpub cannot be imported");
        if (err == SIGNER_STAGE_OK && raw[45] != 0)
            err = fail(SIGNER_STAGE_ERR_KEY_TEXT, why, cap,
                       "the extended key does not hold a private key (0x00 || key)");
        if (err == SIGNER_STAGE_OK) {
            memcpy(chain_code, raw + 13, 32);
            memcpy(k, raw + 46, 32);
            *has_chain_code = 1;
        }
    } else {
        err = fail(SIGNER_STAGE_ERR_KEY_TEXT, why, cap,
                   "expected 64 hex digits (optionally 0x-prefixed) or an xprv/tprv, got %zu "
                   "characters",
                   len);
    }
    if (err == SIGNER_STAGE_OK && (tss_scalar_parse(key, k) != TSS_OK || tss_scalar_is_zero(key)))
        err = fail(SIGNER_STAGE_ERR_KEY, why, cap, "%s", messages[SIGNER_STAGE_ERR_KEY]);
    if (err != SIGNER_STAGE_OK)
        tss_memzero(key, sizeof *key);
    tss_secmem_free(raw);
    return err;
}

void signer_stage_default_chain_code(uint8_t out[32], const uint8_t public_key[33])
{
    static const char tag[] = "mpc-signer/import-chain-code/v1";
    sha256(out, tag, sizeof tag - 1, public_key, 33);
}

/* ---- descriptors ---- */

static json_t *hex_json(const uint8_t *b, size_t n)
{
    char h[67];
    api_hex_encode(h, b, n);
    return json_string(h);
}

/* The stored descriptor of st (see stage.h), malloc'd JSON text. */
static char *descriptor_text(const char *party, const char *source, const signer_reshare_staged *st)
{
    json_t *parties = json_array();
    for (size_t j = 0; parties && j < st->count; j++)
        json_array_append_new(parties, json_pack("{s:o,s:o}", "x", hex_json(st->xs[j], 32),
                                                 "public_share", hex_json(st->pubs[j], 33)));
    json_t *o =
        parties ? json_pack("{s:s,s:s,s:o,s:o,s:i,s:i,s:o,s:o,s:o}", "party", party, "source",
                            source, "public_key", hex_json(st->public_key, 33), "chain_code",
                            hex_json(st->chain_code, 32), "old_threshold", (int)st->old_threshold,
                            "old_n", (int)st->old_n, "x", hex_json(st->x, 32), "public_share",
                            hex_json(st->pub, 33), "parties", parties)
                : NULL;
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return text;
}

char *signer_stage_printable(const char *stored)
{
    json_t *o = stored ? json_loads(stored, JSON_REJECT_DUPLICATES, NULL) : NULL;
    char *text = NULL;
    if (json_is_object(o) && json_object_del(o, "parties") == 0)
        text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return text;
}

static int hex_field(uint8_t *out, size_t n, json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v && strlen(v) == 2 * n && api_hex_decode(out, n, v, 2 * n) == API_OK ? 0 : -1;
}

/* Reads a stored descriptor's public part into st (secret untouched). 0 or -1. */
static int descriptor_parse(const char *text, signer_reshare_staged *st, char *party, size_t pcap)
{
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    json_t *parties = json_object_get(o, "parties");
    json_t *t = json_object_get(o, "old_threshold"), *n = json_object_get(o, "old_n");
    const char *p = json_string_value(json_object_get(o, "party"));
    int bad = !json_is_object(o) || !p || strlen(p) >= pcap || !json_is_integer(t) ||
              !json_is_integer(n) || json_integer_value(t) < 1 ||
              json_integer_value(n) < json_integer_value(t) ||
              json_integer_value(n) > SIGNER_STAGED_PARTIES_MAX || !json_is_array(parties) ||
              json_array_size(parties) != (size_t)json_integer_value(n) ||
              hex_field(st->public_key, 33, o, "public_key") ||
              hex_field(st->chain_code, 32, o, "chain_code") || hex_field(st->x, 32, o, "x") ||
              hex_field(st->pub, 33, o, "public_share");
    int mine = 0;
    if (!bad) {
        snprintf(party, pcap, "%s", p);
        st->old_threshold = (unsigned)json_integer_value(t);
        st->old_n = (unsigned)json_integer_value(n);
        st->count = json_array_size(parties);
        for (size_t j = 0; !bad && j < st->count; j++) {
            json_t *e = json_array_get(parties, j);
            bad = hex_field(st->xs[j], 32, e, "x") || hex_field(st->pubs[j], 33, e, "public_share");
            mine |=
                !bad && memcmp(st->xs[j], st->x, 32) == 0 && memcmp(st->pubs[j], st->pub, 33) == 0;
        }
    }
    json_decref(o);
    return bad || !mine ? -1 : 0;
}

/* ---- sealing and storing ---- */

static const char aad_tag[] = "mpc-signer/staged/v1";

static size_t staged_aad(uint8_t *aad, const char *party, const char *descriptor)
{
    size_t plen = strlen(party), len = sizeof aad_tag - 1;
    memcpy(aad, aad_tag, len);
    memcpy(aad + len, party, plen + 1); /* with its NUL: the party id ends here */
    len += plen + 1;
    sha256(aad + len, descriptor, strlen(descriptor), NULL, 0);
    return len + 32;
}

#define STAGED_AAD_MAX (sizeof aad_tag + API_PARTY_ID_MAX + 1 + 32)

static signer_stage_err store_input(hsm_backend *hsm, signer_store *sto, const char *party,
                                    const char *source, signer_reshare_staged *st,
                                    char **descriptor, char *why, size_t cap)
{
    uint8_t aad[STAGED_AAD_MAX], secret[32];
    signer_staged_row row;
    memset(&row, 0, sizeof row);
    *descriptor = NULL;
    if (strlen(party) > API_PARTY_ID_MAX)
        return fail(SIGNER_STAGE_ERR_ARG, why, cap, "party id too long");
    char *text = descriptor_text(party, source, st);
    if (!text || strlen(text) > SIGNER_STAGED_DESCRIPTOR_MAX) {
        free(text);
        return fail(SIGNER_STAGE_ERR_NOMEM, why, cap, "cannot encode the descriptor");
    }
    size_t aad_len = staged_aad(aad, party, text);
    tss_scalar_serialize(secret, st->secret);
    hsm_err he = hsm_seal(hsm, secret, 32, aad, aad_len, &row.blob, &row.blob_len);
    tss_memzero(secret, sizeof secret);
    if (he != HSM_OK) {
        free(text);
        return fail(SIGNER_STAGE_ERR_BACKEND, why, cap, "sealing: %s %s", hsm_strerror(he),
                    hsm_last_detail());
    }
    memcpy(row.public_key, st->public_key, 33);
    snprintf(row.source, sizeof row.source, "%s", source);
    row.descriptor = text;
    signer_store_err se = signer_store_staged_put(sto, &row);
    signer_stage_err err = SIGNER_STAGE_OK;
    if (se == SIGNER_STORE_ERR_EXISTS)
        err = fail(SIGNER_STAGE_ERR_EXISTS, why, cap, "%s", messages[SIGNER_STAGE_ERR_EXISTS]);
    else if (se != SIGNER_STORE_OK)
        err = fail(SIGNER_STAGE_ERR_STORE, why, cap, "%s %s", signer_store_strerror(se),
                   signer_store_last_detail());
    else if (!(*descriptor = signer_stage_printable(text)))
        err = fail(SIGNER_STAGE_ERR_NOMEM, why, cap, "out of memory");
    signer_staged_row_clear(&row); /* frees text */
    return err;
}

static signer_reshare_staged *staged_new(void)
{
    signer_reshare_staged *st = calloc(1, sizeof *st);
    if (st && !(st->secret = tss_secmem_alloc(sizeof *st->secret))) {
        free(st);
        return NULL;
    }
    return st;
}

static void staged_free(signer_reshare_staged *st)
{
    signer_stage_release(st);
    free(st);
}

signer_stage_err signer_stage_key(hsm_backend *hsm, signer_store *sto, const char *party,
                                  const uint8_t *text, size_t len, const uint8_t *chain_code,
                                  char **descriptor, char *why, size_t cap)
{
    if (!hsm || !sto || !party || !text || !descriptor)
        return fail(SIGNER_STAGE_ERR_ARG, why, cap, "NULL argument");
    *descriptor = NULL;
    signer_reshare_staged *st = staged_new();
    if (!st)
        return fail(SIGNER_STAGE_ERR_NOMEM, why, cap, "out of memory");
    int has_cc = 0;
    tss_point pk;
    signer_stage_err err =
        signer_stage_parse_key(text, len, st->secret, st->chain_code, &has_cc, why, cap);
    if (err == SIGNER_STAGE_OK && tss_point_base_mul(&pk, st->secret) != TSS_OK)
        err = fail(SIGNER_STAGE_ERR_KEY, why, cap, "%s", messages[SIGNER_STAGE_ERR_KEY]);
    if (err == SIGNER_STAGE_OK) {
        tss_point_serialize(st->public_key, &pk);
        if (chain_code)
            memcpy(st->chain_code, chain_code, 32);
        else if (!has_cc)
            signer_stage_default_chain_code(st->chain_code, st->public_key);
        st->old_threshold = st->old_n = 1;
        st->x[31] = 1;
        memcpy(st->pub, st->public_key, 33);
        st->count = 1;
        memcpy(st->xs[0], st->x, 32);
        memcpy(st->pubs[0], st->pub, 33);
        err = store_input(hsm, sto, party, "key", st, descriptor, why, cap);
    }
    staged_free(st);
    return err;
}

signer_stage_err signer_stage_tsslib(hsm_backend *hsm, signer_store *sto, const char *party,
                                     const uint8_t *data, size_t len, unsigned expected_t,
                                     const uint8_t *chain_code, char **descriptor, char *why,
                                     size_t cap)
{
    if (!hsm || !sto || !party || !data || !descriptor)
        return fail(SIGNER_STAGE_ERR_ARG, why, cap, "NULL argument");
    *descriptor = NULL;
    mpcd_tsslib_share *sh = NULL;
    char sub[512];
    mpcd_tsslib_err te = mpcd_tsslib_load(data, len, expected_t, &sh, sub, sizeof sub);
    if (te != MPCD_TSSLIB_OK)
        return fail(SIGNER_STAGE_ERR_TSSLIB, why, cap, "%s: %s", mpcd_tsslib_strerror(te), sub);
    signer_reshare_staged *st = sh->n <= SIGNER_STAGED_PARTIES_MAX ? staged_new() : NULL;
    signer_stage_err err = SIGNER_STAGE_OK;
    if (!st) {
        err = fail(SIGNER_STAGE_ERR_NOMEM, why, cap, "out of memory");
    } else {
        *st->secret = sh->xi;
        tss_point_serialize(st->public_key, &sh->pk);
        if (chain_code)
            memcpy(st->chain_code, chain_code, 32);
        else
            signer_stage_default_chain_code(st->chain_code, st->public_key);
        st->old_threshold = sh->threshold;
        st->old_n = (unsigned)sh->n;
        st->count = sh->n;
        for (size_t j = 0; j < sh->n; j++) {
            tss_scalar_serialize(st->xs[j], &sh->x[j]);
            tss_point_serialize(st->pubs[j], &sh->pub[j]);
        }
        memcpy(st->x, st->xs[sh->i], 32);
        memcpy(st->pub, st->pubs[sh->i], 33);
        err = store_input(hsm, sto, party, "tss-lib", st, descriptor, why, cap);
    }
    mpcd_tsslib_free(sh);
    staged_free(st);
    return err;
}

signer_stage_err signer_stage_load(hsm_backend *hsm, signer_store *sto, const char *party,
                                   const uint8_t public_key[33], signer_reshare_staged *out,
                                   char *why, size_t cap)
{
    if (!hsm || !sto || !party || !public_key || !out)
        return fail(SIGNER_STAGE_ERR_ARG, why, cap, "NULL argument");
    memset(out, 0, sizeof *out);
    signer_staged_row row;
    signer_store_err se = signer_store_staged_get(sto, public_key, &row);
    if (se == SIGNER_STORE_ERR_NOT_FOUND)
        return fail(SIGNER_STAGE_ERR_NONE, why, cap, "%s", messages[SIGNER_STAGE_ERR_NONE]);
    if (se != SIGNER_STORE_OK)
        return fail(SIGNER_STAGE_ERR_STORE, why, cap, "%s", signer_store_strerror(se));
    char owner[API_PARTY_ID_MAX + 1];
    uint8_t aad[STAGED_AAD_MAX], *pt = NULL;
    size_t pt_len = 0;
    signer_stage_err err = SIGNER_STAGE_OK;
    if (descriptor_parse(row.descriptor, out, owner, sizeof owner) != 0 ||
        memcmp(out->public_key, public_key, 33) != 0 || strcmp(owner, party) != 0)
        err = fail(SIGNER_STAGE_ERR_CORRUPT, why, cap, "%s", messages[SIGNER_STAGE_ERR_CORRUPT]);
    if (err == SIGNER_STAGE_OK) {
        size_t aad_len = staged_aad(aad, party, row.descriptor);
        hsm_err he = hsm_unseal(hsm, row.blob, row.blob_len, aad, aad_len, &pt, &pt_len);
        if (he != HSM_OK || pt_len != 32)
            err = fail(SIGNER_STAGE_ERR_BACKEND, why, cap,
                       "unsealing the staged input: %s (altered, or staged by another node)",
                       he != HSM_OK ? hsm_strerror(he) : "wrong length");
    }
    if (err == SIGNER_STAGE_OK && !(out->secret = tss_secmem_alloc(sizeof *out->secret)))
        err = fail(SIGNER_STAGE_ERR_NOMEM, why, cap, "out of memory");
    if (err == SIGNER_STAGE_OK && tss_scalar_parse(out->secret, pt) != TSS_OK)
        err = fail(SIGNER_STAGE_ERR_CORRUPT, why, cap, "%s", messages[SIGNER_STAGE_ERR_CORRUPT]);
    if (pt)
        tss_secmem_free(pt);
    signer_staged_row_clear(&row);
    if (err != SIGNER_STAGE_OK)
        signer_stage_release(out);
    return err;
}

void signer_stage_release(signer_reshare_staged *s)
{
    if (!s)
        return;
    if (s->secret)
        tss_secmem_free(s->secret); /* wipes */
    memset(s, 0, sizeof *s);
}
