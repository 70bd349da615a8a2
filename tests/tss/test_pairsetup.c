/* tests/tss/test_pairsetup.c — the pairwise OT setup (tss/pairsetup.h): the roles, the
 * exact tags (domain || "/ot-sid" etc., recomputed here with tss_transcript so that a
 * change to a DKG or reshare transcript shows), a whole pair setup between two parties
 * whose reverse direction must be a consistent OT setup, the view hash, and tampering:
 * an altered extension message fails Alice's check (TSS_ERR_OT_CHECK), a message of
 * another domain or sid fails as a session mismatch, an altered base-OT message makes
 * the views differ. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "test_rng.h"
#include "tss/pairsetup.h"
#include "tss/testing.h"
#include "tss/transcript.h"

static void want_pair_hash(uint8_t out[32], const char *tag, const uint8_t sid[32], uint32_t a,
                           uint32_t b)
{
    tss_transcript t;
    tss_transcript_init(&t, tag);
    tss_transcript_append(&t, sid, 32);
    tss_transcript_append_u32(&t, a);
    tss_transcript_append_u32(&t, b);
    tss_transcript_final(&t, out);
}

static void test_roles_and_sids(void **state)
{
    (void)state;
    uint8_t sid[32], got[32], want[32];
    memset(sid, 0x5A, sizeof sid);
    /* lo when lo + hi is odd, hi otherwise; symmetric */
    assert_int_equal(tss_pairsetup_alice(1, 2), 1);
    assert_int_equal(tss_pairsetup_alice(2, 1), 1);
    assert_int_equal(tss_pairsetup_alice(1, 3), 3);
    assert_int_equal(tss_pairsetup_alice(3, 1), 3);
    assert_int_equal(tss_pairsetup_alice(4, 7), 4);
    assert_int_equal(tss_pairsetup_alice(30, 32), 32);
    tss_pairsetup dkg = {"dkg", sid, 1, 128, NULL}, rs = {"reshare", sid, 1, 128, NULL};
    tss_pairsetup_ot_sid(got, &dkg, 2, 5);
    want_pair_hash(want, "dkg/ot-sid", sid, 2, 5);
    assert_memory_equal(got, want, 32);
    tss_pairsetup_ot_sid(got, &rs, 2, 5);
    want_pair_hash(want, "reshare/ot-sid", sid, 2, 5);
    assert_memory_equal(got, want, 32);
    want_pair_hash(want, "reshare/ot-sid", sid, 5, 2); /* ordered */
    assert_memory_not_equal(got, want, 32);
}

/* The view hash with the tag and order written out. */
static void test_view(void **state)
{
    (void)state;
    uint8_t sid[32], a_part[32], b_part[32], got[32], other[32], want[32];
    memset(sid, 0x11, 32);
    memset(a_part, 0xAA, 32);
    memset(b_part, 0xBB, 32);
    tss_transcript t;
    tss_transcript_init(&t, "reshare/ot-view");
    tss_transcript_append(&t, sid, 32);
    tss_transcript_append_u32(&t, 1);
    tss_transcript_append_u32(&t, 2);
    tss_transcript_append(&t, a_part, 32);
    tss_transcript_append(&t, b_part, 32);
    tss_transcript_final(&t, want);
    tss_pairsetup p1 = {"reshare", sid, 1, 128, NULL}, p2 = {"reshare", sid, 2, 128, NULL};
    tss_pairsetup_view(got, &p1, 2, a_part, b_part); /* 1 is Alice: sent Alice's part */
    assert_memory_equal(got, want, 32);
    tss_pairsetup_view(other, &p2, 1, b_part, a_part); /* 2 is Bob: sent Bob's part */
    assert_memory_equal(other, want, 32);
    b_part[0] ^= 1;
    tss_pairsetup_view(other, &p2, 1, b_part, a_part);
    assert_memory_not_equal(other, want, 32);
}

