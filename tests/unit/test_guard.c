/*
 * test_guard.c - metadata is never next to a user block, on every board.
 *
 * The contract (sheap.h, "Metadata"): no allocator data is stored inside or
 * next to a user block.  The core keeps a guard page that is never made
 * Ready on each side of every metadata reservation (core/arena.c,
 * META_GUARD), so at least one page lies between any metadata byte and any
 * arena, in both directions.
 *
 * The steps run in order as one test (RUN gives it a fresh default heap on
 * the harness's fault backend; what the test reserves from that backend
 * itself, it gives back at the end):
 *
 * 1. Force the closest layout the heap can produce, on the empty heap:
 *      - the configured growth hints are taken, so arenas come from the
 *        port's "anywhere" reservations, which lie next to one another;
 *      - on a static board, the metadata pool is filled except for its top,
 *        so the next metadata chunk lands at the end of the pool, which is
 *        where the heap region starts on boards that place them together;
 *      - then arenas and metadata chunks are made in turn: an arena, a
 *        chunk (white-box: meta_alloc of more than the current chunk has
 *        left), another arena, another chunk.
 * 2. Measure the distance between every metadata object (arena records,
 *    span records and their pool, index tables, the forced chunks, and the
 *    heap's own state with the index's first level) and every arena; it
 *    must be at least one page.  The figure is printed.
 * 3. At every arena edge whose outside page is a metadata reservation's
 *    guard (or, on a static board, the metadata pool), with a live block
 *    ending at the edge: write one byte, then one page, past the block
 *    (overflow) or before it (underflow).  Where the board can trap faults
 *    (the host, the MMU boards, a static board's guarded memory) a write
 *    into a page that is not Ready must fault at the first byte outside the
 *    block; where it does not fault (a static pool is plain RAM) the heap
 *    must still pass sheap_check() and the forced chunks keep their
 *    contents.
 */
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "sheap.h"
#include "sheap_board.h"
#include "sheap_internal.h"

#define PAGE SHEAP_PAGE_SIZE
#define ARENA SHEAP_ARENA_SIZE
#define U(x) ((unsigned long long)(x))

#ifdef SHEAP_TEST_RAM_BYTES
#define TEST_RAM ((uintptr_t)SHEAP_TEST_RAM_BYTES)
#else
#define TEST_RAM ((uintptr_t)256 << 20)
#endif

/* The static port's facts, when this is a static board (weak: other ports
 * do not have it).  Same layout as port/static/sheap_static.h. */
struct static_info {
    uintptr_t region_base, region_end, meta_base, meta_end;
    uintptr_t region_reserved_bytes, region_ready_bytes, meta_reserved_bytes, ready_end, guard_granule;
};
__attribute__((weak)) void sheap_static_info(struct static_info *info);

static const uintptr_t hints[] = SHEAP_ARENA_HINTS;

/* Forced metadata chunks (their first allocation, filled with a pattern). */
struct chunk {
    unsigned char *p;
    uintptr_t size;
    uintptr_t end; /* the chunk's end: its upper guard page starts here */
};
static struct chunk chunks[6];
static unsigned nchunks;

/* The test heap's backend, directly (harness.h), under the heap lock. */
#define port_reserve test_port_reserve_locked
#define port_release test_port_release_locked

/* What the test keeps reserved (hints taken, a gap filled) until the end. */
static struct {
    uintptr_t v, n;
} held[16];
static unsigned nheld;

static bool hold(uintptr_t hint, uintptr_t n)
{
    uintptr_t v;
    if (nheld == 16 || port_reserve(hint, n, &v) != SHEAP_PORT_OK)
        return false;
    held[nheld].v = v;
    held[nheld++].n = n;
    return true;
}

static void release_held(void)
{
    while (nheld > 0) {
        nheld--;
        port_release(held[nheld].v, held[nheld].n);
    }
}

/* ---- 1. the closest layout ------------------------------------------------------ */

/* Force a new metadata chunk: ask the metadata allocator for one byte more
 * than its current chunk has left (at least a page, at most a chunk). */
