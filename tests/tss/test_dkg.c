/* tests/tss/test_dkg.c — distributed key generation: correctness for every (t, n) up to 5
 * and samples up to 32, one tamper test per mandatory check of DKLS23.md §2 (with the
 * culprit it must name), intake rejections, bit flips, and the key-share encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_rng.h"
#include "tss/dkg.h"
#include "tss/lagrange.h"
#include "tss/pok.h"
#include "tss/secmem.h"
#include "tss/transcript.h"
#include "tss_sim.h"

/* ---------- helpers ---------- */

/* One ban list for the states these tests build by hand (nobody is ever banned here). */
static tss_banlist *test_bans(void)
{
    static tss_banlist *bl;
    if (bl == NULL)
        assert_int_equal(tss_banlist_new(&bl, sim_ban_persist, NULL), TSS_OK);
    return bl;
}

static void setup_sim(sim_dkg *s, uint8_t t, uint8_t n, test_rng *rngs, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->t = t;
    s->n = n;
    for (int i = 1; i <= n; i++) {
        test_rng_init(&rngs[i], seed * 1000 + (uint64_t)i);
        s->net.rng[i] = &rngs[i].rng;
    }
    memset(s->net.session_id, (int)seed, 32);
}

/* All parties agree; every t-subset interpolates to pk; the secret interpolates to sk. */
static void check_key(sim_dkg *s)
{
    uint8_t t = s->t, n = s->n;
    uint8_t fp0[32], fp[32];
    tss_keyshare_fingerprint(fp0, s->shares[1]);
    for (int i = 1; i <= n; i++) {
        tss_keyshare *ks = s->shares[i];
        assert_non_null(ks);
        assert_int_equal(ks->index, i);
        assert_true(tss_point_eq(&ks->pk, &s->shares[1]->pk));
        assert_memory_equal(ks->chain_code, s->shares[1]->chain_code, 32);
        tss_keyshare_fingerprint(fp, ks);
        assert_memory_equal(fp, fp0, 32);
        /* the pinned identities, epoch 0, the OT setups from this DKG */
        assert_memory_equal(ks->ids, s->ids, n * sizeof s->ids[0]);
        assert_int_equal(ks->epoch, 0);
        assert_memory_equal(ks->setup_sid, ks->dkg_sid, 32);
        for (int j = 1; j <= n; j++) /* zero seeds are pairwise symmetric */
            if (j != i)
                assert_memory_equal(ks->peer[j - 1].zero_seed, s->shares[j]->peer[i - 1].zero_seed,
                                    32);
    }
    /* every t-subset (n <= 5) or a sliding window of them (larger n) */
    int subsets = 0;
    for (uint32_t mask = 0; mask < (1u << (n < 12 ? n : 12)); mask++) {
        if (__builtin_popcount(mask) != t)
            continue;
        uint16_t set[TSS_MAX_PARTIES];
        size_t c = 0;
        for (int j = 0; j < n && j < 12; j++)
            if (mask & (1u << j))
                set[c++] = (uint16_t)(j + 1);
        tss_point terms[TSS_MAX_PARTIES], sum, skG;
        tss_scalar sk, term, lambda;
        tss_scalar_set_u64(&sk, 0);
        for (size_t k = 0; k < c; k++) {
            assert_int_equal(tss_lagrange_at_zero(&lambda, set, c, set[k]), TSS_OK);
            assert_int_equal(
                tss_point_mul(&terms[k], &s->shares[1]->pub_shares[set[k] - 1], &lambda), TSS_OK);
            tss_scalar_mul(&term, &lambda, &s->shares[set[k]]->secret_share);
            tss_scalar_add(&sk, &sk, &term);
        }
        assert_int_equal(tss_point_sum(&sum, terms, c), TSS_OK);
        assert_true(tss_point_eq(&sum, &s->shares[1]->pk));
        assert_int_equal(tss_point_base_mul(&skG, &sk), TSS_OK); /* test only: sk*G == pk */
        assert_true(tss_point_eq(&skG, &s->shares[1]->pk));
        subsets++;
    }
    if (n >= t && t <= 12 && n <= 12)
        assert_true(subsets > 0);
    if (t > 12) { /* a contiguous window above 12 */
        uint16_t set[TSS_MAX_PARTIES];
        for (int k = 0; k < t; k++)
            set[k] = (uint16_t)(n - t + 1 + k);
        tss_point terms[TSS_MAX_PARTIES], sum;
        for (int k = 0; k < t; k++) {
            tss_scalar lambda;
            assert_int_equal(tss_lagrange_at_zero(&lambda, set, t, set[k]), TSS_OK);
            assert_int_equal(
                tss_point_mul(&terms[k], &s->shares[1]->pub_shares[set[k] - 1], &lambda), TSS_OK);
        }
        assert_int_equal(tss_point_sum(&sum, terms, t), TSS_OK);
        assert_true(tss_point_eq(&sum, &s->shares[1]->pk));
    }
}

