/* bench/e2e-bench.c — the product end to end on this machine: a hub and three signers
 * (tests/support/deploy.h: n1 tpm2 on a swtpm, n2 pkcs11 on SoftHSM2, n3 soft) over the
 * real HTTPS API with keep-alive clients (one libcurl easy handle per client thread), for
 * each share cache mode (unseal, memory):
 *   - keygen latency (2-of-3, one client);
 *   - sign latency median / p90 / p99 at 1, 8 and 64 concurrent clients (signer pairs
 *     rotating n1+n2, n1+n3, n2+n3) and the throughput at each level;
 *   - where the time goes, from the daemons themselves: each signer's per-session timing
 *     (daemon/signerd/timing.h, log_level = debug), the hub's request duration
 *     (/metrics) and each daemon's CPU time per signature (/proc).
 * Prints tables, then one JSON document. Never a timed test.
 *   e2e-bench [--quick]          (--quick: fewer requests, for a smoke run)
 *   MPC_BENCH_SIGNS=N            requests at 64 clients (default 1000; 1 client: N/10,
 *                                8 clients: N/2)
 *   MPC_BENCH_CACHE=unseal|memory  one mode only
 * Signers run with max_sessions = 256 so that the 64-client level measures throughput
 * (with the default 64, a signer that falls behind refuses sessions: see the report of
 * tests/signerd/test_load.c). */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "deploy.h"

#define LEVELS 3
static const int CLIENTS[LEVELS] = {1, 8, 64};
static const char *const PAIR[3][2] = {{"n1", "n2"}, {"n1", "n3"}, {"n2", "n3"}};

static deploy D;
static char key_id[33];
static uint8_t key_pk[33];

static double pct(double *v, int n, int p)
{
    if (n <= 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, deploy_cmp_double);
    int i = (int)((double)n * p / 100.0);
    return v[i < n ? i : n - 1];
}

/* ---- load ---- */

typedef struct {
    int total, nclients;
    atomic_int next, ok, errors;
    double *lat;
} run;

typedef struct {
    run *R;
    int id;
} client_arg;

static void *client_main(void *p)
{
    client_arg *a = p;
    run *R = a->R;
    char src[32];
    snprintf(src, sizeof src, "127.0.0.%d", 2 + a->id / 16);
    deploy_client *c = deploy_client_new(&D, src);
    /* Connect before the clock starts (keep-alive clients measure requests, not setup). */
    if (c)
        deploy_client_request(c, "GET", "/healthz", NULL, NULL);
    for (int i; c && (i = atomic_fetch_add(&R->next, 1)) < R->total;) {
        uint8_t hash[32];
        char seed[64];
        json_t *o = NULL;
        int n = snprintf(seed, sizeof seed, "bench %d %d", i, R->nclients);
        SHA256((const uint8_t *)seed, (size_t)n, hash);
        double t0 = deploy_now_ms();
        int st = deploy_sign(c, key_id, PAIR[i % 3][0], PAIR[i % 3][1], hash, &o);
        double ms = deploy_now_ms() - t0;
        if ((st == 200 || st == 201) && deploy_sig_verifies(o, key_pk, hash))
            R->lat[atomic_fetch_add(&R->ok, 1)] = ms;
        else
            atomic_fetch_add(&R->errors, 1);
        json_decref(o);
    }
    deploy_client_free(c);
    return NULL;
}

static double run_clients(run *R, int total, int nclients)
{
    memset(R, 0, sizeof *R);
    R->total = total;
    R->nclients = nclients;
    R->lat = calloc((size_t)total, sizeof *R->lat);
    pthread_t t[64];
    client_arg a[64];
    double t0 = deploy_now_ms();
    for (int k = 0; k < nclients; k++) {
        a[k] = (client_arg){R, k};
        pthread_create(&t[k], NULL, client_main, &a[k]);
    }
    for (int k = 0; k < nclients; k++)
        pthread_join(t[k], NULL);
    return deploy_now_ms() - t0;
}

/* ---- the daemons' own figures ---- */

