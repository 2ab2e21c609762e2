/*
 * test_misuse.c - misuse reports, corruption detection and port failures.
 *
 * Misuse: harness_fault_hook is installed as sheap's fault hook.  Every bad
 * call (double free, foreign, interior and free-memory pointers, a pointer
 * past the last slot of a span) must be reported exactly once with a message
 * naming the cause, and must leave the heap as it was: the same statistics
 * except misuse_count + 1, the same blocks (a digest of sheap_walk), and a
 * clean sheap_check().
 *
 * Corruption: metadata is damaged on purpose through sheap_internal.h, one
 * field at a time; sheap_check() must return the code for that structure
 * and a message, and 0 again once the field is restored.
 *
 * Port failures: with fault injection armed (sheap_port.h), allocations that
 * need backing (USED), address space (RESERVE) or mappings (MAP) fail with
 * NULL / ENOMEM and leave the heap sound, and the heap works again once the
 * port does.  A sweep fails the Nth call of each operation over a fixed
 * workload.  The sweep runs first, while the heap is still empty, so that
 * it also covers the heap's first growth.
 *
 * Portability: public API, the internal header, the port API and printf
 * only; sizes from SHEAP_PAGE_SIZE / SHEAP_ARENA_SIZE.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "sheap.h"
#include "sheap_internal.h"

#define PAGE SHEAP_PAGE_SIZE
#define ARENA SHEAP_ARENA_SIZE
#define MAXSMALL ((size_t)SHEAP_CLASS_MAX_SIZE)

#define CALL(x)                                                                                    \
    do {                                                                                           \
        x;                                                                                         \
        if (harness_failed_now)                                                                    \
            return;                                                                                \
    } while (0)

static unsigned misuse_cases, corruption_cases;

/* ---- helpers ------------------------------------------------------------------- */


/* A digest of every block the walker reports (address, size, used). */
static int digest_fn(void *ptr, size_t size, bool used, void *ctx)
{
    uint64_t *h = ctx;
    *h = (*h ^ (uint64_t)(uintptr_t)ptr) * 0x100000001b3ull;
    *h = (*h ^ ((uint64_t)size << 1 | used)) * 0x100000001b3ull;
    return 0;
}

static uint64_t heap_digest(void)
{
    uint64_t h = 0xcbf29ce484222325ull;
    sheap_walk(digest_fn, &h);
    return h;
}

/*
 * stmt must be reported exactly once, with a message containing keyword,
 * and change nothing but misuse_count.
 */
/* Hardening level 0 (issue 17) reports every misuse with one message,
 * without the diagnosis. */
#if SHEAP_HARDENING == 0
#define MISUSE_NAME(keyword) "invalid pointer"
#else
#define MISUSE_NAME(keyword) (keyword)
#endif
#define EXPECT_MISUSE(stmt, keyword)                                                               \
    do {                                                                                           \
        struct sheap_stats mb_ = stats_now();                                                       \
        uint64_t md_ = heap_digest();                                                               \
        unsigned mf_ = harness_faults;                                                              \
        harness_last_fault = NULL;                                                                 \
        stmt;                                                                                      \
        CHECK_EQ(harness_faults, mf_ + 1);                                                          \
        CHECK(harness_last_fault != NULL);                                                         \
        if (strstr(harness_last_fault, MISUSE_NAME(keyword)) == NULL) {                            \
            printf("  message \"%s\" does not name \"%s\"\n", harness_last_fault, (keyword));     \
            CHECK(false);                                                                          \
        }                                                                                          \
        struct sheap_stats ma_ = stats_now();                                                       \
        mb_.misuse_count++;                                                                         \
        CHECK(stats_same(&ma_, &mb_));                                                               \
        CHECK(heap_digest() == md_);                                                                \
        CHECK_HEAP();                                                                              \
        misuse_cases++;                                                                            \
    } while (0)

/* The three calls that take a pointer, each on its own. */
#define EXPECT_MISUSE_ALL(ptr, keyword)                                                            \
    do {                                                                                           \
        void *m_ = (void *)(ptr);                                                                  \
        EXPECT_MISUSE(sheap_free(m_), keyword);                                                    \
        EXPECT_MISUSE(CHECK(sheap_realloc(m_, 100) == NULL), keyword);                             \
        EXPECT_MISUSE(CHECK(sheap_realloc(m_, 0) == NULL), keyword);                               \
        /* issue 20: a huge size must not hide the bad pointer */                                 \
        EXPECT_MISUSE(CHECK(sheap_realloc(m_, SIZE_MAX) == NULL), keyword);                        \
        EXPECT_MISUSE(CHECK(sheap_realloc(m_, SIZE_MAX / 2 + 1) == NULL), keyword);                \
        EXPECT_MISUSE(CHECK_EQ(sheap_usable_size(m_), 0), keyword);                                \
    } while (0)