static void run_ok(uint8_t t, uint8_t n, uint64_t seed, int shuffle)
{
    sim_dkg s;
    test_rng rngs[TSS_MAX_PARTIES + 1];
    setup_sim(&s, t, n, rngs, seed);
    s.net.shuffle = shuffle;
    s.net.shuffle_seed = seed;
    tss_err err = sim_dkg_run(&s);
    if (err != TSS_OK)
        fail_msg("t=%d n=%d: party %d failed: %s (culprit %d)", t, n, s.net.failed_party,
                 tss_strerror(err), s.net.abort.culprit);
    check_key(&s);
    sim_dkg_free(&s);
}

/* ---------- correctness ---------- */

static void test_all_small(void **state)
{
    (void)state;
    for (uint8_t n = 2; n <= 5; n++)
        for (uint8_t t = 2; t <= n; t++)
            run_ok(t, n, 100u + 10u * n + t, 0);
}

static void test_large_sample(void **state)
{
    (void)state;
    run_ok(7, 15, 7, 0);
#if !defined(__SANITIZE_ADDRESS__)
    /* 992 ordered pairs of base OTs: about a minute; the sanitizer build skips it */
    run_ok(32, 32, 9, 0);
#endif
}

static void test_any_delivery_order(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 10; seed++)
        run_ok(3, 5, seed, 1);
}

