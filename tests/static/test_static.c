/*
 * test_static.c - the static port (port/static) on its boards: the region
 * and pool from the linker script, the port contract on a fixed region,
 * the protection unit's guard above the Ready watermark, exhaustion and
 * recovery of the whole heap, the metadata figures, and at hardening
 * level 3 the protection regions ("holes") over sampled blocks' guard
 * pages and their budget.
 *
 * Runs on every board whose board.mk names it in BOARD_TESTS (the boards of
 * the static port).  The first test destroys the fresh heap the harness
 * made, so the whole region is free for the port checks; the rest use the
 * heap.
 * Port functions are called under the heap lock, as the core calls them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../port/static/sheap_static.h"
#include "harness.h"
#include "sheap.h"
#include "sheap_board.h"
#include "sheap_internal.h"

#define PAGE SHEAP_PAGE_SIZE
#define ARENA SHEAP_ARENA_SIZE
#define REGION_ARENAS ((uintptr_t)(SHEAP_REGION_SIZE >> SHEAP_ARENA_SHIFT))
/* unsigned long, not long long: the static boards are 32-bit, and newlib
 * nano's printf has no %ll (it would misread every later argument). */
#define U(x) ((unsigned long)(x))

#ifndef BOARD_HAS_GUARD
#define BOARD_HAS_GUARD 1
#endif
/* ARMv8-M's guard is privileged read-only: stores fault, loads do not. */
#if defined(__ARM_ARCH_8M_MAIN__)
#define GUARD_STOPS_LOADS 0
#else
#define GUARD_STOPS_LOADS 1
#endif

static struct sheap_static_info info_now(void)
{
    struct sheap_static_info i;
    sheap_static_info(&i);
    return i;
}

#define port_reserve test_port_reserve_locked
#define port_release test_port_release_locked

/* Store (or load) one word at addr, armed for a fault; true when it
 * faulted, with the reported address in *where. */
static bool store_faults(uintptr_t addr, uintptr_t *where)
{
    *where = 0;
    sheap_board_expect_fault();
    *(volatile uint32_t *)addr = 0x5a5a5a5au;
    return sheap_board_fault_taken(where);
}

static bool load_faults(uintptr_t addr, uintptr_t *where)
{
    *where = 0;
    sheap_board_expect_fault();
    (void)*(volatile uint32_t *)addr;
    return sheap_board_fault_taken(where);
}

/* ---- 1. the port contract on a fixed region (before the heap exists) ---------- */

