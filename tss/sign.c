/* tss/sign.c — the signing state machine: rounds 1-3, the Gamma and pk checks, the
 * presignature, combination, low-s normalisation and the final verification. */
#include "sign.h"

#include <secp256k1_recovery.h>
#include <stdlib.h>
#include <string.h>

#include "ban.h"
#include "inbox.h"
#include "lagrange.h"
#include "secmem.h"
#include "transcript.h"
#include "vole.h"

#define NMAX          TSS_MAX_PARTIES
#define R1_LEN(kappa) (32 + TSS_VOLE_MSG1_BYTES(kappa))
#define R2_TAIL       (33 + 33 + 32 + 33 + 33 + 32) /* Gamma^u, Gamma^v, psi, pk_i, R_i, nonce */
#define R2_LEN        (TSS_VOLE_MSG2_BYTES + R2_TAIL)
#define R3_LEN        (32 + 32 + 32)

struct tss_sign {
    const tss_keyshare *ks;
    const tss_rng *rng;
    uint16_t me;
    uint16_t set[NMAX]; /* sorted signer indices */
    size_t count;
    uint8_t session_id[32];
    uint8_t sid[32]; /* signing sid: binds session id, DKG sid, signer set, path */
    int has_hash;
    uint8_t hash[32];
    tss_sid_claim_fn claim;
    void *claim_ctx;
    tss_banlist *bans;
    const uint8_t *fp[NMAX + 1]; /* peer j's pinned identity fingerprint (in the share) */
    uint64_t stripes;            /* the ban-list lock stripes of all peers */
    tss_scalar offset;           /* BIP32 offset delta */
    tss_point pk;                /* the (derived) key being signed for */
    int round;
    tss_status status;
    tss_abort_info abort;
    int presigned, used;

    /* secrets */
    tss_scalar r, phi, sk;
    tss_point R_me, pk_me;
    uint8_t R_nonce[NMAX + 1][32];
    tss_vole_bob *bob[NMAX + 1]; /* I am Bob toward Alice j */
    tss_scalar chi[NMAX + 1];    /* my Bob input toward j */
    tss_scalar cu[NMAX + 1], cv[NMAX + 1];

    /* from peers */
    uint8_t com[NMAX + 1][32];
    tss_point R[NMAX + 1], pkj[NMAX + 1];
    tss_point Rsum;
    tss_scalar u, v; /* the presignature (with phi) */
    uint8_t digest[32];

    tss_inbox inbox;
    tss_signature sig;
};

size_t tss_sign_payload_len(uint8_t round, unsigned kappa)
{
    if (!tss_ote_kappa_valid(kappa))
        return 0;
    switch (round) {
    case 1:
        return R1_LEN(kappa);
    case 2:
        return R2_LEN;
    case 3:
        return R3_LEN;
    default:
        return 0;
    }
}

/* Aborts. A ban-class failure (ban = 1) bans the culprit's identity through the ban list
 * before returning; the caller holds the culprit's stripe (tss/ban.h), so no other check
 * with that peer runs until the ban is persisted and listed. */
static tss_err sign_fail(tss_sign *st, tss_err reason, uint16_t culprit, int ban)
{
    st->status = TSS_ABORTED;
    st->abort.reason = reason;
    st->abort.culprit = culprit;
    st->abort.ban = ban;
    if (ban && culprit != 0)
        (void)tss_banlist_ban_held(st->bans, st->fp[culprit], reason); /* aborted either way */
    return reason;
}

/* A peer of this state is on the ban list: abort (no new ban, the culprit is that peer). */
static tss_err check_bans(tss_sign *st)
{
    for (size_t k = 0; k < st->count; k++) {
        uint16_t j = st->set[k];
        if (j != st->me && tss_banlist_contains(st->bans, st->fp[j]))
            return sign_fail(st, TSS_ERR_BANNED, j, 0);
    }
    return TSS_OK;
}

/* Whom an error on j's message blames: nobody for our own failures, and nobody for a
 * session, length or format error (parties given different sets, paths or shares by a
 * hub derive different sids and fail this way without anyone misbehaving; as in the
 * DKG, a hub must not be able to pin blame on an honest party); j otherwise. */
static uint16_t blame(tss_err err, uint16_t j)
{
    return err == TSS_ERR_RAND || err == TSS_ERR_NOMEM || err == TSS_ERR_SESSION ||
                   err == TSS_ERR_LENGTH || err == TSS_ERR_FORMAT
               ? 0
               : j;
}

