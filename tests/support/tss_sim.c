/* tests/support/tss_sim.c — in-process message routing for protocol tests. */
#include "tss_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "tss/secmem.h"

void sim_identity(tss_identity *out, uint16_t i)
{
    uint8_t in[14] = "sim-identity";
    in[12] = (uint8_t)(i >> 8);
    in[13] = (uint8_t)i;
    memset(out, 0, sizeof *out);
    snprintf(out->party_id, sizeof out->party_id, "party-%u", (unsigned)i);
    SHA256(in, sizeof in, out->fp);
}

void sim_identities(tss_identity ids[TSS_MAX_PARTIES], uint8_t n)
{
    memset(ids, 0, TSS_MAX_PARTIES * sizeof ids[0]);
    for (uint16_t i = 1; i <= n && i <= TSS_MAX_PARTIES; i++)
        sim_identity(&ids[i - 1], i);
}

int sim_ban_persist(void *ctx, const uint8_t fp[32], tss_err reason)
{
    sim_ban_store *s = ctx;
    if (s == NULL)
        return 0;
    if (s->delay_us)
        usleep(s->delay_us);
    if (s->fail)
        return -1;
    if (s->count < sizeof s->fps / sizeof s->fps[0]) {
        memcpy(s->fps[s->count], fp, 32);
        s->reasons[s->count] = reason;
    }
    s->count++;
    return 0;
}

/* The per-party ban lists of a run: the caller's, or fresh ones freed at the end. */
static tss_err lists_open(sim_net *net, tss_banlist *lists[TSS_MAX_PARTIES + 1],
                          tss_banlist *own[TSS_MAX_PARTIES + 1])
{
    memset(own, 0, (TSS_MAX_PARTIES + 1) * sizeof own[0]);
    for (int i = 0; i <= TSS_MAX_PARTIES; i++) {
        lists[i] = net->bans[i];
        if (lists[i] == NULL) {
            tss_err err = tss_banlist_new(&own[i], sim_ban_persist, NULL);
            if (err != TSS_OK)
                return err;
            lists[i] = own[i];
        }
    }
    return TSS_OK;
}

static void lists_close(tss_banlist *own[TSS_MAX_PARTIES + 1])
{
    for (int i = 0; i <= TSS_MAX_PARTIES; i++)
        tss_banlist_free(own[i]);
}

typedef struct {
    uint8_t *data;
    size_t len;
    uint16_t from, to;
    uint8_t round;
} sim_item;

typedef struct {
    sim_item *items;
    size_t count, cap, head;
} sim_queue;

/* One protocol instance seen through a uniform interface. */
typedef struct {
    void *st;
    tss_err (*receive)(void *st, const uint8_t *msg, size_t len, tss_msgs *out);
    tss_status (*status)(const void *st);
    const tss_abort_info *(*abort_info)(const void *st);
} sim_party;

static int queue_push(sim_queue *q, tss_msgs *m, uint16_t from)
{
    for (size_t i = 0; i < m->count; i++) {
        if (q->count == q->cap) {
            size_t cap = q->cap ? q->cap * 2 : 64;
            sim_item *g = realloc(q->items, cap * sizeof *g);
            if (g == NULL)
                return -1;
            q->items = g;
            q->cap = cap;
        }
        sim_item *it = &q->items[q->count++];
        it->data = m->items[i].data;
        it->len = m->items[i].len;
        it->to = m->items[i].to;
        it->from = from;
        it->round = it->data[2];
        m->items[i].data = NULL; /* ownership moves to the queue */
        m->items[i].len = 0;
    }
    tss_msgs_free(m);
    return 0;
}

