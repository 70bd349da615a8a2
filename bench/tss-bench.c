/* bench/tss-bench.c — cost of the threshold library's operations.
 * `tss-bench` runs everything; `tss-bench primitives` only the arithmetic layer.
 * `tss-bench --compare OLD.json [what]` also prints new/old medians against a previous
 * run's output (its JSON document, or the whole saved stdout). `--cpu` (first) times
 * with the process's CPU clock instead of the wall clock (for a loaded machine).
 * Prints a table and a JSON document (see bench.h). Each later tss issue adds its section
 * (key generation, VOLE, signing) here. */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "tss/ban.h"
#include "tss/keccak.h"
#include "tss/point.h"
#include "tss/rand.h"
#include "tss/scalar.h"
#include "tss/transcript.h"
#include "tss_sim.h"

int tss_bench_ot(bench_report *rep); /* bench_ot.c */

typedef struct {
    tss_scalar a, b, r;
    tss_point p, q, gamma;
    uint8_t buf[64];
    tss_banlist *bans;
} prim_ctx;

static void op_scalar_mul(void *c)
{
    prim_ctx *x = c;
    tss_scalar_mul(&x->a, &x->a, &x->b);
}
static void op_scalar_inv(void *c)
{
    prim_ctx *x = c;
    tss_scalar_inverse(&x->a, &x->a);
}
static void op_base_mul(void *c)
{
    prim_ctx *x = c;
    (void)tss_point_base_mul(&x->p, &x->a);
}
static void op_point_mul(void *c)
{
    prim_ctx *x = c;
    (void)tss_point_mul(&x->q, &x->p, &x->b);
}
/* The signing Gamma check (two per peer and signature): blinded (tss_point_mul_eq_check)
 * and, for comparison, the former direct formulation. */
static void op_gamma_check(void *c)
{
    prim_ctx *x = c;
    int eq;
    (void)tss_point_mul_eq_check(&eq, &x->p, &x->a, &x->gamma, &x->b, tss_rng_system());
}
static void op_gamma_direct(void *c)
{
    prim_ctx *x = c;
    tss_point l, d, r;
    (void)tss_point_mul_secret(&l, &x->p, &x->a);
    (void)tss_point_base_mul(&d, &x->b);
    (void)tss_point_add(&r, &x->gamma, &d);
    x->r.d[0] ^= (uint64_t)tss_point_eq(&l, &r);
}
/* What a signing state adds per peer and step for bans: a look-up, and a lock held
 * around a check (list of 100 bans). */
static void op_ban_lookup(void *c)
{
    prim_ctx *x = c;
    uint64_t s = tss_banlist_stripe(x->bans, x->buf);
    tss_banlist_hold(x->bans, s);
    x->buf[40] ^= (uint8_t)tss_banlist_contains(x->bans, x->buf);
    tss_banlist_release(x->bans, s);
}
static int no_persist(void *ctx, const uint8_t fp[32], tss_err reason)
{
    (void)ctx, (void)fp, (void)reason;
    return 0;
}
static void op_hash_scalar(void *c)
{
    prim_ctx *x = c;
    tss_transcript t;
    tss_transcript_init(&t, "bench");
    tss_transcript_append(&t, x->buf, 64);
    tss_transcript_final_scalar(&t, &x->r);
}
static void op_keccak(void *c)
{
    prim_ctx *x = c;
    tss_keccak256(x->buf, x->buf, 64);
}

/* Known answers the demo checks before it measures anything: the generator's encoding,
 * a Keccak-256 vector, a * a^-1 == 1 and a commitment round trip. */
