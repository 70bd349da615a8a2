/* tests/signerd/test_reshare_input.c — a signer's reshare input (daemon/signerd/reshare.h)
 * from the hub's session-start and its own share, run through the real protocol in one
 * process (tests/support/tss_sim): a refresh among the same 2-of-3 then signing with every
 * pair under the same key; a 2-of-3 -> 3-of-4 reshare in which node 2 leaves (dealing from
 * outside the new committee) and two replacements without shares join, then signing; and
 * every lie a hub could tell a node holding a share (another key, epoch, dealer P(x), x,
 * pinned identity, a role that is not the node's) refused before any protocol message,
 * while a lie told to a replacement (it cannot check) makes the protocol itself fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reshare.h"
#include "tss_dealer.h"
#include "tss_sim.h"

static tss_keyshare *old[TSS_MAX_PARTIES + 1];
static test_rng rng;
static tss_banlist *bans;

static int setup(void **state)
{
    (void)state;
    test_rng_init(&rng, 17);
    memset(old, 0, sizeof old);
    if (dealer_split(old, 2, 3, NULL, NULL, &rng) != TSS_OK)
        return -1;
    static sim_ban_store store; /* the protocol runs use their own lists (tss_sim) */
    return tss_banlist_new(&bans, sim_ban_persist, &store) == TSS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i <= TSS_MAX_PARTIES; i++)
        tss_keyshare_free(old[i]);
    tss_banlist_free(bans);
    return 0;
}

/* The session-start a hub sends: new committee `news` (sim identity numbers), t, dealers
 * old indices `deal` with their new index (0: outside). Fingerprints into pfp/dfp. */
static void make_start(api_reshare_start *s, unsigned t, const unsigned *news, unsigned n,
                       const unsigned *deal, const unsigned *deal_new, unsigned nd,
                       uint8_t (*pfp)[32], uint8_t (*dfp)[32])
{
    memset(s, 0, sizeof *s);
    memset(s->key_id, 0x4b, 16);
    s->epoch = old[1]->epoch + 1;
    s->threshold = t;
    s->n = n;
    s->nparties = n;
    for (unsigned j = 0; j < n; j++) {
        tss_identity id;
        sim_identity(&id, (uint16_t)news[j]);
        s->parties[j].index = j + 1;
        snprintf(s->parties[j].id, sizeof s->parties[j].id, "%s", id.party_id);
        memcpy(pfp[j], id.fp, 32);
    }
    s->old_threshold = old[1]->t;
    s->old_n = old[1]->n;
    tss_point_serialize(s->public_key, &old[1]->pk);
    memcpy(s->chain_code, old[1]->chain_code, 32);
    memcpy(s->key_sid, old[1]->dkg_sid, 32);
    s->ndealers = nd;
    for (unsigned k = 0; k < nd; k++) {
        api_reshare_dealer *d = &s->dealers[k];
        d->x[31] = (uint8_t)deal[k];
        tss_point_serialize(d->pub, &old[1]->pub_shares[deal[k] - 1]);
        snprintf(d->id, sizeof d->id, "%s", old[1]->ids[deal[k] - 1].party_id);
        memcpy(dfp[k], old[1]->ids[deal[k] - 1].fp, 32);
        d->new_index = deal_new[k];
    }
}

/* Builds every participant's parameters (participant i is node nodes[i-1], holding
 * old[held[i-1]] or nothing) and runs the reshare. */
static signer_reshare_staged *staged_of[TSS_MAX_PARTIES + 1]; /* by node; NULL: none */

