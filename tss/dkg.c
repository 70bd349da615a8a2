/* tss/dkg.c — the DKG state machine: message intake, the four rounds, and their checks.
 * Inbound messages are buffered per (round, sender) until a round is complete, then the
 * round is processed for all senders in index order (so the broadcast hash is the same
 * for everyone who saw the same broadcasts). Messages for the next round may arrive early
 * and are buffered too. */
#include "dkg.h"

#include <stdlib.h>
#include <string.h>

#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "baseot.h"
#include "inbox.h"
#include "pok.h"
#include "secmem.h"
#include "transcript.h"

#define NMAX     TSS_MAX_PARTIES
#define R1_LEN   64
#define R3_FIXED 160 /* share, cc part, cc nonce, zero part, zero nonce */
/* the pairwise OT parts: R2 from the pair's Alice, R3 from its Bob */
#define R2_OT(kappa) TSS_BASEOT_MSG1_BYTES(kappa)
#define R3_OT(kappa) (TSS_BASEOT_MSG2_BYTES + TSS_OTE_MSG_BYTES(kappa))
#define R3_OT_MAX    R3_OT(TSS_OTE_KAPPA_MAX)
#define R4_FIXED     (33 + 32 + 33 + TSS_POK_BYTES) /* pk, chain code, P(i), PoK */

struct tss_dkg {
    uint8_t t, n, me;
    uint16_t kappa; /* κ of the OT setups this run makes (ote.h) */
    uint8_t session_id[32];
    tss_identity ids[NMAX]; /* party j at [j-1] */
    tss_banlist *bans;
    uint8_t dkg_sid[32];
    int round; /* round being collected: 1..4; 5 when done */
    tss_status status;
    tss_abort_info abort;
    const tss_rng *rng;

    /* own secrets */
    tss_scalar coef[NMAX]; /* a_me,0 .. a_me,t-1 */
    uint8_t F_nonce[32], cc_share[32], cc_nonce[32];
    uint8_t zero_part[NMAX + 1][32], zero_nonce[NMAX + 1][32]; /* my part toward j */

    /* learned from each party j (own slot filled for me) */
    uint8_t sid_part[NMAX + 1][32];
    uint8_t F_commit[NMAX + 1][32];
    tss_point F[NMAX + 1][NMAX]; /* A_jk */
    uint8_t cc_commit[NMAX + 1][32], cc_part[NMAX + 1][32];
    uint8_t zero_commit[NMAX + 1][32], zero_theirs[NMAX + 1][32]; /* j's part toward me */
    tss_scalar share_sum;                                         /* p(me) */

    /* base OTs per peer j: I am base receiver (extension sender) in pair (me -> j) and
     * base sender (extension receiver) in pair (j -> me) */
    tss_baseot_receiver *bot[NMAX + 1]; /* pairs where I am Alice: base-OT receiver */
    uint8_t *r3_ot[NMAX + 1];           /* pairs where I am Bob: my R3 OT part */
    uint8_t ot_sent[NMAX + 1][32], ot_recv[NMAX + 1][32]; /* hashes of the OT parts */

    /* derived */
    tss_point pub_share[NMAX + 1];
    tss_point pk;
    uint8_t chain_code[32];
    uint8_t bcast_hash[NMAX + 1][32]; /* per sender: its R1 + R2 broadcasts as I saw them */

    tss_inbox inbox; /* payload copies per round (1..4) and sender */

    tss_keyshare *result;
};

/* R2's broadcast part: DKG sid, F_i, opening, t proofs, chain-code commitment. */
static size_t r2_bcast_len(uint8_t t)
{
    return 32 + 33u * t + 32 + (size_t)TSS_POK_BYTES * t + 32;
}

/* Each unordered pair runs one batch of base OTs. Its "Alice" (base-OT receiver, OT-
 * extension sender in the direction Alice -> Bob) alternates with the parity of i + j so
 * every party does a similar share of the work; the other direction comes from one OT
 * extension over the first (tss_dkg.h). */
static uint16_t pair_alice(uint16_t a, uint16_t b)
{
    uint16_t lo = a < b ? a : b, hi = a < b ? b : a;
    return ((lo + hi) & 1) ? lo : hi;
}

size_t tss_dkg_payload_len(uint8_t round, uint8_t t, uint8_t n, unsigned kappa, uint16_t from,
                           uint16_t to)
{
    int from_alice = pair_alice(from, to) == from;
    if (!tss_ote_kappa_valid(kappa))
        return 0;
    switch (round) {
    case 1:
        return R1_LEN;
    case 2:
        return r2_bcast_len(t) + 32 + (from_alice ? R2_OT(kappa) : 0);
    case 3:
        return R3_FIXED + (from_alice ? 0 : R3_OT(kappa));
    case 4:
        return R4_FIXED + 32u * n + 32;
    default:
        return 0;
    }
}

static tss_err dkg_fail(tss_dkg *st, tss_err reason, uint16_t culprit)
{
    st->status = TSS_ABORTED;
    st->abort.reason = reason;
    st->abort.culprit = culprit;
    st->abort.ban = 0; /* DKG failures are plain aborts with a culprit */
    return reason;
}

/* Whom an error on j's message blames: nobody for our own failures or a session mismatch
 * (which anyone on the path could cause), j otherwise. */
static uint16_t blame(tss_err err, uint16_t j)
{
    return err == TSS_ERR_RAND || err == TSS_ERR_NOMEM || err == TSS_ERR_SESSION ? 0 : j;
}