static void test_params(void **state)
{
    (void)state;
    tss_dkg *st = NULL;
    tss_dkg_params p = {.t = 2, .n = 3, .index = 1, .bans = test_bans()};
    sim_identities(p.ids, 3);
    const uint8_t bad[][3] = {{1, 3, 1}, {4, 3, 1}, {2, 1, 1}, {2, 33, 1},
                              {2, 3, 0}, {2, 3, 4}, {0, 0, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p.t = bad[i][0], p.n = bad[i][1], p.index = bad[i][2];
        assert_int_equal(tss_dkg_new(&st, &p, tss_rng_system()), TSS_ERR_PARAMS);
    }
    p.t = 2, p.n = 3, p.index = 1;
    assert_int_equal(tss_dkg_new(&st, &p, NULL), TSS_ERR_ARG);
    /* the ban list is required */
    p.bans = NULL;
    assert_int_equal(tss_dkg_new(&st, &p, tss_rng_system()), TSS_ERR_ARG);
    p.bans = test_bans();
    /* identities: every party id 1..64 bytes and distinct, every fingerprint non-zero and
     * distinct */
    tss_dkg_params q = p;
    q.ids[2].party_id[0] = 0;
    assert_int_equal(tss_dkg_new(&st, &q, tss_rng_system()), TSS_ERR_PARAMS);
    q = p;
    memset(q.ids[1].party_id, 'a', sizeof q.ids[1].party_id); /* no NUL within 65 bytes */
    assert_int_equal(tss_dkg_new(&st, &q, tss_rng_system()), TSS_ERR_PARAMS);
    q = p;
    memcpy(q.ids[1].fp, q.ids[0].fp, 32);
    assert_int_equal(tss_dkg_new(&st, &q, tss_rng_system()), TSS_ERR_PARAMS);
    q = p;
    memcpy(q.ids[1].party_id, q.ids[0].party_id, sizeof q.ids[0].party_id);
    assert_int_equal(tss_dkg_new(&st, &q, tss_rng_system()), TSS_ERR_PARAMS);
    q = p;
    memset(q.ids[0].fp, 0, 32);
    assert_int_equal(tss_dkg_new(&st, &q, tss_rng_system()), TSS_ERR_PARAMS);
    /* a banned peer is refused; my own fingerprint on the list does not matter */
    tss_banlist *bl = NULL;
    assert_int_equal(tss_banlist_new(&bl, sim_ban_persist, NULL), TSS_OK);
    q = p;
    q.bans = bl;
    assert_int_equal(tss_banlist_load(bl, p.ids[0].fp), TSS_OK);
    assert_int_equal(tss_dkg_new(&st, &q, tss_rng_system()), TSS_OK);
    tss_dkg_free(st);
    assert_int_equal(tss_banlist_load(bl, p.ids[2].fp), TSS_OK);
    assert_int_equal(tss_dkg_new(&st, &q, tss_rng_system()), TSS_ERR_BANNED);
    tss_banlist_free(bl);
    assert_int_equal(tss_dkg_new(&st, &p, tss_rng_system()), TSS_OK);
    tss_msgs out = {0};
    assert_int_equal(tss_dkg_start(st, &out), TSS_OK);
    assert_int_equal(out.count, 2);
    assert_int_equal(tss_dkg_start(st, &out), TSS_ERR_STATE); /* only once */
    tss_msgs_free(&out);
    tss_dkg_free(st);
}

/* ---------- intake: every malformed header or length is rejected, state unchanged ---------- */

static void test_intake_rejections(void **state)
{
    (void)state;
    tss_dkg *st[4] = {0};
    tss_msgs out[4] = {{0}};
    test_rng rng[4];
    for (int i = 1; i <= 3; i++) {
        tss_dkg_params p = {.t = 2, .n = 3, .index = (uint8_t)i, .bans = test_bans()};
        sim_identities(p.ids, 3);
        memset(p.session_id, 0x11, 32);
        test_rng_init(&rng[i], (uint64_t)i);
        assert_int_equal(tss_dkg_new(&st[i], &p, &rng[i].rng), TSS_OK);
        assert_int_equal(tss_dkg_start(st[i], &out[i]), TSS_OK);
    }
    /* message 2 -> 1 of round 1 */
    const tss_msg *m = NULL;
    for (size_t k = 0; k < out[2].count; k++)
        if (out[2].items[k].to == 1)
            m = &out[2].items[k];
    assert_non_null(m);
    uint8_t buf[512];
    size_t len = m->len;
    tss_msgs dummy = {0};
#define TRY(expect, mutate)                                                                        \
    do {                                                                                           \
        memcpy(buf, m->data, m->len);                                                              \
        len = m->len;                                                                              \
        mutate;                                                                                    \
        assert_int_equal(tss_dkg_receive(st[1], buf, len, &dummy), expect);                        \
        assert_int_equal(tss_dkg_status(st[1]), TSS_RUNNING);                                      \
    } while (0)
    TRY(TSS_ERR_LENGTH, len -= 1);                      /* truncated */
    TRY(TSS_ERR_LENGTH, len += 1);                      /* extended */
    TRY(TSS_ERR_LENGTH, len = 10);                      /* no header */
    TRY(TSS_ERR_LENGTH, (buf[43] += 1, len += 1));      /* consistent but long */
    TRY(TSS_ERR_FORMAT, buf[1] = 2);                    /* version */
    TRY(TSS_ERR_FORMAT, buf[0] = TSS_PROTO_SIGN);       /* protocol */
    TRY(TSS_ERR_FORMAT, buf[3] = TSS_MSG_CONFIDENTIAL); /* flag for round 1 */
    TRY(TSS_ERR_FORMAT, buf[3] = 0x80);                 /* unknown flag */
    TRY(TSS_ERR_SESSION, buf[8] ^= 1);                  /* other session */
    TRY(TSS_ERR_PARTY, buf[7] = 2);                     /* addressed to 2 */
    TRY(TSS_ERR_PARTY, buf[5] = 1);                     /* from myself */
    TRY(TSS_ERR_PARTY, buf[5] = 4);                     /* from outside */
    TRY(TSS_ERR_PARTY, buf[5] = 0);                     /* from party 0 */
    TRY(TSS_ERR_ROUND, buf[2] = 3);                     /* two rounds ahead */
    TRY(TSS_ERR_ROUND, buf[2] = 5);                     /* after the DKG's last round */
    TRY(TSS_ERR_ROUND, buf[2] = 0);                     /* round 0 */
    /* accept once, then the replay is a duplicate */
    assert_int_equal(tss_dkg_receive(st[1], m->data, m->len, &dummy), TSS_OK);
    TRY(TSS_ERR_ROUND, (void)0);
#undef TRY
    assert_int_equal(dummy.count, 0); /* still waiting for party 3 */
    tss_msgs_free(&dummy);
    for (int i = 1; i <= 3; i++) {
        tss_msgs_free(&out[i]);
        tss_dkg_free(st[i]);
    }
}

/* ---------- tamper tests: each mandatory check fires and names the culprit ---------- */

static void expect_abort(uint8_t t, uint8_t n, sim_flip *f, tss_err reason, uint16_t culprit)
{
    sim_dkg s;
    test_rng rngs[TSS_MAX_PARTIES + 1];
    setup_sim(&s, t, n, rngs, 42);
    s.net.tamper = sim_flip_hook;
    s.net.tamper_ctx = f;
    tss_err err = sim_dkg_run(&s);
    assert_true(f->hits > 0);
    if (err != reason || s.net.rejected || s.net.abort.culprit != culprit)
        fail_msg("round %d offset %zu: got %s (rejected %d, culprit %d), want %s culprit %d",
                 f->round, f->offset, tss_strerror(err), s.net.rejected, s.net.abort.culprit,
                 tss_strerror(reason), culprit);
    assert_int_equal(s.net.abort.ban, 0);
    assert_int_equal(s.net.out_after_abort, 0); /* an aborting call releases nothing */
    sim_dkg_free(&s);
}

static void test_check2_openings(void **state)
{
    (void)state;
    const uint8_t t = 2, n = 3;
    sim_flip f1 = {.from = 2, .to = 1, .round = 2, .offset = 32 + 33 * t, .xor_mask = 1}; /* ρ */
    expect_abort(t, n, &f1, TSS_ERR_COMMITMENT, 2);
    sim_flip f2 = {.from = 2, .to = 1, .round = 1, .offset = 40, .xor_mask = 4}; /* C_i */
    expect_abort(t, n, &f2, TSS_ERR_COMMITMENT, 2);
    sim_flip f3 = {.from = 3, .to = 1, .round = 3, .offset = 64, .xor_mask = 1}; /* cc nonce */
    expect_abort(t, n, &f3, TSS_ERR_COMMITMENT, 3);
    sim_flip f4 = {.from = 3, .to = 2, .round = 3, .offset = 96, .xor_mask = 1}; /* zero part */
    expect_abort(t, n, &f4, TSS_ERR_COMMITMENT, 3);
    sim_flip f5 = {.from = 1, .to = 3, .round = 3, .offset = 130, .xor_mask = 1}; /* zero nonce */
    expect_abort(t, n, &f5, TSS_ERR_COMMITMENT, 1);
}

static void test_check3_proofs(void **state)
{
    (void)state;
    const uint8_t t = 3, n = 4;
    /* z of the second coefficient proof (the commitment does not cover proofs) */
    sim_flip f = {.from = 4, .to = 2, .round = 2, .xor_mask = 1};
    f.offset = 32 + 33 * t + 32 + TSS_POK_BYTES * 1 + 40;
    expect_abort(t, n, &f, TSS_ERR_PROOF, 4);
    /* the R4 proof of p(i) */
    sim_flip g = {.from = 2, .to = 3, .round = 4, .offset = 33 + 32 + 33 + 50, .xor_mask = 1};
    expect_abort(t, n, &g, TSS_ERR_PROOF, 2);
}

static void test_check4_feldman(void **state)
{
    (void)state;
    /* one bad share sent to one party: only that party aborts, naming the sender */
    sim_flip f = {.from = 2, .to = 3, .round = 3, .offset = 31, .xor_mask = 1};
    expect_abort(2, 3, &f, TSS_ERR_SHARE, 2);
    sim_flip g = {.from = 5, .to = 1, .round = 3, .offset = 0, .xor_mask = 0x80};
    expect_abort(3, 5, &g, TSS_ERR_SHARE, 5);
}

static void test_check5_no_infinity(void **state)
{
    (void)state;
    /* a coefficient point replaced by an infinity-style encoding (prefix 0x00) */
    sim_flip f = {.from = 3, .to = 1, .round = 2, .offset = 32 + 33, .xor_mask = 0x02};
    expect_abort(2, 3, &f, TSS_ERR_POINT, 3);
}

/* A sender that equivocates its broadcast to one recipient, consistently (the recipient's
 * openings still verify): the chain-code commitment in R2 is replaced for one recipient by a
 * valid commitment to another value, opened in R3. Only the R4 cross-check catches it. */
typedef struct {
    uint16_t from, to;
    uint8_t session[32];
    uint8_t cc[32], nonce[32], commitment[32];
    int hits;
} equivocate_spec;

static int equivocate_hook(void *ctx, uint8_t **data, size_t *len, uint16_t from, uint16_t to,
                           uint8_t round)
{
    equivocate_spec *e = ctx;
    (void)len;
    if (from != e->from || to != e->to)
        return 0;
    uint8_t *p = *data + TSS_MSG_HEADER_BYTES;
    const uint8_t t = 2;
    if (round == 2) {
        memcpy(p + 32 + 33 * t + 32 + TSS_POK_BYTES * t, e->commitment, 32);
        e->hits++;
    } else if (round == 3) {
        memcpy(p + 32, e->cc, 32);
        memcpy(p + 64, e->nonce, 32);
        e->hits++;
    }
    return 0;
}

static void test_check6_equivocation(void **state)
{
    (void)state;
    sim_dkg s;
    test_rng rngs[TSS_MAX_PARTIES + 1], r;
    setup_sim(&s, 2, 3, rngs, 43);
    equivocate_spec e = {.from = 2, .to = 3};
    uint8_t data[68];
    test_rng_init(&r, 99);
    test_rng_bytes(&r, e.cc, 32);
    memcpy(data, s.net.session_id, 32);
    data[32] = 0, data[33] = 0, data[34] = 0, data[35] = 2;
    memcpy(data + 36, e.cc, 32);
    assert_int_equal(tss_commit(e.commitment, e.nonce, "dkg/chaincode", data, 68, &r.rng), TSS_OK);
    s.net.tamper = equivocate_hook;
    s.net.tamper_ctx = &e;
    tss_err err = sim_dkg_run(&s);
    assert_int_equal(e.hits, 2);
    assert_int_equal(err, TSS_ERR_MISMATCH);
    /* the honest parties abort; each names the equivocating sender or nobody, never a
     * bystander (a third-party disagreement cannot be attributed) */
    for (int i = 1; i <= 3; i += 2) {
        assert_int_equal(s.net.party_err[i], TSS_ERR_MISMATCH);
        assert_true(s.net.party_abort[i].culprit == 2 || s.net.party_abort[i].culprit == 0);
    }
    sim_dkg_free(&s);

    /* a peer that reports another pk or chain code in R4 */
    sim_flip f = {.from = 1, .to = 2, .round = 4, .offset = 10, .xor_mask = 1};
    expect_abort(2, 3, &f, TSS_ERR_MISMATCH, 1);
    sim_flip g = {.from = 1, .to = 2, .round = 4, .offset = 40, .xor_mask = 1};
    expect_abort(2, 3, &g, TSS_ERR_MISMATCH, 1);
}

/* A sender that equivocates sid_i in R1 makes the DKG sids differ: everybody who notices
 * aborts with a session mismatch and blames nobody (not an honest prover). */
static void test_sid_equivocation(void **state)
{
    (void)state;
    sim_flip f = {.from = 2, .to = 3, .round = 1, .offset = 5, .xor_mask = 1};
    sim_dkg s;
    test_rng rngs[TSS_MAX_PARTIES + 1];
    setup_sim(&s, 2, 4, rngs, 45);
    s.net.tamper = sim_flip_hook;
    s.net.tamper_ctx = &f;
    assert_int_not_equal(sim_dkg_run(&s), TSS_OK);
    int aborted = 0;
    for (int i = 1; i <= 4; i++) {
        if (s.net.party_err[i] == TSS_OK || s.net.party_err[i] == TSS_ERR_STATE)
            continue; /* finished or starved, not blaming anyone */
        assert_int_equal(s.net.party_err[i], TSS_ERR_SESSION);
        assert_int_equal(s.net.party_abort[i].culprit, 0);
        aborted++;
    }
    assert_true(aborted > 0);
    sim_dkg_free(&s);
}

/* The ordered identity list is bound into the DKG sid: a party given another list (here
 * another fingerprint for party 2) derives another sid, and everyone aborts without
 * blame before any proof or OT work. */
static void test_identities_bound(void **state)
{
    (void)state;
    sim_dkg s;
    test_rng rngs[TSS_MAX_PARTIES + 1];
    setup_sim(&s, 2, 3, rngs, 46);
    tss_identity other[TSS_MAX_PARTIES];
    sim_identities(other, 3);
    other[1].fp[31] ^= 1;
    s.party_ids[3] = other;
    assert_int_not_equal(sim_dkg_run(&s), TSS_OK);
    int aborted = 0;
    for (int i = 1; i <= 3; i++) {
        if (s.net.party_err[i] == TSS_ERR_STATE)
            continue; /* starved */
        assert_int_equal(s.net.party_err[i], TSS_ERR_SESSION);
        assert_int_equal(s.net.party_abort[i].culprit, 0);
        aborted++;
    }
    assert_int_equal(aborted, 3);
    sim_dkg_free(&s);
}

/* A peer banned while a DKG runs: the state aborts at its next step, names the peer, and
 * releases nothing. */
typedef struct {
    tss_banlist *bl;
    const uint8_t *fp;
} ban_on_r2;

static int ban_hook(void *ctx, uint8_t **data, size_t *len, uint16_t from, uint16_t to,
                    uint8_t round)
{
    ban_on_r2 *b = ctx;
    (void)data, (void)len, (void)from;
    if (round == 2 && to == 1)
        assert_int_equal(tss_banlist_load(b->bl, b->fp), TSS_OK);
    return 0;
}

static void test_banned_peer_aborts(void **state)
{
    (void)state;
    sim_dkg s;
    test_rng rngs[TSS_MAX_PARTIES + 1];
    setup_sim(&s, 2, 3, rngs, 47);
    sim_identities(s.ids, 3);
    ban_on_r2 b = {NULL, s.ids[1].fp};
    assert_int_equal(tss_banlist_new(&b.bl, sim_ban_persist, NULL), TSS_OK);
    s.net.bans[1] = b.bl;
    s.net.tamper = ban_hook;
    s.net.tamper_ctx = &b;
    assert_int_not_equal(sim_dkg_run(&s), TSS_OK);
    assert_int_equal(s.net.party_err[1], TSS_ERR_BANNED);
    assert_int_equal(s.net.party_abort[1].culprit, 2);
    assert_int_equal(s.net.party_abort[1].ban, 0);
    assert_int_equal(s.net.out_after_abort, 0);
    tss_banlist_free(b.bl);
    sim_dkg_free(&s);
}

/* A peer lying in R4 about what a third party broadcast cannot get that party blamed. */
static void test_lying_reporter(void **state)
{
    (void)state;
    const size_t r4_fixed = 33 + 32 + 33 + TSS_POK_BYTES;
    sim_flip f = {
        .from = 3, .to = 1, .round = 4, .offset = r4_fixed + 32 * (2 - 1) + 7, .xor_mask = 1};
    sim_dkg s;
    test_rng rngs[TSS_MAX_PARTIES + 1];
    setup_sim(&s, 2, 4, rngs, 46);
    s.net.tamper = sim_flip_hook;
    s.net.tamper_ctx = &f;
    assert_int_equal(sim_dkg_run(&s), TSS_ERR_MISMATCH);
    assert_int_equal(s.net.party_err[1], TSS_ERR_MISMATCH);
    assert_int_equal(s.net.party_abort[1].culprit, 0); /* not honest party 2 */
    sim_dkg_free(&s);
}

/* Check 1 at intake: an R2 with t-1 coefficients and proofs (a consistent, shorter
 * message) is rejected by length; an R3 without the confidential flag by format. */
typedef struct {
    int mode, hits;
} shape_spec;

static int shape_hook(void *ctx, uint8_t **data, size_t *len, uint16_t from, uint16_t to,
                      uint8_t round)
{
    shape_spec *sp = ctx;
    (void)to;
    if (from != 2 || sp->hits > 0)
        return 0;
    if (sp->mode == 0 && round == 2) {
        /* t = 2: drop the second coefficient point and the second proof, keep the rest */
        const size_t pt2 = 32 + 33, pf2 = 32 + 66 + 32 + TSS_POK_BYTES;
        uint8_t *p = *data + TSS_MSG_HEADER_BYTES;
        size_t plen = *len - TSS_MSG_HEADER_BYTES;
        memmove(p + pf2, p + pf2 + TSS_POK_BYTES, plen - pf2 - TSS_POK_BYTES);
        plen -= TSS_POK_BYTES;
        memmove(p + pt2, p + pt2 + 33, plen - pt2 - 33);
        plen -= 33;
        *len = TSS_MSG_HEADER_BYTES + plen;
        (*data)[40] = (uint8_t)(plen >> 24), (*data)[41] = (uint8_t)(plen >> 16);
        (*data)[42] = (uint8_t)(plen >> 8), (*data)[43] = (uint8_t)plen;
        sp->hits++;
    } else if (sp->mode == 1 && round == 3) {
        (*data)[3] = 0; /* clear TSS_MSG_CONFIDENTIAL */
        sp->hits++;
    }
    return 0;
}

static void test_check1_shapes(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        shape_spec sp = {.mode = mode};
        sim_dkg s;
        test_rng rngs[TSS_MAX_PARTIES + 1];
        setup_sim(&s, 2, 3, rngs, 47 + (uint64_t)mode);
        s.net.tamper = shape_hook;
        s.net.tamper_ctx = &sp;
        tss_err err = sim_dkg_run(&s);
        assert_int_equal(sp.hits, 1);
        assert_int_equal(err, mode == 0 ? TSS_ERR_LENGTH : TSS_ERR_FORMAT);
        assert_int_equal(s.net.rejected, 1); /* rejected before any work, state unchanged */
        sim_dkg_free(&s);
    }
}

