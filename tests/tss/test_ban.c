/* tests/tss/test_ban.c — the ban list (tss/ban.h) and the bans the signing states enforce
 * with it: list semantics, refusal at tss_sign_new and at every step, the persist
 * callback (and its failure), and the review's selective-failure attack on Δ run as 256
 * concurrent sessions on two threads (plus its VOLE counterpart on β). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_rng.h"
#include "tss/ban.h"
#include "tss/sign.h"
#include "tss/vole.h"
#include "tss_dealer.h"
#include "tss_sim.h"

/* ---------- the list itself ---------- */

static void test_list_basics(void **state)
{
    (void)state;
    tss_banlist *bl = NULL;
    sim_ban_store store = {0};
    uint8_t a[32], b[32];
    memset(a, 0xA1, 32);
    memset(b, 0xB2, 32);
    assert_int_equal(tss_banlist_new(&bl, NULL, NULL), TSS_ERR_ARG); /* persist required */
    assert_int_equal(tss_banlist_new(&bl, sim_ban_persist, &store), TSS_OK);
    assert_false(tss_banlist_contains(bl, a));
    /* load: from storage, no callback, idempotent */
    assert_int_equal(tss_banlist_load(bl, a), TSS_OK);
    assert_int_equal(tss_banlist_load(bl, a), TSS_OK);
    assert_true(tss_banlist_contains(bl, a));
    assert_false(tss_banlist_contains(bl, b));
    assert_int_equal(store.count, 0);
    /* a ban from a state: callback first, then listed */
    uint64_t s = tss_banlist_stripe(bl, b);
    assert_int_equal(__builtin_popcountll(s), 1);
    tss_banlist_hold(bl, s);
    assert_int_equal(tss_banlist_ban_held(bl, b, TSS_ERR_OT_CHECK), TSS_OK);
    tss_banlist_release(bl, s);
    assert_true(tss_banlist_contains(bl, b));
    assert_int_equal(store.count, 1);
    assert_memory_equal(store.fps[0], b, 32);
    assert_int_equal(store.reasons[0], TSS_ERR_OT_CHECK);
    /* lift: operator; no callback; idempotent */
    assert_int_equal(tss_banlist_lift(bl, a), TSS_OK);
    assert_false(tss_banlist_contains(bl, a));
    assert_true(tss_banlist_contains(bl, b));
    assert_int_equal(tss_banlist_lift(bl, a), TSS_OK);
    /* a failing callback: reported, and the peer is still listed (fail closed) */
    store.fail = 1;
    tss_banlist_hold(bl, tss_banlist_stripe(bl, a));
    assert_int_equal(tss_banlist_ban_held(bl, a, TSS_ERR_VOLE_CHECK), TSS_ERR_STORAGE);
    tss_banlist_release(bl, tss_banlist_stripe(bl, a));
    assert_true(tss_banlist_contains(bl, a));
    /* many entries */
    for (int i = 0; i < 100; i++) {
        uint8_t fp[32] = {0};
        fp[0] = (uint8_t)i, fp[1] = 0x5A;
        assert_int_equal(tss_banlist_load(bl, fp), TSS_OK);
    }
    uint8_t probe[32] = {0};
    probe[0] = 77, probe[1] = 0x5A;
    assert_true(tss_banlist_contains(bl, probe));
    assert_int_equal(tss_banlist_lift(bl, probe), TSS_OK);
    assert_false(tss_banlist_contains(bl, probe));
    probe[0] = 78;
    assert_true(tss_banlist_contains(bl, probe));
    tss_banlist_free(bl);
    tss_banlist_free(NULL);
}

/* ---------- refusal at tss_sign_new and at every step ---------- */

typedef struct {
    uint8_t t, n;
    tss_keyshare *shares[TSS_MAX_PARTIES + 1];
} keyset;