tss_err tss_dkg_new(tss_dkg **out, const tss_dkg_params *p, const tss_rng *rng)
{
    if (out == NULL || p == NULL || rng == NULL || p->bans == NULL)
        return TSS_ERR_ARG;
    unsigned kappa = p->kappa != 0 ? p->kappa : TSS_OTE_KAPPA_DEFAULT;
    if (p->n < 2 || p->n > NMAX || p->t < 2 || p->t > p->n || p->index < 1 || p->index > p->n ||
        tss_identities_check(p->ids, p->n) != TSS_OK || !tss_ote_kappa_valid(kappa))
        return TSS_ERR_PARAMS;
    for (int j = 1; j <= p->n; j++)
        if (j != p->index && tss_banlist_contains(p->bans, p->ids[j - 1].fp))
            return TSS_ERR_BANNED;
    tss_dkg *st = tss_secmem_alloc(sizeof *st);
    if (st == NULL)
        return TSS_ERR_NOMEM;
    st->t = p->t;
    st->n = p->n;
    st->me = p->index;
    st->kappa = (uint16_t)kappa;
    memcpy(st->ids, p->ids, p->n * sizeof p->ids[0]);
    st->bans = p->bans;
    memcpy(st->session_id, p->session_id, 32);
    st->rng = rng;
    st->round = 0;
    st->status = TSS_RUNNING;
    st->inbox.protocol = TSS_PROTO_DKG;
    st->inbox.rounds = 4;
    st->inbox.me = st->me;
    memcpy(st->inbox.sid, st->session_id, 32);
    for (int j = 1; j <= st->n; j++)
        if (j != st->me)
            st->inbox.peers |= 1ULL << j;
    for (uint8_t r = 1; r <= 4; r++)
        for (uint16_t j = 1; j <= st->n; j++)
            if (j != st->me)
                st->inbox.payload_len[r][j] =
                    tss_dkg_payload_len(r, st->t, st->n, st->kappa, j, st->me);
    st->inbox.confidential = 1u << 3;
    /* the key share under construction: the base OTs write its OT setups */
    if ((st->result = tss_keyshare_new()) == NULL) {
        tss_secmem_free(st);
        return TSS_ERR_NOMEM;
    }
    st->result->n = st->n;
    st->result->index = st->me;
    st->result->kappa = st->kappa;
    if (tss_keyshare_alloc_peers(st->result) != TSS_OK) {
        tss_dkg_free(st);
        return TSS_ERR_NOMEM;
    }
    *out = st;
    return TSS_OK;
}

void tss_dkg_free(tss_dkg *st)
{
    if (st == NULL)
        return;
    tss_inbox_clear(&st->inbox);
    for (int j = 0; j <= NMAX; j++)
        tss_baseot_receiver_free(st->bot[j]);
    for (int j = 0; j <= NMAX; j++)
        free(st->r3_ot[j]); /* public messages */
    tss_keyshare_free(st->result);
    tss_secmem_free(st);
}

tss_status tss_dkg_status(const tss_dkg *st)
{
    return st->status;
}

const tss_abort_info *tss_dkg_abort_info(const tss_dkg *st)
{
    return st->status == TSS_ABORTED ? &st->abort : NULL;
}

tss_keyshare *tss_dkg_take_keyshare(tss_dkg *st)
{
    tss_keyshare *ks = st->status == TSS_DONE ? st->result : NULL;
    if (ks != NULL)
        st->result = NULL;
    return ks;
}

/* Sends the same payload to every peer. */
static tss_err send_all(tss_dkg *st, int round, uint8_t flags, const uint8_t *payload, size_t len,
                        tss_msgs *out)
{
    for (uint16_t j = 1; j <= st->n; j++) {
        if (j == st->me)
            continue;
        tss_err err = tss_msgs_append(out, TSS_PROTO_DKG, (uint8_t)round, flags, st->me, j,
                                      st->session_id, payload, len);
        if (err != TSS_OK)
            return err;
    }
    return TSS_OK;
}

/* Context bytes for proofs: label || dkg sid || extra. */
static size_t pok_context(uint8_t *ctx, const char *label, const tss_dkg *st, const uint8_t *extra,
                          size_t extra_len)
{
    size_t l = strlen(label);
    memcpy(ctx, label, l);
    memcpy(ctx + l, st->dkg_sid, 32);
    if (extra_len > 0)
        memcpy(ctx + l + 32, extra, extra_len);
    return l + 32 + extra_len;
}

/* The sid of the OT correlation for the ordered pair (alice -> bob), where alice is the
 * OT-extension sender (base-OT receiver): H(DKG sid, alice, bob). */
static void ot_pair_sid(uint8_t out[32], const uint8_t dkg_sid[32], uint16_t alice, uint16_t bob)
{
    tss_transcript t;
    tss_transcript_init(&t, "dkg/ot-sid");
    tss_transcript_append(&t, dkg_sid, 32);
    tss_transcript_append_u32(&t, alice);
    tss_transcript_append_u32(&t, bob);
    tss_transcript_final(&t, out);
}

/* The sid of the extension that derives the pair's second direction from its first. */
static void boot_sid(uint8_t out[32], const uint8_t dkg_sid[32], uint16_t alice, uint16_t bob)
{
    tss_transcript t;
    tss_transcript_init(&t, "dkg/ot-bootstrap");
    tss_transcript_append(&t, dkg_sid, 32);
    tss_transcript_append_u32(&t, alice);
    tss_transcript_append_u32(&t, bob);
    tss_transcript_final(&t, out);
}

/* A reverse-direction base-OT key from an extended-OT row: H(sid, l, row). */
static void boot_key(uint8_t out[32], const uint8_t sid[32], uint32_t l, const uint8_t row[32])
{
    tss_transcript t;
    tss_transcript_init(&t, "dkg/ot-bootstrap/key");
    tss_transcript_append(&t, sid, 32);
    tss_transcript_append_u32(&t, l);
    tss_transcript_append(&t, row, 32);
    tss_transcript_final(&t, out);
}

