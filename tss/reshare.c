/* tss/reshare.c — the resharing state machine (tss/reshare.h): parameter checks, the
 * participant numbering, the four rounds and their checks, the new key share.
 * Like dkg.c, inbound messages are buffered per (round, sender) and a round is processed
 * for all senders in participant order once it is complete. The pairwise OT setup of the
 * new committee is the DKG's (one base-OT batch per unordered pair, the reverse direction
 * bootstrapped by one extension), under this run's sid and its own hash tags. */
#include "reshare.h"

#include <stdlib.h>
#include <string.h>

#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "baseot.h"
#include "inbox.h"
#include "pok.h"
#include "secmem.h"
#include "transcript.h"

#define NMAX TSS_MAX_PARTIES
/* κ of the OT setups a reshare makes: that of new key shares (ote.h, PARAMETERS.md), so a
 * reshare of a κ = 256 (v1/v2) key also moves it to κ = 128. */
#define KAPPA    TSS_OTE_KAPPA_DEFAULT
#define R2_OT    TSS_BASEOT_MSG1_BYTES(KAPPA)
#define R3_OT    (TSS_BASEOT_MSG2_BYTES + TSS_OTE_MSG_BYTES(KAPPA))
#define R3_PAIR  64                        /* zero part, zero nonce */
#define R4_FIXED (33 + 33 + TSS_POK_BYTES) /* pk, P'(i), PoK */

struct tss_reshare {
    tss_reshare_params p;        /* copy; p.share is NULL (the share lives in coef[0]) */
    uint16_t m, me;              /* participants; my number */
    uint8_t my_dealer;           /* my position in p.dealers (1-based), 0 if none */
    int is_new;                  /* I am a new party (me == p.index) */
    tss_identity pid[NMAX + 1];  /* participant j at [j] */
    uint8_t dealer_of[NMAX + 1]; /* participant -> dealer position (1-based), 0 if none */
    tss_scalar lambda[NMAX + 1]; /* dealer position -> Lagrange coefficient at 0 (public) */
    uint64_t stripes;            /* ban-list stripes of the new peers (R3 holds them) */
    uint8_t sid[32];
    int round; /* round being collected; last + 1 when done */
    int last;  /* 4 for a new party, 2 for a dealer that is not one */
    tss_status status;
    tss_abort_info abort;
    const tss_rng *rng;

    /* own secrets */
    tss_scalar coef[NMAX]; /* a dealer's f_i: coef[0] = lambda_i * p(x_i) */
    uint8_t F_nonce[32];
    uint8_t zero_part[NMAX + 1][32], zero_nonce[NMAX + 1][32]; /* my part toward new peer j */

    /* learned from each participant j (own slot filled for me) */
    uint8_t sid_part[NMAX + 1][32];
    uint8_t F_commit[NMAX + 1][32];
    tss_point F[NMAX + 1][NMAX]; /* A_jk of dealer j */
    uint8_t zero_commit[NMAX + 1][32], zero_theirs[NMAX + 1][32];
    tss_scalar share_sum; /* p'(me) */

    tss_baseot_receiver *bot[NMAX + 1]; /* new pairs where I am Alice */
    uint8_t *r3_ot[NMAX + 1];           /* new pairs where I am Bob: my R3 OT part */
    uint8_t ot_sent[NMAX + 1][32], ot_recv[NMAX + 1][32];

    tss_point pub_share[NMAX + 1]; /* P'(j), j = 1..n */
    uint8_t bcast_hash[NMAX + 1][32];

    tss_inbox inbox;
    tss_keyshare *result; /* new parties only */
};

/* ---- parameters and participants ---- */

static int id_equal(const tss_identity *a, const tss_identity *b)
{
    return strcmp(a->party_id, b->party_id) == 0 && memcmp(a->fp, b->fp, 32) == 0;
}

/* Participant numbering (header): new parties 1..n, then the dealers that are not new
 * parties in dealer order. Fills ids (if not NULL) and dealer_of; returns the count, or 0
 * for structurally invalid parameters (identities are checked by the caller). */
static uint16_t number_participants(const tss_reshare_params *p, tss_identity *ids,
                                    uint8_t *dealer_of)
{
    uint16_t m = p->n;
    if (p->n < 2 || p->n > NMAX || p->dealer_count < 1 || p->dealer_count > NMAX)
        return 0;
    if (dealer_of != NULL)
        memset(dealer_of, 0, NMAX + 1);
    for (uint16_t j = 1; j <= p->n && ids != NULL; j++)
        ids[j] = p->ids[j - 1];
    for (uint8_t d = 1; d <= p->dealer_count; d++) {
        uint8_t ni = p->dealers[d - 1].new_index;
        if (ni > p->n)
            return 0;
        uint16_t who = ni;
        if (ni == 0) {
            if (m == NMAX)
                return 0;
            who = ++m;
            if (ids != NULL)
                ids[who] = p->dealers[d - 1].id;
        }
        if (dealer_of != NULL) {
            if (dealer_of[who] != 0)
                return 0; /* two dealers as one new party */
            dealer_of[who] = d;
        }
    }
    return m;
}

uint16_t tss_reshare_participant_count(const tss_reshare_params *p)
{
    uint8_t dealer_of[NMAX + 1];
    return p == NULL ? 0 : number_participants(p, NULL, dealer_of);
}

uint16_t tss_reshare_participant_of(const tss_reshare_params *p)
{
    uint8_t dealer_of[NMAX + 1];
    uint16_t m = p == NULL ? 0 : number_participants(p, NULL, dealer_of);
    if (m == 0)
        return 0;
    if (p->index >= 1 && p->index <= p->n)
        return p->index;
    for (uint16_t j = (uint16_t)(p->n + 1); j <= m; j++)
        if (p->dealer >= 1 && dealer_of[j] == p->dealer)
            return j;
    return 0;
}

const tss_identity *tss_reshare_participant_identity(const tss_reshare_params *p, uint16_t who)
{
    uint8_t dealer_of[NMAX + 1];
    uint16_t m = p == NULL ? 0 : number_participants(p, NULL, dealer_of);
    if (who < 1 || who > m)
        return NULL;
    return who <= p->n ? &p->ids[who - 1] : &p->dealers[dealer_of[who] - 1].id;
}