static bool force_chunk_sized(uintptr_t want)
{
    heap_lock();
    if (want == 0) {
        uintptr_t left = sheap_heap.meta.end ? sheap_heap.meta.end - sheap_heap.meta.next : 0;
        /* a whole chunk (more than is left of the current one): exactly
         * SHEAP_META_CHUNK with the chunk's record at its start */
        uintptr_t whole = SHEAP_META_CHUNK - sizeof(void *) - sizeof(struct meta_chunk);
        want = left + 1 > whole ? left + 1 : whole;
    }
    unsigned char *p = meta_alloc(&sheap_heap, want, sizeof(void *));
    uintptr_t end = sheap_heap.meta.end;
    heap_unlock();
    if (p == NULL || nchunks == 6)
        return false;
    for (uintptr_t i = 0; i < want; i += (want > 2 * PAGE && i == PAGE - 1 ? want - 2 * PAGE : 1))
        p[i] = (unsigned char)(0xa5 ^ i); /* big chunks: the first and last page */
    chunks[nchunks].p = p;
    chunks[nchunks].size = want;
    chunks[nchunks].end = end;
    nchunks++;
    return true;
}

static bool force_chunk(void) { return force_chunk_sized(0); }

static bool chunks_intact(void)
{
    for (unsigned c = 0; c < nchunks; c++)
        for (uintptr_t i = 0; i < chunks[c].size;
             i += (chunks[c].size > 2 * PAGE && i == PAGE - 1 ? chunks[c].size - 2 * PAGE : 1))
            if (chunks[c].p[i] != (unsigned char)(0xa5 ^ i))
                return false;
    return true;
}

/* Static boards: reserve every free page of the metadata pool except the
 * top `keep` pages, so that the next metadata reservation lands there.
 * Returns the pages taken (released again by pool_restore). */
static uintptr_t pool_taken[1024];
static unsigned npool_taken;

static void pool_fill_but_top(uintptr_t keep)
{
    struct static_info si;
    sheap_static_info(&si);
    uintptr_t v;
    while (npool_taken < 1024 && port_reserve(0, PAGE, &v) == SHEAP_PORT_OK) {
        if (v >= si.meta_end - keep * PAGE) {
            port_release(v, PAGE); /* the top stays free; so does all above it */
            break;
        }
        pool_taken[npool_taken++] = v;
    }
}

static void pool_restore(void)
{
    for (unsigned i = 0; i < npool_taken; i++)
        port_release(pool_taken[i], PAGE);
    npool_taken = 0;
}

static void *big[4];
static unsigned nbig;