static void test_check7_public_shares(void **state)
{
    (void)state;
    /* P(i) in R4 replaced: the claimed public share does not match F */
    sim_flip f = {.from = 3, .to = 1, .round = 4, .offset = 65 + 20, .xor_mask = 1};
    sim_dkg s;
    test_rng rngs[TSS_MAX_PARTIES + 1];
    setup_sim(&s, 2, 3, rngs, 44);
    s.net.tamper = sim_flip_hook;
    s.net.tamper_ctx = &f;
    tss_err err = sim_dkg_run(&s);
    /* a flipped x either leaves the curve (POINT parse fails) or names another point */
    assert_int_equal(err, TSS_ERR_MISMATCH);
    assert_int_equal(s.net.abort.culprit, 3);
    sim_dkg_free(&s);
}

/* Any single bit flipped anywhere in any message is rejected or aborts: never a key. */
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
    test_rng_init(&r, 5);
    for (int trial = 0; trial < 48; trial++) {
        uint8_t rb[8];
        test_rng_bytes(&r, rb, sizeof rb);
        sim_flip f = {.from = (uint16_t)(1 + rb[0] % 3), .round = (uint8_t)(1 + trial % 4)};
        memcpy(&f.offset, rb + 1, sizeof(uint32_t));
        sim_dkg s;
        test_rng rngs[TSS_MAX_PARTIES + 1];
        setup_sim(&s, 2, 3, rngs, 50 + (uint64_t)trial);
        s.net.tamper = random_flip_hook;
        s.net.tamper_ctx = &f;
        tss_err err = sim_dkg_run(&s);
        assert_int_equal(f.hits, 1);
        assert_int_not_equal(err, TSS_OK);
        assert_int_equal(s.net.out_after_abort, 0);
        sim_dkg_free(&s);
    }
}