/* Bob of the pair {me, alice}, after answering base-OT message 1: extends the fresh
 * (alice -> me) correlation once with random choice bits x. Its rows t_l = q_l ^ x_l*Delta
 * give me, as Alice of the reverse direction (me -> alice), Delta' = x[0..256) and
 * k'_l = H(t_l) (l < κ); alice gets both H(q_l) and H(q_l ^ Delta) (boot_alice_finish).
 * Writes base-OT message 2 and the extension message into st->r3_ot[alice]. */
static tss_err boot_bob(tss_dkg *st, uint16_t alice, const uint8_t msg2[TSS_BASEOT_MSG2_BYTES])
{
    uint8_t choice[TSS_OTE_XI / 8], sid[32];
    uint8_t(*rows)[32] = tss_secmem_alloc(TSS_OTE_XI * 32);
    tss_keyshare_peer *peer = &st->result->peer[alice - 1];
    tss_err err;
    if (rows == NULL || (st->r3_ot[alice] = malloc(R3_OT(st->kappa))) == NULL) {
        err = TSS_ERR_NOMEM;
        goto out;
    }
    memcpy(st->r3_ot[alice], msg2, TSS_BASEOT_MSG2_BYTES);
    if ((err = tss_rand_bytes(st->rng, choice, sizeof choice)) != TSS_OK)
        goto out;
    boot_sid(sid, st->dkg_sid, alice, st->me);
    err = tss_ote_receiver_extend_rows(peer->ot_recv, sid, choice, st->rng,
                                       st->r3_ot[alice] + TSS_BASEOT_MSG2_BYTES, rows);
    if (err != TSS_OK)
        goto out;
    /* Δ' = the first κ choice bits; the bytes past κ stay zero (ote.h's invariant: step 7
     * XORs the whole 32-byte Δ into zero-padded rows) */
    memcpy(peer->ot_send->delta, choice, st->kappa / 8u);
    for (uint32_t l = 0; l < st->kappa; l++)
        boot_key(peer->ot_send->seed[l], sid, l, rows[l]);
    SHA256(st->r3_ot[alice], R3_OT(st->kappa), st->ot_sent[alice]);
out:
    tss_memzero(choice, sizeof choice);
    tss_secmem_free(rows);
    return err;
}

/* Alice of the pair {me, bob}: checks bob's extension with the setup the base OTs just
 * gave me and takes both keys of every reverse-direction OT (me as its Bob). */
static tss_err boot_alice_finish(tss_dkg *st, uint16_t bob, const uint8_t *ext_msg)
{
    uint8_t sid[32], flipped[32];
    uint8_t(*rows)[32] = tss_secmem_alloc(TSS_OTE_XI * 32);
    tss_keyshare_peer *peer = &st->result->peer[bob - 1];
    tss_err err;
    if (rows == NULL)
        return TSS_ERR_NOMEM;
    boot_sid(sid, st->dkg_sid, st->me, bob);
    err =
        tss_ote_sender_extend_rows(peer->ot_send, sid, ext_msg, TSS_OTE_MSG_BYTES(st->kappa), rows);
    if (err == TSS_OK) {
        for (uint32_t l = 0; l < st->kappa; l++) {
            boot_key(peer->ot_recv->seed[l][0], sid, l, rows[l]);
            for (int b = 0; b < 32; b++)
                flipped[b] = rows[l][b] ^ peer->ot_send->delta[b];
            boot_key(peer->ot_recv->seed[l][1], sid, l, flipped);
        }
    }
    tss_memzero(flipped, sizeof flipped);
    tss_secmem_free(rows);
    return err;
}

/* ---- round 1: sid_i and the commitment to F_i ---- */

static tss_err commit_data_F(uint8_t *buf, const tss_dkg *st, uint16_t who, const uint8_t *F_bytes)
{
    memcpy(buf, st->session_id, 32);
    buf[32] = (uint8_t)(who >> 8);
    buf[33] = (uint8_t)who;
    memcpy(buf + 34, F_bytes, 33u * st->t);
    return TSS_OK;
}

static void serialize_F(uint8_t *out, const tss_point *F, uint8_t t)
{
    for (int k = 0; k < t; k++)
        tss_point_serialize(out + 33 * k, &F[k]);
}

/* Every step first: a state with a banned peer aborts (tss/ban.h). */
static tss_err check_bans(tss_dkg *st)
{
    for (uint16_t j = 1; j <= st->n; j++)
        if (j != st->me && tss_banlist_contains(st->bans, st->ids[j - 1].fp))
            return dkg_fail(st, TSS_ERR_BANNED, j);
    return TSS_OK;
}

static tss_err emit_r1(tss_dkg *st, tss_msgs *out);

tss_err tss_dkg_start(tss_dkg *st, tss_msgs *out)
{
    if (st == NULL || out == NULL)
        return TSS_ERR_ARG;
    if (st->round != 0 || st->status != TSS_RUNNING)
        return TSS_ERR_STATE;
    size_t keep = out->count;
    tss_err err = check_bans(st);
    if (err == TSS_OK && (err = emit_r1(st, out)) != TSS_OK && st->status == TSS_RUNNING)
        dkg_fail(st, err, 0);
    if (st->status == TSS_ABORTED)
        tss_msgs_truncate(out, keep);
    return err;
}

