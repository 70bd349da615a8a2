/* tests/tss/test_reshare.c — resharing (tss/reshare.h): refresh, reshare to another (t, n)
 * and back, a lost node replaced, import of a known private key, dealers at arbitrary
 * x-coordinates (tss-lib migration); every result signs with every signer set under the
 * unchanged key; old and new epochs never sign together (a session mismatch, no ban);
 * parameter refusals; one tamper test per check, with the culprit it must name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_rng.h"
#include "tss/baseot.h"
#include "tss/pok.h"
#include "tss/reshare.h"
#include "tss/secmem.h"
#include "tss/transcript.h"
#include "tss_sim.h"

/* ---------- helpers ---------- */

static void set_x(tss_scalar *x, uint64_t v)
{
    tss_scalar_set_u64(x, v);
}

/* A 2-of-3 (or t-of-n) key from the DKG, seeded. */
static void make_key(sim_dkg *d, uint8_t t, uint8_t n, uint64_t seed)
{
    static test_rng rngs[TSS_MAX_PARTIES + 1];
    memset(d, 0, sizeof *d);
    d->t = t;
    d->n = n;
    for (int i = 1; i <= n; i++) {
        test_rng_init(&rngs[i], seed * 1000 + (uint64_t)i);
        d->net.rng[i] = &rngs[i].rng;
    }
    memset(d->net.session_id, (int)seed, 32);
    assert_int_equal(sim_dkg_run(d), TSS_OK);
}

/* Reshare input from existing shares old[1..n_old]: dealers are the old parties in
 * `dealers` (x = old index), new_index[k] their index in the new committee (0: removed);
 * the new committee has t', n' and identities new_ids. */
static void from_shares(sim_reshare *s, tss_keyshare *const *old, const uint16_t *dealers,
                        size_t count, const uint8_t *new_index, uint8_t t, uint8_t n,
                        const tss_identity *new_ids, uint64_t seed)
{
    static test_rng rngs[TSS_MAX_PARTIES + 1];
    const tss_keyshare *any = old[dealers[0]];
    memset(s, 0, sizeof *s);
    tss_reshare_params *p = &s->params;
    memset(p->key_id, 0x4b, 16);
    memcpy(p->key_sid, any->dkg_sid, 32);
    p->t_old = any->t;
    p->n_old = any->n;
    p->dealer_count = (uint8_t)count;
    for (size_t k = 0; k < count; k++) {
        const tss_keyshare *ks = old[dealers[k]];
        set_x(&p->dealers[k].x, dealers[k]);
        p->dealers[k].pub = ks->pub_shares[dealers[k] - 1];
        p->dealers[k].id = ks->ids[dealers[k] - 1];
        p->dealers[k].new_index = new_index[k];
        s->secrets[k] = &ks->secret_share;
    }
    p->pk = any->pk;
    memcpy(p->chain_code, any->chain_code, 32);
    p->t = t;
    p->n = n;
    memcpy(p->ids, new_ids, n * sizeof new_ids[0]);
    p->epoch = any->epoch + 1;
    for (int i = 1; i <= TSS_MAX_PARTIES; i++) {
        test_rng_init(&rngs[i], seed * 1000 + (uint64_t)i);
        s->net.rng[i] = &rngs[i].rng;
    }
    memset(s->net.session_id, (int)(seed & 0xff) | 0x80, 32);
}

static void run_reshare_ok(sim_reshare *s)
{
    tss_err err = sim_reshare_run(s);
    if (err != TSS_OK)
        fail_msg("reshare: participant %d failed: %s (culprit %d)", s->net.failed_party,
                 tss_strerror(err), s->net.abort.culprit);
    assert_int_equal(s->net.out_after_abort, 0);
}

/* Every new share: the same public key material and fingerprint, the given epoch, the
 * run's own setup sid, pk and chain code kept, symmetric zero seeds, a share that matches
 * its P(j), an encoding that round-trips. */
static void check_new_shares(const sim_reshare *s, const tss_point *pk, const uint8_t *dkg_sid)
{
    const tss_reshare_params *p = &s->params;
    uint8_t fp0[32], fp[32];
    tss_keyshare_fingerprint(fp0, s->shares[1]);
    for (int i = 1; i <= p->n; i++) {
        tss_keyshare *ks = s->shares[i];
        assert_non_null(ks);
        assert_int_equal(ks->t, p->t);
        assert_int_equal(ks->n, p->n);
        assert_int_equal(ks->index, i);
        assert_int_equal(ks->epoch, p->epoch);
        assert_true(tss_point_eq(&ks->pk, pk));
        assert_memory_equal(ks->chain_code, p->chain_code, 32);
        assert_memory_equal(ks->ids, p->ids, p->n * sizeof p->ids[0]);
        if (dkg_sid != NULL) { /* the key's DKG sid kept, this run's setup sid */
            assert_memory_equal(ks->dkg_sid, dkg_sid, 32);
            assert_memory_not_equal(ks->setup_sid, ks->dkg_sid, 32);
        }
        assert_memory_equal(ks->setup_sid, s->shares[1]->setup_sid, 32);
        tss_keyshare_fingerprint(fp, ks);
        assert_memory_equal(fp, fp0, 32);
        tss_point mine;
        assert_int_equal(tss_point_base_mul(&mine, &ks->secret_share), TSS_OK);
        assert_true(tss_point_eq(&mine, &ks->pub_shares[i - 1]));
        assert_int_equal(tss_keyshare_check_public(ks), TSS_OK);
        for (int j = 1; j <= p->n; j++)
            if (j != i)
                assert_memory_equal(ks->peer[j - 1].zero_seed, s->shares[j]->peer[i - 1].zero_seed,
                                    32);
        uint8_t *enc = NULL;
        size_t len = 0;
        tss_keyshare *back = NULL;
        assert_int_equal(tss_keyshare_encode(ks, &enc, &len), TSS_OK);
        assert_int_equal(tss_keyshare_decode(&back, enc, len), TSS_OK);
        tss_keyshare_fingerprint(fp, back);
        assert_memory_equal(fp, fp0, 32);
        tss_keyshare_free(back);
        tss_secmem_free(enc);
    }
}

/* Signs with every t-subset of shares[1..n] (n <= 6) and checks each signature with
 * libsecp256k1 against the expected key. */
