/* tests/tss/test_ban.c — the ban list (tss/ban.h) and the bans the signing states enforce
 * with it: list semantics, refusal at tss_sign_new and at every step, the persist
 * callback (and its failure), and the review's selective-failure attack on Δ run as 256
 * concurrent sessions on two threads (plus its VOLE counterpart on β). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_basics),
        cmocka_unit_test(test_sign_new_refuses_banned),
        cmocka_unit_test(test_live_states_abort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