/* Busy and total jiffies of the whole machine (/proc/stat), to tell a CPU bound from a
 * wait: the machine is shared, and the clients (this process) use CPU too. */
static void machine_jiffies(double *busy, double *total)
{
    unsigned long long v[10] = {0};
    FILE *f = fopen("/proc/stat", "r");
    *busy = *total = 0;
    if (!f)
        return;
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
               &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) >= 8)
        for (int i = 0; i < 8; i++) {
            *total += (double)v[i];
            if (i != 3 && i != 4) /* idle, iowait */
                *busy += (double)v[i];
        }
    fclose(f);
}

typedef struct {
    double machine_busy, machine_total, self_ms;
    double cpu_ms[2 + DEPLOY_NODES]; /* hub, n1, n2, n3, swtpm (n1's TPM) */
    double hub_sum_s, hub_count;
    long log_off[DEPLOY_NODES];
} snap;

static long file_size(const char *name)
{
    char path[300];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s.log", D.dir, name);
    return stat(path, &sb) == 0 ? (long)sb.st_size : 0;
}

static void take_snap(snap *s)
{
    machine_jiffies(&s->machine_busy, &s->machine_total);
    s->self_ms = deploy_proc_cpu_ms(getpid());
    s->cpu_ms[0] = deploy_proc_cpu_ms(D.hub_pid);
    for (int i = 0; i < DEPLOY_NODES; i++) {
        s->cpu_ms[1 + i] = deploy_proc_cpu_ms(D.node_pid[i]);
        s->log_off[i] = file_size(deploy_node[i]);
    }
    s->cpu_ms[1 + DEPLOY_NODES] = deploy_proc_cpu_ms(D.tpm.pid);
    s->hub_sum_s = deploy_metric(&D, "mpc_hub_http_request_duration_seconds_sum");
    s->hub_count = deploy_metric(&D, "mpc_hub_http_request_duration_seconds_count");
}

/* Per node, the medians of the session timing lines logged between two snapshots. */
enum {
    TM_TOTAL,
    TM_QUEUE,
    TM_WALL,
    TM_CPU,
    TM_UNSEAL,
    TM_COMMIT,
    TM_NCOMMIT,
    TM_LOCK,
    TM_WAIT,
    TM_J1,
    TM_J2,
    TM_J3,
    TM_J4,
    TM_J5,
    TM_N
};
static const char *const FNAME[TM_N] = {"total",  "queue",   "jobs_wall", "jobs_cpu", "unseal",
                                        "commit", "commits", "lock",      "wait",     "job1",
                                        "job2",   "job3",    "job4",      "job5"};

typedef struct {
    int sessions;
    double med[TM_N];
} timing;

static void parse_timing(int node, long from, long to, timing *out)
{
    char path[300], line[1024];
    snprintf(path, sizeof path, "%s/%s.log", D.dir, deploy_node[node]);
    FILE *f = fopen(path, "r");
    int cap = 4096, n = 0;
    double *v[TM_N];
    for (int k = 0; k < TM_N; k++)
        v[k] = calloc((size_t)cap, sizeof(double));
    memset(out, 0, sizeof *out);
    if (f && fseek(f, from, SEEK_SET) == 0)
        while (ftell(f) < to && n < cap && fgets(line, sizeof line, f)) {
            const char *p = strstr(line, " timing: ");
            double x[TM_N] = {0};
            unsigned jobs, commits;
            char list[128] = "";
            if (!p ||
                sscanf(p,
                       " timing: total %lf ms, queue %lf, jobs %u wall %lf cpu %lf "
                       "[%127[^]]], unseal %lf, commit %lf (%u), lock %lf, wait %lf",
                       &x[TM_TOTAL], &x[TM_QUEUE], &jobs, &x[TM_WALL], &x[TM_CPU], list,
                       &x[TM_UNSEAL], &x[TM_COMMIT], &commits, &x[TM_LOCK], &x[TM_WAIT]) != 11)
                continue;
            x[TM_NCOMMIT] = commits;
            sscanf(list, "%lf %lf %lf %lf %lf", &x[TM_J1], &x[TM_J2], &x[TM_J3], &x[TM_J4],
                   &x[TM_J5]);
            for (int k = 0; k < TM_N; k++)
                v[k][n] = x[k];
            n++;
        }
    if (f)
        fclose(f);
    out->sessions = n;
    for (int k = 0; k < TM_N; k++) {
        out->med[k] = pct(v[k], n, 50);
        free(v[k]);
    }
}

