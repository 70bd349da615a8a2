/* tss/keyshare.c — key share allocation, identities, encoding, strict decoding (current
 * and previous versions), fingerprint.
 * Layout (version 3), integers big-endian:
 *   "MPKS" | version u16 | t u8 | n u8 | index u8 | epoch u32 | kappa u16 | dkg sid [32] |
 *   setup sid [32] | chain code [32] | pk [33] | P(1..n) [33 each] |
 *   identities 1..n: party id [64, NUL-padded] | fingerprint [32] | p(index) [32] |
 *   for each peer j != index: zero seed [32] | OT sender setup | OT receiver setup |
 *   check [32] = H("keyshare/check", everything before)
 * with each OT setup in its κ's encoding (ote.h). Version 2 is the same without kappa
 * (κ = 256); version 1 also without epoch, setup sid and identities.
 * The check catches corruption of fields nothing else can verify (the zero seeds); the
 * sealing layer's AEAD is what protects against deliberate tampering. */
#include "keyshare.h"

#include <string.h>

#include "lagrange.h"
#include "secmem.h"
#include "transcript.h"

#define KS_FIXED_V1 (4 + 2 + 3 + 32 + 32 + 33)
#define KS_FIXED_V2 (4 + 2 + 3 + 4 + 32 + 32 + 32 + 33)
#define KS_FIXED_V3 (KS_FIXED_V2 + 2)
#define KS_ID       (TSS_PARTY_ID_MAX + 32)

#define KS_PEER(kappa)                                                                             \
    (32 + TSS_OTE_SENDER_SETUP_BYTES(kappa) + TSS_OTE_RECEIVER_SETUP_BYTES(kappa))

static int is_zero(const uint8_t *b, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= b[i];
    return acc == 0;
}

tss_err tss_identities_check(const tss_identity *ids, uint8_t n)
{
    if (ids == NULL || n > TSS_MAX_PARTIES)
        return TSS_ERR_PARAMS;
    for (int j = 0; j < n; j++) {
        size_t l = strnlen(ids[j].party_id, sizeof ids[j].party_id);
        if (l == 0 || l > TSS_PARTY_ID_MAX || is_zero(ids[j].fp, 32))
            return TSS_ERR_PARAMS;
        for (int k = 0; k < j; k++)
            if (strcmp(ids[j].party_id, ids[k].party_id) == 0 ||
                memcmp(ids[j].fp, ids[k].fp, 32) == 0)
                return TSS_ERR_PARAMS;
    }
    return TSS_OK;
}

int tss_keyshare_has_identities(const tss_keyshare *ks)
{
    return ks != NULL && tss_identities_check(ks->ids, ks->n) == TSS_OK;
}

tss_err tss_keyshare_set_identities(tss_keyshare *ks, const tss_identity ids[TSS_MAX_PARTIES])
{
    if (ks == NULL || ids == NULL)
        return TSS_ERR_ARG;
    if (tss_keyshare_has_identities(ks))
        return TSS_ERR_STATE;
    if (tss_identities_check(ids, ks->n) != TSS_OK)
        return TSS_ERR_PARAMS;
    memset(ks->ids, 0, sizeof ks->ids);
    memcpy(ks->ids, ids, ks->n * sizeof ids[0]);
    return TSS_OK;
}

tss_keyshare *tss_keyshare_new(void)
{
    return tss_secmem_alloc(sizeof(tss_keyshare));
}

tss_err tss_keyshare_alloc_peers(tss_keyshare *ks)
{
    if (!tss_ote_kappa_valid(ks->kappa))
        return TSS_ERR_ARG;
    for (int j = 1; j <= ks->n && j <= TSS_MAX_PARTIES; j++) {
        if (j == ks->index)
            continue;
        tss_keyshare_peer *p = &ks->peer[j - 1];
        if (p->ot_send == NULL)
            p->ot_send = tss_ote_sender_setup_new(ks->kappa);
        if (p->ot_recv == NULL)
            p->ot_recv = tss_ote_receiver_setup_new(ks->kappa);
        if (p->ot_send == NULL || p->ot_recv == NULL)
            return TSS_ERR_NOMEM;
    }
    return TSS_OK;
}