static tss_err emit_r1(tss_dkg *st, tss_msgs *out)
{
    uint8_t payload[R1_LEN], F_bytes[33 * NMAX], data[34 + 33 * NMAX];
    tss_err err;
    for (int k = 0; k < st->t; k++) {
        if ((err = tss_rand_scalar(&st->coef[k], st->rng)) != TSS_OK)
            return err;
        if ((err = tss_point_base_mul(&st->F[st->me][k], &st->coef[k])) != TSS_OK)
            return err;
    }
    if ((err = tss_rand_bytes(st->rng, st->sid_part[st->me], 32)) != TSS_OK)
        return err;
    serialize_F(F_bytes, st->F[st->me], st->t);
    commit_data_F(data, st, st->me, F_bytes);
    err = tss_commit(st->F_commit[st->me], st->F_nonce, "dkg/F", data, 34 + 33u * st->t, st->rng);
    if (err != TSS_OK)
        return err;
    memcpy(payload, st->sid_part[st->me], 32);
    memcpy(payload + 32, st->F_commit[st->me], 32);
    if ((err = tss_inbox_keep_own(&st->inbox, 1, payload, R1_LEN)) != TSS_OK)
        return err;
    st->round = 1;
    return send_all(st, 1, 0, payload, R1_LEN, out);
}

static tss_err process_r1(tss_dkg *st)
{
    tss_transcript t;
    for (int j = 1; j <= st->n; j++) {
        memcpy(st->sid_part[j], st->inbox.payload[1][j], 32);
        memcpy(st->F_commit[j], st->inbox.payload[1][j] + 32, 32);
    }
    tss_transcript_init(&t, "dkg/sid");
    tss_transcript_append(&t, st->session_id, 32);
    tss_transcript_append_u32(&t, st->t);
    tss_transcript_append_u32(&t, st->n);
    tss_transcript_append_u32(&t, st->kappa);
    for (int j = 1; j <= st->n; j++) { /* the pinned identities, in index order */
        tss_transcript_append_u32(&t, (uint32_t)j);
        tss_transcript_append(&t, st->ids[j - 1].party_id, strlen(st->ids[j - 1].party_id));
        tss_transcript_append(&t, st->ids[j - 1].fp, 32);
    }
    for (int j = 1; j <= st->n; j++)
        tss_transcript_append(&t, st->sid_part[j], 32);
    tss_transcript_final(&t, st->dkg_sid);
    return TSS_OK;
}

/* ---- round 2: reveal F_i with proofs; commit to chain-code and zero-seed parts ---- */

/* The broadcast part of R2: F_i, its opening, the coefficient proofs, the chain-code
 * commitment. Written to p (r2_bcast_len bytes). */
static tss_err fill_r2_bcast(tss_dkg *st, uint8_t *p)
{
    uint8_t ctx[96], kb[4], data[68];
    tss_err err;
    memcpy(p, st->dkg_sid, 32); /* lets peers detect an equivocated sid_i before any work */
    p += 32;
    serialize_F(p, st->F[st->me], st->t);
    p += 33 * st->t;
    memcpy(p, st->F_nonce, 32);
    p += 32;
    for (uint32_t k = 0; k < st->t; k++, p += TSS_POK_BYTES) {
        kb[0] = (uint8_t)(k >> 24), kb[1] = (uint8_t)(k >> 16), kb[2] = (uint8_t)(k >> 8),
        kb[3] = (uint8_t)k;
        size_t cl = pok_context(ctx, "coef", st, kb, 4);
        err = tss_pok_prove(p, &st->coef[k], &st->F[st->me][k], ctx, cl, st->me, st->rng);
        if (err != TSS_OK)
            return err;
    }
    if ((err = tss_rand_bytes(st->rng, st->cc_share, 32)) != TSS_OK)
        return err;
    memcpy(data, st->session_id, 32);
    data[32] = 0, data[33] = 0, data[34] = 0, data[35] = st->me;
    memcpy(data + 36, st->cc_share, 32);
    if ((err = tss_commit(p, st->cc_nonce, "dkg/chaincode", data, 68, st->rng)) != TSS_OK)
        return err;
    memcpy(st->cc_commit[st->me], p, 32);
    tss_memzero(data, sizeof data);
    return TSS_OK;
}

/* The pairwise part of R2 toward j: a commitment to my zero-seed part, and base-OT
 * message 1 for the pair (me -> j), in which I am the base-OT receiver. */
static tss_err fill_r2_pair(tss_dkg *st, uint16_t j, uint8_t *p)
{
    uint8_t data[68], sid[32];
    tss_err err;
    if ((err = tss_rand_bytes(st->rng, st->zero_part[j], 32)) != TSS_OK)
        return err;
    memcpy(data, st->session_id, 32);
    data[32] = st->me, data[33] = (uint8_t)j, data[34] = 0, data[35] = 0;
    memcpy(data + 36, st->zero_part[j], 32);
    err = tss_commit(p, st->zero_nonce[j], "dkg/zero", data, 68, st->rng);
    tss_memzero(data, sizeof data);
    if (err != TSS_OK)
        return err;
    if (pair_alice(st->me, j) != st->me) {
        memset(st->ot_sent[j], 0, 32); /* Bob sends his OT part in R3 */
        return TSS_OK;
    }
    /* I am the pair's Alice: base-OT message 1 */
    if ((st->bot[j] = tss_baseot_receiver_new()) == NULL)
        return TSS_ERR_NOMEM;
    ot_pair_sid(sid, st->dkg_sid, st->me, j);
    if ((err = tss_baseot_receiver_start(st->bot[j], sid, st->kappa, st->rng, p + 32)) != TSS_OK)
        return err;
    SHA256(p + 32, R2_OT(st->kappa), st->ot_sent[j]);
    return TSS_OK;
}

static tss_err send_r2(tss_dkg *st, tss_msgs *out)
{
    size_t blen = r2_bcast_len(st->t), cap = blen + 32 + R2_OT(st->kappa);
    uint8_t *payload = malloc(cap);
    tss_err err;
    if (payload == NULL)
        return TSS_ERR_NOMEM;
    if ((err = fill_r2_bcast(st, payload)) != TSS_OK ||
        (err = tss_inbox_keep_own(&st->inbox, 2, payload, blen)) != TSS_OK)
        goto out;
    for (uint16_t j = 1; j <= st->n && err == TSS_OK; j++) {
        if (j == st->me)
            continue;
        size_t plen = tss_dkg_payload_len(2, st->t, st->n, st->kappa, st->me, j);
        if ((err = fill_r2_pair(st, j, payload + blen)) == TSS_OK)
            err =
                tss_msgs_append(out, TSS_PROTO_DKG, 2, 0, st->me, j, st->session_id, payload, plen);
    }
out:
    free(payload);
    return err;
}