/* A dropped message leaves the parties waiting (the daemon's timeout ends the session). */
static int drop_hook(void *ctx, uint8_t **data, size_t *len, uint16_t from, uint16_t to,
                     uint8_t round)
{
    (void)ctx, (void)data, (void)len;
    return from == 2 && to == 1 && round == 3;
}

static void test_dropped_message(void **state)
{
    (void)state;
    sim_dkg s;
    test_rng rngs[TSS_MAX_PARTIES + 1];
    setup_sim(&s, 2, 3, rngs, 60);
    s.net.tamper = drop_hook;
    assert_int_equal(sim_dkg_run(&s), TSS_ERR_STATE);
    assert_int_equal(s.net.failed_party, 1);
    assert_int_equal(s.net.party_err[1], TSS_ERR_STATE);
    sim_dkg_free(&s);
}

/* ---------- pieces: proofs, Lagrange, key-share encoding ---------- */

static void test_pok_binding(void **state)
{
    (void)state;
    test_rng r;
    test_rng_init(&r, 7);
    tss_scalar x;
    tss_point X, Y;
    uint8_t proof[TSS_POK_BYTES], wide[64];
    test_rng_bytes(&r, wide, 64);
    tss_scalar_reduce64(&x, wide);
    assert_int_equal(tss_point_base_mul(&X, &x), TSS_OK);
    assert_int_equal(tss_pok_prove(proof, &x, &X, (const uint8_t *)"ctx", 3, 2, &r.rng), TSS_OK);
    assert_int_equal(tss_pok_verify(proof, &X, (const uint8_t *)"ctx", 3, 2), TSS_OK);
    assert_int_equal(tss_pok_verify(proof, &X, (const uint8_t *)"ctx", 3, 3), TSS_ERR_PROOF);
    assert_int_equal(tss_pok_verify(proof, &X, (const uint8_t *)"cty", 3, 2), TSS_ERR_PROOF);
    tss_point_negate(&Y, &X);
    assert_int_equal(tss_pok_verify(proof, &Y, (const uint8_t *)"ctx", 3, 2), TSS_ERR_PROOF);
    proof[0] = 0x05; /* malformed R */
    assert_int_equal(tss_pok_verify(proof, &X, (const uint8_t *)"ctx", 3, 2), TSS_ERR_PROOF);
}

