/* tests/signerd/test_chan.c — round 0 and the sealed signer-to-signer channel
 * (daemon/signerd/chan.c): agreement, every round-0 check, AEAD binding of header, counter
 * and direction, and sid sensitivity. Round-0 MACs and the sid are recomputed here with an
 * independent implementation (EVP_PKEY HKDF, one-shot HMAC, tss transcript). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "api/frame.h"
#include "chan.h"
#include "tss/transcript.h"

#define MAXN 4
#define R0   SIGNER_CHAN_R0_BYTES

typedef struct {
    size_t n;
    EVP_PKEY *key[MAXN];
    char id[MAXN][16];
    signer_chan_party parties[MAXN];
    uint8_t nonce[32], session[16], digest[32];
    signer_chan *c[MAXN];
} world;

static EVP_PKEY *new_key(void)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(k);
    return k;
}

/* n parties with the given indices (1..n when idx is NULL), fresh keys and session values,
 * and a signer_chan for each. */
static world *world_new(size_t n, const uint16_t *idx)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->n = n;
    for (size_t k = 0; k < n; k++) {
        w->key[k] = new_key();
        snprintf(w->id[k], sizeof w->id[k], "node%zu", k + 1);
        w->parties[k].index = idx ? idx[k] : (uint16_t)(k + 1);
        w->parties[k].party_id = w->id[k];
        w->parties[k].pub = w->key[k];
        assert_int_equal(RAND_bytes(w->parties[k].fp, 32), 1);
    }
    assert_int_equal(RAND_bytes(w->nonce, 32), 1);
    assert_int_equal(RAND_bytes(w->session, 16), 1);
    w->session[0] |= 1; /* non-zero, as the frame rules require */
    assert_int_equal(RAND_bytes(w->digest, 32), 1);
    for (size_t k = 0; k < n; k++)
        assert_int_equal(signer_chan_new(&w->c[k], w->key[k], w->parties[k].index, w->parties, n,
                                         w->nonce, w->session, w->digest),
                         SIGNER_CHAN_OK);
    return w;
}

static void world_free(world *w)
{
    for (size_t k = 0; k < w->n; k++) {
        signer_chan_free(w->c[k]);
        EVP_PKEY_free(w->key[k]);
    }
    free(w);
}

static uint16_t ix(const world *w, size_t k)
{
    return w->parties[k].index;
}

/* Party i's round-0 payload, delivered to party j. */
static signer_chan_err exchange(world *w, size_t i, size_t j)
{
    uint8_t p[R0];
    assert_int_equal(signer_chan_round0(w->c[i], ix(w, j), p), SIGNER_CHAN_OK);
    return signer_chan_receive_round0(w->c[j], ix(w, i), p, sizeof p);
}

static void round0_all(world *w)
{
    for (size_t i = 0; i < w->n; i++)
        for (size_t j = 0; j < w->n; j++)
            if (i != j)
                assert_int_equal(exchange(w, i, j), SIGNER_CHAN_OK);
    for (size_t k = 0; k < w->n; k++)
        assert_int_equal(signer_chan_round0_complete(w->c[k]), 1);
}

static const uint8_t KEY_ID[16] = {0x4b, 0x49, 0x44};
static const uint8_t BINDING[2] = {2, 3}; /* keygen: t, n */
static const uint8_t REQ[32] = {0x52, 0x45, 0x51};

static void derive_all(world *w, uint8_t sids[MAXN][32])
{
    for (size_t k = 0; k < w->n; k++)
        assert_int_equal(
            signer_chan_derive(w->c[k], "keygen", KEY_ID, BINDING, sizeof BINDING, REQ, sids[k]),
            SIGNER_CHAN_OK);
}

static world *world_ready(size_t n, const uint16_t *idx)
{
    uint8_t sids[MAXN][32];
    world *w = world_new(n, idx);
    round0_all(w);
    derive_all(w, sids);
    return w;
}

/* The 32-byte header of a protocol frame, produced by the real frame encoder. */
static void header(const world *w, size_t from, size_t to, uint32_t round, size_t plen,
                   uint8_t h[32])
{
    uint8_t *buf = calloc(1, API_FRAME_HEADER_BYTES + plen);
    uint8_t *zero = calloc(1, plen);
    assert_non_null(buf);
    assert_non_null(zero);
    api_frame f = {.type = API_FRAME_PROTOCOL,
                   .from = ix(w, from),
                   .to = ix(w, to),
                   .round = round,
                   .payload_len = (uint32_t)plen,
                   .payload = zero};
    memcpy(f.session, w->session, 16);
    size_t out_len = 0;
    assert_int_equal(api_frame_encode(buf, API_FRAME_HEADER_BYTES + plen, &out_len, &f), API_OK);
    memcpy(h, buf, 32);
    free(buf);
    free(zero);
}

typedef struct {
    uint8_t h[32];
    uint8_t ct[256];
    size_t len; /* of ct */
} msg;

/* Party i seals pt (<= 240 bytes) for party j in round `round`. */
static msg seal(world *w, size_t i, size_t j, uint32_t round, const char *pt)
{
    msg m;
    size_t len = strlen(pt);
    m.len = len + SIGNER_CHAN_TAG_BYTES;
    header(w, i, j, round, m.len, m.h);
    assert_int_equal(signer_chan_seal(w->c[i], ix(w, j), m.h, (const uint8_t *)pt, len, m.ct),
                     SIGNER_CHAN_OK);
    return m;
}