static tss_err run(sim_reshare *r, tss_reshare_params *pp, api_reshare_start *s,
                   const unsigned *nodes, const unsigned *held, unsigned m, uint8_t (*pfp)[32],
                   uint8_t (*dfp)[32])
{
    static const uint8_t sid[32] = {0x51, 0xd0};
    char why[160];
    memset(r, 0, sizeof *r);
    memcpy(r->net.session_id, sid, 32);
    for (unsigned i = 1; i <= m; i++) {
        tss_identity me;
        sim_identity(&me, (uint16_t)nodes[i - 1]);
        s->index = i;
        signer_reshare_err e =
            signer_reshare_params(&pp[i], s, me.party_id, held[i - 1] ? old[held[i - 1]] : NULL,
                                  staged_of[nodes[i - 1]], pfp, dfp, sid, bans, why, sizeof why);
        if (e != SIGNER_RESHARE_OK)
            fail_msg("participant %u: %s: %s", i, signer_reshare_strerror(e), why);
        r->party_params[i] = &pp[i];
    }
    r->params = pp[1];
    return sim_reshare_run(r);
}

static void sign_with(tss_keyshare *const *shares, const unsigned *who, size_t count)
{
    sim_sign sg;
    memset(&sg, 0, sizeof sg);
    sg.shares = shares;
    for (size_t i = 0; i < count; i++)
        sg.signers[i] = (uint16_t)who[i];
    sg.count = count;
    memset(sg.hash, 0x68, 32);
    tss_err e = sim_sign_run(&sg);
    if (e != TSS_OK)
        fail_msg("signing: %s (party %u)", tss_strerror(e), sg.net.failed_party);
    assert_true(tss_point_eq(&sg.pk, &old[1]->pk));
    sim_sign_free(&sg);
}

static void test_refresh_then_sign_every_pair(void **state)
{
    (void)state;
    static api_reshare_start s;
    static tss_reshare_params pp[TSS_MAX_PARTIES + 1];
    uint8_t pfp[3][32], dfp[2][32];
    static const unsigned news[] = {1, 2, 3}, deal[] = {1, 3}, deal_new[] = {1, 3};
    static const unsigned held[] = {1, 2, 3};
    make_start(&s, 2, news, 3, deal, deal_new, 2, pfp, dfp);
    sim_reshare r;
    tss_err e = run(&r, pp, &s, news, held, 3, pfp, dfp);
    if (e != TSS_OK)
        fail_msg("refresh: %s (participant %u)", tss_strerror(e), r.net.failed_party);
    for (int i = 1; i <= 3; i++) {
        assert_non_null(r.shares[i]);
        assert_int_equal(r.shares[i]->epoch, 1);
        assert_true(tss_point_eq(&r.shares[i]->pk, &old[1]->pk));
        assert_memory_equal(r.shares[i]->chain_code, old[1]->chain_code, 32);
    }
    static const unsigned pairs[3][2] = {{1, 2}, {1, 3}, {2, 3}};
    for (int p = 0; p < 3; p++)
        sign_with(r.shares, pairs[p], 2);
    /* an old-epoch share and a new one do not sign together (no ban: TSS_ERR_SESSION) */
    tss_keyshare *mixed[4] = {NULL, r.shares[1], old[2], r.shares[3]};
    sim_sign sg;
    memset(&sg, 0, sizeof sg);
    sg.shares = mixed;
    sg.signers[0] = 1;
    sg.signers[1] = 2;
    sg.count = 2;
    assert_int_equal(sim_sign_run(&sg), TSS_ERR_SESSION);
    assert_int_equal(sg.net.abort.ban, 0);
    sim_sign_free(&sg);
    sim_reshare_free(&r);
}