typedef struct {
    tss_keyshare_peer alice, bob; /* Alice's setups toward Bob and Bob's toward Alice */
    uint8_t *bob_msg;
    uint8_t a_sent[32], a_recv[32], b_sent[32], b_recv[32];
} pair_run;

static void alloc_peer(tss_keyshare_peer *p, unsigned kappa)
{
    p->ot_send = tss_ote_sender_setup_new(kappa);
    p->ot_recv = tss_ote_receiver_setup_new(kappa);
    assert_non_null(p->ot_send);
    assert_non_null(p->ot_recv);
}

static void free_run(pair_run *r)
{
    tss_ote_sender_setup_free(r->alice.ot_send);
    tss_ote_receiver_setup_free(r->alice.ot_recv);
    tss_ote_sender_setup_free(r->bob.ot_send);
    tss_ote_receiver_setup_free(r->bob.ot_recv);
    free(r->bob_msg);
}

/* Base OTs and Bob's bootstrap for the pair (alice = 1, bob = 2) under pa / pb; returns
 * Alice's result of finishing, after flip_ext flips one bit of the extension message
 * (if set). The base OTs run as the DKG runs them (dkg.c R2/R3). */
static tss_err run_pair(pair_run *r, const tss_pairsetup *pa, const tss_pairsetup *pb, int flip_ext)
{
    uint8_t sid_a[32], sid_b[32], msg2[TSS_BASEOT_MSG2_BYTES];
    uint8_t *msg1 = malloc(TSS_BASEOT_MSG1_BYTES(pa->kappa));
    tss_baseot_receiver *bot = tss_baseot_receiver_new();
    assert_non_null(msg1);
    assert_non_null(bot);
    memset(r, 0, sizeof *r);
    alloc_peer(&r->alice, pa->kappa);
    alloc_peer(&r->bob, pb->kappa);
    tss_pairsetup_ot_sid(sid_a, pa, 1, 2);
    tss_pairsetup_ot_sid(sid_b, pb, 1, 2);
    assert_int_equal(tss_baseot_receiver_start(bot, sid_a, pa->kappa, pa->rng, msg1), TSS_OK);
    SHA256(msg1, TSS_BASEOT_MSG1_BYTES(pa->kappa), r->a_sent);
    memcpy(r->b_recv, r->a_sent, 32);
    tss_err err = tss_baseot_sender_respond(sid_b, msg1, TSS_BASEOT_MSG1_BYTES(pb->kappa), pb->rng,
                                            msg2, r->bob.ot_recv);
    assert_int_equal(err, TSS_OK);
    err = tss_pairsetup_bob(pb, 1, &r->bob, msg2, &r->bob_msg, r->b_sent);
    assert_int_equal(err, TSS_OK);
    uint8_t h[32];
    SHA256(r->bob_msg, TSS_PAIRSETUP_BOB_BYTES(pb->kappa), h);
    assert_memory_equal(h, r->b_sent, 32);
    memcpy(r->a_recv, r->b_sent, 32);
    err = tss_baseot_receiver_finish(bot, r->bob_msg, TSS_BASEOT_MSG2_BYTES, r->alice.ot_send);
    assert_int_equal(err, TSS_OK);
    if (flip_ext)
        r->bob_msg[TSS_BASEOT_MSG2_BYTES + TSS_OTE_MSG_BYTES(pa->kappa) - 1] ^= 1;
    err = tss_pairsetup_alice_finish(pa, 2, &r->alice, r->bob_msg + TSS_BASEOT_MSG2_BYTES);
    tss_baseot_receiver_free(bot);
    free(msg1);
    return err;
}