/* Party j opens m as coming from party i; on success checks the plaintext is expect. */
static signer_chan_err open_msg(world *w, size_t j, size_t i, const msg *m, const char *expect)
{
    uint8_t pt[256];
    memset(pt, 0xAA, sizeof pt);
    signer_chan_err e = signer_chan_open(w->c[j], ix(w, i), m->h, m->ct, m->len, pt);
    size_t ptlen = m->len - SIGNER_CHAN_TAG_BYTES;
    if (e == SIGNER_CHAN_OK) {
        assert_non_null(expect); /* a message the caller expected to fail opened */
        assert_int_equal(ptlen, strlen(expect));
        assert_memory_equal(pt, expect, ptlen);
    } else if (e == SIGNER_CHAN_ERR_AUTH) {
        for (size_t k = 0; k < ptlen; k++) /* no unauthenticated plaintext left behind */
            assert_int_equal(pt[k], 0);
    }
    return e;
}

/* ---- independent reference of round 0 and the sid ---------------------------------- */

static void ref_k0(EVP_PKEY *priv, EVP_PKEY *pub, const uint8_t nonce[32], uint16_t i, uint16_t j,
                   uint8_t k0[32])
{
    uint8_t ss[32], info[32];
    size_t sslen = 32, k0len = 32;
    EVP_PKEY_CTX *d = EVP_PKEY_CTX_new(priv, NULL);
    assert_int_equal(EVP_PKEY_derive_init(d), 1);
    assert_int_equal(EVP_PKEY_derive_set_peer(d, pub), 1);
    assert_int_equal(EVP_PKEY_derive(d, ss, &sslen), 1);
    EVP_PKEY_CTX_free(d);
    size_t il = strlen("mpc-signer/hello/v1");
    memcpy(info, "mpc-signer/hello/v1", il);
    info[il] = (uint8_t)(i >> 8), info[il + 1] = (uint8_t)i;
    info[il + 2] = (uint8_t)(j >> 8), info[il + 3] = (uint8_t)j;
    EVP_PKEY_CTX *h = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    assert_int_equal(EVP_PKEY_derive_init(h), 1);
    assert_int_equal(EVP_PKEY_CTX_set_hkdf_md(h, EVP_sha256()), 1);
    assert_int_equal(EVP_PKEY_CTX_set1_hkdf_salt(h, nonce, 32), 1);
    assert_int_equal(EVP_PKEY_CTX_set1_hkdf_key(h, ss, 32), 1);
    assert_int_equal(EVP_PKEY_CTX_add1_hkdf_info(h, info, (int)il + 4), 1);
    assert_int_equal(EVP_PKEY_derive(h, k0, &k0len), 1);
    EVP_PKEY_CTX_free(h);
}

/* Writes the MAC of p[0..129) as party i -> j into p[129..161), like an honest i would. */
static void ref_mac(const world *w, size_t i, size_t j, uint8_t p[R0])
{
    uint8_t k0[32], msgbuf[20 + 16 + 4 + 129];
    ref_k0(w->key[i], w->key[j], w->nonce, ix(w, i), ix(w, j), k0);
    memcpy(msgbuf, "mpc-signer/round0/v1", 20);
    memcpy(msgbuf + 20, w->session, 16);
    msgbuf[36] = (uint8_t)(ix(w, i) >> 8), msgbuf[37] = (uint8_t)ix(w, i);
    msgbuf[38] = (uint8_t)(ix(w, j) >> 8), msgbuf[39] = (uint8_t)ix(w, j);
    memcpy(msgbuf + 40, p, 129);
    unsigned int len = 0;
    assert_non_null(HMAC(EVP_sha256(), k0, 32, msgbuf, sizeof msgbuf, p + 129, &len));
    assert_int_equal(len, 32);
}

typedef struct {
    const char *kind;
    uint8_t key_id[16];
    uint8_t binding[8];
    size_t binding_len;
    uint16_t index[MAXN];
    const char *id[MAXN];
    uint8_t fp[MAXN][32];
    uint8_t nonce[32], session[16], digest[32];
    uint8_t eph[MAXN][65], rand[MAXN][32];
    uint8_t req[32];
    size_t n;
} sid_inputs;

static void ref_sid(const sid_inputs *s, uint8_t sid[32])
{
    char tag[32];
    snprintf(tag, sizeof tag, "mpc-signer/%s/v1", s->kind);
    tss_transcript t;
    tss_transcript_init(&t, "signerd/sid");
    tss_transcript_append(&t, tag, strlen(tag));
    tss_transcript_append(&t, s->key_id, 16);
    tss_transcript_append(&t, s->binding, s->binding_len);
    tss_transcript_append_u32(&t, (uint32_t)s->n);
    for (size_t k = 0; k < s->n; k++) {
        tss_transcript_append_u32(&t, s->index[k]);
        tss_transcript_append(&t, s->id[k], strlen(s->id[k]));
        tss_transcript_append(&t, s->fp[k], 32);
    }
    tss_transcript_append(&t, s->nonce, 32);
    tss_transcript_append(&t, s->session, 16);
    tss_transcript_append(&t, s->digest, 32);
    for (size_t k = 0; k < s->n; k++) {
        tss_transcript_append(&t, s->eph[k], 65);
        tss_transcript_append(&t, s->rand[k], 32);
    }
    tss_transcript_append(&t, s->req, 32);
    tss_transcript_final(&t, sid);
}

/* ---- tests -------------------------------------------------------------------------- */

static void check_agreement(size_t n, const uint16_t *idx)
{
    uint8_t sids[MAXN][32];
    world *w = world_new(n, idx);
    assert_int_equal(signer_chan_round0_complete(w->c[0]), 0);
    round0_all(w);
    derive_all(w, sids);
    for (size_t k = 1; k < n; k++)
        assert_memory_equal(sids[0], sids[k], 32);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            if (i == j)
                continue;
            for (uint32_t r = 1; r <= 3; r++) { /* several messages per direction */
                char pt[64];
                snprintf(pt, sizeof pt, "round %u from %zu to %zu", r, i, j);
                msg m = seal(w, i, j, r, pt);
                assert_int_equal(open_msg(w, j, i, &m, pt), SIGNER_CHAN_OK);
            }
        }
    world_free(w);
}

