/* daemon/signerd/chan.c — round 0 (authenticated ephemeral exchange) and the pairwise
 * AES-256-GCM channels of one signing or keygen session. Crypto only; the session logic
 * that moves these bytes in frames lives elsewhere. Design argument: chan.h. */
#include "chan.h"

#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "api/frame.h"
#include "tss/secmem.h"
#include "tss/transcript.h"

#define EPH_BYTES  65
#define R0_MAC_OFF (EPH_BYTES + 32 + 32)

static const char K0_INFO[] = "mpc-signer/hello/v1";
static const char R0_TAG[] = "mpc-signer/round0/v1";
static const char CHAN_INFO[] = "mpc-signer/chan/v1";

typedef enum { PHASE_ROUND0 = 0, PHASE_OPEN, PHASE_DEAD } chan_phase;

typedef struct {
    uint16_t index;
    char id[SIGNER_CHAN_ID_MAX + 1];
    uint8_t fp[32];
    uint8_t eph[EPH_BYTES]; /* this party's ephemeral public key (round 0) */
    uint8_t rand[32];
    int have_r0;         /* peers: round 0 accepted; self: always 1 */
    uint8_t ss[32];      /* ECDH(cert_self, cert_peer); wiped at derive */
    EVP_PKEY *cert;      /* the peer's certificate public key (held until derive) */
    uint8_t k0_out[32];  /* K0_{self,peer}; wiped at derive */
    uint8_t k0_in[32];   /* K0_{peer,self}; wiped at derive */
    uint8_t key_out[32]; /* key(self -> peer) */
    uint8_t key_in[32];  /* key(peer -> self) */
    uint64_t ctr_out, ctr_in;
} chan_party;

struct signer_chan {
    chan_phase phase;
    uint16_t self_index;
    size_t self_pos, n;
    uint8_t hub_nonce[32], session16[16], start_digest[32];
    EVP_PKEY *eph;      /* ephemeral private key; NULL after derive */
    EVP_PKEY *self_key; /* own identity key (a reference, held until derive) */
    chan_party p[SIGNER_CHAN_MAX_PARTIES];
};

static const char *const chan_errors[SIGNER_CHAN_ERR__COUNT] = {
    [SIGNER_CHAN_OK] = "success",
    [SIGNER_CHAN_ERR_ARG] = "invalid argument (caller broke a precondition)",
    [SIGNER_CHAN_ERR_CRYPTO] = "OpenSSL operation or allocation failed",
    [SIGNER_CHAN_ERR_MAC] = "round-0 MAC does not verify (wrong identity key, nonce or session, "
                            "or altered in transit)",
    [SIGNER_CHAN_ERR_DIGEST] = "peer received a different session-start (hub equivocation)",
    [SIGNER_CHAN_ERR_POINT] = "peer's ephemeral key is not a valid P-256 point",
    [SIGNER_CHAN_ERR_AUTH] = "sealed message does not authenticate (altered, replayed, "
                             "reordered or dropped); session must abort",
    [SIGNER_CHAN_ERR_STATE] = "operation not allowed in this phase (duplicate round 0, "
                              "derive repeated, or channel dead)",
    [SIGNER_CHAN_ERR_LENGTH] = "payload has the wrong length or exceeds the frame limit",
};

const char *signer_chan_strerror(signer_chan_err e)
{
    if ((unsigned)e >= SIGNER_CHAN_ERR__COUNT || !chan_errors[e])
        return "unknown signer channel error";
    return chan_errors[e];
}

/* ---- small helpers ------------------------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Position of party `index` in c->p, or -1. */
static int party_pos(const signer_chan *c, uint16_t index)
{
    for (size_t k = 0; k < c->n; k++)
        if (c->p[k].index == index)
            return (int)k;
    return -1;
}

/* The peer with `index` (not self), or NULL. */
static chan_party *peer(signer_chan *c, uint16_t index)
{
    int k = party_pos(c, index);
    return k < 0 || (size_t)k == c->self_pos ? NULL : &c->p[k];
}

static int is_p256(EVP_PKEY *k)
{
    char group[32];
    if (!k || !EVP_PKEY_is_a(k, "EC"))
        return 0;
    if (!EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL))
        return 0;
    return strcmp(group, "prime256v1") == 0;
}