static void test_port_contract(void)
{
    CHECK_EQ(harness_release_heap(), 0); /* no heap: nothing reserved */
    struct sheap_static_info in = info_now();
    printf("  region [0x%lx, 0x%lx) = %lu KB, %lu arenas of %lu KB; metadata pool [0x%lx, 0x%lx) = %lu KB\n",
           U(in.region_base), U(in.region_end), U((in.region_end - in.region_base) >> 10), U(REGION_ARENAS),
           U(ARENA >> 10), U(in.meta_base), U(in.meta_end), U((in.meta_end - in.meta_base) >> 10));
    /* The linker script and board.h agree; the pool is off the region. */
    CHECK_EQ(in.region_base, SHEAP_REGION_BASE);
    CHECK_EQ(in.region_end - in.region_base, SHEAP_REGION_SIZE);
    CHECK(in.meta_end <= in.region_base || in.meta_base >= in.region_end);
    CHECK(in.meta_end - in.meta_base <= SHEAP_STATIC_META_SIZE);
    CHECK_EQ(test_port_page_size(), PAGE);
    CHECK_EQ(in.region_reserved_bytes, 0);
    CHECK_EQ(in.ready_end, in.region_base);

    /* Whole arenas without a hint: arena aligned pieces of the region, in
     * order, until the region is used up; then ENOMEM. */
    uintptr_t a[64];
    unsigned n = 0;
    int r;
    while (n < 64 && (r = port_reserve(0, ARENA, &a[n])) == SHEAP_PORT_OK) {
        CHECK_EQ(a[n] & (ARENA - 1), 0);
        CHECK(a[n] >= in.region_base && a[n] + ARENA <= in.region_end);
        n++;
    }
    CHECK_EQ(n, REGION_ARENAS);
    CHECK_EQ(r, SHEAP_PORT_ENOMEM);
    CHECK_EQ(info_now().region_reserved_bytes, SHEAP_REGION_SIZE);
    uintptr_t x;
    CHECK_EQ(port_reserve(0, 2 * ARENA, &x), SHEAP_PORT_ENOMEM);

    /* At a hint: taken -> EBUSY; outside both pools -> ENOMEM. */
    CHECK_EQ(port_reserve(a[0], ARENA, &x), SHEAP_PORT_EBUSY);
    CHECK_EQ(port_reserve(a[0] + PAGE, PAGE, &x), SHEAP_PORT_EBUSY);
    CHECK_EQ(port_reserve(in.region_end, ARENA, &x), SHEAP_PORT_ENOMEM);
    CHECK_EQ(port_reserve(in.region_end - PAGE, 2 * PAGE, &x), SHEAP_PORT_ENOMEM);

    /* Release any sub-range; it can be had again, exactly there. */
    uintptr_t mid = a[n / 2];
    port_release(mid + PAGE, 2 * PAGE);
    CHECK_EQ(port_reserve(0, ARENA, &x), SHEAP_PORT_ENOMEM); /* no whole arena free */
    CHECK_EQ(port_reserve(mid, 3 * PAGE, &x), SHEAP_PORT_EBUSY); /* its first page is held */
    CHECK_EQ(port_reserve(mid + PAGE, 2 * PAGE, &x), SHEAP_PORT_OK);
    CHECK_EQ(x, mid + PAGE);
    port_release(mid, ARENA);
    CHECK_EQ(port_reserve(0, ARENA, &x), SHEAP_PORT_OK); /* the freed arena, and only it */
    CHECK_EQ(x, mid);

    /* Prepared -> Ready moves the guard's watermark up, unused and release
     * move it down to the highest Ready page left. */
    bool zeroed = true;
    heap_lock();
    int rm = test_port_map(mid, ARENA);
    int ru = test_port_used(mid, 2 * PAGE, &zeroed);
    int ru2 = test_port_used(a[0], PAGE, &zeroed);
    heap_unlock();
    CHECK_EQ(rm, SHEAP_PORT_OK);
    CHECK_EQ(ru, SHEAP_PORT_OK);
    CHECK_EQ(ru2, SHEAP_PORT_OK);
    CHECK(!zeroed); /* static RAM is never known to be zero */
    CHECK(mid > a[0]);
    CHECK_EQ(info_now().ready_end, mid + 2 * PAGE);
    CHECK_EQ(info_now().region_ready_bytes, 3 * PAGE);
    heap_lock();
    test_port_unused(mid + PAGE, PAGE);
    heap_unlock();
    CHECK_EQ(info_now().ready_end, mid + PAGE);
    port_release(mid, ARENA);
    CHECK_EQ(info_now().ready_end, a[0] + PAGE);
    heap_lock();
    test_port_unused(a[0], PAGE);
    heap_unlock();
    CHECK_EQ(info_now().ready_end, in.region_base);
    /* map of something never reserved fails */
    heap_lock();
    rm = test_port_map(mid, PAGE);
    heap_unlock();
    CHECK_EQ(rm, SHEAP_PORT_ENOMEM);

    for (unsigned i = 0; i < n; i++)
        if (a[i] != mid)
            port_release(a[i], ARENA);
    CHECK_EQ(info_now().region_reserved_bytes, 0);

    /* The metadata pool: everything that is not whole arenas.  First fit,
     * until it is full (ENOMEM), then all of it back. */
    uintptr_t m0, m1, m2;
    CHECK_EQ(port_reserve(0, 3 * PAGE, &m0), SHEAP_PORT_OK);
    CHECK(m0 >= in.meta_base && m0 + 3 * PAGE <= in.meta_end);
    port_release(m0 + PAGE, PAGE);
    CHECK_EQ(port_reserve(m0 + PAGE, PAGE, &m1), SHEAP_PORT_OK);
    CHECK_EQ(port_reserve(m0 + PAGE, PAGE, &m1), SHEAP_PORT_EBUSY);
    uintptr_t left = in.meta_end - in.meta_base - 3 * PAGE;
    CHECK_EQ(port_reserve(0, left + PAGE, &m2), SHEAP_PORT_ENOMEM);
    if (left) {
        CHECK_EQ(port_reserve(0, left, &m2), SHEAP_PORT_OK);
        CHECK_EQ(port_reserve(0, PAGE, &x), SHEAP_PORT_ENOMEM);
        port_release(m2, left);
    }
    port_release(m0, 3 * PAGE);
    CHECK_EQ(info_now().meta_reserved_bytes, 0);

    /* Fault injection reaches the port's reserve. */
    sheap_fault_inject_arm(SHEAP_OP_RESERVE, 1);
    r = port_reserve(0, ARENA, &x);
    sheap_fault_inject_arm(SHEAP_OP_RESERVE, 0);
    CHECK_EQ(r, SHEAP_PORT_ENOMEM);
    CHECK_EQ(info_now().region_reserved_bytes, 0);
}

