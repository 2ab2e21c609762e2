/*
 * mask_target.c - the longest stretch with interrupts masked, per public
 * call, on a QEMU board with an exact instruction counter (make mask-bench,
 * and make test on boards whose board.mk sets BENCH_CHECK).
 *
 * Linked with libsheap_mask.a: the core built with -DSHEAP_MASK_TRACE, whose
 * lock calls sheap_mask_trace_enter() right after it masks interrupts and
 * whose unlock calls sheap_mask_trace_exit() right before it unmasks them
 * (core/malloc.c).  Both read the counter; the longest stretch seen during
 * one public call is that call's masked time.  The back-to-back cost of
 * reading the counter is subtracted, so a stretch is what the heap did with
 * interrupts off (plus the one store of the lock's saved state).
 *
 * Every workload of tests/bench/workloads.c runs in turn on the default
 * heap, then sheap_trim; a call after which the heap held more memory is a
 * growth call (backed pages, metadata, a new arena).  Output lines:
 *   MASK <board> <wl> <op> steady_max= steady_at= growth_max= growth_at= calls_max= growth_calls_max=
 * (calls_max: the most instructions one whole call took, for comparison).
 * With -DMASK_BOUND=n it also checks every stretch against n and prints
 * a SUITE line (make test).
 *
 * With -DBENCH_PROBES (Cortex-M: QEMU models no counter there) the counting
 * is done outside the guest by tests/bench/icount_plugin.c: the trace hooks
 * enter bench_probe_mask_on / bench_probe_mask_off, the plugin keeps the
 * longest stretch and logs it at each bench_probe_mask_take, and
 * tools/mask_probes.py turns the log into the same MASK lines (and checks
 * the bound).
 */
#include <stdio.h>

#include "sheap.h"
#include "sheap_board.h"
#include "workloads.h"

void sheap_mask_trace_enter(void);
void sheap_mask_trace_exit(void);

#ifdef BENCH_PROBES
/* The plugin watches these (BENCH_PROBE, workloads.h). */
BENCH_PROBE(start, 1)
BENCH_PROBE(malloc, 2)
BENCH_PROBE(free, 3)
BENCH_PROBE(realloc, 4)
BENCH_PROBE(trim, 5)
BENCH_PROBE(grew, 6)
BENCH_PROBE(run, 7)
BENCH_PROBE(cal, 8)
BENCH_PROBE(mask_on, 9)
BENCH_PROBE(mask_off, 10)
BENCH_PROBE(mask_reset, 11)
BENCH_PROBE(mask_take, 12)

void sheap_mask_trace_enter(void) { bench_probe_mask_on(); }
void sheap_mask_trace_exit(void) { bench_probe_mask_off(); }

static uint64_t growth_token(void);
static void (*const op_probe[4])(void) = {bench_probe_malloc, bench_probe_free, bench_probe_realloc, bench_probe_trim};
#define MEASURED(r, op, call)                                                      \
    do {                                                                           \
        (void)(r);                                                                 \
        uint64_t g_ = growth_token();                                              \
        bench_probe_mask_reset();                                                  \
        bench_probe_start();                                                       \
        call;                                                                      \
        op_probe[(op)]();                                                          \
        bench_probe_mask_take();                                                   \
        if (growth_token() != g_ && (op) != 3)                                     \
            bench_probe_grew();                                                    \
    } while (0)
#else
static uint64_t mask_t0, mask_max, overhead;
/* Where the longest stretch of all began and ended (return addresses into
 * the core: addr2line names the lock and unlock sites). */
/* Every stretch of the current call (the first 16), for the WORSTAT line. */
static unsigned nstretch;
static uint64_t stretch_len[16];
static void *stretch_in[16], *stretch_out[16];
static void *enter_ra, *call_enter_ra, *call_exit_ra, *worst_enter_ra, *worst_exit_ra;

__attribute__((noinline)) void sheap_mask_trace_enter(void)
{
    enter_ra = __builtin_return_address(0);
    mask_t0 = sheap_board_icount();
}