void tss_keyshare_free(tss_keyshare *ks)
{
    if (ks == NULL)
        return;
    for (int j = 0; j < TSS_MAX_PARTIES; j++) {
        tss_ote_sender_setup_free(ks->peer[j].ot_send);
        tss_ote_receiver_setup_free(ks->peer[j].ot_recv);
    }
    tss_secmem_free(ks);
}

static size_t encoded_len(unsigned version, uint8_t n, unsigned kappa)
{
    size_t fixed = version == 1   ? KS_FIXED_V1
                   : version == 2 ? KS_FIXED_V2 + (size_t)KS_ID * n
                                  : KS_FIXED_V3 + (size_t)KS_ID * n;
    return fixed + 33u * n + 32 + KS_PEER(kappa) * (n > 0 ? n - 1u : 0u) + 32;
}

size_t tss_keyshare_encoded_len_kappa(uint8_t n, unsigned kappa)
{
    return encoded_len(TSS_KEYSHARE_VERSION, n, kappa);
}

size_t tss_keyshare_encoded_len(uint8_t n)
{
    return tss_keyshare_encoded_len_kappa(n, TSS_OTE_KAPPA_DEFAULT);
}

static void ks_check(uint8_t out[32], const uint8_t *buf, size_t len)
{
    tss_transcript t;
    tss_transcript_init(&t, "keyshare/check");
    tss_transcript_append(&t, buf, len);
    tss_transcript_final(&t, out);
}

static int ks_params_ok(uint8_t t, uint8_t n, uint8_t index)
{
    return n >= 2 && n <= TSS_MAX_PARTIES && t >= 2 && t <= n && index >= 1 && index <= n;
}

tss_err tss_keyshare_encode(const tss_keyshare *ks, uint8_t **out, size_t *out_len)
{
    if (ks == NULL || out == NULL || out_len == NULL || !ks_params_ok(ks->t, ks->n, ks->index) ||
        !tss_ote_kappa_valid(ks->kappa))
        return TSS_ERR_ARG;
    int has_ids = tss_keyshare_has_identities(ks);
    if (!has_ids && !is_zero((const uint8_t *)ks->ids, sizeof ks->ids))
        return TSS_ERR_ARG; /* identities are all set or all empty */
    size_t len = tss_keyshare_encoded_len_kappa(ks->n, ks->kappa);
    const size_t send_len = TSS_OTE_SENDER_SETUP_BYTES(ks->kappa);
    uint8_t *b = tss_secmem_alloc(len), *p = b;
    if (b == NULL)
        return TSS_ERR_NOMEM;
    memcpy(p, TSS_KEYSHARE_MAGIC, 4);
    p += 4;
    *p++ = 0;
    *p++ = TSS_KEYSHARE_VERSION;
    *p++ = ks->t;
    *p++ = ks->n;
    *p++ = ks->index;
    for (int s = 24; s >= 0; s -= 8)
        *p++ = (uint8_t)(ks->epoch >> s);
    *p++ = (uint8_t)(ks->kappa >> 8);
    *p++ = (uint8_t)ks->kappa;
    memcpy(p, ks->dkg_sid, 32);
    p += 32;
    memcpy(p, ks->setup_sid, 32);
    p += 32;
    memcpy(p, ks->chain_code, 32);
    p += 32;
    tss_point_serialize(p, &ks->pk);
    p += 33;
    for (int j = 0; j < ks->n; j++, p += 33)
        tss_point_serialize(p, &ks->pub_shares[j]);
    for (int j = 0; j < ks->n; j++, p += KS_ID) {
        memset(p, 0, TSS_PARTY_ID_MAX);
        memcpy(p, ks->ids[j].party_id, strnlen(ks->ids[j].party_id, TSS_PARTY_ID_MAX));
        memcpy(p + TSS_PARTY_ID_MAX, ks->ids[j].fp, 32);
    }
    tss_scalar_serialize(p, &ks->secret_share);
    p += 32;
    for (int j = 1; j <= ks->n; j++) {
        if (j == ks->index)
            continue;
        const tss_keyshare_peer *peer = &ks->peer[j - 1];
        if (peer->ot_send == NULL || peer->ot_recv == NULL || peer->ot_send->kappa != ks->kappa ||
            peer->ot_recv->kappa != ks->kappa) {
            tss_secmem_free(b);
            return TSS_ERR_ARG;
        }
        memcpy(p, peer->zero_seed, 32);
        tss_ote_sender_setup_encode(p + 32, peer->ot_send);
        tss_ote_receiver_setup_encode(p + 32 + send_len, peer->ot_recv);
        p += KS_PEER(ks->kappa);
    }
    ks_check(p, b, (size_t)(p - b));
    *out = b;
    *out_len = len;
    return TSS_OK;
}