#define KW_DOUBLE "double free"
#define KW_FOREIGN "not from this heap"
#define KW_INTERIOR "interior"
#define KW_FREE_MEM "free heap memory"
#define KW_PAST "past the last"

/* The first free run with at least min_pages pages, or NULL. */
static struct sheap_span *find_free_run(uintptr_t min_pages)
{
    for (unsigned fl = 0; fl < FL_COUNT; fl++)
        for (unsigned sl = 0; sl < SL_COUNT; sl++)
            for (struct sheap_span *s = sheap_heap.free_lists[fl][sl]; s; s = s->next)
                if (s->npages >= min_pages)
                    return s;
    return NULL;
}

/* The span-map entry of the page holding addr. */
static struct sheap_span **map_entry(uintptr_t addr)
{
    struct sheap_arena *a = arena_of(addr);
    return &a->spans[arena_page_index(addr)];
}

static int global_object;

/* ---- port failures: the sweep (runs first, on an empty heap) ----------------------- */

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

/* The fixed workload: small and large blocks of each allocation function,
 * and one realloc growing a page run. */
static void workload(struct sweep_stats *r)
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

static void sweep(enum sheap_port_op op, const char *name)
{
    struct sweep_stats r = {0, 0, 0};
    unsigned long calls0 = sheap_fault_inject_calls(op);
    for (unsigned long nth = 1; nth <= 20; nth++) {
        sheap_trim(); /* every span must be backed again */
        struct sheap_stats base = stats_now();
        unsigned long inj = sheap_fault_inject_count();
        sheap_fault_inject_arm(op, nth);
        workload(&r);
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
    CALL(sweep(SHEAP_OP_MAP, "MAP"));
    CALL(sweep(SHEAP_OP_RESERVE, "RESERVE"));
    CALL(sweep(SHEAP_OP_USED, "USED"));
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
#if !SHEAP_32BIT_MODE
    CALL(warm_up());
    CALL(pin_free_space());
    uintptr_t end = sheap_heap.meta.end, room = end - sheap_heap.meta.next;
    CHECK(end != 0);
    if (room < 4 * sizeof(struct sheap_arena) + 2 * sizeof(struct index_l2) + 2 * PAGE) {
        printf("  metadata chunk nearly full; case not reproducible here\n");
        unpin();
        return;
    }
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

/* ---- misuse ------------------------------------------------------------------------------ */

static const void *hook_ptr;
static unsigned hook_calls;
static void recording_hook(const char *msg, const void *ptr)
{
    hook_ptr = ptr;
    hook_calls++;
    harness_fault_hook(msg, ptr);
}

static void test_hook_gets_pointer(void)
{
    sheap_fault_hook old = sheap_set_fault_hook(recording_hook);
    CHECK(old == harness_fault_hook);
    void *k = sheap_malloc(64), *p = sheap_malloc(64); /* k keeps the span */
    CHECK(k != NULL && p != NULL);
    sheap_free(p);
    hook_calls = 0;
    EXPECT_MISUSE(sheap_free((char *)p + 8), KW_INTERIOR);
    CHECK_EQ(hook_calls, 1);
    CHECK(hook_ptr == (char *)p + 8);
    sheap_free(k);
    /* NULL is not misuse. */
    unsigned f = harness_faults;
    sheap_free(NULL);
    CHECK_EQ(sheap_usable_size(NULL), 0);
    CHECK_EQ(harness_faults, f);
    CHECK(sheap_set_fault_hook(old) == recording_hook);
    CHECK_HEAP();
}

static void test_double_free_small(void)
{
    /* A neighbour keeps the span live: the slot itself is free. */
    char *keep = sheap_malloc(32), *p = sheap_malloc(32);
    CHECK(keep != NULL && p != NULL);
    CHECK(span_of((uintptr_t)p) == span_of((uintptr_t)keep));
    sheap_free(p);
    EXPECT_MISUSE(sheap_free(p), KW_DOUBLE);
    EXPECT_MISUSE(sheap_free(p), KW_DOUBLE); /* and again */
    EXPECT_MISUSE(CHECK(sheap_realloc(p, 64) == NULL), KW_DOUBLE);
    EXPECT_MISUSE(CHECK_EQ(sheap_usable_size(p), 0), KW_DOUBLE);
    /* The block is still only once on the free side: two mallocs give two
     * different blocks. */
    char *a = sheap_malloc(32), *b = sheap_malloc(32);
    CHECK(a != NULL && b != NULL && a != b);
    sheap_free(a);
    sheap_free(b);
    sheap_free(keep);
    /* The last block of a class: the empty head span stays, the slot is free. */
    sheap_trim();
    char *only = sheap_malloc(sheap_class_size[SHEAP_NUM_CLASSES - 1]);
    CHECK(only != NULL);
    sheap_free(only);
    EXPECT_MISUSE(sheap_free(only), KW_DOUBLE);
    /* After trim the span itself is gone: free heap memory. */
    sheap_trim();
    EXPECT_MISUSE(sheap_free(only), KW_FREE_MEM);
    CHECK_HEAP();
}

static void test_double_free_large(void)
{
    char *p = sheap_malloc(MAXSMALL + 1), *q = sheap_malloc(10 * PAGE);
    CHECK(p != NULL && q != NULL);
    sheap_free(p);
    EXPECT_MISUSE(sheap_free(p), KW_DOUBLE);
    EXPECT_MISUSE(sheap_free(p), KW_FREE_MEM);
    sheap_free(q);
    EXPECT_MISUSE_ALL(q, KW_FREE_MEM);
    /* Even after the pages went back to the port. */
    sheap_trim();
    EXPECT_MISUSE_ALL(q, KW_FREE_MEM);
    EXPECT_MISUSE_ALL(q + 3 * PAGE, KW_FREE_MEM);
    CHECK_HEAP();
}

static void test_foreign_pointers(void)
{
    int local = 0;
    void *p = sheap_malloc(48);
    CHECK(p != NULL);
    EXPECT_MISUSE_ALL(&global_object, KW_FOREIGN);
    EXPECT_MISUSE_ALL(&local, KW_FOREIGN);
    EXPECT_MISUSE_ALL((void *)(uintptr_t)0x10, KW_FOREIGN);
    EXPECT_MISUSE_ALL((void *)(UINTPTR_MAX & ~(uintptr_t)15), KW_FOREIGN);
    EXPECT_MISUSE_ALL((void *)(uintptr_t)PAGE, KW_FOREIGN);
    /* The heap's own metadata is off the heap: foreign as well. */
    EXPECT_MISUSE_ALL(span_of((uintptr_t)p), KW_FOREIGN);
    EXPECT_MISUSE_ALL(&sheap_heap, KW_FOREIGN);
    /* Just outside every arena. */
    struct sheap_arena *first = sheap_heap.arenas;
    CHECK(first != NULL);
    if (first->base >= ARENA && arena_of(first->base - 1) == NULL)
        EXPECT_MISUSE_ALL(first->base - 16, KW_FOREIGN);
    sheap_free(p);
    (void)local;
    CHECK_HEAP();
}

static void test_interior_small(void)
{
    char *p = sheap_malloc(32), *q = sheap_malloc(48), *q2 = sheap_malloc(48); /* q2 keeps q's span */
    CHECK(p != NULL && q != NULL && q2 != NULL);
    CHECK(span_of((uintptr_t)q) == span_of((uintptr_t)q2));
    CHECK_EQ(sheap_usable_size(p), 32);
    EXPECT_MISUSE_ALL(p + 8, KW_INTERIOR);
    EXPECT_MISUSE_ALL(p + 1, KW_INTERIOR);
    EXPECT_MISUSE_ALL(p + 16, KW_INTERIOR);
    EXPECT_MISUSE_ALL(p + 31, KW_INTERIOR);
    EXPECT_MISUSE_ALL(q + 16, KW_INTERIOR); /* 16-aligned, still not a slot */
    EXPECT_MISUSE_ALL(q + 32, KW_INTERIOR);
    /* Interior of a free slot is interior too. */
    sheap_free(q);
    EXPECT_MISUSE(sheap_free(q + 8), KW_INTERIOR);
    /* The block itself is untouched by all that. */
    CHECK_EQ(sheap_usable_size(p), 32);
    sheap_free(p);
    sheap_free(q2);
    CHECK_HEAP();
}

static void test_interior_large(void)
{
    char *p = sheap_malloc(4 * PAGE + MAXSMALL);
    CHECK(p != NULL);
    size_t u = sheap_usable_size(p);
    EXPECT_MISUSE_ALL(p + PAGE, KW_INTERIOR);
    EXPECT_MISUSE_ALL(p + 1, KW_INTERIOR);
    EXPECT_MISUSE_ALL(p + 16, KW_INTERIOR);
    EXPECT_MISUSE_ALL(p + u - 16, KW_INTERIOR);
    EXPECT_MISUSE_ALL(p + u - PAGE, KW_INTERIOR);
    CHECK_EQ(sheap_usable_size(p), u);
    sheap_free(p);
    CHECK_HEAP();
}

static void test_free_run_pointers(void)
{
    /* A page run, freed: its first page, its interior, its last page. */
    char *p = sheap_malloc(8 * PAGE + MAXSMALL);
    CHECK(p != NULL);
    size_t u = sheap_usable_size(p);
    sheap_free(p);
    EXPECT_MISUSE_ALL(p, KW_FREE_MEM);
    EXPECT_MISUSE_ALL(p + 2 * PAGE, KW_FREE_MEM);
    EXPECT_MISUSE_ALL(p + u - PAGE, KW_FREE_MEM);
    EXPECT_MISUSE_ALL(p + 24, KW_FREE_MEM);
    /* Pages of a free run that were never handed out. */
    struct sheap_span *f = find_free_run(2);
    CHECK(f != NULL);
    uintptr_t fb = f->base, fe = f->base + (f->npages << SHEAP_PAGE_SHIFT);
    EXPECT_MISUSE_ALL(fb, KW_FREE_MEM);
    EXPECT_MISUSE_ALL(fe - PAGE, KW_FREE_MEM);
    EXPECT_MISUSE_ALL(fb + PAGE + 32, KW_FREE_MEM);
    CHECK_HEAP();
}

/* Classes whose span has a tail: nelems * size < npages * page.  A pointer
 * to the tail is past the last slot. */
static void test_past_last_slot(void)
{
    unsigned tested = 0;
    for (unsigned c = 1; c < SHEAP_NUM_CLASSES; c++) {
        uintptr_t used = (uintptr_t)sheap_class_nelems[c] * sheap_class_size[c];
        uintptr_t span = (uintptr_t)sheap_class_npages[c] << SHEAP_PAGE_SHIFT;
        if (used >= span)
            continue;
        char *p = sheap_malloc(sheap_class_size[c]);
        CHECK(p != NULL);
        struct sheap_span *s = span_of((uintptr_t)p);
        CHECK(s != NULL && s->state == SPAN_SMALL && s->cls == c);
        uintptr_t tail = s->base + used;
        EXPECT_MISUSE_ALL(tail, KW_PAST);
        if (span - used > 8)
            EXPECT_MISUSE_ALL(tail + 8, KW_PAST);
        EXPECT_MISUSE_ALL(s->base + span - 8, KW_PAST);
        sheap_free(p);
        tested++;
    }
    printf("  %u classes with a tail\n", tested);
    CHECK(tested > 0);
    CHECK_HEAP();
}

/* ---- corruption --------------------------------------------------------------------------- */

/* Damage with `corrupt`, expect `code` from sheap_check, undo with
 * `restore` (before any CHECK can leave), and expect a clean heap again. */
#define EXPECT_CORRUPTION(code, corrupt, restore)                                                  \
    do {                                                                                           \
        corrupt;                                                                                   \
        int cr_ = sheap_check();                                                                    \
        restore;                                                                                   \
        if (cr_ != (code))                                                                          \
            printf("  after \"%s\": sheap_check() = %d (%s)\n", #corrupt, cr_, sheap_check_message(cr_)); \
        CHECK_EQ(cr_, (code));                                                                      \
        const char *cm_ = sheap_check_message(cr_);                                                  \
        CHECK(cm_ != NULL && cm_[0] != 0 && strcmp(cm_, sheap_check_message(SHEAP_CHECK_OK)) != 0);  \
        CHECK_HEAP();                                                                              \
        corruption_cases++;                                                                        \
    } while (0)

static void test_corruption_small_span(void)
{
    /* A fresh span of the 32-byte class with one live block (slot 0). */
    sheap_trim();
    char *p = sheap_malloc(32);
    CHECK(p != NULL);
    struct sheap_span *s = span_of((uintptr_t)p);
    CHECK(s != NULL && s->state == SPAN_SMALL);
    CHECK(s->nfree > 1 && s->nfree < s->nelems);
    uintptr_t slot = ((uintptr_t)p - s->base) / s->elem_size;
    uintptr_t *w = &s->freebits[slot / WORD_BITS], bit = (uintptr_t)1 << (slot % WORD_BITS);
    unsigned cls = s->cls;

    /* The live slot marked free. */
    EXPECT_CORRUPTION(SHEAP_CHECK_BITMAP, *w ^= bit, *w ^= bit);
    /* A free bit at or beyond nelems. */
    unsigned beyond = s->nelems;
    if (beyond < WORD_BITS * SPAN_BITMAP_WORDS) {
        uintptr_t *bw = &s->freebits[beyond / WORD_BITS], bb = (uintptr_t)1 << (beyond % WORD_BITS);
        EXPECT_CORRUPTION(SHEAP_CHECK_BITMAP, *bw |= bb, *bw &= ~bb);
    }
    /* The count of free slots. */
    EXPECT_CORRUPTION(SHEAP_CHECK_BITMAP, s->nfree++, s->nfree--);
    EXPECT_CORRUPTION(SHEAP_CHECK_BITMAP, s->nfree--, s->nfree++);
    /* The scan hint outside the bitmap (malloc would read past it). */
    uint32_t hint = s->hint;
    EXPECT_CORRUPTION(SHEAP_CHECK_BITMAP, s->hint = SPAN_BITMAP_WORDS, s->hint = hint);
    /* Record fields. */
    uint32_t es = s->elem_size;
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN, s->elem_size += 16, s->elem_size = es);
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN, s->cls = (uint8_t)(cls + 1), s->cls = (uint8_t)cls);
    uint16_t ne = s->nelems;
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN, s->nelems--, s->nelems = ne);
    uint8_t st = s->state;
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN, s->state = 7, s->state = st);
    /* Partial list: flag and list head. */
    EXPECT_CORRUPTION(SHEAP_CHECK_PARTIAL, s->class_list = 0, s->class_list = 1);
    struct sheap_span *head = heap_cache_here(&sheap_heap)->classes[cls].partial;
    EXPECT_CORRUPTION(SHEAP_CHECK_PARTIAL, heap_cache_here(&sheap_heap)->classes[cls].partial = NULL,
                      heap_cache_here(&sheap_heap)->classes[cls].partial = head);
    /* Span map entry of the block's page. */
    struct sheap_span **e = map_entry((uintptr_t)p);
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN_MAP, *e = NULL, *e = s);
    /* In-use and Ready page bits. */
    struct sheap_arena *a = arena_of((uintptr_t)p);
    uintptr_t pg = arena_page_index(s->base);
    uintptr_t pw = pg / WORD_BITS, pb = (uintptr_t)1 << (pg % WORD_BITS);
    EXPECT_CORRUPTION(SHEAP_CHECK_PAGE_STATE, a->starts[pw] ^= pb, a->starts[pw] ^= pb);
    EXPECT_CORRUPTION(SHEAP_CHECK_PAGE_STATE, a->ready[pw] ^= pb, a->ready[pw] ^= pb);
    /* The block still works. */
    CHECK_EQ(sheap_usable_size(p), 32);
    sheap_free(p);
    CHECK_HEAP();
}