static void test_three_party(void **state)
{
    (void)state;
    check_agreement(3, NULL);
}

static void test_sparse_indices(void **state)
{
    (void)state;
    const uint16_t idx[4] = {2, 5, 7, 255}; /* signing subset with keygen indices */
    check_agreement(4, idx);
}

/* Every single-bit flip of a round-0 payload is a MAC error and leaves the receiver as it
 * was: the genuine payload is still accepted and the session agrees. */
static void test_round0_bitflip(void **state)
{
    (void)state;
    world *w = world_new(3, NULL);
    uint8_t p[R0];
    assert_int_equal(signer_chan_round0(w->c[1], ix(w, 0), p), SIGNER_CHAN_OK);
    for (size_t bit = 0; bit < 8 * R0; bit++) {
        p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(signer_chan_receive_round0(w->c[0], ix(w, 1), p, R0), SIGNER_CHAN_ERR_MAC);
        p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(signer_chan_receive_round0(w->c[0], ix(w, 1), p, R0), SIGNER_CHAN_OK);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++)
            if (i != j && !(i == 1 && j == 0))
                assert_int_equal(exchange(w, i, j), SIGNER_CHAN_OK);
    uint8_t sids[MAXN][32];
    derive_all(w, sids);
    assert_memory_equal(sids[0], sids[1], 32);
    assert_memory_equal(sids[0], sids[2], 32);
    world_free(w);
}

/* Replaces party k's signer_chan by one created with other session values. */
static void recreate(world *w, size_t k, const uint8_t *nonce, const uint8_t *session,
                     const uint8_t *digest)
{
    signer_chan_free(w->c[k]);
    assert_int_equal(signer_chan_new(&w->c[k], w->key[k], ix(w, k), w->parties, w->n,
                                     nonce ? nonce : w->nonce, session ? session : w->session,
                                     digest ? digest : w->digest),
                     SIGNER_CHAN_OK);
}

static void test_round0_digest(void **state)
{
    (void)state;
    world *w = world_new(3, NULL);
    uint8_t other[32];
    memcpy(other, w->digest, 32);
    other[31] ^= 1;
    recreate(w, 2, NULL, NULL, other);
    assert_int_equal(exchange(w, 2, 0), SIGNER_CHAN_ERR_DIGEST);
    assert_int_equal(exchange(w, 0, 2), SIGNER_CHAN_ERR_DIGEST);
    assert_int_equal(exchange(w, 1, 0), SIGNER_CHAN_OK); /* the others are unaffected */
    world_free(w);
}

static void test_round0_nonce_and_session(void **state)
{
    (void)state;
    world *w = world_new(3, NULL);
    uint8_t nonce[32], session[16];
    memcpy(nonce, w->nonce, 32);
    nonce[0] ^= 0x80;
    memcpy(session, w->session, 16);
    session[15] ^= 0x01;
    recreate(w, 1, nonce, NULL, NULL);
    recreate(w, 2, NULL, session, NULL);
    assert_int_equal(exchange(w, 1, 0), SIGNER_CHAN_ERR_MAC);
    assert_int_equal(exchange(w, 0, 1), SIGNER_CHAN_ERR_MAC);
    assert_int_equal(exchange(w, 2, 0), SIGNER_CHAN_ERR_MAC);
    assert_int_equal(exchange(w, 0, 2), SIGNER_CHAN_ERR_MAC);
    assert_int_equal(exchange(w, 1, 2), SIGNER_CHAN_ERR_MAC);
    world_free(w);
}

/* An impostor with its own certificate claims index 2: its MACs do not verify at party 1,
 * and party 1's MACs do not verify at the impostor. */
static void test_round0_wrong_identity(void **state)
{
    (void)state;
    world *w = world_new(3, NULL);
    EVP_PKEY *mallory = new_key();
    signer_chan_party fake[3];
    memcpy(fake, w->parties, sizeof fake);
    fake[1].pub = mallory; /* the list Mallory presents to herself */
    signer_chan *m = NULL;
    assert_int_equal(signer_chan_new(&m, mallory, 2, fake, 3, w->nonce, w->session, w->digest),
                     SIGNER_CHAN_OK);
    uint8_t p[R0];
    assert_int_equal(signer_chan_round0(m, 1, p), SIGNER_CHAN_OK);
    assert_int_equal(signer_chan_receive_round0(w->c[0], 2, p, R0), SIGNER_CHAN_ERR_MAC);
    assert_int_equal(signer_chan_round0(w->c[0], 2, p), SIGNER_CHAN_OK);
    assert_int_equal(signer_chan_receive_round0(m, 1, p, R0), SIGNER_CHAN_ERR_MAC);
    /* the genuine party 2 still gets through */
    assert_int_equal(exchange(w, 1, 0), SIGNER_CHAN_OK);
    signer_chan_free(m);
    EVP_PKEY_free(mallory);
    world_free(w);
}

/* The payload matches an independent implementation of the documented format, and K0 is
 * direction-bound: the reverse key gives another MAC. */
static void test_round0_format(void **state)
{
    (void)state;
    world *w = world_new(3, NULL);
    uint8_t p[R0], q[R0], k01[32], k10[32];
    assert_int_equal(signer_chan_round0(w->c[0], 2, p), SIGNER_CHAN_OK);
    assert_int_equal(p[0], 0x04);
    assert_memory_equal(p + 97, w->digest, 32);
    memcpy(q, p, R0);
    ref_mac(w, 0, 1, q);
    assert_memory_equal(p, q, R0);
    ref_k0(w->key[0], w->key[1], w->nonce, 1, 2, k01);
    ref_k0(w->key[1], w->key[0], w->nonce, 2, 1, k10);
    assert_memory_not_equal(k01, k10, 32);
    /* same eph and rand to every peer, different MAC */
    assert_int_equal(signer_chan_round0(w->c[0], 3, q), SIGNER_CHAN_OK);
    assert_memory_equal(p, q, 129);
    assert_memory_not_equal(p + 129, q + 129, 32);
    world_free(w);
}

