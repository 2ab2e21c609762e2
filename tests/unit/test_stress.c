/*
 * test_stress.c - randomized stress against a shadow model.
 *
 * A fixed, printed seed drives a mix of malloc, calloc, realloc, aligned
 * allocation and free over a table of slots.  The shadow model keeps each
 * live block's address, size and canary; every block is filled with a
 * pattern derived from its canary and checked byte for byte when it is
 * freed or resized.  sheap_check() runs every CHECK_EVERY operations and its
 * result is asserted, and the shadow's live count and bytes are compared
 * with sheap_stats().  Sizes follow a log-uniform mix so that small classes,
 * page runs and multi-arena runs all appear.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sheap.h"
#include "sheap_config.h"

/* Boards with little RAM say how much the tests may use (board.h); the
 * biggest blocks are sized so that SLOTS live blocks of the mix fit. */
#ifdef SHEAP_TEST_RAM_BYTES
#define HUGE_MAX (SHEAP_TEST_RAM_BYTES / 16)
#define RUN_MAX (SHEAP_TEST_RAM_BYTES / 512)
/* Live bytes the random walk may reach: beyond it a block that would not
 * fit is skipped, so that a NULL always means a real failure. */
#define LIVE_BUDGET (SHEAP_TEST_RAM_BYTES / 4 * 3)
/* Alignments up to 64 KB, but at most a sixteenth of that memory: a heap of
 * a few arenas has few addresses aligned that much. */
#define ALIGN_MAX (SHEAP_TEST_RAM_BYTES / 16 < 65536 ? SHEAP_TEST_RAM_BYTES / 16 : 65536)
#else
#define HUGE_MAX (80u << 20) /* beyond one 64 MB arena */
#define RUN_MAX (512u << 10)
#define LIVE_BUDGET ((size_t)-1)
#define ALIGN_MAX 65536
#endif

/* Operations and validation interval: a board may ask for more (board.h:
 * the QEMU boards run 10^6, validated every 10^4), `make soak` for many more. */
#if !defined(STRESS_OPS) && defined(SHEAP_TEST_STRESS_OPS)
#define STRESS_OPS SHEAP_TEST_STRESS_OPS
#endif
#if !defined(CHECK_EVERY) && defined(SHEAP_TEST_CHECK_EVERY)
#define CHECK_EVERY SHEAP_TEST_CHECK_EVERY
#endif
#ifndef STRESS_OPS
#define STRESS_OPS 200000
#endif
#define SLOTS 2048
#ifndef CHECK_EVERY
#define CHECK_EVERY 2000
#endif

struct shadow {
    unsigned char *p;
    size_t size;
    uint64_t canary;
};

static struct shadow slots[SLOTS];
static size_t shadow_blocks, shadow_usable;

static unsigned char pattern(uint64_t canary, size_t i) { return (unsigned char)((canary >> (8 * (i & 7))) + i); }

static void fill(struct shadow *s)
{
    /* Whole block for small ones, the ends and a stride for big ones. */
    size_t step = s->size > 4096 ? 509 : 1;
    for (size_t i = 0; i < s->size; i += step)
        s->p[i] = pattern(s->canary, i);
    if (s->size)
        s->p[s->size - 1] = pattern(s->canary, s->size - 1);
}

static bool intact(const struct shadow *s, size_t upto)
{
    size_t n = upto < s->size ? upto : s->size;
    size_t step = s->size > 4096 ? 509 : 1;
    for (size_t i = 0; i < n; i += step)
        if (s->p[i] != pattern(s->canary, i))
            return false;
    if (n == s->size && n && s->p[n - 1] != pattern(s->canary, n - 1))
        return false;
    return true;
}

static size_t random_size(void)
{
    uint64_t r = harness_rand();
    unsigned shift = (unsigned)(r % 100);
    if (shift < 60)
        return (size_t)(harness_rand() % 257);            /* 0..256: the hot small classes */
    if (shift < 90)
        return (size_t)(harness_rand() % 32768) + 1;      /* all small classes */
    if (shift < 99)
        return (size_t)(harness_rand() % RUN_MAX) + 1; /* page runs */
    return (size_t)(harness_rand() % HUGE_MAX) + 1;    /* the biggest blocks */
}

