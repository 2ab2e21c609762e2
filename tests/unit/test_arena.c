/*
 * test_arena.c - white-box tests of the arena layer (core/arena.c): the
 * arena index, the linear (metadata) allocator, aligned reservations, growth
 * hints, the arena-collision test, growth failure at every port call,
 * the 32-bit up-front reservations and a > 512 GB sparse heap on 64-bit.
 *
 * The machine is reached only through the port API (sheap_port_* and the
 * fault-injection counters), never mmap, so the suite runs unchanged on the
 * bare-metal boards.  Sizes come from the config macros.
 *
 * arena_grow() alone leaves new arenas in the index that no span covers, so
 * the tests grow through ph_grow() (arena_grow plus filing the arenas as a
 * free run, what a malloc that finds no free run does) whenever the growth
 * may succeed, and call arena_grow() itself only where it must fail.
 *
 * The tests share one heap and run in order: the figures, the index, the
 * 32-bit up-front region (which also uses up the initial reservation so
 * that later growth goes through the hints), reservations, the linear
 * allocator, failures, an unreachable hint, collisions, fallback hints and
 * last the big heap, which makes every later sheap_check() walk > 512 GB.
 * Tests that plant or drop hints leave a heap that passes sheap_check(); the
 * hints they leave are whatever growth left, never an unusable one.
 *
 * Internal functions that expect the heap lock are called between
 * heap_lock() and heap_unlock(); no CHECK runs with the lock held (a failed
 * CHECK returns, and the port lock is a spinlock).
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "sheap_board.h"
#include "sheap_internal.h"

#define ARENA SHEAP_ARENA_SIZE
#define PAGE SHEAP_PAGE_SIZE
#define U(x) ((unsigned long long)(x))

#if UINTPTR_MAX == 0xffffffffu
#define PTR_BITS 32
#else
#define PTR_BITS 64
#endif
/* Addresses at or above 2^SHEAP_VA_BITS exist on this build. */
#if SHEAP_VA_BITS < PTR_BITS
#define HAVE_BEYOND_VA 1
#define VA_LIMIT ((uintptr_t)1 << SHEAP_VA_BITS)
#else
#define HAVE_BEYOND_VA 0
#endif

static struct sheap_heap *const hp = &sheap_heap;

/* Arenas of at least one page of metadata: growing by this much always
 * needs a used() call for the arena records (the linear allocator's Ready
 * edge is less than a page past its next byte). */
#define META_ARENAS (1 + SHEAP_PAGE_SIZE / sizeof(struct sheap_arena))

/*
 * Arena frames the heap may ever hold.  32-bit mode keeps the heap inside
 * SHEAP_REGION_SIZE: all 4 GB by default (1024 frames), but on a static-port
 * board (port/static) a fixed region of a few arenas (mps2-an385: 4, its
 * small flavour 3).  Tests that need address space well beyond that
 * (aligned reservations of 16 arenas, hints far apart, fallbacks, blocked
 * hints) check this first and are skipped on such boards (SKIP);
 * tests/static covers a fixed region's reservations instead.
 */
#if SHEAP_32BIT_MODE
#define REGION_ARENAS ((uint64_t)SHEAP_REGION_SIZE >> SHEAP_ARENA_SHIFT)
#else
#define REGION_ARENAS ((uint64_t)1 << (SHEAP_VA_BITS - SHEAP_ARENA_SHIFT))
#endif
#define SPARSE_ARENAS 64u

/* Skip the calling test where the heap region is a few arenas. */
#define NEED_SPARSE_SPACE()                                                                        \
    do {                                                                                           \
        if (REGION_ARENAS < SPARSE_ARENAS)                                                         \
            SKIP("needs address space for %u arenas; the heap region holds %llu (a fixed region)",  \
                 SPARSE_ARENAS, (unsigned long long)REGION_ARENAS);                                \
    } while (0)

/* ---- helpers: growth ---------------------------------------------------------- */

/* Initialise the heap and stock the span pool, so that nothing but the
 * growth itself makes port calls in what follows (fault-injection tests). */
static bool prep(void)
{
    heap_lock();
    bool ok = sheap_heap.initialized && span_pool_reserve(&sheap_heap, 4);
    heap_unlock();
    return ok;
}

/*
 * Grow the heap by at least n bytes the way a malloc that finds no free run
 * does: ph_grow = arena_grow + filing the new arenas as a free run, so that
 * sheap_check() holds afterwards.  [*v, *v + *size) is what arena_grow
 * returned: the arenas appended to the arena list.  ph_grow takes its span
 * record from the pool, which is stocked first.
 */
static bool grow(uintptr_t n, uintptr_t *v, uintptr_t *size)
{
    bool ok = false;
    heap_lock();
    if (sheap_heap.initialized && span_pool_reserve(&sheap_heap, 1)) {
        struct sheap_arena *tail = hp->arenas_tail;
        uintptr_t k0 = hp->c.arenas;
        ok = ph_grow(&sheap_heap, round_up(n, PAGE) >> SHEAP_PAGE_SHIFT);
        if (ok) {
            struct sheap_arena *first = tail ? tail->next : hp->arenas;
            *v = first->base;
            *size = (hp->c.arenas - k0) * ARENA;
        }
    }
    heap_unlock();
    return ok;
}

/* 32-bit mode: grow until the initial reservation is used up, so that the
 * next growth goes to the hints (each test starts on a fresh heap, whose
 * initial reservation is whole).  True when it is. */
static bool use_up_space(void)
{
#if SHEAP_32BIT_MODE
    for (unsigned i = 0; i < REGION_ARENAS; i++) {
        heap_lock();
        bool left = hp->arena_space.end != 0 && hp->arena_space.end - hp->arena_space.next >= ARENA;
        heap_unlock();
        uintptr_t v, size;
        if (!left)
            return true;
        if (!grow(ARENA, &v, &size))
            return false;
    }
    return false;
#else
    return true;
#endif
}

/* ---- helpers: state snapshots ------------------------------------------------ */

struct snap {
    struct sheap_stats st;
    unsigned nhints;
    struct arena_hint hints[SHEAP_MAX_HINTS];
    struct sheap_arena *head, *tail;
    uintptr_t c_arenas, arena_pages, idx_bytes, l2_tables;
    uintptr_t meta_next, arena_meta_next, space_next;
};

static void take_snap(struct snap *s)
{
    memset(s, 0, sizeof(*s));
    sheap_stats(&s->st);
    heap_lock();
    s->nhints = hp->nhints;
    for (unsigned i = 0; i < hp->nhints; i++)
        s->hints[i] = hp->hints[i];
    s->head = hp->arenas;
    s->tail = hp->arenas_tail;
    s->c_arenas = hp->c.arenas;
    s->arena_pages = hp->c.arena_pages;
    s->idx_bytes = index_bytes();
#if INDEX_LEVELS == 2
    s->l2_tables = sheap_shared.index_l2_count;
#endif
    s->meta_next = hp->meta.next;
    s->arena_meta_next = hp->arena_meta.next;
    s->space_next = hp->arena_space.next;
    heap_unlock();
}

/* NULL when a and b agree on everything a failed growth must not change;
 * else the name of the first field that differs.  extra_oom: failed
 * allocations between a and b. */
static const char *snap_diff(const struct snap *a, const struct snap *b, size_t extra_oom)
{
    if (a->st.arenas != b->st.arenas) return "stats.arenas";
    if (a->st.reserved_bytes != b->st.reserved_bytes) return "stats.reserved_bytes";
    if (a->st.metadata_bytes != b->st.metadata_bytes) return "stats.metadata_bytes";
    if (a->st.ready_bytes != b->st.ready_bytes) return "stats.ready_bytes";
    if (a->st.prepared_bytes != b->st.prepared_bytes) return "stats.prepared_bytes";
    if (a->st.free_bytes != b->st.free_bytes) return "stats.free_bytes";
    if (a->st.spans_free != b->st.spans_free) return "stats.spans_free";
    if (a->st.grow_count != b->st.grow_count) return "stats.grow_count";
    if (a->st.oom_count + extra_oom != b->st.oom_count) return "stats.oom_count";
    if (a->nhints != b->nhints) return "nhints";
    for (unsigned i = 0; i < a->nhints; i++)
        if (a->hints[i].addr != b->hints[i].addr || a->hints[i].down != b->hints[i].down)
            return "hints[]";
    if (a->head != b->head || a->tail != b->tail) return "arena list";
    if (a->c_arenas != b->c_arenas || a->arena_pages != b->arena_pages) return "arena counters";
    if (a->idx_bytes != b->idx_bytes || a->l2_tables != b->l2_tables) return "index size";
    if (a->meta_next != b->meta_next) return "meta.next";
    if (a->arena_meta_next != b->arena_meta_next) return "arena_meta.next";
    if (a->space_next != b->space_next) return "arena_space.next";
    return NULL;
}

#define CHECK_SAME(a, b, oom)                                                                      \
    do {                                                                                           \
        const char *d_ = snap_diff((a), (b), (oom));                                               \
        if (d_)                                                                                    \
            printf("  changed: %s\n", d_);                                                         \
        CHECK(d_ == NULL);                                                                         \
    } while (0)

/* ---- helpers: address space probes through the port -------------------------- */

static uintptr_t ppage(void) { return test_port_page_size(); }

/* [v, v+n) is free: it can be reserved exactly (and is released again). */
static bool range_free(uintptr_t v, uintptr_t n)
{
    uintptr_t got;
    if (n == 0)
        return true;
    if (v == 0 || v + n < v)
        return false;
    if (test_port_reserve(v, n, &got) != SHEAP_PORT_OK)
        return false;
    test_port_release(got, n);
    return true;
}

/* Largest k <= cap (port pages) with [a - k, a) free; binary search, as
 * "free" is monotonic in k. */