/* out[0..32) = x coordinate of ECDH(priv, pub). pub is validated by OpenSSL. */
static signer_chan_err ecdh(EVP_PKEY *priv, EVP_PKEY *pub, uint8_t out[32])
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    size_t len = 32;
    int ok = ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, pub) == 1 &&
             EVP_PKEY_derive(ctx, out, &len) == 1 && len == 32;
    EVP_PKEY_CTX_free(ctx);
    if (!ok)
        OPENSSL_cleanse(out, 32);
    return ok ? SIGNER_CHAN_OK : SIGNER_CHAN_ERR_CRYPTO;
}

/* out[0..32) = HKDF-SHA256(ikm, salt, info_tag || from || to). */
static signer_chan_err hkdf(uint8_t out[32], const uint8_t *ikm, size_t ikm_len,
                            const uint8_t *salt, size_t salt_len, const char *info_tag,
                            uint16_t from, uint16_t to)
{
    uint8_t info[64];
    size_t tl = strlen(info_tag);
    memcpy(info, info_tag, tl);
    put16(info + tl, from);
    put16(info + tl + 2, to);
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, tl + 4),
        OSSL_PARAM_construct_end(),
    };
    int ok = kctx && EVP_KDF_derive(kctx, out, 32, params) == 1;
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    if (!ok)
        OPENSSL_cleanse(out, 32);
    return ok ? SIGNER_CHAN_OK : SIGNER_CHAN_ERR_CRYPTO;
}

/* ---- creation ----------------------------------------------------------------------- */

/* Checks the party list: increasing indices, ids, P-256 keys, distinct fingerprints,
 * self present with self_key's public key, no peer with it. Sets c->self_pos. */
static signer_chan_err check_parties(signer_chan *c, EVP_PKEY *self_key, uint16_t self_index,
                                     const signer_chan_party *parties, size_t n)
{
    int self_seen = 0;
    for (size_t k = 0; k < n; k++) {
        const signer_chan_party *q = &parties[k];
        size_t idl = q->party_id ? strnlen(q->party_id, SIGNER_CHAN_ID_MAX + 1) : 0;
        if (q->index == 0 || q->index > API_PARTY_MAX_INDEX ||
            (k > 0 && q->index <= parties[k - 1].index))
            return SIGNER_CHAN_ERR_ARG;
        if (idl == 0 || idl > SIGNER_CHAN_ID_MAX || !is_p256(q->pub))
            return SIGNER_CHAN_ERR_ARG;
        for (size_t m = 0; m < k; m++)
            if (memcmp(parties[m].fp, q->fp, 32) == 0)
                return SIGNER_CHAN_ERR_ARG;
        int is_self_key = EVP_PKEY_eq(self_key, q->pub) == 1;
        if (is_self_key != (q->index == self_index))
            return SIGNER_CHAN_ERR_ARG;
        if (q->index == self_index) {
            self_seen = 1;
            c->self_pos = k;
        }
    }
    return self_seen ? SIGNER_CHAN_OK : SIGNER_CHAN_ERR_ARG;
}

/* Copies identities, and for every peer the static ECDH and both K0 keys. */
static signer_chan_err setup_parties(signer_chan *c, EVP_PKEY *self_key,
                                     const signer_chan_party *parties)
{
    for (size_t k = 0; k < c->n; k++) {
        chan_party *q = &c->p[k];
        q->index = parties[k].index;
        strcpy(q->id, parties[k].party_id); /* length checked in check_parties */
        memcpy(q->fp, parties[k].fp, 32);
        if (k == c->self_pos)
            continue;
        if (EVP_PKEY_up_ref(parties[k].pub) != 1)
            return SIGNER_CHAN_ERR_CRYPTO;
        q->cert = parties[k].pub;
        signer_chan_err e = ecdh(self_key, parties[k].pub, q->ss);
        if (!e)
            e = hkdf(q->k0_out, q->ss, 32, c->hub_nonce, 32, K0_INFO, c->self_index, q->index);
        if (!e)
            e = hkdf(q->k0_in, q->ss, 32, c->hub_nonce, 32, K0_INFO, q->index, c->self_index);
        if (e)
            return e;
    }
    return SIGNER_CHAN_OK;
}

