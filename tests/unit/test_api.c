/*
 * test_api.c - the contract of include/sheap.h, function by function.
 *
 * Every test checks what sheap.h promises: sizes at every size-class, page
 * and arena boundary; errno and statistics on failure; calloc zeroing and
 * overflow; realloc content, in-place rules and failure; aligned allocation
 * for every power of two up to the arena size; posix_memalign's error
 * numbers; exact statistics; the walker; trim; hysteresis of empty spans;
 * and that user memory holds no allocator metadata.  White-box reads (size
 * class tables, span_of) come from sheap_internal.h; nothing here writes to
 * the heap's structures.
 *
 * Portability: only the public API, the internal header, the port API and
 * printf, so the suite runs unchanged on the boards.  Big sizes derive from
 * SHEAP_ARENA_SIZE / SHEAP_PAGE_SIZE; at most a few arenas are used, and the
 * heap is trimmed after the big tests so that MMU boards get their frames
 * back.  Sizes that must fail are ones no port can satisfy.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "sheap.h"
#include "sheap_internal.h"

#define PAGE SHEAP_PAGE_SIZE
#define ARENA SHEAP_ARENA_SIZE
#define MAXSMALL ((size_t)SHEAP_CLASS_MAX_SIZE)

/* ---- helpers ------------------------------------------------------------------ */


/* The heap after a failed allocation: as before, plus one oom. */
static bool stats_same_but_oom(const struct sheap_stats *before, const struct sheap_stats *after)
{
    struct sheap_stats want = *before;
    want.oom_count++;
    return stats_same(after, &want);
}

static unsigned char pat(size_t i, unsigned seed) { return (unsigned char)(i * 7u + seed * 13u + 1u); }

static void fill(void *p, size_t n, unsigned seed)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = pat(i, seed);
}

static bool intact(const void *p, size_t n, unsigned seed)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != pat(i, seed))
            return false;
    return true;
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return false;
    return true;
}

static bool all_byte(const void *p, size_t n, unsigned char v)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != v)
            return false;
    return true;
}

/* The usable size sheap.h implies: the smallest class that holds n, or
 * whole pages above the largest class. */
static size_t expected_usable(size_t n)
{
    if (n > MAXSMALL)
        return (size_t)round_up(n, PAGE);
    for (unsigned c = 1; c < SHEAP_NUM_CLASSES; c++)
        if (sheap_class_size[c] >= n)
            return sheap_class_size[c];
    return 0;
}

/* The alignment rule of sheap.h: 16 for blocks of 16 bytes or more, 8
 * below, the page for page runs. */
static bool alignment_ok(const void *p, size_t n, size_t usable)
{
    uintptr_t a = (uintptr_t)p;
    if (a % 8 != 0)
        return false;
    if ((n >= 16 || usable >= 16) && a % 16 != 0)
        return false;
    if (usable > MAXSMALL && a % PAGE != 0)
        return false;
    return true;
}

/* Sizes that no port can satisfy: they fail with ENOMEM everywhere.  On
 * 32-bit targets SIZE_MAX / 2 is 2 GB, which a roomy host can grant
 * (qemu-i386 does), so it is only used with 64-bit pointers. */
static const size_t huge_sizes[] = {
    SIZE_MAX,
    SIZE_MAX - PAGE + 2, /* overflows page rounding */
    SIZE_MAX / 4 * 3,
#if UINTPTR_MAX > 0xffffffffu
    SIZE_MAX / 2,
    SIZE_MAX / 2 + 1,
#endif
};
#define NHUGE (sizeof(huge_sizes) / sizeof(huge_sizes[0]))

/* Check the heap and that nothing is live beyond `live` blocks. */
#define CHECK_LIVE(blocks)                                                                         \
    do {                                                                                           \
        CHECK_HEAP();                                                                              \
        struct sheap_stats l_ = stats_now();                                                       \
        CHECK_EQ(l_.live_blocks, (blocks));                                                        \
    } while (0)

static void *blocks[1100];
static size_t block_sizes[1100];

/* What a test may keep live at once: a board with little RAM says so in
 * board.h (SHEAP_TEST_RAM_BYTES; the small flavour of mps2-an385 has a
 * 192 KB heap), and the tests whose working set is bigger run in batches or
 * with fewer blocks there, saying so.  Elsewhere: no limit. */
#ifdef SHEAP_TEST_RAM_BYTES
#define TEST_RAM ((size_t)SHEAP_TEST_RAM_BYTES)
#else
#define TEST_RAM ((size_t)-1)
#endif

/* ---- the size-class table ------------------------------------------------------ */

/* What the rest of the suite relies on: classes ascend from 8 to the
 * largest small size, every class from 16 up is a multiple of 16 (so its
 * slots are 16-aligned in page-aligned spans), slots fit their span, and
 * the reciprocal gives the exact slot number for every offset in a span. */
static void test_size_class_table(void)
{
    CHECK(SHEAP_NUM_CLASSES >= 2);
    CHECK_EQ(sheap_class_size[1], 8);
    CHECK_EQ(sheap_class_size[SHEAP_NUM_CLASSES - 1], SHEAP_CLASS_MAX_SIZE);
    CHECK(SHEAP_CLASS_MAX_SIZE <= SHEAP_MAX_SMALL_SIZE);
    for (unsigned c = 1; c < SHEAP_NUM_CLASSES; c++) {
        uint32_t sz = sheap_class_size[c];
        CHECK(sz > sheap_class_size[c - 1]);
        if (sz >= 16)
            CHECK_EQ(sz % 16, 0);
        CHECK(sheap_class_npages[c] >= 1);
        CHECK(sheap_class_nelems[c] >= 1 && sheap_class_nelems[c] <= SHEAP_CLASS_MAX_OBJS);
        uintptr_t span = (uintptr_t)sheap_class_npages[c] << SHEAP_PAGE_SHIFT;
        CHECK((uintptr_t)sheap_class_nelems[c] * sz <= span);
        CHECK((uintptr_t)(sheap_class_nelems[c] + 1) * sz > span); /* no room left for one more */
        for (uintptr_t off = 0; off < span; off++) {
            uintptr_t i = (uintptr_t)(((uint64_t)off * sheap_class_divmul[c]) >> 32);
            if (i != off / sz) {
                printf("  class %u (%u B): offset %lu gives slot %lu\n", c, (unsigned)sz, (unsigned long)off,
                       (unsigned long)i);
                CHECK(false);
            }
        }
    }
}

/* ---- malloc / usable_size ------------------------------------------------------ */

static void test_malloc_zero_and_one(void)
{
    struct sheap_stats s0 = stats_now();
    void *a = sheap_malloc(0);
    void *b = sheap_malloc(0);
    CHECK(a != NULL && b != NULL);
    CHECK(a != b); /* unique */
    CHECK_EQ(sheap_usable_size(a), sheap_class_size[1]);
    CHECK(alignment_ok(a, 0, sheap_usable_size(a)));
    memset(a, 0xEE, sheap_usable_size(a));
    memset(b, 0xDD, sheap_usable_size(b));
    CHECK(all_byte(a, sheap_usable_size(a), 0xEE));
    void *c = sheap_malloc(1);
    CHECK(c != NULL && c != a && c != b);
    CHECK_EQ(sheap_usable_size(c), sheap_class_size[1]);
    struct sheap_stats s1 = stats_now();
    CHECK_EQ(s1.live_blocks, s0.live_blocks + 3);
    CHECK_EQ(s1.live_bytes, s0.live_bytes + 3 * sheap_class_size[1]);
    CHECK_HEAP();
    sheap_free(a);
    sheap_free(b);
    sheap_free(c);
    sheap_free(NULL); /* ignored */
    CHECK_EQ(sheap_usable_size(NULL), 0);
    struct sheap_stats s2 = stats_now();
    CHECK_EQ(s2.live_blocks, s0.live_blocks);
    CHECK_EQ(s2.live_bytes, s0.live_bytes);
    CHECK_EQ(s2.misuse_count, s0.misuse_count);
    CHECK_HEAP();
}

