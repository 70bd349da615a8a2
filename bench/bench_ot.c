/* bench/bench_ot.c — cost of the base OTs, the OT extension and the random VOLE, per side
 * and per ordered pair, with message sizes, plus the 2-of-3 totals the targets are about
 * (key generation: base OTs for 6 ordered pairs; signing: 2 VOLEs, both sides), for each
 * κ the library implements (k=256: key shares v1/v2; k=128: new shares). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "tss/baseot.h"
#include "tss/gf128.h"
#include "tss/h2c.h"
#include "tss/ote.h"
#include "tss/vole.h"

int tss_bench_ot(bench_report *rep);

typedef struct {
    uint8_t sid[32];
    tss_baseot_receiver *st, *st_saved;
    tss_ote_sender_setup *alice;
    tss_ote_receiver_setup *bob;
    tss_vole_bob *vb, *vb_saved;
    unsigned kappa;
    uint8_t bmsg1[TSS_BASEOT_MSG1_BYTES_MAX], bmsg2[TSS_BASEOT_MSG2_BYTES];
    uint8_t vmsg1[TSS_VOLE_MSG1_BYTES_MAX], vmsg2[TSS_VOLE_MSG2_BYTES];
    uint8_t rows[TSS_OTE_XI][32];
    tss_ote_string str[TSS_OTE_XI];
    tss_scalar a[2], b, c[2], d[2];
    tss_gf128 x, y;
    uint8_t tin[TSS_OTE_KAPPA_MAX * TSS_OTE_ROW_BYTES];
    int failed;
} ot_ctx;

static void note(ot_ctx *x, tss_err e)
{
    if (e != TSS_OK)
        x->failed = 1;
}

static void op_gf_pclmul(void *c)
{
    ot_ctx *x = c;
    tss_gf128_mul_pclmul(&x->x, &x->x, &x->y);
}
static void op_gf_portable(void *c)
{
    ot_ctx *x = c;
    tss_gf128_mul_portable(&x->x, &x->x, &x->y);
}
static void op_transpose(void *c)
{
    ot_ctx *x = c;
    tss_bit_transpose(&x->rows[0][0], x->tin, x->kappa, TSS_OTE_ROW_BYTES, TSS_OTE_XI);
}
static void op_point_random(void *c)
{
    ot_ctx *x = c;
    tss_point p;
    note(x, tss_point_random(&p, tss_rng_system()));
}
static void op_base_start(void *c)
{
    ot_ctx *x = c;
    note(x, tss_baseot_receiver_start(x->st, x->sid, x->kappa, tss_rng_system(), x->bmsg1));
    memcpy(x->st_saved, x->st, sizeof *x->st);
}
static void op_base_respond(void *c)
{
    ot_ctx *x = c;
    note(x, tss_baseot_sender_respond(x->sid, x->bmsg1, TSS_BASEOT_MSG1_BYTES(x->kappa),
                                      tss_rng_system(), x->bmsg2, x->bob));
}
static void op_base_finish(void *c)
{
    ot_ctx *x = c;
    memcpy(x->st, x->st_saved, sizeof *x->st);
    note(x, tss_baseot_receiver_finish(x->st, x->bmsg2, sizeof x->bmsg2, x->alice));
}
static void op_ote_recv(void *c)
{
    ot_ctx *x = c;
    note(x, tss_ote_receiver_extend_rows(x->bob, x->sid, x->vmsg1 /* any 64 bytes */,
                                         tss_rng_system(), x->vmsg1, x->rows));
}
static void op_ote_send(void *c)
{
    ot_ctx *x = c;
    note(x, tss_ote_sender_extend_rows(x->alice, x->sid, x->vmsg1, TSS_OTE_MSG_BYTES(x->kappa),
                                       x->rows));
}
static void op_ote_derive(void *c)
{
    ot_ctx *x = c;
    note(x, tss_ote_derive(x->str, x->sid, (const uint8_t(*)[32])x->rows, NULL));
}
static void op_vole_start(void *c)
{
    ot_ctx *x = c;
    note(x, tss_vole_bob_start(x->vb, x->bob, x->sid, tss_rng_system(), &x->b, x->vmsg1));
    memcpy(x->vb_saved, x->vb, sizeof *x->vb);
}
static void op_vole_respond(void *c)
{
    ot_ctx *x = c;
    note(x, tss_vole_alice_respond(x->alice, x->sid, x->a, x->vmsg1, TSS_VOLE_MSG1_BYTES(x->kappa),
                                   tss_rng_system(), x->c, x->vmsg2));
}
static void op_vole_finish(void *c)
{
    ot_ctx *x = c;
    memcpy(x->vb, x->vb_saved, sizeof *x->vb);
    note(x, tss_vole_bob_finish(x->vb, x->vmsg2, sizeof x->vmsg2, x->d));
}