/* The first t public shares define the polynomial's commitment: pk is its value at 0 and
 * every other P(j) its value at j. */
tss_err tss_keyshare_check_public(const tss_keyshare *ks)
{
    uint16_t set[TSS_MAX_PARTIES];
    tss_point terms[TSS_MAX_PARTIES], sum;
    for (uint16_t j = 0; j < ks->t; j++)
        set[j] = (uint16_t)(j + 1);
    for (uint16_t x = 0; x <= ks->n; x++) {
        if (x >= 1 && x <= ks->t)
            continue; /* the interpolation points themselves */
        const tss_point *want = x == 0 ? &ks->pk : &ks->pub_shares[x - 1];
        for (uint16_t k = 0; k < ks->t; k++) {
            tss_scalar lambda;
            if (tss_lagrange_at(&lambda, set, ks->t, set[k], x) != TSS_OK ||
                tss_point_mul(&terms[k], &ks->pub_shares[k], &lambda) != TSS_OK)
                return TSS_ERR_MISMATCH;
        }
        if (tss_point_sum(&sum, terms, ks->t) != TSS_OK || !tss_point_eq(&sum, want))
            return TSS_ERR_MISMATCH;
    }
    return TSS_OK;
}

/* Identities of a v2 encoding: each party id NUL-padded with nothing after its end; then
 * all valid (tss_identities_check) or all empty. */
static tss_err decode_ids(tss_keyshare *ks, const uint8_t *p)
{
    for (int j = 0; j < ks->n; j++, p += KS_ID) {
        size_t l = strnlen((const char *)p, TSS_PARTY_ID_MAX);
        if (!is_zero(p + l, TSS_PARTY_ID_MAX - l))
            return TSS_ERR_FORMAT;
        memcpy(ks->ids[j].party_id, p, l);
        ks->ids[j].party_id[l] = 0;
        memcpy(ks->ids[j].fp, p + TSS_PARTY_ID_MAX, 32);
    }
    if (tss_keyshare_has_identities(ks) || is_zero((const uint8_t *)ks->ids, sizeof ks->ids))
        return TSS_OK;
    return TSS_ERR_FORMAT;
}

