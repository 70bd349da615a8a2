/* tests/tss/test_vole.c — random VOLE (DKLs23 Protocol 5.2): c + d = a·b; Bob's μ check
 * fires on a tampered ã row, η̂ or μ, and on a consistently cheating Alice (another a in
 * one row) exactly when that row's β_r = 1; a sid mismatch is TSS_ERR_SESSION, not a ban;
 * lengths and encodings are strict. Every test runs for both κ (128: new keys; 256: v1/v2
 * keys). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_rng.h"
#include "tss/baseot.h"
#include "tss/transcript.h"
#include "tss/vole.h"

static unsigned K; /* κ of the group being run */
#define M1       TSS_VOLE_MSG1_BYTES(K)
#define MSG2_AT  TSS_SID_TAG_BYTES
#define MSG2_ETA (MSG2_AT + TSS_OTE_XI * TSS_OTE_SCALARS * 32)
#define MSG2_MU  (MSG2_ETA + 32)

typedef struct {
    tss_ote_sender_setup *alice;
    tss_ote_receiver_setup *bob;
    tss_vole_bob *st, *saved;
    uint8_t msg1[TSS_VOLE_MSG1_BYTES_MAX + 1];
    uint8_t msg2[TSS_VOLE_MSG2_BYTES + 1];
    uint8_t bad[TSS_VOLE_MSG2_BYTES + 1];
    tss_ote_string v0[TSS_OTE_XI], v1[TSS_OTE_XI];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tss_baseot_receiver *bst = tss_baseot_receiver_new();
    static uint8_t m1[TSS_BASEOT_MSG1_BYTES_MAX], m2[TSS_BASEOT_MSG2_BYTES];
    uint8_t sid[32] = {9, 9, 9};
    test_rng ra, rb;
    test_rng_init(&ra, 1);
    test_rng_init(&rb, 2);
    f->alice = tss_ote_sender_setup_new(K);
    f->bob = tss_ote_receiver_setup_new(K);
    f->st = tss_vole_bob_new();
    f->saved = tss_vole_bob_new();
    *state = f;
    if (bst == NULL || f->alice == NULL || f->bob == NULL || f->st == NULL || f->saved == NULL ||
        tss_baseot_receiver_start(bst, sid, K, &ra.rng, m1) != TSS_OK ||
        tss_baseot_sender_respond(sid, m1, TSS_BASEOT_MSG1_BYTES(K), &rb.rng, m2, f->bob) !=
            TSS_OK ||
        tss_baseot_receiver_finish(bst, m2, sizeof m2, f->alice) != TSS_OK)
        return -1;
    tss_baseot_receiver_free(bst);
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tss_ote_sender_setup_free(f->alice);
    tss_ote_receiver_setup_free(f->bob);
    tss_vole_bob_free(f->st);
    tss_vole_bob_free(f->saved);
    free(f);
    return 0;
}

static void make_sid(uint8_t sid[32], uint64_t n)
{
    memset(sid, 0, 32);
    for (int i = 0; i < 8; i++)
        sid[i] = (uint8_t)(n >> (8 * i));
    sid[31] = 0x70;
}

static void random_scalar(test_rng *r, tss_scalar *s)
{
    uint8_t b[64];
    test_rng_bytes(r, b, 64);
    tss_scalar_reduce64(s, b);
}

/* Bob starts and Alice answers honestly; Bob's state is saved for repeated finishes. */
static void start_and_respond(fixture *f, const uint8_t sid[32], uint64_t seed, tss_scalar a[2],
                              tss_scalar *b, tss_scalar c[2])
{
    test_rng r;
    test_rng_init(&r, seed);
    random_scalar(&r, &a[0]);
    random_scalar(&r, &a[1]);
    assert_int_equal(tss_vole_bob_start(f->st, f->bob, sid, &r.rng, b, f->msg1), TSS_OK);
    assert_int_equal(tss_vole_alice_respond(f->alice, sid, a, f->msg1, M1, &r.rng, c, f->msg2),
                     TSS_OK);
    memcpy(f->saved, f->st, sizeof *f->st);
}

static void assert_vole(const tss_scalar a[2], const tss_scalar *b, const tss_scalar c[2],
                        const tss_scalar d[2])
{
    for (int k = 0; k < 2; k++) {
        tss_scalar ab, cd;
        tss_scalar_mul(&ab, &a[k], b);
        tss_scalar_add(&cd, &c[k], &d[k]);
        assert_true(tss_scalar_eq(&ab, &cd));
    }
}

static void test_correctness(void **state)
{
    fixture *f = *state;
    for (uint64_t i = 0; i < 20; i++) {
        uint8_t sid[32];
        tss_scalar a[2], b, c[2], d[2];
        make_sid(sid, 100 + i);
        start_and_respond(f, sid, 100 + i, a, &b, c);
        assert_int_equal(tss_vole_bob_finish(f->st, f->msg2, TSS_VOLE_MSG2_BYTES, d), TSS_OK);
        assert_vole(a, &b, c, d);
        assert_false(tss_scalar_is_zero(&b));
        /* single use */
        assert_int_equal(tss_vole_bob_finish(f->st, f->msg2, TSS_VOLE_MSG2_BYTES, d),
                         TSS_ERR_STATE);
    }
}