/* x's non-zero and pairwise distinct (public values). */
static tss_err check_xs(const tss_reshare_dealer *d, uint8_t count)
{
    if (count < 1 || count > NMAX)
        return TSS_ERR_PARAMS;
    for (uint8_t i = 0; i < count; i++) {
        if (tss_scalar_is_zero(&d[i].x))
            return TSS_ERR_PARAMS;
        for (uint8_t k = 0; k < i; k++)
            if (tss_scalar_eq(&d[i].x, &d[k].x))
                return TSS_ERR_PARAMS;
    }
    return TSS_OK;
}

/* lambda[i] = prod_{k != i} x_k / (x_k - x_i): the coefficient of p(x_i) in p(0). */
static void lagrange_xs(tss_scalar *lambda, const tss_reshare_dealer *d, uint8_t count)
{
    for (uint8_t i = 0; i < count; i++) {
        tss_scalar num, den, t;
        tss_scalar_set_u64(&num, 1);
        tss_scalar_set_u64(&den, 1);
        for (uint8_t k = 0; k < count; k++) {
            if (k == i)
                continue;
            tss_scalar_mul(&num, &num, &d[k].x);
            tss_scalar_sub(&t, &d[k].x, &d[i].x);
            tss_scalar_mul(&den, &den, &t);
        }
        tss_scalar_inverse(&den, &den);
        tss_scalar_mul(&lambda[i], &num, &den);
    }
}

tss_err tss_reshare_check_input(const tss_reshare_dealer *dealers, uint8_t count,
                                const tss_point *pk)
{
    tss_scalar lambda[NMAX];
    tss_point terms[NMAX], sum;
    if (dealers == NULL || pk == NULL)
        return TSS_ERR_ARG;
    if (check_xs(dealers, count) != TSS_OK)
        return TSS_ERR_PARAMS;
    lagrange_xs(lambda, dealers, count);
    for (uint8_t i = 0; i < count; i++)
        if (tss_point_mul(&terms[i], &dealers[i].pub, &lambda[i]) != TSS_OK)
            return TSS_ERR_MISMATCH;
    if (tss_point_sum(&sum, terms, count) != TSS_OK || !tss_point_eq(&sum, pk))
        return TSS_ERR_MISMATCH;
    return TSS_OK;
}

/* Role checks of tss_reshare_new: which participant I am, and that a party listed both as
 * a dealer and as a new party takes both roles (the others expect both parts from it). */
static tss_err check_roles(const tss_reshare_params *p, const uint8_t *dealer_of)
{
    if (p->index > p->n || p->dealer > p->dealer_count || (p->index == 0 && p->dealer == 0))
        return TSS_ERR_PARAMS;
    if (p->index != 0 && dealer_of[p->index] != p->dealer)
        return TSS_ERR_PARAMS;
    if (p->dealer != 0 && p->dealers[p->dealer - 1].new_index != p->index)
        return TSS_ERR_PARAMS;
    for (uint8_t d = 1; d <= p->dealer_count; d++) {
        uint8_t ni = p->dealers[d - 1].new_index;
        if (ni != 0 && !id_equal(&p->dealers[d - 1].id, &p->ids[ni - 1]))
            return TSS_ERR_PARAMS;
    }
    return TSS_OK;
}

/* A dealer's share must be the one its public share commits to. */
static tss_err check_own_share(const tss_reshare_params *p)
{
    tss_point mine;
    if (p->dealer == 0)
        return TSS_OK;
    if (tss_point_base_mul(&mine, p->share) != TSS_OK ||
        !tss_point_eq(&mine, &p->dealers[p->dealer - 1].pub))
        return TSS_ERR_PARAMS;
    return TSS_OK;
}

static tss_err check_params(const tss_reshare_params *p, tss_identity *pid, uint8_t *dealer_of,
                            uint16_t *m)
{
    if (p->t < 2 || p->t > p->n || p->t_old < 1 || p->t_old > p->dealer_count ||
        p->dealer_count > p->n_old)
        return TSS_ERR_PARAMS;
    if ((*m = number_participants(p, pid, dealer_of)) == 0)
        return TSS_ERR_PARAMS;
    if (tss_identities_check(p->ids, p->n) != TSS_OK ||
        tss_identities_check(pid + 1, (uint8_t)*m) != TSS_OK)
        return TSS_ERR_PARAMS;
    if (check_xs(p->dealers, p->dealer_count) != TSS_OK || check_roles(p, dealer_of) != TSS_OK)
        return TSS_ERR_PARAMS;
    return check_own_share(p);
}

/* ---- payload layout ---- */

static int is_new(const tss_reshare *st, uint16_t j)
{
    return j >= 1 && j <= st->p.n;
}

/* The pair's Alice, as in the DKG (alternating with the parity of i + j). */
static uint16_t pair_alice(uint16_t a, uint16_t b)
{
    uint16_t lo = a < b ? a : b, hi = a < b ? b : a;
    return ((lo + hi) & 1) ? lo : hi;
}

/* R2's broadcast part from j: the sid, and a dealer's F_j, opening and t' proofs. */
static size_t bcast_len(const tss_reshare *st, uint16_t j)
{
    return 32 + (st->dealer_of[j] ? (33u + TSS_POK_BYTES) * st->p.t + 32 : 0);
}

static size_t payload_len(const tss_reshare *st, uint8_t round, uint16_t from, uint16_t to)
{
    int dealer = st->dealer_of[from] != 0, pair = is_new(st, from) && is_new(st, to);
    int from_alice = pair && pair_alice(from, to) == from;
    switch (round) {
    case 1:
        return 32 + (dealer ? 32 : 0);
    case 2:
        if (!is_new(st, to))
            return is_new(st, from) ? 32 : 0; /* the sid only, to a dealer that is not new */
        return bcast_len(st, from) + (pair ? 32 + (from_alice ? R2_OT : 0) : 0);
    case 3:
        if (!is_new(st, to))
            return 0;
        return (dealer ? 32 : 0) + (pair ? R3_PAIR + (from_alice ? 0 : R3_OT) : 0);
    case 4:
        return pair ? R4_FIXED + 32u * st->m + 32 : 0;
    default:
        return 0;
    }
}

/* ---- state ---- */

static tss_err rs_fail(tss_reshare *st, tss_err reason, uint16_t culprit, int ban)
{
    st->status = TSS_ABORTED;
    st->abort.reason = reason;
    st->abort.culprit = culprit;
    st->abort.ban = ban && culprit != 0;
    if (st->abort.ban) /* the caller holds the culprit's stripe */
        (void)tss_banlist_ban_held(st->p.bans, st->pid[culprit].fp, reason);
    return reason;
}