static void keyset_dealer(keyset *k, uint8_t t, uint8_t n, uint64_t seed)
{
    test_rng r;
    test_rng_init(&r, seed);
    memset(k, 0, sizeof *k);
    k->t = t, k->n = n;
    assert_int_equal(dealer_split(k->shares, t, n, NULL, NULL, &r), TSS_OK);
}

static void keyset_free(keyset *k)
{
    for (int i = 0; i <= TSS_MAX_PARTIES; i++)
        tss_keyshare_free(k->shares[i]);
    memset(k, 0, sizeof *k);
}

static tss_sign_params params_for(const keyset *k, uint16_t me, uint16_t peer, tss_banlist *bl,
                                  sim_sid_store *store, const uint8_t session_id[32])
{
    tss_sign_params p = {.share = k->shares[me],
                         .claim = sim_sid_claim,
                         .claim_ctx = store,
                         .bans = bl,
                         .signer_count = 2,
                         .has_hash = 1};
    p.signers[0] = me, p.signers[1] = peer;
    memcpy(p.session_id, session_id, 32);
    memset(p.hash, 0x42, 32);
    return p;
}

static void test_sign_new_refuses_banned(void **state)
{
    (void)state;
    keyset k;
    keyset_dealer(&k, 2, 3, 200);
    tss_banlist *bl = NULL;
    sim_sid_store store = {0};
    uint8_t sid[32] = {1};
    assert_int_equal(tss_banlist_new(&bl, sim_ban_persist, NULL), TSS_OK);
    assert_int_equal(tss_banlist_load(bl, k.shares[3]->ids[2].fp), TSS_OK);
    tss_sign *st = NULL;
    tss_sign_params p = params_for(&k, 1, 3, bl, &store, sid);
    assert_int_equal(tss_sign_new(&st, &p, tss_rng_system()), TSS_ERR_BANNED);
    assert_null(st);
    p = params_for(&k, 1, 2, bl, &store, sid); /* other peers are unaffected */
    assert_int_equal(tss_sign_new(&st, &p, tss_rng_system()), TSS_OK);
    tss_sign_free(st);
    /* lifted: accepted again */
    assert_int_equal(tss_banlist_lift(bl, k.shares[3]->ids[2].fp), TSS_OK);
    p = params_for(&k, 1, 3, bl, &store, sid);
    assert_int_equal(tss_sign_new(&st, &p, tss_rng_system()), TSS_OK);
    tss_sign_free(st);
    tss_banlist_free(bl);
    keyset_free(&k);
}

/* A live state whose peer is banned elsewhere aborts at its next step, whatever the step
 * (start, receive, finish), names the peer, and releases nothing. */