static void force_closest_layout(void)
{
    CHECK_EQ(stats_now().arenas, 0); /* a fresh heap */
    /* Take the hints: growth falls back to the port's own placement. */
    unsigned taken = 0;
    for (unsigned i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
        uintptr_t hnt = (hints[i] + ARENA - 1) & ~(ARENA - 1);
        if (hnt != 0 && hold(hnt, ARENA))
            taken++;
    }
    uintptr_t rounds = TEST_RAM / ARENA; /* each round backs one arena */
    if (rounds > 2)
        rounds = 2;
    if (rounds == 0)
        rounds = 1;
    bool is_static = sheap_static_info != NULL;
    printf("  %u growth hints taken; %llu rounds of arena + metadata chunk%s\n", taken, U(rounds),
           is_static ? "; metadata pool filled but for its top" : "");
    void *first = sheap_malloc(16); /* the heap exists: index, first chunk, first arena */
    CHECK(first != NULL);
    for (uintptr_t r = 0; r < rounds; r++) {
        if (r == 0) {
            /* The rest of the first arena, exactly: a block ending at its end. */
            uintptr_t a_end = (((uintptr_t)first) & ~(ARENA - 1)) + ARENA;
            struct sheap_span *fs = span_of(a_end - PAGE);
            CHECK(fs != NULL && fs->state == SPAN_FREE && fs->base + (fs->npages << SHEAP_PAGE_SHIFT) == a_end);
            uintptr_t bytes = fs->npages << SHEAP_PAGE_SHIFT;
            big[nbig] = sheap_malloc(bytes > SHEAP_CLASS_MAX_SIZE ? bytes : SHEAP_CLASS_MAX_SIZE + 1);
        } else {
            /* A whole arena: new address space, all of it one block. */
            big[nbig] = sheap_malloc(ARENA);
        }
        CHECK(big[nbig] != NULL);
        nbig++;
        if (is_static && r == 0) /* once: the top of the pool is then taken */
            pool_fill_but_top((SHEAP_META_CHUNK >> SHEAP_PAGE_SHIFT) + 1);
        bool forced = force_chunk();
        if (is_static)
            pool_restore();
        CHECK(forced);
    }
    /* The MMU ports hand out address space first fit, bottom up: fill the
     * gap between the last chunk and the arena above it, so that the next
     * chunk lands right after that arena's end. */
    if (!is_static && strcmp(sheap_board_name(), "host") != 0 && nchunks > 0 && nbig > 0) {
        uintptr_t e = chunks[nchunks - 1].end + PAGE; /* the last chunk's reservation end */
        uintptr_t ab = ((uintptr_t)big[nbig - 1] + ARENA - 1) & ~(ARENA - 1); /* its arena's end... */
        ab -= ARENA;                                                               /* ...and base */
        if (e < ab)
            CHECK(hold(e, ab - e));
        CHECK(force_chunk());
        printf("  first-fit port: gap below the arena at 0x%llx filled; chunk at 0x%llx\n", U(ab),
               U((uintptr_t)chunks[nchunks - 1].p));
    }
    /* The host's kernel places mappings top down, each right below the
     * lowest one: size one more chunk so that its reservation starts on an
     * arena boundary; the next arena (reserved exactly, already aligned)
     * then lands right below that chunk's lower guard page. */
    if (!is_static && strcmp(sheap_board_name(), "host") == 0 && nchunks > 0) {
        /* the last chunk's reservation: its first page (which starts with
         * the chunk's record) and the guard page below */
        uintptr_t low = ((uintptr_t)chunks[nchunks - 1].p & ~(PAGE - 1)) - PAGE;
        uintptr_t total = low & (ARENA - 1);                     /* down to the arena boundary */
        while (total < SHEAP_META_CHUNK + 3 * PAGE)
            total += ARENA;
        CHECK(force_chunk_sized(total - 2 * PAGE - sizeof(void *) - sizeof(struct meta_chunk)));
        big[nbig] = sheap_malloc(ARENA);
        CHECK(big[nbig] != NULL);
        printf("  host: chunk reserved down to 0x%llx, then an arena at 0x%llx\n",
               U(((uintptr_t)chunks[nchunks - 1].p & ~(PAGE - 1)) - PAGE), U((uintptr_t)big[nbig]));
        nbig++;
    }
    CHECK_HEAP();
}

/* ---- 2. distances ------------------------------------------------------------------- */

/* Bytes between [a, a + an) and [b, b + bn); 0 when they overlap or touch. */
static uintptr_t gap(uintptr_t a, uintptr_t an, uintptr_t b, uintptr_t bn)
{
    if (a + an <= b)
        return b - (a + an);
    if (b + bn <= a)
        return a - (b + bn);
    return 0;
}

struct nearest {
    uintptr_t dist, meta, meta_size, arena;
    const char *what;
};

static void consider(struct nearest *n, uintptr_t m, uintptr_t size, const char *what)
{
    for (struct sheap_arena *a = sheap_heap.arenas; a; a = a->next) {
        uintptr_t d = gap(m, size, a->base, ARENA);
        if (d < n->dist) {
            n->dist = d;
            n->meta = m;
            n->meta_size = size;
            n->arena = a->base;
            n->what = what;
        }
    }
}

