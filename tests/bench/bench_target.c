/*
 * bench_target.c - instructions per call on a QEMU board (make bench), and
 * the CI bound check (make test, BENCH_CHECK).
 *
 * One image holds sheap (sheap_malloc ...) and picolibc's own allocator,
 * renamed to pico_malloc ... by tools/bench_pico_malloc.sh, and runs one
 * workload (BENCH_WORKLOAD, an index into bench_workloads) on each, sheap
 * first: a fresh image per workload, so that both heaps start empty.
 *
 * Each call is bracketed by sheap_board_icount() (exact under -icount
 * shift=0); the back-to-back cost of reading the counter is subtracted, so a
 * count is the call itself with its call and return.  A call after which
 * the allocator held more memory (sheap: Ready or metadata bytes, arenas,
 * translation-table frames; picolibc: the sbrk break) is a growth call: it
 * goes to a bucket of its own, not into the steady-state statistics.
 *
 * With -DBENCH_PROBES (Cortex-M, no counter), the counting is done outside
 * the guest: see "counting" below; the BENCH and QUANT lines then come from
 * tools/bench_probes.py.
 *
 * Output, one record a line (tools/bench_report.py reads them):
 *   BENCH <board> <alloc> <wl> <op> n= mean= p50= p90= p99= max= growth_n= growth_mean= growth_max=
 *         dropped= max_at=   (max_at: the call number, counted from 0, of the worst call)
 *   QUANT <board> <alloc> <wl> <op> v0,v1,...,v200     (the 0.5 % quantiles)
 *   FOOT  <board> <alloc> <wl> peak_live= peak_foot= peak_frames=
 *   SERIES <board> <alloc> <wl> calls=... live=... foot=...
 */
#include <stdio.h>
#include <stdlib.h>

#include "sheap.h"
#include "sheap_board.h"
#include "sheap_config.h"
#include "workloads.h"
#ifndef BOARD_HAS_MMU
#define BOARD_HAS_MMU 0
#endif
#if BOARD_HAS_MMU
#include "sheap_mmu.h"
#endif

/* ---- the allocators ---------------------------------------------------------- */

static size_t sheap_footprint(void)
{
    struct sheap_stats s;
    sheap_stats(&s);
    return s.ready_bytes + s.metadata_bytes;
}

/* Physical RAM in use by the heap on an MMU board: frames for heap pages,
 * metadata and translation tables. */
static size_t sheap_frames_bytes(void)
{
#if BOARD_HAS_MMU
    struct sheap_frame_stats f;
    sheap_mmu_frame_stats(&f);
    return (size_t)(f.heap_pages + f.table_pages) * SHEAP_PAGE_SIZE;
#else
    return sheap_footprint();
#endif
}

static uint64_t sheap_growth_token(void)
{
    struct sheap_stats s;
    sheap_stats(&s);
    /* Each term only grows (no trim runs here), so any growth changes the sum. */
    uint64_t t = (uint64_t)s.ready_bytes + s.metadata_bytes + s.reserved_bytes + s.grow_count;
#if BOARD_HAS_MMU
    struct sheap_frame_stats f;
    sheap_mmu_frame_stats(&f);
    t += (uint64_t)f.table_pages * SHEAP_PAGE_SIZE;
#endif
    return t;
}

static const struct bench_alloc alloc_sheap = {
    "sheap", sheap_malloc, sheap_free, sheap_realloc, sheap_footprint, sheap_growth_token,
};

#ifndef BENCH_CHECK
/* picolibc's nano-malloc, renamed (tools/bench_pico_malloc.sh). */
void *pico_malloc(size_t n);
void pico_free(void *p);
void *pico_realloc(void *p, size_t n);
void *pico_sbrk(ptrdiff_t incr);
extern char __heap_start[], __heap_end[];

static size_t pico_footprint(void) { return (size_t)((char *)pico_sbrk(0) - __heap_start); }
static uint64_t pico_growth_token(void) { return (uintptr_t)pico_sbrk(0); }

static const struct bench_alloc alloc_pico = {
    "picolibc", pico_malloc, pico_free, pico_realloc, pico_footprint, pico_growth_token,
};
#endif

/* ---- counting ------------------------------------------------------------------ */

#ifdef BENCH_PROBES
/*
 * Boards without an instruction counter (Cortex-M under QEMU): the counting
 * is done by a TCG plugin (tests/bench/icount_plugin.c) that logs the
 * instruction count whenever a bench_probe_* function is entered, and
 * tools/bench_probes.py turns that log into the BENCH lines.  Around each
 * call: probe start, the call, probe <op>; then probe grew (a growth call)
 * or probe drop (a warm-up call) when that applies.  The bodies differ so
 * that no two probes are folded into one.
 */