static void test_pair_setup(void **state)
{
    (void)state;
    static const unsigned kappas[] = {128, 256};
    uint8_t sid[32];
    memset(sid, 0x42, 32);
    for (size_t i = 0; i < 2; i++) {
        unsigned kappa = kappas[i];
        test_rng ra, rb;
        test_rng_init(&ra, 10 + i);
        test_rng_init(&rb, 20 + i);
        tss_pairsetup pa = {"dkg", sid, 1, (uint16_t)kappa, &ra.rng};
        tss_pairsetup pb = {"dkg", sid, 2, (uint16_t)kappa, &rb.rng};
        pair_run r;
        assert_int_equal(run_pair(&r, &pa, &pb, 0), TSS_OK);
        /* the reverse direction (Bob -> Alice): Bob holds Δ' and k'_l^{Δ'_l}, Alice both */
        const tss_ote_sender_setup *s = r.bob.ot_send;
        const tss_ote_receiver_setup *q = r.alice.ot_recv;
        int ones = 0;
        for (unsigned l = 0; l < kappa; l++) {
            int bit = (s->delta[l / 8] >> (l % 8)) & 1;
            ones += bit;
            assert_memory_equal(s->seed[l], q->seed[l][bit], 32);
            assert_memory_not_equal(s->seed[l], q->seed[l][!bit], 32);
        }
        assert_true(ones > 0 && ones < (int)kappa);
        for (unsigned b = kappa / 8; b < sizeof s->delta; b++)
            assert_int_equal(s->delta[b], 0); /* zero past κ (ote.h) */
        /* the views agree */
        uint8_t va[32], vb[32];
        tss_pairsetup_view(va, &pa, 2, r.a_sent, r.a_recv);
        tss_pairsetup_view(vb, &pb, 1, r.b_sent, r.b_recv);
        assert_memory_equal(va, vb, 32);
        /* a base-OT message 1 altered on the way: Bob hashed another one */
        r.b_recv[5] ^= 0x20;
        tss_pairsetup_view(vb, &pb, 1, r.b_sent, r.b_recv);
        assert_memory_not_equal(va, vb, 32);
        free_run(&r);
    }
}

static void test_tampered_extension(void **state)
{
    (void)state;
    uint8_t sid[32];
    memset(sid, 0x43, 32);
    test_rng ra, rb;
    test_rng_init(&ra, 30);
    test_rng_init(&rb, 31);
    tss_pairsetup pa = {"reshare", sid, 1, 128, &ra.rng};
    tss_pairsetup pb = {"reshare", sid, 2, 128, &rb.rng};
    pair_run r;
    assert_int_equal(run_pair(&r, &pa, &pb, 1), TSS_ERR_OT_CHECK);
    free_run(&r);
}

/* Bob bootstraps under another domain (or sid) than Alice: the base OTs themselves agree
 * (same ot-sid), but the extension is bound to the other bootstrap sid. */
static void test_other_domain(void **state)
{
    (void)state;
    uint8_t sid[32];
    memset(sid, 0x44, 32);
    test_rng ra, rb;
    test_rng_init(&ra, 40);
    test_rng_init(&rb, 41);
    tss_pairsetup pa = {"dkg", sid, 1, 128, &ra.rng};
    tss_pairsetup pb = {"reshare", sid, 2, 128, &rb.rng};
    pair_run r;
    uint8_t sid_a[32], sid_b[32];
    tss_pairsetup_ot_sid(sid_a, &pa, 1, 2);
    tss_pairsetup_ot_sid(sid_b, &pb, 1, 2);
    assert_memory_not_equal(sid_a, sid_b, 32);
    /* the base OTs under Alice's sid, so only the bootstrap domain differs */
    uint8_t msg2[TSS_BASEOT_MSG2_BYTES];
    uint8_t *msg1 = malloc(TSS_BASEOT_MSG1_BYTES(128));
    tss_baseot_receiver *bot = tss_baseot_receiver_new();
    assert_non_null(msg1);
    assert_non_null(bot);
    memset(&r, 0, sizeof r);
    alloc_peer(&r.alice, 128);
    alloc_peer(&r.bob, 128);
    assert_int_equal(tss_baseot_receiver_start(bot, sid_a, 128, &ra.rng, msg1), TSS_OK);
    assert_int_equal(tss_baseot_sender_respond(sid_a, msg1, TSS_BASEOT_MSG1_BYTES(128), &rb.rng,
                                               msg2, r.bob.ot_recv),
                     TSS_OK);
    assert_int_equal(tss_pairsetup_bob(&pb, 1, &r.bob, msg2, &r.bob_msg, r.b_sent), TSS_OK);
    assert_int_equal(
        tss_baseot_receiver_finish(bot, r.bob_msg, TSS_BASEOT_MSG2_BYTES, r.alice.ot_send), TSS_OK);
    assert_int_equal(
        tss_pairsetup_alice_finish(&pa, 2, &r.alice, r.bob_msg + TSS_BASEOT_MSG2_BYTES),
        TSS_ERR_SESSION);
    tss_baseot_receiver_free(bot);
    free(msg1);
    free_run(&r);
}