/* Whom an error on j's message blames: nobody for our own failures or a session mismatch. */
static uint16_t blame(tss_err err, uint16_t j)
{
    return err == TSS_ERR_RAND || err == TSS_ERR_NOMEM || err == TSS_ERR_SESSION ? 0 : j;
}

static tss_err check_bans(tss_reshare *st)
{
    for (uint16_t j = 1; j <= st->m; j++)
        if (j != st->me && tss_banlist_contains(st->p.bans, st->pid[j].fp))
            return rs_fail(st, TSS_ERR_BANNED, j, 0);
    return TSS_OK;
}

static void setup_inbox(tss_reshare *st)
{
    tss_inbox *ib = &st->inbox;
    ib->protocol = TSS_PROTO_RESHARE;
    ib->rounds = (uint8_t)st->last;
    ib->me = st->me;
    memcpy(ib->sid, st->p.session_id, 32);
    for (uint16_t j = 1; j <= st->m; j++) {
        if (j == st->me)
            continue;
        ib->peers |= 1ULL << j;
        for (uint8_t r = 1; r <= st->last; r++) {
            ib->payload_len[r][j] = payload_len(st, r, j, st->me);
            if (ib->payload_len[r][j] > 0)
                ib->senders[r] |= 1ULL << j;
        }
    }
    ib->confidential = 1u << 3;
}

tss_err tss_reshare_new(tss_reshare **out, const tss_reshare_params *p, const tss_rng *rng)
{
    tss_identity pid[NMAX + 1];
    uint8_t dealer_of[NMAX + 1];
    uint16_t m = 0;
    if (out == NULL || p == NULL || rng == NULL || p->bans == NULL ||
        (p->dealer != 0 && p->share == NULL))
        return TSS_ERR_ARG;
    memset(pid, 0, sizeof pid);
    tss_err err = check_params(p, pid, dealer_of, &m);
    if (err != TSS_OK)
        return err;
    tss_reshare *st = tss_secmem_alloc(sizeof *st);
    if (st == NULL)
        return TSS_ERR_NOMEM;
    st->p = *p;
    st->p.share = NULL;
    st->m = m;
    st->my_dealer = p->dealer;
    st->is_new = p->index != 0;
    st->me = tss_reshare_participant_of(p);
    memcpy(st->pid, pid, sizeof pid);
    memcpy(st->dealer_of, dealer_of, sizeof dealer_of);
    lagrange_xs(st->lambda + 1, p->dealers, p->dealer_count);
    for (uint16_t j = 1; j <= m; j++) {
        if (j != st->me && tss_banlist_contains(p->bans, pid[j].fp)) {
            tss_secmem_free(st);
            return TSS_ERR_BANNED;
        }
        if (j != st->me && is_new(st, j))
            st->stripes |= tss_banlist_stripe(p->bans, pid[j].fp);
    }
    if (st->my_dealer) /* f_i(0) = lambda_i * p(x_i) */
        tss_scalar_mul(&st->coef[0], &st->lambda[st->my_dealer], p->share);
    st->rng = rng;
    st->last = st->is_new ? 4 : 2;
    st->status = TSS_RUNNING;
    setup_inbox(st);
    if (st->is_new) {
        if ((st->result = tss_keyshare_new()) == NULL) {
            tss_reshare_free(st);
            return TSS_ERR_NOMEM;
        }
        st->result->n = p->n;
        st->result->index = p->index;
        st->result->kappa = KAPPA;
        if (tss_keyshare_alloc_peers(st->result) != TSS_OK) {
            tss_reshare_free(st);
            return TSS_ERR_NOMEM;
        }
    }
    *out = st;
    return TSS_OK;
}

void tss_reshare_free(tss_reshare *st)
{
    if (st == NULL)
        return;
    tss_inbox_clear(&st->inbox);
    for (int j = 0; j <= NMAX; j++) {
        tss_baseot_receiver_free(st->bot[j]);
        free(st->r3_ot[j]); /* public messages */
    }
    tss_keyshare_free(st->result);
    tss_secmem_free(st);
}

tss_status tss_reshare_status(const tss_reshare *st)
{
    return st->status;
}

const tss_abort_info *tss_reshare_abort_info(const tss_reshare *st)
{
    return st->status == TSS_ABORTED ? &st->abort : NULL;
}

tss_keyshare *tss_reshare_take_keyshare(tss_reshare *st)
{
    tss_keyshare *ks = st->status == TSS_DONE ? st->result : NULL;
    if (ks != NULL)
        st->result = NULL;
    return ks;
}

/* ---- hashes and proofs bound to this run ---- */

static size_t pok_context(uint8_t *ctx, const char *label, const tss_reshare *st,
                          const uint8_t *extra, size_t extra_len)
{
    size_t l = strlen(label);
    memcpy(ctx, label, l);
    memcpy(ctx + l, st->sid, 32);
    if (extra_len > 0)
        memcpy(ctx + l + 32, extra, extra_len);
    return l + 32 + extra_len;
}

static size_t coef_context(uint8_t *ctx, const tss_reshare *st, uint32_t k)
{
    uint8_t kb[4] = {(uint8_t)(k >> 24), (uint8_t)(k >> 16), (uint8_t)(k >> 8), (uint8_t)k};
    return pok_context(ctx, "reshare/coef", st, kb, 4);
}

/* H(tag, sid, a, b): the pair sids of the OT setup. */
static void pair_hash(uint8_t out[32], const char *tag, const uint8_t sid[32], uint16_t a,
                      uint16_t b)
{
    tss_transcript t;
    tss_transcript_init(&t, tag);
    tss_transcript_append(&t, sid, 32);
    tss_transcript_append_u32(&t, a);
    tss_transcript_append_u32(&t, b);
    tss_transcript_final(&t, out);
}

static void boot_key(uint8_t out[32], const uint8_t sid[32], uint32_t l, const uint8_t row[32])
{
    tss_transcript t;
    tss_transcript_init(&t, "reshare/ot-bootstrap/key");
    tss_transcript_append(&t, sid, 32);
    tss_transcript_append_u32(&t, l);
    tss_transcript_append(&t, row, 32);
    tss_transcript_final(&t, out);
}

/* The data a dealer's commitment C_i covers: session id, i, F_i. */
static size_t commit_data_F(uint8_t *buf, const tss_reshare *st, uint16_t who, const uint8_t *F)
{
    memcpy(buf, st->p.session_id, 32);
    buf[32] = (uint8_t)(who >> 8);
    buf[33] = (uint8_t)who;
    memcpy(buf + 34, F, 33u * st->p.t);
    return 34 + 33u * st->p.t;
}