/* ---- 2. the metadata figures ---------------------------------------------------- */

static void test_metadata_figures(void)
{
    void *p = sheap_malloc(24);
    CHECK(p != NULL);
    struct sheap_stats st = stats_now();
    struct sheap_static_info in = info_now();
    uintptr_t upfront = round_up(REGION_ARENAS * sizeof(struct sheap_arena), PAGE);
    printf("  per arena: struct sheap_arena %lu B for %lu pages of %lu B (%.2f%% of the arena)\n",
           U(sizeof(struct sheap_arena)), U(SHEAP_ARENA_PAGES), U(PAGE),
           100.0 * (double)sizeof(struct sheap_arena) / (double)ARENA);
    printf("  up front: arena records for all %lu frames of the region reserved: %lu B (pool)\n",
           U(REGION_ARENAS), U(upfront));
    printf("  static: struct sheap_heap %lu B (arena index %lu B), span record %lu B, metadata chunk %lu B\n",
           U(sizeof(struct sheap_heap)), U(index_static_bytes()), U(sizeof(struct sheap_span)),
           U(SHEAP_META_CHUNK));
    printf("  after one malloc: stats.metadata_bytes %lu, reserved_bytes %lu, arenas %lu, ready %lu B; "
           "pool reserved %lu B\n",
           U(st.metadata_bytes), U(st.reserved_bytes), U(st.arenas), U(st.ready_bytes), U(in.meta_reserved_bytes));
    if (st.arenas)
        printf("  stats.metadata_bytes per arena: %lu B\n", U(st.metadata_bytes / st.arenas));
    /* Metadata is in the pool, never in the region. */
    heap_lock();
    uintptr_t am = sheap_heap.arena_meta.end, mm = sheap_heap.meta.end;
    heap_unlock();
    CHECK(am > in.meta_base && am <= in.meta_end);
    CHECK(mm == 0 || (mm > in.meta_base && mm <= in.meta_end));
    CHECK((uintptr_t)sheap_heap.arenas >= in.meta_base && (uintptr_t)sheap_heap.arenas < in.meta_end);
    CHECK(in.meta_reserved_bytes >= upfront);
    CHECK(st.metadata_bytes >= sizeof(struct sheap_arena));
    sheap_free(p);
    CHECK_HEAP();
}

/* ---- 3. the guard ------------------------------------------------------------------ */