/* Every metadata object that lives in metadata reservations. */
static struct nearest nearest_reserved(void)
{
    struct nearest n = {UINTPTR_MAX, 0, 0, 0, "none"};
    for (struct sheap_arena *a = sheap_heap.arenas; a; a = a->next) {
        consider(&n, (uintptr_t)a, sizeof(*a), "arena record");
        for (uintptr_t pg = 0; pg < SHEAP_ARENA_PAGES; pg++) {
            struct sheap_span *s = a->spans[pg];
            if (s != NULL && (pg == 0 || a->spans[pg - 1] != s))
                consider(&n, (uintptr_t)s, sizeof(*s), "span record");
        }
    }
    uintptr_t k = 0;
    for (struct sheap_span *s = sheap_heap.span_pool; s && k < sheap_heap.span_pool_count; s = s->next, k++)
        consider(&n, (uintptr_t)s, sizeof(*s), "pooled span record");
#if INDEX_LEVELS == 2
    for (uintptr_t i = 0; i < INDEX_L1_ENTRIES; i++)
        if (sheap_shared.index_l1[i])
            consider(&n, (uintptr_t)sheap_shared.index_l1[i], sizeof(struct index_l2), "index table");
#endif
    for (unsigned c = 0; c < nchunks; c++)
        consider(&n, (uintptr_t)chunks[c].p, chunks[c].size, "forced metadata chunk");
    return n;
}

static struct nearest near_all;

static void metadata_distance(void)
{
    struct nearest n = nearest_reserved();
    struct nearest st = {UINTPTR_MAX, 0, 0, 0, "none"};
    consider(&st, (uintptr_t)&sheap_heap, sizeof(sheap_heap), "heap record");
    consider(&st, (uintptr_t)&sheap_shared, sizeof(sheap_shared), "shared state and index");
    struct sheap_stats s = stats_now();
    printf("  %llu arenas, %llu metadata chunks forced\n", U(s.arenas), U(nchunks));
    printf("  closest metadata to an arena: %s at 0x%llx, %llu bytes from the arena at 0x%llx (page %llu)\n",
           n.what, U(n.meta), U(n.dist), U(n.arena), U(PAGE));
    printf("  heap state (struct sheap_heap, struct sheap_shared with the index's first level): %llu bytes from the "
           "nearest arena\n", U(st.dist));
    printf("GUARD_DISTANCE %s metadata %llu heap_state %llu\n", sheap_board_name(), U(n.dist), U(st.dist));
    CHECK(n.dist >= PAGE);
    CHECK(st.dist >= PAGE);
    near_all = n;
    CHECK_HEAP();
}

/* ---- 3. overflow and underflow at the edges ------------------------------------------ */

/* Whether a live block has its first byte at addr (up) or its last byte
 * just below addr (down). */
static bool block_at_edge(uintptr_t edge, bool below_edge)
{
    struct sheap_span *s = span_of(below_edge ? edge - 1 : edge);
    if (s == NULL || (s->state != SPAN_LARGE && s->state != SPAN_SMALL))
        return false;
    if (!below_edge)
        return s->base == edge &&
               (s->state == SPAN_LARGE || !((s->freebits[0] & 1u))); /* slot 0 in use */
    return s->state == SPAN_LARGE && s->base + (s->npages << SHEAP_PAGE_SHIFT) == edge;
}

/* Write one byte or one page outside the edge, moving away from the block
 * (down for an underflow, up for an overflow).  Returns 1 when the first
 * write faulted at the first byte outside, 0 when nothing faulted, -1 when
 * a fault came elsewhere. */
static int overrun(uintptr_t edge, bool down, uintptr_t len, bool can_trap)
{
    volatile unsigned char *first = (volatile unsigned char *)(down ? edge - 1 : edge);
    uintptr_t where = 0;
    if (can_trap)
        sheap_board_expect_fault();
    for (uintptr_t i = 0; i < len; i++) {
        first[down ? -(intptr_t)i : (intptr_t)i] = 0xee;
        __asm__ volatile("" ::: "memory");
        if (can_trap && i == 0) {
            bool f = sheap_board_fault_taken(&where);
            if (f)
                return where == (uintptr_t)first ? 1 : -1;
            if (len > 1)
                sheap_board_expect_fault();
        }
    }
    if (can_trap && len > 1 && sheap_board_fault_taken(&where))
        return -1; /* not at the first byte */
    return 0;
}

/* Distance from edge to the nearest metadata object wholly below it (down)
 * or wholly above it. */