static void test_reshare_with_node_replaced(void **state)
{
    (void)state;
    static api_reshare_start s;
    static tss_reshare_params pp[TSS_MAX_PARTIES + 1];
    uint8_t pfp[4][32], dfp[2][32];
    /* new committee: nodes 1, 3, 5, 6 (3-of-4); node 2 leaves and deals from outside
     * (participant 5), node 3 deals as new party 2; nodes 5 and 6 hold nothing */
    static const unsigned news[] = {1, 3, 5, 6}, deal[] = {2, 3}, deal_new[] = {0, 2};
    static const unsigned nodes[] = {1, 3, 5, 6, 2}, held[] = {1, 3, 0, 0, 2};
    make_start(&s, 3, news, 4, deal, deal_new, 2, pfp, dfp);
    sim_reshare r;
    tss_err e = run(&r, pp, &s, nodes, held, 5, pfp, dfp);
    if (e != TSS_OK)
        fail_msg("reshare: %s (participant %u)", tss_strerror(e), r.net.failed_party);
    assert_int_equal(r.m, 5);
    for (int i = 1; i <= 4; i++) {
        assert_int_equal(r.shares[i]->t, 3);
        assert_int_equal(r.shares[i]->n, 4);
        assert_true(tss_point_eq(&r.shares[i]->pk, &old[1]->pk));
    }
    static const unsigned who[][3] = {{1, 2, 3}, {2, 3, 4}, {1, 3, 4}};
    for (int p = 0; p < 3; p++)
        sign_with(r.shares, who[p], 3);
    sim_reshare_free(&r);
}

static void test_hub_lies_refused(void **state)
{
    (void)state;
    static api_reshare_start s;
    tss_reshare_params p;
    uint8_t pfp[3][32], dfp[2][32];
    static const uint8_t sid[32] = {1};
    static const unsigned news[] = {1, 2, 3}, deal[] = {1, 3}, deal_new[] = {1, 3};
    char why[160];
    tss_identity me;
    sim_identity(&me, 1);
#define EXPECT(err, what)                                                                          \
    do {                                                                                           \
        assert_int_equal(signer_reshare_params(&p, &s, me.party_id, old[1], NULL, pfp, dfp, sid,   \
                                               bans, why, sizeof why),                             \
                         err);                                                                     \
        assert_non_null(strstr(why, what));                                                        \
        assert_int_equal(p.n, 0);                                                                  \
        make_start(&s, 2, news, 3, deal, deal_new, 2, pfp, dfp);                                   \
        s.index = 1;                                                                               \
    } while (0)
    make_start(&s, 2, news, 3, deal, deal_new, 2, pfp, dfp);
    s.index = 1;
    assert_int_equal(signer_reshare_params(&p, &s, me.party_id, old[1], NULL, pfp, dfp, sid, bans,
                                           why, sizeof why),
                     SIGNER_RESHARE_OK);
    assert_int_equal(p.dealer, 1);
    assert_int_equal(p.index, 1);
    assert_ptr_equal(p.share, &old[1]->secret_share);
    s.epoch = 2;
    EXPECT(SIGNER_RESHARE_ERR_EPOCH, "epoch");
    s.public_key[5] ^= 1;
    EXPECT(SIGNER_RESHARE_ERR_KEY, "public key");
    s.key_sid[0] ^= 1;
    EXPECT(SIGNER_RESHARE_ERR_KEY, "DKG sid");
    s.old_threshold = 3;
    EXPECT(SIGNER_RESHARE_ERR_KEY, "threshold");
    s.dealers[1].pub[9] ^= 1;
    EXPECT(SIGNER_RESHARE_ERR_DEALER, "dealers[1]");
    s.dealers[1].x[31] = 2; /* names old party 2 with party 3's P(x) */
    EXPECT(SIGNER_RESHARE_ERR_DEALER, "dealers[1]");
    s.dealers[0].x[0] = 1; /* not an old index */
    EXPECT(SIGNER_RESHARE_ERR_DEALER, "dealers[0]");
    dfp[1][0] ^= 1; /* dealer 3 presents another certificate than the one pinned */
    EXPECT(SIGNER_RESHARE_ERR_DEALER, "dealers[1]");
    s.index = 2; /* participant 2 is node 2, not this node */
    EXPECT(SIGNER_RESHARE_ERR_ROLE, "participant 2");
    /* this node listed as dealing with another node's old index */
    snprintf(s.dealers[1].id, sizeof s.dealers[1].id, "%s", me.party_id);
    snprintf(s.dealers[0].id, sizeof s.dealers[0].id, "%s", old[2]->ids[1].party_id);
    s.dealers[0].x[31] = 2;
    tss_point_serialize(s.dealers[0].pub, &old[1]->pub_shares[1]);
    memcpy(dfp[0], old[2]->ids[1].fp, 32);
    memcpy(dfp[1], me.fp, 32);
    EXPECT(SIGNER_RESHARE_ERR_DEALER, "dealers[1]");
    /* a node without a share cannot deal */
    assert_int_equal(signer_reshare_params(&p, &s, me.party_id, NULL, NULL, pfp, dfp, sid, bans,
                                           why, sizeof why),
                     SIGNER_RESHARE_ERR_ROLE);
    assert_int_equal(signer_reshare_params(&p, &s, me.party_id, old[1], NULL, pfp, dfp, sid, NULL,
                                           why, sizeof why),
                     SIGNER_RESHARE_ERR_ARG);
#undef EXPECT
}