__attribute__((noinline)) void sheap_mask_trace_exit(void)
{
    uint64_t d = sheap_board_icount() - mask_t0;
    if (nstretch < 16) {
        stretch_len[nstretch] = d;
        stretch_in[nstretch] = enter_ra;
        stretch_out[nstretch++] = __builtin_return_address(0);
    }
    if (d > mask_max) {
        mask_max = d;
        call_enter_ra = enter_ra;
        call_exit_ra = __builtin_return_address(0);
    }
}

#endif /* BENCH_PROBES */

static uint64_t growth_token(void)
{
    struct sheap_stats s;
    sheap_stats(&s);
    return (uint64_t)s.ready_bytes + s.metadata_bytes + s.reserved_bytes + s.grow_count;
}

static size_t footprint(void)
{
    struct sheap_stats s;
    sheap_stats(&s);
    return s.ready_bytes + s.metadata_bytes;
}

static const struct bench_alloc alloc_sheap = {
    "sheap", sheap_malloc, sheap_free, sheap_realloc, footprint, growth_token,
};

#ifndef BENCH_PROBES
enum { OP_TRIM = BENCH_NOPS, NOPS };
static const char *const op_names[NOPS] = {"malloc", "free", "realloc", "trim"};

struct opmax {
    uint64_t steady, growth, calls, growth_calls;
    unsigned long steady_at, growth_at;
};
static struct opmax stats[NOPS];
static uint64_t worst_all;

static void account(const struct bench_run *r, int op, uint64_t masked, uint64_t cost, bool grew)
{
    struct opmax *m = &stats[op];
    if (op == OP_TRIM)
        grew = false; /* trim only gives memory back */
    masked = masked > overhead ? masked - overhead : 0;
    cost = cost > overhead ? cost - overhead : 0;
    unsigned long at = r ? r->calls : 0;
    if (grew) {
        if (masked > m->growth)
            m->growth = masked, m->growth_at = at;
        if (cost > m->growth_calls)
            m->growth_calls = cost;
    } else {
        if (masked > m->steady)
            m->steady = masked, m->steady_at = at;
        if (cost > m->calls)
            m->calls = cost;
    }
    if (masked > worst_all) {
        worst_all = masked;
        worst_enter_ra = call_enter_ra;
        worst_exit_ra = call_exit_ra;
        printf("WORSTAT %llu op=%d", (unsigned long long)masked, op);
        for (unsigned i = 0; i < nstretch; i++)
            printf(" %llu:%p-%p", (unsigned long long)stretch_len[i], stretch_in[i], stretch_out[i]);
        printf("\n");
    }
}
#endif /* !BENCH_PROBES */

#ifndef BENCH_PROBES
/* Around one call: the masked maximum is reset before and read after, before
 * the growth test (sheap_stats takes the lock too). */
#define MEASURED(r, op, call)                                                      \
    do {                                                                           \
        uint64_t g_ = growth_token();                                              \
        mask_max = 0;                                                              \
        nstretch = 0;                                                              \
        uint64_t t0_ = sheap_board_icount();                                       \
        call;                                                                      \
        uint64_t t1_ = sheap_board_icount();                                       \
        uint64_t m_ = mask_max;                                                    \
        account((r), (op), m_, t1_ - t0_, growth_token() != g_);                   \
    } while (0)

#endif

void *bench_do_malloc(struct bench_run *r, size_t n)
{
    void *p;
    MEASURED(r, BENCH_MALLOC, p = sheap_malloc(n));
    return p;
}

void bench_do_free(struct bench_run *r, void *p) { MEASURED(r, BENCH_FREE, sheap_free(p)); }

void *bench_do_realloc(struct bench_run *r, void *p, size_t n)
{
    void *q;
    MEASURED(r, BENCH_REALLOC, q = sheap_realloc(p, n));
    return q;
}

void bench_tick(struct bench_run *r) { (void)r; }