/* The blocks of test_class_boundaries so far: intact, counted, then freed. */
static void class_batch_check(unsigned n, size_t live, const struct sheap_stats *s0)
{
    struct sheap_stats s1 = stats_now();
    CHECK_EQ(s1.live_blocks, s0->live_blocks + n);
    CHECK_EQ(s1.live_bytes, s0->live_bytes + live);
    CHECK_HEAP();
    for (unsigned i = 0; i < n; i++) {
        CHECK(intact(blocks[i], block_sizes[i], i));
        CHECK_EQ(sheap_usable_size(blocks[i]), block_sizes[i]);
    }
    for (unsigned i = 0; i < n; i++)
        sheap_free(blocks[i]);
}

/* For every class c: sizes c-1, c, c+1, all live at once, each written over
 * its whole usable size and verified before the frees.  On a board with
 * little RAM (TEST_RAM) the classes go in batches of at most half of it. */
static void test_class_boundaries(void)
{
    struct sheap_stats s0 = stats_now();
    unsigned n = 0, batches = 1;
    size_t live = 0, budget = 0;
    for (unsigned c = 1; c < SHEAP_NUM_CLASSES; c++) {
        size_t need = 3 * ((size_t)sheap_class_size[c] + 1) + 2 * (size_t)sheap_class_npages[c] * PAGE;
        if (n > 0 && budget + need > TEST_RAM / 2) {
            CALL(class_batch_check(n, live, &s0));
            sheap_trim(); /* the batch's kept empty heads too (see RUN_T) */
            n = 0;
            live = budget = 0;
            batches++;
        }
        budget += need;
        for (int d = -1; d <= 1; d++) {
            size_t sz = (size_t)sheap_class_size[c] + (size_t)(long)d;
            void *p = sheap_malloc(sz);
            CHECK(p != NULL);
            size_t u = sheap_usable_size(p);
            CHECK(u >= sz);
            CHECK_EQ(u, expected_usable(sz));
            if (sz <= MAXSMALL)
                CHECK(u <= MAXSMALL);
            CHECK(alignment_ok(p, sz, u));
            fill(p, u, n);
            blocks[n] = p;
            block_sizes[n] = u;
            live += u;
            n++;
        }
    }
    CALL(class_batch_check(n, live, &s0));
    if (batches > 1)
        printf("  %u batches of at most %zu KB (SHEAP_TEST_RAM_BYTES / 2)\n", batches, TEST_RAM / 2 / 1024);
    CHECK_LIVE(s0.live_blocks);
}

/* Page boundaries below and above the largest class: whole pages, page
 * aligned, one large span each. */
static void test_page_boundaries(void)
{
    struct sheap_stats s0 = stats_now();
    size_t first = MAXSMALL / PAGE; /* k*PAGE with k*PAGE <= MAXSMALL is still small */
    for (size_t k = 1; k <= first + 4; k++) {
        for (int d = -1; d <= 1; d++) {
            size_t sz = k * PAGE + (size_t)(long)d;
            struct sheap_stats b = stats_now();
            unsigned char *p = sheap_malloc(sz);
            CHECK(p != NULL);
            size_t u = sheap_usable_size(p);
            CHECK(u >= sz);
            CHECK_EQ(u, expected_usable(sz));
            CHECK(alignment_ok(p, sz, u));
            struct sheap_stats a = stats_now();
            if (sz > MAXSMALL) {
                CHECK_EQ((uintptr_t)p % PAGE, 0);
                CHECK_EQ(u, round_up(sz, PAGE));
                CHECK_EQ(a.spans_large, b.spans_large + 1);
            } else {
                CHECK_EQ(a.spans_large, b.spans_large);
            }
            p[0] = 1;
            p[u - 1] = 2;
            memset(p, 0x5A, u);
            sheap_free(p);
        }
    }
    CHECK_LIVE(s0.live_blocks);
}

/* One arena minus one byte, exactly one, one plus a byte: the last must be a
 * single run across two contiguous arenas. */
static void test_arena_boundaries(void)
{
    struct sheap_stats s0 = stats_now();
    const size_t sizes[] = {ARENA - 1, ARENA, ARENA + 1};
    for (unsigned i = 0; i < 3; i++) {
        size_t sz = sizes[i];
        struct sheap_stats b = stats_now();
        unsigned char *p = sheap_malloc(sz);
        CHECK(p != NULL);
        size_t u = sheap_usable_size(p);
        CHECK_EQ(u, round_up(sz, PAGE));
        CHECK_EQ((uintptr_t)p % PAGE, 0);
        struct sheap_stats a = stats_now();
        CHECK_EQ(a.spans_large, b.spans_large + 1);
        CHECK_EQ(a.live_bytes, b.live_bytes + u);
        CHECK(a.arenas * ARENA >= u);
        /* One span over every page; every arena frame it touches is an arena
         * of this heap, and they follow each other without a gap. */
        uintptr_t base = (uintptr_t)p, end = base + u;
        struct sheap_span *s = span_of(base);
        CHECK(s != NULL);
        CHECK_EQ(s->base, base);
        CHECK_EQ(s->npages, u / PAGE);
        CHECK_EQ(s->state, SPAN_LARGE);
        /* The span map is exact at both ends; every page finds the span
         * through the start bits (interior entries are not kept). */
        CHECK(span_of(end - PAGE) == s);
        for (uintptr_t q = base; q < end; q += PAGE)
            CHECK(span_covering(q) == s);
        unsigned frames = 0;
        for (uintptr_t f = base & ~(ARENA - 1); f < end; f += ARENA) {
            struct sheap_arena *ar = arena_of(f);
            CHECK(ar != NULL);
            CHECK_EQ(ar->base, f);
            frames++;
        }
        if (sz > ARENA)
            CHECK(frames >= 2);
        /* Touch both ends and both sides of every arena boundary inside. */
        p[0] = 0x11;
        p[u - 1] = 0x22;
        for (uintptr_t f = (base & ~(ARENA - 1)) + ARENA; f < end; f += ARENA) {
            ((unsigned char *)f)[-1] = 0x33;
            ((unsigned char *)f)[0] = 0x44;
        }
        CHECK_EQ(p[0], 0x11);
        CHECK_EQ(p[u - 1], 0x22);
        CHECK_HEAP();
        sheap_free(p);
        CHECK_HEAP();
        sheap_trim(); /* MMU boards: give the frames back before the next one */
    }
    CHECK_LIVE(s0.live_blocks);
}

/* Sizes no port can satisfy: NULL, ENOMEM, one more oom, nothing else. */
static void test_huge_fails(void)
{
    for (unsigned i = 0; i < NHUGE; i++) {
        size_t n = huge_sizes[i];
        struct sheap_stats b = stats_now();
        errno = 0;
        CHECK(sheap_malloc(n) == NULL);
        CHECK_EQ(errno, ENOMEM);
        struct sheap_stats a = stats_now();
        CHECK(stats_same_but_oom(&b, &a));

        errno = 0;
        CHECK(sheap_calloc(1, n) == NULL);
        CHECK_EQ(errno, ENOMEM);
        b.oom_count++;
        a = stats_now();
        CHECK(stats_same_but_oom(&b, &a));

        errno = 0;
        CHECK(sheap_realloc(NULL, n) == NULL);
        CHECK_EQ(errno, ENOMEM);
        b.oom_count++;
        a = stats_now();
        CHECK(stats_same_but_oom(&b, &a));

        errno = 0;
        CHECK(sheap_aligned_alloc(64, n) == NULL);
        CHECK_EQ(errno, ENOMEM);
        b.oom_count++;
        a = stats_now();
        CHECK(stats_same_but_oom(&b, &a));

        void *out = (void *)&out;
        CHECK_EQ(sheap_posix_memalign(&out, 64, n), SHEAP_ENOMEM);
        CHECK(out == (void *)&out);
        b.oom_count++;
        a = stats_now();
        CHECK(stats_same_but_oom(&b, &a));
        CHECK_HEAP();
    }
}

