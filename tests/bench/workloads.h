/*
 * workloads.h - the benchmark workloads, one C source (workloads.c) shared by
 * the on-target instruction counter (bench_target.c) and the host throughput
 * driver (bench_host.c).
 *
 * A workload is written against an allocator vtable (struct bench_alloc) and
 * three driver hooks, bench_do_malloc/free/realloc, which the driver defines:
 * the target driver reads the instruction counter around each call, the host
 * driver only calls through.  Every workload is deterministic: a fixed seed,
 * fixed sizes, and the same sequence of calls for every allocator.
 */
#ifndef BENCH_WORKLOADS_H
#define BENCH_WORKLOADS_H

#include <stddef.h>
#include <stdint.h>

struct bench_alloc {
    const char *name;
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*realloc)(void *, size_t);
    /* Target only (NULL on the host): bytes of RAM the allocator holds right
     * now, and a value that changes whenever the heap grew. */
    size_t (*footprint)(void);
    uint64_t (*growth_token)(void);
};

enum bench_op { BENCH_MALLOC, BENCH_FREE, BENCH_REALLOC, BENCH_NOPS };
extern const char *const bench_op_name[BENCH_NOPS];

/* Phases: calls in BENCH_WARMUP are made but not counted (small churn's
 * first pass, which fills every size class). */
enum bench_phase { BENCH_WARMUP, BENCH_STEADY };

struct bench_run {
    const struct bench_alloc *a;
    unsigned scale;        /* multiplies the step counts (target 1, host more) */
    enum bench_phase phase;
    uint64_t rng;
    size_t live;           /* bytes asked for and not yet freed */
    size_t peak_live;
    unsigned long calls;   /* every call made, warm-up included */
    int failed;            /* an allocation returned NULL */
};

struct bench_workload {
    const char *name;
    const char *desc;
    void (*run)(struct bench_run *r);
};

extern const struct bench_workload bench_workloads[];
extern const unsigned bench_nworkloads;

/* The driver's hooks: make the call (and measure it). */
void *bench_do_malloc(struct bench_run *r, size_t n);
void bench_do_free(struct bench_run *r, void *p);
void *bench_do_realloc(struct bench_run *r, void *p, size_t n);
/* Called after every call, with r->live up to date. */
void bench_tick(struct bench_run *r);

/* Starts a run: fixed seed per workload, counters cleared. */
void bench_run_init(struct bench_run *r, const struct bench_alloc *a, unsigned scale);

/* Probes for boards without an instruction counter (-DBENCH_PROBES): empty
 * functions whose entry the QEMU plugin (tests/bench/icount_plugin.c) logs.
 * BENCH_PROBE(name, k) defines bench_probe_<name>; the bodies differ (k) so
 * that no two are folded into one. */
#define BENCH_PROBE(name, k)                                                              \
    __attribute__((noinline, noipa)) void bench_probe_##name(void);                      \
    __attribute__((noinline, noipa)) void bench_probe_##name(void) { bench_probe_mark = (k); }
extern volatile unsigned bench_probe_mark;

#endif