/* The data of a zero-seed commitment from `from` to `to`. */
static void zero_data(uint8_t data[68], const tss_reshare *st, uint16_t from, uint16_t to,
                      const uint8_t part[32])
{
    memcpy(data, st->p.session_id, 32);
    data[32] = (uint8_t)(from >> 8), data[33] = (uint8_t)from;
    data[34] = (uint8_t)(to >> 8), data[35] = (uint8_t)to;
    memcpy(data + 36, part, 32);
}

/* ---- OT setup of a new pair (as DKG R2/R3) ---- */

/* Bob of {me, alice}: after answering base-OT message 1, one extension over the fresh
 * (alice -> me) correlation with random choice bits gives me the reverse direction as
 * Alice (Delta' = the bits, k'_l = H(row_l)); writes msg2 and the extension message. */
static tss_err boot_bob(tss_reshare *st, uint16_t alice, const uint8_t msg2[TSS_BASEOT_MSG2_BYTES])
{
    uint8_t choice[TSS_OTE_XI / 8], sid[32];
    uint8_t(*rows)[32] = tss_secmem_alloc(TSS_OTE_XI * 32);
    tss_keyshare_peer *peer = &st->result->peer[alice - 1];
    tss_err err;
    if (rows == NULL || (st->r3_ot[alice] = malloc(R3_OT)) == NULL) {
        err = TSS_ERR_NOMEM;
        goto out;
    }
    memcpy(st->r3_ot[alice], msg2, TSS_BASEOT_MSG2_BYTES);
    if ((err = tss_rand_bytes(st->rng, choice, sizeof choice)) != TSS_OK)
        goto out;
    pair_hash(sid, "reshare/ot-bootstrap", st->sid, alice, st->me);
    err = tss_ote_receiver_extend_rows(peer->ot_recv, sid, choice, st->rng,
                                       st->r3_ot[alice] + TSS_BASEOT_MSG2_BYTES, rows);
    if (err != TSS_OK)
        goto out;
    memcpy(peer->ot_send->delta, choice, KAPPA / 8); /* zero past κ (ote.h) */
    for (uint32_t l = 0; l < KAPPA; l++)
        boot_key(peer->ot_send->seed[l], sid, l, rows[l]);
    SHA256(st->r3_ot[alice], R3_OT, st->ot_sent[alice]);
out:
    tss_memzero(choice, sizeof choice);
    tss_secmem_free(rows);
    return err;
}