/* ---- calloc ---------------------------------------------------------------------- */

static void test_calloc_zeroed(void)
{
    struct sheap_stats s0 = stats_now();
    const size_t sizes[] = {0, 1, 7, 8, 9, 16, 33, 100, 1000, 1024, 4095, 4096, 4097, MAXSMALL - 1, MAXSMALL,
                            MAXSMALL + 1, 5 * PAGE + 3, 64 * PAGE};
    unsigned reused = 0, tries = 0;
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t n = sizes[i];
        unsigned char *p = sheap_calloc(1, n);
        CHECK(p != NULL);
        size_t u = sheap_usable_size(p);
        CHECK(u >= n);
        CHECK(all_zero(p, u));
        /* Dirty it, free it, and calloc the same size: zeros again, also when
         * the very same block comes back. */
        memset(p, 0xA5, u);
        sheap_free(p);
        unsigned char *q = sheap_calloc(n ? n : 1, 1);
        CHECK(q != NULL);
        tries++;
        reused += q == p;
        CHECK(all_zero(q, sheap_usable_size(q)));
        /* The other order of the factors, and a split product. */
        memset(q, 0x5A, sheap_usable_size(q));
        sheap_free(q);
        unsigned char *r = n % 2 == 0 && n ? sheap_calloc(n / 2, 2) : sheap_calloc(n, 1);
        CHECK(r != NULL);
        CHECK(sheap_usable_size(r) >= n);
        CHECK(all_zero(r, sheap_usable_size(r)));
        sheap_free(r);
    }
    printf("  dirty block reused by calloc in %u of %u cases\n", reused, tries);
    CHECK(reused > 0); /* the reuse case was really exercised */
    /* Zero-size products return a minimum block, like malloc(0). */
    void *z1 = sheap_calloc(0, 16), *z2 = sheap_calloc(16, 0), *z3 = sheap_calloc(0, SIZE_MAX);
    CHECK(z1 != NULL && z2 != NULL && z3 != NULL);
    CHECK(z1 != z2 && z2 != z3 && z1 != z3);
    sheap_free(z1);
    sheap_free(z2);
    sheap_free(z3);
    CHECK_LIVE(s0.live_blocks);
}

/* Pages given back (sheap_trim) and backed again may get frames that held
 * data: a backend that does not clear frames (the MMU backend by default)
 * says so, and calloc clears them; malloc need not.  Every board. */
static void test_calloc_after_frames_reused(void)
{
    struct sheap_stats s0 = stats_now();
    const size_t sizes[] = {100, MAXSMALL, 8 * PAGE, 40 * PAGE + 5};
    for (unsigned round = 0; round < 3; round++) {
        for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            unsigned char *p = sheap_malloc(sizes[i]);
            CHECK(p != NULL);
            memset(p, 0xA5, sheap_usable_size(p));
            sheap_free(p);
            sheap_trim(); /* its frames go back to the backend (MMU: its pool) */
            unsigned char *q = sheap_calloc(1, sizes[i]);
            CHECK(q != NULL);
            CHECK(all_zero(q, sheap_usable_size(q)));
            memset(q, 0x5A, sheap_usable_size(q));
            sheap_free(q);
        }
    }
    sheap_trim();
    /* Several dirty runs freed and trimmed, then one calloc over them all. */
    unsigned char *d[4];
    for (unsigned i = 0; i < 4; i++) {
        d[i] = sheap_malloc(4 * PAGE);
        CHECK(d[i] != NULL);
        memset(d[i], 0x77, 4 * PAGE);
    }
    for (unsigned i = 0; i < 4; i++)
        sheap_free(d[i]);
    sheap_trim();
    unsigned char *big = sheap_calloc(16, PAGE);
    CHECK(big != NULL);
    CHECK(all_zero(big, 16 * PAGE));
    sheap_free(big);
    CHECK_LIVE(s0.live_blocks);
    CHECK_HEAP();
}

static void test_calloc_overflow(void)
{
    const size_t half = (size_t)1 << (4 * sizeof(size_t)); /* sqrt(SIZE_MAX + 1) */
    const size_t pairs[][2] = {
        {SIZE_MAX / 2 + 1, 2}, {2, SIZE_MAX / 2 + 1}, {SIZE_MAX / 16 + 1, 16}, {16, SIZE_MAX / 16 + 1},
        {SIZE_MAX, SIZE_MAX},  {half, half},          {half + 1, half - 1},   {SIZE_MAX, 2},
        {3, SIZE_MAX / 3 + 1},
    };
    for (unsigned i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        struct sheap_stats b = stats_now();
        errno = 0;
        void *p = sheap_calloc(pairs[i][0], pairs[i][1]);
        CHECK(p == NULL); /* never a short block */
        CHECK_EQ(errno, ENOMEM);
        struct sheap_stats a = stats_now();
        CHECK(stats_same_but_oom(&b, &a));
    }
    CHECK_HEAP();
}

/* ---- realloc ----------------------------------------------------------------------- */

static void test_realloc_null_and_zero(void)
{
    struct sheap_stats s0 = stats_now();
    void *p = sheap_realloc(NULL, 10);
    CHECK(p != NULL);
    CHECK_EQ(sheap_usable_size(p), expected_usable(10));
    void *z = sheap_realloc(NULL, 0); /* malloc(0): a unique block */
    CHECK(z != NULL && z != p);
    struct sheap_stats s1 = stats_now();
    CHECK_EQ(s1.live_blocks, s0.live_blocks + 2);
    errno = EINVAL;
    CHECK(sheap_realloc(p, 0) == NULL); /* frees */
    CHECK_EQ(errno, EINVAL);            /* errno untouched */
    CHECK(sheap_realloc(z, 0) == NULL);
    CHECK_EQ(errno, EINVAL);
    /* A large block too. */
    void *l = sheap_realloc(NULL, MAXSMALL + 1);
    CHECK(l != NULL);
    CHECK_EQ((uintptr_t)l % PAGE, 0);
    CHECK(sheap_realloc(l, 0) == NULL);
    CHECK_EQ(errno, EINVAL);
    struct sheap_stats s2 = stats_now();
    CHECK_EQ(s2.live_blocks, s0.live_blocks);
    CHECK_EQ(s2.live_bytes, s0.live_bytes);
    CHECK_EQ(s2.misuse_count, s0.misuse_count);
    CHECK_HEAP();
}

/* Every pair of a size set covering small->small, small->large,
 * large->small and large->large, growing and shrinking: min(old, new)
 * bytes survive. */
