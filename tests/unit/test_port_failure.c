/*
 * test_port_failure.c - the port fails, the heap stays sound.
 *
 * Faults are injected through the test heap's backend (fault_backend.h):
 * reserve (address space), map (mappings) and used (backing) calls fail
 * with SHEAP_BACKEND_ENOMEM.  Allocations that need the failed call return
 * NULL / ENOMEM and leave the heap sound, and the heap works again once
 * the port does.
 *
 * Sweeps over every call a workload makes: for each operation, run a fixed
 * workload once to count its calls of that operation, then again once for
 * every N up to that count with the Nth call made to fail.  Every
 * operation of the workload must succeed or fail cleanly, the heap must
 * pass sheap_check() after each run, and once everything is freed and
 * trimmed no Ready heap page may remain.  On MMU boards the physical frames
 * must come back exactly: to the frames of the previous run for the steady
 * workload, and to "metadata pages only" for the growing one.  Two such
 * workloads:
 *   steady  allocations of every kind inside the heap as it is (used()
 *           calls only, once the heap is warm);
 *   growing the same plus one new arena per run (ph_grow, as a malloc that
 *           finds no free run does), so reserve and map are reached too.
 *
 * A sweep of the first 20 calls of each operation over a mixed workload
 * on an empty heap (it also covers the heap's first growth), checking each
 * failed allocation's statistics exactly.
 *
 * Every call of one operation failing: allocations of every kind fail
 * cleanly with nothing changed but oom_count, both inside the heap (used)
 * and where the heap must grow (reserve, map); a growth request with its
 * Nth call failing, N = 1, 2, ... until it gets through; and a failure
 * while metadata is handed out keeps the metadata chunk.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "sheap.h"
#include "sheap_board.h"
#include "sheap_internal.h"
#ifndef BOARD_HAS_MMU
#define BOARD_HAS_MMU 0
#endif
#if BOARD_HAS_MMU
#include "sheap_mmu.h"
#endif

#define PAGE SHEAP_PAGE_SIZE
#define ARENA SHEAP_ARENA_SIZE
#define MAXSMALL ((size_t)SHEAP_CLASS_MAX_SIZE)

/* ---- sweeps over every call of a workload -------------------------------------------- */


#define PAGE SHEAP_PAGE_SIZE
#define BLOCKS 48
#define MAX_SWEEP 400

static void *blk[BLOCKS];
static unsigned long ops_failed, runs;

static void workload(bool grow)
{
    unsigned n = 0;
    if (grow) {
        heap_lock();
        bool ok = span_pool_reserve(&sheap_heap, 1) && ph_grow(&sheap_heap, SHEAP_ARENA_PAGES);
        heap_unlock();
        ops_failed += !ok;
    }
    /* Small blocks of many classes, page runs, aligned, zeroed, resized. */
    for (unsigned i = 0; i < 24; i++)
        blk[n++] = sheap_malloc(8 + i * 97);
    blk[n++] = sheap_malloc(3 * PAGE + 1);
    blk[n++] = sheap_malloc(SHEAP_MAX_SMALL_SIZE + 1);
    blk[n++] = sheap_aligned_alloc(64 * 1024, 5000);
    blk[n++] = sheap_aligned_alloc(PAGE, 100);
    blk[n++] = sheap_calloc(10, 1024);
    blk[n++] = sheap_calloc(3, 20 * 1024);
    void *r = sheap_malloc(40);
    if (r) {
        memset(r, 0x5a, 40);
        void *q = sheap_realloc(r, 64 * 1024);
        if (q) {
            unsigned char *c = q;
            bool kept = true;
            for (unsigned i = 0; i < 40; i++)
                kept &= c[i] == 0x5a;
            if (!kept)
                ops_failed += 1000000; /* content lost: fails the test below */
            r = q;
        }
    }
    blk[n++] = r;
    for (unsigned i = 0; i < n; i++) {
        if (blk[i] == NULL)
            ops_failed++;
        else
            memset(blk[i], 0xa5, sheap_usable_size(blk[i]) < 256 ? sheap_usable_size(blk[i]) : 256);
    }
    for (unsigned i = 0; i < n; i++) {
        sheap_free(blk[i]);
        blk[i] = NULL;
    }
    sheap_trim();
    runs++;
}