static void add_total(bench_report *rep, const char *name, double us, double bytes)
{
    if (rep->count >= (int)(sizeof rep->rows / sizeof rep->rows[0]))
        return;
    bench_row *r = &rep->rows[rep->count++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->median_us = r->p90_us = r->min_us = us;
    r->runs = 0; /* derived from the medians above, not measured */
    r->bytes = bytes;
}

static bench_row *run(bench_report *rep, ot_ctx *x, const char *what, int runs, int iters,
                      void (*op)(void *))
{
    char name[64];
    snprintf(name, sizeof name, "%s k=%u", what, x->kappa);
    return bench_run(rep, name, runs, iters, op, x);
}

static void total(bench_report *rep, ot_ctx *x, const char *what, double us, double bytes)
{
    char name[64];
    snprintf(name, sizeof name, "%s k=%u", what, x->kappa);
    add_total(rep, name, us, bytes);
}

/* The base OTs, the extension and the VOLE with setups of x->kappa. */
static int ot_section(bench_report *rep, ot_ctx *x)
{
    const double b1 = (double)TSS_BASEOT_MSG1_BYTES(x->kappa), b2 = TSS_BASEOT_MSG2_BYTES;
    const double v1 = (double)TSS_VOLE_MSG1_BYTES(x->kappa), v2 = TSS_VOLE_MSG2_BYTES;
    x->alice->kappa = x->bob->kappa = (uint16_t)x->kappa;
    run(rep, x, "transpose kx512", 51, 100, op_transpose);
    bench_row *bs = run(rep, x, "baseot receiver start (Alice)", 7, 1, op_base_start);
    bench_row *br = run(rep, x, "baseot sender respond (Bob)", 7, 1, op_base_respond);
    bench_row *bf = run(rep, x, "baseot receiver finish (Alice)", 7, 1, op_base_finish);
    if (!bs || !br || !bf || x->failed)
        return -1;
    bs->bytes = b1;
    br->bytes = b2;
    double base_pair = bs->median_us + br->median_us + bf->median_us;
    total(rep, x, "baseot per ordered pair (both sides)", base_pair, b1 + b2);
    /* the DKG runs one batch per unordered pair and bootstraps the other direction */
    total(rep, x, "2-of-3 keygen base OTs (3 pairs)", 3 * base_pair, 3.0 * (b1 + b2));

    run(rep, x, "ote receiver extend rows (Bob)", 51, 10, op_ote_recv);
    bench_row *os = run(rep, x, "ote sender check+rows (Alice)", 51, 10, op_ote_send);
    run(rep, x, "ote derive 512x3 scalars", 51, 10, op_ote_derive);
    if (os)
        os->bytes = (double)TSS_OTE_MSG_BYTES(x->kappa);

    bench_row *vs = run(rep, x, "vole bob start (Bob)", 51, 5, op_vole_start);
    bench_row *vr = run(rep, x, "vole alice respond (Alice)", 51, 5, op_vole_respond);
    bench_row *vf = run(rep, x, "vole bob finish (Bob)", 51, 5, op_vole_finish);
    if (!vs || !vr || !vf || x->failed)
        return -1;
    vs->bytes = v1;
    vr->bytes = v2;
    double vole = vs->median_us + vr->median_us + vf->median_us;
    total(rep, x, "vole per ordered pair (both sides)", vole, v1 + v2);
    total(rep, x, "2-of-3 signing VOLEs (2 pairs)", 2 * vole, 2.0 * (v1 + v2));
    return x->failed ? -1 : 0;
}

int tss_bench_ot(bench_report *rep)
{
    static const unsigned kappas[] = {TSS_OTE_KAPPA_V2, TSS_OTE_KAPPA_DEFAULT};
    ot_ctx *x = calloc(1, sizeof *x);
    if (x == NULL)
        return -1;
    x->st = tss_baseot_receiver_new();
    x->st_saved = tss_baseot_receiver_new();
    x->alice = tss_ote_sender_setup_new(TSS_OTE_KAPPA_MAX);
    x->bob = tss_ote_receiver_setup_new(TSS_OTE_KAPPA_MAX);
    x->vb = tss_vole_bob_new();
    x->vb_saved = tss_vole_bob_new();
    int rc = -1;
    if (!x->st || !x->st_saved || !x->alice || !x->bob || !x->vb || !x->vb_saved)
        goto out;
    x->sid[0] = 0xB0;
    tss_scalar_set_u64(&x->a[0], 12345);
    tss_scalar_set_u64(&x->a[1], 67890);
    x->x.lo = 0x0123456789abcdefULL;
    x->x.hi = 0xfedcba9876543210ULL;
    x->y.lo = 0x1111222233334444ULL;
    x->y.hi = 0x5555666677778888ULL;

    if (tss_gf128_have_pclmul())
        bench_run(rep, "gf128_mul (pclmul)", 51, 100000, op_gf_pclmul, x);
    bench_run(rep, "gf128_mul (portable)", 51, 100000, op_gf_portable, x);
    bench_run(rep, "h2c random point", 51, 100, op_point_random, x);
    rc = 0;
    for (size_t k = 0; k < sizeof kappas / sizeof kappas[0] && rc == 0; k++) {
        x->kappa = kappas[k];
        rc = ot_section(rep, x);
    }
out:
    if (rc != 0)
        fprintf(stderr, "tss-bench: OT benchmark setup or run failed\n");
    tss_baseot_receiver_free(x->st);
    tss_baseot_receiver_free(x->st_saved);
    tss_ote_sender_setup_free(x->alice);
    tss_ote_receiver_setup_free(x->bob);
    tss_vole_bob_free(x->vb);
    tss_vole_bob_free(x->vb_saved);
    free(x);
    return rc;
}
