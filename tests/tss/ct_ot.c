/* tests/tss/ct_ot.c — constant-time check of the OT layer under Valgrind (ctgrind style).
 * Secrets are marked undefined with Memcheck client requests; any branch or memory index
 * that depends on them is reported as an error. The program counts the errors around each
 * call and fails unless they are exactly the intended public outcomes:
 *   - GF(2^128) multiply (both) and transpose: 0 errors;
 *   - Bob's VOLE start (extension, derivation, b = Σ β_r g_r): exactly 1, the refusal of
 *     an all-zero (unfilled) setup, which reveals only "the setup is all zero";
 *   - Alice's VOLE answer: exactly 2, that same guard on Δ and the branch on the
 *     extension-check result; Bob's finish: exactly 1, the branch on the μ check result
 *     (check results are public by design: they abort the protocol);
 *   - the base OT with secret choice bits Δ (all else public): 0 errors in the
 *     receiver's start and finish.
 * The base OT and the VOLE are checked for both κ (128: new keys; 256: v1/v2 keys); a
 * setup's κ is public (it sets message sizes) and stays defined.
 * Outside Valgrind it exits 0 with a notice (ctest runs it under valgrind when present). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "tss/baseot.h"
#include "tss/gf128.h"
#include "tss/ote.h"
#include "tss/vole.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED(p, n)
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED(p, n)

static int failures;

static unsigned long errors_now(void)
{
    return (unsigned long)VALGRIND_COUNT_ERRORS;
}

static void expect(const char *what, unsigned long before, unsigned long want)
{
    unsigned long got = errors_now() - before;
    printf("%-44s %lu secret-dependent branch(es), expected %lu\n", what, got, want);
    if (got != want)
        failures++;
}

/* Deterministic generator whose output is marked secret from the first `secret_from`-th
 * call on (or only on call `only`, if >= 0). */
typedef struct {
    uint64_t ctr;
    int calls, only;
} ct_gen;

static int ct_fill(void *ctx, uint8_t *out, size_t len)
{
    ct_gen *g = ctx;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)((g->ctr++ * 0x9E3779B97F4A7C15ULL) >> 56);
    if (g->only < 0 || g->calls == g->only)
        SECRET(out, len);
    g->calls++;
    return 0;
}

static void check_gf128(void)
{
    uint8_t in[32];
    tss_gf128 a, b, r;
    static uint8_t m[256 * 80], t[512 * 32];
    for (int i = 0; i < 32; i++)
        in[i] = (uint8_t)(i * 37 + 1);
    SECRET(in, sizeof in);
    tss_gf128_load(&a, in);
    tss_gf128_load(&b, in + 16);
    unsigned long e = errors_now();
    tss_gf128_mul_portable(&r, &a, &b);
    if (tss_gf128_have_pclmul())
        tss_gf128_mul_pclmul(&r, &a, &b);
    tss_gf128_mul(&r, &a, &b);
    SECRET(m, sizeof m);
    tss_bit_transpose(t, m, 256, 80, 512);
    expect("gf128 multiply (both) and transpose", e, 0);
}

static void check_vole(tss_ote_sender_setup *A, tss_ote_receiver_setup *B)
{
    static uint8_t v1[TSS_VOLE_MSG1_BYTES_MAX], v2[TSS_VOLE_MSG2_BYTES];
    const size_t v1_len = TSS_VOLE_MSG1_BYTES(A->kappa);
    uint8_t sid[32] = {7};
    ct_gen g = {1, 0, -1};
    tss_rng rng = {ct_fill, &g};
    tss_vole_bob *vb = tss_vole_bob_new();
    tss_scalar a[2], b, c[2], d[2];
    tss_err err;
    tss_scalar_set_u64(&a[0], 3);
    tss_scalar_set_u64(&a[1], 4);
    SECRET(A, sizeof *A);
    SECRET(B, sizeof *B);
    PUBLIC(&A->kappa, sizeof A->kappa);
    PUBLIC(&B->kappa, sizeof B->kappa);
    SECRET(a, sizeof a);

    unsigned long e = errors_now();
    err = tss_vole_bob_start(vb, B, sid, &rng, &b, v1);
    PUBLIC(&err, sizeof err);
    PUBLIC(v1, v1_len); /* the message is public */
    expect("vole bob start (setup guard = 1)", e, 1);

    e = errors_now();
    err = tss_vole_alice_respond(A, sid, a, v1, v1_len, &rng, c, v2);
    PUBLIC(&err, sizeof err);
    PUBLIC(v2, sizeof v2);
    expect("vole alice respond (guard + OT check = 2)", e, 2);

    e = errors_now();
    err = tss_vole_bob_finish(vb, v2, sizeof v2, d);
    PUBLIC(&err, sizeof err);
    expect("vole bob finish (mu check = 1)", e, 1);
    if (err != TSS_OK)
        failures++;
    tss_vole_bob_free(vb);
}

/* The base OT and the VOLE with setups of one κ. */
static void check_kappa(unsigned kappa)
{
    static uint8_t m1[TSS_BASEOT_MSG1_BYTES_MAX], m2[TSS_BASEOT_MSG2_BYTES];
    const size_t m1_len = TSS_BASEOT_MSG1_BYTES(kappa);
    uint8_t sid[32] = {1};
    tss_baseot_receiver *st = tss_baseot_receiver_new();
    tss_ote_sender_setup *A = tss_ote_sender_setup_new(kappa);
    tss_ote_receiver_setup *B = tss_ote_receiver_setup_new(kappa);
    if (st == NULL || A == NULL || B == NULL) {
        failures++;
        return;
    }
    printf("k = %u:\n", kappa);
    /* Base OT: only the choice bits (the receiver's first draw) are secret. */
    ct_gen g = {1, 0, 0};
    tss_rng rng = {ct_fill, &g};
    unsigned long e = errors_now();
    tss_err err = tss_baseot_receiver_start(st, sid, kappa, &rng, m1);
    PUBLIC(&err, sizeof err);
    PUBLIC(m1, m1_len);
    expect("baseot receiver start (secret choice bits)", e, 0);
    err |= tss_baseot_sender_respond(sid, m1, m1_len, tss_rng_system(), m2, B);
    e = errors_now();
    err |= tss_baseot_receiver_finish(st, m2, sizeof m2, A);
    PUBLIC(&err, sizeof err);
    expect("baseot receiver finish (secret choice bits)", e, 0);
    if (err != TSS_OK)
        failures++;

    check_vole(A, B);

    tss_baseot_receiver_free(st);
    tss_ote_sender_setup_free(A);
    tss_ote_receiver_setup_free(B);
}

int main(void)
{
    if (!RUNNING_ON_VALGRIND) {
        printf("ct_ot: not running under valgrind; nothing checked\n");
        return 0;
    }
    check_gf128();
    check_kappa(TSS_OTE_KAPPA_DEFAULT);
    check_kappa(TSS_OTE_KAPPA_V2);
    printf("ct_ot: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