struct frames_now {
    uintptr_t heap, tables;
};

static struct frames_now frames_now(void)
{
    struct frames_now f = {0, 0};
#if BOARD_HAS_MMU
    struct sheap_frame_stats s;
    sheap_mmu_frame_stats(&s);
    f.heap = s.heap_pages;
    f.tables = s.table_pages;
#endif
    return f;
}

__attribute__((unused)) static uintptr_t meta_ready(void)
{
    heap_lock();
    uintptr_t m = sheap_heap.c.meta_bytes + index_ready_bytes(); /* the heap's and the index's */
    heap_unlock();
    return m;
}

static const char *const op_names[SHEAP_OP_COUNT] = {"reserve", "map", "used"};

/* Sweep every N of op over the workload.  Returns the calls swept. */
static unsigned long sweep(enum sheap_port_op op, bool grow, bool *ok)
{
    *ok = false;
    workload(grow); /* warm up: classes, metadata and tables exist */
    unsigned long c0 = sheap_fault_inject_calls(op);
    workload(grow);
    unsigned long calls = sheap_fault_inject_calls(op) - c0;
    if (calls > MAX_SWEEP)
        calls = MAX_SWEEP;
    unsigned long injected0 = sheap_fault_inject_count();
    for (unsigned long n = 1; n <= calls; n++) {
        struct frames_now before = frames_now();
        unsigned long failed_before = ops_failed;
        sheap_fault_inject_arm(op, n);
        workload(grow);
        sheap_fault_inject_arm(op, 0);
        if (ops_failed - failed_before >= 1000000) {
            printf("  %s #%lu: realloc lost content\n", op_names[op], n);
            return calls;
        }
        int r = sheap_check();
        struct sheap_stats st;
        sheap_stats(&st);
        struct frames_now after = frames_now();
        if (r != 0 || st.live_blocks != 0 || st.ready_bytes != 0) {
            printf("  %s #%lu: check %d (%s), live %zu, ready %zu\n", op_names[op], n, r, sheap_check_message(r),
                   st.live_blocks, st.ready_bytes);
            return calls;
        }
#if BOARD_HAS_MMU
        /* No heap page keeps a frame; metadata is all that is backed. */
        if (after.heap * PAGE != meta_ready()) {
            printf("  %s #%lu: %lu frames back pages, metadata is %lu bytes\n", op_names[op], n,
                   (unsigned long)after.heap, (unsigned long)meta_ready());
            return calls;
        }
        if (!grow && (after.heap != before.heap || after.tables != before.tables)) {
            printf("  %s #%lu: frames %lu+%lu, before %lu+%lu\n", op_names[op], n, (unsigned long)after.heap,
                   (unsigned long)after.tables, (unsigned long)before.heap, (unsigned long)before.tables);
            return calls;
        }
#else
        (void)before;
        (void)after;
#endif
    }
    printf("  %-7s %s workload: %lu calls, each made to fail once: %lu failures injected\n", op_names[op],
           grow ? "growing" : "steady ", calls, sheap_fault_inject_count() - injected0);
    *ok = true;
    return calls;
}

static unsigned long total_calls;

static void test_sweep_used_steady(void)
{
    bool ok;
    unsigned long calls = sweep(SHEAP_OP_USED, false, &ok);
    total_calls += calls;
    CHECK(ok);
    CHECK(calls > 0);
}

static void test_sweep_reserve_growing(void)
{
    bool ok;
    unsigned long calls = sweep(SHEAP_OP_RESERVE, true, &ok);
    total_calls += calls;
    CHECK(ok);
    /* In 32-bit mode growth is served from the initial reservation first,
     * without reserve calls. */
    CHECK(calls > 0 || SHEAP_32BIT_MODE);
}