/* The ephemeral key pair (uncompressed public encoding) and the fresh random value. */
static signer_chan_err setup_self(signer_chan *c)
{
    chan_party *me = &c->p[c->self_pos];
    c->eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!c->eph)
        return SIGNER_CHAN_ERR_CRYPTO;
    size_t len = 0;
    if (!EVP_PKEY_set_utf8_string_param(c->eph, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                        "uncompressed") ||
        !EVP_PKEY_get_octet_string_param(c->eph, OSSL_PKEY_PARAM_PUB_KEY, me->eph, EPH_BYTES,
                                         &len) ||
        len != EPH_BYTES || me->eph[0] != 0x04)
        return SIGNER_CHAN_ERR_CRYPTO;
    if (RAND_priv_bytes(me->rand, 32) != 1)
        return SIGNER_CHAN_ERR_CRYPTO;
    me->have_r0 = 1;
    return SIGNER_CHAN_OK;
}

signer_chan_err signer_chan_new(signer_chan **out, EVP_PKEY *self_key, uint16_t self_index,
                                const signer_chan_party *parties, size_t n,
                                const uint8_t hub_nonce[32], const uint8_t session16[16],
                                const uint8_t start_digest[32])
{
    if (!out)
        return SIGNER_CHAN_ERR_ARG;
    *out = NULL;
    if (!self_key || !is_p256(self_key) || !parties || n < 2 || n > SIGNER_CHAN_MAX_PARTIES ||
        !hub_nonce || !session16 || !start_digest)
        return SIGNER_CHAN_ERR_ARG;
    signer_chan *c = tss_secmem_alloc(sizeof *c);
    if (!c)
        return SIGNER_CHAN_ERR_CRYPTO;
    c->n = n;
    c->self_index = self_index;
    memcpy(c->hub_nonce, hub_nonce, 32);
    memcpy(c->session16, session16, 16);
    memcpy(c->start_digest, start_digest, 32);
    signer_chan_err e = check_parties(c, self_key, self_index, parties, n);
    if (!e)
        e = setup_self(c);
    if (!e)
        e = setup_parties(c, self_key, parties);
    if (!e && EVP_PKEY_up_ref(self_key) == 1)
        c->self_key = self_key;
    else if (!e)
        e = SIGNER_CHAN_ERR_CRYPTO;
    if (e) {
        signer_chan_free(c);
        return e;
    }
    c->phase = PHASE_ROUND0;
    *out = c;
    return SIGNER_CHAN_OK;
}

static void wipe_round0(signer_chan *c);

void signer_chan_free(signer_chan *c)
{
    if (!c)
        return;
    wipe_round0(c); /* frees the ephemeral key and the references to identity keys */
    tss_secmem_free(c);
}

/* ---- round 0 ------------------------------------------------------------------------ */

/* mac = HMAC-SHA256(k0, R0_TAG || session16 || from || to || body[0..R0_MAC_OFF)). */
static signer_chan_err r0_mac(const signer_chan *c, const uint8_t k0[32], uint16_t from,
                              uint16_t to, const uint8_t *body, uint8_t mac[32])
{
    uint8_t ids[4];
    put16(ids, from);
    put16(ids + 2, to);
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    size_t len = 0;
    int ok = ctx && EVP_MAC_init(ctx, k0, 32, params) == 1 &&
             EVP_MAC_update(ctx, (const uint8_t *)R0_TAG, sizeof R0_TAG - 1) == 1 &&
             EVP_MAC_update(ctx, c->session16, 16) == 1 && EVP_MAC_update(ctx, ids, 4) == 1 &&
             EVP_MAC_update(ctx, body, R0_MAC_OFF) == 1 && EVP_MAC_final(ctx, mac, &len, 32) == 1 &&
             len == 32;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(m);
    return ok ? SIGNER_CHAN_OK : SIGNER_CHAN_ERR_CRYPTO;
}

signer_chan_err signer_chan_round0(signer_chan *c, uint16_t to, uint8_t out[SIGNER_CHAN_R0_BYTES])
{
    if (!c || !out)
        return SIGNER_CHAN_ERR_ARG;
    if (c->phase != PHASE_ROUND0)
        return SIGNER_CHAN_ERR_STATE;
    chan_party *q = peer(c, to);
    if (!q)
        return SIGNER_CHAN_ERR_ARG;
    const chan_party *me = &c->p[c->self_pos];
    memcpy(out, me->eph, EPH_BYTES);
    memcpy(out + EPH_BYTES, me->rand, 32);
    memcpy(out + EPH_BYTES + 32, c->start_digest, 32);
    return r0_mac(c, q->k0_out, c->self_index, to, out, out + R0_MAC_OFF);
}

/* An EVP_PKEY for eph if it is an uncompressed P-256 point on the curve (not infinity),
 * else NULL. */