static void test_corruption_large_span(void)
{
    char *p = sheap_malloc(3 * PAGE + MAXSMALL);
    CHECK(p != NULL);
    struct sheap_span *s = span_of((uintptr_t)p);
    CHECK(s != NULL && s->state == SPAN_LARGE && s->npages >= 3);
    uintptr_t mid = (uintptr_t)p + PAGE;
    /* A large run's span map is exact at its first and last page (the
     * interior entries are not kept: O(1) per run). */
    uintptr_t lastpg = (uintptr_t)p + ((s->npages - 1) << SHEAP_PAGE_SHIFT);
    struct sheap_span **first = map_entry((uintptr_t)p), **e = map_entry(lastpg);
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN_MAP, *e = NULL, *e = s);
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN_MAP, *first = NULL, *first = s);
    uintptr_t np = s->npages;
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN_MAP, s->npages = np + 1, s->npages = np);
    struct sheap_arena *a = arena_of(mid);
    uintptr_t pg = arena_page_index(mid);
    uintptr_t pw = pg / WORD_BITS, pb = (uintptr_t)1 << (pg % WORD_BITS);
    /* A start bit inside the run, or a page of it not Ready. */
    EXPECT_CORRUPTION(SHEAP_CHECK_PAGE_STATE, a->starts[pw] ^= pb, a->starts[pw] ^= pb);
    EXPECT_CORRUPTION(SHEAP_CHECK_PAGE_STATE, a->ready[pw] ^= pb, a->ready[pw] ^= pb);
    sheap_free(p);
    CHECK_HEAP();
}