/* A replacement cannot check what it is told; a different public key told to it alone
 * makes the run fail (nobody gets a share), it does not produce a share of another key. */
static void test_replacement_told_a_lie_fails(void **state)
{
    (void)state;
    static api_reshare_start s;
    static tss_reshare_params pp[TSS_MAX_PARTIES + 1];
    uint8_t pfp[3][32], dfp[2][32];
    static const unsigned news[] = {1, 3, 5}, deal[] = {1, 3}, deal_new[] = {1, 2};
    static const unsigned held[] = {1, 3, 0};
    make_start(&s, 2, news, 3, deal, deal_new, 2, pfp, dfp);
    sim_reshare r;
    assert_int_equal(run(&r, pp, &s, news, held, 3, pfp, dfp), TSS_OK);
    sim_reshare_free(&r);
    /* now participant 3 (node 5) is told another public key */
    tss_point other;
    assert_int_equal(tss_point_parse(&other, s.dealers[0].pub), TSS_OK);
    memset(&r, 0, sizeof r);
    static const uint8_t sid[32] = {0x51, 0xd0};
    memcpy(r.net.session_id, sid, 32);
    for (unsigned i = 1; i <= 3; i++)
        r.party_params[i] = &pp[i];
    pp[3].pk = other;
    r.params = pp[1];
    assert_int_not_equal(sim_reshare_run(&r), TSS_OK);
    assert_null(r.shares[3]);
    sim_reshare_free(&r);
}

/* The old committee's shares staged as an import's inputs (a tss-lib migration: no share of
 * the new key id on any node, key_sid zero, epoch 1): node k's staged input is old[k]'s
 * secret at x = k with every old party's (x, P(x)). */
static void stage_old(signer_reshare_staged *st, unsigned k)
{
    memset(st, 0, sizeof *st);
    tss_point_serialize(st->public_key, &old[1]->pk);
    memcpy(st->chain_code, old[1]->chain_code, 32);
    st->old_threshold = old[1]->t;
    st->old_n = old[1]->n;
    st->count = old[1]->n;
    for (unsigned j = 0; j < st->count; j++) {
        st->xs[j][31] = (uint8_t)(j + 1);
        tss_point_serialize(st->pubs[j], &old[1]->pub_shares[j]);
    }
    memcpy(st->x, st->xs[k - 1], 32);
    memcpy(st->pub, st->pubs[k - 1], 33);
    st->secret = &old[k]->secret_share;
}

static void import_start(api_reshare_start *s, const unsigned *news, const unsigned *deal,
                         const unsigned *deal_new, uint8_t (*pfp)[32], uint8_t (*dfp)[32])
{
    make_start(s, 2, news, 3, deal, deal_new, 2, pfp, dfp);
    memset(s->key_sid, 0, 32);
    memset(s->key_id, 0x1f, 16); /* a new key */
    s->epoch = 1;
}