/* Maps an error from the OT/VOLE layer on j's message to an abort: the consistency-check
 * failures are ban-class, everything else (session, length, format) is plain. */
static tss_err sign_fail_peer(tss_sign *st, tss_err err, uint16_t j)
{
    int ban = err == TSS_ERR_OT_CHECK || err == TSS_ERR_VOLE_CHECK || err == TSS_ERR_SIGN_CHECK;
    return sign_fail(st, err, blame(err, j), ban);
}

/* VOLE sid for the ordered pair (alice, bob) of this signature. */
static void vole_sid(uint8_t out[32], const tss_sign *st, uint16_t alice, uint16_t bob)
{
    tss_transcript t;
    tss_transcript_init(&t, "sign/vole-sid");
    tss_transcript_append(&t, st->sid, 32);
    tss_transcript_append_u32(&t, alice);
    tss_transcript_append_u32(&t, bob);
    tss_transcript_final(&t, out);
}

/* Commitment data for R_from sent to `to`: (sid, from, to, R). */
static void commit_data(uint8_t out[32 + 8 + 33], const tss_sign *st, uint16_t from, uint16_t to,
                        const uint8_t R[33])
{
    memcpy(out, st->sid, 32);
    out[32] = 0, out[33] = 0, out[34] = (uint8_t)(from >> 8), out[35] = (uint8_t)from;
    out[36] = 0, out[37] = 0, out[38] = (uint8_t)(to >> 8), out[39] = (uint8_t)to;
    memcpy(out + 40, R, 33);
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* sk_i = lambda_i * (p(i) + offset) + zeta_i, with the zero share
 * zeta_i = sum_{j<i} H(sid, s_ij) - sum_{j>i} H(sid, s_ij) over the signer set. */
static tss_err additive_share(tss_sign *st)
{
    tss_scalar lambda, z, h;
    tss_err err = tss_lagrange_at_zero(&lambda, st->set, st->count, st->me);
    if (err != TSS_OK)
        return err;
    tss_scalar_add(&st->sk, &st->ks->secret_share, &st->offset);
    tss_scalar_mul(&st->sk, &st->sk, &lambda);
    tss_scalar_set_u64(&z, 0);
    for (size_t k = 0; k < st->count; k++) {
        uint16_t j = st->set[k];
        if (j == st->me)
            continue;
        tss_transcript t;
        tss_transcript_init(&t, "sign/zero-share");
        tss_transcript_append(&t, st->sid, 32);
        tss_transcript_append(&t, st->ks->peer[j - 1].zero_seed, 32);
        tss_transcript_final_scalar(&t, &h);
        if (j < st->me)
            tss_scalar_add(&z, &z, &h);
        else
            tss_scalar_sub(&z, &z, &h);
    }
    tss_scalar_add(&st->sk, &st->sk, &z);
    tss_scalar_clear(&z);
    tss_scalar_clear(&h);
    return tss_point_base_mul(&st->pk_me, &st->sk);
}

tss_err tss_sign_new(tss_sign **out, const tss_sign_params *p, const tss_rng *rng)
{
    if (out == NULL || p == NULL || rng == NULL || p->share == NULL || p->claim == NULL ||
        p->bans == NULL)
        return TSS_ERR_ARG;
    const tss_keyshare *ks = p->share;
    /* exactly t distinct in-range signers, including me (TOB-SILA-15) */
    if (p->signer_count != ks->t ||
        tss_check_index_set(p->signers, p->signer_count, ks->n) != TSS_OK)
        return TSS_ERR_PARAMS;
    int mine = 0;
    for (size_t k = 0; k < p->signer_count; k++)
        mine |= p->signers[k] == ks->index;
    if (!mine || p->path_len > TSS_BIP32_MAX_DEPTH)
        return TSS_ERR_PARAMS;
    /* every setup used must be there and of the share's κ (the message sizes follow it) */
    if (!tss_ote_kappa_valid(ks->kappa))
        return TSS_ERR_ARG;
    for (size_t k = 0; k < p->signer_count; k++) {
        const tss_keyshare_peer *peer = &ks->peer[p->signers[k] - 1];
        if (p->signers[k] != ks->index &&
            (peer->ot_send == NULL || peer->ot_recv == NULL || peer->ot_send->kappa != ks->kappa ||
             peer->ot_recv->kappa != ks->kappa))
            return TSS_ERR_ARG;
    }
    /* pinned identities are required (a v1 share has none: see keyshare.h), and no peer
     * may be banned */
    if (!tss_keyshare_has_identities(ks))
        return TSS_ERR_IDENTITY;
    for (size_t k = 0; k < p->signer_count; k++)
        if (p->signers[k] != ks->index &&
            tss_banlist_contains(p->bans, ks->ids[p->signers[k] - 1].fp))
            return TSS_ERR_BANNED;

    tss_sign *st = tss_secmem_alloc(sizeof *st);
    if (st == NULL)
        return TSS_ERR_NOMEM;
    st->ks = ks;
    st->rng = rng;
    st->me = ks->index;
    st->count = p->signer_count;
    memcpy(st->set, p->signers, st->count * sizeof st->set[0]);
    qsort(st->set, st->count, sizeof st->set[0], cmp_u16);
    memcpy(st->session_id, p->session_id, 32);
    st->has_hash = p->has_hash;
    memcpy(st->hash, p->hash, 32);
    st->claim = p->claim;
    st->claim_ctx = p->claim_ctx;
    st->bans = p->bans;
    for (size_t k = 0; k < st->count; k++) {
        uint16_t j = st->set[k];
        if (j == st->me)
            continue;
        st->fp[j] = ks->ids[j - 1].fp;
        st->stripes |= tss_banlist_stripe(st->bans, st->fp[j]);
    }
    uint8_t child_chain[32], share_fp[32];
    tss_err err = tss_bip32_derive(&ks->pk, ks->chain_code, p->path, p->path_len, &st->offset,
                                   &st->pk, child_chain);
    if (err != TSS_OK) {
        tss_secmem_free(st);
        return err;
    }

    tss_transcript t;
    /* the share's fingerprint covers the DKG sid, the epoch and setup sid, the public key
     * material and the pinned identities: parties that differ in any of them derive
     * different sids and abort with TSS_ERR_SESSION before any OT work */
    tss_keyshare_fingerprint(share_fp, ks);
    tss_transcript_init(&t, "sign/sid/v2");
    tss_transcript_append(&t, st->session_id, 32);
    tss_transcript_append(&t, share_fp, 32);
    for (size_t k = 0; k < st->count; k++)
        tss_transcript_append_u32(&t, st->set[k]);
    tss_transcript_append_u32(&t, (uint32_t)p->path_len);
    for (size_t k = 0; k < p->path_len; k++)
        tss_transcript_append_u32(&t, p->path[k]);
    tss_transcript_final(&t, st->sid);

    st->inbox.protocol = TSS_PROTO_SIGN;
    st->inbox.rounds = 3;
    st->inbox.me = st->me;
    memcpy(st->inbox.sid, st->session_id, 32);
    for (size_t k = 0; k < st->count; k++)
        if (st->set[k] != st->me)
            st->inbox.peers |= 1ULL << st->set[k];
    for (uint8_t r = 1; r <= 3; r++)
        for (int j = 0; j <= NMAX; j++)
            st->inbox.payload_len[r][j] = tss_sign_payload_len(r, ks->kappa);
    st->inbox.confidential = 0; /* nothing secret in the clear; the channel encrypts all */
    st->status = TSS_RUNNING;
    *out = st;
    return TSS_OK;
}

void tss_sign_free(tss_sign *st)
{
    if (st == NULL)
        return;
    tss_inbox_clear(&st->inbox);
    for (int j = 0; j <= NMAX; j++)
        tss_vole_bob_free(st->bob[j]);
    tss_secmem_free(st);
}

tss_status tss_sign_status(const tss_sign *st)
{
    return st->status;
}

const tss_abort_info *tss_sign_abort_info(const tss_sign *st)
{
    return st->status == TSS_ABORTED ? &st->abort : NULL;
}

int tss_sign_presigned(const tss_sign *st)
{
    return st->status == TSS_RUNNING && st->presigned;
}

tss_err tss_sign_result(const tss_sign *st, tss_signature *sig, tss_point *pk)
{
    if (st->status != TSS_DONE)
        return TSS_ERR_STATE;
    if (sig)
        *sig = st->sig;
    if (pk)
        *pk = st->pk;
    return TSS_OK;
}

/* ---- round 1 ---- */

/* Round 1: commitments to R_i and VOLE message 1 (as Bob) toward every peer. */
static tss_err emit_r1(tss_sign *st, tss_msgs *out)
{
    uint8_t *payload = NULL, Rb[33], data[73], sid[32];
    tss_err err;
    /* the signing sid is recorded as used before anything that depends on it exists */
    int claimed = st->claim(st->claim_ctx, st->sid);
    if (claimed != 0)
        return sign_fail(st, claimed == 1 ? TSS_ERR_USED : TSS_ERR_STORAGE, 0, 0);
    if ((err = tss_rand_scalar(&st->r, st->rng)) != TSS_OK ||
        (err = tss_rand_scalar(&st->phi, st->rng)) != TSS_OK ||
        (err = tss_point_base_mul(&st->R_me, &st->r)) != TSS_OK ||
        (err = additive_share(st)) != TSS_OK)
        return sign_fail(st, err, 0, 0);
    tss_point_serialize(Rb, &st->R_me);
    if ((payload = malloc(R1_LEN(st->ks->kappa))) == NULL)
        return sign_fail(st, TSS_ERR_NOMEM, 0, 0);
    for (size_t k = 0; k < st->count && err == TSS_OK; k++) {
        uint16_t j = st->set[k];
        if (j == st->me)
            continue;
        commit_data(data, st, st->me, j, Rb);
        if ((err = tss_commit(payload, st->R_nonce[j], "sign/R", data, sizeof data, st->rng)) !=
            TSS_OK)
            break;
        if ((st->bob[j] = tss_vole_bob_new()) == NULL) {
            err = TSS_ERR_NOMEM;
            break;
        }
        vole_sid(sid, st, j, st->me);
        err = tss_vole_bob_start(st->bob[j], st->ks->peer[j - 1].ot_recv, sid, st->rng, &st->chi[j],
                                 payload + 32);
        if (err == TSS_OK)
            err = tss_msgs_append(out, TSS_PROTO_SIGN, 1, 0, st->me, j, st->session_id, payload,
                                  R1_LEN(st->ks->kappa));
    }
    free(payload);
    if (err != TSS_OK)
        return sign_fail(st, err, 0, 0);
    st->round = 1;
    return TSS_OK;
}

tss_err tss_sign_start(tss_sign *st, tss_msgs *out)
{
    if (st == NULL || out == NULL)
        return TSS_ERR_ARG;
    if (st->round != 0 || st->status != TSS_RUNNING)
        return TSS_ERR_STATE;
    size_t keep = out->count;
    tss_err err = check_bans(st);
    if (err == TSS_OK)
        err = emit_r1(st, out);
    if (st->status == TSS_ABORTED)
        tss_msgs_truncate(out, keep);
    return err;
}

/* The rest of R2 toward j after the VOLE answer c: Gamma^u, Gamma^v; psi = phi - chi;
 * pk_i; R_i and its opening. Keeps c as (c^u, c^v). */
static tss_err r2_tail(tss_sign *st, uint16_t j, const tss_scalar c[2], uint8_t *tail)
{
    tss_point g;
    tss_scalar psi;
    tss_err err;
    st->cu[j] = c[0];
    st->cv[j] = c[1];
    if ((err = tss_point_base_mul(&g, &st->cu[j])) != TSS_OK)
        return err;
    tss_point_serialize(tail, &g);
    if ((err = tss_point_base_mul(&g, &st->cv[j])) != TSS_OK)
        return err;
    tss_point_serialize(tail + 33, &g);
    tss_scalar_sub(&psi, &st->phi, &st->chi[j]);
    tss_scalar_serialize(tail + 66, &psi);
    tss_scalar_clear(&psi);
    tss_point_serialize(tail + 98, &st->pk_me);
    tss_point_serialize(tail + 131, &st->R_me);
    memcpy(tail + 164, st->R_nonce[j], 32);
    return TSS_OK;
}

/* R1 from every peer: answer each VOLE as Alice with a = (r_i, sk_i), then send R2. */
static tss_err process_r1(tss_sign *st, tss_msgs *out)
{
    uint8_t *payload = malloc(R2_LEN), sid[32];
    tss_err err = TSS_OK;
    if (payload == NULL)
        return TSS_ERR_NOMEM;
    uint8_t *tail = payload + TSS_VOLE_MSG2_BYTES;
    tss_scalar a[2] = {st->r, st->sk};
    for (size_t k = 0; k < st->count && err == TSS_OK; k++) {
        uint16_t j = st->set[k];
        if (j == st->me)
            continue;
        const uint8_t *p = st->inbox.payload[1][j];
        memcpy(st->com[j], p, 32);
        vole_sid(sid, st, st->me, j);
        tss_scalar c[2];
        /* j's lock from the ban-list look-up through the OT-extension check to either the
         * R2 for j in `out` or j's ban persisted (tss/ban.h) */
        uint64_t stripe = tss_banlist_stripe(st->bans, st->fp[j]);
        tss_banlist_hold(st->bans, stripe);
        if (tss_banlist_contains(st->bans, st->fp[j])) {
            tss_banlist_release(st->bans, stripe);
            err = sign_fail(st, TSS_ERR_BANNED, j, 0);
            break;
        }
        err = tss_vole_alice_respond(st->ks->peer[j - 1].ot_send, sid, a, p + 32,
                                     TSS_VOLE_MSG1_BYTES(st->ks->kappa), st->rng, c, payload);
        if (err != TSS_OK)
            sign_fail_peer(st, err, j); /* TSS_ERR_OT_CHECK bans j, under j's lock */
        else if ((err = r2_tail(st, j, c, tail)) == TSS_OK)
            err = tss_msgs_append(out, TSS_PROTO_SIGN, 2, 0, st->me, j, st->session_id, payload,
                                  R2_LEN);
        tss_banlist_release(st->bans, stripe);
        tss_scalar_clear(&c[0]);
        tss_scalar_clear(&c[1]);
    }
    tss_scalar_clear(&a[0]);
    tss_scalar_clear(&a[1]);
    tss_memzero(payload, R2_LEN);
    free(payload);
    if (err != TSS_OK && st->status != TSS_ABORTED)
        sign_fail(st, err, 0, 0);
    return err;
}

/* R2 from peer j: opening of R_j, Bob's VOLE finish, the two Gamma checks. Adds j's
 * contributions into the sums. */
static tss_err process_r2_peer(tss_sign *st, uint16_t j, tss_scalar *psi_sum, tss_scalar *su,
                               tss_scalar *sv)
{
    const uint8_t *p = st->inbox.payload[2][j], *tail = p + TSS_VOLE_MSG2_BYTES;
    uint8_t data[73];
    tss_point gu, gv;
    tss_scalar d[2], psi;
    tss_err err;
    if (tss_point_parse(&st->R[j], tail + 131) != TSS_OK ||
        tss_point_parse(&st->pkj[j], tail + 98) != TSS_OK)
        return sign_fail(st, TSS_ERR_POINT, j, 0);
    commit_data(data, st, j, st->me, tail + 131);
    /* a wrong opening on an authenticated message is proof of misbehaviour (the hub cannot
     * forge it), so it bans like the consistency checks */
    if (tss_commit_verify(st->com[j], tail + 164, "sign/R", data, sizeof data) != TSS_OK)
        return sign_fail(st, TSS_ERR_COMMITMENT, j, 1);
    if (tss_point_parse(&gu, tail) != TSS_OK || tss_point_parse(&gv, tail + 33) != TSS_OK ||
        tss_scalar_parse(&psi, tail + 66) != TSS_OK)
        return sign_fail(st, TSS_ERR_FORMAT, 0, 0);
    if ((err = tss_vole_bob_finish(st->bob[j], p, TSS_VOLE_MSG2_BYTES, d)) != TSS_OK)
        return sign_fail_peer(st, err, j);
    tss_vole_bob_free(st->bob[j]);
    st->bob[j] = NULL;
    /* chi*R_j == Gamma^u + d^u*G and chi*pk_j == Gamma^v + d^v*G (chi, d secret; the
     * comparison sees only blinded points: tss_point_mul_eq_check) */
    const tss_point X[2] = {st->R[j], st->pkj[j]}, Gam[2] = {gu, gv};
    int ok = 0;
    err = tss_point_mul_eq_check2(&ok, X, &st->chi[j], Gam, d, st->rng); /* both at once */
    if (err != TSS_OK || !ok) {
        tss_scalar_clear(&d[0]);
        tss_scalar_clear(&d[1]);
        return err != TSS_OK ? sign_fail(st, err, 0, 0) : sign_fail(st, TSS_ERR_SIGN_CHECK, j, 1);
    }
    tss_scalar_add(psi_sum, psi_sum, &psi);
    tss_scalar_add(su, su, &st->cu[j]);
    tss_scalar_add(su, su, &d[0]);
    tss_scalar_add(sv, sv, &st->cv[j]);
    tss_scalar_add(sv, sv, &d[1]);
    tss_scalar_clear(&d[0]);
    tss_scalar_clear(&d[1]);
    return TSS_OK;
}

/* R2 from every peer, then the presignature: u_i, v_i (and phi_i, R). */
static tss_err process_r2(tss_sign *st)
{
    tss_scalar psi_sum, su, sv, f;
    tss_point pks[NMAX], Rs[NMAX], sum;
    tss_err err = TSS_OK;
    tss_scalar_set_u64(&psi_sum, 0);
    tss_scalar_set_u64(&su, 0);
    tss_scalar_set_u64(&sv, 0);
    for (size_t k = 0; k < st->count && err == TSS_OK; k++)
        if (st->set[k] != st->me)
            err = process_r2_peer(st, st->set[k], &psi_sum, &su, &sv);
    if (err != TSS_OK)
        goto out;
    st->R[st->me] = st->R_me;
    st->pkj[st->me] = st->pk_me;
    for (size_t k = 0; k < st->count; k++) {
        pks[k] = st->pkj[st->set[k]];
        Rs[k] = st->R[st->set[k]];
    }
    /* sum of the pk_j is the key being signed for */
    if (tss_point_sum(&sum, pks, st->count) != TSS_OK || !tss_point_eq(&sum, &st->pk)) {
        err = sign_fail(st, TSS_ERR_SIGN_CHECK, 0, 0);
        goto out;
    }
    if (tss_point_sum(&st->Rsum, Rs, st->count) != TSS_OK) {
        err = sign_fail(st, TSS_ERR_INFINITY, 0, 0);
        goto out;
    }
    /* u_i = r_i*(phi_i + sum psi_ji) + sum(c^u + d^u); v_i likewise with sk_i */
    tss_scalar_add(&f, &st->phi, &psi_sum);
    tss_scalar_mul(&st->u, &st->r, &f);
    tss_scalar_add(&st->u, &st->u, &su);
    tss_scalar_mul(&st->v, &st->sk, &f);
    tss_scalar_add(&st->v, &st->v, &sv);
    st->presigned = 1;
out:
    /* r_i, sk_i and the VOLE shares are no longer needed */
    tss_scalar_clear(&st->r);
    tss_scalar_clear(&st->sk);
    tss_memzero(st->cu, sizeof st->cu);
    tss_memzero(st->cv, sizeof st->cv);
    tss_memzero(st->chi, sizeof st->chi);
    tss_scalar_clear(&psi_sum);
    tss_scalar_clear(&su);
    tss_scalar_clear(&sv);
    tss_scalar_clear(&f);
    return err;
}

/* ---- round 3 ---- */

static void compute_digest(tss_sign *st)
{
    tss_transcript t;
    tss_transcript_init(&t, "sign/digest");
    tss_transcript_append(&t, st->sid, 32);
    for (size_t k = 0; k < st->count; k++) {
        tss_transcript_append_point(&t, &st->R[st->set[k]]);
        tss_transcript_append_point(&t, &st->pkj[st->set[k]]);
    }
    tss_transcript_append(&t, st->hash, 32);
    tss_transcript_final(&t, st->digest);
}

/* r_x = x(R) mod n; *high = 1 when x(R) >= n (recovery id bit 1); *odd = y parity. */
static void point_x_scalar(const tss_point *R, tss_scalar *rx, int *high, int *odd)
{
    uint8_t b[33];
    tss_point_serialize(b, R);
    *odd = b[0] == 0x03;
    *high = tss_scalar_parse(rx, b + 1) != TSS_OK;
}

static tss_err emit_r3(tss_sign *st, tss_msgs *out)
{
    uint8_t payload[R3_LEN], rb[33];
    tss_scalar z, delta, rx, w, u;
    tss_point dG;
    int high, odd;
    tss_err err = TSS_OK;
    /* claim the presignature before computing w_i: it can never be finished twice */
    st->presigned = 0;
    st->used = 1;
    tss_scalar_reduce32(&z, st->hash);
    tss_point_serialize(rb, &st->Rsum);
    tss_transcript t;
    tss_transcript_init(&t, "sign/rerandomize");
    tss_transcript_append(&t, st->sid, 32);
    tss_transcript_append(&t, rb, 33);
    tss_transcript_append(&t, st->hash, 32);
    tss_transcript_final_scalar(&t, &delta);
    /* R' = R + delta*G, u_i' = u_i + delta*phi_i */
    if (tss_point_base_mul(&dG, &delta) != TSS_OK ||
        tss_point_add(&st->Rsum, &st->Rsum, &dG) != TSS_OK) {
        err = sign_fail(st, TSS_ERR_INFINITY, 0, 0);
        goto out;
    }
    tss_scalar_mul(&u, &delta, &st->phi);
    tss_scalar_add(&u, &u, &st->u);
    point_x_scalar(&st->Rsum, &rx, &high, &odd);
    /* w_i = z*phi_i + r_x*v_i */
    tss_scalar_mul(&w, &z, &st->phi);
    tss_scalar_mul(&rx, &rx, &st->v);
    tss_scalar_add(&w, &w, &rx);
    compute_digest(st);
    tss_scalar_serialize(payload, &u);
    tss_scalar_serialize(payload + 32, &w);
    memcpy(payload + 64, st->digest, 32);
    if ((err = tss_inbox_keep_own(&st->inbox, 3, payload, R3_LEN)) != TSS_OK)
        goto out;
    for (size_t k = 0; k < st->count && err == TSS_OK; k++)
        if (st->set[k] != st->me)
            err = tss_msgs_append(out, TSS_PROTO_SIGN, 3, 0, st->me, st->set[k], st->session_id,
                                  payload, R3_LEN);
out:
    tss_scalar_clear(&st->phi);
    tss_scalar_clear(&st->u);
    tss_scalar_clear(&st->v);
    tss_scalar_clear(&u);
    tss_scalar_clear(&w);
    tss_scalar_clear(&rx);
    return err;
}

/* s = sum(w) / sum(u), low-s, recovery id, DER; verified (and recovered) before release. */
static tss_err combine(tss_sign *st)
{
    tss_scalar su, sw, s, rx, x;
    int high, odd;
    tss_scalar_set_u64(&su, 0);
    tss_scalar_set_u64(&sw, 0);
    for (size_t k = 0; k < st->count; k++) {
        uint16_t j = st->set[k];
        const uint8_t *p = st->inbox.payload[3][j];
        if (!tss_ct_eq(p + 64, st->digest, 32))
            return sign_fail(st, TSS_ERR_MISMATCH, j, 0);
        if (tss_scalar_parse(&x, p) != TSS_OK)
            return sign_fail(st, TSS_ERR_FORMAT, 0, 0);
        tss_scalar_add(&su, &su, &x);
        if (tss_scalar_parse(&x, p + 32) != TSS_OK)
            return sign_fail(st, TSS_ERR_FORMAT, 0, 0);
        tss_scalar_add(&sw, &sw, &x);
    }
    if (tss_scalar_is_zero(&su))
        return sign_fail(st, TSS_ERR_SIGNATURE, 0, 0);
    tss_scalar_inverse(&s, &su);
    tss_scalar_mul(&s, &s, &sw);
    point_x_scalar(&st->Rsum, &rx, &high, &odd);
    uint8_t recid = (uint8_t)(odd | (high << 1));
    /* low s: s > n/2 becomes n - s, which flips the parity of the effective R */
    tss_scalar neg;
    uint8_t sb[32], nb[32];
    tss_scalar_negate(&neg, &s);
    tss_scalar_serialize(sb, &s);
    tss_scalar_serialize(nb, &neg);
    if (memcmp(sb, nb, 32) > 0) {
        s = neg;
        recid ^= 1;
    }
    tss_signature *sig = &st->sig;
    tss_scalar_serialize(sig->r, &rx);
    tss_scalar_serialize(sig->s, &s);
    sig->recovery_id = recid;

    /* verify, and check the recovery id recovers the key, before releasing anything */
    const secp256k1_context *ctx = tss_secp_ctx();
    uint8_t compact[64];
    secp256k1_ecdsa_signature es;
    secp256k1_ecdsa_recoverable_signature rs;
    secp256k1_pubkey rec;
    memcpy(compact, sig->r, 32);
    memcpy(compact + 32, sig->s, 32);
    sig->der_len = sizeof sig->der;
    if (!secp256k1_ecdsa_signature_parse_compact(ctx, &es, compact) ||
        !secp256k1_ecdsa_verify(ctx, &es, st->hash, &st->pk.pk) ||
        !secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rs, compact, recid) ||
        !secp256k1_ecdsa_recover(ctx, &rec, &rs, st->hash) ||
        secp256k1_ec_pubkey_cmp(ctx, &rec, &st->pk.pk) != 0 ||
        !secp256k1_ecdsa_signature_serialize_der(ctx, sig->der, &sig->der_len, &es)) {
        memset(sig, 0, sizeof *sig);
        return sign_fail(st, TSS_ERR_SIGNATURE, 0, 0);
    }
    st->status = TSS_DONE;
    return TSS_OK;
}