static void test_corruption_free_lists(void)
{
    /* Make sure there is a free run of a few pages. */
    char *p = sheap_malloc(4 * PAGE + MAXSMALL);
    CHECK(p != NULL);
    sheap_free(p);
    struct sheap_span *f = find_free_run(2);
    CHECK(f != NULL);
    unsigned fl, sl;
    ph_mapping(f->npages, &fl, &sl);
    uint32_t bit = 1u << sl;
    EXPECT_CORRUPTION(SHEAP_CHECK_FREE_LIST, sheap_heap.sl_bitmap[fl] ^= bit, sheap_heap.sl_bitmap[fl] ^= bit);
    uint64_t fbit = (uint64_t)1 << fl;
    EXPECT_CORRUPTION(SHEAP_CHECK_FREE_LIST, sheap_heap.fl_bitmap ^= fbit, sheap_heap.fl_bitmap ^= fbit);
    /* A bit for a list that is empty. */
    unsigned efl = FL_COUNT - 1;
    if (sheap_heap.sl_bitmap[efl] == 0) {
        EXPECT_CORRUPTION(SHEAP_CHECK_FREE_LIST, sheap_heap.sl_bitmap[efl] |= 1u, sheap_heap.sl_bitmap[efl] = 0);
        EXPECT_CORRUPTION(SHEAP_CHECK_FREE_LIST, sheap_heap.fl_bitmap |= (uint64_t)1 << efl,
                          sheap_heap.fl_bitmap &= ~((uint64_t)1 << efl));
    }
    /* Broken links. */
    struct sheap_span *prev = f->prev;
    EXPECT_CORRUPTION(SHEAP_CHECK_FREE_LIST, f->prev = f, f->prev = prev);
    struct sheap_span **headp = &sheap_heap.free_lists[fl][sl], *head = *headp;
    EXPECT_CORRUPTION(SHEAP_CHECK_FREE_LIST, *headp = head->next, *headp = head);
    /* The record claims a shorter run: its last page maps elsewhere. */
    uintptr_t np = f->npages;
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN_MAP, f->npages = np - 1, f->npages = np);
    CHECK_HEAP();
}