static int self_check(void)
{
    static const uint8_t g[33] = {0x02, 0x79, 0xBE, 0x66, 0x7E, 0xF9, 0xDC, 0xBB, 0xAC, 0x55, 0xA0,
                                  0x62, 0x95, 0xCE, 0x87, 0x0B, 0x07, 0x02, 0x9B, 0xFC, 0xDB, 0x2D,
                                  0xCE, 0x28, 0xD9, 0x59, 0xF2, 0x81, 0x5B, 0x16, 0xF8, 0x17, 0x98};
    static const uint8_t keccak_abc[4] = {0x4e, 0x03, 0x65, 0x7a};
    tss_scalar one, a, inv;
    tss_point p;
    uint8_t enc[33], h[32], seed[64], c[32], nonce[32];
    int ok = 1;

    tss_scalar_set_u64(&one, 1);
    ok &= tss_point_base_mul(&p, &one) == TSS_OK;
    tss_point_serialize(enc, &p);
    ok &= memcmp(enc, g, 33) == 0;
    tss_keccak256(h, (const uint8_t *)"abc", 3);
    ok &= memcmp(h, keccak_abc, 4) == 0;
    ok &= tss_rand_bytes(tss_rng_system(), seed, sizeof seed) == TSS_OK;
    tss_scalar_reduce64(&a, seed);
    tss_scalar_inverse(&inv, &a);
    tss_scalar_mul(&inv, &inv, &a);
    ok &= tss_scalar_eq(&inv, &one);
    ok &= tss_commit(c, nonce, "self-check", seed, 64, tss_rng_system()) == TSS_OK;
    ok &= tss_commit_verify(c, nonce, "self-check", seed, 64) == TSS_OK;
    seed[0] ^= 1;
    ok &= tss_commit_verify(c, nonce, "self-check", seed, 64) == TSS_ERR_COMMITMENT;
    printf("self-check: %s\n",
           ok ? "ok (curve, Keccak-256, scalar inverse, commitments)" : "FAILED");
    return ok ? 0 : -1;
}

static int bench_primitives(bench_report *rep)
{
    prim_ctx x;
    uint8_t seed[64];
    if (tss_rand_bytes(tss_rng_system(), seed, sizeof seed) != TSS_OK)
        return -1;
    tss_scalar_reduce64(&x.a, seed);
    tss_scalar_reduce32(&x.b, seed + 16);
    memcpy(x.buf, seed, 64);
    if (tss_point_base_mul(&x.p, &x.a) != TSS_OK)
        return -1;
    /* gamma = a*p - b*G, so the Gamma check passes */
    tss_point t1, t2;
    if (tss_point_mul(&t1, &x.p, &x.a) != TSS_OK || tss_point_base_mul(&t2, &x.b) != TSS_OK)
        return -1;
    tss_point_negate(&t2, &t2);
    if (tss_point_add(&x.gamma, &t1, &t2) != TSS_OK ||
        tss_banlist_new(&x.bans, no_persist, NULL) != TSS_OK)
        return -1;
    for (int i = 0; i < 100; i++) {
        uint8_t fp[32] = {(uint8_t)i, 0xB5};
        if (tss_banlist_load(x.bans, fp) != TSS_OK)
            return -1;
    }
    bench_run(rep, "scalar_mul", 101, 10000, op_scalar_mul, &x);
    bench_run(rep, "scalar_inverse", 101, 200, op_scalar_inv, &x);
    bench_run(rep, "point_base_mul", 101, 200, op_base_mul, &x);
    bench_run(rep, "point_mul", 101, 200, op_point_mul, &x);
    bench_run(rep, "hash_to_scalar(64B)", 101, 10000, op_hash_scalar, &x);
    bench_run(rep, "keccak256(64B)", 101, 10000, op_keccak, &x);
    bench_run(rep, "gamma check (blinded)", 101, 200, op_gamma_check, &x);
    bench_run(rep, "gamma check (direct, before)", 101, 200, op_gamma_direct, &x);
    bench_run(rep, "ban look-up under peer lock", 101, 10000, op_ban_lookup, &x);
    tss_banlist_free(x.bans);
    return 0;
}