/* Round 2 complete: every peer's R opening, VOLE check and Gamma checks, then (with the
 * hash) R3, which depends on all of them. All peers' locks are held throughout, so a
 * failed check bans its peer before any other state with that peer can pass one, and
 * this state releases nothing once any of its peers is banned (tss/ban.h). */
static tss_err round2(tss_sign *st, tss_msgs *out)
{
    tss_err err;
    tss_banlist_hold(st->bans, st->stripes);
    if ((err = check_bans(st)) == TSS_OK && (err = process_r2(st)) == TSS_OK && st->has_hash)
        err = emit_r3(st, out);
    tss_banlist_release(st->bans, st->stripes);
    return err;
}

static tss_err advance(tss_sign *st, tss_msgs *out)
{
    tss_err err = TSS_OK;
    while (err == TSS_OK && st->status == TSS_RUNNING &&
           tss_inbox_complete(&st->inbox, st->round)) {
        if (st->round == 1) {
            err = process_r1(st, out);
        } else if (st->round == 2) {
            err = round2(st, out);
        } else if (st->round == 3) {
            if (!st->used)
                break; /* presignature waiting for its hash */
            err = combine(st);
        }
        if (err == TSS_OK && st->round < 3)
            st->round++;
        else if (err == TSS_OK)
            break;
    }
    if (err != TSS_OK && st->status == TSS_RUNNING)
        sign_fail(st, err, 0, 0);
    if (st->status != TSS_RUNNING)
        tss_inbox_clear(&st->inbox);
    return err;
}