static void test_live_states_abort(void **state)
{
    (void)state;
    keyset k;
    keyset_dealer(&k, 2, 3, 201);
    const uint8_t *fp3 = k.shares[1]->ids[2].fp;
    for (int step = 0; step < 3; step++) {
        tss_banlist *bl1 = NULL, *bl3 = NULL;
        sim_sid_store s1 = {0}, s3 = {0};
        uint8_t sid[32] = {2, (uint8_t)step};
        assert_int_equal(tss_banlist_new(&bl1, sim_ban_persist, NULL), TSS_OK);
        assert_int_equal(tss_banlist_new(&bl3, sim_ban_persist, NULL), TSS_OK);
        tss_sign *a = NULL, *c = NULL;
        tss_sign_params pa = params_for(&k, 1, 3, bl1, &s1, sid);
        tss_sign_params pc = params_for(&k, 3, 1, bl3, &s3, sid);
        pa.has_hash = pc.has_hash = step != 2; /* step 2: presign, then finish */
        assert_int_equal(tss_sign_new(&a, &pa, tss_rng_system()), TSS_OK);
        assert_int_equal(tss_sign_new(&c, &pc, tss_rng_system()), TSS_OK);
        tss_msgs oa = {0}, oc = {0}, tmp = {0};
        if (step == 0) { /* banned before start */
            assert_int_equal(tss_banlist_load(bl1, fp3), TSS_OK);
            assert_int_equal(tss_sign_start(a, &oa), TSS_ERR_BANNED);
        } else {
            assert_int_equal(tss_sign_start(a, &oa), TSS_OK);
            assert_int_equal(tss_sign_start(c, &oc), TSS_OK);
            assert_int_equal(tss_sign_receive(c, oa.items[0].data, oa.items[0].len, &tmp), TSS_OK);
            assert_int_equal(tmp.count, 1); /* c's R2 */
            if (step == 1) {                /* banned before a receive */
                assert_int_equal(tss_banlist_load(bl1, fp3), TSS_OK);
                assert_int_equal(tss_sign_receive(a, oc.items[0].data, oc.items[0].len, &tmp),
                                 TSS_ERR_BANNED);
                assert_int_equal(tmp.count, 1); /* what was in out on entry stays; nothing new */
            } else {                            /* presigned, banned before finish */
                tss_msgs r2 = {0};
                assert_int_equal(tss_sign_receive(a, oc.items[0].data, oc.items[0].len, &r2),
                                 TSS_OK);
                assert_int_equal(r2.count, 1);
                assert_int_equal(tss_sign_receive(a, tmp.items[0].data, tmp.items[0].len, &oa),
                                 TSS_OK);
                assert_true(tss_sign_presigned(a));
                tss_msgs_free(&oa);
                assert_int_equal(tss_banlist_load(bl1, fp3), TSS_OK);
                assert_int_equal(tss_sign_finish(a, pa.hash, &oa), TSS_ERR_BANNED);
                assert_int_equal(oa.count, 0);
                tss_msgs_free(&r2);
            }
        }
        assert_int_equal(tss_sign_status(a), TSS_ABORTED);
        assert_int_equal(tss_sign_abort_info(a)->reason, TSS_ERR_BANNED);
        assert_int_equal(tss_sign_abort_info(a)->culprit, 3);
        assert_int_equal(tss_sign_abort_info(a)->ban, 0);
        if (step == 0)
            assert_int_equal(oa.count, 0);
        tss_msgs_free(&oa);
        tss_msgs_free(&oc);
        tss_msgs_free(&tmp);
        tss_sign_free(a);
        tss_sign_free(c);
        tss_banlist_free(bl1);
        tss_banlist_free(bl3);
    }
    keyset_free(&k);
}

/* ---------- the review's attack: 256 concurrent sessions, two threads ---------- */

/* Party 3 (malicious) signs with party 1 (honest) in 256 sessions at once, sessions
 * s = 0..255 split over two threads. OT mode: party 3 corrupts k^1 of base OT s in its own
 * setup toward party 1, so party 1's OT-extension check passes exactly when Delta_s = 0
 * (the review's attack). VOLE mode: party 3 alters row s of its VOLE answer in every third
 * session (s % 3 == 2), so some of party 1's VOLE checks pass and some fail. (A bare row
 * flip also breaks the Fiat-Shamir theta, so it fails whatever beta is: what is tested is
 * the ban's enforcement across sessions, not a leak of beta.) Party 1's ban list is shared
 * by all its sessions; its persist
 * callback sleeps like an fsync. Every call into party 1 takes a ticket from a global
 * counter before it starts; the callback takes one when the ban begins. A call that
 * started after that must emit nothing to party 3. */
#define SESSIONS 256

typedef struct {
    tss_sign *p1, *p3;
    tss_keyshare *evil; /* party 3's share for this session (OT mode: one column bad) */
    tss_banlist *bl3;
    sim_sid_store s1, s3;
    tss_msgs to3, to1; /* pending: party 1 -> 3, party 3 -> 1 */
    tss_err end1;      /* party 1's first error */
    int r2_to3, r3_to3;
} attack_session;