tss_err tss_keyshare_decode(tss_keyshare **out, const uint8_t *buf, size_t len)
{
    if (out == NULL || buf == NULL)
        return TSS_ERR_ARG;
    if (len < KS_FIXED_V1)
        return TSS_ERR_LENGTH;
    unsigned version = buf[5], kappa = TSS_OTE_KAPPA_V2;
    if (memcmp(buf, TSS_KEYSHARE_MAGIC, 4) != 0 || buf[4] != 0 || version < 1 || version > 3 ||
        !ks_params_ok(buf[6], buf[7], buf[8]))
        return TSS_ERR_FORMAT;
    if (version >= 3) {
        if (len < KS_FIXED_V3)
            return TSS_ERR_LENGTH;
        kappa = (unsigned)buf[13] << 8 | buf[14]; /* after t, n, index and the epoch */
        if (!tss_ote_kappa_valid(kappa))
            return TSS_ERR_FORMAT;
    }
    if (len != encoded_len(version, buf[7], kappa))
        return TSS_ERR_LENGTH;
    uint8_t check[32];
    ks_check(check, buf, len - 32);
    if (!tss_ct_eq(check, buf + len - 32, 32))
        return TSS_ERR_FORMAT;
    tss_keyshare *ks = tss_keyshare_new();
    if (ks == NULL)
        return TSS_ERR_NOMEM;
    tss_err err = TSS_OK;
    const uint8_t *p = buf + 6;
    ks->t = *p++;
    ks->n = *p++;
    ks->index = *p++;
    ks->kappa = (uint16_t)kappa;
    if (version >= 2) {
        ks->epoch = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        p += 4;
    }
    p += version >= 3 ? 2 : 0; /* kappa, read above */
    memcpy(ks->dkg_sid, p, 32);
    p += 32;
    memcpy(ks->setup_sid, version >= 2 ? p : ks->dkg_sid, 32);
    p += version >= 2 ? 32 : 0;
    memcpy(ks->chain_code, p, 32);
    p += 32;
    if ((err = tss_point_parse(&ks->pk, p)) != TSS_OK)
        goto fail;
    p += 33;
    for (int j = 0; j < ks->n; j++, p += 33)
        if ((err = tss_point_parse(&ks->pub_shares[j], p)) != TSS_OK)
            goto fail;
    if (version >= 2) {
        if ((err = decode_ids(ks, p)) != TSS_OK)
            goto fail;
        p += (size_t)KS_ID * ks->n;
    }
    if ((err = tss_scalar_parse(&ks->secret_share, p)) != TSS_OK)
        goto fail;
    p += 32;
    if ((err = tss_keyshare_alloc_peers(ks)) != TSS_OK)
        goto fail;
    for (int j = 1; j <= ks->n; j++) {
        if (j == ks->index)
            continue;
        tss_keyshare_peer *peer = &ks->peer[j - 1];
        const size_t send_len = TSS_OTE_SENDER_SETUP_BYTES(kappa);
        memcpy(peer->zero_seed, p, 32);
        if ((err = tss_ote_sender_setup_decode(peer->ot_send, kappa, p + 32, send_len)) != TSS_OK ||
            (err = tss_ote_receiver_setup_decode(peer->ot_recv, kappa, p + 32 + send_len,
                                                 TSS_OTE_RECEIVER_SETUP_BYTES(kappa))) != TSS_OK)
            goto fail;
        p += KS_PEER(kappa);
    }
    /* the secret must match its public share, and the public shares the key */
    tss_point mine;
    if (tss_point_base_mul(&mine, &ks->secret_share) != TSS_OK ||
        !tss_point_eq(&mine, &ks->pub_shares[ks->index - 1])) {
        err = TSS_ERR_MISMATCH;
        goto fail;
    }
    if ((err = tss_keyshare_check_public(ks)) != TSS_OK)
        goto fail;
    *out = ks;
    return TSS_OK;
fail:
    tss_keyshare_free(ks);
    return err;
}

void tss_keyshare_fingerprint(uint8_t out[32], const tss_keyshare *ks)
{
    tss_transcript t;
    tss_transcript_init(&t, "keyshare/fingerprint/v2");
    tss_transcript_append_u32(&t, ks->t);
    tss_transcript_append_u32(&t, ks->n);
    tss_transcript_append_u32(&t, ks->epoch);
    tss_transcript_append(&t, ks->dkg_sid, 32);
    tss_transcript_append(&t, ks->setup_sid, 32);
    tss_transcript_append_point(&t, &ks->pk);
    tss_transcript_append(&t, ks->chain_code, 32);
    for (int j = 0; j < ks->n; j++)
        tss_transcript_append_point(&t, &ks->pub_shares[j]);
    for (int j = 0; j < ks->n; j++) {
        tss_transcript_append_u32(&t, (uint32_t)j + 1);
        tss_transcript_append(&t, (const uint8_t *)ks->ids[j].party_id,
                              strnlen(ks->ids[j].party_id, TSS_PARTY_ID_MAX));
        tss_transcript_append(&t, ks->ids[j].fp, 32);
    }
    if (ks->kappa != TSS_OTE_KAPPA_V2) /* absent for κ = 256: v1/v2 fingerprints stay */
        tss_transcript_append_u32(&t, ks->kappa);
    tss_transcript_final(&t, out);
}