/* Authenticated but invalid ephemeral keys (a malicious peer): POINT, state unchanged. */
static void test_round0_bad_point(void **state)
{
    (void)state;
    world *w = world_new(3, NULL);
    uint8_t good[R0], p[R0], own[R0];
    assert_int_equal(signer_chan_round0(w->c[1], 1, good), SIGNER_CHAN_OK);
    assert_int_equal(signer_chan_round0(w->c[0], 2, own), SIGNER_CHAN_OK);
    for (int v = 0; v < 5; v++) {
        memcpy(p, good, R0);
        if (v == 0)
            p[64] ^= 1; /* y off the curve */
        else if (v == 1)
            p[0] = 0x02; /* compressed prefix, padded */
        else if (v == 2)
            p[0] = 0x06 | (p[64] & 1); /* hybrid form of the same point */
        else if (v == 3)
            memset(p, 0, 65); /* not a point */
        else
            memcpy(p, own, 65); /* party 1's own ephemeral key reflected */
        ref_mac(w, 1, 0, p);
        assert_int_equal(signer_chan_receive_round0(w->c[0], 2, p, R0), SIGNER_CHAN_ERR_POINT);
    }
    memcpy(p, good, R0); /* the MAC check comes first: a forged MAC is never POINT */
    p[64] ^= 1;
    assert_int_equal(signer_chan_receive_round0(w->c[0], 2, p, R0), SIGNER_CHAN_ERR_MAC);
    assert_int_equal(signer_chan_receive_round0(w->c[0], 2, good, R0), SIGNER_CHAN_OK);
    world_free(w);
}

static void test_round0_state_and_length(void **state)
{
    (void)state;
    world *w = world_new(3, NULL);
    uint8_t p[R0 + 1];
    assert_int_equal(signer_chan_round0(w->c[1], 1, p), SIGNER_CHAN_OK);
    assert_int_equal(signer_chan_receive_round0(w->c[0], 2, p, R0 - 1), SIGNER_CHAN_ERR_LENGTH);
    assert_int_equal(signer_chan_receive_round0(w->c[0], 2, p, R0 + 1), SIGNER_CHAN_ERR_LENGTH);
    assert_int_equal(signer_chan_receive_round0(w->c[0], 1, p, R0), SIGNER_CHAN_ERR_ARG);
    assert_int_equal(signer_chan_receive_round0(w->c[0], 4, p, R0), SIGNER_CHAN_ERR_ARG);
    assert_int_equal(signer_chan_round0(w->c[0], 1, p), SIGNER_CHAN_ERR_ARG);
    assert_int_equal(signer_chan_receive_round0(w->c[0], 2, p, R0), SIGNER_CHAN_OK);
    assert_int_equal(signer_chan_receive_round0(w->c[0], 2, p, R0), SIGNER_CHAN_ERR_STATE);
    /* derive and seal before round 0 is complete */
    uint8_t sid[32], h[32], ct[32];
    assert_int_equal(signer_chan_derive(w->c[0], "keygen", KEY_ID, NULL, 0, REQ, sid),
                     SIGNER_CHAN_ERR_STATE);
    header(w, 0, 1, 1, 16, h);
    assert_int_equal(signer_chan_seal(w->c[0], 2, h, NULL, 0, ct), SIGNER_CHAN_ERR_STATE);
    world_free(w);
}

/* Derive runs once: the ephemeral key is gone, round 0 is closed. */
static void test_derive_once(void **state)
{
    (void)state;
    world *w = world_new(3, NULL);
    round0_all(w);
    uint8_t sid[32], sid2[32], p[R0];
    assert_int_equal(signer_chan_derive(w->c[0], "frob", KEY_ID, NULL, 0, REQ, sid),
                     SIGNER_CHAN_ERR_ARG);
    assert_int_equal(signer_chan_sid(w->c[0], "sign", KEY_ID, NULL, 0, REQ, sid2), SIGNER_CHAN_OK);
    assert_int_equal(signer_chan_derive(w->c[0], "sign", KEY_ID, NULL, 0, REQ, sid),
                     SIGNER_CHAN_OK);
    assert_memory_equal(sid, sid2, 32);
    assert_int_equal(signer_chan_round0_complete(w->c[0]), 1);
    assert_int_equal(signer_chan_derive(w->c[0], "sign", KEY_ID, NULL, 0, REQ, sid),
                     SIGNER_CHAN_ERR_STATE);
    assert_int_equal(signer_chan_sid(w->c[0], "sign", KEY_ID, NULL, 0, REQ, sid),
                     SIGNER_CHAN_ERR_STATE);
    assert_int_equal(signer_chan_round0(w->c[0], 2, p), SIGNER_CHAN_ERR_STATE);
    assert_int_equal(signer_chan_round0(w->c[1], 1, p), SIGNER_CHAN_OK);
    assert_int_equal(signer_chan_receive_round0(w->c[0], 2, p, R0), SIGNER_CHAN_ERR_STATE);
    world_free(w);
}