/* ---- one deployment, one cache mode ---- */

typedef struct {
    const char *cache;
    double keygen_med, keygen_min, keygen_max;
    int keygens;
    struct {
        int clients, total, ok, errors;
        double wall_ms, med, p90, p99, max, sig_s;
        double cpu_ms[2 + DEPLOY_NODES]; /* per signature: hub, n1..n3, swtpm */
        double hub_ms;                   /* mean request duration at the hub */
        double machine_busy_pct;         /* all CPUs, everything on the machine */
        double daemons_pct, clients_pct; /* of all CPUs: the four daemons, this process */
        timing tm[DEPLOY_NODES];
    } lv[LEVELS];
} result;

static void bench_mode(result *res, const char *cache, int signs64)
{
    memset(res, 0, sizeof *res);
    res->cache = cache;
    deploy_init(&D, "mpc-e2e-bench", HUB_BIN, SIGNERD_BIN);
    D.hub_session_timeout = 60;
    D.node_log_level = "debug";
    D.hub_log_level = "notice";
    snprintf(D.node_extra, sizeof D.node_extra, "share_cache = %s\nmax_sessions = 256\n", cache);
    deploy_up(&D);
    deploy_client *c = deploy_client_new(&D, NULL);
    double kg[5];
    for (int k = 0; k < 5; k++) {
        char id[33];
        uint8_t pk[33];
        double t0 = deploy_now_ms();
        int st = deploy_keygen(c, id, pk);
        kg[k] = deploy_now_ms() - t0;
        if (st != 201)
            deploy_die(&D, "keygen");
        if (k == 0) {
            memcpy(key_id, id, 33);
            memcpy(key_pk, pk, 33);
        }
    }
    deploy_client_free(c);
    res->keygens = 4; /* the first builds the hub's duplicate-key table (~0.2 s): left out */
    qsort(kg + 1, 4, sizeof kg[0], deploy_cmp_double);
    res->keygen_min = kg[1];
    res->keygen_med = (kg[2] + kg[3]) / 2;
    res->keygen_max = kg[4];
    /* Warm-up: the share cache, the pools, the connections. */
    run R;
    run_clients(&R, 64, 8);
    free(R.lat);
    for (int l = 0; l < LEVELS; l++) {
        int n = l == 0 ? signs64 / 10 : l == 1 ? signs64 / 2 : signs64;
        snap a, b;
        take_snap(&a);
        double wall = run_clients(&R, n, CLIENTS[l]);
        usleep(200000); /* the slower signer finishes and logs its last sessions */
        take_snap(&b);
        int ok = atomic_load(&R.ok);
        res->lv[l].clients = CLIENTS[l];
        res->lv[l].total = n;
        res->lv[l].ok = ok;
        res->lv[l].errors = atomic_load(&R.errors);
        res->lv[l].wall_ms = wall;
        res->lv[l].sig_s = ok / (wall / 1e3);
        res->lv[l].med = pct(R.lat, ok, 50);
        res->lv[l].p90 = pct(R.lat, ok, 90);
        res->lv[l].p99 = pct(R.lat, ok, 99);
        res->lv[l].max = ok ? R.lat[ok - 1] : 0;
        for (int i = 0; i <= DEPLOY_NODES + 1; i++)
            res->lv[l].cpu_ms[i] = ok ? (b.cpu_ms[i] - a.cpu_ms[i]) / ok : 0;
        double jt = b.machine_total - a.machine_total;
        double cpus = (double)sysconf(_SC_NPROCESSORS_ONLN), daemons = 0;
        for (int i = 0; i <= DEPLOY_NODES + 1; i++)
            daemons += b.cpu_ms[i] - a.cpu_ms[i];
        res->lv[l].machine_busy_pct = jt > 0 ? 100 * (b.machine_busy - a.machine_busy) / jt : 0;
        res->lv[l].daemons_pct = 100 * daemons / (wall * cpus);
        res->lv[l].clients_pct = 100 * (b.self_ms - a.self_ms) / (wall * cpus);
        double cnt = b.hub_count - a.hub_count;
        res->lv[l].hub_ms = cnt > 0 ? (b.hub_sum_s - a.hub_sum_s) * 1e3 / cnt : 0;
        for (int i = 0; i < DEPLOY_NODES; i++)
            parse_timing(i, a.log_off[i], b.log_off[i], &res->lv[l].tm[i]);
        free(R.lat);
    }
    deploy_stop_all_clean(&D);
    deploy_cleanup(&D);
}