static EVP_PKEY *eph_parse(const uint8_t eph[EPH_BYTES])
{
    if (eph[0] != 0x04) /* no compressed or hybrid forms */
        return NULL;
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)eph, EPH_BYTES),
        OSSL_PARAM_construct_end(),
    };
    int ok = ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (ok) {
        EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
        ok = chk && EVP_PKEY_public_check(chk) == 1;
        EVP_PKEY_CTX_free(chk);
    }
    if (!ok) {
        EVP_PKEY_free(k);
        return NULL;
    }
    return k;
}

signer_chan_err signer_chan_receive_round0(signer_chan *c, uint16_t from, const uint8_t *p,
                                           size_t len)
{
    if (!c || !p)
        return SIGNER_CHAN_ERR_ARG;
    chan_party *q = peer(c, from);
    if (!q)
        return SIGNER_CHAN_ERR_ARG;
    if (c->phase != PHASE_ROUND0 || q->have_r0)
        return SIGNER_CHAN_ERR_STATE;
    if (len != SIGNER_CHAN_R0_BYTES)
        return SIGNER_CHAN_ERR_LENGTH;
    uint8_t mac[32];
    signer_chan_err e = r0_mac(c, q->k0_in, from, c->self_index, p, mac);
    int mac_ok = !e && CRYPTO_memcmp(mac, p + R0_MAC_OFF, 32) == 0;
    OPENSSL_cleanse(mac, sizeof mac);
    if (e)
        return e;
    if (!mac_ok)
        return SIGNER_CHAN_ERR_MAC;
    /* authenticated from here on */
    if (CRYPTO_memcmp(p + EPH_BYTES + 32, c->start_digest, 32) != 0)
        return SIGNER_CHAN_ERR_DIGEST;
    EVP_PKEY *k = memcmp(p, c->p[c->self_pos].eph, EPH_BYTES) == 0 ? NULL : eph_parse(p);
    if (!k)
        return SIGNER_CHAN_ERR_POINT;
    EVP_PKEY_free(k);
    memcpy(q->eph, p, EPH_BYTES);
    memcpy(q->rand, p + EPH_BYTES, 32);
    q->have_r0 = 1;
    return SIGNER_CHAN_OK;
}

int signer_chan_round0_complete(const signer_chan *c)
{
    if (!c || c->phase == PHASE_DEAD)
        return 0;
    for (size_t k = 0; k < c->n; k++)
        if (!c->p[k].have_r0)
            return 0;
    return 1;
}

int signer_chan_dead(const signer_chan *c)
{
    return c && c->phase == PHASE_DEAD;
}

/* ---- derive ------------------------------------------------------------------------- */

/* Forgets the round-0 secrets: ephemeral private key, static ECDH outputs, K0 keys. */
static void wipe_round0(signer_chan *c)
{
    EVP_PKEY_free(c->eph);
    EVP_PKEY_free(c->self_key);
    c->eph = NULL;
    c->self_key = NULL;
    for (size_t k = 0; k < c->n; k++) {
        chan_party *q = &c->p[k];
        EVP_PKEY_free(q->cert);
        q->cert = NULL;
        OPENSSL_cleanse(q->ss, sizeof q->ss);
        OPENSSL_cleanse(q->k0_out, sizeof q->k0_out);
        OPENSSL_cleanse(q->k0_in, sizeof q->k0_in);
    }
}

/* The session is over: forget every secret; every later call fails with STATE. */
static void chan_kill(signer_chan *c)
{
    wipe_round0(c);
    for (size_t k = 0; k < c->n; k++) {
        OPENSSL_cleanse(c->p[k].key_out, 32);
        OPENSSL_cleanse(c->p[k].key_in, 32);
    }
    c->phase = PHASE_DEAD;
}

/* sid: see signer_chan_derive in chan.h. kind is "keygen", "sign" or "reshare". */
static void sid_transcript(const signer_chan *c, const char *kind, const uint8_t key_id[16],
                           const uint8_t *binding, size_t binding_len,
                           const uint8_t request_digest[32], uint8_t sid[32])
{
    char tag[32];
    snprintf(tag, sizeof tag, "mpc-signer/%s/v1", kind);
    tss_transcript t;
    tss_transcript_init(&t, "signerd/sid");
    tss_transcript_append(&t, tag, strlen(tag));
    tss_transcript_append(&t, key_id, 16);
    tss_transcript_append(&t, binding, binding_len);
    tss_transcript_append_u32(&t, (uint32_t)c->n);
    for (size_t k = 0; k < c->n; k++) {
        tss_transcript_append_u32(&t, c->p[k].index);
        tss_transcript_append(&t, c->p[k].id, strlen(c->p[k].id));
        tss_transcript_append(&t, c->p[k].fp, 32);
    }
    tss_transcript_append(&t, c->hub_nonce, 32);
    tss_transcript_append(&t, c->session16, 16);
    tss_transcript_append(&t, c->start_digest, 32);
    for (size_t k = 0; k < c->n; k++) {
        tss_transcript_append(&t, c->p[k].eph, EPH_BYTES);
        tss_transcript_append(&t, c->p[k].rand, 32);
    }
    tss_transcript_append(&t, request_digest, 32);
    tss_transcript_final(&t, sid);
}