static int sign_all_sets(tss_keyshare *const *shares, uint8_t t, uint8_t n, const tss_point *pk,
                         uint64_t seed)
{
    int sets = 0;
    for (uint32_t mask = 0; mask < (1u << n); mask++) {
        if (__builtin_popcount(mask) != t)
            continue;
        sim_sign s;
        memset(&s, 0, sizeof s);
        s.shares = shares;
        for (int j = 0; j < n; j++)
            if (mask & (1u << j))
                s.signers[s.count++] = (uint16_t)(j + 1);
        memset(s.net.session_id, (int)(mask + seed), 32);
        for (int k = 0; k < 32; k++)
            s.hash[k] = (uint8_t)(k * 7 + mask);
        tss_err err = sim_sign_run(&s);
        if (err != TSS_OK)
            fail_msg("signing set mask %x failed: %s", mask, tss_strerror(err));
        assert_true(tss_point_eq(&s.pk, pk));
        secp256k1_ecdsa_signature es;
        uint8_t rs[64];
        memcpy(rs, s.sig[s.signers[0]].r, 32);
        memcpy(rs + 32, s.sig[s.signers[0]].s, 32);
        assert_true(secp256k1_ecdsa_signature_parse_compact(tss_secp_ctx(), &es, rs));
        assert_true(secp256k1_ecdsa_verify(tss_secp_ctx(), &es, s.hash, &pk->pk));
        sets++;
    }
    return sets;
}

/* ---------- the scenarios ---------- */

static void test_refresh(void **state)
{
    (void)state;
    sim_dkg d;
    make_key(&d, 2, 3, 1);
    /* every old party deals (more than t_old: any qualified set works) */
    sim_reshare s;
    const uint16_t all[] = {1, 2, 3};
    const uint8_t same[] = {1, 2, 3};
    from_shares(&s, d.shares, all, 3, same, 2, 3, d.ids, 11);
    run_reshare_ok(&s);
    check_new_shares(&s, &d.shares[1]->pk, d.shares[1]->dkg_sid);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(s.shares[i]->epoch, 1);
        assert_false(tss_scalar_eq(&s.shares[i]->secret_share, &d.shares[i]->secret_share));
        assert_memory_not_equal(s.shares[i]->peer[i % 3].zero_seed,
                                d.shares[i]->peer[i % 3].zero_seed, 32);
    }
    assert_int_equal(sign_all_sets(s.shares, 2, 3, &d.shares[1]->pk, 1), 3);

    /* a second refresh from a qualified set of two, epoch 2 */
    sim_reshare r;
    const uint16_t two[] = {1, 3};
    const uint8_t keep[] = {1, 3};
    from_shares(&r, s.shares, two, 2, keep, 2, 3, d.ids, 12);
    assert_int_equal(r.params.epoch, 2);
    run_reshare_ok(&r);
    check_new_shares(&r, &d.shares[1]->pk, d.shares[1]->dkg_sid);
    assert_int_equal(sign_all_sets(r.shares, 2, 3, &d.shares[1]->pk, 2), 3);
    sim_reshare_free(&r);
    sim_reshare_free(&s);
    sim_dkg_free(&d);
}

static void test_reshare_3of5_and_back(void **state)
{
    (void)state;
    sim_dkg d;
    make_key(&d, 2, 3, 2);
    tss_identity five[TSS_MAX_PARTIES];
    sim_identities(five, 5); /* parties 1..3 keep their identities, 4 and 5 join */
    sim_reshare up;
    const uint16_t dealers[] = {1, 2};
    const uint8_t idx[] = {1, 2};
    from_shares(&up, d.shares, dealers, 2, idx, 3, 5, five, 21);
    run_reshare_ok(&up);
    assert_int_equal(up.m, 5);
    check_new_shares(&up, &d.shares[1]->pk, d.shares[1]->dkg_sid);
    assert_int_equal(sign_all_sets(up.shares, 3, 5, &d.shares[1]->pk, 3), 10);

    /* back to 2-of-3 from {2, 4, 5} of the 3-of-5, parties 4 and 5 leaving, 3 staying */
    sim_reshare down;
    const uint16_t from3[] = {2, 4, 5};
    const uint8_t idx3[] = {2, 0, 0};
    from_shares(&down, up.shares, from3, 3, idx3, 2, 3, d.ids, 22);
    run_reshare_ok(&down);
    assert_int_equal(down.m, 5); /* 3 new parties and 2 dealers that leave */
    check_new_shares(&down, &d.shares[1]->pk, d.shares[1]->dkg_sid);
    assert_int_equal(down.shares[1]->epoch, 2);
    assert_int_equal(sign_all_sets(down.shares, 2, 3, &d.shares[1]->pk, 4), 3);
    sim_reshare_free(&down);
    sim_reshare_free(&up);
    sim_dkg_free(&d);
}

/* Party 3 lost: the survivors 1 and 2 reshare to {1, 2, a replacement with a new identity}. */
static void test_replace_lost_node(void **state)
{
    (void)state;
    sim_dkg d;
    make_key(&d, 2, 3, 3);
    tss_identity ids[TSS_MAX_PARTIES];
    memcpy(ids, d.ids, sizeof ids);
    sim_identity(&ids[2], 103);
    sim_reshare s;
    const uint16_t dealers[] = {1, 2};
    const uint8_t idx[] = {1, 2};
    from_shares(&s, d.shares, dealers, 2, idx, 2, 3, ids, 31);
    run_reshare_ok(&s);
    assert_int_equal(s.m, 3);
    check_new_shares(&s, &d.shares[1]->pk, d.shares[1]->dkg_sid);
    assert_memory_equal(s.shares[1]->ids[2].fp, ids[2].fp, 32);
    assert_int_equal(sign_all_sets(s.shares, 2, 3, &d.shares[1]->pk, 5), 3);
    sim_reshare_free(&s);
    sim_dkg_free(&d);
}

/* One dealer holding a whole private key (t_old = 1, P(x) = pk, x arbitrary), not a new
 * party: the new 2-of-3 shares sign under the known public key. */