BENCH_PROBE(start, 1)
BENCH_PROBE(malloc, 2)
BENCH_PROBE(free, 3)
BENCH_PROBE(realloc, 4)
BENCH_PROBE(grew, 5)
BENCH_PROBE(drop, 6)
BENCH_PROBE(run, 7)
BENCH_PROBE(cal, 8)
#endif

/* ---- samples ------------------------------------------------------------------ */

#define MAX_SAMPLES 70000
static uint32_t samples[BENCH_NOPS][MAX_SAMPLES];
static unsigned nsamples[BENCH_NOPS];
static unsigned long dropped[BENCH_NOPS];
/* The workload's call number of each op's worst steady-state call. */
static uint32_t worst[BENCH_NOPS];
static unsigned long worst_at[BENCH_NOPS];
struct growth {
    uint64_t n, sum, max;
};
static struct growth growth[BENCH_NOPS];
static uint64_t overhead;
static size_t peak_foot, peak_frames;

/* Footprint series: a point every `every` calls, holding the highest live
 * byte count since the previous point (so that short peaks show) and the
 * footprint at the point; pairs are merged when the buffer is full. */
#define SERIES_MAX 512
static unsigned long ser_calls[SERIES_MAX];
static size_t ser_live[SERIES_MAX], ser_foot[SERIES_MAX];
static unsigned ser_n;
static unsigned long ser_every;
static size_t ser_win_live;

static void reset(void)
{
    for (int op = 0; op < BENCH_NOPS; op++) {
        nsamples[op] = 0;
        dropped[op] = 0;
        worst[op] = 0;
        worst_at[op] = 0;
        growth[op] = (struct growth){0, 0, 0};
    }
    peak_foot = peak_frames = 0;
    ser_n = 0;
    ser_every = 16;
    ser_win_live = 0;
}

static void note_growth(const struct bench_run *r)
{
    size_t f = r->a->footprint();
    if (f > peak_foot)
        peak_foot = f;
    if (r->a == &alloc_sheap) {
        f = sheap_frames_bytes();
    }
    if (f > peak_frames)
        peak_frames = f;
}

static void record(struct bench_run *r, enum bench_op op, uint64_t cost, bool grew)
{
#ifdef BENCH_PROBES
    (void)op, (void)cost;
    if (grew)
        note_growth(r);
    if (r->phase != BENCH_STEADY)
        bench_probe_drop();
    else if (grew)
        bench_probe_grew();
    return;
#endif
    cost = cost > overhead ? cost - overhead : 0;
    if (grew)
        note_growth(r);
    if (r->phase != BENCH_STEADY)
        return;
    if (grew) {
        struct growth *g = &growth[op];
        g->n++;
        g->sum += cost;
        g->max = cost > g->max ? cost : g->max;
    } else {
        uint32_t c = cost > UINT32_MAX ? UINT32_MAX : (uint32_t)cost;
        if (c > worst[op])
            worst[op] = c, worst_at[op] = r->calls;
        if (nsamples[op] < MAX_SAMPLES)
            samples[op][nsamples[op]++] = c;
        else
            dropped[op]++;
    }
}

void *bench_do_malloc(struct bench_run *r, size_t n)
{
    void *(*fn)(size_t) = r->a->malloc;
    uint64_t g = r->a->growth_token();
#ifdef BENCH_PROBES
    bench_probe_start();
    void *p = fn(n);
    bench_probe_malloc();
    uint64_t t0 = 0, t1 = 0;
#else
    uint64_t t0 = sheap_board_icount();
    void *p = fn(n);
    uint64_t t1 = sheap_board_icount();
#endif
    record(r, BENCH_MALLOC, t1 - t0, r->a->growth_token() != g);
    return p;
}

void bench_do_free(struct bench_run *r, void *p)
{
    void (*fn)(void *) = r->a->free;
    uint64_t g = r->a->growth_token();
#ifdef BENCH_PROBES
    bench_probe_start();
    fn(p);
    bench_probe_free();
    uint64_t t0 = 0, t1 = 0;
#else
    uint64_t t0 = sheap_board_icount();
    fn(p);
    uint64_t t1 = sheap_board_icount();
#endif
    record(r, BENCH_FREE, t1 - t0, r->a->growth_token() != g);
}