/* What the heap looked like when an allocation failed. */
static void report_stats(void)
{
    struct sheap_stats st;
    sheap_stats(&st);
    printf("  live %zu KB in %zu blocks, ready %zu KB, free %zu KB, metadata %zu KB, arenas %zu, spans %zu/%zu/%zu\n",
           st.live_bytes / 1024, st.live_blocks, st.ready_bytes / 1024, st.free_bytes / 1024,
           st.metadata_bytes / 1024, st.arenas, st.spans_free, st.spans_small, st.spans_large);
}

static void account(const struct shadow *s, int sign)
{
    size_t u = sheap_usable_size(s->p);
    shadow_blocks += (size_t)sign;
    shadow_usable += (size_t)sign * u;
}

static void test_random_ops(void)
{
    uint64_t seed = 0x5eed0001;
    printf("  seed 0x%llx, %ld ops, sheap_check every %d\n", (unsigned long long)seed, (long)STRESS_OPS, CHECK_EVERY);
    harness_seed(seed);
    for (long op = 1; op <= STRESS_OPS; op++) {
        struct shadow *s = &slots[harness_rand() % SLOTS];
        unsigned kind = (unsigned)(harness_rand() % 10);
        if (s->p) {
            CHECK(intact(s, s->size));
            if (kind < 2) {
                /* realloc keeps the common prefix */
                size_t n = random_size() + 1;
                if (n > s->size && shadow_usable + n - s->size > LIVE_BUDGET)
                    n = s->size ? s->size : 1; /* keep within the board's memory (n = 0 would free) */
                account(s, -1);
                unsigned char *q = sheap_realloc(s->p, n);
                CHECK(q != NULL);
                s->p = q;
                CHECK(intact(s, n));
                s->size = n;
                s->canary = harness_rand();
                fill(s);
                account(s, +1);
            } else {
                account(s, -1);
                sheap_free(s->p);
                s->p = NULL;
            }
        } else {
            size_t n = random_size();
            if (shadow_usable + n > LIVE_BUDGET)
                n = 0; /* keep within the board's memory */
            if (kind < 6) {
                s->p = sheap_malloc(n);
            } else if (kind < 8) {
                s->p = sheap_calloc(1, n);
                CHECK(s->p != NULL);
                for (size_t i = 0; i < n; i += (n > 4096 ? 61 : 1))
                    CHECK(s->p[i] == 0);
            } else {
                size_t align = (size_t)1 << (harness_rand() % 17);
                while (align > ALIGN_MAX)
                    align >>= 1;
                /* An aligned block may take up to align bytes more than n
                 * (a page run for a page alignment): count that in the budget. */
                if (shadow_usable + n + align > LIVE_BUDGET)
                    n = 0, align = 8;
                s->p = sheap_aligned_alloc(align, n);
                if (s->p == NULL) {
                    printf("  op %ld: aligned_alloc(%zu, %zu) failed\n", op, align, n);
                    report_stats();
                }
                CHECK(s->p != NULL);
                CHECK(((uintptr_t)s->p & (align - 1)) == 0);
            }
            if (s->p == NULL) {
                printf("  op %ld: allocation of %zu failed\n", op, n);
                report_stats();
            }
            CHECK(s->p != NULL);
            CHECK(sheap_usable_size(s->p) >= n);
            s->size = n;
            s->canary = harness_rand();
            fill(s);
            account(s, +1);
        }
        if (op % CHECK_EVERY == 0) {
            CHECK_HEAP();
            struct sheap_stats st;
            sheap_stats(&st);
            CHECK_EQ(st.live_blocks, shadow_blocks);
            CHECK_EQ(st.live_bytes, shadow_usable);
            CHECK(st.peak_live_bytes >= st.live_bytes);
            CHECK_EQ(st.misuse_count, 0);
        }
    }
    for (unsigned i = 0; i < SLOTS; i++) {
        if (slots[i].p) {
            CHECK(intact(&slots[i], slots[i].size));
            sheap_free(slots[i].p);
            slots[i].p = NULL;
        }
    }
    CHECK_HEAP();
    struct sheap_stats st;
    sheap_stats(&st);
    CHECK_EQ(st.live_blocks, 0);
    CHECK_EQ(st.live_bytes, 0);
    /* Everything free: trimming gives every page back except none in use. */
    sheap_trim();
    CHECK_HEAP();
    sheap_stats(&st);
    CHECK_EQ(st.ready_bytes, 0);
    CHECK_EQ(st.spans_small + st.spans_large, 0);
}

int main(void)
{
    RUN(test_random_ops);
    return harness_finish("stress");
}