typedef struct {
    int vole_mode;
    keyset k;
    tss_banlist *bl1;
    sim_ban_store store1;
    pthread_barrier_t barrier;
    attack_session s[SESSIONS];
    atomic_ulong ticket, ban_ticket, late_outputs, ot_fail, vole_fail, banned;
} attack;

static int attack_persist(void *ctx, const uint8_t fp[32], tss_err reason)
{
    attack *a = ctx;
    unsigned long zero = 0, t = atomic_fetch_add(&a->ticket, 1) + 1;
    atomic_compare_exchange_strong(&a->ban_ticket, &zero, t);
    return sim_ban_persist(&a->store1, fp, reason);
}

/* A copy of share ks with its own OT setups. */
static tss_keyshare *share_copy(const tss_keyshare *ks)
{
    tss_keyshare *c = tss_keyshare_new();
    assert_non_null(c);
    *c = *ks;
    memset(c->peer, 0, sizeof c->peer);
    assert_int_equal(tss_keyshare_alloc_peers(c), TSS_OK);
    for (int j = 0; j < ks->n; j++) {
        if (j + 1 == ks->index)
            continue;
        memcpy(c->peer[j].zero_seed, ks->peer[j].zero_seed, 32);
        *c->peer[j].ot_send = *ks->peer[j].ot_send;
        *c->peer[j].ot_recv = *ks->peer[j].ot_recv;
    }
    return c;
}

/* Delivers the pending round-`round` messages for party 1 (to_p1) or party 3, keeping the
 * others pending; for party 1 records what it emits toward party 3. */
static void deliver(attack *a, attack_session *x, int to_p1, uint8_t round)
{
    tss_msgs *in = to_p1 ? &x->to1 : &x->to3, got = {0}, keep = {0};
    tss_sign *st = to_p1 ? x->p1 : x->p3;
    for (size_t i = 0; i < in->count; i++) {
        if (in->items[i].data[2] != round) {
            if (tss_msgs_append(&keep, in->items[i].data[0], in->items[i].data[2],
                                in->items[i].data[3], to_p1 ? 3 : 1, to_p1 ? 1 : 3,
                                in->items[i].data + 8, in->items[i].data + TSS_MSG_HEADER_BYTES,
                                in->items[i].len - TSS_MSG_HEADER_BYTES) != TSS_OK)
                fail();
            continue;
        }
        if (to_p1 && x->end1 != TSS_OK)
            continue;
        unsigned long t = atomic_fetch_add(&a->ticket, 1) + 1;
        tss_msgs out = {0};
        tss_err e = tss_sign_receive(st, in->items[i].data, in->items[i].len, &out);
        if (to_p1) {
            unsigned long ban = atomic_load(&a->ban_ticket);
            for (size_t m = 0; m < out.count; m++) {
                uint8_t r = out.items[m].data[2];
                x->r2_to3 += r == 2;
                x->r3_to3 += r == 3;
                if (ban != 0 && t > ban && (r == 2 || r == 3))
                    atomic_fetch_add(&a->late_outputs, 1);
            }
            if (e != TSS_OK) {
                x->end1 = e;
                assert_int_equal(out.count, 0); /* an abort releases nothing */
            }
        }
        for (size_t m = 0; m < out.count; m++) /* queue for the other side */
            if (tss_msgs_append(&got, out.items[m].data[0], out.items[m].data[2],
                                out.items[m].data[3], to_p1 ? 1 : 3, to_p1 ? 3 : 1,
                                out.items[m].data + 8, out.items[m].data + TSS_MSG_HEADER_BYTES,
                                out.items[m].len - TSS_MSG_HEADER_BYTES) != TSS_OK)
                fail();
        tss_msgs_free(&out);
    }
    tss_msgs_free(in);
    *in = keep;
    tss_msgs *dst = to_p1 ? &x->to3 : &x->to1;
    for (size_t m = 0; m < got.count; m++)
        if (tss_msgs_append(dst, got.items[m].data[0], got.items[m].data[2], got.items[m].data[3],
                            to_p1 ? 1 : 3, to_p1 ? 3 : 1, got.items[m].data + 8,
                            got.items[m].data + TSS_MSG_HEADER_BYTES,
                            got.items[m].len - TSS_MSG_HEADER_BYTES) != TSS_OK)
            fail();
    tss_msgs_free(&got);
}