void *bench_do_realloc(struct bench_run *r, void *p, size_t n)
{
    void *(*fn)(void *, size_t) = r->a->realloc;
    uint64_t g = r->a->growth_token();
#ifdef BENCH_PROBES
    bench_probe_start();
    void *q = fn(p, n);
    bench_probe_realloc();
    uint64_t t0 = 0, t1 = 0;
#else
    uint64_t t0 = sheap_board_icount();
    void *q = fn(p, n);
    uint64_t t1 = sheap_board_icount();
#endif
    record(r, BENCH_REALLOC, t1 - t0, r->a->growth_token() != g);
    return q;
}

void bench_tick(struct bench_run *r)
{
    if (r->live > ser_win_live)
        ser_win_live = r->live;
    if (r->calls % ser_every)
        return;
    if (ser_n == SERIES_MAX) {
        for (unsigned i = 0; i < SERIES_MAX / 2; i++) {
            size_t a = ser_live[2 * i], b = ser_live[2 * i + 1];
            ser_calls[i] = ser_calls[2 * i + 1];
            ser_live[i] = a > b ? a : b;
            ser_foot[i] = ser_foot[2 * i + 1];
        }
        ser_n = SERIES_MAX / 2;
        ser_every *= 2;
        if (r->calls % ser_every)
            return;
    }
    ser_calls[ser_n] = r->calls;
    ser_live[ser_n] = ser_win_live;
    ser_foot[ser_n] = r->a->footprint();
    ser_n++;
    ser_win_live = r->live;
}

/* ---- reporting ------------------------------------------------------------------ */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static uint32_t quantile(const uint32_t *s, unsigned n, unsigned num, unsigned den)
{
    return s[(uint64_t)(n - 1) * num / den];
}

struct opstats {
    unsigned n;
    uint32_t p50, p99, max;
    uint64_t sum;
};

#ifdef BENCH_PROBES
#define BENCH_HAS_PROBES 1
#else
#define BENCH_HAS_PROBES 0
#endif

static struct opstats report_op(const char *board, const char *alloc, const char *wl, enum bench_op op)
{
    struct opstats st = {0, 0, 0, 0, 0};
    unsigned n = nsamples[op];
    const struct growth *g = &growth[op];
    if (n == 0 && g->n == 0)
        return st;
    uint32_t *s = samples[op];
    qsort(s, n, sizeof *s, cmp_u32);
    for (unsigned i = 0; i < n; i++)
        st.sum += s[i];
    st.n = n;
    if (n) {
        st.p50 = quantile(s, n, 1, 2);
        st.p99 = quantile(s, n, 99, 100);
        st.max = s[n - 1];
    }
    uint64_t mean10 = n ? (st.sum * 10 + n / 2) / n : 0;
    uint64_t gmean = g->n ? g->sum / g->n : 0;
    printf("BENCH %s %s %s %s n=%u mean=%llu.%llu p50=%lu p90=%lu p99=%lu max=%lu growth_n=%llu "
           "growth_mean=%llu growth_max=%llu dropped=%lu max_at=%lu\n",
           board, alloc, wl, bench_op_name[op], n, (unsigned long long)(mean10 / 10),
           (unsigned long long)(mean10 % 10), (unsigned long)st.p50,
           (unsigned long)(n ? quantile(s, n, 9, 10) : 0), (unsigned long)st.p99, (unsigned long)st.max,
           (unsigned long long)g->n, (unsigned long long)gmean, (unsigned long long)g->max, dropped[op],
           worst_at[op]);
#ifndef BENCH_CHECK
    if (n) {
        printf("QUANT %s %s %s %s ", board, alloc, wl, bench_op_name[op]);
        for (unsigned i = 0; i <= 200; i++)
            printf("%lu%s", (unsigned long)quantile(s, n, i, 200), i < 200 ? "," : "\n");
    }
#endif
    return st;
}

#ifndef BENCH_CHECK
static void print_series(const char *label, const unsigned long *v, unsigned n)
{
    printf(" %s=", label);
    for (unsigned i = 0; i < n; i++)
        printf("%lu%s", v[i], i + 1 < n ? "," : "");
}

static void print_series_sz(const char *label, const size_t *v, unsigned n)
{
    printf(" %s=", label);
    for (unsigned i = 0; i < n; i++)
        printf("%lu%s", (unsigned long)v[i], i + 1 < n ? "," : "");
}

#endif