static void side_consider(uintptr_t *best, uintptr_t edge, bool down, uintptr_t o, uintptr_t sz)
{
    if (down && o + sz <= edge && edge - (o + sz) < *best)
        *best = edge - (o + sz);
    if (!down && o >= edge && o - edge < *best)
        *best = o - edge;
}

static uintptr_t side_distance(uintptr_t edge, bool down)
{
    uintptr_t best = UINTPTR_MAX;
    for (struct sheap_arena *b = sheap_heap.arenas; b; b = b->next) {
        side_consider(&best, edge, down, (uintptr_t)b, sizeof(*b));
        for (uintptr_t pg = 0; pg < SHEAP_ARENA_PAGES; pg++) {
            struct sheap_span *s = b->spans[pg];
            if (s != NULL && (pg == 0 || b->spans[pg - 1] != s))
                side_consider(&best, edge, down, (uintptr_t)s, sizeof(*s));
        }
    }
    uintptr_t k = 0;
    for (struct sheap_span *s = sheap_heap.span_pool; s && k < sheap_heap.span_pool_count; s = s->next, k++)
        side_consider(&best, edge, down, (uintptr_t)s, sizeof(*s));
#if INDEX_LEVELS == 2
    for (uintptr_t i = 0; i < INDEX_L1_ENTRIES; i++)
        if (sheap_shared.index_l1[i])
            side_consider(&best, edge, down, (uintptr_t)sheap_shared.index_l1[i], sizeof(struct index_l2));
#endif
    for (unsigned c = 0; c < nchunks; c++)
        side_consider(&best, edge, down, (uintptr_t)chunks[c].p, chunks[c].size);
    return best;
}

static void overflow_at_edges(void)
{
    bool can_trap = sheap_board_can_trap_faults();
    struct static_info si = {0};
    bool is_static = sheap_static_info != NULL;
    if (is_static)
        sheap_static_info(&si);
    unsigned edges = 0, faulted = 0, quiet = 0;
    for (struct sheap_arena *a = sheap_heap.arenas; a; a = a->next) {
        for (int side = 0; side < 2; side++) {
            bool down = side == 0; /* underflow below the arena's first block */
            uintptr_t edge = down ? a->base : a->base + ARENA;
            /* The page outside the edge: a metadata guard when the nearest
             * metadata object on that side is within two pages, or the
             * static metadata pool. */
            uintptr_t out = down ? edge - PAGE : edge;
            bool guard = false;
            struct nearest m = {UINTPTR_MAX, 0, 0, 0, "none"};
            m.dist = side_distance(edge, down);
            guard = m.dist < 2 * PAGE;
            bool pool = is_static && out >= si.meta_base && out + PAGE <= si.meta_end;
            if (arena_of(out) != NULL || (!guard && !pool))
                continue; /* another arena there, or nothing known: not a metadata edge */
            /* A free run at the edge: allocate until a block covers it
             * (the page heap may hand out another run first). */
            for (int tries = 0; tries < 8 && !block_at_edge(edge, !down); tries++) {
                struct sheap_span *fs = span_of(down ? edge : edge - 1);
                if (fs == NULL || fs->state != SPAN_FREE)
                    break;
                uintptr_t bytes = fs->npages << SHEAP_PAGE_SHIFT;
                CHECK(sheap_malloc(bytes > SHEAP_CLASS_MAX_SIZE ? bytes : SHEAP_CLASS_MAX_SIZE + 1) != NULL);
            }
            if (!block_at_edge(edge, !down))
                continue;
            /* a static board's protection unit covers only its region */
            bool trap_here = can_trap && !pool && !is_static;
            struct sheap_stats before = stats_now();
            edges++;
            int r1 = overrun(edge, down, 1, trap_here);
            int r2 = overrun(edge, down, PAGE, trap_here);
            printf("  %s by 1 byte and 1 page at 0x%llx (%s, metadata %llu bytes away): %s, %s\n",
                   down ? "underflow" : "overflow", U(edge), pool ? "metadata pool page" : "guard page",
                   U(m.dist), r1 > 0 ? "fault at the first byte" : r1 == 0 ? "no fault" : "fault elsewhere",
                   r2 > 0 ? "fault at the first byte" : r2 == 0 ? "no fault" : "fault elsewhere");
            CHECK(r1 >= 0 && r2 >= 0);
            if (trap_here) {
                /* a guard page is never Ready: it must fault */
                CHECK(r1 == 1 && r2 == 1);
                faulted++;
            } else {
                quiet++;
            }
            struct sheap_stats after = stats_now();
            CHECK(stats_same(&before, &after));
            CHECK_HEAP();
            CHECK(chunks_intact());
        }
    }
    printf("GUARD_EDGES %s tested %u faulted %u checked %u\n", sheap_board_name(), edges, faulted, quiet);
    CHECK(chunks_intact());
    /* The MMU boards (whose port hands out address space in order) and the
     * static boards whose pool borders the region have at least one such
     * edge; boards whose pool is far away have none.  On the host the
     * kernel places mappings, so an arena may or may not border a chunk;
     * chunk_guards checks both guards of every chunk there. */
    if ((!is_static && strcmp(sheap_board_name(), "host") != 0) || (is_static && si.meta_end == si.region_base) ||
        near_all.dist < 2 * PAGE)
        CHECK(edges >= 1);
    CHECK_HEAP();
}