static void test_sweep_map_growing(void)
{
    bool ok;
#if SHEAP_32BIT_MODE
    /* The growing sweeps take an arena per run; a fixed heap region (a
     * static-port board: a few arenas) may be too small for them, and then
     * no growth reaches map().  tests/static checks map() on such a region. */
    struct sheap_stats st;
    sheap_stats(&st);
    if (st.arenas + 2 > ((uint64_t)SHEAP_REGION_SIZE >> SHEAP_ARENA_SHIFT))
        SKIP("%zu of the heap region's %llu arenas in use; growth cannot reach map()", st.arenas,
             (unsigned long long)((uint64_t)SHEAP_REGION_SIZE >> SHEAP_ARENA_SHIFT));
#endif
    unsigned long calls = sweep(SHEAP_OP_MAP, true, &ok);
    total_calls += calls;
    CHECK(ok);
#if SHEAP_32BIT_MODE
    sheap_stats(&st);
    if (calls == 0 && st.arenas == ((uint64_t)SHEAP_REGION_SIZE >> SHEAP_ARENA_SHIFT))
        SKIP("the warm-up run took the whole heap region (%zu arenas); growth cannot reach map()", st.arenas);
#endif
    CHECK(calls > 0);
}

static void test_sweep_used_growing(void)
{
    bool ok;
    unsigned long calls = sweep(SHEAP_OP_USED, true, &ok);
    total_calls += calls;
    CHECK(ok);
    CHECK(calls > 0);
}

/* ---- the first 20 calls of each operation, on an empty heap ---------------------------- */

struct sweep_stats {
    unsigned steps_hit; /* steps in which the armed call was reached */
    unsigned failed;    /* calls that returned NULL */
    unsigned kept;      /* failed calls after which growth stayed (arenas etc.) */
};

/* One allocation that may fail: *out is a sound block, or NULL after a clean
 * failure (ENOMEM, one more oom, no block gained or lost, heap sound). */
static void try_alloc(void **out, size_t n, unsigned kind, struct sweep_stats *r)
{
    struct sheap_stats b = stats_now();
    errno = 0;
    unsigned char *p = kind == 0 ? sheap_malloc(n) : kind == 1 ? sheap_calloc(1, n) : sheap_aligned_alloc(64, n);
    struct sheap_stats a = stats_now();
    *out = p;
    if (p != NULL) {
        size_t u = sheap_usable_size(p);
        CHECK(u >= n);
        if (kind == 1)
            CHECK(p[0] == 0 && p[u - 1] == 0);
        if (kind == 2)
            CHECK_EQ((uintptr_t)p % 64, 0);
        p[0] = 0x5A;
        p[u - 1] = 0xA5;
        CHECK_EQ(a.oom_count, b.oom_count);
        CHECK_EQ(a.live_blocks, b.live_blocks + 1);
    } else {
        r->failed++;
        CHECK_EQ(errno, ENOMEM);
        CHECK_EQ(a.oom_count, b.oom_count + 1);
        CHECK_EQ(a.live_bytes, b.live_bytes);
        CHECK_EQ(a.live_blocks, b.live_blocks);
        CHECK_EQ(a.peak_live_bytes, b.peak_live_bytes);
        CHECK_EQ(a.spans_small, b.spans_small);
        CHECK_EQ(a.spans_large, b.spans_large);
        CHECK_EQ(a.misuse_count, b.misuse_count);
        /* Growth that succeeded before a later step failed may stay. */
        if (a.arenas != b.arenas || a.ready_bytes != b.ready_bytes || a.free_bytes != b.free_bytes ||
            a.spans_free != b.spans_free)
            r->kept++;
    }
    CHECK_HEAP();
}

#define WORK_MAX 12

/* The mixed workload: small and large blocks of each allocation function,
 * and one realloc growing a page run. */
static void mixed_workload(struct sweep_stats *r)
{
    static const size_t sizes[] = {8, 100, 1000, 5000, 20000, MAXSMALL + 1, 16 * PAGE};
    void *p[WORK_MAX];
    unsigned n = 0;
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        CALL(try_alloc(&p[n++], sizes[i], i % 3, r));
    CALL(try_alloc(&p[n++], 3 * PAGE, 2, r));
    /* Grow the MAXSMALL + 1 block: in place, or moved, or a clean failure. */
    unsigned char *q = p[5];
    if (q != NULL) {
        size_t u = sheap_usable_size(q);
        struct sheap_stats b = stats_now();
        errno = 0;
        unsigned char *g = sheap_realloc(q, 40 * PAGE);
        if (g != NULL) {
            CHECK(g[0] == 0x5A && g[u - 1] == 0xA5);
            p[5] = g;
        } else {
            r->failed++;
            CHECK_EQ(errno, ENOMEM);
            CHECK_EQ(sheap_usable_size(q), u);
            CHECK(q[0] == 0x5A && q[u - 1] == 0xA5);
            struct sheap_stats a = stats_now();
            CHECK_EQ(a.live_bytes, b.live_bytes);
            CHECK_EQ(a.oom_count, b.oom_count + 1);
        }
        CHECK_HEAP();
    }
    for (unsigned i = 0; i < n; i++)
        sheap_free(p[i]);
}