signer_chan_err signer_chan_sid(const signer_chan *c, const char *kind, const uint8_t key_id[16],
                                const uint8_t *binding, size_t binding_len,
                                const uint8_t request_digest[32], uint8_t sid_out[32])
{
    if (!c || !kind || !key_id || (!binding && binding_len) || !request_digest || !sid_out)
        return SIGNER_CHAN_ERR_ARG;
    if (strcmp(kind, "keygen") != 0 && strcmp(kind, "sign") != 0 && strcmp(kind, "reshare") != 0)
        return SIGNER_CHAN_ERR_ARG;
    if (!signer_chan_round0_complete(c) || !c->eph)
        return SIGNER_CHAN_ERR_STATE;
    sid_transcript(c, kind, key_id, binding, binding_len, request_digest, sid_out);
    return SIGNER_CHAN_OK;
}

/* key(self -> q) and key(q -> self) from ikm = ss || ECDH(eph_lo, eph_hi) ||
 * ECDH(cert_lo, eph_hi) || ECDH(eph_lo, cert_hi) (lo, hi: the lower and higher index of the
 * pair, so both ends build the same bytes), salt sid. The two mixed terms are Noise KK's
 * "es" and "se": without them whoever stole cert key j could pose as any peer to j (key
 * compromise impersonation); with them it also needs that peer's cert key or ephemeral. */
static signer_chan_err derive_pair(signer_chan *c, chan_party *q, const uint8_t sid[32])
{
    uint8_t ikm[128];
    EVP_PKEY *peer_eph = eph_parse(q->eph);
    if (!peer_eph)
        return SIGNER_CHAN_ERR_POINT; /* checked at round 0; unreachable */
    int self_lo = c->self_index < q->index;
    memcpy(ikm, q->ss, 32);
    signer_chan_err e = ecdh(c->eph, peer_eph, ikm + 32);
    if (!e) /* cert_self x eph_peer: "cert_lo x eph_hi" when self is lo, else "eph_lo x cert_hi" */
        e = ecdh(c->self_key, peer_eph, ikm + (self_lo ? 64 : 96));
    if (!e) /* eph_self x cert_peer: the other mixed term */
        e = ecdh(c->eph, q->cert, ikm + (self_lo ? 96 : 64));
    EVP_PKEY_free(peer_eph);
    if (!e)
        e = hkdf(q->key_out, ikm, sizeof ikm, sid, 32, CHAN_INFO, c->self_index, q->index);
    if (!e)
        e = hkdf(q->key_in, ikm, sizeof ikm, sid, 32, CHAN_INFO, q->index, c->self_index);
    OPENSSL_cleanse(ikm, sizeof ikm);
    return e;
}

signer_chan_err signer_chan_derive(signer_chan *c, const char *kind, const uint8_t key_id[16],
                                   const uint8_t *binding, size_t binding_len,
                                   const uint8_t request_digest[32], uint8_t sid_out[32])
{
    uint8_t sid[32];
    signer_chan_err e = signer_chan_sid(c, kind, key_id, binding, binding_len, request_digest, sid);
    if (e)
        return e;
    for (size_t k = 0; k < c->n; k++) {
        if (k == c->self_pos)
            continue;
        e = derive_pair(c, &c->p[k], sid);
        if (e) {
            chan_kill(c);
            return e;
        }
    }
    wipe_round0(c); /* forward secrecy: only the channel keys survive round 0 */
    c->phase = PHASE_OPEN;
    memcpy(sid_out, sid, 32);
    return SIGNER_CHAN_OK;
}

/* ---- sealed messages ---------------------------------------------------------------- */

/* 1 if the frame header h is a protocol frame of this session from -> to whose payload
 * length is payload_len (PARTY_LINK.md offsets), else 0. */