static tss_err process_r2(tss_dkg *st)
{
    size_t blen = r2_bcast_len(st->t);
    uint8_t data[34 + 33 * NMAX], ctx[96], kb[4];
    /* Everyone must have derived the same DKG sid from R1. A sender that equivocated sid_i
     * makes the sids differ, and nobody can tell who did: abort without blame, before
     * any proof or OT work could name an honest party (DKLS23.md pitfall 9). */
    for (uint16_t j = 1; j <= st->n; j++)
        if (j != st->me && !tss_ct_eq(st->inbox.payload[2][j], st->dkg_sid, 32))
            return dkg_fail(st, TSS_ERR_SESSION, 0);
    for (uint16_t j = 1; j <= st->n; j++) {
        const uint8_t *p = st->inbox.payload[2][j];
        tss_transcript t;
        tss_transcript_init(&t, "dkg/broadcasts");
        tss_transcript_append(&t, st->dkg_sid, 32);
        tss_transcript_append_u32(&t, j);
        tss_transcript_append(&t, st->inbox.payload[1][j], R1_LEN);
        tss_transcript_append(&t, p, blen);
        tss_transcript_final(&t, st->bcast_hash[j]);
        if (j == st->me)
            continue;
        p += 32; /* past the DKG sid */
        /* check 5 (no infinity: a 33-byte encoding cannot be infinity) and check 1 (the
         * exact length, t points and t proofs, was enforced at intake) */
        for (int k = 0; k < st->t; k++)
            if (tss_point_parse(&st->F[j][k], p + 33 * k) != TSS_OK)
                return dkg_fail(st, TSS_ERR_POINT, j);
        /* check 2: F_j opens C_j */
        commit_data_F(data, st, j, p);
        if (tss_commit_verify(st->F_commit[j], p + 33 * st->t, "dkg/F", data, 34 + 33u * st->t) !=
            TSS_OK)
            return dkg_fail(st, TSS_ERR_COMMITMENT, j);
        /* check 3: a proof of knowledge for every coefficient */
        const uint8_t *proofs = p + 33 * st->t + 32;
        for (uint32_t k = 0; k < st->t; k++) {
            kb[0] = (uint8_t)(k >> 24), kb[1] = (uint8_t)(k >> 16), kb[2] = (uint8_t)(k >> 8),
            kb[3] = (uint8_t)k;
            size_t cl = pok_context(ctx, "coef", st, kb, 4);
            if (tss_pok_verify(proofs + TSS_POK_BYTES * k, &st->F[j][k], ctx, cl, j) != TSS_OK)
                return dkg_fail(st, TSS_ERR_PROOF, j);
        }
        memcpy(st->cc_commit[j], p + blen - 64, 32);
        memcpy(st->zero_commit[j], p + blen - 32, 32);
        if (pair_alice(st->me, j) != j)
            continue;
        /* j is the pair's Alice: answer its base OTs, then bootstrap the reverse direction */
        uint8_t sid[32], msg2[TSS_BASEOT_MSG2_BYTES];
        ot_pair_sid(sid, st->dkg_sid, j, st->me);
        SHA256(p + blen, R2_OT(st->kappa), st->ot_recv[j]);
        tss_err err = tss_baseot_sender_respond(sid, p + blen, R2_OT(st->kappa), st->rng, msg2,
                                                st->result->peer[j - 1].ot_recv);
        if (err == TSS_OK)
            err = boot_bob(st, j, msg2);
        if (err != TSS_OK)
            return dkg_fail(st, err, blame(err, j));
    }
    return TSS_OK;
}

/* ---- round 3: shares and openings, pairwise and confidential ---- */

static void eval_poly(tss_scalar *out, const tss_scalar *coef, uint8_t t, uint16_t x)
{
    tss_scalar xs, acc = coef[t - 1];
    tss_scalar_set_u64(&xs, x);
    for (int k = t - 2; k >= 0; k--) {
        tss_scalar_mul(&acc, &acc, &xs);
        tss_scalar_add(&acc, &acc, &coef[k]);
    }
    *out = acc;
    tss_scalar_clear(&acc);
}

static tss_err send_r3(tss_dkg *st, tss_msgs *out)
{
    uint8_t payload[R3_FIXED + R3_OT_MAX];
    tss_scalar share;
    tss_err err = TSS_OK;
    for (uint16_t j = 1; j <= st->n && err == TSS_OK; j++) {
        if (j == st->me)
            continue;
        eval_poly(&share, st->coef, st->t, j);
        tss_scalar_serialize(payload, &share);
        memcpy(payload + 32, st->cc_share, 32);
        memcpy(payload + 64, st->cc_nonce, 32);
        memcpy(payload + 96, st->zero_part[j], 32);
        memcpy(payload + 128, st->zero_nonce[j], 32);
        size_t plen = tss_dkg_payload_len(3, st->t, st->n, st->kappa, st->me, j);
        if (plen > R3_FIXED)
            memcpy(payload + R3_FIXED, st->r3_ot[j], R3_OT(st->kappa));
        err = tss_msgs_append(out, TSS_PROTO_DKG, 3, TSS_MSG_CONFIDENTIAL, st->me, j,
                              st->session_id, payload, plen);
    }
    /* my own share of my polynomial */
    eval_poly(&share, st->coef, st->t, st->me);
    st->share_sum = share;
    memcpy(st->cc_part[st->me], st->cc_share, 32);
    tss_scalar_clear(&share);
    tss_memzero(payload, sizeof payload);
    return err;
}