static void first_calls_sweep(enum sheap_port_op op, const char *name)
{
    struct sweep_stats r = {0, 0, 0};
    unsigned long calls0 = sheap_fault_inject_calls(op);
    for (unsigned long nth = 1; nth <= 20; nth++) {
        sheap_trim(); /* every span must be backed again */
        struct sheap_stats base = stats_now();
        unsigned long inj = sheap_fault_inject_count();
        sheap_fault_inject_arm(op, nth);
        mixed_workload(&r);
        sheap_fault_inject_arm(op, 0);
        if (harness_failed_now)
            return;
        if (sheap_fault_inject_count() != inj)
            r.steps_hit++;
        CHECK_HEAP();
        struct sheap_stats s = stats_now();
        CHECK_EQ(s.live_blocks, base.live_blocks);
        CHECK_EQ(s.live_bytes, base.live_bytes);
    }
    /* No backing leaked: with nothing live, trim leaves nothing Ready. */
    sheap_trim();
    struct sheap_stats s = stats_now();
    CHECK_EQ(s.live_blocks, 0);
    CHECK_EQ(s.ready_bytes, 0);
    CHECK_EQ(s.spans_small + s.spans_large, 0);
    CHECK_HEAP();
    printf("  %-7s sweep: %lu calls, armed call reached in %u of 20 steps, %u failed calls (%u kept growth)\n",
           name, sheap_fault_inject_calls(op) - calls0, r.steps_hit, r.failed, r.kept);
}

static void test_port_failure_sweep(void)
{
    struct sheap_stats s0 = stats_now();
    CHECK_EQ(s0.live_blocks, 0);
    /* MAP and RESERVE first: on the empty heap their first steps meet the
     * heap's first growth (later growth has test_reserve_and_map_failure).
     * USED last: every span taken after sheap_trim needs backing again. */
    CALL(first_calls_sweep(SHEAP_OP_MAP, "MAP"));
    CALL(first_calls_sweep(SHEAP_OP_RESERVE, "RESERVE"));
    CALL(first_calls_sweep(SHEAP_OP_USED, "USED"));
    struct sheap_stats s = stats_now();
    printf("  heap after the sweeps: %llu arenas\n", (unsigned long long)s.arenas);
}

/* ---- port failures: every call of one kind fails ------------------------------------ */

/* Allocations of every kind must fail cleanly: NULL / ENOMEM (or
 * SHEAP_ENOMEM), stats unchanged except oom_count. */