static void test_new_arguments(void **state)
{
    (void)state;
    world *w = world_new(3, NULL);
    signer_chan *c = (signer_chan *)1;
    signer_chan_party bad[3];
#define NEW_FAILS(self_key, self_index, list, n)                                                   \
    do {                                                                                           \
        assert_int_equal(                                                                          \
            signer_chan_new(&c, self_key, self_index, list, n, w->nonce, w->session, w->digest),   \
            SIGNER_CHAN_ERR_ARG);                                                                  \
        assert_null(c);                                                                            \
    } while (0)
    NEW_FAILS(w->key[0], 1, w->parties, 1); /* alone */
    NEW_FAILS(w->key[0], 4, w->parties, 3); /* self not listed */
    NEW_FAILS(w->key[1], 1, w->parties, 3); /* own key is not index 1's */
    memcpy(bad, w->parties, sizeof bad);
    bad[1].index = 1; /* not increasing */
    NEW_FAILS(w->key[0], 1, bad, 3);
    memcpy(bad, w->parties, sizeof bad);
    memcpy(bad[2].fp, bad[1].fp, 32); /* same certificate twice */
    NEW_FAILS(w->key[0], 1, bad, 3);
    memcpy(bad, w->parties, sizeof bad);
    bad[2].pub = w->key[0]; /* a peer presenting our own key */
    NEW_FAILS(w->key[0], 1, bad, 3);
    memcpy(bad, w->parties, sizeof bad);
    bad[2].party_id = "";
    NEW_FAILS(w->key[0], 1, bad, 3);
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    assert_non_null(ed);
    assert_non_null(k1);
    memcpy(bad, w->parties, sizeof bad);
    bad[2].pub = ed;
    NEW_FAILS(w->key[0], 1, bad, 3);
    bad[2].pub = k1;
    NEW_FAILS(w->key[0], 1, bad, 3);
#undef NEW_FAILS
    EVP_PKEY_free(ed);
    EVP_PKEY_free(k1);
    world_free(w);
}

static void test_seal_open(void **state)
{
    (void)state;
    world *w = world_ready(3, NULL);
    msg m = seal(w, 0, 1, 1, "");
    assert_int_equal(m.len, SIGNER_CHAN_TAG_BYTES);
    assert_int_equal(open_msg(w, 1, 0, &m, ""), SIGNER_CHAN_OK);
    m = seal(w, 0, 1, 1, "hello");
    assert_memory_not_equal(m.ct, "hello", 5);
    assert_int_equal(open_msg(w, 1, 0, &m, "hello"), SIGNER_CHAN_OK);

    /* largest payload a frame can carry, then one byte more */
    size_t max = API_FRAME_MAX_PAYLOAD - SIGNER_CHAN_TAG_BYTES;
    uint8_t *pt = malloc(max + 1), *ct = malloc(max + 17), *back = malloc(max);
    uint8_t h[32];
    assert_non_null(pt);
    assert_non_null(ct);
    assert_non_null(back);
    assert_int_equal(RAND_bytes(pt, (int)max), 1);
    header(w, 2, 0, 9, max + 16, h);
    assert_int_equal(signer_chan_seal(w->c[2], 1, h, pt, max, ct), SIGNER_CHAN_OK);
    assert_int_equal(signer_chan_open(w->c[0], 3, h, ct, max + 16, back), SIGNER_CHAN_OK);
    assert_memory_equal(pt, back, max);
    assert_int_equal(signer_chan_seal(w->c[2], 1, h, pt, max + 1, ct), SIGNER_CHAN_ERR_LENGTH);

    /* a header that does not describe this message is refused and consumes nothing */
    header(w, 0, 1, 1, 5, h); /* payload_len without the tag */
    assert_int_equal(signer_chan_seal(w->c[0], 2, h, pt, 5, ct), SIGNER_CHAN_ERR_ARG);
    header(w, 0, 2, 1, 21, h); /* addressed to party 3 */
    assert_int_equal(signer_chan_seal(w->c[0], 2, h, pt, 5, ct), SIGNER_CHAN_ERR_ARG);
    m = seal(w, 0, 1, 2, "still in step");
    assert_int_equal(open_msg(w, 1, 0, &m, "still in step"), SIGNER_CHAN_OK);
    assert_int_equal(signer_chan_dead(w->c[0]), 0);
    free(pt);
    free(ct);
    free(back);
    world_free(w);
}

/* A message from party 1 to 2 (sealed before the failure), used to show a dead channel
 * refuses even valid input. */
static void expect_dead(world *w, const msg *pending)
{
    assert_int_equal(signer_chan_dead(w->c[1]), 1);
    assert_int_equal(open_msg(w, 1, 2, pending, "pending"), SIGNER_CHAN_ERR_STATE);
    uint8_t h[32], ct[32];
    header(w, 1, 2, 5, 16, h);
    assert_int_equal(signer_chan_seal(w->c[1], 3, h, NULL, 0, ct), SIGNER_CHAN_ERR_STATE);
}

static void test_altered_ciphertext(void **state)
{
    (void)state;
    const size_t where[] = {0, 6, 7, 7 + 15}; /* first, last plaintext byte, tag bytes */
    for (size_t k = 0; k < sizeof where / sizeof where[0]; k++) {
        world *w = world_ready(3, NULL);
        msg pending = seal(w, 2, 1, 1, "pending");
        msg m = seal(w, 0, 1, 1, "payload");
        m.ct[where[k]] ^= 0x20;
        assert_int_equal(open_msg(w, 1, 0, &m, NULL), SIGNER_CHAN_ERR_AUTH);
        expect_dead(w, &pending);
        world_free(w);
    }
    world *w = world_ready(3, NULL); /* truncated: shorter than a tag */
    msg pending = seal(w, 2, 1, 1, "pending");
    msg m = seal(w, 0, 1, 1, "payload");
    m.len = 15;
    assert_int_equal(signer_chan_open(w->c[1], 1, m.h, m.ct, m.len, NULL), SIGNER_CHAN_ERR_AUTH);
    expect_dead(w, &pending);
    world_free(w);
}