/* check 4: f_j(x_me)*G == sum_k x_me^k * A_jk */
static int feldman_ok(const tss_dkg *st, uint16_t j, const tss_scalar *share)
{
    tss_point lhs, terms[NMAX], rhs;
    tss_scalar x, xk;
    if (tss_point_base_mul(&lhs, share) != TSS_OK)
        return 0;
    tss_scalar_set_u64(&x, st->me);
    xk = x;
    terms[0] = st->F[j][0];
    for (int k = 1; k < st->t; k++) {
        if (tss_point_mul(&terms[k], &st->F[j][k], &xk) != TSS_OK)
            return 0;
        tss_scalar_mul(&xk, &xk, &x);
    }
    if (tss_point_sum(&rhs, terms, st->t) != TSS_OK)
        return 0; /* an identity result is an error, not a crash (TOB-SILA-3) */
    return tss_point_eq(&lhs, &rhs);
}

static tss_err process_r3(tss_dkg *st)
{
    uint8_t data[68];
    for (uint16_t j = 1; j <= st->n; j++) {
        if (j == st->me)
            continue;
        const uint8_t *p = st->inbox.payload[3][j];
        tss_scalar share;
        if (tss_scalar_parse(&share, p) != TSS_OK || !feldman_ok(st, j, &share)) {
            tss_scalar_clear(&share);
            return dkg_fail(st, TSS_ERR_SHARE, j);
        }
        tss_scalar_add(&st->share_sum, &st->share_sum, &share);
        tss_scalar_clear(&share);
        /* check 2: chain-code part and zero-seed part open their commitments */
        memcpy(data, st->session_id, 32);
        data[32] = 0, data[33] = 0, data[34] = 0, data[35] = (uint8_t)j;
        memcpy(data + 36, p + 32, 32);
        if (tss_commit_verify(st->cc_commit[j], p + 64, "dkg/chaincode", data, 68) != TSS_OK)
            return dkg_fail(st, TSS_ERR_COMMITMENT, j);
        memcpy(st->cc_part[j], p + 32, 32);
        data[32] = (uint8_t)j, data[33] = st->me, data[34] = 0, data[35] = 0;
        memcpy(data + 36, p + 96, 32);
        if (tss_commit_verify(st->zero_commit[j], p + 128, "dkg/zero", data, 68) != TSS_OK)
            return dkg_fail(st, TSS_ERR_COMMITMENT, j);
        memcpy(st->zero_theirs[j], p + 96, 32);
        tss_memzero(data, sizeof data);
        if (pair_alice(st->me, j) != st->me)
            continue;
        /* I am the pair's Alice: finish the base OTs, then check j's bootstrap extension */
        SHA256(p + R3_FIXED, R3_OT(st->kappa), st->ot_recv[j]);
        tss_err err = tss_baseot_receiver_finish(st->bot[j], p + R3_FIXED, TSS_BASEOT_MSG2_BYTES,
                                                 st->result->peer[j - 1].ot_send);
        tss_baseot_receiver_free(st->bot[j]);
        st->bot[j] = NULL;
        if (err == TSS_OK)
            err = boot_alice_finish(st, j, p + R3_FIXED + TSS_BASEOT_MSG2_BYTES);
        if (err != TSS_OK) /* DKG aborts are plain: this Delta is discarded with the key */
            return dkg_fail(st, err, blame(err, j));
    }
    return TSS_OK;
}

/* After round 3: the aggregate polynomial commitment, pk, every P(j), the chain code. */
static tss_err derive_public(tss_dkg *st)
{
    tss_point Fsum[NMAX], col[NMAX + 1], terms[NMAX];
    for (int k = 0; k < st->t; k++) {
        for (int j = 1; j <= st->n; j++)
            col[j - 1] = st->F[j][k];
        if (tss_point_sum(&Fsum[k], col, st->n) != TSS_OK)
            return dkg_fail(st, TSS_ERR_INFINITY, 0);
    }
    st->pk = Fsum[0]; /* check 7: pk != infinity (the sum above) */
    for (uint16_t j = 1; j <= st->n; j++) {
        tss_scalar x, xk;
        tss_scalar_set_u64(&x, j);
        xk = x;
        terms[0] = Fsum[0];
        for (int k = 1; k < st->t; k++) {
            if (tss_point_mul(&terms[k], &Fsum[k], &xk) != TSS_OK)
                return dkg_fail(st, TSS_ERR_INFINITY, 0);
            tss_scalar_mul(&xk, &xk, &x);
        }
        if (tss_point_sum(&st->pub_share[j], terms, st->t) != TSS_OK)
            return dkg_fail(st, TSS_ERR_INFINITY, 0);
    }
    /* our own share must match P(me) (implied by the Feldman checks; checked anyway) */
    tss_point mine;
    if (tss_point_base_mul(&mine, &st->share_sum) != TSS_OK ||
        !tss_point_eq(&mine, &st->pub_share[st->me]))
        return dkg_fail(st, TSS_ERR_SHARE, 0);

    tss_transcript t;
    tss_transcript_init(&t, "dkg/chaincode-joint");
    tss_transcript_append(&t, st->dkg_sid, 32);
    for (int j = 1; j <= st->n; j++)
        tss_transcript_append(&t, st->cc_part[j], 32);
    tss_transcript_final(&t, st->chain_code);
    return TSS_OK;
}

/* ---- round 4: agree on pk and on every broadcast; prove knowledge of p(i) ---- */

/* Both ends of the pair {me, j} hash the four base-OT messages they exchanged, in an
 * order both derive alike (Alice's part, then Bob's); a message altered in transit leaves
 * the two OT setups
 * inconsistent, which this catches now instead of as a ban at the first signature. */
