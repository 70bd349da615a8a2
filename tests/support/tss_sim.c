/* tests/support/tss_sim.c — in-process message routing for protocol tests. */
#include "tss_sim.h"

#include <stdlib.h>
#include <string.h>

#include "tss/secmem.h"

typedef struct {
    uint8_t *data;
    size_t len;
    uint16_t from, to;
    uint8_t round;
} sim_item;

typedef struct {
    sim_item *items;
    size_t count, cap;
} sim_queue;

static int queue_push_msgs(sim_queue *q, tss_msgs *m, uint16_t from)
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

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

tss_err sim_dkg_run(sim_dkg *s)
{
    tss_dkg *st[TSS_MAX_PARTIES + 1] = {0};
    sim_queue q = {0};
    tss_err err = TSS_OK;
    uint64_t shuf = s->shuffle_seed | 1;
    size_t head = 0;
    s->failed_party = 0;
    s->failed_err = TSS_OK;
    s->rejected = 0;
    memset(s->party_err, 0, sizeof s->party_err);
    memset(s->party_abort, 0, sizeof s->party_abort);
    memset(s->bytes, 0, sizeof s->bytes);
    for (uint16_t i = 1; i <= s->n; i++) {
        tss_dkg_params p = {.t = s->t, .n = s->n, .index = (uint8_t)i};
        memcpy(p.session_id, s->session_id, 32);
        const tss_rng *rng = s->rng[i] ? s->rng[i] : tss_rng_system();
        tss_msgs out = {0};
        if ((err = tss_dkg_new(&st[i], &p, rng)) != TSS_OK ||
            (err = tss_dkg_start(st[i], &out)) != TSS_OK) {
            s->failed_party = i;
            s->failed_err = err;
            tss_msgs_free(&out);
            goto done;
        }
        if (queue_push_msgs(&q, &out, i) != 0) {
            err = TSS_ERR_NOMEM;
            goto done;
        }
    }
    while (head < q.count) {
        if (s->shuffle) { /* swap a random pending item to the head */
            size_t k = head + next_rand(&shuf) % (q.count - head);
            sim_item tmp = q.items[head];
            q.items[head] = q.items[k];
            q.items[k] = tmp;
        }
        sim_item it = q.items[head];
        q.items[head].data = NULL;
        head++;
        if (it.round < 5) {
            s->bytes[it.round] += it.len;
            s->msg_bytes[it.round] = it.len;
        }
        if (s->tamper && s->tamper(s->tamper_ctx, &it.data, &it.len, it.from, it.to, it.round)) {
            free(it.data);
            continue;
        }
        tss_msgs out = {0};
        tss_err e = TSS_ERR_STATE;
        if (s->party_err[it.to] == TSS_OK)
            e = tss_dkg_receive(st[it.to], it.data, it.len, &out);
        tss_memzero(it.data, it.len);
        free(it.data);
        if (e != TSS_OK) {
            tss_msgs_free(&out);
            if (s->party_err[it.to] != TSS_OK)
                continue; /* already failed: drop */
            s->party_err[it.to] = e;
            int rejected = tss_dkg_status(st[it.to]) == TSS_RUNNING;
            if (!rejected)
                s->party_abort[it.to] = *tss_dkg_abort_info(st[it.to]);
            if (s->failed_party == 0) {
                s->failed_party = it.to;
                s->failed_err = e;
                s->rejected = rejected;
                s->abort = s->party_abort[it.to];
                err = e;
            }
            continue;
        }
        if (queue_push_msgs(&q, &out, it.to) != 0) {
            err = TSS_ERR_NOMEM;
            goto done;
        }
    }
    if (err != TSS_OK)
        goto done;
    for (uint16_t i = 1; i <= s->n; i++) {
        if (tss_dkg_status(st[i]) != TSS_DONE) {
            err = TSS_ERR_STATE;
            s->party_err[i] = err; /* still waiting: a message never arrived */
            s->failed_party = i;
            s->failed_err = err;
            goto done;
        }
        s->shares[i] = tss_dkg_take_keyshare(st[i]);
    }
done:
    for (size_t k = head; k < q.count; k++) {
        if (q.items[k].data) {
            tss_memzero(q.items[k].data, q.items[k].len);
            free(q.items[k].data);
        }
    }
    free(q.items);
    for (uint16_t i = 1; i <= s->n; i++)
        tss_dkg_free(st[i]);
    return err;
}

void sim_dkg_free(sim_dkg *s)
{
    for (int i = 0; i <= TSS_MAX_PARTIES; i++) {
        tss_keyshare_free(s->shares[i]);
        s->shares[i] = NULL;
    }
}