static void test_import_known_key(void **state)
{
    (void)state;
    test_rng r;
    test_rng_init(&r, 41);
    uint8_t skb[32], xb[64];
    for (int k = 0; k < 32; k++)
        skb[k] = (uint8_t)(0x11 * (k % 15 + 1));
    tss_scalar sk;
    assert_int_equal(tss_scalar_parse(&sk, skb), TSS_OK);
    sim_reshare s;
    memset(&s, 0, sizeof s);
    tss_reshare_params *p = &s.params;
    memset(p->key_id, 0x21, 16); /* key_sid zero: an import */
    p->t_old = 1, p->n_old = 1, p->dealer_count = 1;
    test_rng_bytes(&r, xb, 64);
    tss_scalar_reduce64(&p->dealers[0].x, xb);
    assert_int_equal(tss_point_base_mul(&p->dealers[0].pub, &sk), TSS_OK);
    sim_identity(&p->dealers[0].id, 900);
    p->pk = p->dealers[0].pub;
    test_rng_bytes(&r, p->chain_code, 32);
    p->t = 2, p->n = 3;
    sim_identities(p->ids, 3);
    p->epoch = 0;
    s.secrets[0] = &sk;
    memset(s.net.session_id, 0x41, 32);
    run_reshare_ok(&s);
    assert_int_equal(s.m, 4);
    check_new_shares(&s, &p->pk, NULL);
    assert_memory_equal(s.shares[1]->dkg_sid, s.shares[1]->setup_sid, 32); /* no old DKG */
    assert_int_equal(sign_all_sets(s.shares, 2, 3, &p->pk, 6), 3);
    sim_reshare_free(&s);
    tss_scalar_clear(&sk);
}

/* A tss-lib-style 2-of-3 (degree 1) with ShareIDs that are random field elements: two of
 * the old parties deal into a new 2-of-3 of which they are parties 1 and 2 and the third
 * old party (which does not deal) is party 3. */
static void test_arbitrary_x(void **state)
{
    (void)state;
    test_rng r;
    test_rng_init(&r, 51);
    uint8_t wide[64];
    tss_scalar a0, a1, x[3], share[3];
    tss_point pk, pub[3];
    test_rng_bytes(&r, wide, 64);
    tss_scalar_reduce64(&a0, wide);
    test_rng_bytes(&r, wide, 64);
    tss_scalar_reduce64(&a1, wide);
    assert_int_equal(tss_point_base_mul(&pk, &a0), TSS_OK);
    for (int i = 0; i < 3; i++) {
        test_rng_bytes(&r, wide, 64);
        tss_scalar_reduce64(&x[i], wide);
        tss_scalar_mul(&share[i], &a1, &x[i]);
        tss_scalar_add(&share[i], &share[i], &a0);
        assert_int_equal(tss_point_base_mul(&pub[i], &share[i]), TSS_OK);
    }
    tss_identity old_ids[3];
    for (int i = 0; i < 3; i++)
        sim_identity(&old_ids[i], (uint16_t)(i + 1));
    /* the whole old committee is one consistent key; a wrong pk is refused */
    tss_reshare_dealer all[3];
    for (int i = 0; i < 3; i++)
        all[i] = (tss_reshare_dealer){.x = x[i], .pub = pub[i], .id = old_ids[i]};
    assert_int_equal(tss_reshare_check_input(all, 3, &pk), TSS_OK);
    assert_int_equal(tss_reshare_check_input(all, 2, &pk), TSS_OK);
    assert_int_equal(tss_reshare_check_input(all, 3, &pub[0]), TSS_ERR_MISMATCH);
    all[1].x = all[0].x;
    assert_int_equal(tss_reshare_check_input(all, 3, &pk), TSS_ERR_PARAMS);

    sim_reshare s;
    memset(&s, 0, sizeof s);
    tss_reshare_params *p = &s.params;
    memset(p->key_id, 0x51, 16);
    p->t_old = 2, p->n_old = 3, p->dealer_count = 2;
    const int use[2] = {0, 2}; /* old parties A and C deal */
    for (int k = 0; k < 2; k++) {
        p->dealers[k].x = x[use[k]];
        p->dealers[k].pub = pub[use[k]];
        p->dealers[k].new_index = (uint8_t)(k + 1);
        s.secrets[k] = &share[use[k]];
    }
    /* new committee: A as 1, C as 2, B (old, not dealing) as 3 */
    p->ids[0] = old_ids[0], p->ids[1] = old_ids[2], p->ids[2] = old_ids[1];
    p->dealers[0].id = old_ids[0], p->dealers[1].id = old_ids[2];
    p->pk = pk;
    test_rng_bytes(&r, p->chain_code, 32);
    p->t = 2, p->n = 3;
    p->epoch = 1;
    memset(s.net.session_id, 0x51, 32);
    run_reshare_ok(&s);
    check_new_shares(&s, &pk, NULL);
    assert_int_equal(sign_all_sets(s.shares, 2, 3, &pk, 7), 3);
    sim_reshare_free(&s);
}

/* After a refresh, a signing set that mixes an old-epoch share with a new-epoch share
 * derives two different signing sids: a session mismatch, before any OT work, and nobody
 * is banned. */
static void test_mixed_epochs_refused(void **state)
{
    (void)state;
    sim_dkg d;
    make_key(&d, 2, 3, 6);
    sim_reshare s;
    const uint16_t all[] = {1, 2, 3};
    const uint8_t same[] = {1, 2, 3};
    from_shares(&s, d.shares, all, 3, same, 2, 3, d.ids, 61);
    run_reshare_ok(&s);
    tss_keyshare *mixed[TSS_MAX_PARTIES + 1] = {0};
    mixed[1] = d.shares[1]; /* epoch 0 */
    mixed[2] = s.shares[2]; /* epoch 1 */
    sim_ban_store store[3];
    memset(store, 0, sizeof store);
    tss_banlist *bl[3] = {0};
    sim_sign g;
    memset(&g, 0, sizeof g);
    for (int i = 1; i <= 2; i++) {
        assert_int_equal(tss_banlist_new(&bl[i], sim_ban_persist, &store[i]), TSS_OK);
        g.net.bans[i] = bl[i];
    }
    g.shares = mixed;
    g.signers[0] = 1, g.signers[1] = 2, g.count = 2;
    memset(g.net.session_id, 0x66, 32);
    assert_int_equal(sim_sign_run(&g), TSS_ERR_SESSION);
    for (int i = 1; i <= 2; i++) {
        assert_true(g.net.party_err[i] == TSS_ERR_SESSION || g.net.party_err[i] == TSS_ERR_STATE ||
                    g.net.party_err[i] == TSS_OK);
        assert_int_equal(g.net.party_abort[i].ban, 0);
        assert_int_equal(g.net.party_abort[i].culprit, 0);
        assert_int_equal(store[i].count, 0);
        assert_int_equal(tss_banlist_contains(bl[i], d.ids[0].fp), 0);
        assert_int_equal(tss_banlist_contains(bl[i], d.ids[1].fp), 0);
    }
    assert_int_equal(g.net.party_err[1] == TSS_ERR_SESSION || g.net.party_err[2] == TSS_ERR_SESSION,
                     1);
    /* the old epoch alone still signs (a failed or unconfirmed reshare leaves it usable) */
    assert_int_equal(sign_all_sets(d.shares, 2, 3, &d.shares[1]->pk, 8), 3);
    for (int i = 1; i <= 2; i++)
        tss_banlist_free(bl[i]);
    sim_reshare_free(&s);
    sim_dkg_free(&d);
}

