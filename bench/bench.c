/* bench/bench.c — sampling, percentiles and the table + JSON output. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

double bench_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
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