/* Split a free run in two adjacent free records without merging them. */
static void test_corruption_coalesce(void)
{
    char *p = sheap_malloc(4 * PAGE + MAXSMALL);
    CHECK(p != NULL);
    sheap_free(p);
    struct sheap_span *f = find_free_run(2);
    CHECK(f != NULL);
    static struct sheap_span g;
    uintptr_t np = f->npages, last = f->base + ((np - 1) << SHEAP_PAGE_SHIFT);
    uintptr_t second = f->base + PAGE;
    struct sheap_span **e_second = map_entry(second), **e_last = map_entry(last);
    struct sheap_span *old_second = *e_second;
    g = *f;
    g.base = second;
    g.npages = np - 1;
    g.next = g.prev = NULL;
    EXPECT_CORRUPTION(SHEAP_CHECK_COALESCE, (f->npages = 1, *e_second = &g, *e_last = &g),
                      (f->npages = np, *e_last = f, *e_second = old_second));
    CHECK_HEAP();
}

static void test_corruption_counters(void)
{
    void *p = sheap_malloc(100), *l = sheap_malloc(2 * PAGE + MAXSMALL);
    CHECK(p != NULL && l != NULL);
    struct sheap_counters *c = &sheap_heap.c;
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, c->live_bytes += 16, c->live_bytes -= 16);
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, c->live_blocks++, c->live_blocks--);
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, c->free_pages++, c->free_pages--);
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, c->ready_pages--, c->ready_pages++);
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, c->spans[SPAN_FREE]++, c->spans[SPAN_FREE]--);
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, c->spans[SPAN_SMALL]++, c->spans[SPAN_SMALL]--);
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, c->spans[SPAN_LARGE]--, c->spans[SPAN_LARGE]++);
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, sheap_heap.free_ready_pages++, sheap_heap.free_ready_pages--);
    uintptr_t peak = c->peak_live_bytes;
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, c->peak_live_bytes = c->live_bytes - 1, c->peak_live_bytes = peak);
    /* Index and arena list. */
    EXPECT_CORRUPTION(SHEAP_CHECK_INDEX, c->arenas++, c->arenas--);
    EXPECT_CORRUPTION(SHEAP_CHECK_INDEX, c->arena_pages++, c->arena_pages--);
    struct sheap_arena *first = sheap_heap.arenas;
    EXPECT_CORRUPTION(SHEAP_CHECK_INDEX, sheap_heap.arenas = NULL, sheap_heap.arenas = first);
    uintptr_t base = first->base;
    EXPECT_CORRUPTION(SHEAP_CHECK_INDEX, first->base = base + ARENA, first->base = base);
    sheap_free(p);
    sheap_free(l);
    CHECK_HEAP();
}