/* The κ measured side by side: the default (new key shares; rows keep their old names so
 * --compare against an older run compares like with like) and 256 (key shares v1/v2,
 * rows suffixed " k=256"). Runs alternate between the two so that drift in the machine's
 * speed hits both alike. */
static const uint16_t bench_kappas[2] = {TSS_OTE_KAPPA_DEFAULT, TSS_OTE_KAPPA_V2};

static const char *kappa_suffix(int k)
{
    return bench_kappas[k] == TSS_OTE_KAPPA_DEFAULT ? "" : " k=256";
}

static bench_row *add_row(bench_report *rep)
{
    bench_row *row = &rep->rows[rep->count++];
    memset(row, 0, sizeof *row);
    return row;
}

/* Key generation, all n parties in this process (system randomness), per (t, n). */
static int bench_keygen(bench_report *rep)
{
    static const uint8_t cases[][2] = {{2, 3}, {3, 5}, {5, 9}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        enum { RUNS = 51 };
        static double samples[2][RUNS];
        size_t bytes[2] = {0}, max_msg[2][5] = {{0}};
        sim_dkg s;
        for (int r = 0; r < RUNS + 1; r++) {
            for (int k = 0; k < 2; k++) {
                memset(&s, 0, sizeof s);
                s.t = cases[c][0];
                s.n = cases[c][1];
                s.kappa = bench_kappas[k];
                if (tss_rand_bytes(tss_rng_system(), s.net.session_id, 32) != TSS_OK)
                    return -1;
                double t0 = bench_now_us();
                tss_err err = sim_dkg_run(&s);
                double dt = bench_now_us() - t0;
                sim_dkg_free(&s);
                if (err != TSS_OK) {
                    fprintf(stderr, "keygen failed: %s\n", tss_strerror(err));
                    return -1;
                }
                if (r > 0) /* first run warms up */
                    samples[k][r - 1] = dt;
                bytes[k] = s.net.bytes[1] + s.net.bytes[2] + s.net.bytes[3] + s.net.bytes[4];
                memcpy(max_msg[k], s.net.max_msg, sizeof max_msg[k]);
            }
        }
        for (int k = 0; k < 2 && rep->count < 120; k++) {
            bench_row *row = add_row(rep);
            snprintf(row->name, sizeof row->name, "keygen(%d,%d) all parties%s", s.t, s.n,
                     kappa_suffix(k));
            bench_summarize(row, samples[k], RUNS);
            /* bytes: everything all parties sent, then the largest message of each round */
            row->bytes = (double)bytes[k];
            bench_row *per = add_row(rep);
            *per = *row;
            snprintf(per->name, sizeof per->name, "keygen(%d,%d) per party%s", s.t, s.n,
                     kappa_suffix(k));
            per->median_us /= s.n, per->p90_us /= s.n, per->min_us /= s.n;
            per->bytes /= s.n;
            for (int r = 1; r <= 4; r++) {
                bench_row *m = add_row(rep);
                snprintf(m->name, sizeof m->name, "  keygen(%d,%d) largest R%d message%s", s.t, s.n,
                         r, kappa_suffix(k));
                m->bytes = (double)max_msg[k][r];
            }
        }
    }
    return 0;
}

/* One signature among the last t parties of d; *dt gets its time. */
static int sign_once(sim_dkg *d, sim_sign *s, double *dt)
{
    memset(s, 0, sizeof *s);
    s->shares = d->shares;
    s->count = d->t;
    for (int k = 0; k < d->t; k++)
        s->signers[k] = (uint16_t)(d->n - k); /* the last t parties */
    if (tss_rand_bytes(tss_rng_system(), s->net.session_id, 32) != TSS_OK ||
        tss_rand_bytes(tss_rng_system(), s->hash, 32) != TSS_OK)
        return -1;
    double t0 = bench_now_us();
    tss_err err = sim_sign_run(s);
    *dt = bench_now_us() - t0;
    if (err != TSS_OK) {
        fprintf(stderr, "sign bench: %s\n", tss_strerror(err));
        return -1;
    }
    return 0;
}