static void ot_view(const tss_dkg *st, uint16_t j, uint8_t out[32])
{
    uint16_t alice = pair_alice(st->me, j), bob = alice == st->me ? j : st->me;
    int me_alice = alice == st->me;
    tss_transcript t;
    tss_transcript_init(&t, "dkg/ot-view");
    tss_transcript_append(&t, st->dkg_sid, 32);
    tss_transcript_append_u32(&t, alice);
    tss_transcript_append_u32(&t, bob);
    tss_transcript_append(&t, me_alice ? st->ot_sent[j] : st->ot_recv[j], 32); /* A -> B */
    tss_transcript_append(&t, me_alice ? st->ot_recv[j] : st->ot_sent[j], 32); /* B -> A */
    tss_transcript_final(&t, out);
}

static tss_err send_r4(tss_dkg *st, tss_msgs *out)
{
    uint8_t payload[R4_FIXED + 32 * NMAX + 32], ctx[96];
    size_t plen = tss_dkg_payload_len(4, st->t, st->n, st->kappa, st->me, 0);
    tss_err err;
    tss_point_serialize(payload, &st->pk);
    memcpy(payload + 33, st->chain_code, 32);
    tss_point_serialize(payload + 65, &st->pub_share[st->me]);
    size_t cl = pok_context(ctx, "share", st, st->chain_code, 32);
    err = tss_pok_prove(payload + 98, &st->share_sum, &st->pub_share[st->me], ctx, cl, st->me,
                        st->rng);
    if (err != TSS_OK)
        return err;
    for (int j = 1; j <= st->n; j++)
        memcpy(payload + R4_FIXED + 32 * (j - 1), st->bcast_hash[j], 32);
    memset(payload + plen - 32, 0, 32);
    if ((err = tss_inbox_keep_own(&st->inbox, 4, payload, plen)) != TSS_OK)
        return err;
    for (uint16_t j = 1; j <= st->n && err == TSS_OK; j++) {
        if (j == st->me)
            continue;
        ot_view(st, j, payload + plen - 32);
        err = tss_msgs_append(out, TSS_PROTO_DKG, 4, 0, st->me, j, st->session_id, payload, plen);
    }
    return err;
}

/* check 6 for peer p's view: finds a sender j whose broadcasts p saw differently from me.
 * If p disagrees about its own broadcasts, or about mine (which I know I sent alike to
 * all), p is to blame. If it disagrees about a third party j, either j equivocated or p
 * lies, and pairwise channels cannot prove which: blame nobody (culprit 0).
 * Returns -1 when all agree. */
static int broadcast_culprit(const tss_dkg *st, uint16_t p, const uint8_t *hashes)
{
    for (uint16_t j = 1; j <= st->n; j++) {
        if (!tss_ct_eq(hashes + 32 * (j - 1), st->bcast_hash[j], 32))
            return (j == p || j == st->me) ? p : 0;
    }
    return -1;
}

static tss_err process_r4(tss_dkg *st)
{
    uint8_t ctx[96], mine[33];
    tss_point_serialize(mine, &st->pk);
    size_t cl = pok_context(ctx, "share", st, st->chain_code, 32);
    for (uint16_t j = 1; j <= st->n; j++) {
        if (j == st->me)
            continue;
        const uint8_t *p = st->inbox.payload[4][j];
        tss_point Pj;
        /* check 6: same broadcasts (hence the same F), same pk, same chain code */
        int culprit = broadcast_culprit(st, j, p + R4_FIXED);
        if (culprit >= 0)
            return dkg_fail(st, TSS_ERR_MISMATCH, (uint16_t)culprit);
        if (!tss_ct_eq(p, mine, 33) || !tss_ct_eq(p + 33, st->chain_code, 32))
            return dkg_fail(st, TSS_ERR_MISMATCH, j);
        /* check 7: the P(j) j claims is the one F gives; and j knows its discrete log */
        if (tss_point_parse(&Pj, p + 65) != TSS_OK || !tss_point_eq(&Pj, &st->pub_share[j]))
            return dkg_fail(st, TSS_ERR_MISMATCH, j);
        if (tss_pok_verify(p + 98, &Pj, ctx, cl, j) != TSS_OK)
            return dkg_fail(st, TSS_ERR_PROOF, j);
        /* both ends saw the same base-OT messages */
        uint8_t view[32];
        ot_view(st, j, view);
        if (!tss_ct_eq(view, p + tss_dkg_payload_len(4, st->t, st->n, st->kappa, j, st->me) - 32,
                       32))
            return dkg_fail(st, TSS_ERR_MISMATCH, j);
    }
    return TSS_OK;
}

static tss_err build_keyshare(tss_dkg *st)
{
    tss_keyshare *ks = st->result; /* allocated with its OT setups by tss_dkg_new */
    ks->t = st->t;
    ks->n = st->n;
    ks->index = st->me;
    ks->epoch = 0;
    memcpy(ks->dkg_sid, st->dkg_sid, 32);
    memcpy(ks->setup_sid, st->dkg_sid, 32);
    memcpy(ks->ids, st->ids, st->n * sizeof st->ids[0]);
    memcpy(ks->chain_code, st->chain_code, 32);
    ks->pk = st->pk;
    for (int j = 1; j <= st->n; j++)
        ks->pub_shares[j - 1] = st->pub_share[j];
    ks->secret_share = st->share_sum;
    for (uint16_t j = 1; j <= st->n; j++) {
        if (j == st->me)
            continue;
        /* s_ij = H(dkg sid, lo, hi, part of lo, part of hi): both parties derive it alike */
        uint16_t lo = st->me < j ? st->me : j, hi = st->me < j ? j : st->me;
        const uint8_t *plo = st->me == lo ? st->zero_part[j] : st->zero_theirs[j];
        const uint8_t *phi = st->me == hi ? st->zero_part[j] : st->zero_theirs[j];
        tss_transcript t;
        tss_transcript_init(&t, "dkg/zero-seed");
        tss_transcript_append(&t, st->dkg_sid, 32);
        tss_transcript_append_u32(&t, lo);
        tss_transcript_append_u32(&t, hi);
        tss_transcript_append(&t, plo, 32);
        tss_transcript_append(&t, phi, 32);
        tss_transcript_final(&t, ks->peer[j - 1].zero_seed);
    }
    return TSS_OK;
}