/* ---- issue 20: contract breaks found by the adversarial round ------------------ */

/* Fix 1: realloc validates the pointer before the size.  The issue's
 * reproduction, then freed, interior and stack pointers with sizes beyond
 * the largest request: each is reported once, is not an OOM, and leaves
 * errno alone (like sheap_free). */
static void test_realloc_invalid_huge(void)
{
    char *keep = sheap_malloc(32);
    void *p = sheap_malloc(32);
    CHECK(keep != NULL && p != NULL);
    sheap_free(p);
    struct sheap_stats before = stats_now();
    errno = 0;
    EXPECT_MISUSE(CHECK(sheap_realloc(p, SIZE_MAX) == NULL), KW_DOUBLE);
    CHECK_EQ(errno, 0);
    CHECK_EQ(stats_now().oom_count, before.oom_count);
    char *big = sheap_malloc(3 * PAGE);
    int local = 0;
    CHECK(big != NULL);
    EXPECT_MISUSE(CHECK(sheap_realloc(big + PAGE, SIZE_MAX) == NULL), KW_INTERIOR);
    EXPECT_MISUSE(CHECK(sheap_realloc(keep + 1, SIZE_MAX - PAGE) == NULL), KW_INTERIOR);
    EXPECT_MISUSE(CHECK(sheap_realloc(&local, SIZE_MAX) == NULL), KW_FOREIGN);
    /* A valid pointer with a huge size: ENOMEM, no report, block intact. */
    unsigned f = harness_faults;
    memset(big, 0x5a, 3 * PAGE);
    errno = 0;
    CHECK(sheap_realloc(big, SIZE_MAX) == NULL);
    CHECK_EQ(errno, ENOMEM);
    CHECK_EQ(harness_faults, f);
    CHECK_EQ(stats_now().oom_count, before.oom_count + 1);
    CHECK(big[0] == 0x5a && big[3 * PAGE - 1] == 0x5a);
    sheap_free(big);
    sheap_free(keep);
    (void)local;
    CHECK_HEAP();
}