/* Both ends derive one zero seed, under the exact tag and order; any part changes it. */
static void test_zero_seed(void **state)
{
    (void)state;
    uint8_t sid[32], p3[32], p5[32], at3[32], at5[32], want[32];
    memset(sid, 0x61, 32);
    memset(p3, 0x33, 32);
    memset(p5, 0x55, 32);
    tss_pairsetup a = {"reshare", sid, 3, 128, NULL}, b = {"reshare", sid, 5, 128, NULL};
    tss_pairsetup_zero_seed(at3, &a, 5, p3, p5);
    tss_pairsetup_zero_seed(at5, &b, 3, p5, p3);
    assert_memory_equal(at3, at5, 32);
    tss_transcript t;
    tss_transcript_init(&t, "reshare/zero-seed");
    tss_transcript_append(&t, sid, 32);
    tss_transcript_append_u32(&t, 3);
    tss_transcript_append_u32(&t, 5);
    tss_transcript_append(&t, p3, 32);
    tss_transcript_append(&t, p5, 32);
    tss_transcript_final(&t, want);
    assert_memory_equal(at3, want, 32);
    p5[31] ^= 1;
    tss_pairsetup_zero_seed(at5, &b, 3, p5, p3);
    assert_memory_not_equal(at3, at5, 32);
    a.domain = "dkg";
    tss_pairsetup_zero_seed(at5, &a, 5, p3, p5);
    assert_memory_not_equal(at3, at5, 32);
}

/* The clone hooks' copy: equal contents, own buffers, NULLs kept. */
static void test_copy_pending(void **state)
{
    (void)state;
    tss_baseot_receiver *bot[3] = {NULL, tss_baseot_receiver_new(), NULL};
    uint8_t *msg[3] = {NULL, NULL, malloc(40)};
    tss_baseot_receiver *cbot[3] = {NULL, NULL, NULL};
    uint8_t *cmsg[3] = {NULL, NULL, NULL};
    assert_non_null(bot[1]);
    assert_non_null(msg[2]);
    memset(bot[1]->delta, 0x7E, sizeof bot[1]->delta);
    bot[1]->kappa = 128;
    memset(msg[2], 0xC3, 40);
    assert_int_equal(tss_pairsetup_copy_pending(cbot, cmsg, bot, msg, 3, 40), TSS_OK);
    assert_null(cbot[0]);
    assert_null(cbot[2]);
    assert_null(cmsg[0]);
    assert_null(cmsg[1]);
    assert_non_null(cbot[1]);
    assert_ptr_not_equal(cbot[1], bot[1]);
    assert_memory_equal(cbot[1], bot[1], sizeof *bot[1]);
    assert_non_null(cmsg[2]);
    assert_ptr_not_equal(cmsg[2], msg[2]);
    assert_memory_equal(cmsg[2], msg[2], 40);
    for (int j = 0; j < 3; j++) {
        tss_baseot_receiver_free(bot[j]);
        tss_baseot_receiver_free(cbot[j]);
        free(msg[j]);
        free(cmsg[j]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles_and_sids), cmocka_unit_test(test_view),
        cmocka_unit_test(test_pair_setup),     cmocka_unit_test(test_tampered_extension),
        cmocka_unit_test(test_other_domain),   cmocka_unit_test(test_zero_seed),
        cmocka_unit_test(test_copy_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