/* Processes the completed round and emits the next one. */
static tss_err advance(tss_dkg *st, tss_msgs *out)
{
    while (st->status == TSS_RUNNING && st->round >= 1 && st->round <= 4 &&
           tss_inbox_complete(&st->inbox, st->round)) {
        tss_err err = TSS_OK;
        switch (st->round) {
        case 1:
            if ((err = process_r1(st)) == TSS_OK)
                err = send_r2(st, out);
            break;
        case 2:
            if ((err = process_r2(st)) == TSS_OK)
                err = send_r3(st, out);
            break;
        case 3:
            if ((err = process_r3(st)) == TSS_OK && (err = derive_public(st)) == TSS_OK)
                err = send_r4(st, out);
            break;
        case 4:
            if ((err = process_r4(st)) == TSS_OK && (err = build_keyshare(st)) == TSS_OK) {
                st->status = TSS_DONE;
                tss_inbox_clear(&st->inbox);
                /* wipe the polynomial: only p(i) in the key share remains */
                tss_memzero(st->coef, sizeof st->coef);
            }
            break;
        }
        if (err != TSS_OK) {
            if (st->status != TSS_ABORTED)
                dkg_fail(st, err, 0);
            return err;
        }
        st->round++;
    }
    return TSS_OK;
}

tss_err tss_dkg_receive(tss_dkg *st, const uint8_t *msg, size_t len, tss_msgs *out)
{
    if (st == NULL || out == NULL)
        return TSS_ERR_ARG;
    if (st->status != TSS_RUNNING || st->round == 0)
        return TSS_ERR_STATE;
    size_t keep = out->count;
    tss_err err = check_bans(st);
    if (err == TSS_OK) {
        if ((err = tss_inbox_accept(&st->inbox, st->round, msg, len)) != TSS_OK)
            return err; /* rejected: state unchanged, nothing produced */
        err = advance(st, out);
    }
    if (st->status == TSS_ABORTED) {
        tss_inbox_clear(&st->inbox);
        tss_msgs_truncate(out, keep); /* nothing of an aborted step leaves */
    }
    return err;
}

/* ---- deep copy, for tests and fuzzing only ---- */

#include "testing.h" /* here, not above: this section is the only user */

/* The key share under construction: its OT setups are being filled by the base OTs. */
static tss_keyshare *keyshare_copy(const tss_keyshare *src)
{
    tss_keyshare *ks = tss_keyshare_new();
    if (ks == NULL)
        return NULL;
    *ks = *src;
    for (int j = 0; j < TSS_MAX_PARTIES; j++)
        ks->peer[j].ot_send = NULL, ks->peer[j].ot_recv = NULL;
    for (int j = 0; j < TSS_MAX_PARTIES; j++) {
        const tss_keyshare_peer *p = &src->peer[j];
        if (p->ot_send != NULL &&
            (ks->peer[j].ot_send = tss_ote_sender_setup_new(p->ot_send->kappa)) != NULL)
            *ks->peer[j].ot_send = *p->ot_send;
        if (p->ot_recv != NULL &&
            (ks->peer[j].ot_recv = tss_ote_receiver_setup_new(p->ot_recv->kappa)) != NULL)
            *ks->peer[j].ot_recv = *p->ot_recv;
        if ((p->ot_send != NULL && ks->peer[j].ot_send == NULL) ||
            (p->ot_recv != NULL && ks->peer[j].ot_recv == NULL)) {
            tss_keyshare_free(ks);
            return NULL;
        }
    }
    return ks;
}

tss_err tss_dkg_clone(tss_dkg **out, const tss_dkg *st, const tss_rng *rng)
{
    if (out == NULL || st == NULL)
        return TSS_ERR_ARG;
    *out = NULL;
    tss_dkg *c = tss_secmem_alloc(sizeof *c);
    if (c == NULL)
        return TSS_ERR_NOMEM;
    *c = *st;
    /* own nothing of st's before the deep copies, so a failure frees only copies */
    memset(c->bot, 0, sizeof c->bot);
    memset(c->r3_ot, 0, sizeof c->r3_ot);
    memset(c->inbox.payload, 0, sizeof c->inbox.payload);
    c->result = NULL;
    if (rng != NULL)
        c->rng = rng;
    tss_err err = tss_inbox_copy(&c->inbox, &st->inbox);
    if (err == TSS_OK && st->result != NULL && (c->result = keyshare_copy(st->result)) == NULL)
        err = TSS_ERR_NOMEM;
    for (int j = 0; j <= NMAX && err == TSS_OK; j++) {
        if (st->bot[j] != NULL) {
            if ((c->bot[j] = tss_baseot_receiver_new()) == NULL)
                err = TSS_ERR_NOMEM;
            else
                *c->bot[j] = *st->bot[j];
        }
        if (err == TSS_OK && st->r3_ot[j] != NULL) {
            if ((c->r3_ot[j] = malloc(R3_OT(st->kappa))) == NULL)
                err = TSS_ERR_NOMEM;
            else
                memcpy(c->r3_ot[j], st->r3_ot[j], R3_OT(st->kappa));
        }
    }
    if (err != TSS_OK) {
        tss_dkg_free(c);
        return err;
    }
    *out = c;
    return TSS_OK;
}