/* Fix 4: posix_memalign sets errno on EINVAL as well as returning it. */
static void test_posix_memalign_errno(void)
{
    static const size_t bad[] = {0, 3, sizeof(void *) / 2, 24, (size_t)ARENA * 2, SIZE_MAX};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        void *out = &global_object;
        errno = 0;
        CHECK_EQ(sheap_posix_memalign(&out, bad[i], 64), SHEAP_EINVAL);
        CHECK_EQ(errno, EINVAL);
        CHECK(out == &global_object); /* *out untouched */
    }
    void *out = NULL;
    errno = 0;
    CHECK_EQ(sheap_posix_memalign(&out, 64, SIZE_MAX), SHEAP_ENOMEM);
    CHECK_EQ(errno, ENOMEM);
    CHECK_EQ(sheap_posix_memalign(&out, 64, 100), 0);
    CHECK(out != NULL && ((uintptr_t)out & 63) == 0);
    sheap_free(out);
    CHECK_HEAP();
}

/* Fix 5: every entry point called from a walker callback is reported and
 * refused; nothing deadlocks (a deadlock would hang the test, which
 * tools/run_test.sh counts as a failure). */
struct reentry {
    void *live;          /* a live block the callback tries to free */
    unsigned calls;      /* callback invocations that made the calls */
    unsigned refused;    /* calls that failed as the contract says */
    unsigned faults;     /* reports seen inside the callback */
    int errno_ok;
};