static void test_lagrange(void **state)
{
    (void)state;
    tss_scalar l;
    const uint16_t dup[] = {1, 2, 2}, ok[] = {1, 3, 5}, zero[] = {0, 1}, big[] = {1, 33};
    assert_int_equal(tss_lagrange_at_zero(&l, dup, 3, 1), TSS_ERR_PARAMS);
    assert_int_equal(tss_lagrange_at_zero(&l, ok, 3, 2), TSS_ERR_PARAMS); /* me not in set */
    assert_int_equal(tss_lagrange_at_zero(&l, zero, 2, 1), TSS_ERR_PARAMS);
    assert_int_equal(tss_lagrange_at_zero(&l, big, 2, 1), TSS_ERR_PARAMS);
    /* sum of the coefficients is 1 (interpolating the constant polynomial 1) */
    tss_scalar sum, one;
    tss_scalar_set_u64(&sum, 0);
    tss_scalar_set_u64(&one, 1);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(tss_lagrange_at_zero(&l, ok, 3, ok[k]), TSS_OK);
        tss_scalar_add(&sum, &sum, &l);
    }
    assert_true(tss_scalar_eq(&sum, &one));
}

/* state: the κ the DKG runs with (0: the default, 128). */
static void test_keyshare_encoding(void **state)
{
    unsigned kappa = state != NULL && *state != NULL ? *(const unsigned *)*state : 0;
    sim_dkg s;
    test_rng rngs[TSS_MAX_PARTIES + 1];
    setup_sim(&s, 2, 3, rngs, 70);
    s.kappa = (uint16_t)kappa;
    assert_int_equal(sim_dkg_run(&s), TSS_OK);
    assert_int_equal(s.shares[2]->kappa, kappa != 0 ? kappa : TSS_OTE_KAPPA_DEFAULT);
    uint8_t *enc = NULL, *enc2 = NULL;
    size_t len = 0, len2 = 0;
    assert_int_equal(tss_keyshare_encode(s.shares[2], &enc, &len), TSS_OK);
    assert_int_equal(len, tss_keyshare_encoded_len_kappa(3, s.shares[2]->kappa));
    if (kappa == 0)
        assert_int_equal(len, tss_keyshare_encoded_len(3));
    assert_int_equal(enc[5], TSS_KEYSHARE_VERSION);
    tss_keyshare *back = NULL;
    assert_int_equal(tss_keyshare_decode(&back, enc, len), TSS_OK);
    assert_int_equal(tss_keyshare_encode(back, &enc2, &len2), TSS_OK);
    assert_int_equal(len, len2);
    assert_memory_equal(enc, enc2, len);
    tss_keyshare_free(back);
    tss_secmem_free(enc2);
    /* every single-byte corruption is rejected */
    for (size_t i = 0; i < len; i++) {
        enc[i] ^= 0x40;
        back = NULL;
        assert_int_not_equal(tss_keyshare_decode(&back, enc, len), TSS_OK);
        assert_null(back);
        enc[i] ^= 0x40;
    }
    /* truncated and extended */
    assert_int_equal(tss_keyshare_decode(&back, enc, len - 1), TSS_ERR_LENGTH);
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, enc, len);
    longer[len] = 0;
    assert_int_equal(tss_keyshare_decode(&back, longer, len + 1), TSS_ERR_LENGTH);
    assert_int_equal(tss_keyshare_decode(&back, enc, 3), TSS_ERR_LENGTH);
    free(longer);
    tss_secmem_free(enc);
    sim_dkg_free(&s);
}