/* VOLE mode: party 3 alters row s of its VOLE answer in every third session (the first
 * a~ component's last byte; the encoding stays canonical except with probability 2^-128). */
static void corrupt_vole_row(tss_msgs *to1, int s)
{
    for (size_t m = 0; m < to1->count && s % 3 == 2; m++)
        if (to1->items[m].data[2] == 2)
            to1->items[m].data[TSS_MSG_HEADER_BYTES + 16 + 32 * (3 * s) + 31] ^= 1;
}

typedef struct {
    attack *a;
    int first;
} attack_worker;

static void *attack_thread(void *arg)
{
    attack_worker *w = arg;
    attack *a = w->a;
    /* setup: both states, round 1 out */
    for (int s = w->first; s < SESSIONS; s += 2) {
        attack_session *x = &a->s[s];
        uint8_t sid[32] = {0x77, (uint8_t)a->vole_mode, (uint8_t)s, (uint8_t)(s >> 8)};
        const tss_keyshare *share3 = a->k.shares[3];
        if (!a->vole_mode) {
            x->evil = share_copy(a->k.shares[3]);
            x->evil->peer[0].ot_recv->seed[s][1][0] ^= 1; /* k^1 of base OT s toward 1 */
            share3 = x->evil;
        }
        assert_int_equal(tss_banlist_new(&x->bl3, sim_ban_persist, NULL), TSS_OK);
        tss_sign_params p1 = params_for(&a->k, 1, 3, a->bl1, &x->s1, sid);
        tss_sign_params p3 = params_for(&a->k, 3, 1, x->bl3, &x->s3, sid);
        p3.share = share3;
        assert_int_equal(tss_sign_new(&x->p1, &p1, tss_rng_system()), TSS_OK);
        assert_int_equal(tss_sign_new(&x->p3, &p3, tss_rng_system()), TSS_OK);
        assert_int_equal(tss_sign_start(x->p1, &x->to3), TSS_OK);
        assert_int_equal(tss_sign_start(x->p3, &x->to1), TSS_OK);
    }
    pthread_barrier_wait(&a->barrier);
    /* round 1 both ways: party 1 runs its OT-extension check on party 3's message */
    for (int s = w->first; s < SESSIONS; s += 2) {
        deliver(a, &a->s[s], 0, 1);
        deliver(a, &a->s[s], 1, 1);
    }
    pthread_barrier_wait(&a->barrier);
    /* round 2 to party 1: its VOLE and Gamma checks on party 3's answer, then R3 */
    for (int s = w->first; s < SESSIONS; s += 2) {
        if (a->vole_mode)
            corrupt_vole_row(&a->s[s].to1, s);
        deliver(a, &a->s[s], 1, 2);
    }
    return NULL;
}