/* Any delivery order: the dealer that leaves sends R2 and R3 as soon as it can, so its
 * messages may overtake everyone else's; the inbox holds one round ahead, which always
 * suffices (every message of round r + 1 waits for a message of the recipient's round r). */
static void test_any_delivery_order(void **state)
{
    (void)state;
    sim_dkg d;
    make_key(&d, 2, 3, 10);
    tss_identity ids[TSS_MAX_PARTIES];
    memset(ids, 0, sizeof ids);
    ids[0] = d.ids[0];
    ids[1] = d.ids[2];
    sim_identity(&ids[2], 78);
    uint8_t fp[32], fp0[32];
    for (uint64_t seed = 1; seed <= 6; seed++) {
        sim_reshare s;
        const uint16_t dealers[] = {1, 2};
        const uint8_t idx[] = {1, 0};
        from_shares(&s, d.shares, dealers, 2, idx, 2, 3, ids, 90);
        s.net.shuffle = 1;
        s.net.shuffle_seed = seed;
        run_reshare_ok(&s);
        check_new_shares(&s, &d.shares[1]->pk, d.shares[1]->dkg_sid);
        tss_keyshare_fingerprint(fp, s.shares[1]);
        if (seed == 1) /* same inputs and randomness: the same shares whatever the order */
            memcpy(fp0, fp, 32);
        assert_memory_equal(fp, fp0, 32);
        sim_reshare_free(&s);
    }
    sim_dkg_free(&d);
}

/* ---------- parameters ---------- */

static void test_params(void **state)
{
    (void)state;
    sim_dkg d;
    make_key(&d, 2, 3, 7);
    sim_reshare s;
    const uint16_t dealers[] = {1, 2};
    const uint8_t idx[] = {1, 0}; /* 2 leaves: participant 4 */
    tss_identity ids[TSS_MAX_PARTIES];
    memcpy(ids, d.ids, sizeof ids);
    sim_identity(&ids[1], 102);
    from_shares(&s, d.shares, dealers, 2, idx, 2, 3, ids, 71);
    tss_banlist *bl = NULL;
    assert_int_equal(tss_banlist_new(&bl, sim_ban_persist, NULL), TSS_OK);
    tss_reshare_params base;
    sim_reshare_role(&s, 1, &base);
    base.bans = bl;
    assert_int_equal(tss_reshare_participant_count(&base), 4);
    assert_int_equal(tss_reshare_participant_of(&base), 1);
    assert_memory_equal(tss_reshare_participant_identity(&base, 4)->fp, d.ids[1].fp, 32);
    assert_null(tss_reshare_participant_identity(&base, 5));
    tss_reshare *st = NULL;
    assert_int_equal(tss_reshare_new(&st, &base, tss_rng_system()), TSS_OK);
    tss_reshare_free(st);
    tss_reshare_params q;
    tss_scalar wrong;
    tss_scalar_set_u64(&wrong, 5);
#define REFUSE(expect, mutate)                                                                     \
    do {                                                                                           \
        q = base;                                                                                  \
        mutate;                                                                                    \
        st = NULL;                                                                                 \
        assert_int_equal(tss_reshare_new(&st, &q, tss_rng_system()), expect);                      \
        assert_null(st);                                                                           \
    } while (0)
    REFUSE(TSS_ERR_ARG, q.bans = NULL);
    REFUSE(TSS_ERR_ARG, q.share = NULL);
    REFUSE(TSS_ERR_PARAMS, q.t = 1);
    REFUSE(TSS_ERR_PARAMS, q.t = 4);
    REFUSE(TSS_ERR_PARAMS, q.n = 1);
    REFUSE(TSS_ERR_PARAMS, q.n = 33);
    REFUSE(TSS_ERR_PARAMS, q.t_old = 0);
    REFUSE(TSS_ERR_PARAMS, q.t_old = 3); /* more than the dealers */
    REFUSE(TSS_ERR_PARAMS, q.n_old = 1); /* fewer old parties than dealers */
    REFUSE(TSS_ERR_PARAMS, q.dealer_count = 0);
    REFUSE(TSS_ERR_PARAMS, set_x(&q.dealers[1].x, 0));       /* x = 0 */
    REFUSE(TSS_ERR_PARAMS, q.dealers[1].x = q.dealers[0].x); /* repeated x */
    REFUSE(TSS_ERR_PARAMS, q.share = &wrong);                /* share off its P(x) */
    REFUSE(TSS_ERR_PARAMS, q.dealers[1].new_index = 1);      /* two dealers as party 1 */
    REFUSE(TSS_ERR_PARAMS, q.dealers[1].new_index = 4);      /* outside the committee */
    REFUSE(TSS_ERR_PARAMS, q.dealers[0].id = ids[2]);        /* not party 1's identity */
    REFUSE(TSS_ERR_PARAMS, q.dealers[1].id = ids[2]);        /* an identity twice */
    REFUSE(TSS_ERR_PARAMS, q.ids[2] = q.ids[0]);             /* repeated new identity */
    REFUSE(TSS_ERR_PARAMS, (q.dealer = 0, q.index = 0));     /* no role */
    REFUSE(TSS_ERR_PARAMS, (q.dealer = 0, q.share = NULL));  /* party 1 must also deal */
    REFUSE(TSS_ERR_PARAMS, q.index = 2);                     /* dealer 1 is party 1 */
    REFUSE(TSS_ERR_PARAMS, q.index = 4);
    REFUSE(TSS_ERR_PARAMS, q.dealer = 3);
    /* 32 new parties plus a dealer that leaves: 33 participants */
    REFUSE(TSS_ERR_PARAMS, (q.n = 32, sim_identities(q.ids, 32), q.dealers[0].id = q.ids[0],
                            sim_identity(&q.dealers[1].id, 200)));
    /* a banned participant, also one that only deals */
    assert_int_equal(tss_banlist_load(bl, d.ids[1].fp), TSS_OK);
    REFUSE(TSS_ERR_BANNED, (void)0);
    assert_int_equal(tss_banlist_lift(bl, d.ids[1].fp), TSS_OK);
#undef REFUSE
    /* start once; receive before start */
    assert_int_equal(tss_reshare_new(&st, &base, tss_rng_system()), TSS_OK);
    tss_msgs out = {0};
    uint8_t junk[64] = {0};
    assert_int_equal(tss_reshare_receive(st, junk, sizeof junk, &out), TSS_ERR_STATE);
    assert_int_equal(tss_reshare_start(st, &out), TSS_OK);
    assert_int_equal(out.count, 3);
    assert_int_equal(tss_reshare_start(st, &out), TSS_ERR_STATE);
    assert_null(tss_reshare_take_keyshare(st));
    tss_msgs_free(&out);
    tss_reshare_free(st);
    tss_banlist_free(bl);
    sim_dkg_free(&d);
}