static void reentry_calls(struct reentry *r)
{
    unsigned f0 = harness_faults;
    errno = 0;
    r->refused += sheap_malloc(16) == NULL;
    r->errno_ok += errno == EINVAL;
    r->refused += sheap_calloc(2, 8) == NULL;
    r->refused += sheap_realloc(r->live, 64) == NULL;
    r->refused += sheap_realloc(NULL, 64) == NULL;
    r->refused += sheap_aligned_alloc(64, 64) == NULL;
    void *out = NULL;
    r->refused += sheap_posix_memalign(&out, 64, 64) == SHEAP_EINVAL && out == NULL;
    r->refused += sheap_usable_size(r->live) == 0;
    sheap_free(r->live); /* refused: the block stays live */
    r->refused += sheap_trim() == 0;
    struct sheap_stats st;
    memset(&st, 0xa5, sizeof(st));
    sheap_stats(&st);
    r->refused += st.live_blocks == (size_t)0xa5a5a5a5a5a5a5a5ull; /* untouched */
    r->refused += sheap_check() == SHEAP_CHECK_IN_WALK;
    r->refused += sheap_walk(digest_fn, &(uint64_t){0}) == -1;
    r->refused += sheap_set_fault_hook(NULL) == harness_fault_hook; /* unchanged */
    r->faults += harness_faults - f0;
    r->calls++;
}

#define REENTRY_CALLS 12

static int reentry_walk_fn(void *ptr, size_t size, bool used, void *ctx)
{
    (void)ptr;
    (void)size;
    (void)used;
    reentry_calls(ctx);
    return 1; /* once is enough */
}

static int reentry_arena_fn(const struct sheap_arena_info *info, void *ctx)
{
    (void)info;
    reentry_calls(ctx);
    return 7;
}

static void test_walk_reentry(void)
{
    struct reentry r = {sheap_malloc(40), 0, 0, 0, 0};
    CHECK(r.live != NULL);
    size_t usable = sheap_usable_size(r.live);
    struct sheap_stats before = stats_now();
    CHECK_EQ(sheap_walk(reentry_walk_fn, &r), 1);
    CHECK_EQ(r.calls, 1);
    CHECK_EQ(r.refused, REENTRY_CALLS);
    CHECK_EQ(r.faults, REENTRY_CALLS + 1); /* + the free */
    CHECK_EQ(r.errno_ok, 1);
    CHECK_EQ(sheap_arena_walk(reentry_arena_fn, &r), 7);
    CHECK_EQ(r.calls, 2);
    CHECK_EQ(r.refused, 2 * REENTRY_CALLS);
    CHECK_EQ(r.faults, 2 * (REENTRY_CALLS + 1));
    struct sheap_stats after = stats_now();
    CHECK_EQ(after.misuse_count, before.misuse_count + 2 * (REENTRY_CALLS + 1));
    CHECK_EQ(after.live_blocks, before.live_blocks);
    CHECK_EQ(after.oom_count, before.oom_count);
    misuse_cases += 2 * (REENTRY_CALLS + 1);
    /* After the walk everything works again, the block is still live. */
    CHECK_EQ(sheap_usable_size(r.live), usable);
    sheap_free(r.live);
    void *q = sheap_malloc(16);
    CHECK(q != NULL);
    sheap_free(q);
    CHECK_HEAP();
}

static sheap_fault_hook saved_hook;

static void test_install_hook(void)
{
    saved_hook = sheap_set_fault_hook(harness_fault_hook);
    CHECK(sheap_set_fault_hook(harness_fault_hook) == harness_fault_hook);
}

/* Last: put the previous hook back. */
static void test_restore_hook(void)
{
    sheap_fault_hook old = sheap_set_fault_hook(saved_hook);
    CHECK(old == harness_fault_hook);
    struct sheap_stats s = stats_now();
    CHECK_EQ(s.live_blocks, 0);
    CHECK_EQ(s.misuse_count, misuse_cases);
    CHECK_HEAP();
}

int main(void)
{
    RUN(test_install_hook);
    RUN(test_port_failure_sweep);
    RUN(test_used_failure);
    RUN(test_hook_gets_pointer);
    RUN(test_double_free_small);
    RUN(test_double_free_large);
    RUN(test_foreign_pointers);
    RUN(test_interior_small);
    RUN(test_interior_large);
    RUN(test_free_run_pointers);
    RUN(test_past_last_slot);
    RUN(test_corruption_small_span);
    RUN(test_corruption_large_span);
    RUN(test_corruption_free_lists);
    RUN(test_corruption_coalesce);
    RUN(test_corruption_counters);
    RUN(test_reserve_and_map_failure);
    RUN(test_meta_chunk_kept_after_port_failure);
    RUN(test_realloc_invalid_huge);
    RUN(test_posix_memalign_errno);
    RUN(test_walk_reentry);
    RUN(test_restore_hook);
    printf("  %u misuse cases reported (%u hook calls), %u corruptions detected, %lu port faults injected\n",
           misuse_cases, harness_faults, corruption_cases, sheap_fault_inject_count());
    return harness_finish("misuse");
}