/* Any change to the frame header (including the round, which only the AEAD covers). */
static void test_altered_header(void **state)
{
    (void)state;
    for (size_t byte = 0; byte < 32; byte++) {
        world *w = world_ready(3, NULL);
        msg pending = seal(w, 2, 1, 1, "pending");
        msg m = seal(w, 0, 1, 1, "payload");
        m.h[byte] ^= 0x01;
        assert_int_equal(open_msg(w, 1, 0, &m, NULL), SIGNER_CHAN_ERR_AUTH);
        expect_dead(w, &pending);
        world_free(w);
    }
}

static void test_replay(void **state)
{
    (void)state;
    world *w = world_ready(3, NULL);
    msg pending = seal(w, 2, 1, 1, "pending");
    msg m = seal(w, 0, 1, 1, "once");
    assert_int_equal(open_msg(w, 1, 0, &m, "once"), SIGNER_CHAN_OK);
    assert_int_equal(open_msg(w, 1, 0, &m, NULL), SIGNER_CHAN_ERR_AUTH);
    expect_dead(w, &pending);
    world_free(w);
}

static void test_reorder(void **state)
{
    (void)state;
    world *w = world_ready(3, NULL);
    msg pending = seal(w, 2, 1, 1, "pending");
    msg a = seal(w, 0, 1, 1, "first");
    msg b = seal(w, 0, 1, 2, "second");
    assert_int_equal(open_msg(w, 1, 0, &b, NULL), SIGNER_CHAN_ERR_AUTH);
    assert_int_equal(open_msg(w, 1, 0, &a, NULL), SIGNER_CHAN_ERR_STATE); /* dead */
    expect_dead(w, &pending);
    world_free(w);
}

static void test_drop(void **state)
{
    (void)state;
    world *w = world_ready(3, NULL);
    msg pending = seal(w, 2, 1, 1, "pending");
    msg a = seal(w, 0, 1, 1, "first");
    msg b = seal(w, 0, 1, 2, "second");
    msg c = seal(w, 0, 1, 3, "third");
    assert_int_equal(open_msg(w, 1, 0, &a, "first"), SIGNER_CHAN_OK);
    (void)b; /* dropped by the hub */
    assert_int_equal(open_msg(w, 1, 0, &c, NULL), SIGNER_CHAN_ERR_AUTH);
    expect_dead(w, &pending);
    world_free(w);
}

/* One key per direction and pair: the same plaintext at the same counter encrypts
 * differently, and a message reflected to its sender or redirected to a third party does
 * not open even with the header rewritten to match. */
static void test_keys_per_direction(void **state)
{
    (void)state;
    world *w = world_ready(3, NULL);
    msg ab = seal(w, 0, 1, 1, "same plaintext");
    msg ba = seal(w, 1, 0, 1, "same plaintext");
    msg ac = seal(w, 0, 2, 1, "same plaintext");
    assert_memory_not_equal(ab.ct, ba.ct, ab.len);
    assert_memory_not_equal(ab.ct, ac.ct, ab.len);
    msg reflected = ab;
    header(w, 1, 0, 1, ab.len, reflected.h);
    assert_int_equal(open_msg(w, 0, 1, &reflected, NULL), SIGNER_CHAN_ERR_AUTH);
    world_free(w);

    w = world_ready(3, NULL);
    ab = seal(w, 0, 1, 1, "for party 2");
    msg redirected = ab;
    header(w, 0, 2, 1, ab.len, redirected.h);
    assert_int_equal(open_msg(w, 2, 0, &redirected, NULL), SIGNER_CHAN_ERR_AUTH);
    world_free(w);
}

/* Fills s from w after round 0 (payloads carry every eph and rand in the clear). */
static void sid_inputs_of(world *w, sid_inputs *s)
{
    memset(s, 0, sizeof *s);
    s->kind = "keygen";
    memcpy(s->key_id, KEY_ID, 16);
    memcpy(s->binding, BINDING, sizeof BINDING);
    s->binding_len = sizeof BINDING;
    s->n = w->n;
    memcpy(s->nonce, w->nonce, 32);
    memcpy(s->session, w->session, 16);
    memcpy(s->digest, w->digest, 32);
    memcpy(s->req, REQ, 32);
    for (size_t k = 0; k < w->n; k++) {
        uint8_t p[R0];
        assert_int_equal(signer_chan_round0(w->c[k], ix(w, (k + 1) % w->n), p), SIGNER_CHAN_OK);
        s->index[k] = ix(w, k);
        s->id[k] = w->id[k];
        memcpy(s->fp[k], w->parties[k].fp, 32);
        memcpy(s->eph[k], p, 65);
        memcpy(s->rand[k], p + 65, 32);
    }
}

static void expect_sid_differs(const sid_inputs *s, const uint8_t base[32])
{
    uint8_t sid[32];
    ref_sid(s, sid);
    assert_memory_not_equal(sid, base, 32);
}