static void expect_all_fail(size_t n)
{
    /* A failing allocation may give kept empty spans back (sheap.h); start
     * with none, so that "unchanged" is exact. */
    sheap_trim();
    struct sheap_stats b = stats_now();
    uint64_t d = heap_digest();
    errno = 0;
    CHECK(sheap_malloc(n) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(sheap_calloc(1, n) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(sheap_realloc(NULL, n) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(sheap_aligned_alloc(128, n) == NULL);
    CHECK_EQ(errno, ENOMEM);
    void *out = (void *)&out;
    CHECK_EQ(sheap_posix_memalign(&out, 128, n), SHEAP_ENOMEM);
    CHECK(out == (void *)&out);
    struct sheap_stats a = stats_now();
    b.oom_count += 5;
    CHECK(stats_same(&a, &b));
    CHECK(heap_digest() == d);
    CHECK_HEAP();
}

/* 32-bit mode: take the rest of the initial reservation as arenas now.  A
 * fresh heap would otherwise grow inside it during the test below, and on a
 * board whose arena records are small (1 KB pages) the new record fits a
 * page that is Ready already, so that growth needs no used() call and
 * succeeds even while every used() fails. */
static void fill_initial_reservation(void)
{
#if SHEAP_32BIT_MODE
    for (unsigned i = 0; i < 1024; i++) {
        heap_lock();
        bool left = sheap_heap.arena_space.end != 0 && sheap_heap.arena_space.end - sheap_heap.arena_space.next >= ARENA;
        bool ok = left && span_pool_reserve(&sheap_heap, 1) && ph_grow(&sheap_heap, SHEAP_ARENA_PAGES);
        heap_unlock();
        if (!left)
            return;
        CHECK(ok);
    }
#endif
}

static void test_used_failure(void)
{
    CALL(fill_initial_reservation());
    /* A live page run to grow later, then nothing Ready but live spans. */
    unsigned char *keep = sheap_malloc(MAXSMALL + 1);
    CHECK(keep != NULL);
    size_t ku = sheap_usable_size(keep);
    memset(keep, 0x6B, ku);
    sheap_trim();
    unsigned long inj = sheap_fault_inject_count();
    sheap_fault_inject_all(SHEAP_OP_USED, true);
    /* Small (no partial span left after trim), large, and more than all free
     * pages (growth whose metadata needs backing). */
    expect_all_fail(100);
    expect_all_fail(MAXSMALL);
    expect_all_fail(MAXSMALL + 1);
    expect_all_fail(64 * PAGE);
    expect_all_fail(stats_now().free_bytes + PAGE);
    /* realloc that needs new pages: NULL, old block intact. */
    struct sheap_stats b = stats_now();
    errno = 0;
    void *g = sheap_realloc(keep, ku + 8 * PAGE);
    struct sheap_stats a = stats_now();
    sheap_fault_inject_all(SHEAP_OP_USED, false);
    if (harness_failed_now)
        return;
    CHECK(g == NULL);
    CHECK_EQ(errno, ENOMEM);
    b.oom_count++;
    CHECK(stats_same(&a, &b));
    CHECK_EQ(sheap_usable_size(keep), ku);
    for (size_t i = 0; i < ku; i++)
        CHECK(keep[i] == 0x6B);
    CHECK(sheap_fault_inject_count() > inj);
    CHECK_HEAP();
    /* Works again. */
    void *p = sheap_malloc(100), *l = sheap_malloc(64 * PAGE);
    CHECK(p != NULL && l != NULL);
    keep = sheap_realloc(keep, ku + 8 * PAGE);
    CHECK(keep != NULL && keep[0] == 0x6B && keep[ku - 1] == 0x6B);
    sheap_free(p);
    sheap_free(l);

    /* With free pages still Ready, a failed allocation may hand them back to
     * the port (the page heap trims and retries when backing fails); that
     * is the only trace it may leave.  (It also gives kept empty spans
     * back; sheap_trim first, so that there are none.) */
    sheap_trim();
    void *big = sheap_malloc(64 * PAGE);
    CHECK(big != NULL);
    sheap_free(big); /* 64 Ready free pages */
    b = stats_now();
    CHECK(b.ready_bytes > b.live_bytes);
    sheap_fault_inject_all(SHEAP_OP_USED, true);
    errno = 0;
    g = sheap_malloc(128 * PAGE);
    a = stats_now();
    sheap_fault_inject_all(SHEAP_OP_USED, false);
    CHECK(g == NULL);
    CHECK_EQ(errno, ENOMEM);
    CHECK(a.ready_bytes <= b.ready_bytes);
    CHECK_EQ(a.ready_bytes + a.prepared_bytes, b.ready_bytes + b.prepared_bytes);
    b.oom_count++;
    b.ready_bytes = a.ready_bytes;
    b.prepared_bytes = a.prepared_bytes;
    CHECK(stats_same(&a, &b));
    CHECK(keep[0] == 0x6B && keep[ku - 1] == 0x6B);
    CHECK_HEAP();

    sheap_free(keep);
    sheap_trim();
    CHECK_EQ(stats_now().ready_bytes, 0);
    CHECK_HEAP();
}

/* ---- port failures: growth --------------------------------------------------------- */

/*
 * Growth is forced with a modest request: first every free run of an arena
 * or more is split by a one-page block on an arena boundary (an
 * arena-aligned aligned_alloc backs one page only), so that no run can hold
 * ARENA + PAGE bytes; such a request then needs two new arenas.  In 32-bit
 * mode the rest of the initial reservation grows the heap without
 * reserve(), so a request that must reserve is bigger than that rest.
 */
#define MAX_PINS 64
static void *pins[MAX_PINS];
static unsigned npins;

static void pin_free_space(void)
{
    while (find_free_run(SHEAP_ARENA_PAGES) != NULL) {
        CHECK(npins < MAX_PINS);
        struct sheap_stats b = stats_now();
        void *p = sheap_aligned_alloc(ARENA, 1);
        CHECK(p != NULL);
        CHECK_EQ(stats_now().arenas, b.arenas); /* split, not grown */
        pins[npins++] = p;
    }
}

static void unpin(void)
{
    while (npins > 0)
        sheap_free(pins[--npins]);
}

static size_t growth_request(enum sheap_port_op op)
{
    size_t n = ARENA + PAGE;
    if (op == SHEAP_OP_RESERVE && sheap_heap.arena_space.end != 0)
        n += sheap_heap.arena_space.end - sheap_heap.arena_space.next;
    return n;
}

/* Allocations of every kind fail cleanly while every call of op fails. */
static void growth_all_fail(enum sheap_port_op op)
{
    size_t n = growth_request(op);
#if SHEAP_32BIT_MODE
    /* A fixed heap region (a static-port board: a few arenas) may have no
     * room left for this growth; then no reserve() succeeds and map() is
     * never reached.  tests/static checks the static port's map(). */
    uint64_t room = (((uint64_t)SHEAP_REGION_SIZE >> SHEAP_ARENA_SHIFT) - stats_now().arenas) * ARENA;
    if (op == SHEAP_OP_MAP && room < round_up(n, ARENA)) {
        printf("  map: skipped, the heap region has %llu KB left for a %llu-byte growth\n",
               (unsigned long long)(room >> 10), (unsigned long long)n);
        return;
    }
#endif
    unsigned long inj = sheap_fault_inject_count(), calls = sheap_fault_inject_calls(op);
    sheap_fault_inject_all(op, true);
    expect_all_fail(n);
    sheap_fault_inject_all(op, false);
    if (harness_failed_now)
        return;
    CHECK(sheap_fault_inject_calls(op) > calls); /* growth was really attempted */
    CHECK(sheap_fault_inject_count() > inj);
}

/* Fail the Nth call of op, N = 1, 2, ..., on a request that needs growth,
 * until the request gets through: every call on the growth path fails once.
 * A failed growth changes nothing, so each step starts from the same heap. */
static void growth_sweep(enum sheap_port_op op, const char *name)
{
    size_t n = growth_request(op);
    unsigned long nth;
    bool done = false;
    for (nth = 1; nth <= 20 && !done; nth++) {
        sheap_trim(); /* no kept empty spans: see expect_all_fail */
        struct sheap_stats b = stats_now();
        uint64_t d = heap_digest();
        unsigned long inj = sheap_fault_inject_count(), calls = sheap_fault_inject_calls(op);
        sheap_fault_inject_arm(op, nth);
        errno = 0;
        unsigned char *p = sheap_malloc(n);
        calls = sheap_fault_inject_calls(op) - calls;
        sheap_fault_inject_arm(op, 0);
        bool hit = sheap_fault_inject_count() != inj;
        if (p != NULL) {
            p[0] = 1;
            p[n - 1] = 2;
            CHECK(stats_now().arenas > b.arenas);
            sheap_free(p);
            printf("  %-7s growth: %lu-byte request failed cleanly at calls 1..%lu in turn, then grew the heap "
                   "(%lu calls%s)\n",
                   name, (unsigned long)n, nth - 1, calls, hit ? ", one failure absorbed" : "");
            done = true;
        } else {
            CHECK_EQ(errno, ENOMEM);
            struct sheap_stats a = stats_now();
            b.oom_count++;
            CHECK(stats_same(&a, &b));
            CHECK(heap_digest() == d);
            CHECK_HEAP();
            if (!hit) {
                /* Not injected: the port itself has no room for this much. */
                printf("  %-7s growth: %lu-byte request does not fit this port; %lu steps\n", name,
                       (unsigned long)n, nth);
                done = true;
            }
        }
    }
    CHECK(done);
    CHECK_HEAP();
}

/*
 * Regression (core/arena.c, meta_alloc): a port failure (map or used) while
 * handing out metadata from the current chunk must fail the allocation and
 * keep the chunk, not abandon its remaining room for a new reservation.
 * 64-bit mode (arena records come from the chunk).
 */
/* A fresh heap has no metadata chunk and no span records yet; the growth
 * tests start from a heap that has both (the first growth also makes them,
 * and keeps them even when the growth itself fails). */
static void warm_up(void)
{
    void *w = sheap_malloc(64);
    CHECK(w != NULL);
    sheap_free(w);
}

static void test_meta_chunk_kept_after_port_failure(void)
{
#if SHEAP_32BIT_MODE
    SKIP("64-bit mode only (32-bit arena records do not come from the metadata chunk)");
#else
    CALL(warm_up());
    CALL(pin_free_space());
    uintptr_t end = sheap_heap.meta.end, room = end - sheap_heap.meta.next;
    CHECK(end != 0);
    /* The test's fresh heap has used little of its first chunk: room for
     * the records of the growth below. */
    CHECK(room >= 4 * sizeof(struct sheap_arena) + 2 * sizeof(struct index_l2) + 2 * PAGE);
    struct sheap_stats b = stats_now();
    /* The first used() of this growth is the metadata page of the new
     * arena records; it fails once. */
    sheap_fault_inject_arm(SHEAP_OP_USED, 1);
    void *p = sheap_malloc(ARENA + PAGE);
    sheap_fault_inject_arm(SHEAP_OP_USED, 0);
    struct sheap_stats a = stats_now();
    uintptr_t end_after = sheap_heap.meta.end;
    sheap_free(p);
    unpin();
    sheap_trim();
    CHECK_HEAP();
    /* Whether the allocation failed or got through: the chunk that had room
     * is still the one in use, and no address space beyond the new arenas
     * (and, with lazy arena records, each new arena's record reservation
     * between its guard pages) was reserved. */
    CHECK(end_after == end);
    uintptr_t per_arena = ARENA;
#if SHEAP_LAZY_ARENA_META
    per_arena += ((uintptr_t)ARENA_REC_PAGES + (sheap_heap.backend.meta_apart ? 0 : 2)) * PAGE;
#endif
    CHECK_EQ(a.reserved_bytes - b.reserved_bytes, (a.arenas - b.arenas) * per_arena);
#endif
}

static void test_reserve_and_map_failure(void)
{
    /* Both kinds fail every call: nothing changes but oom_count. */
    CALL(warm_up());
    CALL(pin_free_space());
    CALL(growth_all_fail(SHEAP_OP_RESERVE));
    CALL(growth_all_fail(SHEAP_OP_MAP));
    /* The Nth call of map, then of reserve: clean failures until the heap
     * grows; the heap works again once the port does. */
    CALL(growth_sweep(SHEAP_OP_MAP, "MAP"));
    CALL(pin_free_space());
    CALL(growth_sweep(SHEAP_OP_RESERVE, "RESERVE"));
    unpin();
    /* Modest requests work, and no backing is left behind. */
    void *q = sheap_malloc(2 * PAGE + MAXSMALL), *r = sheap_malloc(64);
    CHECK(q != NULL && r != NULL);
    sheap_free(q);
    sheap_free(r);
    sheap_trim();
    struct sheap_stats s = stats_now();
    CHECK_EQ(s.live_blocks, 0);
    CHECK_EQ(s.ready_bytes, 0);
    printf("  heap after the growth tests: %llu arenas\n", (unsigned long long)s.arenas);
    CHECK_HEAP();
}

int main(void)
{
    RUN(test_sweep_used_steady);
    RUN(test_sweep_reserve_growing);
    RUN(test_sweep_map_growing);
    RUN(test_sweep_used_growing);
    RUN(test_port_failure_sweep);
    RUN(test_used_failure);
    RUN(test_reserve_and_map_failure);
    RUN(test_meta_chunk_kept_after_port_failure);
    printf("  %lu workload runs, %lu port calls swept, %lu operations failed cleanly\n", runs, total_calls,
           ops_failed);
    return harness_finish("port_failure");
}