/* ---------- tamper tests ----------
 * The scenario: an old 2-of-3 from the DKG; dealers old 1 (new party 1) and old 2 (leaves:
 * participant 4); new committee {1, old 3 as 2, a newcomer as 3}, t' = 2. So participant 1
 * deals and receives, 2 and 3 only receive, 4 only deals.
 * Payloads (t' = 2): R1 from a dealer: sid_i [0,32) C [32,64). R2 from a dealer to a new
 * party: sid [0,32) F [32,98) opening [98,130) PoKs [130,260), then (a new sender) the zero
 * commitment and, from the pair's Alice, base-OT message 1. R3 from a dealer: f_i(j)
 * [0,32), then (a new sender) zero part, zero nonce and, from the pair's Bob, base-OT
 * message 2 and the extension. R4: pk [0,33) P'(i) [33,66) PoK [66,131) hashes per
 * participant [131, 131 + 32*4) and the OT view. */
enum { T_F = 32, T_OPEN = 98, T_POK = 130, T_BCAST = 260, T_R4H = 131 };

typedef struct {
    sim_dkg d;
    sim_reshare s;
    sim_ban_store store[5];
    tss_banlist *bl[5];
} tamper_ctx;

static void tamper_setup(tamper_ctx *c, uint64_t seed)
{
    static sim_dkg d; /* one key for every tamper test */
    static int have;
    if (!have) {
        make_key(&d, 2, 3, 9);
        have = 1;
    }
    memset(c, 0, sizeof *c);
    c->d = d;
    tss_identity ids[TSS_MAX_PARTIES];
    memset(ids, 0, sizeof ids);
    ids[0] = d.ids[0];
    ids[1] = d.ids[2];
    sim_identity(&ids[2], 77);
    const uint16_t dealers[] = {1, 2};
    const uint8_t idx[] = {1, 0};
    from_shares(&c->s, d.shares, dealers, 2, idx, 2, 3, ids, seed);
    for (int i = 1; i <= 4; i++) {
        assert_int_equal(tss_banlist_new(&c->bl[i], sim_ban_persist, &c->store[i]), TSS_OK);
        c->s.net.bans[i] = c->bl[i];
    }
}

static void tamper_free(tamper_ctx *c)
{
    sim_reshare_free(&c->s);
    for (int i = 1; i <= 4; i++)
        tss_banlist_free(c->bl[i]);
}

/* Runs with hook; every participant that aborted did so for `reason`, naming `culprit`
 * (with `ban`), at least `min_aborts` aborted, nothing was released by an aborting call,
 * and no new share exists. Returns the number of aborts. */
static int run_expect(tamper_ctx *c, sim_tamper_fn hook, void *ctx, tss_err reason,
                      uint16_t culprit, int ban, int min_aborts)
{
    c->s.net.tamper = hook;
    c->s.net.tamper_ctx = ctx;
    tss_err err = sim_reshare_run(&c->s);
    assert_int_not_equal(err, TSS_OK);
    assert_int_equal(c->s.net.out_after_abort, 0);
    int aborts = 0;
    for (int i = 1; i <= 4; i++) {
        tss_err e = c->s.net.party_err[i];
        if (e == TSS_OK || e == TSS_ERR_STATE)
            continue; /* finished its part, or starved by an aborted peer */
        if (e != reason || c->s.net.party_abort[i].culprit != culprit ||
            c->s.net.party_abort[i].ban != ban)
            fail_msg("participant %d: %s culprit %d ban %d; want %s culprit %d ban %d", i,
                     tss_strerror(e), c->s.net.party_abort[i].culprit, c->s.net.party_abort[i].ban,
                     tss_strerror(reason), culprit, ban);
        aborts++;
    }
    if (aborts < min_aborts)
        fail_msg("%d aborts, want at least %d (first error %s)", aborts, min_aborts,
                 tss_strerror(err));
    for (int i = 1; i <= 3; i++)
        assert_null(c->s.shares[i]);
    return aborts;
}

static void flip_expect(uint16_t from, uint16_t to, uint8_t round, size_t offset, uint8_t mask,
                        tss_err reason, uint16_t culprit, int min_aborts)
{
    tamper_ctx c;
    tamper_setup(&c, 100 + round);
    sim_flip f = {.from = from, .to = to, .round = round, .offset = offset, .xor_mask = mask};
    run_expect(&c, sim_flip_hook, &f, reason, culprit, 0, min_aborts);
    assert_true(f.hits > 0);
    for (int i = 1; i <= 4; i++)
        assert_int_equal(c.store[i].count, 0); /* none of these bans */
    tamper_free(&c);
}

static void test_tamper_openings(void **state)
{
    (void)state;
    flip_expect(4, 2, 1, 40, 1, TSS_ERR_COMMITMENT, 4, 1);         /* C_i in R1 */
    flip_expect(4, 0, 2, T_OPEN + 3, 1, TSS_ERR_COMMITMENT, 4, 3); /* the opening */
}

static void test_tamper_zero_seed_opening(void **state)
{
    (void)state;
    /* R3 from new-only party 2 to 3: zero part [0,32), nonce [32,64) */
    flip_expect(2, 3, 3, 40, 1, TSS_ERR_COMMITMENT, 2, 1);
    /* R3 from party 1 (a dealer too): its zero part follows its share */
    flip_expect(1, 2, 3, 32 + 5, 1, TSS_ERR_COMMITMENT, 1, 1);
}

static void test_tamper_proofs(void **state)
{
    (void)state;
    /* z of the second coefficient proof of dealer 4 (proofs are outside the commitment) */
    flip_expect(4, 3, 2, T_POK + TSS_POK_BYTES + 40, 1, TSS_ERR_PROOF, 4, 1);
    /* R of the first proof of dealer 1 */
    flip_expect(1, 2, 2, T_POK + 10, 1, TSS_ERR_PROOF, 1, 1);
    /* the R4 proof of p'(2) */
    flip_expect(2, 1, 4, 66 + 50, 1, TSS_ERR_PROOF, 2, 1);
}

