/* bench/bench.h — timing and reporting shared by the benchmark programs.
 * Each measured operation yields a row (name, median, p90, min, runs, bytes; a row with no
 * runs and no time is a size-only row); rows print
 * as a readable table on stderr-free stdout followed by one JSON document. */
#ifndef MPC_BENCH_H
#define MPC_BENCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char name[64];
    double median_us;
    double p90_us;
    double min_us;
    int runs;
    double bytes; /* optional: bytes per operation (0 = none) */
} bench_row;

typedef struct {
    bench_row rows[128];
    int count;
} bench_report;

/* Monotonic time in microseconds: wall-clock by default; after bench_use_cpu_clock(1), the
 * CPU time of the calling process (CLOCK_PROCESS_CPUTIME_ID), which a machine shared with
 * other work inflates much less (time spent descheduled is not counted). */
double bench_now_us(void);
void bench_use_cpu_clock(int on);

/* Sorts samples[0..n) and fills median/p90/min of row. */
void bench_summarize(bench_row *row, double *samples, int n);

/* Times fn(ctx) `inner` times per sample, `runs` samples; adds a row with per-call times. */
bench_row *bench_run(bench_report *rep, const char *name, int runs, int inner, void (*fn)(void *),
                     void *ctx);

/* Prints the table, then the JSON document {"benchmark": title, "results": [...]}. */
void bench_print(const bench_report *rep, const char *title);

/* Reads a previous run's output (the JSON document, alone or after its table) from path
 * and prints, for every row of rep whose name is also there, the old and new medians
 * and new/old (below 1: faster now), and the bytes when they differ. Returns 0, or -1
 * (with a message on stderr) when the file cannot be read or holds no results. */
int bench_compare(const bench_report *rep, const char *path);

#endif