static struct opstats run_one(const char *board, const struct bench_alloc *a, const struct bench_workload *w,
                              struct opstats *free_st)
{
    struct bench_run r;
    reset();
    bench_run_init(&r, a, 1);
#ifdef BENCH_PROBES
    printf("RUN %s %s %s\n", board, a->name, w->name);
    bench_probe_run();
#endif
    w->run(&r);
    if (r.failed) {
        printf("FAIL %s %s: an allocation failed after %lu calls\n", a->name, w->name, r.calls);
        sheap_board_exit(2);
    }
    note_growth(&r);
#ifdef BENCH_PROBES
    struct opstats m = {0, 0, 0, 0, 0};
    (void)report_op, (void)free_st;
    bench_probe_run(); /* the end of the run */
#else
    struct opstats m = report_op(board, a->name, w->name, BENCH_MALLOC);
    *free_st = report_op(board, a->name, w->name, BENCH_FREE);
    report_op(board, a->name, w->name, BENCH_REALLOC);
#endif
#ifndef BENCH_CHECK
    printf("FOOT %s %s %s peak_live=%lu peak_foot=%lu peak_frames=%lu calls=%lu\n", board, a->name, w->name,
           (unsigned long)r.peak_live, (unsigned long)peak_foot, (unsigned long)peak_frames, r.calls);
    printf("SERIES %s %s %s", board, a->name, w->name);
    print_series("calls", ser_calls, ser_n);
    print_series_sz("live", ser_live, ser_n);
    print_series_sz("foot", ser_foot, ser_n);
    printf("\n");
#endif
    if (a == &alloc_sheap) {
        int c = sheap_check();
        if (c != 0) {
            printf("FAIL sheap_check after %s: %s\n", w->name, sheap_check_message(c));
            sheap_board_exit(3);
        }
    }
    return m;
}

static void measure_overhead(void)
{
#ifdef BENCH_PROBES
    /* Back-to-back probes: tools/bench_probes.py takes the least difference. */
    for (int i = 0; i < 16; i++) {
        bench_probe_start();
        bench_probe_cal();
    }
    overhead = 0;
    return;
#endif
    overhead = UINT64_MAX;
    for (int i = 0; i < 16; i++) {
        uint64_t c0 = sheap_board_icount();
        uint64_t c1 = sheap_board_icount();
        if (c1 - c0 < overhead)
            overhead = c1 - c0;
    }
}

int main(void)
{
    const char *board = sheap_board_name();
    if (!sheap_board_has_icount() && !BENCH_HAS_PROBES) {
        printf("board %s has no exact instruction counter\n", board);
        return 1;
    }
    measure_overhead();
#ifdef BENCH_CHECK
    /* CI: the steady-state maxima of the small workload (size classes) and
     * of the uniform one (page runs up to 64 KB, after the small one on the
     * same heap) against the committed bounds (tests/bench/bounds.txt,
     * passed in by the Makefile). */
    static const struct {
        unsigned wl;
        const char *what;
        unsigned long malloc_max, free_max;
    } checks[] = {
        {0, "small", BENCH_BOUND_MALLOC_MAX, BENCH_BOUND_FREE_MAX},
        {2, "page-run (uniform)", BENCH_BOUND_RUN_MALLOC_MAX, BENCH_BOUND_RUN_FREE_MAX},
    };
    int passed = 0, failed = 0;
    for (unsigned i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        struct opstats f;
        struct opstats m = run_one(board, &alloc_sheap, &bench_workloads[checks[i].wl], &f);
        bool ok = m.max <= checks[i].malloc_max;
        printf("%s %s malloc max %lu <= bound %lu\n", ok ? "PASS" : "FAIL", checks[i].what, (unsigned long)m.max,
               checks[i].malloc_max);
        ok ? passed++ : failed++;
        ok = f.max <= checks[i].free_max;
        printf("%s %s free max %lu <= bound %lu\n", ok ? "PASS" : "FAIL", checks[i].what, (unsigned long)f.max,
               checks[i].free_max);
        ok ? passed++ : failed++;
    }
    printf("SUITE bench-bound: %d passed, %d failed\n", passed, failed);
    return failed != 0;
#else
    const struct bench_workload *w = &bench_workloads[BENCH_WORKLOAD];
    struct opstats f;
    printf("META %s overhead=%llu workload=%s desc=\"%s\"\n", board, (unsigned long long)overhead, w->name, w->desc);
    run_one(board, &alloc_sheap, w, &f);
    run_one(board, &alloc_pico, w, &f);
    printf("DONE %s %s\n", board, w->name);
    return 0;
#endif
}