/* Bob's finish on f->bad from the saved state. */
static tss_err finish_bad(fixture *f, size_t len)
{
    tss_scalar d[2];
    memcpy(f->st, f->saved, sizeof *f->st);
    return tss_vole_bob_finish(f->st, f->bad, len, d);
}

static void test_tampered_rows_eta_mu(void **state)
{
    fixture *f = *state;
    uint8_t sid[32];
    tss_scalar a[2], b, c[2];
    make_sid(sid, 200);
    start_and_respond(f, sid, 200, a, &b, c);
    /* every row of ã, cycling through its three scalars and through low bits */
    for (size_t r = 0; r < TSS_OTE_XI; r++) {
        memcpy(f->bad, f->msg2, TSS_VOLE_MSG2_BYTES);
        size_t k = r % 3;
        f->bad[MSG2_AT + (r * 3 + k) * 32 + 31] ^= (uint8_t)(1u << (r % 8));
        assert_int_equal(finish_bad(f, TSS_VOLE_MSG2_BYTES), TSS_ERR_VOLE_CHECK);
    }
    /* η̂: every bit of its low 8 bytes (stays canonical) */
    for (size_t i = 24; i < 32; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(f->bad, f->msg2, TSS_VOLE_MSG2_BYTES);
            f->bad[MSG2_ETA + i] ^= (uint8_t)(1u << bit);
            assert_int_equal(finish_bad(f, TSS_VOLE_MSG2_BYTES), TSS_ERR_VOLE_CHECK);
        }
    /* μ: every bit */
    for (size_t i = 0; i < 64; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(f->bad, f->msg2, TSS_VOLE_MSG2_BYTES);
            f->bad[MSG2_MU + i] ^= (uint8_t)(1u << bit);
            assert_int_equal(finish_bad(f, TSS_VOLE_MSG2_BYTES), TSS_ERR_VOLE_CHECK);
        }
    /* and the untampered message still finishes */
    memcpy(f->bad, f->msg2, TSS_VOLE_MSG2_BYTES);
    assert_int_equal(finish_bad(f, TSS_VOLE_MSG2_BYTES), TSS_OK);
}

/* An independent Alice that uses a' = a + 1 for a_1 in row `cheat` only and computes θ, η̂
 * and μ consistently from what she sent: the selective-failure attack the μ check exists
 * for. Bob must abort exactly when β_cheat = 1 (otherwise his output is unaffected). */
static void cheating_alice(fixture *f, const uint8_t sid[32], const tss_scalar a[2], size_t cheat,
                           tss_scalar c[2])
{
    tss_scalar eta, theta[2], t, one;
    test_rng r;
    test_rng_init(&r, 300 + cheat);
    random_scalar(&r, &eta);
    tss_scalar_set_u64(&one, 1);
    assert_int_equal(tss_ote_sender_extend(f->alice, sid, f->msg1, M1, f->v0, f->v1), TSS_OK);
    for (size_t row = 0; row < TSS_OTE_XI; row++)
        for (int k = 0; k < 3; k++) {
            tss_scalar x;
            tss_scalar_sub(&x, &f->v0[row][k], &f->v1[row][k]);
            tss_scalar_add(&x, &x, k < 2 ? &a[k] : &eta);
            if (row == cheat && k == 0)
                tss_scalar_add(&x, &x, &one);
            tss_scalar_serialize(f->bad + MSG2_AT + (row * 3 + (size_t)k) * 32, &x);
        }
    tss_transcript p, tt;
    tss_transcript_init(&p, "vole/theta");
    tss_transcript_append(&p, sid, 32);
    tss_transcript_append(&p, f->bad + MSG2_AT, (size_t)TSS_OTE_XI * 3 * 32);
    for (uint32_t k = 0; k < 2; k++) {
        tt = p;
        tss_transcript_append_u32(&tt, k);
        tss_transcript_final_scalar(&tt, &theta[k]);
    }
    tss_scalar eh = eta;
    for (int k = 0; k < 2; k++) {
        tss_scalar_mul(&t, &theta[k], &a[k]);
        tss_scalar_add(&eh, &eh, &t);
    }
    tss_scalar_serialize(f->bad + MSG2_ETA, &eh);
    static uint8_t enc[TSS_OTE_XI][32];
    for (size_t row = 0; row < TSS_OTE_XI; row++) {
        tss_scalar v = f->v0[row][2];
        for (int k = 0; k < 2; k++) {
            tss_scalar_mul(&t, &theta[k], &f->v0[row][k]);
            tss_scalar_add(&v, &v, &t);
        }
        tss_scalar_serialize(enc[row], &v);
    }
    tss_transcript_init(&p, "vole/mu");
    tss_transcript_append(&p, sid, 32);
    tss_transcript_append(&p, enc, sizeof enc);
    tss_transcript_final64(&p, f->bad + MSG2_MU);
    tss_sid_tag(f->bad, "vole/2", sid);
    (void)c;
}