static void test_realloc_content(void)
{
    struct sheap_stats s0 = stats_now();
    const size_t sizes[] = {1, 8, 24, 100, 1000, PAGE - 1, MAXSMALL, MAXSMALL + 1, 3 * PAGE + 5, 25 * PAGE};
    const unsigned ns = sizeof(sizes) / sizeof(sizes[0]);
    unsigned seed = 1;
    for (unsigned i = 0; i < ns; i++) {
        for (unsigned j = 0; j < ns; j++, seed++) {
            size_t from = sizes[i], to = sizes[j];
            unsigned char *p = sheap_malloc(from);
            CHECK(p != NULL);
            fill(p, from, seed);
            struct sheap_stats b = stats_now();
            unsigned char *q = sheap_realloc(p, to);
            CHECK(q != NULL);
            size_t u = sheap_usable_size(q);
            CHECK(u >= to);
            CHECK(alignment_ok(q, to, u));
            CHECK(intact(q, from < to ? from : to, seed));
            struct sheap_stats a = stats_now();
            CHECK_EQ(a.live_blocks, b.live_blocks);
            CHECK_EQ(a.live_bytes, b.live_bytes - expected_usable(from) + u);
            fill(q, u, seed + 1000); /* the whole new block is writable */
            sheap_free(q);
        }
    }
    CHECK_LIVE(s0.live_blocks);
}

/* n still in the block's size class: the same pointer, growing or
 * shrinking within the class, for every class. */
static void test_realloc_same_class_in_place(void)
{
    struct sheap_stats s0 = stats_now();
    for (unsigned c = 1; c < SHEAP_NUM_CLASSES; c++) {
        size_t lo = (size_t)sheap_class_size[c - 1] + 1, hi = sheap_class_size[c];
        unsigned char *p = sheap_malloc(lo);
        CHECK(p != NULL);
        CHECK_EQ(sheap_usable_size(p), hi);
        fill(p, lo, c);
        CHECK(sheap_realloc(p, hi) == p);
        CHECK(intact(p, lo, c));
        fill(p, hi, c);
        CHECK(sheap_realloc(p, lo) == p);
        CHECK(sheap_realloc(p, (lo + hi) / 2) == p);
        CHECK(intact(p, lo, c));
        CHECK_EQ(sheap_usable_size(p), hi);
        sheap_free(p);
    }
    CHECK_LIVE(s0.live_blocks);
}

/* Two page runs of n bytes, the second right after the first (*hi == *lo +
 * n): of a few runs taken in a row, the page heap splits each from the same
 * free run, so two of them are neighbours.  The others are freed. */
#define PAIR_TRIES 4
static void adjacent_pair(size_t n, unsigned char **lo, unsigned char **hi)
{
    unsigned char *r[PAIR_TRIES];
    *lo = *hi = NULL;
    for (unsigned i = 0; i < PAIR_TRIES; i++) {
        r[i] = sheap_malloc(n);
        CHECK(r[i] != NULL);
        CHECK_EQ(sheap_usable_size(r[i]), n);
    }
    for (unsigned i = 0; i < PAIR_TRIES; i++)
        for (unsigned j = 0; j < PAIR_TRIES; j++)
            if (*lo == NULL && r[j] == r[i] + n) {
                *lo = r[i];
                *hi = r[j];
            }
    for (unsigned i = 0; i < PAIR_TRIES; i++)
        if (r[i] != *lo && r[i] != *hi)
            sheap_free(r[i]);
    CHECK(*lo != NULL);
}

/* Page runs shrink in place, and grow in place into the free run that
 * follows them (Ready or not). */
static void test_realloc_large_in_place(void)
{
    struct sheap_stats s0 = stats_now();
    /* Page counts relative to the smallest page run, so that every size
     * below stays above SHEAP_CLASS_MAX_SIZE. */
    const size_t K = MAXSMALL / PAGE + 1;
#define PG(k) ((K + (k)) * PAGE)

    /* Within the same page count. */
    unsigned char *p = sheap_malloc(PG(8));
    CHECK(p != NULL);
    fill(p, PG(8), 1);
    CHECK(sheap_realloc(p, PG(8) - 1) == p);
    CHECK(sheap_realloc(p, PG(7) + 1) == p);
    CHECK_EQ(sheap_usable_size(p), PG(8));

    /* Shrink: stays, gives the tail back. */
    struct sheap_stats b = stats_now();
    CHECK(sheap_realloc(p, PG(3)) == p);
    CHECK_EQ(sheap_usable_size(p), PG(3));
    struct sheap_stats a = stats_now();
    CHECK_EQ(a.live_bytes, b.live_bytes - 5 * PAGE);
    CHECK_EQ(a.live_blocks, b.live_blocks);
    CHECK_EQ(a.free_bytes, b.free_bytes + 5 * PAGE);
    CHECK(intact(p, PG(3), 1));
    CHECK_HEAP();

    /* Grow back into the tail just freed (it follows the block). */
    CHECK(sheap_realloc(p, PG(8)) == p);
    CHECK_EQ(sheap_usable_size(p), PG(8));
    CHECK(intact(p, PG(3), 1));
    a = stats_now();
    CHECK_EQ(a.live_bytes, b.live_bytes);
    CHECK(a.peak_live_bytes >= a.live_bytes);
    fill(p, PG(8), 2);
    CHECK_HEAP();

    /* The same when the following run is not Ready any more (trimmed). */
    CHECK(sheap_realloc(p, PG(2)) == p);
    sheap_trim();
    CHECK(sheap_realloc(p, PG(6) + 1) == p);
    CHECK_EQ(sheap_usable_size(p), PG(7));
    CHECK(intact(p, PG(2), 2));
    memset(p, 0x77, PG(7));
    CHECK_HEAP();
    sheap_free(p);

    /* Two adjacent blocks A, B: free B, grow A over it. */
    unsigned char *A, *B;
    CALL(adjacent_pair(PG(0), &A, &B));
    fill(A, PG(0), 3);
    sheap_free(B);
    CHECK(sheap_realloc(A, 2 * PG(0)) == A);
    CHECK(intact(A, PG(0), 3));
    sheap_free(A);
    /* The same over the tail that a run shrunk in place leaves free right
     * after it. */
    A = sheap_malloc(2 * PG(0));
    CHECK(A != NULL);
    CHECK(sheap_realloc(A, PG(0)) == A);
    fill(A, PG(0), 3);
    CHECK(sheap_realloc(A, 2 * PG(0)) == A);
    CHECK(intact(A, PG(0), 3));
    sheap_free(A);

    /* A neighbour in use: growth moves the block, content kept. */
    unsigned char *C, *D;
    CALL(adjacent_pair(PG(0), &C, &D));
    fill(C, PG(0), 4);
    /* One page more than C has: D is in the way, however small. */
    fill(D, PG(0), 5);
    unsigned char *E = sheap_realloc(C, PG(0) + 1);
    CHECK(E != NULL && E != C);
    CHECK(intact(E, PG(0), 4));
    CHECK(intact(D, PG(0), 5));
    CHECK_EQ(sheap_usable_size(D), PG(0));
    C = E;
    sheap_free(C);
    sheap_free(D);
#undef PG
    CHECK_LIVE(s0.live_blocks);
}

static void test_realloc_failure(void)
{
    struct sheap_stats s0 = stats_now();
    const size_t sizes[] = {24, 1000, MAXSMALL, MAXSMALL + 1, 10 * PAGE};
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        unsigned char *p = sheap_malloc(sizes[i]);
        CHECK(p != NULL);
        size_t u = sheap_usable_size(p);
        fill(p, u, i);
        for (unsigned k = 0; k < NHUGE; k++) {
            struct sheap_stats b = stats_now();
            errno = 0;
            CHECK(sheap_realloc(p, huge_sizes[k]) == NULL);
            CHECK_EQ(errno, ENOMEM);
            struct sheap_stats a = stats_now();
            CHECK(stats_same_but_oom(&b, &a));
            CHECK_EQ(sheap_usable_size(p), u); /* old block intact */
            CHECK(intact(p, u, i));
        }
        CHECK_HEAP();
        sheap_free(p);
    }
    CHECK_LIVE(s0.live_blocks);
}