static void test_migration_then_sign(void **state)
{
    (void)state;
    static api_reshare_start s;
    static tss_reshare_params pp[TSS_MAX_PARTIES + 1];
    static signer_reshare_staged st1, st3;
    uint8_t pfp[3][32], dfp[2][32];
    /* nodes 1 and 3 deal what they staged and are new parties 1 and 2; node 5 joins */
    static const unsigned news[] = {1, 3, 5}, deal[] = {1, 3}, deal_new[] = {1, 2};
    static const unsigned none[] = {0, 0, 0};
    stage_old(&st1, 1);
    stage_old(&st3, 3);
    staged_of[1] = &st1;
    staged_of[3] = &st3;
    import_start(&s, news, deal, deal_new, pfp, dfp);
    sim_reshare r;
    tss_err e = run(&r, pp, &s, news, none, 3, pfp, dfp);
    if (e != TSS_OK)
        fail_msg("import: %s (participant %u)", tss_strerror(e), r.net.failed_party);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(r.shares[i]->epoch, 1);
        assert_true(tss_point_eq(&r.shares[i]->pk, &old[1]->pk)); /* the same key */
    }
    static const unsigned pairs[3][2] = {{1, 2}, {1, 3}, {2, 3}};
    for (int p = 0; p < 3; p++)
        sign_with(r.shares, pairs[p], 2);
    sim_reshare_free(&r);

    /* what a dealer of staged input refuses */
    tss_reshare_params p;
    char why[200];
    static const uint8_t sid[32] = {2};
    tss_identity me;
    sim_identity(&me, 1);
    s.index = 1;
#define EXPECT(err, what)                                                                          \
    do {                                                                                           \
        assert_int_equal(signer_reshare_params(&p, &s, me.party_id, NULL, &st1, pfp, dfp, sid,     \
                                               bans, why, sizeof why),                             \
                         err);                                                                     \
        assert_non_null(strstr(why, what));                                                        \
        import_start(&s, news, deal, deal_new, pfp, dfp);                                          \
        s.index = 1;                                                                               \
    } while (0)
    assert_int_equal(signer_reshare_params(&p, &s, me.party_id, NULL, &st1, pfp, dfp, sid, bans,
                                           why, sizeof why),
                     SIGNER_RESHARE_OK);
    assert_ptr_equal(p.share, st1.secret);
    s.key_sid[3] = 1; /* a refresh of a DKG key is not what was staged for */
    EXPECT(SIGNER_RESHARE_ERR_KEY, "not an import");
    s.epoch = 2;
    EXPECT(SIGNER_RESHARE_ERR_KEY, "not an import");
    s.public_key[7] ^= 1; /* another key */
    EXPECT(SIGNER_RESHARE_ERR_KEY, "staged input");
    s.chain_code[0] ^= 1;
    EXPECT(SIGNER_RESHARE_ERR_KEY, "staged input");
    s.old_threshold = 3;
    EXPECT(SIGNER_RESHARE_ERR_KEY, "staged input");
    /* the other dealer at its x with another party's P(x) */
    tss_point_serialize(s.dealers[1].pub, &old[1]->pub_shares[1]);
    EXPECT(SIGNER_RESHARE_ERR_DEALER, "dealers[1]");
    s.dealers[0].x[31] = 2; /* this node listed at another old party's x and P(x) */
    tss_point_serialize(s.dealers[0].pub, &old[1]->pub_shares[1]);
    EXPECT(SIGNER_RESHARE_ERR_DEALER, "dealers[0]");
    /* listed as a dealer with nothing staged */
    assert_int_equal(signer_reshare_params(&p, &s, me.party_id, NULL, NULL, pfp, dfp, sid, bans,
                                           why, sizeof why),
                     SIGNER_RESHARE_ERR_ROLE);
#undef EXPECT
    staged_of[1] = staged_of[3] = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refresh_then_sign_every_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reshare_with_node_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hub_lies_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replacement_told_a_lie_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_then_sign, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