static void test_sid_inputs(void **state)
{
    (void)state;
    world *w = world_new(3, NULL);
    round0_all(w);
    sid_inputs s;
    sid_inputs_of(w, &s);
    uint8_t base[32], sid[32], ref[32];
    ref_sid(&s, ref);
    /* the implementation hashes exactly the documented fields */
    assert_int_equal(signer_chan_sid(w->c[1], "keygen", KEY_ID, BINDING, 2, REQ, base),
                     SIGNER_CHAN_OK);
    assert_memory_equal(base, ref, 32);

    /* through the implementation: kind, request digest, key id, binding */
    uint8_t req2[32], kid2[16], bind2[2] = {2, 4};
    memcpy(req2, REQ, 32);
    req2[31] ^= 1;
    memcpy(kid2, KEY_ID, 16);
    kid2[0] ^= 1;
    assert_int_equal(signer_chan_sid(w->c[1], "sign", KEY_ID, BINDING, 2, REQ, sid), 0);
    assert_memory_not_equal(sid, base, 32);
    assert_int_equal(signer_chan_sid(w->c[1], "keygen", KEY_ID, BINDING, 2, req2, sid), 0);
    assert_memory_not_equal(sid, base, 32);
    assert_int_equal(signer_chan_sid(w->c[1], "keygen", kid2, BINDING, 2, REQ, sid), 0);
    assert_memory_not_equal(sid, base, 32);
    assert_int_equal(signer_chan_sid(w->c[1], "keygen", KEY_ID, bind2, 2, REQ, sid), 0);
    assert_memory_not_equal(sid, base, 32);
    assert_int_equal(signer_chan_sid(w->c[1], "keygen", KEY_ID, BINDING, 1, REQ, sid), 0);
    assert_memory_not_equal(sid, base, 32);

    /* through the reference (equal to the implementation above): every other field */
    sid_inputs t = s;
    t.rand[2][0] ^= 1;
    expect_sid_differs(&t, base);
    t = s;
    t.eph[0][10] ^= 1;
    expect_sid_differs(&t, base);
    t = s; /* party list order: the same two identities with their indices swapped */
    t.id[0] = s.id[1], t.id[1] = s.id[0];
    memcpy(t.fp[0], s.fp[1], 32);
    memcpy(t.fp[1], s.fp[0], 32);
    expect_sid_differs(&t, base);
    t = s;
    t.index[2] = 4;
    expect_sid_differs(&t, base);
    t = s;
    t.nonce[5] ^= 1;
    expect_sid_differs(&t, base);
    t = s;
    t.session[5] ^= 1;
    expect_sid_differs(&t, base);
    t = s;
    t.digest[5] ^= 1;
    expect_sid_differs(&t, base);
    world_free(w);
}

/* Through the implementation: a party that accepted another (authenticated) rand or eph of
 * a peer ends with another sid, and re-running the same session gives a fresh sid. */
static void test_sid_fresh_values(void **state)
{
    (void)state;
    for (int field = 0; field < 2; field++) {
        world *w = world_new(3, NULL);
        uint8_t p[R0];
        assert_int_equal(signer_chan_round0(w->c[1], 1, p), SIGNER_CHAN_OK);
        if (field == 0) {
            p[65] ^= 1; /* rand_2 */
        } else {
            EVP_PKEY *e = new_key(); /* another valid eph_2 */
            size_t len = 0;
            assert_int_equal(EVP_PKEY_get_octet_string_param(e, "pub", p, 65, &len), 1);
            assert_int_equal(len, 65);
            EVP_PKEY_free(e);
        }
        ref_mac(w, 1, 0, p);
        assert_int_equal(signer_chan_receive_round0(w->c[0], 2, p, R0), SIGNER_CHAN_OK);
        for (size_t i = 0; i < 3; i++)
            for (size_t j = 0; j < 3; j++)
                if (i != j && !(i == 1 && j == 0))
                    assert_int_equal(exchange(w, i, j), SIGNER_CHAN_OK);
        uint8_t sids[MAXN][32];
        derive_all(w, sids);
        assert_memory_not_equal(sids[0], sids[2], 32);
        assert_memory_equal(sids[1], sids[2], 32);
        world_free(w);
    }
    world *w = world_new(3, NULL);
    uint8_t sids[MAXN][32], again[32];
    round0_all(w);
    derive_all(w, sids);
    recreate(w, 0, NULL, NULL, NULL);
    recreate(w, 1, NULL, NULL, NULL);
    recreate(w, 2, NULL, NULL, NULL);
    round0_all(w);
    assert_int_equal(signer_chan_derive(w->c[0], "keygen", KEY_ID, BINDING, 2, REQ, again), 0);
    assert_memory_not_equal(sids[0], again, 32);
    world_free(w);
}

static void ref_ecdh(EVP_PKEY *priv, EVP_PKEY *pub, uint8_t out[32])
{
    size_t len = 32;
    EVP_PKEY_CTX *d = EVP_PKEY_CTX_new(priv, NULL);
    assert_int_equal(EVP_PKEY_derive_init(d), 1);
    assert_int_equal(EVP_PKEY_derive_set_peer(d, pub), 1);
    assert_int_equal(EVP_PKEY_derive(d, out, &len), 1);
    assert_int_equal(len, 32);
    EVP_PKEY_CTX_free(d);
}

static EVP_PKEY *pub_from_bytes(const uint8_t b[65])
{
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("group", "prime256v1", 0),
        OSSL_PARAM_construct_octet_string("pub", (void *)b, 65),
        OSSL_PARAM_construct_end(),
    };
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params), 1);
    EVP_PKEY_CTX_free(ctx);
    return k;
}

/* key(i -> j) = HKDF-SHA256(ss || ee, salt = sid, info = "mpc-signer/chan/v1" || i || j). */
static void ref_chan_key(const uint8_t ikm[128], const uint8_t sid[32], uint16_t i, uint16_t j,
                         uint8_t key[32])
{
    uint8_t info[32];
    size_t il = strlen("mpc-signer/chan/v1"), len = 32;
    memcpy(info, "mpc-signer/chan/v1", il);
    info[il] = (uint8_t)(i >> 8), info[il + 1] = (uint8_t)i;
    info[il + 2] = (uint8_t)(j >> 8), info[il + 3] = (uint8_t)j;
    EVP_PKEY_CTX *h = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    assert_int_equal(EVP_PKEY_derive_init(h), 1);
    assert_int_equal(EVP_PKEY_CTX_set_hkdf_md(h, EVP_sha256()), 1);
    assert_int_equal(EVP_PKEY_CTX_set1_hkdf_salt(h, sid, 32), 1);
    assert_int_equal(EVP_PKEY_CTX_set1_hkdf_key(h, ikm, 128), 1);
    assert_int_equal(EVP_PKEY_CTX_add1_hkdf_info(h, info, (int)il + 4), 1);
    assert_int_equal(EVP_PKEY_derive(h, key, &len), 1);
    EVP_PKEY_CTX_free(h);
}