static void test_guard(void)
{
    if (!BOARD_HAS_GUARD || !sheap_board_can_trap_faults())
        SKIP("no protection unit or no fault trapping on this board");
    sheap_trim();
    struct sheap_static_info in = info_now();
    uintptr_t g = in.guard_granule;
    CHECK(g != 0 && g <= 4096);
    uintptr_t where;

    /* A block of a few pages: it ends at or below the watermark. */
    uintptr_t npg = 3;
    char *blk = sheap_malloc(npg * PAGE);
    CHECK(blk != NULL);
    in = info_now();
    uintptr_t wm = in.ready_end, first = round_up(wm, g);
    printf("  watermark 0x%lx after a %lu-page block at %p; granule %lu B; region end 0x%lx\n", U(wm), U(npg),
           (void *)blk, U(g), U(in.region_end));
    CHECK((uintptr_t)blk + npg * PAGE <= wm);
    CHECK(first < in.region_end);

    /* Ready memory: no fault, anywhere in the block, up to its last word. */
    CHECK(!store_faults((uintptr_t)blk, &where));
    CHECK(!store_faults((uintptr_t)blk + npg * PAGE - 4, &where));
    CHECK(!load_faults((uintptr_t)blk + PAGE, &where));

    /* Just above the watermark (first guarded granule), in the middle of
     * the never-used part, and the region's last word: each store faults,
     * at exactly that address. */
    const uintptr_t probes[] = {first, first + (in.region_end - first) / 2 / 4 * 4, in.region_end - 4};
    for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        bool f = store_faults(probes[i], &where);
        if (!f || where != probes[i])
            printf("  store at 0x%lx: %s (0x%lx)\n", U(probes[i]), f ? "fault at wrong address" : "no fault",
                   U(where));
        CHECK(f);
        CHECK_EQ(where, probes[i]);
        if (GUARD_STOPS_LOADS) {
            f = load_faults(probes[i], &where);
            CHECK(f);
            CHECK_EQ(where, probes[i]);
        }
    }
    printf("  stores at 0x%lx (watermark), 0x%lx and 0x%lx faulted at those addresses%s\n", U(probes[0]),
           U(probes[1]), U(probes[2]), GUARD_STOPS_LOADS ? "; loads too" : "; loads are allowed (ARMv8-M)");

    /* The guard follows the heap: free and trim the block, and its pages
     * (the top of the Ready part) fault again. */
    sheap_free(blk);
    sheap_trim();
    in = info_now();
    CHECK(in.ready_end <= (uintptr_t)blk);
    CHECK(store_faults((uintptr_t)blk + PAGE, &where));
    CHECK_EQ(where, (uintptr_t)blk + PAGE);
    /* and allocating makes them Ready again */
    char *again = sheap_malloc(npg * PAGE);
    CHECK(again != NULL);
    CHECK(!store_faults((uintptr_t)again + npg * PAGE - 4, &where));
    sheap_free(again);
    CHECK_HEAP();
}

/* ---- 4. exhaustion and recovery ---------------------------------------------------- */

#ifdef BOARD_SMALL_RAM
#define MAXBLK 1024
#else
#define MAXBLK 4096
#endif
static void *blocks[MAXBLK];
static size_t sizes[MAXBLK];

/* Allocate a mixed pattern until nothing fits: 96 small blocks of sizes 8 to
 * 3.5 KB, then at each size, from a third
 * of the region (a run across arenas) down to 8 bytes, blocks of that size,
 * 3 bytes more (calloc) and 100 bytes more in turn until one fails.
 * Returns the block count; *first_fail the first size that failed. */
static unsigned fill_heap(size_t *first_fail)
{
    static const size_t odd[] = {0, 3, 100};
    unsigned n = 0, k = 0;
    *first_fail = 0;
    /* First small blocks of many classes, so that small spans sit between
     * the page runs that follow. */
    for (unsigned i = 0; i < 96 && n < MAXBLK; i++) {
        size_t sz = 8 + (size_t)i * 37;
        void *p = sheap_malloc(sz);
        if (p == NULL)
            break;
        memset(p, (int)(n & 0xff), sz < 64 ? sz : 64);
        blocks[n] = p;
        sizes[n] = sz;
        n++;
    }
    for (size_t s = SHEAP_REGION_SIZE / 3; s >= 8; s /= 2) {
        while (n < MAXBLK) {
            size_t sz = s + odd[k % 3];
            void *p = (k % 3 == 1) ? sheap_calloc(1, sz) : sheap_malloc(sz);
            k++;
            if (p == NULL) {
                if (*first_fail == 0)
                    *first_fail = sz;
                break;
            }
            memset(p, (int)(n & 0xff), sz < 64 ? sz : 64);
            blocks[n] = p;
            sizes[n] = sz;
            n++;
        }
    }
    /* Last, the smallest class until it fails too: no free page is left. */
    while (n < MAXBLK && (blocks[n] = sheap_malloc(8)) != NULL) {
        memset(blocks[n], (int)(n & 0xff), 8);
        sizes[n++] = 8;
    }
    return n;
}