static void test_tamper_feldman(void **state)
{
    (void)state;
    flip_expect(4, 2, 3, 31, 1, TSS_ERR_SHARE, 4, 1); /* one bad share to one party */
    flip_expect(1, 3, 3, 0, 0x40, TSS_ERR_SHARE, 1, 1);
}

static void test_tamper_infinity(void **state)
{
    (void)state;
    /* a coefficient point's prefix 0x02/0x03 -> 0x00/0x01: no point (infinity has none) */
    flip_expect(4, 2, 2, T_F + 33, 0x02, TSS_ERR_POINT, 4, 1);
    flip_expect(1, 3, 2, T_F, 0x02, TSS_ERR_POINT, 1, 1);
}

/* Wrong lengths, rejected at intake before any work: a dealer's R2 one coefficient short
 * (the header consistent), an R2 from a new-only party with a dealer's length, an R4 from
 * a dealer that is not a new party, an R3 without the confidential flag. */
typedef struct {
    int mode, hits;
} shape_spec;

static int shape_hook(void *ctx, uint8_t **data, size_t *len, uint16_t from, uint16_t to,
                      uint8_t round)
{
    shape_spec *sp = ctx;
    (void)to;
    if (sp->hits > 0)
        return 0;
    size_t plen = *len - TSS_MSG_HEADER_BYTES;
    if (sp->mode == 0 && from == 4 && round == 2) {
        /* drop the second coefficient point and the second proof */
        uint8_t *p = *data + TSS_MSG_HEADER_BYTES;
        memmove(p + T_POK + TSS_POK_BYTES, p + T_POK + 2 * TSS_POK_BYTES,
                plen - T_POK - 2 * TSS_POK_BYTES);
        plen -= TSS_POK_BYTES;
        memmove(p + T_F + 33, p + T_F + 66, plen - T_F - 66);
        plen -= 33;
    } else if (sp->mode == 1 && from == 2 && to == 3 && round == 2) {
        /* a dealer's broadcast length from a party that deals nothing */
        plen += 33 * 2 + 32 + 2 * TSS_POK_BYTES;
        uint8_t *g = realloc(*data, TSS_MSG_HEADER_BYTES + plen);
        assert_non_null(g);
        *data = g;
        memset(g + *len, 0, TSS_MSG_HEADER_BYTES + plen - *len);
    } else if (sp->mode == 2 && from == 4 && round == 3) {
        (*data)[2] = 4; /* claims round 4, which only new parties send */
        (*data)[3] = 0;
    } else if (sp->mode == 3 && from == 2 && round == 3) {
        (*data)[3] = 0; /* clear TSS_MSG_CONFIDENTIAL */
    } else {
        return 0;
    }
    *len = TSS_MSG_HEADER_BYTES + plen;
    (*data)[40] = (uint8_t)(plen >> 24), (*data)[41] = (uint8_t)(plen >> 16);
    (*data)[42] = (uint8_t)(plen >> 8), (*data)[43] = (uint8_t)plen;
    sp->hits++;
    return 0;
}

static void test_tamper_lengths(void **state)
{
    (void)state;
    /* mode 2: PARTY when the recipient already collects round 3, ROUND before */
    const tss_err want[] = {TSS_ERR_LENGTH, TSS_ERR_LENGTH, TSS_ERR_PARTY, TSS_ERR_FORMAT};
    for (int mode = 0; mode < 4; mode++) {
        tamper_ctx c;
        tamper_setup(&c, 200 + (uint64_t)mode);
        shape_spec sp = {.mode = mode};
        c.s.net.tamper = shape_hook;
        c.s.net.tamper_ctx = &sp;
        tss_err err = sim_reshare_run(&c.s);
        assert_int_equal(sp.hits, 1);
        if (mode == 2 && err == TSS_ERR_ROUND)
            err = TSS_ERR_PARTY;
        if (err != want[mode] || !c.s.net.rejected)
            fail_msg("mode %d: %s (rejected %d)", mode, tss_strerror(err), c.s.net.rejected);
        tamper_free(&c);
    }
}

/* A dealer whose dealing is internally consistent (commitment, proofs and shares all
 * valid) but built on another constant term. `a0` NULL: a random one (A_i0 != lambda_i *
 * P(x_i) for everyone); else a0 with a fresh a1, only toward `only` (an equivocation that
 * passes every individual check). */
typedef struct {
    uint16_t from, only;
    tss_scalar coef[2];
    tss_point F[2];
    uint8_t Fb[66], commitment[32], nonce[32];
    uint8_t session[32];
    uint8_t proofs[2 * TSS_POK_BYTES]; /* made once: the same broadcast to every recipient */
    int have_proofs, hits;
    test_rng rng;
} forge_spec;

static void forge_init(forge_spec *f, uint16_t from, uint16_t only, const tss_scalar *a0,
                       const uint8_t session[32])
{
    uint8_t wide[64], data[34 + 66];
    memset(f, 0, sizeof *f);
    f->from = from, f->only = only;
    test_rng_init(&f->rng, 1234 + only);
    for (int k = 0; k < 2; k++) {
        test_rng_bytes(&f->rng, wide, 64);
        tss_scalar_reduce64(&f->coef[k], wide);
    }
    if (a0 != NULL)
        f->coef[0] = *a0;
    for (int k = 0; k < 2; k++) {
        assert_int_equal(tss_point_base_mul(&f->F[k], &f->coef[k]), TSS_OK);
        tss_point_serialize(f->Fb + 33 * k, &f->F[k]);
    }
    memcpy(f->session, session, 32);
    memcpy(data, session, 32);
    data[32] = (uint8_t)(from >> 8), data[33] = (uint8_t)from;
    memcpy(data + 34, f->Fb, 66);
    assert_int_equal(
        tss_commit(f->commitment, f->nonce, "reshare/F", data, sizeof data, &f->rng.rng), TSS_OK);
}