/* ---- aligned_alloc / posix_memalign ---------------------------------------------------- */

static void test_aligned_alloc(void)
{
    struct sheap_stats s0 = stats_now();
    for (size_t align = 1; align <= ARENA && align != 0; align <<= 1) {
        size_t ns[6] = {0, 1, 24, MAXSMALL + 1, 0, 0};
        unsigned cnt = 4;
        if (align <= 4 * PAGE) {
            ns[cnt++] = align;
            ns[cnt++] = align + align / 2 + 1;
        }
        /* Up to 64 pages of alignment the blocks of one alignment stay live
         * together (two of each size), so that no two of them can sit on
         * the same aligned address by luck; as far as TEST_RAM allows. */
        bool hold = align <= 64 * PAGE && 2 * cnt * (align + MAXSMALL + PAGE) <= TEST_RAM;
        unsigned nb = 0;
        for (unsigned k = 0; k < cnt; k++) {
            for (unsigned rep = 0; rep < (hold ? 2u : 1u); rep++) {
                size_t n = ns[k];
                errno = 0;
                unsigned char *p = sheap_aligned_alloc(align, n);
                CHECK(p != NULL);
                if ((uintptr_t)p % align != 0)
                    printf("  align %lu, n %lu: %p\n", (unsigned long)align, (unsigned long)n, (void *)p);
                CHECK_EQ((uintptr_t)p % align, 0);
                size_t u = sheap_usable_size(p);
                CHECK(u >= n);
                CHECK(alignment_ok(p, n, u));
                p[0] = 1;
                p[u - 1] = 2;
                if (n)
                    p[n - 1] = 3;
                if (hold)
                    blocks[nb++] = p;
                else
                    sheap_free(p);
            }
        }
        CHECK_HEAP();
        while (nb > 0)
            sheap_free(blocks[--nb]);
        CHECK_HEAP();
    }
    sheap_trim();

    /* Bad alignments: EINVAL, and no other trace. */
    const size_t bad[] = {0, 3, 5, 6, 12, 24, 48, 100, 4097, ARENA - 1, ARENA + PAGE, 2 * ARENA, 4 * ARENA,
                          SIZE_MAX, SIZE_MAX / 2 + 1};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const size_t ns[] = {0, 1, 64, MAXSMALL + 1};
        for (unsigned k = 0; k < 4; k++) {
            struct sheap_stats b = stats_now();
            errno = 0;
            CHECK(sheap_aligned_alloc(bad[i], ns[k]) == NULL);
            CHECK_EQ(errno, EINVAL);
            struct sheap_stats a = stats_now();
            CHECK(stats_same(&a, &b));
        }
    }
    CHECK_LIVE(s0.live_blocks);
}

static void test_posix_memalign(void)
{
    struct sheap_stats s0 = stats_now();
    const size_t good[] = {sizeof(void *), 16, 32, 64, 256, PAGE, 2 * PAGE, 64 * PAGE, ARENA};
    for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const size_t ns[] = {0, 1, 100, MAXSMALL + 1};
        for (unsigned k = 0; k < 4; k++) {
            void *out = NULL;
            CHECK_EQ(sheap_posix_memalign(&out, good[i], ns[k]), 0);
            CHECK(out != NULL);
            CHECK_EQ((uintptr_t)out % good[i], 0);
            CHECK(sheap_usable_size(out) >= ns[k]);
            sheap_free(out);
        }
    }
    sheap_trim();

    /* EINVAL: not a power of two, not a multiple of sizeof(void *), or
     * bigger than an arena.  *out is left alone. */
    const size_t bad[] = {0, 1, 2, sizeof(void *) / 2, 3, 12, 24, 3 * sizeof(void *), 48, 2 * ARENA, SIZE_MAX};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (bad[i] == sizeof(void *))
            continue;
        struct sheap_stats b = stats_now();
        void *out = (void *)&out;
        CHECK_EQ(sheap_posix_memalign(&out, bad[i], 64), SHEAP_EINVAL);
        CHECK(out == (void *)&out);
        CHECK_EQ(sheap_posix_memalign(&out, bad[i], SIZE_MAX), SHEAP_EINVAL); /* EINVAL first */
        CHECK(out == (void *)&out);
        struct sheap_stats a = stats_now();
        CHECK(stats_same(&a, &b));
    }
    /* ENOMEM: *out untouched, one oom. */
    for (unsigned k = 0; k < NHUGE; k++) {
        struct sheap_stats b = stats_now();
        void *out = (void *)&out;
        CHECK_EQ(sheap_posix_memalign(&out, 16, huge_sizes[k]), SHEAP_ENOMEM);
        CHECK(out == (void *)&out);
        struct sheap_stats a = stats_now();
        CHECK(stats_same_but_oom(&b, &a));
    }
    CHECK_LIVE(s0.live_blocks);
}

/* ---- stats ------------------------------------------------------------------------------ */

struct span_tally {
    uintptr_t pages[3], spans[3];
};

static int tally_span(struct sheap_span *s, void *ctx)
{
    struct span_tally *t = ctx;
    if (s->state > SPAN_LARGE)
        return 1;
    t->pages[s->state] += s->npages;
    t->spans[s->state]++;
    return 0;
}

/* The counters against each other and against the spans themselves. */
static void check_stats_consistent(void)
{
    struct sheap_stats s = stats_now();
    CHECK_EQ(s.ready_bytes + s.prepared_bytes, s.arenas * ARENA);
    CHECK(s.free_bytes <= s.arenas * ARENA);
    CHECK(s.ready_bytes >= s.live_bytes);
    CHECK(s.peak_live_bytes >= s.live_bytes);
    CHECK(s.reserved_bytes >= s.arenas * ARENA);
    CHECK(s.grow_count <= s.arenas);
    CHECK_EQ(s.ready_bytes % PAGE, 0);
    CHECK_EQ(s.free_bytes % PAGE, 0);
    if (s.arenas > 0) {
        CHECK(s.metadata_bytes > 0);
        CHECK(s.grow_count >= 1);
        CHECK(s.spans_free + s.spans_small + s.spans_large >= 1);
    }
    CHECK(s.live_blocks >= s.spans_large);
    CHECK(s.live_bytes >= s.live_blocks * 8);
    struct span_tally t;
    memset(&t, 0, sizeof(t));
    heap_lock();
    int r = ph_each_span(&sheap_heap, tally_span, &t);
    heap_unlock();
    CHECK_EQ(r, 0);
    CHECK_EQ(t.spans[SPAN_FREE], s.spans_free);
    CHECK_EQ(t.spans[SPAN_SMALL], s.spans_small);
    CHECK_EQ(t.spans[SPAN_LARGE], s.spans_large);
    CHECK_EQ(t.pages[SPAN_FREE] * PAGE, s.free_bytes);
    CHECK_EQ((t.pages[SPAN_FREE] + t.pages[SPAN_SMALL] + t.pages[SPAN_LARGE]) * PAGE, s.arenas * ARENA);
}

