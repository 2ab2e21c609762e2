/*
 * test_mmu.c - what only an MMU port can show: physical frames follow the
 * heap's memory states.  Built for boards whose board.mk lists it
 * (qemu-virt-aarch64, qemu-virt-riscv64).
 *
 *   - frames in use = Ready heap pages + Ready metadata + table pages;
 *   - a fresh 64 MB arena costs under 1 % of its size in frames;
 *   - growth beyond physical RAM fails cleanly, no frame leaked;
 *   - the heap grows across arenas at far-apart hints (in the upper half
 *     of the reachable addresses too: above 2^47 on AArch64);
 *   - freeing everything and trimming brings frames back to the baseline;
 *   - a page handed back to the port faults on the next access;
 *   - frames above 2 GB (SHEAP_MMU_EXTRA_FRAMES on qemu-virt-aarch64) back
 *     heap pages like any other.
 */
#include <string.h>

#include "harness.h"
#include "sheap.h"
#include "sheap_board.h"
#include "sheap_internal.h"
#include "sheap_mmu.h"

#define PAGE SHEAP_PAGE_SIZE

/* The upper half of the heap's window (the addresses the backend can
 * reach). */
#define HIGH_VA ((uintptr_t)SHEAP_MMU_WINDOW_END / 2)

static struct sheap_frame_stats frames(void)
{
    struct sheap_frame_stats f;
    sheap_mmu_frame_stats(&f);
    return f;
}

static uintptr_t frames_in_use(void)
{
    struct sheap_frame_stats f = frames();
    return f.heap_pages + f.table_pages;
}

static uintptr_t meta_ready_bytes(void)
{
    heap_lock();
    uintptr_t m = sheap_heap.c.meta_bytes + index_ready_bytes(); /* the heap's and the index's */
    heap_unlock();
    return m;
}

/* Frames backing pages = Ready heap pages + Ready metadata pages. */
static void test_frames_match_ready_pages(void)
{
    void *p = sheap_malloc(3 * PAGE * 100);
    void *q = sheap_malloc(100);
    CHECK(p && q);
    struct sheap_stats st;
    sheap_stats(&st);
    struct sheap_frame_stats f = frames();
    CHECK_EQ(f.heap_pages * PAGE, st.ready_bytes + meta_ready_bytes());
    CHECK(f.table_pages >= 2); /* the tables below the window's root entry */
    printf("  frames: %lu heap pages (%zu KB heap + %lu KB metadata), %lu table pages\n",
           (unsigned long)f.heap_pages, st.ready_bytes / 1024, (unsigned long)(meta_ready_bytes() / 1024),
           (unsigned long)f.table_pages);
    sheap_free(p);
    sheap_free(q);
    CHECK_HEAP();
}

/* Growing by one arena takes frames only for its metadata. */
static void test_fresh_arena_costs_little(void)
{
    heap_lock();
    bool rec = span_pool_reserve(&sheap_heap, 1); /* ph_grow's span record, made beforehand */
    heap_unlock();
    CHECK(rec);
    uintptr_t before = frames_in_use();
    heap_lock();
    uintptr_t arenas = sheap_heap.c.arenas;
    bool grown = ph_grow(&sheap_heap, SHEAP_ARENA_PAGES);
    struct sheap_arena *a = sheap_heap.arenas_tail;
    heap_unlock();
    CHECK(grown);
    CHECK_EQ(sheap_heap.c.arenas, arenas + 1);
    uintptr_t cost = (frames_in_use() - before) * PAGE;
    printf("  new %lu MB arena: %lu frames = %lu KB (%lu.%02lu %% of the arena)\n",
           (unsigned long)(SHEAP_ARENA_SIZE >> 20), (unsigned long)(cost / PAGE), (unsigned long)(cost / 1024),
           (unsigned long)(cost * 100 / SHEAP_ARENA_SIZE), (unsigned long)(cost * 10000 / SHEAP_ARENA_SIZE % 100));
    CHECK(cost * 100 < SHEAP_ARENA_SIZE);
    CHECK(!sheap_mmu_is_mapped(a->base));
    CHECK(!sheap_mmu_is_mapped(a->base + SHEAP_ARENA_SIZE - PAGE));
    CHECK_HEAP();
    void *big = sheap_malloc(SHEAP_ARENA_SIZE / 2);
    CHECK(big != NULL);
    sheap_free(big);
}

