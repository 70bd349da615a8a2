/* bench/bench.c — sampling, percentiles and the table + JSON output. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static clockid_t bench_clock = CLOCK_MONOTONIC;

void bench_use_cpu_clock(int on)
{
    bench_clock = on ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC;
}

double bench_now_us(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void bench_summarize(bench_row *row, double *samples, int n)
{
    qsort(samples, (size_t)n, sizeof *samples, cmp_double);
    row->runs = n;
    row->min_us = samples[0];
    row->median_us = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    int i90 = (int)(0.9 * (n - 1) + 0.5);
    row->p90_us = samples[i90];
}

bench_row *bench_run(bench_report *rep, const char *name, int runs, int inner, void (*fn)(void *),
                     void *ctx)
{
    if (rep->count >= (int)(sizeof rep->rows / sizeof rep->rows[0]))
        return NULL;
    double *samples = calloc((size_t)runs, sizeof *samples);
    if (samples == NULL)
        return NULL;
    fn(ctx); /* warm up */
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now_us();
        for (int i = 0; i < inner; i++)
            fn(ctx);
        samples[r] = (bench_now_us() - t0) / inner;
    }
    bench_row *row = &rep->rows[rep->count++];
    memset(row, 0, sizeof *row);
    snprintf(row->name, sizeof row->name, "%s", name);
    bench_summarize(row, samples, runs);
    free(samples);
    return row;
}

void bench_print(const bench_report *rep, const char *title)
{
    struct utsname u;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (uname(&u) != 0)
        strcpy(u.machine, "?");
    printf("%s (%s, %ld cpus)\n", title, u.machine, cpus);
    printf("%-40s %12s %12s %12s %8s %10s\n", "operation", "median", "p90", "min", "runs", "bytes");
    for (int i = 0; i < rep->count; i++) {
        const bench_row *r = &rep->rows[i];
        char b[32] = "-";
        if (r->bytes > 0)
            snprintf(b, sizeof b, "%.0f", r->bytes);
        if (r->median_us == 0 && r->runs == 0) /* a size-only row */
            printf("%-40s %12s %12s %12s %8s %10s\n", r->name, "-", "-", "-", "-", b);
        else
            printf("%-40s %9.3f us %9.3f us %9.3f us %8d %10s\n", r->name, r->median_us, r->p90_us,
                   r->min_us, r->runs, b);
    }
    printf("{\"benchmark\":\"%s\",\"machine\":\"%s\",\"cpus\":%ld,\"results\":[", title, u.machine,
           cpus);
    for (int i = 0; i < rep->count; i++) {
        const bench_row *r = &rep->rows[i];
        printf("%s{\"name\":\"%s\"", i ? "," : "", r->name);
        if (!(r->median_us == 0 && r->runs == 0))
            printf(",\"median_us\":%.3f,\"p90_us\":%.3f,\"min_us\":%.3f,\"runs\":%d", r->median_us,
                   r->p90_us, r->min_us, r->runs);
        if (r->bytes > 0)
            printf(",\"bytes\":%.0f", r->bytes);
        printf("}");
    }
    printf("]}\n");
}

/* ---- --compare: the previous JSON document -------------------------------------------- */

typedef struct {
    char name[64];
    double median_us, bytes;
    int timed;
} old_row;

/* The number after "key": inside obj[0..len), or -1 when absent. */
static double json_number(const char *obj, size_t len, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    size_t pl = strlen(pat);
    for (size_t i = 0; i + pl <= len; i++)
        if (memcmp(obj + i, pat, pl) == 0)
            return strtod(obj + i + pl, NULL);
    return -1;
}

/* Parses the {"name":...} objects of the results array (the format bench_print writes;
 * names never contain quotes or braces). */
static int parse_results(const char *doc, old_row *rows, int max)
{
    int n = 0;
    const char *p = strstr(doc, "\"results\":[");
    while (p != NULL && n < max && (p = strstr(p, "{\"name\":\"")) != NULL) {
        const char *name = p + 9, *q = strchr(name, '"'), *end = q ? strchr(q, '}') : NULL;
        if (q == NULL || end == NULL)
            break;
        old_row *r = &rows[n++];
        snprintf(r->name, sizeof r->name, "%.*s", (int)(q - name), name);
        r->median_us = json_number(q, (size_t)(end - q), "median_us");
        r->timed = r->median_us >= 0;
        r->bytes = json_number(q, (size_t)(end - q), "bytes");
        p = end;
    }
    return n;
}

int bench_compare(const bench_report *rep, const char *path)
{
    static old_row old[256];
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    size_t cap = 1 << 20, len = 0;
    char *doc = malloc(cap + 1);
    if (doc != NULL)
        len = fread(doc, 1, cap, f);
    fclose(f);
    if (doc == NULL)
        return -1;
    doc[len] = 0;
    int n = parse_results(doc, old, 256);
    free(doc);
    if (n == 0) {
        fprintf(stderr, "%s: no benchmark results found (expected tss-bench output)\n", path);
        return -1;
    }
    printf("\ncompared with %s (new/old: below 1.00 is faster now)\n", path);
    printf("%-40s %14s %14s %8s %10s %10s\n", "operation", "old median", "new median", "new/old",
           "old bytes", "new bytes");
    for (int i = 0; i < rep->count; i++) {
        const bench_row *r = &rep->rows[i];
        for (int k = 0; k < n; k++) {
            if (strcmp(old[k].name, r->name) != 0)
                continue;
            char ob[16] = "", nb[16] = "";
            if (old[k].bytes > 0 && old[k].bytes != r->bytes)
                snprintf(ob, sizeof ob, "%.0f", old[k].bytes);
            if (r->bytes > 0 && old[k].bytes != r->bytes)
                snprintf(nb, sizeof nb, "%.0f", r->bytes);
            if (old[k].timed && !(r->median_us == 0 && r->runs == 0) && old[k].median_us > 0)
                printf("%-40s %11.3f us %11.3f us %8.2f %10s %10s\n", r->name, old[k].median_us,
                       r->median_us, r->median_us / old[k].median_us, ob, nb);
            else if (ob[0] || nb[0])
                printf("%-40s %14s %14s %8s %10s %10s\n", r->name, "-", "-", "-", ob, nb);
            break;
        }
    }
    return 0;
}