static int forge_hook(void *ctx, uint8_t **data, size_t *len, uint16_t from, uint16_t to,
                      uint8_t round)
{
    forge_spec *f = ctx;
    (void)len;
    if (from != f->from || (f->only != 0 && to != f->only))
        return 0;
    uint8_t *p = *data + TSS_MSG_HEADER_BYTES;
    if (round == 1) {
        memcpy(p + 32, f->commitment, 32);
    } else if (round == 2 && to <= 3) {
        uint8_t ctx_b[12 + 32 + 4];
        memcpy(p + T_F, f->Fb, 66);
        memcpy(p + T_OPEN, f->nonce, 32);
        for (uint32_t k = 0; k < 2 && !f->have_proofs; k++) {
            memcpy(ctx_b, "reshare/coef", 12);
            memcpy(ctx_b + 12, p, 32); /* the reshare sid, first in R2 */
            ctx_b[44] = 0, ctx_b[45] = 0, ctx_b[46] = 0, ctx_b[47] = (uint8_t)k;
            assert_int_equal(tss_pok_prove(f->proofs + TSS_POK_BYTES * k, &f->coef[k], &f->F[k],
                                           ctx_b, sizeof ctx_b, from, &f->rng.rng),
                             TSS_OK);
        }
        f->have_proofs = 1;
        memcpy(p + T_POK, f->proofs, sizeof f->proofs);
    } else if (round == 3) {
        tss_scalar x, v;
        tss_scalar_set_u64(&x, to);
        tss_scalar_mul(&v, &f->coef[1], &x);
        tss_scalar_add(&v, &v, &f->coef[0]);
        tss_scalar_serialize(p, &v);
    } else {
        return 0;
    }
    f->hits++;
    return 0;
}

/* lambda_2 * p(2) over the dealers {1, 2}: what dealer old-2 (participant 4) must deal. */
static void honest_a0(const tamper_ctx *c, tss_scalar *out)
{
    tss_scalar lambda, one, two, den;
    tss_scalar_set_u64(&one, 1);
    tss_scalar_set_u64(&two, 2);
    tss_scalar_sub(&den, &one, &two); /* x_1 - x_2 */
    tss_scalar_inverse(&den, &den);
    tss_scalar_mul(&lambda, &one, &den); /* x_1 / (x_1 - x_2) */
    tss_scalar_mul(out, &lambda, &c->d.shares[2]->secret_share);
}

static void test_tamper_dealer_public_share(void **state)
{
    (void)state;
    tamper_ctx c;
    tamper_setup(&c, 301);
    forge_spec f;
    forge_init(&f, 4, 0, NULL, c.s.net.session_id);
    /* A_40 != lambda_4 * P(x_4): every new party names dealer 4 */
    assert_int_equal(run_expect(&c, forge_hook, &f, TSS_ERR_MISMATCH, 4, 0, 3), 3);
    assert_true(f.hits > 0);
    tamper_free(&c);

    /* control: the same forgery with the honest constant term completes */
    tamper_setup(&c, 302);
    tss_scalar a0;
    honest_a0(&c, &a0);
    forge_init(&f, 4, 0, &a0, c.s.net.session_id);
    c.s.net.tamper = forge_hook;
    c.s.net.tamper_ctx = &f;
    tss_err err = sim_reshare_run(&c.s);
    if (err != TSS_OK)
        fail_msg("control: participant %d %s culprit %d", c.s.net.failed_party, tss_strerror(err),
                 c.s.net.abort.culprit);
    assert_true(f.hits > 0);
    assert_true(tss_point_eq(&c.s.shares[1]->pk, &c.d.shares[1]->pk));
    tss_scalar_clear(&a0);
    tamper_free(&c);
}

/* The public input of another key (pk changed): every dealing passes its own check
 * against its P(x), but the constant terms do not sum to pk. Everyone aborts, naming
 * nobody (the input, not a participant, is wrong). */
static void test_tamper_pk_changed(void **state)
{
    (void)state;
    tamper_ctx c;
    tamper_setup(&c, 303);
    c.s.params.pk = c.d.shares[1]->pub_shares[2];
    assert_int_equal(
        tss_reshare_check_input(c.s.params.dealers, c.s.params.dealer_count, &c.s.params.pk),
        TSS_ERR_MISMATCH);
    assert_int_equal(run_expect(&c, NULL, NULL, TSS_ERR_MISMATCH, 0, 0, 3), 3);
    tamper_free(&c);
    /* a party given another pk than the others derives another sid: session mismatch */
    tamper_setup(&c, 304);
    tss_reshare_params other;
    sim_reshare_role(&c.s, 3, &other);
    other.pk = c.d.shares[1]->pub_shares[2];
    c.s.party_params[3] = &other;
    run_expect(&c, NULL, NULL, TSS_ERR_SESSION, 0, 0, 1);
    tamper_free(&c);
}

/* Equivocation caught in the last round: dealer 4 deals a different but valid polynomial
 * (the right constant term) to party 3 only. Every check of each recipient passes; R4's
 * broadcast hashes disagree about participant 4, a third party for both reporters, so
 * nobody can be named. A peer that reports a different pk in R4 is named. */
static void test_tamper_equivocation(void **state)
{
    (void)state;
    tamper_ctx c;
    tamper_setup(&c, 305);
    tss_scalar a0;
    honest_a0(&c, &a0);
    forge_spec f;
    forge_init(&f, 4, 3, &a0, c.s.net.session_id);
    assert_int_equal(run_expect(&c, forge_hook, &f, TSS_ERR_MISMATCH, 0, 0, 2) >= 2, 1);
    assert_int_equal(f.hits, 3);
    tss_scalar_clear(&a0);
    tamper_free(&c);

    flip_expect(2, 1, 4, 7, 1, TSS_ERR_MISMATCH, 2, 1);                  /* pk in R4 */
    flip_expect(3, 1, 4, 33 + 9, 1, TSS_ERR_MISMATCH, 3, 1);             /* P'(3) in R4 */
    flip_expect(2, 3, 4, T_R4H + 32 * 1 + 3, 1, TSS_ERR_MISMATCH, 2, 1); /* its own hash */
    flip_expect(2, 3, 4, T_R4H + 32 * 3 + 3, 1, TSS_ERR_MISMATCH, 0, 1); /* about 4: nobody */
    flip_expect(2, 3, 4, T_R4H + 32 * 4 + 3, 1, TSS_ERR_MISMATCH, 2, 1); /* the OT view */
}

/* An equivocated sid_i makes the sids differ: session mismatch, nobody named. */
static void test_tamper_sid(void **state)
{
    (void)state;
    flip_expect(4, 2, 1, 5, 1, TSS_ERR_SESSION, 0, 1);
    flip_expect(2, 4, 1, 5, 1, TSS_ERR_SESSION, 0, 1); /* a dealer that leaves checks it too */
}

/* Base OT of the new pair {2, 3} (Alice 2: 2 + 3 is odd): an invalid point in message 1 is
 * a plain abort naming 2; a tampered bootstrap extension from Bob 3 fails Alice's
 * OT-extension check: abort, and 3 is banned (persisted and listed) by party 2. */