/* More than physical RAM: NULL, and every frame taken on the way comes back. */
static void test_growth_beyond_ram_fails_cleanly(void)
{
    sheap_trim();
    uintptr_t before = frames_in_use();
    struct sheap_stats s0, s1;
    sheap_stats(&s0);
    void *p = sheap_malloc((size_t)frames().total * PAGE + PAGE);
    CHECK(p == NULL);
    sheap_stats(&s1);
    CHECK_EQ(s1.oom_count, s0.oom_count + 1);
    CHECK_EQ(s1.live_bytes, s0.live_bytes);
    CHECK_HEAP();
    /* Frames still match Ready pages: nothing taken on the way leaked. */
    CHECK_EQ(frames().heap_pages * PAGE, s1.ready_bytes + meta_ready_bytes());
    (void)before;

    /* Fill RAM with 4 MB blocks until it runs out, then free them all. */
    enum { MAX = 64 };
    void *blk[MAX];
    unsigned n = 0;
    while (n < MAX && (blk[n] = sheap_malloc(4u << 20)) != NULL) {
        memset(blk[n], 0xa5, 4u << 20);
        n++;
    }
    uintptr_t pa_max = 0;
    for (unsigned i = 0; i < n; i++)
        for (uintptr_t off = 0; off < (4u << 20); off += 1u << 20) {
            uintptr_t pa = sheap_mmu_translate(sheap_mmu_default(), (uintptr_t)blk[i] + off);
            CHECK(pa != 0);
            pa_max = pa > pa_max ? pa : pa_max;
        }
    printf("  filled %u blocks of 4 MB before running out of frames; highest frame at %#lx\n", n,
           (unsigned long)pa_max);
    CHECK(n > 4 && n < MAX);
#ifdef SHEAP_MMU_EXTRA_FRAMES
    CHECK(pa_max >= 0x80000000u); /* the frames above 2 GB were used too */
#endif
    CHECK_HEAP();
    for (unsigned i = 0; i < n; i++)
        sheap_free(blk[i]);
    sheap_trim();
    CHECK_HEAP();
    struct sheap_stats st;
    sheap_stats(&st);
    CHECK_EQ(st.ready_bytes, 0);
    CHECK_EQ(frames().heap_pages * PAGE, meta_ready_bytes());
}

/* Block the next hints: the heap must move on to the following ones,
 * which are far apart; one of them is at or above HIGH_VA.  Each round adds an
 * arena (ph_grow, as a malloc that finds no free run would), checks that it
 * avoided the blocked range, and uses memory in it. */
static uintptr_t blocked_pages[3];
static unsigned nblocked;

static void release_blocked(void)
{
    heap_lock();
    while (nblocked > 0)
        test_port_release(blocked_pages[--nblocked], PAGE);
    heap_unlock();
}

