/*
 * test_faults.c - fault injection swept over every call a workload makes.
 *
 * For each port operation (reserve, map, used): run a fixed workload once
 * to count how many calls of that operation it makes, then run it again
 * once for every N up to that count with the Nth call made to fail.  Every
 * operation of the workload must either succeed or fail cleanly (NULL), the
 * heap must pass sheap_check() after each run, and once everything is freed
 * and trimmed no Ready heap page may remain.  On MMU boards the physical
 * frames must come back exactly: to the frames of the previous run for the
 * steady workload, and to "metadata pages only" for the growing one.
 *
 * Two workloads:
 *   steady  allocations of every kind inside the heap as it is (used()
 *           calls only, once the heap is warm);
 *   growing the same plus one new arena per run (ph_grow, as a malloc that
 *           finds no free run does), so reserve and map are reached too.
 */
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
     * static-port board: a few arenas) may be used up by now, and then no
     * growth reaches map().  tests/static checks map() on such a region. */
    struct sheap_stats st;
    sheap_stats(&st);
    if (st.arenas + 2 > ((uint64_t)SHEAP_REGION_SIZE >> SHEAP_ARENA_SHIFT)) {
        printf("  skipped: %zu of the heap region's %llu arenas in use; growth cannot reach map()\n", st.arenas,
               (unsigned long long)((uint64_t)SHEAP_REGION_SIZE >> SHEAP_ARENA_SHIFT));
        return;
    }
#endif
    unsigned long calls = sweep(SHEAP_OP_MAP, true, &ok);
    total_calls += calls;
    CHECK(ok);
#if SHEAP_32BIT_MODE
    sheap_stats(&st);
    if (calls == 0 && st.arenas == ((uint64_t)SHEAP_REGION_SIZE >> SHEAP_ARENA_SHIFT)) {
        printf("  skipped: the warm-up run took the whole heap region (%zu arenas); growth cannot reach map()\n",
               st.arenas);
        return;
    }
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

/* A block freed, its memory returned to the port, then freed again: still a
 * clean misuse report, even though its pages are no longer Ready. */
static void test_free_after_trim(void)
{
    sheap_fault_hook old = sheap_set_fault_hook(harness_fault_hook);
    unsigned before = harness_faults;
    void *small = sheap_malloc(48);
    void *large = sheap_malloc(10 * PAGE);
    CHECK(small && large);
    sheap_free(small);
    sheap_free(large);
    sheap_trim();
    sheap_free(small);
    sheap_free(large);
    CHECK_EQ(harness_faults, before + 2);
    CHECK(sheap_usable_size(large) == 0);
    CHECK_EQ(harness_faults, before + 3);
    sheap_set_fault_hook(old);
    CHECK_HEAP();
}

int main(void)
{
    RUN(test_sweep_used_steady);
    RUN(test_sweep_reserve_growing);
    RUN(test_sweep_map_growing);
    RUN(test_sweep_used_growing);
    RUN(test_free_after_trim);
    printf("  %lu workload runs, %lu port calls swept, %lu failures injected in all, %lu operations failed cleanly\n",
           runs, total_calls, sheap_fault_inject_count(), ops_failed);
    return harness_finish("faults");
}