static void test_stats_exact(void)
{
    CALL(check_stats_consistent());
    struct sheap_stats s0 = stats_now();
    const size_t sizes[] = {0, 1, 17, 100, 1000, 4000, MAXSMALL, MAXSMALL + 1, 10 * PAGE + 1, 100, 17};
    const unsigned ns = sizeof(sizes) / sizeof(sizes[0]);
    size_t live = s0.live_bytes, peak = s0.peak_live_bytes, nblocks = s0.live_blocks, nlarge = s0.spans_large;
    for (unsigned i = 0; i < ns; i++) {
        blocks[i] = sheap_malloc(sizes[i]);
        CHECK(blocks[i] != NULL);
        size_t u = sheap_usable_size(blocks[i]);
        live += u;
        nblocks++;
        nlarge += u > MAXSMALL;
        if (live > peak)
            peak = live;
        struct sheap_stats s = stats_now();
        CHECK_EQ(s.live_bytes, live);
        CHECK_EQ(s.live_blocks, nblocks);
        CHECK_EQ(s.peak_live_bytes, peak);
        CHECK_EQ(s.spans_large, nlarge);
        CHECK_EQ(s.oom_count, s0.oom_count);
        CHECK_EQ(s.misuse_count, s0.misuse_count);
    }
    CALL(check_stats_consistent());
    CHECK_HEAP();
    /* calloc, aligned and realloc count the same way. */
    void *c = sheap_calloc(3, 100), *al = sheap_aligned_alloc(256, 300);
    CHECK(c != NULL && al != NULL);
    live += sheap_usable_size(c) + sheap_usable_size(al);
    nblocks += 2;
    if (live > peak)
        peak = live;
    struct sheap_stats s = stats_now();
    CHECK_EQ(s.live_bytes, live);
    CHECK_EQ(s.live_blocks, nblocks);
    CHECK_EQ(s.peak_live_bytes, peak);
    /* A moving realloc holds both blocks for a moment: the peak sees both. */
    size_t old = sheap_usable_size(c);
    c = sheap_realloc(c, 5000);
    CHECK(c != NULL);
    if (live + sheap_usable_size(c) > peak)
        peak = live + sheap_usable_size(c);
    live = live - old + sheap_usable_size(c);
    s = stats_now();
    CHECK_EQ(s.live_bytes, live);
    CHECK_EQ(s.live_blocks, nblocks);
    CHECK_EQ(s.peak_live_bytes, peak);
    /* Frees: live drops, peak stays. */
    for (unsigned i = 0; i < ns; i++) {
        size_t u = sheap_usable_size(blocks[i]);
        sheap_free(blocks[i]);
        live -= u;
        nblocks--;
        nlarge -= u > MAXSMALL;
        s = stats_now();
        CHECK_EQ(s.live_bytes, live);
        CHECK_EQ(s.live_blocks, nblocks);
        CHECK_EQ(s.peak_live_bytes, peak);
        CHECK_EQ(s.spans_large, nlarge);
    }
    sheap_free(c);
    sheap_free(al);
    s = stats_now();
    CHECK_EQ(s.live_bytes, s0.live_bytes);
    CHECK_EQ(s.live_blocks, s0.live_blocks);
    CHECK_EQ(s.peak_live_bytes, peak);
    CALL(check_stats_consistent());
    /* Trimmed, everything is Prepared except live spans. */
    sheap_trim();
    CALL(check_stats_consistent());
    CHECK_HEAP();
}

/* ---- walk --------------------------------------------------------------------------------- */

struct walk_ctx {
    unsigned n;               /* blocks[] / block_sizes[] entries to look for */
    unsigned seen[64];        /* visits of each */
    unsigned long used, unused, calls;
    unsigned long stop_after; /* return stop_value at this call (0: never) */
    int stop_value;
    size_t used_bytes;
    bool size_ok, order_ok;
    uintptr_t prev, prev_end;
};

static int walk_fn(void *ptr, size_t size, bool used, void *arg)
{
    struct walk_ctx *w = arg;
    uintptr_t p = (uintptr_t)ptr;
    w->calls++;
    /* Address order inside a group of arenas; blocks never overlap. */
    if (w->prev_end != 0 && p >= w->prev && p < w->prev_end)
        w->order_ok = false;
    if (w->prev_end != 0 && p < w->prev && arena_of(p) == arena_of(w->prev))
        w->order_ok = false;
    w->prev = p;
    w->prev_end = p + size;
    if (used) {
        w->used++;
        w->used_bytes += size;
        for (unsigned i = 0; i < w->n; i++) {
            if (blocks[i] == ptr) {
                w->seen[i]++;
                if (block_sizes[i] != size)
                    w->size_ok = false;
            }
        }
    } else {
        w->unused++;
    }
    if (w->stop_after != 0 && w->calls == w->stop_after)
        return w->stop_value;
    return 0;
}

static void test_walk(void)
{
    struct sheap_stats s0 = stats_now();
    const size_t sizes[] = {0, 8, 24, 48, 100, 500, 1000, 3000, 5000, MAXSMALL, MAXSMALL + 1, 4 * PAGE, 24, 24};
    const unsigned ns = sizeof(sizes) / sizeof(sizes[0]);
    for (unsigned i = 0; i < ns; i++) {
        blocks[i] = sheap_malloc(sizes[i]);
        CHECK(blocks[i] != NULL);
        block_sizes[i] = sheap_usable_size(blocks[i]);
    }
    struct walk_ctx w;
    memset(&w, 0, sizeof(w));
    w.n = ns;
    w.size_ok = w.order_ok = true;
    CHECK_EQ(sheap_walk(walk_fn, &w), 0);
    for (unsigned i = 0; i < ns; i++)
        CHECK_EQ(w.seen[i], 1); /* each live block exactly once */
    CHECK(w.size_ok);
    CHECK(w.order_ok);
    struct sheap_stats s = stats_now();
    CHECK_EQ(w.used, s.live_blocks);
    CHECK_EQ(w.used_bytes, s.live_bytes);
    CHECK(w.unused > 0); /* free slots and free runs are visited too */
    unsigned long total = w.calls;
    CHECK(total >= 3);

    /* Early stop: fn's value comes back, no further calls. */
    const unsigned long stops[] = {1, 2, total / 2, total};
    for (unsigned k = 0; k < 4; k++) {
        memset(&w, 0, sizeof(w));
        w.size_ok = w.order_ok = true;
        w.stop_after = stops[k];
        w.stop_value = (int)(40 + k);
        CHECK_EQ(sheap_walk(walk_fn, &w), 40 + k);
        CHECK_EQ(w.calls, stops[k]);
    }
    memset(&w, 0, sizeof(w));
    w.stop_after = 1;
    w.stop_value = -1;
    CHECK_EQ(sheap_walk(walk_fn, &w), -1);
    CHECK_EQ(w.calls, 1);

    for (unsigned i = 0; i < ns; i++)
        sheap_free(blocks[i]);
    /* Nothing of ours is left. */
    memset(&w, 0, sizeof(w));
    w.n = ns;
    w.size_ok = w.order_ok = true;
    CHECK_EQ(sheap_walk(walk_fn, &w), 0);
    for (unsigned i = 0; i < ns; i++)
        CHECK_EQ(w.seen[i], 0);
    CHECK_EQ(w.used, s0.live_blocks);
    CHECK_LIVE(s0.live_blocks);
}

/* ---- trim ------------------------------------------------------------------------------------ */