static void test_exhaustion(void)
{
    sheap_trim();
    struct sheap_stats s0 = stats_now();
    /* Bigger than the whole region: fails at once, cleanly. */
    errno = 0;
    void *huge = sheap_malloc(SHEAP_REGION_SIZE + PAGE);
    CHECK(huge == NULL);
    CHECK_EQ(errno, ENOMEM);
    CHECK_HEAP();

    size_t first_fail;
    unsigned n = fill_heap(&first_fail);
    CHECK(n < MAXBLK);
    struct sheap_stats full = stats_now();
    struct sheap_static_info in = info_now();
    printf("  full: %u blocks, live %lu KB, ready %lu KB of %lu KB, metadata %lu B, arenas %lu; "
           "first failure at %lu B\n",
           n, U(full.live_bytes >> 10), U(full.ready_bytes >> 10), U(SHEAP_REGION_SIZE >> 10),
           U(full.metadata_bytes), U(full.arenas), U(first_fail));
    printf("  region: %lu KB reserved, %lu KB Ready, watermark 0x%lx; pool %lu of %lu KB reserved\n",
           U(in.region_reserved_bytes >> 10), U(in.region_ready_bytes >> 10), U(in.ready_end),
           U(in.meta_reserved_bytes >> 10), U((in.meta_end - in.meta_base) >> 10));
    CHECK_EQ(full.arenas, REGION_ARENAS);
    CHECK(full.oom_count > s0.oom_count);
    /* Nothing fits now: small, page run, and bigger than what is left. */
    errno = 0;
    CHECK(sheap_malloc(8) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(sheap_malloc(SHEAP_REGION_SIZE - full.live_bytes + PAGE) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(sheap_calloc(4, PAGE) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(sheap_aligned_alloc(PAGE, 3 * PAGE) == NULL);
    CHECK_EQ(errno, ENOMEM);
    /* realloc that cannot grow keeps the block */
    void *last = blocks[n - 1];
    errno = 0;
    CHECK(sheap_realloc(last, SHEAP_REGION_SIZE / 2) == NULL);
    CHECK_EQ(errno, ENOMEM);
    CHECK(((unsigned char *)last)[0] == (unsigned char)((n - 1) & 0xff));
    CHECK_HEAP();
    struct sheap_stats after = stats_now();
    CHECK_EQ(after.live_blocks, full.live_blocks);
    CHECK_EQ(after.live_bytes, full.live_bytes);

    /* Free everything (interleaved, odd then even).  Then recovery, twice:
     * (1) as it is: filling the heap again from where the frees left it
     * gets as far as the first fill, give or take the empty spans the size
     * classes keep (a kept head per class; they shape where blocks land and
     * go back to the free runs when an allocation fails);
     * (2) from the state the first fill started in (sheap_trim gives kept
     * spans back): the very same allocations succeed again, to the last
     * byte of the region. */
    for (unsigned i = 1; i < n; i += 2)
        sheap_free(blocks[i]);
    CHECK_HEAP();
    for (unsigned i = 0; i < n; i += 2)
        sheap_free(blocks[i]);
    CHECK_HEAP();
    CHECK_EQ(stats_now().live_blocks, s0.live_blocks);
    static size_t first_sizes[MAXBLK];
    for (unsigned i = 0; i < n; i++)
        first_sizes[i] = sizes[i];
    size_t ff2;
    unsigned n2 = fill_heap(&ff2);
    struct sheap_stats full2 = stats_now();
    printf("  refill after the frees: %u blocks, live %lu KB (first fill %lu KB)\n", n2,
           U(full2.live_bytes >> 10), U(full.live_bytes >> 10));
    CHECK(full2.live_bytes >= full.live_bytes - full.live_bytes / 10);
    CHECK_HEAP();
    for (unsigned i = 0; i < n2; i++)
        sheap_free(blocks[i]);
    sheap_trim();
    CHECK_EQ(stats_now().live_blocks, s0.live_blocks);
    for (unsigned i = 0; i < n; i++) {
        blocks[i] = sheap_malloc(first_sizes[i]);
        if (blocks[i] == NULL)
            printf("  recovery: block %u of %lu B failed\n", i, U(first_sizes[i]));
        CHECK(blocks[i] != NULL);
        memset(blocks[i], 0x33, first_sizes[i] < 64 ? first_sizes[i] : 64);
    }
    CHECK_HEAP();
    printf("  recovery: the same %u allocations succeeded again\n", n);
    for (unsigned i = 0; i < n; i++)
        sheap_free(blocks[i]);
    sheap_trim();
    CHECK_HEAP();
    struct sheap_stats end = stats_now();
    CHECK_EQ(end.live_blocks, s0.live_blocks);
    CHECK_EQ(end.ready_bytes, 0);
    CHECK_EQ(info_now().region_ready_bytes, 0);
    CHECK_EQ(info_now().ready_end, in.region_base);
}

#if SHEAP_HARDENING >= 3
/* ---- 5. level 3: holes over guard pages, and their budget ---------------------- */

#define HOLE_BLOCK 200 /* not a multiple of 16: the block is placed 208 bytes before the guard */

/* The first byte past block p (HOLE_BLOCK bytes) and the last byte of the
 * page after it fault at exactly those addresses (a store; and a load
 * where the unit stops loads). */
static void check_guarded(unsigned char *p)
{
    uintptr_t where, end = (uintptr_t)p + 208; /* the guard page */
    CHECK_EQ(end % PAGE, 0);
    CHECK_EQ(sheap_usable_size(p), 208);
    memset(p, 0x5c, 208); /* the block and its padding are writable */
    CHECK(store_faults(end, &where));
    CHECK_EQ(where, end);
    CHECK(store_faults(end + PAGE - 4, &where)); /* a page past the block */
    CHECK_EQ(where, end + PAGE - 4);
    if (GUARD_STOPS_LOADS) {
        CHECK(load_faults(end, &where));
        CHECK_EQ(where, end);
    }
    CHECK_EQ(p[HOLE_BLOCK - 1], 0x5c);
}

/* Every hole over a live guarded block; the next sampled malloc is refused
 * (an ordinary block, counted); a free gives its hole back at once. */
static void test_guard_holes(void)
{
    struct sheap_static_info in = info_now();
    printf("  %lu holes, %lu in use, %lu refused so far\n", U(in.guard_holes), U(in.guard_holes_used),
           U(in.guard_refused));
    if (!BOARD_HAS_GUARD) {
        CHECK_EQ(in.guard_holes, 0);
        return;
    }
    CHECK(in.guard_holes >= 1 && in.guard_holes <= 16);
    CHECK_EQ(in.guard_holes_used, 0);
    unsigned char *b[17];
    unsigned nh = (unsigned)in.guard_holes;
    for (unsigned i = 0; i < nh; i++) {
        sheap_guard_next(1);
        b[i] = sheap_malloc(HOLE_BLOCK);
        CHECK(b[i] != NULL);
        CHECK_EQ(info_now().guard_holes_used, i + 1);
        check_guarded(b[i]);
        CHECK_EQ(sheap_check(), 0);
    }
    /* No hole left: the sampled block is an ordinary one. */
    sheap_guard_next(1);
    unsigned char *extra = sheap_malloc(HOLE_BLOCK);
    CHECK(extra != NULL);
    CHECK_EQ(info_now().guard_refused, in.guard_refused + 1);
    CHECK_EQ(info_now().guard_holes_used, nh);
    CHECK(sheap_usable_size(extra) >= HOLE_BLOCK);
    memset(extra, 1, HOLE_BLOCK);
    CHECK_EQ(sheap_check(), 0);
    /* Freeing a guarded block lifts its hole: the page after it (now in a
     * free run) no longer faults where the watermark does not guard it;
     * the next sampled malloc gets a hole again. */
    uintptr_t freed_guard = (uintptr_t)b[0] + 208, where;
    sheap_free(b[0]);
    CHECK_EQ(info_now().guard_holes_used, nh - 1);
    if (freed_guard + PAGE <= info_now().ready_end) {
        CHECK(!store_faults(freed_guard, &where)); /* a free page: harmless */
    }
    sheap_guard_next(1);
    b[0] = sheap_malloc(HOLE_BLOCK);
    CHECK(b[0] != NULL);
    CHECK_EQ(info_now().guard_holes_used, nh);
    CHECK_EQ(info_now().guard_refused, in.guard_refused + 1);
    check_guarded(b[0]);
    /* realloc moves a guarded block (its hole follows it: freed, then taken
     * by nobody, as the new block is not sampled). */
    unsigned char *m = sheap_realloc(b[0], HOLE_BLOCK + 100);
    CHECK(m != NULL && m[0] == 0x5c && m[HOLE_BLOCK - 1] == 0x5c);
    CHECK_EQ(info_now().guard_holes_used, nh - 1);
    sheap_free(m);
    for (unsigned i = 1; i < nh; i++)
        sheap_free(b[i]);
    sheap_free(extra);
    CHECK_EQ(info_now().guard_holes_used, 0);
    CHECK_EQ(sheap_check(), 0);
}
#endif

int main(void)
{
    printf("static port on %s\n", sheap_board_name());
    RUN(test_port_contract);
    RUN(test_metadata_figures);
    RUN(test_guard);
    RUN(test_exhaustion);
#if SHEAP_HARDENING >= 3
    RUN(test_guard_holes);
#endif
    return harness_finish("static");
}