/* Corruptions that keep the integrity trailer valid still fail the semantic checks: a
 * public share off the polynomial (including one above t), the secret share, pk. */
static void recheck(uint8_t *enc, size_t len)
{
    tss_transcript t;
    tss_transcript_init(&t, "keyshare/check");
    tss_transcript_append(&t, enc, len - 32);
    tss_transcript_final(&t, enc + len - 32);
}

static void test_keyshare_semantic_checks(void **state)
{
    (void)state;
    sim_dkg s;
    test_rng rngs[TSS_MAX_PARTIES + 1];
    setup_sim(&s, 2, 4, rngs, 71);
    assert_int_equal(sim_dkg_run(&s), TSS_OK);
    uint8_t *enc = NULL, g[33];
    size_t len = 0;
    tss_scalar one;
    tss_point G;
    tss_scalar_set_u64(&one, 1);
    assert_int_equal(tss_point_base_mul(&G, &one), TSS_OK);
    tss_point_serialize(g, &G);
    assert_int_equal(tss_keyshare_encode(s.shares[1], &enc, &len), TSS_OK);
    /* version 3: magic, version, t n index, epoch, kappa, DKG sid, setup sid, chain code */
    const size_t pk_at = 4 + 2 + 3 + 4 + 2 + 32 + 32 + 32, pub_at = pk_at + 33,
                 sec_at = pub_at + 33 * 4 + (TSS_PARTY_ID_MAX + 32) * 4;
    const size_t where[] = {pk_at, pub_at + 33 * 3 /* P(4), above t */, pub_at + 33 * 1};
    for (size_t w = 0; w < 3; w++) {
        uint8_t *copy = malloc(len), saved[33];
        memcpy(copy, enc, len);
        memcpy(saved, copy + where[w], 33);
        memcpy(copy + where[w], g, 33);
        recheck(copy, len);
        tss_keyshare *back = NULL;
        assert_int_equal(tss_keyshare_decode(&back, copy, len), TSS_ERR_MISMATCH);
        assert_null(back);
        free(copy);
    }
    /* the secret share off by one: p(i)*G != P(i) */
    enc[sec_at + 31] ^= 1;
    recheck(enc, len);
    tss_keyshare *back = NULL;
    assert_int_equal(tss_keyshare_decode(&back, enc, len), TSS_ERR_MISMATCH);
    tss_secmem_free(enc);
    sim_dkg_free(&s);
}

int main(void)
{
    static const unsigned kappa_v2 = TSS_OTE_KAPPA_V2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_all_small),
        cmocka_unit_test(test_any_delivery_order),
        cmocka_unit_test(test_intake_rejections),
        cmocka_unit_test(test_check2_openings),
        cmocka_unit_test(test_check3_proofs),
        cmocka_unit_test(test_check4_feldman),
        cmocka_unit_test(test_check5_no_infinity),
        cmocka_unit_test(test_check6_equivocation),
        cmocka_unit_test(test_check7_public_shares),
        cmocka_unit_test(test_sid_equivocation),
        cmocka_unit_test(test_identities_bound),
        cmocka_unit_test(test_banned_peer_aborts),
        cmocka_unit_test(test_lying_reporter),
        cmocka_unit_test(test_check1_shapes),
        cmocka_unit_test(test_keyshare_semantic_checks),
        cmocka_unit_test(test_bit_flips),
        cmocka_unit_test(test_dropped_message),
        cmocka_unit_test(test_pok_binding),
        cmocka_unit_test(test_lagrange),
        cmocka_unit_test(test_keyshare_encoding),
        cmocka_unit_test_prestate(test_keyshare_encoding, (void *)&kappa_v2),
        cmocka_unit_test(test_large_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