static void test_trim(void)
{
    struct sheap_stats s0 = stats_now();
    CHECK_EQ(s0.live_blocks, 0); /* the suite frees everything it takes */
    /* Some of everything, then all freed. */
    const size_t sizes[] = {8, 100, 1000, MAXSMALL, MAXSMALL + 1, 16 * PAGE, 100 * PAGE};
    const unsigned ns = sizeof(sizes) / sizeof(sizes[0]);
    for (unsigned i = 0; i < ns; i++) {
        blocks[i] = sheap_malloc(sizes[i]);
        CHECK(blocks[i] != NULL);
        memset(blocks[i], 0xCC, sizes[i]);
    }
    /* Trim with live blocks: they stay Ready and intact. */
    struct sheap_stats b = stats_now();
    size_t rel = sheap_trim();
    struct sheap_stats a = stats_now();
    CHECK_EQ(rel, b.ready_bytes - a.ready_bytes);
    CHECK(a.ready_bytes >= a.live_bytes);
    CHECK_EQ(a.live_bytes, b.live_bytes);
    for (unsigned i = 0; i < ns; i++)
        CHECK(all_byte(blocks[i], sizes[i], 0xCC));
    CHECK_HEAP();
    for (unsigned i = 0; i < ns; i++)
        sheap_free(blocks[i]);
    b = stats_now();
    CHECK(b.ready_bytes > 0);
    CHECK(b.spans_small > 0); /* kept empty heads */
    rel = sheap_trim();
    CHECK(rel > 0);
    a = stats_now();
    CHECK_EQ(rel, b.ready_bytes - a.ready_bytes);
    CHECK_EQ(a.live_blocks, 0);
    CHECK_EQ(a.ready_bytes, 0);
    CHECK_EQ(a.spans_small, 0); /* kept heads went too */
    CHECK_EQ(a.spans_large, 0);
    CHECK_EQ(a.free_bytes, a.arenas * ARENA);
    CHECK_EQ(a.prepared_bytes, a.arenas * ARENA);
    CHECK_HEAP();
    /* Nothing left to give back. */
    CHECK_EQ(sheap_trim(), 0);
    /* And the heap works again. */
    for (unsigned i = 0; i < ns; i++) {
        blocks[i] = sheap_malloc(sizes[i]);
        CHECK(blocks[i] != NULL);
        memset(blocks[i], 0x33, sizes[i]);
    }
    CHECK_HEAP();
    for (unsigned i = 0; i < ns; i++)
        sheap_free(blocks[i]);
    CHECK(sheap_trim() > 0);
    a = stats_now();
    CHECK_EQ(a.ready_bytes, 0);
    CHECK_LIVE(0);
}

/* ---- hysteresis and span packing ----------------------------------------------------------------- */

/* One malloc/free pair on an otherwise empty class keeps its span: the
 * statistics do not move from the second pair on. */
static void test_hysteresis(void)
{
#if SHEAP_HARDENING >= 2
    /* Level 2's quarantine holds freed blocks back, so a span does not
     * become empty when its last block is freed: the policy checked here
     * does not apply. */
    SKIP("at hardening level 2 (quarantine)");
#endif
    unsigned classes[8], nc = 0;
    classes[nc++] = 1;
    classes[nc++] = 2;
    classes[nc++] = 4;
    for (unsigned c = 1; c < SHEAP_NUM_CLASSES; c++)
        if (sheap_class_npages[c] > 1) {
            classes[nc++] = c; /* a multi-page class */
            break;
        }
    for (unsigned c = 1; c < SHEAP_NUM_CLASSES; c++)
        if (sheap_class_nelems[c] == 1) {
            classes[nc++] = c; /* one block per span */
            break;
        }
    classes[nc++] = SHEAP_NUM_CLASSES - 1;
    sheap_trim(); /* no kept heads: every class starts empty */
    struct sheap_stats s0 = stats_now();
    CHECK_EQ(s0.spans_small, 0);
    for (unsigned k = 0; k < nc; k++) {
        unsigned c = classes[k];
        size_t n = sheap_class_size[c];
        struct sheap_stats before = stats_now();
        void *p = sheap_malloc(n);
        CHECK(p != NULL);
#if SHEAP_SMP
        /* SMP: small mallocs on the fast path do not note the peak (one
         * CPU's counters only); a report does, as the pair below does. */
        (void)stats_now();
#endif
        sheap_free(p);
        struct sheap_stats ref = stats_now();
        /* The empty head is kept.  (Other classes' kept heads may have gone
         * back to the page heap when this class's first span was backed.) */
        CHECK(ref.spans_small >= 1 && ref.spans_small <= before.spans_small + 1);
        CHECK_EQ(ref.live_blocks, before.live_blocks);
        for (int i = 0; i < 1000; i++) {
            void *q = sheap_malloc(n);
            CHECK(q != NULL);
            struct sheap_stats mid = stats_now();
            CHECK_EQ(mid.spans_small, ref.spans_small);
            CHECK_EQ(mid.ready_bytes, ref.ready_bytes);
            sheap_free(q);
            struct sheap_stats s = stats_now();
            if (!stats_same(&s, &ref)) {
                printf("  class %u (%u B), pair %d\n", c, (unsigned)n, i);
                CHECK(false);
            }
        }
        CHECK_HEAP();
    }
    /* Trim returns every kept head. */
    sheap_trim();
    struct sheap_stats s = stats_now();
    CHECK_EQ(s.spans_small, 0);
    CHECK_EQ(s.ready_bytes, 0);
    CHECK_LIVE(s0.live_blocks);
}

/* Empty spans beyond the kept head wait in the class's stash (at most
 * SHEAP_STASH_SPANS), serve the class again without the page heap, and go
 * back to it on sheap_trim. */
static void ignore_misuse(const char *msg, const void *ptr)
{
    (void)msg;
    (void)ptr;
}

static void test_stash(void)
{
#if SHEAP_HARDENING >= 2
    /* Level 2's quarantine holds freed blocks back, so a span does not
     * become empty when its last block is freed: the policy checked here
     * does not apply. */
    SKIP("at hardening level 2 (quarantine)");
#endif
    const unsigned c = 5;
    const size_t n = sheap_class_size[c];
    const unsigned per = sheap_class_nelems[c];
    const unsigned nspans = SHEAP_STASH_SPANS + 3;
    const unsigned k = per * nspans;
    CHECK(k <= sizeof(blocks) / sizeof(blocks[0]));
    sheap_trim();
    struct sheap_stats s0 = stats_now();
    for (unsigned i = 0; i < k; i++)
        CHECK((blocks[i] = sheap_malloc(n)) != NULL);
    struct sheap_stats full = stats_now();
    CHECK_EQ(full.spans_small - s0.spans_small, nspans);
    /* Free span by span, the last span first: it is the head of the partial
     * list once it has a free slot, so it is kept; SHEAP_STASH_SPANS of the
     * others are stashed, the rest go back to the page heap. */
    for (unsigned i = k; i-- > 0;)
        sheap_free(blocks[i]);
    struct sheap_stats empty = stats_now();
    CHECK_EQ(empty.live_blocks, s0.live_blocks);
    CHECK_EQ(empty.spans_small - s0.spans_small, 1 + SHEAP_STASH_SPANS);
    CHECK_HEAP();
    /* Refill 1 + SHEAP_STASH_SPANS spans' worth: no page leaves the page heap. */
    for (unsigned i = 0; i < per * (1 + SHEAP_STASH_SPANS); i++)
        CHECK((blocks[i] = sheap_malloc(n)) != NULL);
    struct sheap_stats again = stats_now();
    CHECK_EQ(again.spans_small, empty.spans_small);
    CHECK_EQ(again.free_bytes, empty.free_bytes);
    CHECK_HEAP();
    /* A block freed twice while its span sits in a stash is still caught. */
    for (unsigned i = 0; i < per * (1 + SHEAP_STASH_SPANS); i++)
        sheap_free(blocks[i]);
    size_t misuse0 = stats_now().misuse_count;
    sheap_fault_hook old = sheap_set_fault_hook(ignore_misuse);
    sheap_free(blocks[0]);
    sheap_set_fault_hook(old);
    CHECK_EQ(stats_now().misuse_count, misuse0 + 1);
    /* Trim gives the stash back. */
    sheap_trim();
    struct sheap_stats t = stats_now();
    CHECK_EQ(t.spans_small, 0);
    CHECK_EQ(t.ready_bytes, 0);
    CHECK_HEAP();
}