static uintptr_t free_below(uintptr_t a, uintptr_t cap)
{
    uintptr_t pg = ppage();
    if (a <= pg)
        return 0;
    if (cap > a - pg)
        cap = a - pg;
    uintptr_t lo = 0, hi = cap / pg;
    while (lo < hi) {
        uintptr_t mid = lo + (hi - lo + 1) / 2;
        if (range_free(a - mid * pg, mid * pg))
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo * pg;
}

/* Largest k <= cap with [a, a + k) free. */
static uintptr_t free_above(uintptr_t a, uintptr_t cap)
{
    uintptr_t pg = ppage();
    if (a + cap < a)
        cap = (0 - a) & ~(pg - 1);
    uintptr_t lo = 0, hi = cap / pg;
    while (lo < hi) {
        uintptr_t mid = lo + (hi - lo + 1) / 2;
        if (range_free(a, mid * pg))
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo * pg;
}

/* Where arena_grow(n) would try first, like its hint loop: 0 when the top
 * hint is unusable by arithmetic or there is none.  Lock held. */
static uintptr_t top_hint_target(uintptr_t n)
{
    if (hp->nhints == 0)
        return 0;
    struct arena_hint *t = &hp->hints[hp->nhints - 1];
    uintptr_t p = t->addr;
    if (t->down) {
        if (p < n)
            return 0;
        p -= n;
    }
    uintptr_t last = p + n - 1;
    if (last < p || (last >> (SHEAP_VA_BITS - 1)) >> 1)
        return 0;
    return p;
}

/* Drop top hints whose range is taken, as arena_grow would, so that the next
 * growth of n bytes is tried at a free hint.  When none is left (a crowded
 * address space, as under ASan, can leave no room next to any hint), plant
 * an up hint where an aligned range of n bytes is free.  Returns false when
 * even that fails. */
static bool settle_top_hint(uintptr_t n)
{
    bool found = false;
    heap_lock();
    while (hp->nhints > 0) {
        uintptr_t p = top_hint_target(n);
        if (p != 0 && range_free(p, n)) {
            found = true;
            break;
        }
        hp->nhints--;
    }
    uintptr_t a;
    if (!found && reserve_aligned(&sheap_heap, 0, n, ARENA, &a) == SHEAP_PORT_OK) {
        test_port_release(a, n);
        hp->hints[0].addr = a;
        hp->hints[0].down = false;
        hp->nhints = 1;
        found = range_free(a, n);
    }
    heap_unlock();
    return found;
}

/* Grow once through the fallback (no hints) if the heap has no hint. */
static bool ensure_hint(void)
{
    heap_lock();
    unsigned nh = hp->nhints;
    heap_unlock();
    if (nh > 0)
        return true;
    uintptr_t v, size;
    return grow(ARENA, &v, &size);
}

/* Every arena of the list: in the index at its first, middle and last byte,
 * and its neighbours' frames name their own arenas or nothing.  Returns the
 * number of arenas, or 0 on the first bad one (*bad gets its base). */
static uintptr_t verify_arena_list(uintptr_t *bad)
{
    uintptr_t n = 0;
    *bad = 0;
    heap_lock();
    for (struct sheap_arena *a = hp->arenas; a; a = a->next) {
        n++;
        struct sheap_arena *b;
        bool ok = (a->base & (ARENA - 1)) == 0 && arena_of(a->base) == a && arena_of(a->base + ARENA / 2) == a &&
                  arena_of(a->base + (ARENA - 1)) == a;
        if (ok && a->base >= ARENA && (b = arena_of(a->base - 1)) != NULL)
            ok = b->base == a->base - ARENA;
        if (ok && a->base + ARENA != 0 && (b = arena_of(a->base + ARENA)) != NULL)
            ok = b->base == a->base + ARENA;
#if HAVE_BEYOND_VA
        /* The same frame with an address bit above the index: no arena. */
        if (ok)
            ok = arena_of(a->base | VA_LIMIT) == NULL && arena_of(a->base | ((uintptr_t)1 << (PTR_BITS - 1))) == NULL;
#endif
        if (!ok) {
            *bad = a->base ? a->base : 1;
            n = 0;
            break;
        }
    }
    heap_unlock();
    return n;
}

static void print_figures(const char *when)
{
    struct sheap_stats st;
    sheap_stats(&st);
    heap_lock();
    uintptr_t ib = index_bytes();
#if INDEX_LEVELS == 2
    uintptr_t l2 = sheap_shared.index_l2_count;
#else
    uintptr_t l2 = 0;
#endif
    heap_unlock();
    printf("  [%s] %u-bit mode, arena %llu KB, page %llu B, VA bits %u, index levels %u\n", when,
           (unsigned)PTR_BITS, U(ARENA >> 10), U(PAGE), (unsigned)SHEAP_VA_BITS, (unsigned)INDEX_LEVELS);
    printf("  [%s] metadata per arena: sizeof(struct sheap_arena) = %llu B (%.3f%% of the arena)\n", when,
           U(sizeof(struct sheap_arena)), 100.0 * (double)sizeof(struct sheap_arena) / (double)ARENA);
#if INDEX_LEVELS == 2
    printf("  [%s] index_bytes() = %llu B: static L1 of %llu entries (%llu B) + %llu L2 tables of %llu B\n", when,
           U(ib), U(INDEX_L1_ENTRIES), U(INDEX_L1_ENTRIES * sizeof(struct index_l2 *)), U(l2),
           U(sizeof(struct index_l2)));
#else
    (void)l2;
    printf("  [%s] index_bytes() = %llu B: one static table of %llu entries\n", when, U(ib), U(INDEX_L2_ENTRIES));
#endif
    printf("  [%s] stats: arenas %llu, reserved_bytes %llu (%.2f GB), metadata_bytes %llu (%.2f MB)\n", when,
           U(st.arenas), U(st.reserved_bytes), (double)st.reserved_bytes / (double)(1u << 30),
           U(st.metadata_bytes), (double)st.metadata_bytes / (double)(1u << 20));
    if (st.arenas)
        printf("  [%s] metadata_bytes / arena = %llu B\n", when, U(st.metadata_bytes / st.arenas));
}

/* ---- 0. the figures ------------------------------------------------------------ */

static void test_metadata_figures(void)
{
    /* The first allocation initialises the heap and takes the first arena. */
    void *p = sheap_malloc(1);
    CHECK(p != NULL);
    sheap_free(p);
    CHECK_HEAP();
    CHECK_EQ(sizeof(struct sheap_arena), (3 + SHEAP_LAZY_ARENA_META) * sizeof(uintptr_t) +
                                             2 * ARENA_BITMAP_WORDS * sizeof(uintptr_t) +
                                             SHEAP_ARENA_PAGES * sizeof(struct sheap_span *));
#if INDEX_LEVELS == 1
    CHECK_EQ(index_bytes(), INDEX_L2_ENTRIES * sizeof(struct sheap_arena *));
#else
    heap_lock();
    uintptr_t ib = index_bytes(), l2 = sheap_shared.index_l2_count;
    heap_unlock();
    CHECK_EQ(ib, INDEX_L1_ENTRIES * sizeof(struct index_l2 *) + l2 * sizeof(struct index_l2));
    CHECK(l2 >= 1);
#endif
    struct sheap_stats st;
    sheap_stats(&st);
    CHECK(st.arenas >= 1);
    print_figures("start");
}

/* Lazy arena records (SHEAP_LAZY_ARENA_META): a record's Ready pages follow
 * the pages in use, entries of pages never used read as NULL, and a block
 * far into the arena makes only the record pages of its entries Ready. */
static void test_lazy_records(void)
{
#if !SHEAP_LAZY_ARENA_META
    SKIP("arena records are not lazy in this build (SHEAP_LAZY_ARENA_META=0)");
#else
    void *keep = sheap_malloc(64);
    CHECK(keep != NULL);
    heap_lock();
    struct sheap_arena *a = arena_of((uintptr_t)keep);
    CHECK(a != NULL);
    uintptr_t r0 = a ? arena_meta_ready_bytes(a) : 0;
    /* The head, the last entry's page and the pages near those in use. */
    CHECK(r0 < sizeof(struct sheap_arena) / 4);
    uintptr_t all = (uintptr_t)1 << ARENA_REC_PAGES;
    bool some_unready = a != NULL && (a->map_ready | ~(all - 1)) != ~(uintptr_t)0;
    heap_unlock();
    CHECK(some_unready);
    /* A page whose entry is not Ready: no span, and free() of it is misuse
     * that leaves the heap whole (no fault reading the record). */
    uintptr_t mid = 0;
    heap_lock();
    for (uintptr_t i = 0; a != NULL && i < SHEAP_ARENA_PAGES; i += 64)
        if (!((a->map_ready >> ARENA_REC_PAGE(i)) & 1u)) {
            mid = a->base + (i << SHEAP_PAGE_SHIFT);
            break;
        }
    CHECK(mid != 0 && span_of(mid) == NULL && span_of(mid + 16) == NULL);
    heap_unlock();
    sheap_fault_hook old = sheap_set_fault_hook(harness_fault_hook);
    unsigned f0 = harness_faults;
    sheap_free((void *)(mid + 16));
    CHECK_EQ(harness_faults, f0 + 1);
    sheap_set_fault_hook(old);
    CHECK_HEAP();
    /* A large block: the record grows by about 8 bytes a page, not by the arena. */
    uintptr_t big = ARENA / 8;
    void *p = sheap_malloc(big);
    CHECK(p != NULL);
    heap_lock();
    struct sheap_arena *b = p ? arena_of((uintptr_t)p) : NULL;
    uintptr_t r1 = b ? arena_meta_ready_bytes(b) : 0;
    heap_unlock();
    if (b == a)
        CHECK(r1 > r0 && r1 - r0 <= ((big / PAGE) * sizeof(void *)) + 3 * PAGE);
    CHECK(r1 < sizeof(struct sheap_arena));
    CHECK_HEAP();
    sheap_free(p);
    sheap_free(keep);
    CHECK_HEAP();
#endif
}

/* ---- 1. index lookups -------------------------------------------------------------- */

#if PTR_BITS == 64
#define NSYN 4
#else
#define NSYN 2
#endif
/* Synthetic arena records: index entries only, never on the arena list. */
static struct sheap_arena syn[NSYN];

/* No arena in the k frames from lo on.  Lock held. */
static __attribute__((unused)) bool frames_free(uintptr_t lo, unsigned k)
{
    for (unsigned i = 0; i < k; i++)
        if (arena_of(lo + i * ARENA) != NULL)
            return false;
    return true;
}

/* The start of an index case: an arena (at least one) and the state the
 * case must leave as it found it. */
static void index_case_start(struct snap *before)
{
    void *keep = sheap_malloc(64); /* at least one arena; freed with the test's heap */
    CHECK(keep != NULL);
    uintptr_t bad;
    uintptr_t n = verify_arena_list(&bad);
    if (n == 0)
        printf("  bad arena at 0x%llx\n", U(bad));
    CHECK(n >= 1);
    take_snap(before);
}

/* The end of an index case: synthetic entries never reach the arena list,
 * the counters or the hints; the index grew by the L2 tables made for them
 * and nothing else. */
static void index_case_end(const struct snap *before)
{
    struct snap after;
    take_snap(&after);
    CHECK(after.head == before->head && after.tail == before->tail);
    CHECK_EQ(after.st.arenas, before->st.arenas);
    CHECK_EQ(after.c_arenas, before->c_arenas);
    CHECK_EQ(after.nhints, before->nhints);
#if INDEX_LEVELS == 2
    CHECK_EQ(after.idx_bytes - before->idx_bytes, (after.l2_tables - before->l2_tables) * sizeof(struct index_l2));
#else
    CHECK_EQ(after.idx_bytes, before->idx_bytes);
#endif
    uintptr_t bad;
    CHECK(verify_arena_list(&bad) >= 1);
    CHECK_HEAP();
}

/* Addresses outside every arena look up as NULL. */
static void test_index_lookup_outside(void)
{
    struct snap before;
    CALL(index_case_start(&before));
    /* Outside every arena: the stack, static data, code. */
    int local;
    CHECK(arena_of((uintptr_t)&local) == NULL);
    CHECK(arena_of((uintptr_t)&syn[0]) == NULL);
    CHECK(arena_of((uintptr_t)&test_index_lookup_outside) == NULL);
    struct sheap_arena *a0 = arena_of(0);
    CHECK(a0 == NULL || a0->base == 0);
#if HAVE_BEYOND_VA
    CHECK(arena_of(VA_LIMIT) == NULL);
    CHECK(arena_of(UINTPTR_MAX) == NULL);
    CHECK(arena_of(VA_LIMIT - 1 + VA_LIMIT) == NULL);
#endif
    CALL(index_case_end(&before));
}

/* 64-bit index: synthetic arenas far apart, looked up at and around their
 * edges, aliases beyond the index, then removed. */
static void test_index_lookup_sparse(void)
{
#if PTR_BITS != 64
    SKIP("64-bit pointers only (the sparse upper half of the index)");
#else
    struct snap before;
    CALL(index_case_start(&before));
    /*
     * Synthetic arenas in the upper half of the index (above 2^47 with the
     * default 48 bits, where x86-64 user space cannot map): two with a one
     * frame gap, one 2^(VA-3) further (32 TB with 48 bits: far more than
     * 512 GB apart) and the last frame the index covers.
     */
    uintptr_t f[NSYN];
    int r[NSYN];
    heap_lock();
    /* Frames with free neighbours (a board may have real arenas up there:
     * move along until there are none around). */
    f[0] = (uintptr_t)1 << (SHEAP_VA_BITS - 1);
    for (int k = 0; k < 64 && !frames_free(f[0] - ARENA, 5); k++)
        f[0] += 8 * ARENA;
    f[1] = f[0] + 2 * ARENA;
    f[2] = f[0] + ((uintptr_t)1 << (SHEAP_VA_BITS - 3));
    for (int k = 0; k < 64 && !frames_free(f[2] - ARENA, 3); k++)
        f[2] += 8 * ARENA;
    f[3] = ((uintptr_t)1 << (SHEAP_VA_BITS - 1) << 1) - ARENA;
    for (int k = 0; k < 64 && !frames_free(f[3] - ARENA, 2); k++)
        f[3] -= 8 * ARENA;
    bool all_free = frames_free(f[0] - ARENA, 5) && frames_free(f[2] - ARENA, 3) && frames_free(f[3] - ARENA, 2);
    if (all_free) {
        for (int i = 0; i < NSYN; i++) {
            syn[i].base = f[i];
            syn[i].next = NULL;
            r[i] = index_set(f[i], &syn[i]);
        }
    }
    heap_unlock();
    CHECK(all_free);
    CHECK(f[1] > f[0] + ARENA && f[2] > f[1] && f[3] > f[2]);
    if (SHEAP_VA_BITS >= 43)
        CHECK(f[2] - f[0] > ((uintptr_t)512 << 30) && f[3] - f[2] > ((uintptr_t)512 << 30));
    for (int i = 0; i < NSYN; i++) {
        CHECK_EQ(r[i], SHEAP_PORT_OK);
        /* inside and at both edges */
        CHECK(arena_of(f[i]) == &syn[i]);
        CHECK(arena_of(f[i] + 1) == &syn[i]);
        CHECK(arena_of(f[i] + ARENA / 2 + 12345) == &syn[i]);
        CHECK(arena_of(f[i] + ARENA - 1) == &syn[i]);
        /* just outside */
        CHECK(arena_of(f[i] - 1) == NULL);
        if (i < NSYN - 1)
            CHECK(arena_of(f[i] + ARENA) == NULL);
    }
    /* between: the gap frame, and the space between the far ones */
    CHECK(arena_of(f[0] + ARENA) == NULL);
    CHECK(arena_of(f[0] + ARENA + ARENA / 2) == NULL);
    CHECK(arena_of(f[1] + ARENA) == NULL);
    CHECK(arena_of(f[0] + (f[2] - f[0]) / 2) == NULL);
    CHECK(arena_of(f[2] + ARENA + ((uintptr_t)512 << 30)) == NULL);
    CHECK(arena_of(f[2] - ((uintptr_t)512 << 30)) == NULL);
    /* the last byte the index covers, and everything beyond it */
    CHECK(arena_of(f[3] + (ARENA - 1)) == &syn[3]);
#if HAVE_BEYOND_VA
    CHECK(arena_of(VA_LIMIT) == NULL);
    for (int i = 0; i < NSYN; i++) {
        /* aliases: the frame number with bits above the index set must not
         * wrap around onto the synthetic arena (nor read past the L1) */
        CHECK(arena_of(f[i] + VA_LIMIT) == NULL);
        CHECK(arena_of(f[i] | ((uintptr_t)1 << 63)) == NULL);
        CHECK(arena_of(f[i] | ~(VA_LIMIT - 1)) == NULL);
    }
    CHECK(arena_of(UINTPTR_MAX) == NULL);
    CHECK(arena_of(UINTPTR_MAX - ARENA) == NULL);
    /* and index_set refuses them, changing nothing */
    heap_lock();
    int rbeyond = index_set(f[0] + VA_LIMIT, &syn[1]);
    heap_unlock();
    CHECK(rbeyond != SHEAP_PORT_OK);
    CHECK(arena_of(f[0]) == &syn[0]);
#endif
    /* Synthetic entries never touch the arena list or the counters. */
    {
        struct snap mid;
        take_snap(&mid);
        CHECK(mid.head == before.head && mid.tail == before.tail);
        CHECK_EQ(mid.c_arenas, before.c_arenas);
        CHECK_EQ(mid.st.arenas, before.st.arenas);
        CHECK_EQ(mid.arena_pages, before.arena_pages);
    }
    /* Remove them; the L2 tables made for them stay (index_bytes grows). */
    heap_lock();
    for (int i = 0; i < NSYN; i++)
        r[i] = index_set(f[i], NULL);
    heap_unlock();
    for (int i = 0; i < NSYN; i++) {
        CHECK_EQ(r[i], SHEAP_PORT_OK);
        CHECK(arena_of(f[i]) == NULL);
        CHECK(arena_of(f[i] + ARENA - 1) == NULL);
    }
    CALL(index_case_end(&before));
#endif
}

/* One-level index: every frame addressable, at its edges and at both ends
 * of the index. */
static void test_index_lookup_every_frame(void)
{
#if INDEX_LEVELS != 1
    SKIP("one-level index only (this build's index has two levels)");
#else
    struct snap before;
    CALL(index_case_start(&before));
    /*
     * One-level index (32-bit mode: 1024 frames of 4 MB): every frame is
     * addressable.  Put a synthetic arena into each frame that has no real
     * one, look it up at its edges, and take it out again.
     */
    unsigned long nbad = 0, nsyn = 0, nreal = 0;
    heap_lock();
    for (uintptr_t fr = 0; fr < INDEX_L2_ENTRIES; fr++) {
        uintptr_t base = INDEX_BASE + (fr << SHEAP_ARENA_SHIFT), last = base + (ARENA - 1);
        struct sheap_arena *was = arena_of(base);
        if (was != NULL) {
            nreal++;
            nbad += was->base != base || arena_of(last) != was;
            continue;
        }
        syn[0].base = base;
        if (index_set(base, &syn[0]) != SHEAP_PORT_OK) {
            nbad++;
            continue;
        }
        nsyn++;
        nbad += arena_of(base) != &syn[0] || arena_of(last) != &syn[0] || arena_of(base + ARENA / 2) != &syn[0];
        nbad += fr > 0 && arena_of(base - 1) == &syn[0];
        nbad += fr + 1 < INDEX_L2_ENTRIES && arena_of(last + 1) == &syn[0];
        index_set(base, NULL);
        nbad += arena_of(base) != NULL || arena_of(last) != NULL;
    }
    /* The lowest and the highest address at once. */
    uintptr_t top = INDEX_BASE + ((uintptr_t)(INDEX_L2_ENTRIES - 1) << SHEAP_ARENA_SHIFT);
    bool ends_free = arena_of(INDEX_BASE) == NULL && arena_of(top) == NULL;
    struct sheap_arena *at0 = NULL, *atmax = NULL, *after0 = &syn[0], *aftermax = &syn[0];
    if (ends_free) {
        syn[0].base = INDEX_BASE;
        syn[1].base = top;
        index_set(INDEX_BASE, &syn[0]);
        index_set(top, &syn[1]);
        at0 = arena_of(INDEX_BASE);
        atmax = arena_of(top + (ARENA - 1));
        index_set(INDEX_BASE, NULL);
        index_set(top, NULL);
        after0 = arena_of(INDEX_BASE);
        aftermax = arena_of(top + (ARENA - 1));
    }
    heap_unlock();
    printf("  one-level index: %lu frames, %lu real arenas, %lu synthetic lookups\n",
           (unsigned long)INDEX_L2_ENTRIES, nreal, nsyn);
    CHECK_EQ(nbad, 0);
    CHECK_EQ(nreal + nsyn, INDEX_L2_ENTRIES);
    CHECK(nreal >= 1);
    if (ends_free) {
        CHECK(at0 == &syn[0]);
        CHECK(atmax == &syn[1]);
        CHECK(after0 == NULL);
        CHECK(aftermax == NULL);
#if PTR_BITS == 32 && SHEAP_VA_BITS == 32
        CHECK_EQ(top + (ARENA - 1), (uintptr_t)(SHEAP_INDEX_BASE + SHEAP_INDEX_SIZE - 1));
#endif
        /* Just outside the range: no entry, and index_set refuses. */
        if (INDEX_BASE >= ARENA)
            CHECK(arena_of(INDEX_BASE - 1) == NULL);
        if (top + ARENA != 0) {
            CHECK(arena_of(top + ARENA) == NULL);
            heap_lock();
            int rout = index_set(top + ARENA, &syn[0]);
            heap_unlock();
            CHECK(rout != SHEAP_PORT_OK);
        }
    }
    CALL(index_case_end(&before));
#endif
}

/*
 * stats.metadata_bytes counts each byte of metadata once: the heap's own
 * Ready metadata plus the shared index (static part and L2 tables).  An L2
 * table belongs to the index, not to a heap (it comes from the port's
 * default backend and outlives heaps), so it adds exactly its size to the
 * index's part and nothing to the heap's own counter.
 */
static void test_index_table_counted_once(void)
{
#if INDEX_LEVELS == 2
    /* An L1 slot with no L2 table yet, from the top of the index down. */
    uintptr_t addr = 0;
    heap_lock();
    for (uintptr_t i = INDEX_L1_ENTRIES; i-- > 0;) {
        if (sheap_shared.index_l1[i] == NULL) {
            addr = i << INDEX_L2_BITS << SHEAP_ARENA_SHIFT;
            break;
        }
    }
    heap_unlock();
    CHECK(addr != 0);
    struct sheap_stats s0, s1;
    sheap_stats(&s0);
    heap_lock();
    uintptr_t m0 = hp->c.meta_bytes, t0 = sheap_shared.index_l2_count;
    syn[0].base = addr;
    int r = index_set(addr, &syn[0]);
    uintptr_t m1 = hp->c.meta_bytes, t1 = sheap_shared.index_l2_count;
    index_set(addr, NULL);
    heap_unlock();
    sheap_stats(&s1);
    CHECK_EQ(r, SHEAP_PORT_OK);
    CHECK_EQ(t1, t0 + 1);
    /* The table's pages were made Ready and counted.  A table smaller than
     * a page (a small index: Sv39's L2 tables are 1 KB) may fit in the page
     * the metadata allocator has Ready already; the count must match anyway. */
    printf("  new L2 table: %llu B; heap's own metadata grew %llu B; stats.metadata_bytes grew %llu B\n",
           U(sizeof(struct index_l2)), U(m1 - m0), U(s1.metadata_bytes - s0.metadata_bytes));
    CHECK_EQ(m1, m0);
    CHECK_EQ(s1.metadata_bytes - s0.metadata_bytes, sizeof(struct index_l2));
    CHECK_HEAP();
#else
    SKIP("one-level index: static, no tables made on demand");
#endif
}

/* ---- 8. 32-bit: up-front arena metadata and the initial reservation ----------- */

#if SHEAP_32BIT_MODE
/* 32-bit mode: a heap with at least one arena; *as is its initial
 * reservation. */
static void upfront_start(struct linear_alloc *as)
{
    CHECK(prep());
    void *keep = sheap_malloc(64); /* at least one arena; freed with the test's heap */
    CHECK(keep != NULL);
    heap_lock();
    *as = hp->arena_space;
    heap_unlock();
}
#endif

/* 32-bit mode's up-front arena metadata region and initial reservation
 * (64-bit mode has neither), and growth inside the reservation. */
static void test_32bit_upfront(void)
{
#if !SHEAP_32BIT_MODE
    heap_lock();
    uintptr_t e1 = hp->arena_meta.end, e2 = hp->arena_space.end;
    heap_unlock();
    CHECK_EQ(e1, 0);
    CHECK_EQ(e2, 0);
    printf("  64-bit mode: no up-front arena metadata and no initial reservation (grown on demand)\n");
#else
    CHECK(prep());
    void *keep = sheap_malloc(64); /* at least one arena */
    CHECK(keep != NULL);
    uintptr_t frames = (uintptr_t)(((uint64_t)SHEAP_REGION_SIZE) >> SHEAP_ARENA_SHIFT);
    uintptr_t meta_size = round_up(frames * sizeof(struct sheap_arena), PAGE);
    heap_lock();
    struct linear_alloc am = hp->arena_meta, as = hp->arena_space;
    uintptr_t narenas = hp->c.arenas, space_base = hp->arenas ? hp->arenas->base : 0;
    uintptr_t meta_base = am.end - meta_size;
    struct arena_hint top = hp->nhints ? hp->hints[hp->nhints - 1] : (struct arena_hint){0, false};
    unsigned nbad = 0;
    uintptr_t i = 0;
    for (struct sheap_arena *a = hp->arenas; a; a = a->next, i++) {
        nbad += (uintptr_t)a != meta_base + i * sizeof(struct sheap_arena);
        nbad += a->base != space_base + i * ARENA;
    }
    heap_unlock();
    printf("  arena metadata region: %llu B for %llu frames at 0x%llx, %llu B handed out, %llu B Ready\n",
           U(meta_size), U(frames), U(meta_base), U(am.next - meta_base), U(am.ready - meta_base));
    printf("  initial reservation: %llu MB at 0x%llx (tried from %llu MB down)\n", U((as.end - space_base) >> 20),
           U(space_base), U(SHEAP_INITIAL_RESERVE >> 20));
    /* The metadata region exists, is sized for every frame, and every arena
     * so far took its record from it, in order; only pages covering handed
     * out records are Ready. */
    CHECK(am.end != 0);
    CHECK(am.end > meta_size);
    CHECK(narenas >= 1);
    CHECK_EQ(am.next - meta_base, narenas * sizeof(struct sheap_arena));
    CHECK_EQ(am.ready, round_up(am.next, PAGE));
    CHECK_EQ(nbad, 0);
    /* The initial reservation: arena aligned, a power-of-two fraction of
     * SHEAP_INITIAL_RESERVE, consumed first and in order. */
    CHECK(as.end != 0);
    uintptr_t space = as.end - space_base;
    CHECK_EQ(space_base & (ARENA - 1), 0);
    CHECK(space >= ARENA && (uint64_t)space <= (uint64_t)SHEAP_INITIAL_RESERVE);
    CHECK((uint64_t)SHEAP_INITIAL_RESERVE % space == 0);
    CHECK_EQ(((uint64_t)SHEAP_INITIAL_RESERVE / space) & ((uint64_t)SHEAP_INITIAL_RESERVE / space - 1), 0);
    CHECK_EQ(as.next - space_base, narenas * ARENA);
    CHECK(top.addr == as.end && !top.down);

    /* Growth takes the next arena of the reservation, hints untouched. */
    struct snap s0, s1;
    take_snap(&s0);
    uintptr_t v, size;
    CHECK(grow(ARENA, &v, &size));
    CHECK_EQ(v, as.next);
    CHECK_EQ(size, ARENA);
    take_snap(&s1);
    CHECK_EQ(s1.nhints, s0.nhints);
    CHECK_EQ(s1.st.reserved_bytes, s0.st.reserved_bytes); /* reserved up front */
    CHECK_EQ(s1.arena_meta_next, s0.arena_meta_next + sizeof(struct sheap_arena));
    CHECK_HEAP();
#endif
}

/* 32-bit mode: a metadata failure while growing inside the initial
 * reservation puts the arena back for the next try. */
static void test_32bit_upfront_meta_failure(void)
{
#if !SHEAP_32BIT_MODE
    SKIP("32-bit mode only (no initial reservation)");
#else
    struct linear_alloc as;
    CALL(upfront_start(&as));
    (void)as;
    struct snap s0, s1;
    uintptr_t v, size;
    /* Metadata failure on this path puts the arena back for the next try
     * (when the reservation has room for enough arenas to need a new page
     * of records: not on a region of a few arenas, whose records share one
     * page; a growth beyond the region would fail at the hints instead). */
    CHECK(prep());
    heap_lock();
    uintptr_t room = (hp->arena_space.end - hp->arena_space.next) / ARENA;
    heap_unlock();
    if (room < META_ARENAS)
        SKIP("%llu arenas left in the initial reservation, their records need no new page", U(room));
    take_snap(&s0);
    sheap_fault_inject_all(SHEAP_OP_USED, true);
    bool ok = grow(META_ARENAS * ARENA, &v, &size);
    sheap_fault_inject_all(SHEAP_OP_USED, false);
    take_snap(&s1);
    CHECK(!ok);
    CHECK_SAME(&s0, &s1, 0);
    CHECK_HEAP();
#endif
}

/* 32-bit mode: the rest of the initial reservation is used up, then the
 * heap grows at the hint left at its end. */
static void test_32bit_upfront_use_up(void)
{
#if !SHEAP_32BIT_MODE
    SKIP("32-bit mode only (no initial reservation)");
#else
    struct linear_alloc as;
    CALL(upfront_start(&as));
    struct snap s0, s1;
    uintptr_t v, size;
    /* Use up the rest.  A growth one arena larger than what is left extends
     * the reservation right after its end (when that range is free and in
     * the region), so the rest is not stranded below it; the up hint moves
     * along.  Otherwise: one growth of exactly what is left. */
    heap_lock();
    uintptr_t next = hp->arena_space.next, rest = hp->arena_space.end - next;
    heap_unlock();
    bool can_extend = rest > 0 && (uint64_t)as.end + ARENA <= (uint64_t)SHEAP_REGION_BASE + SHEAP_REGION_SIZE &&
                      range_free(as.end, ARENA);
    if (can_extend) {
        take_snap(&s0);
        CHECK(grow(rest + ARENA, &v, &size));
        CHECK_EQ(v, next);
        CHECK_EQ(size, rest + ARENA);
        take_snap(&s1);
        heap_lock();
        uintptr_t end2 = hp->arena_space.end;
        struct arena_hint top2 = hp->nhints ? hp->hints[hp->nhints - 1] : (struct arena_hint){0, false};
        heap_unlock();
        CHECK_EQ(end2, as.end + ARENA);
        CHECK_EQ(s1.st.reserved_bytes, s0.st.reserved_bytes + ARENA);
        CHECK(top2.addr == end2 && !top2.down);
        printf("  a growth of the rest plus one arena extended the reservation in place\n");
        as.end = end2;
    } else if (rest > 0) {
        CHECK(grow(rest, &v, &size));
        CHECK_EQ(v, next);
        CHECK_EQ(size, rest);
    }
    heap_lock();
    uintptr_t left = hp->arena_space.end - hp->arena_space.next;
    heap_unlock();
    CHECK_EQ(left, 0);
    /* Then the heap grows at the hint left at its end: contiguous.  Unless
     * the initial reservation ends the heap region (a fixed region). */
    if ((uint64_t)as.end + ARENA > (uint64_t)SHEAP_REGION_BASE + SHEAP_REGION_SIZE) {
        printf("  the initial reservation ends the heap region: no growth beyond it\n");
        CHECK_HEAP();
        return;
    }
    bool free_after = range_free(as.end, ARENA);
    CHECK(grow(ARENA, &v, &size));
    if (free_after)
        CHECK_EQ(v, as.end);
    printf("  after the initial reservation the heap grew at 0x%llx (%s)\n", U(v),
           v == as.end ? "contiguous, at the hint" : "elsewhere: the hint was taken");
    CHECK_HEAP();
#endif
}

/* ---- 6. aligned reservations ------------------------------------------------------ */

static void test_reserve_aligned(void)
{
    NEED_SPARSE_SPACE();
    uintptr_t pg = ppage();
    const uintptr_t aligns[] = {ARENA, 2 * ARENA, 16 * ARENA};
    const uintptr_t sizes[] = {ARENA, 3 * ARENA};
    unsigned trimmed = 0, direct = 0;
    for (unsigned rep = 0; rep < 4; rep++) {
        for (unsigned ai = 0; ai < sizeof(aligns) / sizeof(aligns[0]); ai++) {
            for (unsigned si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
                uintptr_t align = aligns[ai], n = sizes[si], a = 0;
                unsigned long c0 = sheap_fault_inject_calls(SHEAP_OP_RESERVE);
                heap_lock();
                int r = reserve_aligned(&sheap_heap, 0, n, align, &a);
                heap_unlock();
                unsigned long calls = sheap_fault_inject_calls(SHEAP_OP_RESERVE) - c0;
                CHECK_EQ(r, SHEAP_PORT_OK);
                CHECK_EQ(a & (align - 1), 0);
                CHECK(calls == 1 || calls == 2);
                /* [a, a+n) is held: its first, middle and last page are taken */
                CHECK(!range_free(a, pg));
                CHECK(!range_free(a + n / 2, pg));
                CHECK(!range_free(a + n - pg, pg));
                if (calls == 2) {
                    /*
                     * Over-reserved [p, p + n + align) and trimmed the head
                     * [p, a) and the tail [a + n, p + n + align), with
                     * head + tail = align and tail >= one page.  Both must
                     * be free again: reserve exactly the free neighbours.
                     */
                    trimmed++;
                    uintptr_t below = free_below(a, align), above = free_above(a + n, align);
                    if (above < pg || below + above < align)
                        printf("  align %llu: free below %llu, above %llu\n", U(align), U(below), U(above));
                    CHECK(above >= pg);
                    CHECK(below + above >= align);
                    uintptr_t got;
                    if (below) {
                        CHECK_EQ(test_port_reserve(a - below, below, &got), SHEAP_PORT_OK);
                        CHECK_EQ(got, a - below);
                    }
                    CHECK_EQ(test_port_reserve(a + n, above, &got), SHEAP_PORT_OK);
                    CHECK_EQ(got, a + n);
                    test_port_release(a + n, above);
                    if (below)
                        test_port_release(a - below, below);
                } else {
                    direct++;
                }
                test_port_release(a, n);
                CHECK(range_free(a, n));
                /* At a hint: exactly there, or EBUSY for a misaligned one
                 * without asking the port. */
                uintptr_t b = 0;
                heap_lock();
                int r2 = reserve_aligned(&sheap_heap, a, n, align, &b);
                heap_unlock();
                CHECK_EQ(r2, SHEAP_PORT_OK);
                CHECK_EQ(b, a);
                heap_lock();
                int r3 = reserve_aligned(&sheap_heap, a, n, align, &b); /* taken now */
                c0 = sheap_fault_inject_calls(SHEAP_OP_RESERVE);
                int r4 = reserve_aligned(&sheap_heap, a + pg, n, align, &b);
                calls = sheap_fault_inject_calls(SHEAP_OP_RESERVE) - c0;
                heap_unlock();
                CHECK_EQ(r3, SHEAP_PORT_EBUSY);
                CHECK_EQ(r4, SHEAP_PORT_EBUSY);
                CHECK_EQ(calls, 0);
                test_port_release(a, n);
            }
        }
    }
    printf("  %u reservations trimmed from an over-reservation, %u aligned at once\n", trimmed, direct);

    /* An injected failure is passed on and leaves nothing reserved. */
    for (unsigned long nth = 1; nth <= 2; nth++) {
        uintptr_t a = 0;
        unsigned long i0 = sheap_fault_inject_count();
        sheap_fault_inject_arm(SHEAP_OP_RESERVE, nth);
        heap_lock();
        int r = reserve_aligned(&sheap_heap, 0, ARENA, 4 * ARENA, &a);
        heap_unlock();
        sheap_fault_inject_arm(SHEAP_OP_RESERVE, 0);
        unsigned long hit = sheap_fault_inject_count() - i0;
        if (hit) {
            CHECK_EQ(r, SHEAP_PORT_ENOMEM);
        } else {
            CHECK_EQ(r, SHEAP_PORT_OK);
            CHECK_EQ(a & (4 * ARENA - 1), 0);
            test_port_release(a, ARENA);
        }
    }
    CHECK_HEAP();
}

/* ---- 4. the linear allocator ------------------------------------------------------ */

static bool all_zero(uintptr_t p, uintptr_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    for (uintptr_t i = 0; i < n; i++)
        if (b[i] != 0)
            return false;
    return true;
}

/* linear_alloc on the test heap's backend, under the lock as the core calls it. */
static uintptr_t locked_linear_alloc(struct linear_alloc *l, uintptr_t size, uintptr_t align, uintptr_t *grown)
{
    heap_lock();
    uintptr_t p = linear_alloc(&harness_fault_backend.backend, l, size, align, grown);
    heap_unlock();
    return p;
}

static void test_linear_alloc(void)
{
    const uintptr_t span = 8 * PAGE;
    uintptr_t base = 0;
    CHECK_EQ(test_port_reserve(0, span, &base), SHEAP_PORT_OK);
    CHECK_EQ(base & (PAGE - 1), 0);
    struct linear_alloc l, before;
    uintptr_t grown = 99, p;
    unsigned long m0, u0;

    /* An allocator without a reservation hands out nothing. */
    memset(&l, 0, sizeof(l));
    CHECK_EQ(locked_linear_alloc(&l, 8, 8, &grown), 0);
    CHECK_EQ(grown, 0);

    linear_init(&l, base, span);
    CHECK(l.next == base && l.ready == base && l.prepared == base && l.end == base + span);

#define COUNT0() (m0 = sheap_fault_inject_calls(SHEAP_OP_MAP), u0 = sheap_fault_inject_calls(SHEAP_OP_USED))
#define MAPS() (sheap_fault_inject_calls(SHEAP_OP_MAP) - m0)
#define USEDS() (sheap_fault_inject_calls(SHEAP_OP_USED) - u0)

    /* 24 bytes: the first page becomes Ready, nothing more. */
    COUNT0();
    p = locked_linear_alloc(&l, 24, 8, &grown);
    CHECK_EQ(p, base);
    CHECK_EQ(grown, PAGE);
    CHECK_EQ(MAPS(), 1);
    CHECK_EQ(USEDS(), 1);
    CHECK_EQ(l.ready, base + PAGE);
    CHECK_EQ(l.prepared, base + PAGE);
    CHECK_EQ(l.next, base + 24);
    CHECK(all_zero(p, 24));
    memset((void *)p, 0xa5, 24);

    /* Inside the Ready page: no port call at all. */
    COUNT0();
    p = locked_linear_alloc(&l, 100, 16, &grown);
    CHECK_EQ(p, base + 32);
    CHECK_EQ(grown, 0);
    CHECK_EQ(MAPS(), 0);
    CHECK_EQ(USEDS(), 0);
    CHECK(all_zero(p, 100));
    memset((void *)p, 0x5a, 100);

    /* Crossing into the second page: exactly that page. */
    COUNT0();
    p = locked_linear_alloc(&l, PAGE, 8, &grown);
    CHECK_EQ(p, base + 136);
    CHECK_EQ(grown, PAGE);
    CHECK_EQ(MAPS(), 1);
    CHECK_EQ(USEDS(), 1);
    CHECK_EQ(l.ready, base + 2 * PAGE);
    CHECK(all_zero(p, PAGE));
    memset((void *)p, 0x11, PAGE);

    /* Page aligned, one byte: the third page. */
    COUNT0();
    p = locked_linear_alloc(&l, 1, PAGE, &grown);
    CHECK_EQ(p, base + 2 * PAGE);
    CHECK_EQ(grown, PAGE);
    CHECK_EQ(MAPS(), 1);
    CHECK_EQ(USEDS(), 1);
    CHECK_EQ(l.ready, base + 3 * PAGE);

    /* Beyond the end, and sizes that wrap: 0, no port call, no change. */
    before = l;
    COUNT0();
    CHECK_EQ(locked_linear_alloc(&l, span - (l.next - base) + 1, 1, &grown), 0);
    CHECK_EQ(grown, 0);
    CHECK_EQ(locked_linear_alloc(&l, UINTPTR_MAX - 16, 1, &grown), 0);
    CHECK_EQ(locked_linear_alloc(&l, 1, (uintptr_t)1 << (PTR_BITS - 1), &grown), 0);
    CHECK_EQ(MAPS(), 0);
    CHECK_EQ(USEDS(), 0);
    CHECK(memcmp(&l, &before, sizeof(l)) == 0);

    /* map() fails: nothing changes. */
    before = l;
    sheap_fault_inject_arm(SHEAP_OP_MAP, 1);
    p = locked_linear_alloc(&l, PAGE, PAGE, &grown);
    sheap_fault_inject_arm(SHEAP_OP_MAP, 0);
    CHECK_EQ(p, 0);
    CHECK_EQ(grown, 0);
    CHECK(memcmp(&l, &before, sizeof(l)) == 0);

    /* used() fails: nothing handed out, the page stays Prepared; the retry
     * makes it Ready without mapping it again. */
    sheap_fault_inject_arm(SHEAP_OP_USED, 1);
    p = locked_linear_alloc(&l, PAGE, PAGE, &grown);
    sheap_fault_inject_arm(SHEAP_OP_USED, 0);
    CHECK_EQ(p, 0);
    CHECK_EQ(grown, 0);
    CHECK_EQ(l.next, before.next);
    CHECK_EQ(l.ready, before.ready);
    CHECK_EQ(l.prepared, base + 4 * PAGE);
    COUNT0();
    p = locked_linear_alloc(&l, PAGE, PAGE, &grown);
    CHECK_EQ(p, base + 3 * PAGE);
    CHECK_EQ(grown, PAGE);
    CHECK_EQ(MAPS(), 0);
    CHECK_EQ(USEDS(), 1);
    CHECK(all_zero(p, PAGE));

    /* Exactly up to the end, then nothing more. */
    uintptr_t rest = l.end - l.next;
    COUNT0();
    p = locked_linear_alloc(&l, rest, 1, &grown);
    CHECK_EQ(p, base + 4 * PAGE);
    CHECK_EQ(grown, rest);
    CHECK_EQ(MAPS(), 1);
    CHECK_EQ(USEDS(), 1);
    CHECK_EQ(l.next, l.end);
    CHECK_EQ(l.ready, l.end);
    CHECK_EQ(locked_linear_alloc(&l, 1, 1, &grown), 0);
    CHECK(all_zero(p, rest));

    /* What was written stayed put. */
    const unsigned char *b = (const unsigned char *)base;
    CHECK(b[0] == 0xa5 && b[23] == 0xa5 && b[32] == 0x5a && b[131] == 0x5a && b[136] == 0x11);
#undef COUNT0
#undef MAPS
#undef USEDS
    test_port_release(base, span);
    CHECK_HEAP();
}

/* ---- 5. port failures during growth ------------------------------------------------ */

/* The would-be range of the next growth at the top hint is not in the index. */
static bool target_absent(uintptr_t n)
{
    heap_lock();
    uintptr_t p = top_hint_target(n);
    bool ok = p == 0 || (arena_of(p) == NULL && arena_of(p + n - 1) == NULL);
    heap_unlock();
    return ok;
}

static const char *const op_name[SHEAP_OP_COUNT] = {"reserve", "map", "used"};

/* Every growth-failure case starts from a heap whose next growth goes to
 * a hint: the span pool stocked, 32-bit mode's initial reservation used up,
 * at least one hint. */
static void grow_case_setup(void)
{
    CHECK(prep());
    CHECK(use_up_space());
    CHECK(ensure_hint());
}

/* reserve() fails at a usable hint with ENOMEM (not EBUSY). */
static void test_grow_fail_reserve_at_hint(void)
{
    NEED_SPARSE_SPACE();
    uintptr_t v, size;
    bool ok;
    struct snap s0, s1;
    const uintptr_t n = META_ARENAS * ARENA;
    CALL(grow_case_setup());

    /* reserve() fails at a usable hint with ENOMEM (not EBUSY): growth
     * fails and the hint is kept. */
    CHECK(settle_top_hint(n));
#if SHEAP_32BIT_MODE
    heap_lock();
    uintptr_t space_left = hp->arena_space.end - hp->arena_space.next;
    heap_unlock();
    CHECK(space_left < n); /* else growth would not reach the hints */
#endif
    take_snap(&s0);
    CHECK(s0.nhints >= 1 && s0.nhints <= SHEAP_MAX_HINTS - 2);
    uintptr_t target;
    heap_lock();
    target = top_hint_target(n);
    heap_unlock();
    unsigned long i0 = sheap_fault_inject_count();
    sheap_fault_inject_arm(SHEAP_OP_RESERVE, 1);
    ok = grow(n, &v, &size);
    sheap_fault_inject_arm(SHEAP_OP_RESERVE, 0);
    take_snap(&s1);
    CHECK_EQ(sheap_fault_inject_count() - i0, 1);
    CHECK(target != 0);
    if (!ok) {
        /* the growth gave up: nothing changed */
        CHECK_SAME(&s0, &s1, 0);
        CHECK(arena_of(target) == NULL && arena_of(target + n - 1) == NULL);
        /* arena_grow itself passes the port's error on (same state, same call) */
        sheap_fault_inject_arm(SHEAP_OP_RESERVE, 1);
        heap_lock();
        int r = arena_grow(&sheap_heap, n, &v, &size);
        heap_unlock();
        sheap_fault_inject_arm(SHEAP_OP_RESERVE, 0);
        take_snap(&s1);
        CHECK_EQ(r, SHEAP_PORT_ENOMEM);
        CHECK_SAME(&s0, &s1, 0);
    } else {
        /* the growth went on to the fallback (which may find the very same
         * range free): every hint is still there */
        CHECK(s1.nhints >= s0.nhints);
        for (unsigned i = 0; i < s0.nhints; i++)
            CHECK(s1.hints[i].addr == s0.hints[i].addr && s1.hints[i].down == s0.hints[i].down);
    }
    CHECK_HEAP();
}

/* Every call of one kind fails during a growth. */
static void test_grow_fail_every_call(void)
{
    NEED_SPARSE_SPACE();
    uintptr_t v, size;
    bool ok;
    struct snap s0, s1;
    const uintptr_t n = META_ARENAS * ARENA;
    CALL(grow_case_setup());

    /* Every call of one kind fails: map (the arena range), used (the arena
     * records: meta_alloc, or the 32-bit up-front region, and the fallback
     * chunk meta_alloc tries next), reserve (hint and fallback). */
    for (int op = 0; op < SHEAP_OP_COUNT; op++) {
        CHECK(prep());
        CHECK(settle_top_hint(n));
        take_snap(&s0);
        sheap_fault_inject_all((enum sheap_port_op)op, true);
        ok = grow(n, &v, &size);
        sheap_fault_inject_all((enum sheap_port_op)op, false);
        take_snap(&s1);
        if (ok)
            printf("  growth succeeded with every %s call failing\n", op_name[op]);
        CHECK(!ok);
        CHECK_SAME(&s0, &s1, 0);
        CHECK(target_absent(n));
        CHECK_HEAP();
    }
}

/* Every call of one kind fails during a malloc that must grow the heap. */
static void test_grow_fail_every_call_malloc(void)
{
    NEED_SPARSE_SPACE();
    struct snap s0, s1;
    const uintptr_t n = META_ARENAS * ARENA;
    CALL(grow_case_setup());

    /* The same through sheap_malloc: a block larger than any free run, so
     * that the page heap grows by (about) the block's size. */
    for (int op = 0; op < SHEAP_OP_COUNT; op++) {
        /* No kept empty spans: a failing allocation may give them back
         * (sheap.h), which is not what this compares. */
        sheap_trim();
        CHECK(prep());
        struct sheap_stats st;
        sheap_stats(&st);
        size_t big = st.free_bytes + n;
        CHECK(settle_top_hint(round_up(big, ARENA)));
        take_snap(&s0);
        CHECK_EQ(s0.st.free_bytes, st.free_bytes);
        sheap_fault_inject_all((enum sheap_port_op)op, true);
        void *p = sheap_malloc(big);
        sheap_fault_inject_all((enum sheap_port_op)op, false);
        take_snap(&s1);
        if (p)
            sheap_free(p);
        CHECK(p == NULL);
        CHECK_SAME(&s0, &s1, 1);
        CHECK_HEAP();
    }
}

/* The Nth call of each kind fails during one growth, N = 1, 2, ... */
static void test_grow_fail_sweep(void)
{
    NEED_SPARSE_SPACE();
    uintptr_t v, size;
    bool ok;
    struct snap s0, s1;
    const uintptr_t n = META_ARENAS * ARENA;
    CALL(grow_case_setup());

    /*
     * Sweep: fail the Nth call of each kind during one growth, N = 1, 2, ...
     * until the growth makes fewer calls than N.  At a hint and through the
     * fallback (no hints), and on 64-bit also a growth whose arena records
     * need a new metadata chunk (a reserve inside meta_alloc).  A failed
     * growth changes nothing; a successful one (a later call may retry, as
     * meta_alloc does with a new chunk) leaves a consistent heap.
     */
    uintptr_t sizes[2] = {n, 0};
#if !SHEAP_32BIT_MODE
    sizes[1] = (SHEAP_META_CHUNK / sizeof(struct sheap_arena) + 1) * ARENA;
#endif
    unsigned fails[SHEAP_OP_COUNT] = {0}, succ[SHEAP_OP_COUNT] = {0};
    for (int si = 0; si < 2 && sizes[si]; si++) {
        uintptr_t gn = sizes[si];
        for (int cfg = 0; cfg < 2; cfg++) {
            for (int op = 0; op < SHEAP_OP_COUNT; op++) {
                for (unsigned long nth = 1; nth <= 16; nth++) {
                    struct arena_hint saved[SHEAP_MAX_HINTS];
                    unsigned nsaved = 0;
                    CHECK(prep());
                    if (cfg == 0) {
                        CHECK(ensure_hint());
                        CHECK(settle_top_hint(gn));
                    } else {
                        heap_lock();
                        nsaved = hp->nhints;
                        memcpy(saved, hp->hints, sizeof(saved));
                        hp->nhints = 0;
                        heap_unlock();
                    }
                    take_snap(&s0);
                    heap_lock();
                    uintptr_t target = top_hint_target(gn);
                    heap_unlock();
                    unsigned long i0 = sheap_fault_inject_count();
                    sheap_fault_inject_arm((enum sheap_port_op)op, nth);
                    ok = grow(gn, &v, &size);
                    sheap_fault_inject_arm((enum sheap_port_op)op, 0);
                    unsigned long hit = sheap_fault_inject_count() - i0;
                    take_snap(&s1);
                    if (cfg == 1) {
                        heap_lock();
                        memcpy(hp->hints, saved, sizeof(saved));
                        hp->nhints = nsaved;
                        heap_unlock();
                    }
                    if (!ok) {
                        if (hit != 1 || snap_diff(&s0, &s1, 0))
                            printf("  size %llu, %s, %s call %lu\n", U(gn), cfg ? "fallback" : "hint", op_name[op],
                                   nth);
                        CHECK_EQ(hit, 1);
                        CHECK_SAME(&s0, &s1, 0);
                        if (target)
                            CHECK(arena_of(target) == NULL && arena_of(target + gn - 1) == NULL);
                        fails[op]++;
                    } else {
                        CHECK_EQ(size, gn);
                        CHECK(arena_of(v) != NULL && arena_of(v)->base == v);
                        CHECK(arena_of(v + size - 1) != NULL);
                        CHECK_EQ(s1.st.arenas, s0.st.arenas + size / ARENA);
                        succ[op]++;
                    }
                    CHECK_HEAP();
                    if (hit == 0)
                        break;
                }
            }
        }
    }
    for (int op = 0; op < SHEAP_OP_COUNT; op++)
        printf("  sweep: %-7s failures injected: %u growths failed cleanly, %u succeeded\n", op_name[op], fails[op],
               succ[op]);
    CHECK(fails[SHEAP_OP_RESERVE] >= 1);
    CHECK(fails[SHEAP_OP_MAP] >= 1);
    CHECK(sheap_fault_inject_calls(SHEAP_OP_USED) > 0);
    CHECK_HEAP();
}

/*
 * A hint inside the index (below 2^SHEAP_VA_BITS) whose range the port
 * cannot reach: x86-64 Linux user space ends at 2^47, and mmap answers
 * ENOMEM (not EEXIST) for a range beyond it.  Fallback hints near the top
 * of the user space produce such ranges for large growths.  The heap must
 * still grow elsewhere (the fallback), not fail - and keep failing, since
 * the hint stays on top.  Skipped where the port reaches every candidate
 * (e.g. the AArch64 MMU port, whose VA covers all 48 bits).
 */
static void test_unreachable_hint(void)
{
    NEED_SPARSE_SPACE();
    const uintptr_t cand[] = {
        (uintptr_t)1 << (SHEAP_VA_BITS - 1),
        ((uintptr_t)1 << (SHEAP_VA_BITS - 1) << 1) - ARENA,
    };
    uintptr_t bad_hint = 0, got;
    for (unsigned i = 0; i < sizeof(cand) / sizeof(cand[0]) && bad_hint == 0; i++) {
        int r = test_port_reserve(cand[i], ARENA, &got);
        if (r == SHEAP_PORT_OK)
            test_port_release(got, ARENA);
        else if (r == SHEAP_PORT_ENOMEM)
            bad_hint = cand[i];
    }
    if (bad_hint == 0)
        SKIP("the port reaches every candidate hint");
    CHECK(prep());
    heap_lock();
    unsigned n0 = hp->nhints;
    if (n0 == SHEAP_MAX_HINTS) {
        for (unsigned i = 1; i < n0; i++)
            hp->hints[i - 1] = hp->hints[i];
        n0--;
    }
    hp->hints[n0].addr = bad_hint;
    hp->hints[n0].down = false;
    hp->nhints = n0 + 1;
    heap_unlock();
    uintptr_t v = 0, size = 0;
    bool ok = grow(ARENA, &v, &size);
    /* Take the planted hint out again, whatever happened, so that later
     * tests are not stuck behind it. */
    heap_lock();
    unsigned k = 0;
    for (unsigned i = 0; i < hp->nhints; i++)
        if (hp->hints[i].addr != bad_hint || hp->hints[i].down)
            hp->hints[k++] = hp->hints[i];
    hp->nhints = k;
    heap_unlock();
    printf("  up hint 0x%llx: reserve gives ENOMEM; growth %s\n", U(bad_hint),
           ok ? "went elsewhere" : "FAILED although the fallback has room");
    CHECK(ok);
    CHECK(v != bad_hint);
    CHECK(arena_of(v) != NULL);
    CHECK_HEAP();
}

/* ---- 2. the arena collision test --------------------------------------------------- */

struct blocked {
    uintptr_t start, end; /* no arena may ever cover any of [start, end) */
    uintptr_t page;       /* the page reserved to block the hint */
    bool ours;            /* our reservation (not taken already) */
};

static struct blocked disallowed[16];
static unsigned ndisallowed;

static bool hits_disallowed(uintptr_t v, uintptr_t n)
{
    for (unsigned i = 0; i < ndisallowed; i++)
        if (v < disallowed[i].end && disallowed[i].start < v + n)
            return true;
    return false;
}

static void read_top(unsigned *nh, struct arena_hint *t)
{
    heap_lock();
    *nh = hp->nhints;
    if (*nh)
        *t = hp->hints[*nh - 1];
    heap_unlock();
}

static void test_hint_collision(void)
{
    NEED_SPARSE_SPACE();
    const uintptr_t pg = ppage();
    const unsigned want_blocked = 5; /* 5 rounds over 3 hints */
    void *sink[16];
    unsigned nsink = 0, rounds = 0, taken = 0;
    CHECK(prep());
    CHECK(use_up_space());
    /* Keep the next 3 hints only. */
    heap_lock();
    if (hp->nhints > 3) {
        for (unsigned i = 0; i < 3; i++)
            hp->hints[i] = hp->hints[hp->nhints - 3 + i];
        hp->nhints = 3;
    }
    heap_unlock();
    ndisallowed = 0;
    while (ndisallowed < want_blocked) {
        unsigned nh;
        struct arena_hint t;
        uintptr_t v = 0, size = 0;
        CHECK(rounds++ < 2 * want_blocked);
        read_top(&nh, &t);
        if (nh == 0) {
            /* every hint used up: the next growth falls back and makes two */
            CHECK(grow(ARENA, &v, &size));
            CHECK(!hits_disallowed(v, size));
            read_top(&nh, &t);
            CHECK_EQ(nh, 2);
        }
        /* MapNextArenaHint: reserve the hint's first page, so that the
         * arena-sized range [start, end) at the hint cannot be had. */
        struct blocked d;
        if (t.down) {
            CHECK(t.addr >= ARENA);
            d.start = t.addr - ARENA;
            d.end = t.addr;
            d.page = t.addr - pg;
        } else {
            d.start = t.addr;
            d.end = t.addr + ARENA;
            d.page = t.addr;
        }
        uintptr_t got = 0;
        int rr = test_port_reserve(d.page, pg, &got);
        d.ours = rr == SHEAP_PORT_OK;
        CHECK(rr != SHEAP_PORT_OK || got == d.page);
        /* A page already taken (by the heap itself: a fallback's up hint can
         * point at an older arena) blocks the hint just the same, but is not
         * a range the heap must stay out of. */
        if (d.ours)
            disallowed[ndisallowed++] = d;
        else
            taken++;
        printf("  hint 0x%llx %s (%u hints): [0x%llx, 0x%llx) %s", U(t.addr), t.down ? "down" : "up", nh,
               U(d.start), U(d.end), d.ours ? "blocked" : "already taken");
        /* Grow until the heap has given up that hint. */
        unsigned nh2;
        struct arena_hint t2;
        int tries = 0;
        do {
            CHECK(tries++ < 8);
            CHECK(grow(ARENA, &v, &size));
            if (hits_disallowed(v, size))
                printf("\n  arena [0x%llx, 0x%llx) in a blocked range\n", U(v), U(v + size));
            CHECK(!hits_disallowed(v, size));
            read_top(&nh2, &t2);
        } while (nh2 == nh && t2.addr == t.addr && t2.down == t.down);
        printf("; grew at 0x%llx\n", U(v));
        /* and a block through malloc (a page run: boards back it with
         * frames), which must not land there either */
        void *p = sheap_malloc(2 * PAGE);
        CHECK(p != NULL);
        CHECK(nsink < sizeof(sink) / sizeof(sink[0]));
        sink[nsink++] = p;
        CHECK(!hits_disallowed((uintptr_t)p, 2 * PAGE));
        CHECK_HEAP();
    }
    /* No arena anywhere covers a blocked range. */
    heap_lock();
    uintptr_t bad = 0;
    for (struct sheap_arena *a = hp->arenas; a && !bad; a = a->next)
        if (hits_disallowed(a->base, ARENA))
            bad = a->base;
    heap_unlock();
    CHECK_EQ(bad, 0);
    printf("  %u hints blocked, %u found taken already, over %u rounds\n", ndisallowed, taken, rounds);
    for (unsigned i = 0; i < nsink; i++)
        sheap_free(sink[i]);
    for (unsigned i = 0; i < ndisallowed; i++)
        test_port_release(disallowed[i].page, pg);
    ndisallowed = 0;
    CHECK_HEAP();
}

/* ---- 3. fallback and the hints it leaves ------------------------------------------- */

static void test_fallback_hints(void)
{
    NEED_SPARSE_SPACE();
    uintptr_t v0, s0, v1, s1, v2, s2;
    unsigned nh;
    struct arena_hint t, bottom;
    CHECK(prep());
    CHECK(use_up_space());
    /* Every hint fails: here, there is none. */
    heap_lock();
    hp->nhints = 0;
    heap_unlock();
    CHECK(grow(ARENA, &v0, &s0));
    heap_lock();
    nh = hp->nhints;
    bottom = hp->hints[0];
    t = hp->hints[nh ? nh - 1 : 0];
    heap_unlock();
    CHECK_EQ(s0, ARENA);
    CHECK_EQ(v0 & (ARENA - 1), 0);
    CHECK(arena_of(v0) != NULL && arena_of(v0)->base == v0);
    /* a down hint at v and an up hint at v + size, the up one on top */
    CHECK_EQ(nh, 2);
    CHECK(bottom.addr == v0 && bottom.down);
    CHECK(t.addr == v0 + s0 && !t.down);
    printf("  fallback arena at 0x%llx\n", U(v0));

    /* Next growth: up from v + size when that is free, else (the hint is
     * dropped) down from v. */
    bool up_free = range_free(v0 + s0, ARENA), down_free = range_free(v0 - ARENA, ARENA);
    CHECK(grow(ARENA, &v1, &s1));
    read_top(&nh, &t);
    if (up_free) {
        CHECK_EQ(v1, v0 + s0);
        CHECK_EQ(nh, 2);
        CHECK(t.addr == v1 + s1 && !t.down);
    } else if (down_free) {
        CHECK_EQ(v1, v0 - s1);
        CHECK_EQ(nh, 1);
        CHECK(t.addr == v1 && t.down);
    } else {
        CHECK(t.addr == v1 + s1 && !t.down); /* a new fallback */
    }
    printf("  next growth at 0x%llx (%s)\n", U(v1), v1 == v0 + s0 ? "up" : v1 + s1 == v0 ? "down" : "fallback");

    CHECK_HEAP();

    /*
     * Growth at an up hint continues up, at a down hint continues down:
     * each hint moves to the end of what it produced.  Shown on a free
     * region of 6 arenas found with reserve_aligned and released, with a
     * hint planted at each end in turn.
     */
    for (int down = 0; down < 2; down++) {
        uintptr_t a = 0;
        heap_lock();
        int r = reserve_aligned(&sheap_heap, 0, 6 * ARENA, ARENA, &a);
        if (r == SHEAP_PORT_OK) {
            test_port_release(a, 6 * ARENA);
            if (hp->nhints == SHEAP_MAX_HINTS) {
                for (unsigned i = 1; i < hp->nhints; i++)
                    hp->hints[i - 1] = hp->hints[i];
                hp->nhints--;
            }
            hp->hints[hp->nhints].addr = down ? a + 6 * ARENA : a;
            hp->hints[hp->nhints].down = down;
            hp->nhints++;
        }
        heap_unlock();
        CHECK_EQ(r, SHEAP_PORT_OK);
        for (int k = 0; k < 3; k++) {
            uintptr_t want = down ? a + (5 - (uintptr_t)k) * ARENA : a + (uintptr_t)k * ARENA;
            CHECK(grow(ARENA, &v2, &s2));
            read_top(&nh, &t);
            CHECK_EQ(v2, want);
            CHECK_EQ(s2, ARENA);
            CHECK(t.down == (down != 0));
            CHECK_EQ(t.addr, down ? v2 : v2 + s2);
        }
        /* then two arenas at once, still contiguous */
        CHECK(grow(2 * ARENA, &v2, &s2));
        read_top(&nh, &t);
        CHECK_EQ(s2, 2 * ARENA);
        CHECK_EQ(v2, down ? a + ARENA : a + 3 * ARENA);
        CHECK_EQ(t.addr, down ? v2 : v2 + s2);
        printf("  planted %s hint at 0x%llx: contiguous growth %s to 0x%llx\n", down ? "down" : "up",
               U(down ? a + 6 * ARENA : a), down ? "down" : "up", U(down ? v2 : v2 + s2));
    }
    uintptr_t bad;
    CHECK(verify_arena_list(&bad) >= 1);
    CHECK_HEAP();
}

/* ---- 7. more than 512 GB of arenas (64-bit host) ----------------------------------- */

/* The hosted port's budget control (port/hosted/sheap_hosted.h); weak, so
 * that the boards, which have no such port, link without it. */
__attribute__((weak)) void sheap_hosted_set_budget(uintptr_t bytes);

static void test_over_512gb(void)
{
#if SHEAP_32BIT_MODE || SHEAP_VA_BITS < 42
    SKIP("needs a 64-bit address space");
#else
    if (strcmp(sheap_board_name(), "host") != 0)
        SKIP("host only (%s would have to back ~1 GB of arena records)", sheap_board_name());
    /* The hosted port prepares no more than its backing budget allows (the
     * machine's available memory); this test is about the index,
     * so it lifts the budget above the address space it grows, and puts
     * the default back at the end. */
    if (sheap_hosted_set_budget)
        sheap_hosted_set_budget((uintptr_t)1 << 42);
    const uintptr_t target = ((uintptr_t)512 << 30) + ((uintptr_t)32 << 30); /* 544 GB */
    const uintptr_t step = (uintptr_t)32 << 30;
    struct { uintptr_t v, size; } g[64];
    unsigned ng = 0;
    uintptr_t total = 0;
    struct sheap_stats st0, st1;
    sheap_stats(&st0);
    while (total < target) {
        CHECK(ng < 64);
        bool ok = grow(step, &g[ng].v, &g[ng].size);
        if (!ok)
            printf("  growth failed after %llu GB\n", U(total >> 30));
        CHECK(ok);
        total += g[ng].size;
        ng++;
    }
    sheap_stats(&st1);
    CHECK_EQ(st1.arenas - st0.arenas, total / ARENA);
    CHECK(st1.arenas * ARENA > ((uintptr_t)512 << 30));
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (unsigned i = 0; i < ng; i++) {
        if (g[i].v < lo)
            lo = g[i].v;
        if (g[i].v + g[i].size > hi)
            hi = g[i].v + g[i].size;
    }
    printf("  %u growths of %llu GB: %llu arenas, %llu GB in [0x%llx, 0x%llx)\n", ng, U(step >> 30),
           U(total / ARENA), U(total >> 30), U(lo), U(hi));
    /* Lookups across all of it: ends, edges and sampled addresses. */
    harness_seed(0xa7e4a512);
    unsigned long nbad = 0;
    for (unsigned i = 0; i < ng; i++) {
        uintptr_t v = g[i].v, n = g[i].size;
        struct sheap_arena *a;
        nbad += (a = arena_of(v)) == NULL || a->base != v;
        nbad += (a = arena_of(v + n - 1)) == NULL || a->base != v + n - ARENA;
        for (int k = 0; k < 20000; k++) {
            uintptr_t x = v + (uintptr_t)(harness_rand() % n);
            a = arena_of(x);
            nbad += a == NULL || a->base != (x & ~(ARENA - 1));
        }
        /* just outside this growth: another growth's arena or nothing */
        a = arena_of(v - 1);
        nbad += a != NULL && a->base != v - ARENA;
        a = arena_of(v + n);
        nbad += a != NULL && a->base != v + n;
    }
    CHECK_EQ(nbad, 0);
    uintptr_t bad;
    CHECK(verify_arena_list(&bad) == st1.arenas);
    CHECK_HEAP();
    print_figures("> 512 GB");
    if (sheap_hosted_set_budget)
        sheap_hosted_set_budget(0);
    printf("  metadata for %llu arenas: %llu MB of arena records (%llu B each), index %llu KB\n",
           U(st1.arenas), U(st1.arenas * sizeof(struct sheap_arena) >> 20), U(sizeof(struct sheap_arena)),
           U(index_bytes() >> 10));
    /* A large block and a small one still work at this size. */
    void *p = sheap_malloc((size_t)2 * ARENA + 1);
    void *q = sheap_malloc(40);
    CHECK(p != NULL && q != NULL);
    ((char *)p)[0] = 1;
    ((char *)p)[2 * ARENA] = 2;
    sheap_free(q);
    sheap_free(p);
    CHECK_HEAP();
#endif
}

int main(void)
{
    RUN(test_metadata_figures);
    RUN(test_lazy_records);
    RUN(test_index_lookup_outside);
    RUN(test_index_lookup_sparse);
    RUN(test_index_lookup_every_frame);
    RUN(test_index_table_counted_once);
    RUN(test_32bit_upfront);
    RUN(test_32bit_upfront_meta_failure);
    RUN(test_32bit_upfront_use_up);
    RUN(test_reserve_aligned);
    RUN(test_linear_alloc);
    RUN(test_grow_fail_reserve_at_hint);
    RUN(test_grow_fail_every_call);
    RUN(test_grow_fail_every_call_malloc);
    RUN(test_grow_fail_sweep);
    RUN(test_unreachable_hint);
    RUN(test_hint_collision);
    RUN(test_fallback_hints);
    RUN(test_over_512gb);
    return harness_finish("arena");
}
