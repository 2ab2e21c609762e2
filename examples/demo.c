/*
 * demo.c - what `make run` shows: the heap growing across arenas, shrinking
 * back, and a report a person can read.  Runs on every board; on the host
 * it uses the hosted port, on QEMU boards the board's port and console.
 */
#include <stdio.h>

#include "sheap.h"
#include "sheap_board.h"
#include "sheap_config.h"
#ifndef BOARD_HAS_MMU
#define BOARD_HAS_MMU 0
#endif
#if BOARD_HAS_MMU
#include "sheap_mmu.h"
#endif

#define MB (1024u * 1024u)

static int print_arena(const struct sheap_arena_info *a, void *ctx)
{
    unsigned *n = ctx;
    /* On an MMU board every Ready page is one physical frame. */
    printf("  arena %2u  %#14llx  ready %6zu KB (%5zu pages%s)  in use %6zu KB  prepared %6zu KB  metadata %zu B\n",
           (*n)++, (unsigned long long)a->base, a->ready_bytes / 1024, a->ready_bytes / SHEAP_PAGE_SIZE,
           BOARD_HAS_MMU ? " = frames" : "", a->inuse_bytes / 1024, (a->size - a->ready_bytes) / 1024,
           a->metadata_bytes);
    return 0;
}

static void report(const char *when)
{
    struct sheap_stats s;
    unsigned n = 0;
    sheap_stats(&s);
    printf("\n== %s ==\n", when);
    printf("  live %zu KB in %zu blocks (peak %zu KB); ready %zu KB, prepared %zu KB, free %zu KB\n",
           s.live_bytes / 1024, s.live_blocks, s.peak_live_bytes / 1024, s.ready_bytes / 1024,
           s.prepared_bytes / 1024, s.free_bytes / 1024);
    printf("  metadata %zu KB; address space reserved %zu MB; arenas %zu; spans free/small/large %zu/%zu/%zu\n",
           s.metadata_bytes / 1024, s.reserved_bytes / MB, s.arenas, s.spans_free, s.spans_small, s.spans_large);
    sheap_arena_walk(print_arena, &n);
#if BOARD_HAS_MMU
    struct sheap_frame_stats f;
    sheap_mmu_frame_stats(&f);
    printf("  frames: %lu in use = %lu heap pages + %lu table pages; %lu of %lu free\n",
           (unsigned long)(f.heap_pages + f.table_pages), (unsigned long)f.heap_pages,
           (unsigned long)f.table_pages, (unsigned long)f.free, (unsigned long)f.total);
#endif
    int r = sheap_check();
    printf("  sheap_check: %s\n", sheap_check_message(r));
    if (r != 0)
        sheap_board_exit(1);
}

/* Instructions per call on a warm small-object workload (8..256 B, 512 live
 * blocks, fixed seed), counted by the board's exact counter.  Calls that
 * made pages Ready (new frames: growth) are counted apart from the steady
 * state, as the issue tracker's targets ask. */
struct calls {
    uint64_t sum, max, n, growth, growth_max;
};

static void account(struct calls *c, uint64_t cost, bool grew)
{
    if (grew) {
        c->growth++;
        c->growth_max = cost > c->growth_max ? cost : c->growth_max;
        return;
    }
    c->sum += cost;
    c->n++;
    c->max = cost > c->max ? cost : c->max;
}

static size_t ready_now(void)
{
    struct sheap_stats st;
    sheap_stats(&st);
    return st.ready_bytes;
}

static void measure_small(void)
{
    enum { LIVE = 512, STEPS = 20000 };
    static void *slot[LIVE];
    struct calls m = {0}, f = {0};
    uint64_t seed = 0x2545f4914f6cdd1dull;
    /* What reading the counter itself costs, subtracted below. */
    uint64_t c0 = sheap_board_icount();
    uint64_t c1 = sheap_board_icount();
    uint64_t overhead = c1 - c0;
    for (unsigned i = 0; i < LIVE; i++)
        slot[i] = sheap_malloc(8 + (i * 7919u) % 249);
    for (unsigned s = 0; s < STEPS; s++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        unsigned i = (unsigned)(seed % LIVE);
        size_t n = 8 + (size_t)((seed >> 20) % 249);
        /* Computed here, not between the counter reads: on 32-bit targets
         * the 64-bit % is a libgcc call (__umoddi3, 72 instructions on rv32)
         * that the compiler may otherwise schedule inside the window. */
        __asm__ volatile("" : "+r"(n));
        size_t r0 = ready_now();
        uint64_t t0 = sheap_board_icount();
        sheap_free(slot[i]);
        uint64_t t1 = sheap_board_icount();
        size_t r1 = ready_now();
        uint64_t t2 = sheap_board_icount();
        slot[i] = sheap_malloc(n);
        uint64_t t3 = sheap_board_icount();
        account(&f, t1 - t0 - overhead, false);
        (void)r0;
        account(&m, t3 - t2 - overhead, ready_now() != r1);
    }
    for (unsigned i = 0; i < LIVE; i++)
        sheap_free(slot[i]);
    printf("\ninstructions per call (call and return included), small blocks 8-256 B, %u calls each:\n"
           "  malloc mean %llu max %llu (+%llu calls that backed new pages, max %llu)\n"
           "  free   mean %llu max %llu\n",
           STEPS, (unsigned long long)(m.sum / m.n), (unsigned long long)m.max, (unsigned long long)m.growth,
           (unsigned long long)m.growth_max, (unsigned long long)(f.sum / f.n), (unsigned long long)f.max);
}

int main(void)
{
    enum { BIG = 6, SMALL = 4000 };
    void *big[BIG];
    void *small[SMALL];
    printf("sheap demo on board '%s'\n", sheap_board_name());

    /* Small blocks of every size up to 512 B, then large blocks of 3/4 of an
     * arena each, so that the heap needs several arenas. */
    for (unsigned i = 0; i < SMALL; i++)
        small[i] = sheap_malloc(8 + (i * 37) % 505);
    for (unsigned i = 0; i < BIG; i++) {
        big[i] = sheap_malloc(12 * MB);
        if (big[i])
            ((volatile char *)big[i])[0] = 1; /* touch: the port backs pages lazily */
    }
    report("after growing");

    for (unsigned i = 0; i < BIG; i++)
        sheap_free(big[i]);
    for (unsigned i = 0; i < SMALL; i += 2)
        sheap_free(small[i]);
    report("after freeing the large blocks and half the small ones");

    for (unsigned i = 1; i < SMALL; i += 2)
        sheap_free(small[i]);
    size_t released = sheap_trim();
    printf("\nsheap_trim released %zu KB to the port\n", released / 1024);
    report("after freeing everything and trimming");

    if (sheap_board_has_icount())
        measure_small();
    return 0;
}