/* Kept empty spans (heads and stashes) serve a request for which the heap
 * would otherwise need new memory.  After a trim, one block per class (all
 * live, then all freed) leaves every class an empty head, side by side at
 * the start of the one free run.  A block as large as all of them together
 * then fits there, with every port call made to fail: no growth, no new
 * backing.  Few pages, so it runs on every board. */
static void test_kept_spans_serve_before_new_memory(void)
{
#if SHEAP_HARDENING >= 2
    /* Level 2's quarantine holds freed small blocks back: their spans are
     * not empty, so they cannot serve the large block. */
    SKIP("at hardening level 2 (quarantine)");
#endif
    /* A fresh heap may have no arena yet (64-bit mode grows on demand):
     * one block makes the first, and the trim leaves it one unbacked free
     * run. */
    void *w = sheap_malloc(64);
    CHECK(w != NULL);
    sheap_free(w);
    sheap_trim();
    struct sheap_stats s0 = stats_now();
    CHECK_EQ(s0.live_blocks, 0);
    CHECK_EQ(s0.spans_free, 1);
    CHECK_EQ(s0.ready_bytes, 0);
    for (unsigned c = 1; c < SHEAP_NUM_CLASSES; c++)
        CHECK((blocks[c] = sheap_malloc(sheap_class_size[c])) != NULL);
    for (unsigned c = 1; c < SHEAP_NUM_CLASSES; c++)
        sheap_free(blocks[c]);
    struct sheap_stats kept = stats_now();
    CHECK_EQ(kept.spans_small, SHEAP_NUM_CLASSES - 1);
    CHECK_EQ(kept.live_blocks, 0);
    CHECK(kept.ready_bytes > MAXSMALL);
    /* The large block must fit the one free run, in the first arena. */
    if (kept.ready_bytes > s0.free_bytes)
        SKIP("a span of every class takes %lu B, more than the first arena's %lu B free run",
             (unsigned long)kept.ready_bytes, (unsigned long)s0.free_bytes);
    for (int op = 0; op < SHEAP_OP_COUNT; op++)
        sheap_fault_inject_all((enum sheap_port_op)op, true);
    void *big = sheap_malloc(kept.ready_bytes);
    for (int op = 0; op < SHEAP_OP_COUNT; op++)
        sheap_fault_inject_all((enum sheap_port_op)op, false);
    CHECK(big != NULL);
    struct sheap_stats a = stats_now();
    CHECK_EQ(a.spans_small, 0);
    CHECK_EQ(a.spans_large, 1);
    CHECK_EQ(a.ready_bytes, kept.ready_bytes);
    CHECK_EQ(a.arenas, s0.arenas);
    CHECK_HEAP();
    sheap_free(big);
    sheap_trim();
}

/* Allocate k blocks of class c, all live, each overwritten to its very last
 * byte with 0xFF; exactly ceil(k / nelems) new spans; the heap stays sound. */
static void fill_class(unsigned c, unsigned k)
{
    size_t n = sheap_class_size[c];
    /* No stashed empty spans (of any class): they would serve some of the
     * blocks, or go back to the page heap during the fill, and blur the
     * span count. */
    sheap_trim();
    struct sheap_stats b = stats_now();
    for (unsigned i = 0; i < k; i++) {
        blocks[i] = sheap_malloc(n);
        CHECK(blocks[i] != NULL);
        CHECK_EQ(sheap_usable_size(blocks[i]), n);
        memset(blocks[i], 0xFF, n);
    }
    struct sheap_stats a = stats_now();
    unsigned per = sheap_class_nelems[c];
    CHECK_EQ(a.spans_small - b.spans_small, (k + per - 1) / per);
    CHECK_EQ(a.live_blocks, b.live_blocks + k);
    CHECK_EQ(a.live_bytes, b.live_bytes + (size_t)k * n);
    CHECK_HEAP(); /* nothing of the heap lives in or next to user memory */
    for (unsigned i = 0; i < k; i++)
        CHECK(all_byte(blocks[i], n, 0xFF));
    /* Same-class realloc and usable_size still work on overwritten blocks. */
    CHECK(sheap_realloc(blocks[0], n) == blocks[0]);
    for (unsigned i = 0; i < k; i++)
        sheap_free(blocks[i]);
    a = stats_now();
    CHECK_EQ(a.live_blocks, b.live_blocks);
    CHECK_HEAP();
}

static void test_small_blocks_pack_into_few_spans(void)
{
    sheap_trim();
    struct sheap_stats s0 = stats_now();
    /* 1000 blocks of a few classes (fewer where TEST_RAM / 2 holds less). */
    const unsigned some[] = {1, 2, 3, 4, 9, 17, 33};
    for (unsigned i = 0; i < sizeof(some) / sizeof(some[0]); i++) {
        size_t fit = TEST_RAM / 2 / sheap_class_size[some[i]];
        CALL(fill_class(some[i], fit < 1000 ? (unsigned)fit : 1000));
    }
    sheap_trim();
    /* Every class: two full spans and one block more. */
    for (unsigned c = 1; c < SHEAP_NUM_CLASSES; c++) {
        unsigned k = 2u * sheap_class_nelems[c] + 1u;
        CHECK(k <= sizeof(blocks) / sizeof(blocks[0]));
        CALL(fill_class(c, k));
        sheap_trim();
    }
    CHECK_LIVE(s0.live_blocks);
}

/* ---- check / fault hook ------------------------------------------------------------------------- */

static void dummy_hook(const char *msg, const void *ptr)
{
    (void)msg;
    (void)ptr;
}

static void test_check_and_hook_api(void)
{
    CHECK_EQ(sheap_check(), SHEAP_CHECK_OK);
    const char *ok = sheap_check_message(SHEAP_CHECK_OK);
    CHECK(ok != NULL && ok[0] != 0);
    /* Every code has its own non-empty message. */
    for (int r = SHEAP_CHECK_OK; r <= SHEAP_CHECK_STATS; r++) {
        const char *m = sheap_check_message(r);
        CHECK(m != NULL && m[0] != 0);
        for (int q = SHEAP_CHECK_OK; q < r; q++)
            CHECK(strcmp(m, sheap_check_message(q)) != 0);
    }
    CHECK(sheap_check_message(-1) != NULL);
    CHECK(sheap_check_message(1000) != NULL);
    /* set_fault_hook returns the previous hook. */
    sheap_fault_hook old = sheap_set_fault_hook(dummy_hook);
    CHECK(sheap_set_fault_hook(old) == dummy_hook);
    CHECK(sheap_set_fault_hook(old) == old);
    CHECK_HEAP();
}

int main(void)
{
    RUN(test_size_class_table);
    RUN(test_check_and_hook_api);
    RUN(test_stats_exact);
    RUN(test_malloc_zero_and_one);
    RUN(test_class_boundaries);
    RUN(test_page_boundaries);
    RUN(test_arena_boundaries);
    RUN(test_huge_fails);
    RUN(test_calloc_zeroed);
    RUN(test_calloc_after_frames_reused);
    RUN(test_calloc_overflow);
    RUN(test_realloc_null_and_zero);
    RUN(test_realloc_content);
    RUN(test_realloc_same_class_in_place);
    RUN(test_realloc_large_in_place);
    RUN(test_realloc_failure);
    RUN(test_aligned_alloc);
    RUN(test_posix_memalign);
    RUN(test_walk);
    RUN(test_hysteresis);
    RUN(test_stash);
    RUN(test_kept_spans_serve_before_new_memory);
    RUN(test_small_blocks_pack_into_few_spans);
    RUN(test_trim);
    return harness_finish("api");
}