/* Both guard pages of every forced chunk: a store one byte below the
 * chunk's first byte and one at its end faults where the board traps (a
 * Reserved page); a static pool's guard is plain RAM, where the store must
 * leave the heap and the chunk intact. */
static void chunk_guards(void)
{
    bool can_trap = sheap_board_can_trap_faults();
    bool is_static = sheap_static_info != NULL;
    CHECK(nchunks >= 1);
    if (is_static) {
        /* The static backend keeps its pool apart from every region
         * (sheap_backend.meta_apart): no core guard pages around chunks,
         * which sit next to other metadata in the pool. */
        printf("  static pool: apart from the region, no guard pages around its chunks\n");
        return;
    }
    for (unsigned c = 0; c < nchunks; c++) {
        /* A fresh chunk's first allocation follows its record, in its first page. */
        uintptr_t lo = (uintptr_t)chunks[c].p & ~(PAGE - 1), hi = chunks[c].end;
        CHECK((uintptr_t)chunks[c].p - lo <= sizeof(struct meta_chunk) + sizeof(void *));
        int r1 = overrun(lo, true, 1, can_trap && !is_static);
        int r2 = overrun(hi, false, 1, can_trap && !is_static);
        int r3 = overrun(lo, true, PAGE, can_trap && !is_static);
        int r4 = overrun(hi, false, PAGE, can_trap && !is_static);
        printf("  chunk [0x%llx, 0x%llx): store below: %s; store above: %s\n", U(lo), U(hi),
               r1 > 0 ? "fault" : r1 == 0 ? "no fault" : "fault elsewhere",
               r2 > 0 ? "fault" : r2 == 0 ? "no fault" : "fault elsewhere");
        if (can_trap && !is_static)
            CHECK(r1 == 1 && r2 == 1 && r3 == 1 && r4 == 1);
        else
            CHECK(r1 == 0 && r2 == 0 && r3 == 0 && r4 == 0);
        CHECK(chunks_intact());
        CHECK_HEAP();
    }
}

static void free_all(void)
{
    for (unsigned i = 0; i < nbig; i++)
        sheap_free(big[i]);
    nbig = 0;
    CHECK_HEAP();
}

/* The steps in order on one heap; the first failure ends the test. */
#define STEP(fn)                                                                                   \
    do {                                                                                           \
        fn();                                                                                      \
        if (harness_failed_now)                                                                    \
            goto out;                                                                              \
    } while (0)

static void test_guard_pages(void)
{
    STEP(force_closest_layout);
    STEP(metadata_distance);
    STEP(overflow_at_edges);
    STEP(chunk_guards);
    STEP(free_all);
out:
    release_held();
}

int main(void)
{
    RUN(test_guard_pages);
    return harness_finish("guard");
}