/* Alice of {me, bob}: checks bob's extension and takes both keys of every reverse OT. */
static tss_err boot_alice_finish(tss_reshare *st, uint16_t bob, const uint8_t *ext_msg)
{
    uint8_t sid[32], flipped[32];
    uint8_t(*rows)[32] = tss_secmem_alloc(TSS_OTE_XI * 32);
    tss_keyshare_peer *peer = &st->result->peer[bob - 1];
    tss_err err;
    if (rows == NULL)
        return TSS_ERR_NOMEM;
    pair_hash(sid, "reshare/ot-bootstrap", st->sid, st->me, bob);
    err = tss_ote_sender_extend_rows(peer->ot_send, sid, ext_msg, TSS_OTE_MSG_BYTES(KAPPA), rows);
    if (err == TSS_OK) {
        for (uint32_t l = 0; l < KAPPA; l++) {
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

/* ---- sending helpers ---- */

static tss_err send_to(tss_reshare *st, uint8_t round, uint16_t to, const uint8_t *payload,
                       size_t len, tss_msgs *out)
{
    return tss_msgs_append(out, TSS_PROTO_RESHARE, round, round == 3 ? TSS_MSG_CONFIDENTIAL : 0,
                           st->me, to, st->p.session_id, payload, len);
}

static void serialize_F(uint8_t *out, const tss_point *F, uint8_t t)
{
    for (int k = 0; k < t; k++)
        tss_point_serialize(out + 33 * k, &F[k]);
}

/* ---- round 1: sid_i, and a dealer's commitment to F_i ---- */

static tss_err emit_r1(tss_reshare *st, tss_msgs *out)
{
    uint8_t payload[64], F_bytes[33 * NMAX], data[34 + 33 * NMAX];
    size_t plen = payload_len(st, 1, st->me, 0);
    tss_err err;
    if ((err = tss_rand_bytes(st->rng, st->sid_part[st->me], 32)) != TSS_OK)
        return err;
    memcpy(payload, st->sid_part[st->me], 32);
    if (st->my_dealer) {
        for (int k = 1; k < st->p.t; k++)
            if ((err = tss_rand_scalar(&st->coef[k], st->rng)) != TSS_OK)
                return err;
        for (int k = 0; k < st->p.t; k++) /* coef[0] != 0: lambda and p(x) are non-zero */
            if ((err = tss_point_base_mul(&st->F[st->me][k], &st->coef[k])) != TSS_OK)
                return err;
        serialize_F(F_bytes, st->F[st->me], st->p.t);
        size_t dl = commit_data_F(data, st, st->me, F_bytes);
        err = tss_commit(st->F_commit[st->me], st->F_nonce, "reshare/F", data, dl, st->rng);
        if (err != TSS_OK)
            return err;
        memcpy(payload + 32, st->F_commit[st->me], 32);
    }
    if ((err = tss_inbox_keep_own(&st->inbox, 1, payload, plen)) != TSS_OK)
        return err;
    st->round = 1;
    for (uint16_t j = 1; j <= st->m && err == TSS_OK; j++)
        if (j != st->me)
            err = send_to(st, 1, j, payload, plen, out);
    return err;
}

tss_err tss_reshare_start(tss_reshare *st, tss_msgs *out)
{
    if (st == NULL || out == NULL)
        return TSS_ERR_ARG;
    if (st->round != 0 || st->status != TSS_RUNNING)
        return TSS_ERR_STATE;
    size_t keep = out->count;
    tss_err err = check_bans(st);
    if (err == TSS_OK && (err = emit_r1(st, out)) != TSS_OK && st->status == TSS_RUNNING)
        rs_fail(st, err, 0, 0);
    if (st->status == TSS_ABORTED)
        tss_msgs_truncate(out, keep);
    return err;
}

/* The reshare sid (header): every public input and every sid_i. */
static void process_r1(tss_reshare *st)
{
    const tss_reshare_params *p = &st->p;
    tss_transcript t;
    for (uint16_t j = 1; j <= st->m; j++) {
        memcpy(st->sid_part[j], st->inbox.payload[1][j], 32);
        if (st->dealer_of[j])
            memcpy(st->F_commit[j], st->inbox.payload[1][j] + 32, 32);
    }
    tss_transcript_init(&t, "reshare/sid");
    tss_transcript_append(&t, p->session_id, 32);
    tss_transcript_append(&t, p->key_id, 16);
    tss_transcript_append(&t, p->key_sid, 32);
    tss_transcript_append_u32(&t, p->t_old);
    tss_transcript_append_u32(&t, p->n_old);
    tss_transcript_append_u32(&t, p->dealer_count);
    for (int d = 0; d < p->dealer_count; d++) {
        const tss_reshare_dealer *dl = &p->dealers[d];
        tss_transcript_append_scalar(&t, &dl->x);
        tss_transcript_append_point(&t, &dl->pub);
        tss_transcript_append_u32(&t, dl->new_index);
        tss_transcript_append(&t, dl->id.party_id, strlen(dl->id.party_id));
        tss_transcript_append(&t, dl->id.fp, 32);
    }
    tss_transcript_append_point(&t, &p->pk);
    tss_transcript_append(&t, p->chain_code, 32);
    tss_transcript_append_u32(&t, p->t);
    tss_transcript_append_u32(&t, p->n);
    for (uint16_t j = 1; j <= p->n; j++) {
        tss_transcript_append_u32(&t, j);
        tss_transcript_append(&t, p->ids[j - 1].party_id, strlen(p->ids[j - 1].party_id));
        tss_transcript_append(&t, p->ids[j - 1].fp, 32);
    }
    tss_transcript_append_u32(&t, p->epoch);
    for (uint16_t j = 1; j <= st->m; j++)
        tss_transcript_append(&t, st->sid_part[j], 32);
    tss_transcript_final(&t, st->sid);
}

/* ---- round 2: reveal F_i with proofs; the new pairs' zero commitments and base OTs ---- */

static tss_err fill_bcast(tss_reshare *st, uint8_t *p)
{
    uint8_t ctx[128];
    tss_err err;
    memcpy(p, st->sid, 32);
    if (!st->my_dealer)
        return TSS_OK;
    p += 32;
    serialize_F(p, st->F[st->me], st->p.t);
    p += 33 * st->p.t;
    memcpy(p, st->F_nonce, 32);
    p += 32;
    for (uint32_t k = 0; k < st->p.t; k++, p += TSS_POK_BYTES) {
        size_t cl = coef_context(ctx, st, k);
        err = tss_pok_prove(p, &st->coef[k], &st->F[st->me][k], ctx, cl, st->me, st->rng);
        if (err != TSS_OK)
            return err;
    }
    return TSS_OK;
}

/* Toward new peer j: a commitment to my zero-seed part and, as the pair's Alice, base-OT
 * message 1. */
static tss_err fill_pair_r2(tss_reshare *st, uint16_t j, uint8_t *p)
{
    uint8_t data[68], sid[32];
    tss_err err;
    if ((err = tss_rand_bytes(st->rng, st->zero_part[j], 32)) != TSS_OK)
        return err;
    zero_data(data, st, st->me, j, st->zero_part[j]);
    err = tss_commit(p, st->zero_nonce[j], "reshare/zero", data, 68, st->rng);
    tss_memzero(data, sizeof data);
    if (err != TSS_OK || pair_alice(st->me, j) != st->me)
        return err;
    if ((st->bot[j] = tss_baseot_receiver_new()) == NULL)
        return TSS_ERR_NOMEM;
    pair_hash(sid, "reshare/ot-sid", st->sid, st->me, j);
    if ((err = tss_baseot_receiver_start(st->bot[j], sid, KAPPA, st->rng, p + 32)) != TSS_OK)
        return err;
    SHA256(p + 32, R2_OT, st->ot_sent[j]);
    return TSS_OK;
}

static tss_err send_r2(tss_reshare *st, tss_msgs *out)
{
    size_t blen = bcast_len(st, st->me);
    uint8_t *payload = malloc(blen + 32 + R2_OT);
    tss_err err;
    if (payload == NULL)
        return TSS_ERR_NOMEM;
    if ((err = fill_bcast(st, payload)) != TSS_OK ||
        (err = tss_inbox_keep_own(&st->inbox, 2, payload, blen)) != TSS_OK)
        goto out;
    for (uint16_t j = 1; j <= st->m && err == TSS_OK; j++) {
        size_t plen = payload_len(st, 2, st->me, j);
        if (j == st->me || plen == 0)
            continue;
        if (is_new(st, j) && st->is_new)
            err = fill_pair_r2(st, j, payload + blen);
        if (err == TSS_OK)
            err = send_to(st, 2, j, payload, plen, out);
    }
out:
    tss_memzero(payload, blen);
    free(payload);
    return err;
}

/* Dealer j's R2 broadcast: strict points (no infinity), the opening of C_j, a PoK per
 * coefficient, and A_j0 = lambda_j * P(x_j). */
static tss_err check_dealing(tss_reshare *st, uint16_t j, const uint8_t *p)
{
    uint8_t data[34 + 33 * NMAX], ctx[128];
    const tss_reshare_dealer *d = &st->p.dealers[st->dealer_of[j] - 1];
    uint8_t t = st->p.t;
    tss_point want;
    for (int k = 0; k < t; k++)
        if (tss_point_parse(&st->F[j][k], p + 33 * k) != TSS_OK)
            return rs_fail(st, TSS_ERR_POINT, j, 0);
    size_t dl = commit_data_F(data, st, j, p);
    if (tss_commit_verify(st->F_commit[j], p + 33 * t, "reshare/F", data, dl) != TSS_OK)
        return rs_fail(st, TSS_ERR_COMMITMENT, j, 0);
    const uint8_t *proofs = p + 33 * t + 32;
    for (uint32_t k = 0; k < t; k++) {
        size_t cl = coef_context(ctx, st, k);
        if (tss_pok_verify(proofs + TSS_POK_BYTES * k, &st->F[j][k], ctx, cl, j) != TSS_OK)
            return rs_fail(st, TSS_ERR_PROOF, j, 0);
    }
    if (tss_point_mul(&want, &d->pub, &st->lambda[st->dealer_of[j]]) != TSS_OK ||
        !tss_point_eq(&want, &st->F[j][0]))
        return rs_fail(st, TSS_ERR_MISMATCH, j, 0);
    return TSS_OK;
}

/* New peer j's pairwise R2 part: its zero commitment; as the pair's Alice, base-OT
 * message 1, which I answer and bootstrap the reverse direction from. */
static tss_err take_pair_r2(tss_reshare *st, uint16_t j, const uint8_t *p)
{
    uint8_t sid[32], msg2[TSS_BASEOT_MSG2_BYTES];
    memcpy(st->zero_commit[j], p, 32);
    if (pair_alice(st->me, j) != j) {
        memset(st->ot_recv[j], 0, 32); /* j sends its OT part in R3 */
        return TSS_OK;
    }
    pair_hash(sid, "reshare/ot-sid", st->sid, j, st->me);
    SHA256(p + 32, R2_OT, st->ot_recv[j]);
    tss_err err = tss_baseot_sender_respond(sid, p + 32, R2_OT, st->rng, msg2,
                                            st->result->peer[j - 1].ot_recv);
    if (err == TSS_OK)
        err = boot_bob(st, j, msg2);
    return err == TSS_OK ? TSS_OK : rs_fail(st, err, blame(err, j), 0);
}

/* sum_i A_i0 = pk: the dealings reconstruct the unchanged key. */
static tss_err check_sum(tss_reshare *st)
{
    tss_point terms[NMAX], sum;
    size_t c = 0;
    for (uint16_t j = 1; j <= st->m; j++)
        if (st->dealer_of[j])
            terms[c++] = st->F[j][0];
    if (tss_point_sum(&sum, terms, c) != TSS_OK || !tss_point_eq(&sum, &st->p.pk))
        return rs_fail(st, TSS_ERR_MISMATCH, 0, 0);
    return TSS_OK;
}

static tss_err process_r2(tss_reshare *st)
{
    /* the same sid everywhere first: an equivocated sid_i names nobody (DKLS23.md) */
    for (uint16_t j = 1; j <= st->m; j++)
        if (j != st->me && st->inbox.payload[2][j] != NULL &&
            !tss_ct_eq(st->inbox.payload[2][j], st->sid, 32))
            return rs_fail(st, TSS_ERR_SESSION, 0, 0);
    if (!st->is_new)
        return TSS_OK;
    for (uint16_t j = 1; j <= st->m; j++) {
        const uint8_t *p = st->inbox.payload[2][j];
        size_t blen = bcast_len(st, j);
        tss_transcript t;
        tss_transcript_init(&t, "reshare/broadcasts");
        tss_transcript_append(&t, st->sid, 32);
        tss_transcript_append_u32(&t, j);
        tss_transcript_append(&t, st->inbox.payload[1][j], st->inbox.payload_len[1][j]);
        tss_transcript_append(&t, p, blen);
        tss_transcript_final(&t, st->bcast_hash[j]);
        if (j == st->me)
            continue;
        tss_err err;
        if (st->dealer_of[j] && (err = check_dealing(st, j, p + 32)) != TSS_OK)
            return err;
        if (is_new(st, j) && (err = take_pair_r2(st, j, p + blen)) != TSS_OK)
            return err;
    }
    return check_sum(st);
}

/* ---- round 3: shares (dealers) and the new pairs' openings and OT replies ---- */

/* f_i(x) for the public x = a new index. */
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

static tss_err send_r3(tss_reshare *st, tss_msgs *out)
{
    uint8_t *payload = tss_secmem_alloc(32 + R3_PAIR + R3_OT);
    tss_scalar share;
    tss_err err = TSS_OK;
    if (payload == NULL)
        return TSS_ERR_NOMEM;
    for (uint16_t j = 1; j <= st->p.n && err == TSS_OK; j++) {
        if (j == st->me)
            continue;
        size_t off = 0;
        if (st->my_dealer) {
            eval_poly(&share, st->coef, st->p.t, j);
            tss_scalar_serialize(payload, &share);
            off = 32;
        }
        if (st->is_new) {
            memcpy(payload + off, st->zero_part[j], 32);
            memcpy(payload + off + 32, st->zero_nonce[j], 32);
            if (pair_alice(st->me, j) != st->me)
                memcpy(payload + off + R3_PAIR, st->r3_ot[j], R3_OT);
        }
        err = send_to(st, 3, j, payload, payload_len(st, 3, st->me, j), out);
    }
    if (st->my_dealer && st->is_new) { /* my own dealing's share for me */
        eval_poly(&share, st->coef, st->p.t, st->me);
        st->share_sum = share;
    }
    tss_scalar_clear(&share);
    tss_secmem_free(payload);
    return err;
}

/* Feldman: f_j(me)*G == sum_k me^k * A_jk (an identity sum is an error, not a crash). */
static int feldman_ok(const tss_reshare *st, uint16_t j, const tss_scalar *share)
{
    tss_point lhs, terms[NMAX], rhs;
    tss_scalar x, xk;
    if (tss_point_base_mul(&lhs, share) != TSS_OK)
        return 0;
    tss_scalar_set_u64(&x, st->me);
    xk = x;
    terms[0] = st->F[j][0];
    for (int k = 1; k < st->p.t; k++) {
        if (tss_point_mul(&terms[k], &st->F[j][k], &xk) != TSS_OK)
            return 0;
        tss_scalar_mul(&xk, &xk, &x);
    }
    if (tss_point_sum(&rhs, terms, st->p.t) != TSS_OK)
        return 0;
    return tss_point_eq(&lhs, &rhs);
}

/* New peer j's pairwise R3 part: the zero-seed opening; when I am the pair's Alice, the
 * base-OT answer and the bootstrap extension, whose failed check bans j. */
static tss_err take_pair_r3(tss_reshare *st, uint16_t j, const uint8_t *p)
{
    uint8_t data[68];
    zero_data(data, st, j, st->me, p);
    tss_err err = tss_commit_verify(st->zero_commit[j], p + 32, "reshare/zero", data, 68);
    tss_memzero(data, sizeof data);
    if (err != TSS_OK)
        return rs_fail(st, TSS_ERR_COMMITMENT, j, 0);
    memcpy(st->zero_theirs[j], p, 32);
    if (pair_alice(st->me, j) != st->me)
        return TSS_OK;
    p += R3_PAIR;
    SHA256(p, R3_OT, st->ot_recv[j]);
    err = tss_baseot_receiver_finish(st->bot[j], p, TSS_BASEOT_MSG2_BYTES,
                                     st->result->peer[j - 1].ot_send);
    tss_baseot_receiver_free(st->bot[j]);
    st->bot[j] = NULL;
    if (err != TSS_OK)
        return rs_fail(st, err, blame(err, j), 0);
    err = boot_alice_finish(st, j, p + TSS_BASEOT_MSG2_BYTES);
    if (err != TSS_OK)
        return rs_fail(st, err, blame(err, j), err == TSS_ERR_OT_CHECK);
    return TSS_OK;
}

static tss_err process_r3(tss_reshare *st)
{
    for (uint16_t j = 1; j <= st->m; j++) {
        if (j == st->me)
            continue;
        const uint8_t *p = st->inbox.payload[3][j];
        if (st->dealer_of[j]) {
            tss_scalar share;
            if (tss_scalar_parse(&share, p) != TSS_OK || !feldman_ok(st, j, &share)) {
                tss_scalar_clear(&share);
                return rs_fail(st, TSS_ERR_SHARE, j, 0);
            }
            tss_scalar_add(&st->share_sum, &st->share_sum, &share);
            tss_scalar_clear(&share);
            p += 32;
        }
        tss_err err;
        if (is_new(st, j) && (err = take_pair_r3(st, j, p)) != TSS_OK)
            return err;
    }
    return TSS_OK;
}

/* After R3: the summed commitments give every P'(j) (none infinity); their value at 0 is
 * pk (check_sum, R2), which is never infinity (a tss_point cannot hold it); my share must
 * match P'(me). */
static tss_err derive_public(tss_reshare *st)
{
    tss_point Fsum[NMAX], col[NMAX], terms[NMAX], mine;
    for (int k = 0; k < st->p.t; k++) {
        size_t c = 0;
        for (uint16_t j = 1; j <= st->m; j++)
            if (st->dealer_of[j])
                col[c++] = st->F[j][k];
        if (tss_point_sum(&Fsum[k], col, c) != TSS_OK)
            return rs_fail(st, TSS_ERR_INFINITY, 0, 0);
    }
    for (uint16_t j = 1; j <= st->p.n; j++) {
        tss_scalar x, xk;
        tss_scalar_set_u64(&x, j);
        xk = x;
        terms[0] = Fsum[0];
        for (int k = 1; k < st->p.t; k++) {
            if (tss_point_mul(&terms[k], &Fsum[k], &xk) != TSS_OK)
                return rs_fail(st, TSS_ERR_INFINITY, 0, 0);
            tss_scalar_mul(&xk, &xk, &x);
        }
        if (tss_point_sum(&st->pub_share[j], terms, st->p.t) != TSS_OK)
            return rs_fail(st, TSS_ERR_INFINITY, 0, 0);
    }
    if (tss_point_base_mul(&mine, &st->share_sum) != TSS_OK ||
        !tss_point_eq(&mine, &st->pub_share[st->me]))
        return rs_fail(st, TSS_ERR_SHARE, 0, 0);
    return TSS_OK;
}

/* ---- round 4: same pk, P'(j) and broadcasts everywhere; PoK of p'(i) ---- */

/* Both ends of the new pair {me, j} hash the base-OT messages they exchanged. */
static void ot_view(const tss_reshare *st, uint16_t j, uint8_t out[32])
{
    uint16_t alice = pair_alice(st->me, j), bob = alice == st->me ? j : st->me;
    int me_alice = alice == st->me;
    tss_transcript t;
    tss_transcript_init(&t, "reshare/ot-view");
    tss_transcript_append(&t, st->sid, 32);
    tss_transcript_append_u32(&t, alice);
    tss_transcript_append_u32(&t, bob);
    tss_transcript_append(&t, me_alice ? st->ot_sent[j] : st->ot_recv[j], 32);
    tss_transcript_append(&t, me_alice ? st->ot_recv[j] : st->ot_sent[j], 32);
    tss_transcript_final(&t, out);
}

static tss_err send_r4(tss_reshare *st, tss_msgs *out)
{
    uint8_t payload[R4_FIXED + 32 * NMAX + 32], ctx[128];
    size_t plen = R4_FIXED + 32u * st->m + 32;
    tss_err err;
    tss_point_serialize(payload, &st->p.pk);
    tss_point_serialize(payload + 33, &st->pub_share[st->me]);
    size_t cl = pok_context(ctx, "reshare/share", st, st->p.chain_code, 32);
    err = tss_pok_prove(payload + 66, &st->share_sum, &st->pub_share[st->me], ctx, cl, st->me,
                        st->rng);
    if (err != TSS_OK)
        return err;
    for (uint16_t j = 1; j <= st->m; j++)
        memcpy(payload + R4_FIXED + 32 * (j - 1), st->bcast_hash[j], 32);
    memset(payload + plen - 32, 0, 32);
    if ((err = tss_inbox_keep_own(&st->inbox, 4, payload, plen)) != TSS_OK)
        return err;
    for (uint16_t j = 1; j <= st->p.n && err == TSS_OK; j++) {
        if (j == st->me)
            continue;
        ot_view(st, j, payload + plen - 32);
        err = send_to(st, 4, j, payload, plen, out);
    }
    return err;
}

/* As in the DKG: a peer that reports its own or my broadcasts differently is to blame; a
 * disagreement about a third participant names nobody. -1 when all agree. */
static int broadcast_culprit(const tss_reshare *st, uint16_t p, const uint8_t *hashes)
{
    for (uint16_t j = 1; j <= st->m; j++)
        if (!tss_ct_eq(hashes + 32 * (j - 1), st->bcast_hash[j], 32))
            return (j == p || j == st->me) ? p : 0;
    return -1;
}

static tss_err process_r4(tss_reshare *st)
{
    uint8_t ctx[128], pk[33], view[32];
    size_t plen = R4_FIXED + 32u * st->m + 32;
    tss_point_serialize(pk, &st->p.pk);
    size_t cl = pok_context(ctx, "reshare/share", st, st->p.chain_code, 32);
    for (uint16_t j = 1; j <= st->p.n; j++) {
        if (j == st->me)
            continue;
        const uint8_t *p = st->inbox.payload[4][j];
        tss_point Pj;
        int culprit = broadcast_culprit(st, j, p + R4_FIXED);
        if (culprit >= 0)
            return rs_fail(st, TSS_ERR_MISMATCH, (uint16_t)culprit, 0);
        if (!tss_ct_eq(p, pk, 33))
            return rs_fail(st, TSS_ERR_MISMATCH, j, 0);
        if (tss_point_parse(&Pj, p + 33) != TSS_OK || !tss_point_eq(&Pj, &st->pub_share[j]))
            return rs_fail(st, TSS_ERR_MISMATCH, j, 0);
        if (tss_pok_verify(p + 66, &Pj, ctx, cl, j) != TSS_OK)
            return rs_fail(st, TSS_ERR_PROOF, j, 0);
        ot_view(st, j, view);
        if (!tss_ct_eq(view, p + plen - 32, 32))
            return rs_fail(st, TSS_ERR_MISMATCH, j, 0);
    }
    return TSS_OK;
}

static void build_keyshare(tss_reshare *st)
{
    tss_keyshare *ks = st->result; /* allocated with its OT setups by tss_reshare_new */
    static const uint8_t zero[32];
    ks->t = st->p.t;
    ks->n = st->p.n;
    ks->index = st->p.index;
    ks->epoch = st->p.epoch;
    memcpy(ks->dkg_sid, tss_ct_eq(st->p.key_sid, zero, 32) ? st->sid : st->p.key_sid, 32);
    memcpy(ks->setup_sid, st->sid, 32);
    memcpy(ks->ids, st->p.ids, st->p.n * sizeof st->p.ids[0]);
    memcpy(ks->chain_code, st->p.chain_code, 32);
    ks->pk = st->p.pk;
    for (uint16_t j = 1; j <= st->p.n; j++)
        ks->pub_shares[j - 1] = st->pub_share[j];
    ks->secret_share = st->share_sum;
    for (uint16_t j = 1; j <= st->p.n; j++) {
        if (j == st->me)
            continue;
        uint16_t lo = st->me < j ? st->me : j, hi = st->me < j ? j : st->me;
        const uint8_t *plo = st->me == lo ? st->zero_part[j] : st->zero_theirs[j];
        const uint8_t *phi = st->me == hi ? st->zero_part[j] : st->zero_theirs[j];
        tss_transcript t;
        tss_transcript_init(&t, "reshare/zero-seed");
        tss_transcript_append(&t, st->sid, 32);
        tss_transcript_append_u32(&t, lo);
        tss_transcript_append_u32(&t, hi);
        tss_transcript_append(&t, plo, 32);
        tss_transcript_append(&t, phi, 32);
        tss_transcript_final(&t, ks->peer[j - 1].zero_seed);
    }
}

/* Wipes what only the run needed: the polynomial (once R3 is out) and the seed parts. */
static void wipe_run_secrets(tss_reshare *st)
{
    tss_memzero(st->coef, sizeof st->coef);
    tss_memzero(st->zero_part, sizeof st->zero_part);
    tss_memzero(st->zero_nonce, sizeof st->zero_nonce);
    tss_memzero(st->zero_theirs, sizeof st->zero_theirs);
}

/* R3 -> R4 under the new peers' ban-list locks: from the look-up through the bootstrap
 * extension checks to either R4 in `out` or the culprit's ban persisted (tss/ban.h). */
static tss_err round3(tss_reshare *st, tss_msgs *out)
{
    tss_err err;
    tss_banlist_hold(st->p.bans, st->stripes);
    if ((err = check_bans(st)) == TSS_OK && (err = process_r3(st)) == TSS_OK &&
        (err = derive_public(st)) == TSS_OK)
        err = send_r4(st, out);
    tss_banlist_release(st->p.bans, st->stripes);
    return err;
}

static tss_err advance(tss_reshare *st, tss_msgs *out)
{
    while (st->status == TSS_RUNNING && st->round >= 1 && st->round <= st->last &&
           tss_inbox_complete(&st->inbox, st->round)) {
        tss_err err = TSS_OK;
        switch (st->round) {
        case 1:
            process_r1(st);
            err = send_r2(st, out);
            break;
        case 2:
            if ((err = process_r2(st)) == TSS_OK && (err = send_r3(st, out)) == TSS_OK) {
                tss_memzero(st->coef, sizeof st->coef); /* the dealing is out */
                if (!st->is_new) {
                    st->status = TSS_DONE;
                    tss_inbox_clear(&st->inbox);
                }
            }
            break;
        case 3:
            err = round3(st, out);
            break;
        case 4:
            if ((err = process_r4(st)) == TSS_OK) {
                build_keyshare(st);
                st->status = TSS_DONE;
                tss_inbox_clear(&st->inbox);
                wipe_run_secrets(st);
                tss_scalar_clear(&st->share_sum);
            }
            break;
        }
        if (err != TSS_OK) {
            if (st->status != TSS_ABORTED)
                rs_fail(st, err, 0, 0);
            return err;
        }
        st->round++;
    }
    return TSS_OK;
}

tss_err tss_reshare_receive(tss_reshare *st, const uint8_t *msg, size_t len, tss_msgs *out)
{
    if (st == NULL || out == NULL)
        return TSS_ERR_ARG;
    if (st->status != TSS_RUNNING || st->round == 0)
        return TSS_ERR_STATE;
    size_t keep = out->count;
    tss_err err = check_bans(st);
    if (err == TSS_OK) {
        if ((err = tss_inbox_accept(&st->inbox, st->round, msg, len)) != TSS_OK)
            return err; /* rejected: state unchanged */
        err = advance(st, out);
    }
    if (st->status == TSS_ABORTED) {
        tss_inbox_clear(&st->inbox);
        wipe_run_secrets(st);
        tss_scalar_clear(&st->share_sum);
        tss_msgs_truncate(out, keep);
    }
    return err;
}

/* ---- deep copy, for tests and fuzzing only ---- */

#include "testing.h" /* here, not above: this section is the only user */

/* The key share under construction, with the OT setups the base OTs are filling. */
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

tss_err tss_reshare_clone(tss_reshare **out, const tss_reshare *st, const tss_rng *rng)
{
    if (out == NULL || st == NULL)
        return TSS_ERR_ARG;
    *out = NULL;
    tss_reshare *c = tss_secmem_alloc(sizeof *c);
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
            if ((c->r3_ot[j] = malloc(R3_OT)) == NULL)
                err = TSS_ERR_NOMEM;
            else
                memcpy(c->r3_ot[j], st->r3_ot[j], R3_OT);
        }
    }
    if (err != TSS_OK) {
        tss_reshare_free(c);
        return err;
    }
    *out = c;
    return TSS_OK;
}