static void grows_at_far_apart_hints(void)
{
    uintptr_t high = 0;
    for (int round = 0; round < 3; round++) {
        heap_lock();
        unsigned nh = sheap_heap.nhints;
        struct arena_hint hint = sheap_heap.hints[nh ? nh - 1 : 0];
        uintptr_t got, blocked = hint.down ? hint.addr - PAGE : hint.addr;
        int r = nh ? test_port_reserve(blocked, PAGE, &got) : -1;
        if (r == SHEAP_PORT_OK)
            blocked_pages[nblocked++] = blocked;
        bool grown = r == SHEAP_PORT_OK && span_pool_reserve(&sheap_heap, 1) &&
                     ph_grow(&sheap_heap, SHEAP_ARENA_PAGES);
        uintptr_t base = sheap_heap.arenas_tail->base;
        heap_unlock();
        CHECK(nh > 0);
        CHECK_EQ(r, SHEAP_PORT_OK);
        CHECK(grown);
        CHECK(base + SHEAP_ARENA_SIZE <= blocked || base > blocked);
        char *p = sheap_malloc(SHEAP_ARENA_SIZE / 2 + PAGE);
        CHECK(p != NULL);
        p[0] = 1;
        p[SHEAP_ARENA_SIZE / 2] = 2;
        printf("  round %d: hint %#lx blocked; new arena at %#lx; block at %#lx\n", round,
               (unsigned long)hint.addr, (unsigned long)base, (unsigned long)(uintptr_t)p);
        if (base >= HIGH_VA)
            high = base;
        sheap_free(p);
        CHECK_HEAP();
    }
    CHECK(high != 0);
}

/* The pages taken from the heap's hints go back at the end. */
static void test_grows_at_far_apart_hints(void)
{
    grows_at_far_apart_hints();
    release_blocked();
}

static void workload(void)
{
    static void *blk[300];
    for (unsigned i = 0; i < 300; i++)
        blk[i] = sheap_malloc(i % 3 == 0 ? (i + 1) * 1000 : 16 + i);
    for (unsigned i = 0; i < 300; i++)
        sheap_free(blk[i]);
}

/* Free everything and trim: frames return to the baseline exactly. */
static void test_frames_back_to_baseline(void)
{
    workload(); /* creates whatever metadata the workload needs */
    sheap_trim();
    uintptr_t base = frames_in_use();
    struct sheap_frame_stats fb = frames();
    workload();
    CHECK(frames_in_use() >= base);
    sheap_trim();
    struct sheap_frame_stats fa = frames();
    printf("  baseline %lu frames (%lu table pages); after workload and trim %lu (%lu)\n", (unsigned long)base,
           (unsigned long)fb.table_pages, (unsigned long)frames_in_use(), (unsigned long)fa.table_pages);
    CHECK_EQ(frames_in_use(), base);
    CHECK_EQ(fa.table_pages, fb.table_pages);
    CHECK_HEAP();
}

/* unused() clears the entry and invalidates the TLB: the next access faults. */
static void test_unmapped_page_faults(void)
{
    if (!sheap_board_can_trap_faults())
        SKIP("board cannot trap faults");
    volatile char *p = sheap_malloc(8 * PAGE);
    CHECK(p != NULL);
    p[0] = 7;
    CHECK(sheap_mmu_is_mapped((uintptr_t)p));
    sheap_free((void *)p);
    sheap_trim();
    CHECK(!sheap_mmu_is_mapped((uintptr_t)p));
    uintptr_t addr = 0;
    sheap_board_expect_fault();
    __asm__ volatile("" ::: "memory");
    (void)p[0];
    __asm__ volatile("" ::: "memory");
    CHECK(sheap_board_fault_taken(&addr));
    CHECK_EQ(addr, (uintptr_t)p);
    /* A write to a Prepared page that was never backed faults too. */
    sheap_board_expect_fault();
    p[3 * PAGE] = 1;
    __asm__ volatile("" ::: "memory");
    CHECK(sheap_board_fault_taken(&addr));
    CHECK_EQ(addr, (uintptr_t)p + 3 * PAGE);
    CHECK_HEAP();
}

int main(void)
{
    RUN(test_frames_match_ready_pages);
    RUN(test_fresh_arena_costs_little);
    RUN(test_growth_beyond_ram_fails_cleanly);
    RUN(test_grows_at_far_apart_hints);
    RUN(test_frames_back_to_baseline);
    RUN(test_unmapped_page_faults);
    return harness_finish("mmu");
}