static void queue_free(sim_queue *q)
{
    for (size_t k = q->head; k < q->count; k++) {
        if (q->items[k].data) {
            tss_memzero(q->items[k].data, q->items[k].len);
            free(q->items[k].data);
        }
    }
    free(q->items);
    memset(q, 0, sizeof *q);
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

int sim_flip_hook(void *ctx, uint8_t **data, size_t *len, uint16_t from, uint16_t to, uint8_t round)
{
    sim_flip *f = ctx;
    if (from == f->from && round == f->round && (f->to == 0 || to == f->to) &&
        TSS_MSG_HEADER_BYTES + f->offset < *len) {
        (*data)[TSS_MSG_HEADER_BYTES + f->offset] ^= f->xor_mask;
        f->hits++;
    }
    return 0;
}

static void record_failure(sim_net *net, sim_party *p, uint16_t who, tss_err e)
{
    net->party_err[who] = e;
    int rejected = p->status(p->st) == TSS_RUNNING;
    if (!rejected)
        net->party_abort[who] = *p->abort_info(p->st);
    if (net->failed_party == 0) {
        net->failed_party = who;
        net->failed_err = e;
        net->rejected = rejected;
        net->abort = net->party_abort[who];
    }
}

/* Delivers queued messages until the queue is empty. */
static tss_err route(sim_net *net, sim_queue *q, sim_party *parties, uint64_t *shuf)
{
    while (q->head < q->count) {
        if (net->shuffle) { /* swap a random pending item to the head */
            size_t k = q->head + next_rand(shuf) % (q->count - q->head);
            sim_item tmp = q->items[q->head];
            q->items[q->head] = q->items[k];
            q->items[k] = tmp;
        }
        sim_item it = q->items[q->head];
        q->items[q->head].data = NULL;
        q->head++;
        if (it.round < 5) {
            net->bytes[it.round] += it.len;
            net->msg_bytes[it.round] = it.len;
            if (it.len > net->max_msg[it.round])
                net->max_msg[it.round] = it.len;
        }
        if (net->tamper &&
            net->tamper(net->tamper_ctx, &it.data, &it.len, it.from, it.to, it.round)) {
            free(it.data);
            continue;
        }
        tss_msgs out = {0};
        tss_err e = TSS_ERR_STATE;
        sim_party *p = &parties[it.to];
        if (p->st != NULL && net->party_err[it.to] == TSS_OK)
            e = p->receive(p->st, it.data, it.len, &out);
        tss_memzero(it.data, it.len);
        free(it.data);
        if (e != TSS_OK) {
            if (out.count > 0 && p->st != NULL && p->status(p->st) == TSS_ABORTED)
                net->out_after_abort++;
            tss_msgs_free(&out);
            if (p->st != NULL && net->party_err[it.to] == TSS_OK)
                record_failure(net, p, it.to, e);
            continue;
        }
        if (queue_push(q, &out, it.to) != 0)
            return TSS_ERR_NOMEM;
    }
    return TSS_OK;
}

static void net_reset(sim_net *net)
{
    net->failed_party = 0;
    net->failed_err = TSS_OK;
    net->rejected = 0;
    net->out_after_abort = 0;
    memset(net->party_err, 0, sizeof net->party_err);
    memset(net->party_abort, 0, sizeof net->party_abort);
    memset(net->bytes, 0, sizeof net->bytes);
    memset(net->msg_bytes, 0, sizeof net->msg_bytes);
    memset(net->max_msg, 0, sizeof net->max_msg);
}

/* ---- DKG ---- */

static tss_err dkg_receive(void *st, const uint8_t *m, size_t l, tss_msgs *o)
{
    return tss_dkg_receive(st, m, l, o);
}
static tss_status dkg_status(const void *st)
{
    return tss_dkg_status(st);
}
static const tss_abort_info *dkg_abort(const void *st)
{
    return tss_dkg_abort_info(st);
}

tss_err sim_dkg_run(sim_dkg *s)
{
    sim_party parties[TSS_MAX_PARTIES + 1];
    tss_banlist *lists[TSS_MAX_PARTIES + 1], *own[TSS_MAX_PARTIES + 1];
    sim_queue q = {0};
    tss_err err = TSS_OK;
    uint64_t shuf = s->net.shuffle_seed | 1;
    static const tss_identity none[TSS_MAX_PARTIES];
    memset(parties, 0, sizeof parties);
    net_reset(&s->net);
    if (memcmp(s->ids, none, sizeof none) == 0)
        sim_identities(s->ids, s->n);
    if ((err = lists_open(&s->net, lists, own)) != TSS_OK)
        goto done;
    for (uint16_t i = 1; i <= s->n; i++) {
        tss_dkg_params p = {
            .t = s->t, .n = s->n, .index = (uint8_t)i, .bans = lists[i], .kappa = s->kappa};
        memcpy(p.session_id, s->net.session_id, 32);
        memcpy(p.ids, s->party_ids[i] ? s->party_ids[i] : s->ids, sizeof p.ids);
        const tss_rng *rng = s->net.rng[i] ? s->net.rng[i] : tss_rng_system();
        tss_dkg *st = NULL;
        tss_msgs out = {0};
        if ((err = tss_dkg_new(&st, &p, rng)) != TSS_OK) {
            s->net.failed_party = i;
            s->net.failed_err = err;
            goto done;
        }
        parties[i] = (sim_party){st, dkg_receive, dkg_status, dkg_abort};
        if ((err = tss_dkg_start(st, &out)) != TSS_OK || queue_push(&q, &out, i) != 0) {
            if (err != TSS_OK && out.count > 0)
                s->net.out_after_abort++;
            tss_msgs_free(&out);
            s->net.failed_party = i;
            s->net.failed_err = err ? err : TSS_ERR_NOMEM;
            goto done;
        }
    }
    if ((err = route(&s->net, &q, parties, &shuf)) != TSS_OK)
        goto done;
    err = s->net.failed_err;
    for (uint16_t i = 1; i <= s->n && err == TSS_OK; i++) {
        if (tss_dkg_status(parties[i].st) != TSS_DONE) { /* a message never arrived */
            err = TSS_ERR_STATE;
            s->net.party_err[i] = err;
            s->net.failed_party = i;
            s->net.failed_err = err;
        }
    }
    for (uint16_t i = 1; i <= s->n && err == TSS_OK; i++)
        s->shares[i] = tss_dkg_take_keyshare(parties[i].st);
done:
    queue_free(&q);
    for (uint16_t i = 1; i <= s->n; i++)
        tss_dkg_free(parties[i].st);
    lists_close(own);
    return err;
}

void sim_dkg_free(sim_dkg *s)
{
    for (int i = 0; i <= TSS_MAX_PARTIES; i++) {
        tss_keyshare_free(s->shares[i]);
        s->shares[i] = NULL;
    }
}

/* ---- signing ---- */

int sim_sid_claim(void *store, const uint8_t sid[32])
{
    sim_sid_store *st = store;
    if (st->fail)
        return -1;
    for (size_t i = 0; i < st->count; i++)
        if (memcmp(st->sids[i], sid, 32) == 0)
            return 1;
    if (st->count == sizeof st->sids / sizeof st->sids[0])
        return -1;
    memcpy(st->sids[st->count++], sid, 32);
    return 0;
}

static tss_err sign_receive(void *st, const uint8_t *m, size_t l, tss_msgs *o)
{
    return tss_sign_receive(st, m, l, o);
}
static tss_status sign_status(const void *st)
{
    return tss_sign_status(st);
}
static const tss_abort_info *sign_abort(const void *st)
{
    return tss_sign_abort_info(st);
}

tss_err sim_sign_run(sim_sign *s)
{
    sim_party parties[TSS_MAX_PARTIES + 1];
    static sim_sid_store fresh[TSS_MAX_PARTIES + 1]; /* per run when none is given */
    sim_sid_store *stores = s->stores ? s->stores : fresh;
    tss_banlist *lists[TSS_MAX_PARTIES + 1], *own[TSS_MAX_PARTIES + 1];
    sim_queue q = {0};
    tss_err err = TSS_OK;
    uint64_t shuf = s->net.shuffle_seed | 1;
    memset(parties, 0, sizeof parties);
    memset(s->state, 0, sizeof s->state);
    if (s->stores == NULL)
        memset(fresh, 0, sizeof fresh);
    net_reset(&s->net);
    if ((err = lists_open(&s->net, lists, own)) != TSS_OK)
        goto done;
    for (size_t k = 0; k < s->count; k++) {
        uint16_t i = s->signers[k];
        tss_sign_params p = {.share = s->shares[i],
                             .claim = sim_sid_claim,
                             .claim_ctx = &stores[i],
                             .bans = lists[i],
                             .signer_count = s->count};
        memcpy(p.session_id, s->net.session_id, 32);
        memcpy(p.signers, s->signers, s->count * sizeof s->signers[0]);
        memcpy(p.path, s->path, s->path_len * sizeof s->path[0]);
        p.path_len = s->path_len;
        p.has_hash = !s->presign;
        memcpy(p.hash, s->hash, 32);
        const tss_rng *rng = s->net.rng[i] ? s->net.rng[i] : tss_rng_system();
        tss_sign *st = NULL;
        tss_msgs out = {0};
        if ((err = tss_sign_new(&st, &p, rng)) != TSS_OK) {
            s->net.failed_party = i;
            s->net.failed_err = err;
            goto done;
        }
        parties[i] = (sim_party){st, sign_receive, sign_status, sign_abort};
        if ((err = tss_sign_start(st, &out)) != TSS_OK || queue_push(&q, &out, i) != 0) {
            if (err != TSS_OK && out.count > 0)
                s->net.out_after_abort++;
            tss_msgs_free(&out);
            s->net.failed_party = i;
            s->net.failed_err = err ? err : TSS_ERR_NOMEM;
            s->net.party_err[i] = s->net.failed_err;
            goto done;
        }
    }
    if ((err = route(&s->net, &q, parties, &shuf)) != TSS_OK)
        goto done;
    if (s->presign && s->net.failed_err == TSS_OK) {
        for (size_t k = 0; k < s->count; k++) {
            uint16_t i = s->signers[k];
            tss_msgs out = {0};
            if (!tss_sign_presigned(parties[i].st)) {
                err = TSS_ERR_STATE;
                goto done;
            }
            if ((err = tss_sign_finish(parties[i].st, s->hash, &out)) != TSS_OK) {
                if (out.count > 0)
                    s->net.out_after_abort++;
                tss_msgs_free(&out);
                record_failure(&s->net, &parties[i], i, err);
                continue;
            }
            if (queue_push(&q, &out, i) != 0) {
                err = TSS_ERR_NOMEM;
                goto done;
            }
        }
        if ((err = route(&s->net, &q, parties, &shuf)) != TSS_OK)
            goto done;
    }
    err = s->net.failed_err;
    for (size_t k = 0; k < s->count && err == TSS_OK; k++) {
        uint16_t i = s->signers[k];
        if (tss_sign_result(parties[i].st, &s->sig[i], &s->pk) != TSS_OK) {
            err = TSS_ERR_STATE;
            s->net.party_err[i] = err;
            s->net.failed_party = i;
            s->net.failed_err = err;
        }
    }
done:
    queue_free(&q);
    for (size_t k = 0; k < s->count; k++) {
        uint16_t i = s->signers[k];
        if (s->keep_states)
            s->state[i] = parties[i].st;
        else
            tss_sign_free(parties[i].st);
    }
    if (s->keep_states) /* the kept states still use them */
        memcpy(s->kept_bans, own, sizeof own);
    else
        lists_close(own);
    return err;
}

void sim_sign_free(sim_sign *s)
{
    for (int i = 0; i <= TSS_MAX_PARTIES; i++) {
        tss_sign_free(s->state[i]);
        s->state[i] = NULL;
    }
    lists_close(s->kept_bans);
    memset(s->kept_bans, 0, sizeof s->kept_bans);
}

/* ---- reshare ---- */

static tss_err reshare_receive(void *st, const uint8_t *m, size_t l, tss_msgs *o)
{
    return tss_reshare_receive(st, m, l, o);
}
static tss_status reshare_status(const void *st)
{
    return tss_reshare_status(st);
}
static const tss_abort_info *reshare_abort(const void *st)
{
    return tss_reshare_abort_info(st);
}

void sim_reshare_role(const sim_reshare *s, uint16_t i, tss_reshare_params *out)
{
    const tss_reshare_params *p = &s->params;
    uint16_t extra = p->n;
    *out = *p;
    out->index = i <= p->n ? (uint8_t)i : 0;
    out->dealer = 0;
    out->share = NULL;
    memcpy(out->session_id, s->net.session_id, 32);
    for (uint8_t d = 1; d <= p->dealer_count; d++) {
        uint16_t who = p->dealers[d - 1].new_index;
        if (who == 0)
            who = ++extra;
        if (who == i) {
            out->dealer = d;
            out->share = s->secrets[d - 1];
        }
    }
}

tss_err sim_reshare_run(sim_reshare *s)
{
    sim_party parties[TSS_MAX_PARTIES + 1];
    tss_banlist *lists[TSS_MAX_PARTIES + 1], *own[TSS_MAX_PARTIES + 1];
    sim_queue q = {0};
    tss_err err = TSS_OK;
    uint64_t shuf = s->net.shuffle_seed | 1;
    memset(parties, 0, sizeof parties);
    memset(s->status, 0, sizeof s->status);
    net_reset(&s->net);
    s->m = tss_reshare_participant_count(&s->params);
    if (s->m == 0)
        return TSS_ERR_PARAMS;
    if ((err = lists_open(&s->net, lists, own)) != TSS_OK)
        goto done;
    for (uint16_t i = 1; i <= s->m; i++) {
        tss_reshare_params p;
        if (s->party_params[i] != NULL)
            p = *s->party_params[i];
        else
            sim_reshare_role(s, i, &p);
        p.bans = lists[i];
        const tss_rng *rng = s->net.rng[i] ? s->net.rng[i] : tss_rng_system();
        tss_reshare *st = NULL;
        tss_msgs out = {0};
        if ((err = tss_reshare_new(&st, &p, rng)) != TSS_OK) {
            s->net.failed_party = i;
            s->net.failed_err = err;
            goto done;
        }
        parties[i] = (sim_party){st, reshare_receive, reshare_status, reshare_abort};
        if ((err = tss_reshare_start(st, &out)) != TSS_OK || queue_push(&q, &out, i) != 0) {
            if (err != TSS_OK && out.count > 0)
                s->net.out_after_abort++;
            tss_msgs_free(&out);
            s->net.failed_party = i;
            s->net.failed_err = err ? err : TSS_ERR_NOMEM;
            goto done;
        }
    }
    if ((err = route(&s->net, &q, parties, &shuf)) != TSS_OK)
        goto done;
    err = s->net.failed_err;
    for (uint16_t i = 1; i <= s->m; i++)
        s->status[i] = tss_reshare_status(parties[i].st);
    for (uint16_t i = 1; i <= s->m && err == TSS_OK; i++) {
        if (s->status[i] != TSS_DONE) { /* a message never arrived */
            err = TSS_ERR_STATE;
            s->net.party_err[i] = err;
            s->net.failed_party = i;
            s->net.failed_err = err;
        }
    }
    for (uint16_t i = 1; i <= s->params.n && err == TSS_OK; i++)
        s->shares[i] = tss_reshare_take_keyshare(parties[i].st);
done:
    queue_free(&q);
    for (uint16_t i = 1; i <= s->m; i++)
        tss_reshare_free(parties[i].st);
    lists_close(own);
    return err;
}

void sim_reshare_free(sim_reshare *s)
{
    for (int i = 0; i <= TSS_MAX_PARTIES; i++) {
        tss_keyshare_free(s->shares[i]);
        s->shares[i] = NULL;
    }
}