static void run_attack(int vole_mode)
{
    attack *a = calloc(1, sizeof *a);
    assert_non_null(a);
    a->vole_mode = vole_mode;
    keyset_dealer(&a->k, 2, 3, 300 + (uint64_t)vole_mode);
    a->store1.delay_us = 3000; /* an fsync */
    assert_int_equal(tss_banlist_new(&a->bl1, attack_persist, a), TSS_OK);
    pthread_barrier_init(&a->barrier, NULL, 2);
    attack_worker w[2] = {{a, 0}, {a, 1}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, attack_thread, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);

    const uint8_t *fp3 = a->k.shares[1]->ids[2].fp;
    tss_err want = vole_mode ? TSS_ERR_VOLE_CHECK : TSS_ERR_OT_CHECK;
    int failed = 0, banned = 0, done = 0, r2 = 0, r3 = 0;
    for (int s = 0; s < SESSIONS; s++) {
        attack_session *x = &a->s[s];
        r2 += x->r2_to3, r3 += x->r3_to3;
        if (x->end1 == want) {
            failed++;
            assert_int_equal(tss_sign_abort_info(x->p1)->culprit, 3);
            assert_int_equal(tss_sign_abort_info(x->p1)->ban, 1);
        } else if (x->end1 == TSS_ERR_BANNED) {
            banned++;
            assert_int_equal(tss_sign_abort_info(x->p1)->culprit, 3);
        } else {
            assert_int_equal(x->end1, TSS_OK);
            done++;
        }
    }
    printf("%s attack: %d session(s) failed the check, %d refused after the ban, %d waiting; "
           "before the ban: %d R2 and %d R3 sent to 3\n",
           vole_mode ? "VOLE" : "OT", failed, banned, done, r2, r3);
    /* exactly one check failed: every later check with party 3 was refused */
    assert_int_equal(failed, 1);
    assert_int_equal(failed + banned + done, SESSIONS);
    /* nothing left party 1 toward party 3 from a call that began after the ban began */
    assert_int_equal(atomic_load(&a->late_outputs), 0);
    if (!vole_mode) /* the ban came in round 1: no session reached round 3 */
        assert_int_equal(r3, 0);
    /* persisted once, for party 3, with the reason */
    assert_int_equal(a->store1.count, 1);
    assert_memory_equal(a->store1.fps[0], fp3, 32);
    assert_int_equal(a->store1.reasons[0], want);
    assert_true(tss_banlist_contains(a->bl1, fp3));
    /* a new session with party 3 is refused; with party 2 it is not */
    sim_sid_store st = {0};
    uint8_t sid[32] = {0x78};
    tss_sign *n = NULL;
    tss_sign_params p = params_for(&a->k, 1, 3, a->bl1, &st, sid);
    assert_int_equal(tss_sign_new(&n, &p, tss_rng_system()), TSS_ERR_BANNED);
    p = params_for(&a->k, 1, 2, a->bl1, &st, sid);
    assert_int_equal(tss_sign_new(&n, &p, tss_rng_system()), TSS_OK);
    tss_sign_free(n);

    for (int s = 0; s < SESSIONS; s++) {
        attack_session *x = &a->s[s];
        tss_sign_free(x->p1);
        tss_sign_free(x->p3);
        tss_keyshare_free(x->evil);
        tss_banlist_free(x->bl3);
        tss_msgs_free(&x->to1);
        tss_msgs_free(&x->to3);
    }
    pthread_barrier_destroy(&a->barrier);
    tss_banlist_free(a->bl1);
    keyset_free(&a->k);
    free(a);
}

static void test_attack_ot_column(void **state)
{
    (void)state;
    run_attack(0);
}

static void test_attack_vole_row(void **state)
{
    (void)state;
    run_attack(1);
}

/* ---------- a ban whose persist callback fails ---------- */

/* Signers {1, 2, 3}: party 1 answers party 2's round 1 (an R2 for 2 is ready in `out`),
 * then party 3's round-1 message fails the OT-extension check. The persist callback
 * fails: the state is aborted with the check's reason, `out` is empty (not even the R2
 * for the honest party 2 leaves), and party 3 is still listed in memory. */