static int header_ok(const signer_chan *c, const uint8_t h[API_FRAME_HEADER_BYTES], uint16_t from,
                     uint16_t to, size_t payload_len)
{
    return h[0] == API_FRAME_VERSION && h[1] == API_FRAME_PROTOCOL && get16(h + 2) == 0 &&
           memcmp(h + 4, c->session16, 16) == 0 && get16(h + 20) == from && get16(h + 22) == to &&
           get32(h + 28) == payload_len;
}

/* AES-256-GCM with nonce = 0^32 || ctr (BE). enc: out = E(in), tag written; else out =
 * D(in) and the tag checked. Returns 1 on success. */
static int gcm(int enc, const uint8_t key[32], uint64_t ctr, const uint8_t aad[32],
               const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16])
{
    uint8_t nonce[12] = {0};
    for (int b = 0; b < 8; b++)
        nonce[4 + b] = (uint8_t)(ctr >> (56 - 8 * b));
    EVP_CIPHER *ciph = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t fin[16]; /* GCM's final writes nothing; out may be NULL when len == 0 */
    int outl = 0;
    int ok = ciph && ctx && EVP_CipherInit_ex2(ctx, ciph, key, nonce, enc, NULL) == 1 &&
             EVP_CipherUpdate(ctx, NULL, &outl, aad, API_FRAME_HEADER_BYTES) == 1 &&
             (len == 0 || EVP_CipherUpdate(ctx, out, &outl, in, (int)len) == 1) &&
             (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag) == 1) &&
             EVP_CipherFinal_ex(ctx, fin, &outl) == 1 &&
             (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(ciph);
    return ok;
}

signer_chan_err signer_chan_seal(signer_chan *c, uint16_t to, const uint8_t aad[32],
                                 const uint8_t *pt, size_t len, uint8_t *out)
{
    if (!c || !aad || (!pt && len) || !out)
        return SIGNER_CHAN_ERR_ARG;
    if (c->phase != PHASE_OPEN)
        return SIGNER_CHAN_ERR_STATE;
    chan_party *q = peer(c, to);
    if (!q)
        return SIGNER_CHAN_ERR_ARG;
    if (len > API_FRAME_MAX_PAYLOAD - SIGNER_CHAN_TAG_BYTES)
        return SIGNER_CHAN_ERR_LENGTH;
    if (!header_ok(c, aad, c->self_index, to, len + SIGNER_CHAN_TAG_BYTES))
        return SIGNER_CHAN_ERR_ARG;
    if (q->ctr_out == UINT64_MAX)
        return SIGNER_CHAN_ERR_STATE;
    if (!gcm(1, q->key_out, q->ctr_out, aad, pt, len, out, out + len)) {
        /* the counter's fate is unknown: never risk a nonce reuse */
        OPENSSL_cleanse(out, len + SIGNER_CHAN_TAG_BYTES);
        chan_kill(c);
        return SIGNER_CHAN_ERR_CRYPTO;
    }
    q->ctr_out++;
    return SIGNER_CHAN_OK;
}

signer_chan_err signer_chan_open(signer_chan *c, uint16_t from, const uint8_t aad[32],
                                 const uint8_t *ct, size_t len, uint8_t *pt)
{
    if (!c || !aad || (!ct && len) || (!pt && len > SIGNER_CHAN_TAG_BYTES))
        return SIGNER_CHAN_ERR_ARG;
    if (c->phase != PHASE_OPEN)
        return SIGNER_CHAN_ERR_STATE;
    chan_party *q = peer(c, from);
    if (!q)
        return SIGNER_CHAN_ERR_ARG;
    size_t ptlen = len >= SIGNER_CHAN_TAG_BYTES ? len - SIGNER_CHAN_TAG_BYTES : 0;
    uint8_t tag[16];
    int ok = len >= SIGNER_CHAN_TAG_BYTES && len <= API_FRAME_MAX_PAYLOAD &&
             q->ctr_in != UINT64_MAX && header_ok(c, aad, from, c->self_index, len);
    if (ok) {
        memcpy(tag, ct + ptlen, 16);
        ok = gcm(0, q->key_in, q->ctr_in, aad, ct, ptlen, pt, tag);
    }
    if (!ok) {
        if (ptlen)
            OPENSSL_cleanse(pt, ptlen); /* GCM wrote unauthenticated plaintext */
        chan_kill(c);
        return SIGNER_CHAN_ERR_AUTH;
    }
    q->ctr_in++;
    return SIGNER_CHAN_OK;
}