/* AES-256-GCM with nonce 0^32 || ctr; enc: out = E(in) || tag; else out = D(in), 1 if ok. */
static int ref_gcm(int enc, const uint8_t key[32], uint64_t ctr, const uint8_t aad[32],
                   const uint8_t *in, size_t len, uint8_t *out)
{
    uint8_t nonce[12] = {0}, fin[16];
    for (int b = 0; b < 8; b++)
        nonce[4 + b] = (uint8_t)(ctr >> (56 - 8 * b));
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int outl = 0, ok = EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc) == 1 &&
                       EVP_CipherUpdate(c, NULL, &outl, aad, 32) == 1 &&
                       EVP_CipherUpdate(c, out, &outl, in, (int)len) == 1;
    if (!enc)
        ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(in + len)) == 1;
    ok = ok && EVP_CipherFinal_ex(c, fin, &outl) == 1;
    if (enc)
        ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + len) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok;
}

/* The channel keys, nonces and AAD match the documented derivation: the test plays party 2
 * with an ephemeral key it knows and talks to party 1's implementation both ways. Fails if
 * either ECDH term, the sid salt, the direction or the counter layout is off. */
static void test_channel_reference(void **state)
{
    (void)state;
    world *w = world_new(3, NULL);
    EVP_PKEY *eph2 = new_key();
    uint8_t p[R0], q[R0], sid[32], ikm[128], k21[32], k12[32];
    size_t len = 0;
    assert_int_equal(signer_chan_round0(w->c[1], 1, p), SIGNER_CHAN_OK);
    assert_int_equal(EVP_PKEY_get_octet_string_param(eph2, "pub", p, 65, &len), 1);
    ref_mac(w, 1, 0, p);
    assert_int_equal(signer_chan_receive_round0(w->c[0], 2, p, R0), SIGNER_CHAN_OK);
    assert_int_equal(exchange(w, 2, 0), SIGNER_CHAN_OK);
    assert_int_equal(signer_chan_round0(w->c[0], 2, q), SIGNER_CHAN_OK); /* eph_1 */
    assert_int_equal(signer_chan_derive(w->c[0], "sign", KEY_ID, NULL, 0, REQ, sid), 0);

    EVP_PKEY *eph1 = pub_from_bytes(q);
    ref_ecdh(w->key[1], w->key[0], ikm);
    ref_ecdh(eph2, eph1, ikm + 32);
    ref_ecdh(eph2, w->key[0], ikm + 64); /* cert_1 x eph_2 (party 1 is lo) */
    ref_ecdh(w->key[1], eph1, ikm + 96); /* eph_1 x cert_2 */
    ref_chan_key(ikm, sid, 2, 1, k21);
    ref_chan_key(ikm, sid, 1, 2, k12);
    uint8_t h[32], ct[64], pt[64];
    for (uint64_t ctr = 0; ctr < 3; ctr++) {
        header(w, 1, 0, (uint32_t)ctr + 1, 8 + 16, h); /* test as party 2 -> party 1 */
        assert_int_equal(ref_gcm(1, k21, ctr, h, (const uint8_t *)"to node1", 8, ct), 1);
        assert_int_equal(signer_chan_open(w->c[0], 2, h, ct, 24, pt), SIGNER_CHAN_OK);
        assert_memory_equal(pt, "to node1", 8);
        header(w, 0, 1, (uint32_t)ctr + 1, 8 + 16, h); /* party 1 -> test as party 2 */
        assert_int_equal(signer_chan_seal(w->c[0], 2, h, (const uint8_t *)"to node2", 8, ct), 0);
        assert_int_equal(ref_gcm(0, k12, ctr, h, ct, 8, pt), 1);
        assert_memory_equal(pt, "to node2", 8);
    }
    EVP_PKEY_free(eph1);
    EVP_PKEY_free(eph2);
    world_free(w);
}

static void test_strerror(void **state)
{
    (void)state;
    for (int a = 0; a < SIGNER_CHAN_ERR__COUNT; a++) {
        const char *s = signer_chan_strerror((signer_chan_err)a);
        assert_non_null(s);
        assert_string_not_equal(s, signer_chan_strerror(SIGNER_CHAN_ERR__COUNT));
        for (int b = 0; b < a; b++)
            assert_string_not_equal(s, signer_chan_strerror((signer_chan_err)b));
    }
    assert_string_equal(signer_chan_strerror((signer_chan_err)-1),
                        signer_chan_strerror(SIGNER_CHAN_ERR__COUNT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_party),
        cmocka_unit_test(test_sparse_indices),
        cmocka_unit_test(test_round0_bitflip),
        cmocka_unit_test(test_round0_digest),
        cmocka_unit_test(test_round0_nonce_and_session),
        cmocka_unit_test(test_round0_wrong_identity),
        cmocka_unit_test(test_round0_format),
        cmocka_unit_test(test_round0_bad_point),
        cmocka_unit_test(test_round0_state_and_length),
        cmocka_unit_test(test_derive_once),
        cmocka_unit_test(test_new_arguments),
        cmocka_unit_test(test_seal_open),
        cmocka_unit_test(test_altered_ciphertext),
        cmocka_unit_test(test_altered_header),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_reorder),
        cmocka_unit_test(test_drop),
        cmocka_unit_test(test_keys_per_direction),
        cmocka_unit_test(test_sid_inputs),
        cmocka_unit_test(test_sid_fresh_values),
        cmocka_unit_test(test_channel_reference),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