/* Signing, all t signers in this process (keys from one DKG per case and κ; randomness
 * from the system). Total compute, per-party average, and bytes one signer sends one
 * peer. */
static int bench_sign(bench_report *rep)
{
    static const uint8_t cases[][2] = {{2, 3}, {3, 5}, {5, 9}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        enum { RUNS = 51 };
        static double samples[2][RUNS];
        sim_dkg d[2];
        sim_sign s[2];
        int rc = 0;
        memset(d, 0, sizeof d);
        for (int k = 0; k < 2 && rc == 0; k++) {
            d[k].t = cases[c][0];
            d[k].n = cases[c][1];
            d[k].kappa = bench_kappas[k];
            if (tss_rand_bytes(tss_rng_system(), d[k].net.session_id, 32) != TSS_OK ||
                sim_dkg_run(&d[k]) != TSS_OK) {
                fprintf(stderr, "sign bench: keygen failed\n");
                rc = -1;
            }
        }
        for (int r = 0; r < RUNS + 1 && rc == 0; r++)
            for (int k = 0; k < 2 && rc == 0; k++) {
                double dt = 0;
                rc = sign_once(&d[k], &s[k], &dt);
                if (r > 0)
                    samples[k][r - 1] = dt;
            }
        for (int k = 0; k < 2 && rc == 0 && rep->count < 120; k++) {
            uint8_t t = d[k].t, n = d[k].n;
            bench_row *row = add_row(rep);
            snprintf(row->name, sizeof row->name, "sign(%d,%d) all signers%s", t, n,
                     kappa_suffix(k));
            bench_summarize(row, samples[k], RUNS);
            row->bytes =
                (double)(s[k].net.msg_bytes[1] + s[k].net.msg_bytes[2] + s[k].net.msg_bytes[3]);
            bench_row *per = add_row(rep);
            *per = *row;
            snprintf(per->name, sizeof per->name, "sign(%d,%d) per signer%s", t, n,
                     kappa_suffix(k));
            per->median_us /= t, per->p90_us /= t, per->min_us /= t;
        }
        sim_dkg_free(&d[0]);
        sim_dkg_free(&d[1]);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static bench_report rep;
    const char *compare = NULL;
    if (argc > 1 && strcmp(argv[1], "--cpu") == 0) {
        bench_use_cpu_clock(1);
        printf("times are CPU time of this process (--cpu), not wall-clock\n");
        argv += 1, argc -= 1;
    }
    if (argc > 2 && strcmp(argv[1], "--compare") == 0) {
        compare = argv[2];
        argv += 2, argc -= 2;
    }
    const char *what = argc > 1 ? argv[1] : "all";
    int all = strcmp(what, "all") == 0;
    if (argc > 2 || (!all && strcmp(what, "primitives") != 0 && strcmp(what, "keygen") != 0 &&
                     strcmp(what, "sign") != 0 && strcmp(what, "ot") != 0)) {
        fprintf(stderr, "usage: %s [--cpu] [--compare OLD.json] [all|primitives|keygen|sign|ot]\n",
                argv[0]);
        return 2;
    }
    if (self_check() != 0)
        return 1;
    if ((all || strcmp(what, "primitives") == 0) && bench_primitives(&rep) != 0) {
        fprintf(stderr, "tss-bench: primitive setup failed\n");
        return 1;
    }
    if ((all || strcmp(what, "keygen") == 0) && bench_keygen(&rep) != 0)
        return 1;
    if ((all || strcmp(what, "sign") == 0) && bench_sign(&rep) != 0)
        return 1;
    if ((all || strcmp(what, "ot") == 0) && tss_bench_ot(&rep) != 0) /* bench_ot.c */
        return 1;
    bench_print(&rep, "tss-bench");
    if (compare != NULL && bench_compare(&rep, compare) != 0)
        return 1;
    return 0;
}