static void test_consistent_cheater_caught_iff_beta(void **state)
{
    fixture *f = *state;
    uint8_t sid[32];
    tss_scalar a[2], b, c[2], d[2];
    make_sid(sid, 300);
    start_and_respond(f, sid, 300, a, &b, c);
    /* sanity: the independent Alice, not cheating (cheat row out of range), is accepted */
    cheating_alice(f, sid, a, TSS_OTE_XI, c);
    assert_int_equal(finish_bad(f, TSS_VOLE_MSG2_BYTES), TSS_OK);
    int seen[2] = {0, 0};
    for (size_t row = 0; row < 16; row++) {
        int br = (f->saved->beta[row / 8] >> (row % 8)) & 1;
        seen[br]++;
        cheating_alice(f, sid, a, row, c);
        memcpy(f->st, f->saved, sizeof *f->st);
        tss_err e = tss_vole_bob_finish(f->st, f->bad, TSS_VOLE_MSG2_BYTES, d);
        assert_int_equal(e, br ? TSS_ERR_VOLE_CHECK : TSS_OK);
        if (!br)
            assert_vole(a, &b, c, d); /* c from the honest run: same α0, same g */
    }
    assert_true(seen[0] > 0 && seen[1] > 0);
}

static void test_sid_mismatch_is_not_a_ban(void **state)
{
    fixture *f = *state;
    uint8_t sid[32], other[32];
    tss_scalar a[2], b, c[2];
    test_rng r;
    test_rng_init(&r, 400);
    make_sid(sid, 400);
    make_sid(other, 401);
    start_and_respond(f, sid, 400, a, &b, c);
    /* Alice under another sid */
    assert_int_equal(tss_vole_alice_respond(f->alice, other, a, f->msg1, M1, &r.rng, c, f->bad),
                     TSS_ERR_SESSION);
    /* Bob receives a reply produced under another sid (Alice equivocated or the hub mixed
     * sessions): a session error, checked before anything else */
    memcpy(f->bad, f->msg2, TSS_VOLE_MSG2_BYTES);
    tss_sid_tag(f->bad, "vole/2", other);
    assert_int_equal(finish_bad(f, TSS_VOLE_MSG2_BYTES), TSS_ERR_SESSION);
}

static void test_lengths_and_encodings(void **state)
{
    fixture *f = *state;
    uint8_t sid[32];
    tss_scalar a[2], b, c[2];
    test_rng r;
    test_rng_init(&r, 500);
    make_sid(sid, 500);
    start_and_respond(f, sid, 500, a, &b, c);
    assert_int_equal(tss_vole_alice_respond(f->alice, sid, a, f->msg1, M1 - 1, &r.rng, c, f->bad),
                     TSS_ERR_LENGTH);
    assert_int_equal(tss_vole_alice_respond(f->alice, sid, a, f->msg1, M1 + 1, &r.rng, c, f->bad),
                     TSS_ERR_LENGTH);
    memcpy(f->bad, f->msg2, TSS_VOLE_MSG2_BYTES + 1);
    assert_int_equal(finish_bad(f, TSS_VOLE_MSG2_BYTES - 1), TSS_ERR_LENGTH);
    assert_int_equal(finish_bad(f, TSS_VOLE_MSG2_BYTES + 1), TSS_ERR_LENGTH);
    assert_int_equal(finish_bad(f, 0), TSS_ERR_LENGTH);
    /* a non-canonical scalar (>= n) in ã or η̂ is malformed, not a check failure */
    memset(f->bad + MSG2_AT + 7 * 32, 0xFF, 32);
    assert_int_equal(finish_bad(f, TSS_VOLE_MSG2_BYTES), TSS_ERR_FORMAT);
    memcpy(f->bad, f->msg2, TSS_VOLE_MSG2_BYTES);
    memset(f->bad + MSG2_ETA, 0xFF, 32);
    assert_int_equal(finish_bad(f, TSS_VOLE_MSG2_BYTES), TSS_ERR_FORMAT);
    /* a tampered extension message makes Alice's OT check fail (ban Bob) */
    f->msg1[M1 - 1] ^= 1;
    assert_int_equal(tss_vole_alice_respond(f->alice, sid, a, f->msg1, M1, &r.rng, c, f->bad),
                     TSS_ERR_OT_CHECK);
    assert_true(tss_scalar_is_zero(&c[0]) && tss_scalar_is_zero(&c[1]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_correctness),
        cmocka_unit_test(test_tampered_rows_eta_mu),
        cmocka_unit_test(test_consistent_cheater_caught_iff_beta),
        cmocka_unit_test(test_sid_mismatch_is_not_a_ban),
        cmocka_unit_test(test_lengths_and_encodings),
    };
    int failed = 0;
    K = TSS_OTE_KAPPA_DEFAULT;
    failed += cmocka_run_group_tests_name("vole k=128", tests, setup, teardown);
    K = TSS_OTE_KAPPA_V2;
    failed += cmocka_run_group_tests_name("vole k=256", tests, setup, teardown);
    return failed;
}