/* ---- report ---- */

static void print_tables(const result *r, int nr)
{
    printf("\nsign latency over HTTPS, keep-alive clients (2-of-3; pairs rotate)\n");
    printf("%-7s %7s %7s %9s %9s %9s %9s %8s %6s  %s\n", "cache", "clients", "signs", "median",
           "p90", "p99", "max", "sig/s", "errors", "CPU ms per signature: hub n1 n2 n3 swtpm");
    for (int m = 0; m < nr; m++)
        for (int l = 0; l < LEVELS; l++) {
            const typeof(r[m].lv[0]) *v = &r[m].lv[l];
            printf("%-7s %7d %7d %7.1fms %7.1fms %7.1fms %7.1fms %8.1f %6d  %.2f %.2f %.2f %.2f "
                   "%.2f\n",
                   r[m].cache, v->clients, v->total, v->med, v->p90, v->p99, v->max, v->sig_s,
                   v->errors, v->cpu_ms[0], v->cpu_ms[1], v->cpu_ms[2], v->cpu_ms[3], v->cpu_ms[4]);
        }
    printf("\nCPU use during each level, %% of all %ld CPUs (the machine is shared; daemons+ "
           "includes the swtpm)\n",
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("%-7s %7s %9s %9s %9s %9s\n", "cache", "clients", "machine", "daemons+", "clients",
           "others");
    for (int m = 0; m < nr; m++)
        for (int l = 0; l < LEVELS; l++) {
            const typeof(r[m].lv[0]) *v = &r[m].lv[l];
            printf("%-7s %7d %8.0f%% %8.0f%% %8.0f%% %8.0f%%\n", r[m].cache, v->clients,
                   v->machine_busy_pct, v->daemons_pct, v->clients_pct,
                   v->machine_busy_pct - v->daemons_pct - v->clients_pct);
        }
    printf("\nkeygen 2-of-3 (one client): ");
    for (int m = 0; m < nr; m++)
        printf("%s%s median %.1f ms (min %.1f, max %.1f, %d runs)", m ? "; " : "", r[m].cache,
               r[m].keygen_med, r[m].keygen_min, r[m].keygen_max, r[m].keygens);
    printf("\n\nwhere the time goes (medians per sign session on each signer, ms; "
           "hub = mean request duration inside the hub)\n");
    printf("%-7s %4s %-3s %5s %7s %7s %7s %7s %7s %7s %7s %7s %7s  %s\n", "cache", "cli", "node",
           "sess", "total", "queue", "jobs", "cpu", "unseal", "commit", "lock", "wait", "hub",
           "jobs: start/round0, rounds ...");
    for (int m = 0; m < nr; m++)
        for (int l = 0; l < LEVELS; l++)
            for (int i = 0; i < DEPLOY_NODES; i++) {
                const timing *t = &r[m].lv[l].tm[i];
                printf("%-7s %4d %-3s %5d %7.2f %7.2f %7.2f %7.2f %7.2f %7.2f %7.2f %7.2f %7.2f  "
                       "%.2f %.2f %.2f %.2f %.2f (%.0f commits)\n",
                       r[m].cache, r[m].lv[l].clients, deploy_node[i], t->sessions,
                       t->med[TM_TOTAL], t->med[TM_QUEUE], t->med[TM_WALL], t->med[TM_CPU],
                       t->med[TM_UNSEAL], t->med[TM_COMMIT], t->med[TM_LOCK], t->med[TM_WAIT],
                       r[m].lv[l].hub_ms, t->med[TM_J1], t->med[TM_J2], t->med[TM_J3],
                       t->med[TM_J4], t->med[TM_J5], t->med[TM_NCOMMIT]);
            }
}

static void print_json(const result *r, int nr)
{
    printf("\n{\"benchmark\":\"e2e-bench\",\"cpus\":%ld,\"modes\":[",
           sysconf(_SC_NPROCESSORS_ONLN));
    for (int m = 0; m < nr; m++) {
        printf("%s{\"share_cache\":\"%s\",\"keygen_ms\":{\"median\":%.2f,\"min\":%.2f,"
               "\"max\":%.2f,\"runs\":%d},\"sign\":[",
               m ? "," : "", r[m].cache, r[m].keygen_med, r[m].keygen_min, r[m].keygen_max,
               r[m].keygens);
        for (int l = 0; l < LEVELS; l++) {
            const typeof(r[m].lv[0]) *v = &r[m].lv[l];
            printf("%s{\"clients\":%d,\"requests\":%d,\"ok\":%d,\"errors\":%d,\"wall_s\":%.3f,"
                   "\"sig_per_s\":%.1f,\"median_ms\":%.2f,\"p90_ms\":%.2f,\"p99_ms\":%.2f,"
                   "\"max_ms\":%.2f,\"hub_request_ms\":%.2f,\"machine_busy_pct\":%.1f,"
                   "\"daemons_cpu_pct\":%.1f,\"clients_cpu_pct\":%.1f,\"cpu_ms_per_sig\":{"
                   "\"hub\":%.3f,\"n1\":%.3f,\"n2\":%.3f,\"n3\":%.3f,\"swtpm\":%.3f},"
                   "\"signer_timing_medians_ms\":{",
                   l ? "," : "", v->clients, v->total, v->ok, v->errors, v->wall_ms / 1e3, v->sig_s,
                   v->med, v->p90, v->p99, v->max, v->hub_ms, v->machine_busy_pct, v->daemons_pct,
                   v->clients_pct, v->cpu_ms[0], v->cpu_ms[1], v->cpu_ms[2], v->cpu_ms[3],
                   v->cpu_ms[4]);
            for (int i = 0; i < DEPLOY_NODES; i++) {
                printf("%s\"%s\":{\"sessions\":%d", i ? "," : "", deploy_node[i],
                       v->tm[i].sessions);
                for (int k = 0; k < TM_N; k++)
                    printf(",\"%s\":%.3f", FNAME[k], v->tm[i].med[k]);
                printf("}");
            }
            printf("}}");
        }
        printf("]}");
    }
    printf("]}\n");
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    if (argc > 1 && !quick) {
        fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
        return 2;
    }
    if (deploy_check_tools() != 0)
        return 1;
    const char *e = getenv("MPC_BENCH_SIGNS");
    int signs = e && atoi(e) >= 10 ? atoi(e) : quick ? 200 : 1000;
    const char *only = getenv("MPC_BENCH_CACHE");
    static const char *const modes[2] = {"unseal", "memory"};
    result res[2];
    int nr = 0;
    for (int m = 0; m < 2; m++)
        if (!only || strcmp(only, modes[m]) == 0) {
            fprintf(stderr, "e2e-bench: share_cache = %s, %d/%d/%d requests at 1/8/64 clients\n",
                    modes[m], signs / 10, signs / 2, signs);
            bench_mode(&res[nr++], modes[m], signs);
        }
    print_tables(res, nr);
    print_json(res, nr);
    return 0;
}