tss_err tss_sign_receive(tss_sign *st, const uint8_t *msg, size_t len, tss_msgs *out)
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
        tss_msgs_truncate(out, keep);
    }
    return err;
}

tss_err tss_sign_finish(tss_sign *st, const uint8_t hash[32], tss_msgs *out)
{
    if (st == NULL || hash == NULL || out == NULL)
        return TSS_ERR_ARG;
    if (st->used)
        return TSS_ERR_USED;
    if (st->status != TSS_RUNNING || !st->presigned)
        return TSS_ERR_STATE;
    size_t keep = out->count;
    /* R3 depends on every peer's checks of round 2: same locks as round2() */
    tss_banlist_hold(st->bans, st->stripes);
    tss_err err = check_bans(st);
    if (err == TSS_OK) {
        memcpy(st->hash, hash, 32);
        st->has_hash = 1;
        err = emit_r3(st, out);
    }
    tss_banlist_release(st->bans, st->stripes);
    if (err == TSS_OK)
        err = advance(st, out);
    else if (st->status == TSS_RUNNING)
        sign_fail(st, err, 0, 0);
    if (st->status == TSS_ABORTED) {
        tss_inbox_clear(&st->inbox);
        tss_msgs_truncate(out, keep);
    }
    return err;
}

/* ---- deep copy, for tests and fuzzing only ---- */

#include "testing.h" /* here, not above: this section is the only user */

tss_err tss_sign_clone(tss_sign **out, const tss_sign *st, const tss_rng *rng)
{
    if (out == NULL || st == NULL)
        return TSS_ERR_ARG;
    *out = NULL;
    tss_sign *c = tss_secmem_alloc(sizeof *c);
    if (c == NULL)
        return TSS_ERR_NOMEM;
    *c = *st; /* the key share, the claim callback and its context stay borrowed */
    memset(c->bob, 0, sizeof c->bob);
    memset(c->inbox.payload, 0, sizeof c->inbox.payload);
    if (rng != NULL)
        c->rng = rng;
    tss_err err = tss_inbox_copy(&c->inbox, &st->inbox);
    for (int j = 0; j <= NMAX && err == TSS_OK; j++) {
        if (st->bob[j] == NULL)
            continue;
        if ((c->bob[j] = tss_vole_bob_new()) == NULL)
            err = TSS_ERR_NOMEM;
        else
            *c->bob[j] = *st->bob[j];
    }
    if (err != TSS_OK) {
        tss_sign_free(c);
        return err;
    }
    *out = c;
    return TSS_OK;
}