#ifndef BENCH_PROBES
static void report(const char *board, const char *wl)
{
    for (int op = 0; op < NOPS; op++) {
        const struct opmax *m = &stats[op];
        printf("MASK %s %s %s steady_max=%llu steady_at=%lu growth_max=%llu growth_at=%lu calls_max=%llu "
               "growth_calls_max=%llu\n",
               board, wl, op_names[op], (unsigned long long)m->steady, m->steady_at, (unsigned long long)m->growth,
               m->growth_at, (unsigned long long)m->calls, (unsigned long long)m->growth_calls);
        stats[op] = (struct opmax){0, 0, 0, 0, 0, 0};
    }
}

#endif

#ifndef MASK_WORKLOADS
#define MASK_WORKLOADS 0xffffffffu /* a bit per index of bench_workloads */
#endif

#ifdef BENCH_PROBES
int main(void)
{
    const char *board = sheap_board_name();
    /* Calibration: the probe pair around a call, and a stretch with nothing
     * in it (tools/mask_probes.py subtracts the least of each). */
    for (int i = 0; i < 16; i++) {
        bench_probe_start();
        bench_probe_cal();
    }
    for (int i = 0; i < 16; i++) {
        bench_probe_mask_reset();
        sheap_mask_trace_enter();
        sheap_mask_trace_exit();
        bench_probe_mask_take();
    }
    for (unsigned w = 0; w < bench_nworkloads; w++) {
        struct bench_run r;
        if (!((MASK_WORKLOADS >> w) & 1u))
            continue;
        printf("RUN %s sheap %s\n", board, bench_workloads[w].name);
        bench_probe_run();
        bench_run_init(&r, &alloc_sheap, 1);
        bench_workloads[w].run(&r);
        if (r.failed) {
            printf("FAIL %s: an allocation failed after %lu calls\n", bench_workloads[w].name, r.calls);
            return 2;
        }
        MEASURED((struct bench_run *)NULL, 3, sheap_trim());
        bench_probe_run();
        int c = sheap_check();
        if (c != 0) {
            printf("FAIL sheap_check after %s: %s\n", bench_workloads[w].name, sheap_check_message(c));
            return 3;
        }
    }
    printf("DONE %s\n", board);
    return 0;
}
#else
int main(void)
{
    const char *board = sheap_board_name();
    if (!sheap_board_has_icount()) {
        printf("board %s has no exact instruction counter\n", board);
        return 1;
    }
    overhead = UINT64_MAX;
    for (int i = 0; i < 16; i++) {
        uint64_t c0 = sheap_board_icount();
        uint64_t c1 = sheap_board_icount();
        if (c1 - c0 < overhead)
            overhead = c1 - c0;
    }
    for (unsigned w = 0; w < bench_nworkloads; w++) {
        struct bench_run r;
        bench_run_init(&r, &alloc_sheap, 1);
        bench_workloads[w].run(&r);
        if (r.failed) {
            printf("FAIL %s: an allocation failed after %lu calls\n", bench_workloads[w].name, r.calls);
            return 2;
        }
        MEASURED((struct bench_run *)NULL, OP_TRIM, sheap_trim());
        int c = sheap_check();
        if (c != 0) {
            printf("FAIL sheap_check after %s: %s\n", bench_workloads[w].name, sheap_check_message(c));
            return 3;
        }
        report(board, bench_workloads[w].name);
    }
    printf("MASKMAX %s %llu locked_at=%p unlocked_at=%p\n", board, (unsigned long long)worst_all, worst_enter_ra,
           worst_exit_ra);
#ifdef MASK_BOUND
    int ok = worst_all <= MASK_BOUND;
    printf("%s longest masked stretch %llu <= bound %llu\n", ok ? "PASS" : "FAIL", (unsigned long long)worst_all,
           (unsigned long long)MASK_BOUND);
    printf("SUITE mask-bound: %d passed, %d failed\n", ok, !ok);
    return !ok;
#else
    return 0;
#endif
}
#endif