static void test_persist_failure_releases_nothing(void **state)
{
    (void)state;
    keyset k;
    keyset_dealer(&k, 3, 3, 400);
    sim_ban_store store = {.fail = 1};
    tss_banlist *bl[4] = {0};
    sim_sid_store sids[4];
    tss_sign *st[4] = {0};
    tss_msgs out[4] = {{0}};
    memset(sids, 0, sizeof sids);
    uint8_t sid[32] = {0x40};
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(tss_banlist_new(&bl[i], sim_ban_persist, i == 1 ? &store : NULL), TSS_OK);
        tss_sign_params p = params_for(&k, (uint16_t)i, 1, bl[i], &sids[i], sid);
        p.signer_count = 3;
        p.signers[0] = 1, p.signers[1] = 2, p.signers[2] = 3;
        assert_int_equal(tss_sign_new(&st[i], &p, tss_rng_system()), TSS_OK);
        assert_int_equal(tss_sign_start(st[i], &out[i]), TSS_OK);
    }
    tss_msgs got = {0};
    for (int from = 2; from <= 3; from++) {
        for (size_t m = 0; m < out[from].count; m++) {
            if (out[from].items[m].to != 1)
                continue;
            if (from == 3) /* a bit of U in party 3's VOLE message 1 */
                out[from].items[m].data[TSS_MSG_HEADER_BYTES + 32 + 16 + 1000] ^= 4;
            tss_err e =
                tss_sign_receive(st[1], out[from].items[m].data, out[from].items[m].len, &got);
            assert_int_equal(e, from == 2 ? TSS_OK : TSS_ERR_OT_CHECK);
        }
    }
    assert_int_equal(got.count, 0);
    assert_null(got.items);
    assert_int_equal(tss_sign_status(st[1]), TSS_ABORTED);
    assert_int_equal(tss_sign_abort_info(st[1])->reason, TSS_ERR_OT_CHECK);
    assert_int_equal(tss_sign_abort_info(st[1])->culprit, 3);
    assert_int_equal(tss_sign_abort_info(st[1])->ban, 1);
    assert_int_equal(store.count, 0);                                 /* not durable ... */
    assert_true(tss_banlist_contains(bl[1], k.shares[1]->ids[2].fp)); /* ... but listed */
    assert_false(tss_banlist_contains(bl[1], k.shares[1]->ids[1].fp));
    /* the aborted state takes nothing more */
    assert_int_equal(tss_sign_receive(st[1], out[2].items[0].data, out[2].items[0].len, &got),
                     TSS_ERR_STATE);
    assert_int_equal(got.count, 0);
    for (int i = 1; i <= 3; i++) {
        tss_msgs_free(&out[i]);
        tss_sign_free(st[i]);
        tss_banlist_free(bl[i]);
    }
    keyset_free(&k);
}

/* The protocols' first check: the lowest listed party other than me, or 0. */
static void test_first_listed(void **state)
{
    (void)state;
    tss_banlist *bl = NULL;
    sim_ban_store store = {0};
    tss_identity ids[TSS_MAX_PARTIES];
    sim_identities(ids, 5);
    assert_int_equal(tss_banlist_new(&bl, sim_ban_persist, &store), TSS_OK);
    assert_int_equal(tss_banlist_first(bl, ids, 5, 1), 0);
    assert_int_equal(tss_banlist_load(bl, ids[3].fp), TSS_OK); /* party 4 */
    assert_int_equal(tss_banlist_first(bl, ids, 5, 1), 4);
    assert_int_equal(tss_banlist_first(bl, ids, 5, 4), 0);     /* my own identity is not checked */
    assert_int_equal(tss_banlist_first(bl, ids, 3, 1), 0);     /* only parties 1..count */
    assert_int_equal(tss_banlist_load(bl, ids[4].fp), TSS_OK); /* and party 5 */
    assert_int_equal(tss_banlist_first(bl, ids, 5, 1), 4);
    assert_int_equal(tss_banlist_first(bl, ids, 5, 4), 5);
    assert_int_equal(tss_banlist_lift(bl, ids[3].fp), TSS_OK);
    assert_int_equal(tss_banlist_first(bl, ids, 5, 1), 5);
    tss_banlist_free(bl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_basics),
        cmocka_unit_test(test_first_listed),
        cmocka_unit_test(test_sign_new_refuses_banned),
        cmocka_unit_test(test_live_states_abort),
        cmocka_unit_test(test_persist_failure_releases_nothing),
        cmocka_unit_test(test_attack_ot_column),
        cmocka_unit_test(test_attack_vole_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