static void test_tamper_base_ot(void **state)
{
    (void)state;
    /* R2 2 -> 3: sid [0,32) zero commitment [32,64) base-OT msg1 [64, ...): tag 16 bytes,
     * then (Q_0, Q_1) per instance */
    flip_expect(2, 3, 2, 64 + TSS_SID_TAG_BYTES, 0x04, TSS_ERR_POINT, 2, 1);
    flip_expect(2, 3, 2, 64 + 3, 1, TSS_ERR_SESSION, 0, 1); /* its sid tag */

    tamper_ctx c;
    tamper_setup(&c, 306);
    /* R3 3 -> 2: zero part and nonce [0,64), msg2 [64,113), the extension after it */
    sim_flip f = {.from = 3,
                  .to = 2,
                  .round = 3,
                  .offset = 64 + TSS_BASEOT_MSG2_BYTES + TSS_SID_TAG_BYTES + 200,
                  .xor_mask = 1};
    run_expect(&c, sim_flip_hook, &f, TSS_ERR_OT_CHECK, 3, 1, 1);
    assert_int_equal(c.s.net.party_err[2], TSS_ERR_OT_CHECK);
    assert_int_equal(c.store[2].count, 1);
    assert_memory_equal(c.store[2].fps[0], c.s.params.ids[2].fp, 32);
    assert_int_equal(c.store[2].reasons[0], TSS_ERR_OT_CHECK);
    assert_int_equal(tss_banlist_contains(c.bl[2], c.s.params.ids[2].fp), 1);
    for (int i = 1; i <= 4; i++)
        if (i != 2)
            assert_int_equal(c.store[i].count, 0);
    tamper_free(&c);
}

/* A participant banned while the reshare runs: the state aborts at its next step. */
typedef struct {
    tss_banlist *bl;
    const uint8_t *fp;
} ban_spec;

static int ban_hook(void *ctx, uint8_t **data, size_t *len, uint16_t from, uint16_t to,
                    uint8_t round)
{
    ban_spec *b = ctx;
    (void)data, (void)len, (void)from;
    if (round == 2 && to == 1)
        assert_int_equal(tss_banlist_load(b->bl, b->fp), TSS_OK);
    return 0;
}

static void test_banned_during_run(void **state)
{
    (void)state;
    tamper_ctx c;
    tamper_setup(&c, 307);
    ban_spec b = {c.bl[1], c.d.ids[1].fp}; /* participant 4, the leaving dealer */
    c.s.net.tamper = ban_hook;
    c.s.net.tamper_ctx = &b;
    assert_int_not_equal(sim_reshare_run(&c.s), TSS_OK);
    assert_int_equal(c.s.net.party_err[1], TSS_ERR_BANNED);
    assert_int_equal(c.s.net.party_abort[1].culprit, 4);
    assert_int_equal(c.s.net.party_abort[1].ban, 0);
    assert_int_equal(c.s.net.out_after_abort, 0);
    tamper_free(&c);
}

/* A reshare that stops half-way (here: a leaving dealer's share for party 2 never arrives,
 * as when the session is killed) produces no new share anywhere it matters, and the old
 * epoch still signs. */
static int drop_hook(void *ctx, uint8_t **data, size_t *len, uint16_t from, uint16_t to,
                     uint8_t round)
{
    (void)ctx, (void)data, (void)len;
    return from == 4 && to == 2 && round == 3;
}

static void test_killed_midway(void **state)
{
    (void)state;
    tamper_ctx c;
    tamper_setup(&c, 308);
    c.s.net.tamper = drop_hook;
    assert_int_equal(sim_reshare_run(&c.s), TSS_ERR_STATE);
    for (int i = 1; i <= 3; i++) /* the new parties wait (2 for R3, 1 and 3 for R4) */
        assert_int_equal(c.s.status[i], TSS_RUNNING);
    assert_int_equal(c.s.status[4], TSS_DONE); /* the leaving dealer sent all it had */
    for (int i = 1; i <= 3; i++)
        assert_null(c.s.shares[i]);
    assert_int_equal(sign_all_sets(c.d.shares, 2, 3, &c.d.shares[1]->pk, 9), 3);
    tamper_free(&c);
}

/* Any single bit flipped in any message of any round: rejected or aborted, never a share
 * that differs from the others'. */
static int random_flip_hook(void *ctx, uint8_t **data, size_t *len, uint16_t from, uint16_t to,
                            uint8_t round)
{
    sim_flip *f = ctx;
    (void)to;
    if (from == f->from && round == f->round && f->hits == 0) {
        size_t bit = f->offset % (*len * 8);
        (*data)[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        f->hits++;
    }
    return 0;
}

static void test_bit_flips(void **state)
{
    (void)state;
    test_rng r;
    test_rng_init(&r, 8);
    for (int trial = 0; trial < 24; trial++) {
        uint8_t rb[8];
        test_rng_bytes(&r, rb, sizeof rb);
        uint16_t from = (uint16_t)(1 + rb[0] % 4);
        uint8_t round = (uint8_t)(1 + trial % (from == 4 ? 3 : 4));
        sim_flip f = {.from = from, .round = round};
        memcpy(&f.offset, rb + 1, sizeof(uint32_t));
        tamper_ctx c;
        tamper_setup(&c, 400 + (uint64_t)trial);
        c.s.net.tamper = random_flip_hook;
        c.s.net.tamper_ctx = &f;
        tss_err err = sim_reshare_run(&c.s);
        assert_int_equal(f.hits, 1);
        assert_int_not_equal(err, TSS_OK);
        assert_int_equal(c.s.net.out_after_abort, 0);
        tamper_free(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_refresh),
        cmocka_unit_test(test_reshare_3of5_and_back),
        cmocka_unit_test(test_replace_lost_node),
        cmocka_unit_test(test_import_known_key),
        cmocka_unit_test(test_arbitrary_x),
        cmocka_unit_test(test_mixed_epochs_refused),
        cmocka_unit_test(test_any_delivery_order),
        cmocka_unit_test(test_tamper_openings),
        cmocka_unit_test(test_tamper_zero_seed_opening),
        cmocka_unit_test(test_tamper_proofs),
        cmocka_unit_test(test_tamper_feldman),
        cmocka_unit_test(test_tamper_infinity),
        cmocka_unit_test(test_tamper_lengths),
        cmocka_unit_test(test_tamper_dealer_public_share),
        cmocka_unit_test(test_tamper_pk_changed),
        cmocka_unit_test(test_tamper_equivocation),
        cmocka_unit_test(test_tamper_sid),
        cmocka_unit_test(test_tamper_base_ot),
        cmocka_unit_test(test_banned_during_run),
        cmocka_unit_test(test_killed_midway),
        cmocka_unit_test(test_bit_flips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
