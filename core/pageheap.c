/*
 * pageheap.c - runs of pages (spans) over the arenas.
 *
 * Free runs are filed in segregated lists indexed like TLSF: a first level
 * by floor(log2(pages)) and SL_COUNT second-level lists splitting each
 * power-of-two range linearly; runs shorter than SL_COUNT pages have exact
 * lists.  Two bitmaps (fl_bitmap, sl_bitmap[]) say which lists are
 * non-empty, so finding a run is a couple of bit scans whatever the number
 * of free runs.  The search rounds the request up to the next list boundary
 * ("good fit": every run in the list found is big enough), then looks at the
 * head of the request's own list before giving up, which keeps small
 * leftovers from piling up.
 *
 * Neighbours are found through the span map: the entry of the page before a
 * run and of the page after it name the adjacent spans (free spans keep
 * their first and last entries exact for that).  Merging is therefore O(1):
 *
 *     [prev FREE][s][next FREE]  ->  [prev + s + next]
 *
 * Page states: pages of free runs are Prepared or Ready (the ready bitmap
 * says which; span->ready sums it up per run: all, none or some, so that
 * the common cases need no bit count).  ph_alloc backs the Prepared pages
 * of the run it hands out (the backend's used()), so every page of a SMALL
 * or LARGE span is Ready.  Freed runs stay Ready up to SHEAP_RETAIN_BYTES;
 * beyond that they go back to the backend at once, and sheap_trim returns
 * the rest on request.
 *
 * Steady state (every page of the run found is Ready) costs a list search,
 * at most two splits and the map entries of the run's ends, all in one
 * masked stretch; only backing (a growth section) drops the lock.
 *
 * Every function works on one heap, h; the span map it reads and writes
 * is in h's arena records, reached through the shared index.
 *
 * Lock: everything here is entered with the heap lock held.  Work that
 * calls the backend runs in a growth section (see sheap_internal.h): the
 * lock is dropped around it, and what the section works on is out of every
 * list (a SPAN_BUSY record, or new arenas not yet in the index), so the heap
 * is consistent at every point where another caller can get the lock.
 * Callers of ph_alloc, ph_grow, ph_grow_in_place, ph_trim and
 * span_pool_reserve therefore must not hold pointers into lists across the
 * call.
 */
#include "sheap_internal.h"

#define PAGE SHEAP_PAGE_SIZE
#define SPAN_END(s) ((s)->base + ((s)->npages << SHEAP_PAGE_SHIFT))

/* ---- Growth sections -------------------------------------------------------- */

/*
 * Growth has one owner at a time.  A caller in interrupt context never
 * takes it and never waits (Ready memory or NULL); nor does the owner's own
 * context when it calls in again (a backend calling back into sheap: waiting
 * for itself would never end).  A caller in another thread context waits
 * for the owner through the port (sheap_port_growth_wait, lock dropped,
 * interrupts as the caller has them) and looks again; a port that cannot
 * wait (bare metal without an RTOS, where no other thread exists) answers
 * false and the caller is refused.  The lock is held on entry and exit of
 * each function here.
 */
static inline bool in_interrupt(void)
{
    return ISR_DEPTH != 0 || sheap_port_in_handler();
}

/* Drop the lock, wait through the port for another context's section or
 * run in flight, take the lock back; false when the port cannot wait. */
static bool wait_for_other(void)
{
    HEAP_DROP(mode_);
    bool waited = sheap_port_growth_wait();
    HEAP_RETAKE(mode_);
    return waited;
}

bool growth_wait(void)
{
    SHEAP_ASSERT_LOCKED();
    if (!sheap_shared.growing || in_interrupt() || sheap_shared.grower == sheap_port_context_id())
        return false;
    return wait_for_other();
}

/* Like growth_wait, for the validator: also waits while another context
 * has a BUSY run in flight outside a growth section (ph_alloc's
 * lock_break).  Never waits for the caller's own section, in interrupt
 * context, or on a port that cannot wait. */
bool inflight_wait(void)
{
    SHEAP_ASSERT_LOCKED();
    if (sheap_shared.growing)
        return growth_wait();
    if (sheap_shared.busy_spans == 0 || in_interrupt())
        return false;
    return wait_for_other();
}

int growth_try(void)
{
    SHEAP_ASSERT_LOCKED();
    if (in_interrupt())
        return GROWTH_REFUSED;
    if (!sheap_shared.growing) {
        SMP_STORE(sheap_shared.growing, true);
        sheap_shared.grower = sheap_port_context_id();
        return GROWTH_OWNED;
    }
    return growth_wait() ? GROWTH_WAITED : GROWTH_REFUSED;
}

bool growth_begin(void)
{
    int r;
    while ((r = growth_try()) == GROWTH_WAITED)
        ;
    return r == GROWTH_OWNED;
}

void growth_end(void)
{
    SHEAP_ASSERT_LOCKED();
    SMP_STORE(sheap_shared.growing, false);
    sheap_shared.grower = 0;
}

/* Let pending interrupts in: the heap must be consistent here. */
void lock_break(void)
{
    HEAP_DROP(mode_);
    HEAP_RETAKE(mode_);
}

/* ---- Span records ---------------------------------------------------------- */

bool span_pool_reserve(struct sheap_heap *h, unsigned n)
{
    SHEAP_ASSERT_LOCKED();
    while (h->span_pool_count < n) {
        uintptr_t batch = PAGE / sizeof(struct sheap_span);
        if (batch == 0)
            batch = 1;
        /* New records come from the metadata allocator, in a growth
         * section; the pool takes them under the lock. */
        int g = growth_try();
        if (g == GROWTH_WAITED)
            continue; /* another context's section ran: count again */
        if (g == GROWTH_REFUSED)
            return false;
        HEAP_DROP(mode_);
        struct sheap_span *arr = meta_alloc(h, batch * sizeof(*arr), _Alignof(struct sheap_span));
        if (arr != NULL)
            for (uintptr_t i = 0; i < batch; i++)
                arr[i].state = SPAN_DEAD;
        HEAP_RETAKE(mode_);
        growth_end();
        if (arr == NULL)
            return false;
        for (uintptr_t i = 0; i < batch; i++) {
            arr[i].next = h->span_pool;
            h->span_pool = &arr[i];
        }
        h->span_pool_count += batch;
    }
    return true;
}

/* The caller reserved the record with span_pool_reserve. */
SHEAP_HOT_INLINE struct sheap_span *span_new(struct sheap_heap *h, uintptr_t base, uintptr_t npages)
{
    SHEAP_ASSERT_LOCKED();
    struct sheap_span *s = h->span_pool;
    SHEAP_ASSERT(s != NULL);
    h->span_pool = s->next;
    h->span_pool_count--;
    s->base = base;
    s->npages = npages;
    s->next = s->prev = NULL;
    s->obj_bytes = 0;
    s->state = SPAN_FREE;
    s->ready = READY_NONE;
    s->needzero = 1;
    s->class_list = CLASS_LIST_NONE;
    return s;
}

SHEAP_HOT_INLINE void span_dispose(struct sheap_heap *h, struct sheap_span *s)
{
    SHEAP_ASSERT_LOCKED();
    s->state = SPAN_DEAD;
    s->obj_bytes = 0;
    s->next = h->span_pool;
    h->span_pool = s;
    h->span_pool_count++;
}

/* ---- Page ranges that may cross arena boundaries ------------------------- */

/* See sheap_internal.h. */
void ph_each_piece(uintptr_t base, uintptr_t npages, piece_fn fn, void *ctx)
{
    SHEAP_ASSERT_GROWTH();
    while (npages > 0) {
        struct sheap_arena *a = arena_of(base);
        uintptr_t first = arena_page_index(base);
        uintptr_t n = SHEAP_ARENA_PAGES - first;
        if (n > npages)
            n = npages;
        fn(a, first, n, ctx);
        base += n << SHEAP_PAGE_SHIFT;
        npages -= n;
    }
}

static void piece_map(struct sheap_arena *a, uintptr_t first, uintptr_t n, void *ctx)
{
    for (uintptr_t i = 0; i < n; i++)
        a->spans[first + i] = ctx;
}

struct sheap_span *span_covering(uintptr_t addr)
{
    struct sheap_arena *a = arena_of(addr);
    uintptr_t before = a ? arena_page_index(addr) + 1 : 0;
    while (a != NULL) {
        uintptr_t j = bits_prev(a->starts, before);
        if (j != UINTPTR_MAX) {
            struct sheap_span *s = a->spans[j];
            return s != NULL && addr - s->base < (s->npages << SHEAP_PAGE_SHIFT) ? s : NULL;
        }
        /* A run may start in an earlier arena of the same heap. */
        struct sheap_arena *prev = a->base >= SHEAP_ARENA_SIZE ? arena_of(a->base - 1) : NULL;
        a = prev != NULL && prev->heap == a->heap ? prev : NULL;
        before = SHEAP_ARENA_PAGES;
    }
    return NULL;
}

/* The span-map entries of s's first and last pages name s; a is the arena
 * of s->base.  One index lookup unless s crosses into another arena. */
SHEAP_HOT_INLINE void map_bounds_in(struct sheap_arena *a, struct sheap_span *s)
{
    SHEAP_ASSERT_LOCKED();
    uintptr_t first = arena_page_index(s->base);
    a->spans[first] = s;
    if (first + s->npages <= SHEAP_ARENA_PAGES) {
        a->spans[first + s->npages - 1] = s;
    } else {
        uintptr_t last = SPAN_END(s) - PAGE;
        a = arena_of(last);
        a->spans[arena_page_index(last)] = s;
    }
}

SHEAP_HOT_INLINE void map_bounds(struct sheap_span *s)
{
    map_bounds_in(arena_of(s->base), s);
}

/* ---- Backing ------------------------------------------------------------ */

/*
 * Bits of a->ready are set or cleared under the lock, at most RANGE_STEP
 * pages at a time (a lock break between steps), so a long run costs no long
 * masked stretch.  Lock held on entry and exit; the pages belong to the
 * caller's BUSY span, so nobody else changes their bits meanwhile.
 */
#define RANGE_STEP ((uintptr_t)WORD_BITS * 32u)
static void ready_bits_stepped(struct sheap_arena *a, uintptr_t first, uintptr_t n, bool set)
{
    SHEAP_ASSERT_LOCKED();
    while (n > 0) {
        uintptr_t k = n < RANGE_STEP ? n : RANGE_STEP;
        if (set)
            bits_set_range(a->ready, first, k);
        else
            bits_clear_range(a->ready, first, k);
        first += k;
        n -= k;
        if (n > 0)
            lock_break();
    }
}

/* back_span's answer when this caller may not run a growth section. */
#define BACK_NOGROW (-1)

struct backing {
    struct sheap_heap *h;
    uintptr_t was_ready; /* pages already Ready before */
    uintptr_t newly;     /* pages made Ready now */
    bool zeroed;         /* every page backed here came zero from the backend */
    int err;
};

static void piece_count_ready(struct sheap_arena *a, uintptr_t first, uintptr_t n, void *ctx)
{
    *(uintptr_t *)ctx += bits_count_range(a->ready, first, n);
}

/* Runs up to COUNT_MAX pages may have their bits counted under the lock
 * (COUNT_MAX / WORD_BITS words: a short stretch); longer READY_SOME runs
 * are counted in a growth section, with the lock dropped. */
#define COUNT_MAX ((uintptr_t)WORD_BITS * 8u)

/* The Ready pages of the first n pages of free or BUSY span s, or
 * UINTPTR_MAX when s is READY_SOME and n is too long to count here.  O(1)
 * unless READY_SOME. */
static uintptr_t ready_first(const struct sheap_span *s, uintptr_t n)
{
    SHEAP_ASSERT_LOCKED();
    if (s->ready != READY_SOME)
        return s->ready == READY_ALL ? n : 0;
    if (n > COUNT_MAX)
        return UINTPTR_MAX;
    uintptr_t r = 0;
    ph_each_piece(s->base, n, piece_count_ready, &r);
    return r;
}

/* The state of a run made of runs in states x and y. */
static inline uint8_t ready_merge(uint8_t x, uint8_t y) { return x == y ? x : (uint8_t)READY_SOME; }

/* In a growth section, lock not held: count the Ready pages, back each
 * stretch of pages that are not Ready with one backend call, then mark it
 * Ready under the lock.  The
 * ready bits of a BUSY span's pages change only here, so reading them
 * without the lock is safe (a word read is atomic; other bits in it may
 * change, these do not). */
static void piece_back(struct sheap_arena *a, uintptr_t first, uintptr_t n, void *ctx)
{
    struct backing *b = ctx;
    uintptr_t end = first + n;
    b->was_ready += bits_count_range(a->ready, first, n);
    for (uintptr_t i = bits_next(a->ready, first, end, false); i < end && b->err == SHEAP_PORT_OK;
         i = bits_next(a->ready, i, end, false)) {
        uintptr_t j = bits_next(a->ready, i, end, true);
        bool z = false;
        b->err = be_used(b->h, a->base + (i << SHEAP_PAGE_SHIFT), (j - i) << SHEAP_PAGE_SHIFT, &z);
        if (b->err != SHEAP_PORT_OK)
            break;
        heap_lock();
        ready_bits_stepped(a, i, j - i, true);
        b->h->c.ready_pages += j - i;
        heap_unlock();
        b->newly += j - i;
        b->zeroed = b->zeroed && z;
        i = j;
    }
}

/*
 * Make every page of BUSY span s Ready.  READY_ALL: nothing to do, O(1).
 * Otherwise a growth section counts the Ready pages and backs the rest with
 * the lock dropped (BACK_NOGROW, nothing done, when this caller may not
 * grow: interrupt context or another section running; a short READY_SOME
 * run is counted first under the lock, so that a run that turns out to be
 * all Ready is served there too).  The pages came from a free run, so the
 * free-ready count moves with them: on success the ones that were Ready
 * leave it; on failure what was backed stays Ready inside the free run s
 * returns to (READY_SOME).  Lock held on entry and exit.
 */
static int back_span(struct sheap_heap *h, struct sheap_span *s, bool *zeroed)
{
    SHEAP_ASSERT_LOCKED();
    SHEAP_ASSERT(s->state == SPAN_BUSY);
    uintptr_t ready = ready_first(s, s->npages);
    if (ready == s->npages) {
        h->free_ready_pages -= ready;
        s->ready = READY_ALL;
        *zeroed = false;
        return SHEAP_PORT_OK;
    }
    struct backing b = {h, 0, 0, true, SHEAP_PORT_OK};
    if (!growth_begin())
        return BACK_NOGROW;
    HEAP_DROP(mode_);
    ph_each_piece(s->base, s->npages, piece_back, &b);
    HEAP_RETAKE(mode_);
    growth_end();
    if (b.err != SHEAP_PORT_OK) {
        h->free_ready_pages += b.newly;
        if (b.newly != 0 || s->ready == READY_SOME)
            s->ready = READY_SOME;
        return b.err;
    }
    h->free_ready_pages -= b.was_ready;
    s->ready = READY_ALL;
    *zeroed = b.zeroed && b.was_ready == 0;
    return SHEAP_PORT_OK;
}

/* ---- Free lists ------------------------------------------------------------ */

SHEAP_HOT_INLINE void mapping(uintptr_t npages, unsigned *fl, unsigned *sl)
{
    if (npages < SL_COUNT) {
        *fl = 0;
        *sl = (unsigned)npages;
    } else {
        unsigned f = log2_floor(npages);
        *fl = f - SHEAP_SL_BITS + 1;
        *sl = (unsigned)(npages >> (f - SHEAP_SL_BITS)) - SL_COUNT;
    }
}

void ph_mapping(uintptr_t npages, unsigned *fl, unsigned *sl) { mapping(npages, fl, sl); }

SHEAP_HOT_INLINE void fl_insert(struct sheap_heap *h, struct sheap_span *s)
{
    SHEAP_ASSERT_LOCKED();
    unsigned fl, sl;
    mapping(s->npages, &fl, &sl);
    struct sheap_span **head = &h->free_lists[fl][sl];
    s->prev = NULL;
    s->next = *head;
    if (*head)
        (*head)->prev = s;
    *head = s;
    h->fl_bitmap |= (uint64_t)1 << fl;
    h->sl_bitmap[fl] |= 1u << sl;
}

SHEAP_HOT_INLINE void fl_remove(struct sheap_heap *h, struct sheap_span *s)
{
    SHEAP_ASSERT_LOCKED();
    unsigned fl, sl;
    mapping(s->npages, &fl, &sl);
    if (s->prev)
        s->prev->next = s->next;
    else
        h->free_lists[fl][sl] = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (h->free_lists[fl][sl] == NULL) {
        h->sl_bitmap[fl] &= ~(1u << sl);
        if (h->sl_bitmap[fl] == 0)
            h->fl_bitmap &= ~((uint64_t)1 << fl);
    }
}

/* A free run of at least n pages, or NULL.  O(1). */
SHEAP_HOT_INLINE struct sheap_span *fl_find(const struct sheap_heap *h, uintptr_t n)
{
    SHEAP_ASSERT_LOCKED();
    unsigned fl, sl;
    uintptr_t r = n;
    if (n >= SL_COUNT)
        r = n + ((uintptr_t)1 << (log2_floor(n) - SHEAP_SL_BITS)) - 1;
    mapping(r, &fl, &sl);
    if (fl < FL_COUNT) {
        uint32_t slmap = h->sl_bitmap[fl] & (~0u << sl);
        if (slmap == 0) {
            uint64_t flmap = fl + 1 < 64 ? h->fl_bitmap & (~(uint64_t)0 << (fl + 1)) : 0;
            if (flmap != 0) {
                fl = ctz64(flmap);
                slmap = h->sl_bitmap[fl];
            }
        }
        if (slmap != 0)
            return h->free_lists[fl][ctz_word(slmap)];
    }
    /* The rounded search skips n's own list; its head may still fit. */
    mapping(n, &fl, &sl);
    struct sheap_span *s = fl < FL_COUNT ? h->free_lists[fl][sl] : NULL;
    return s && s->npages >= n ? s : NULL;
}

/* FREE run `into` takes in the FREE run `next` that follows it (off the
 * free lists), whose record is retired. */
SHEAP_HOT_INLINE void run_absorb(struct sheap_heap *h, struct sheap_span *into, struct sheap_span *next)
{
    into->npages += next->npages;
    into->ready = ready_merge(into->ready, next->ready);
    span_dispose(h, next);
    h->c.spans[SPAN_FREE]--;
}

/* File FREE span s, merging it with free neighbours first.  Each merge
 * retires one record, so the count of free spans drops with it. */
SHEAP_HOT_INLINE void coalesce_insert_in(struct sheap_heap *h, struct sheap_span *s,
                                                                  struct sheap_arena *a)
{
    SHEAP_ASSERT_LOCKED();
    /* The neighbours' entries, from s's own arena a when they are in it
     * (one index lookup in all, the common case), else through the index. */
    uintptr_t first = arena_page_index(s->base);
    if (s->base >= PAGE) {
        struct sheap_span *p = first != 0 ? a->spans[first - 1] : span_of_heap(h, s->base - PAGE);
        if (p && p->state == SPAN_FREE) {
            fl_remove(h, p);
            run_absorb(h, p, s);
            s = p;
            a = arena_of(s->base);
            first = arena_page_index(s->base);
        }
    }
    uintptr_t end = SPAN_END(s);
    if (end != 0) {
        struct sheap_span *n =
            first + s->npages < SHEAP_ARENA_PAGES ? a->spans[first + s->npages] : span_of_heap(h, end);
        if (n && n->state == SPAN_FREE) {
            fl_remove(h, n);
            run_absorb(h, s, n);
        }
    }
    map_bounds_in(a, s);
    fl_insert(h, s);
    SHEAP_VALIDATE_SPAN(h, s);
}

static void coalesce_insert(struct sheap_heap *h, struct sheap_span *s) { coalesce_insert_in(h, s, arena_of(s->base)); }

/* ---- Growth ----------------------------------------------------------------- */

int ph_grow(struct sheap_heap *h, uintptr_t npages)
{
    SHEAP_ASSERT_LOCKED();
    SHEAP_ASSERT(h->span_pool_count >= 1);
    if (npages > ((uintptr_t)-1 >> SHEAP_PAGE_SHIFT) || h->span_pool_count == 0)
        return PH_GROW_FAILED;
    /* The new arenas are made in a growth section (reservation, mapping,
     * metadata, index tables: no list sees them) and enter the index and
     * the arena list under the lock, with their pages filed at once.  After
     * waiting for another context's section, the caller searches again
     * first: that section may have made the room this one would. */
    int owned = growth_try();
    if (owned != GROWTH_OWNED)
        return owned == GROWTH_WAITED ? PH_GROW_WAITED : PH_GROW_FAILED;
    struct arena_growth g;
    HEAP_DROP(mode_);
    int r = arena_grow_prepare(h, npages << SHEAP_PAGE_SHIFT, &g);
    HEAP_RETAKE(mode_);
    if (r == SHEAP_PORT_OK)
        arena_grow_commit(h, &g);
    growth_end();
    if (r != SHEAP_PORT_OK)
        return PH_GROW_FAILED;
    uintptr_t v = g.v, size = g.size;
    uintptr_t pages = size >> SHEAP_PAGE_SHIFT;
    observe_before_grow(h); /* minimum-ever-free (observe.c) */
    h->c.arena_pages += pages;
    h->c.free_pages += pages;
    h->c.spans[SPAN_FREE]++;
    h->c.grows++;
    coalesce_insert(h, span_new(h, v, pages));
    return PH_GROW_OK;
}

/* Cut BUSY run s (in no list) to npages pages at page-aligned address at
 * inside it: the pieces before and after become free runs, filed and
 * merged with free neighbours (some may have been freed while the lock was
 * broken; s, BUSY, merges with none).  s's boundary entries are written
 * first, so the pieces' lookups of their neighbours find s.  Needs two
 * records in the pool and the entries of [at - 1 page, at + npages pages]
 * Ready.  Returns the span that holds the run. */
static struct sheap_span *split_busy(struct sheap_heap *h, struct sheap_span *s, uintptr_t at, uintptr_t npages)
{
    SHEAP_ASSERT_LOCKED();
    struct sheap_span *front = NULL, *rest = NULL;
    if (at != s->base) {
        front = s;
        s = span_new(h, at, front->npages - ((at - front->base) >> SHEAP_PAGE_SHIFT));
        s->ready = front->ready;
        s->state = SPAN_BUSY;
        front->npages -= s->npages;
        front->state = SPAN_FREE;
        h->c.spans[SPAN_FREE]++;
    }
    if (s->npages != npages) {
        rest = span_new(h, at + (npages << SHEAP_PAGE_SHIFT), s->npages - npages);
        rest->ready = s->ready;
        s->npages = npages;
        h->c.spans[SPAN_FREE]++;
    }
    map_bounds(s);
    if (front != NULL)
        coalesce_insert(h, front);
    if (rest != NULL)
        coalesce_insert(h, rest);
    return s;
}

/* ---- Allocation and free of runs -------------------------------------------- */

/* Cut free run s (out of the lists, starting at page first of arena a) to
 * npages: the rest becomes a free run of the same Ready state, filed.
 * Needs a record in the pool. */
SHEAP_HOT_INLINE void split_tail(struct sheap_heap *h, struct sheap_span *s, struct sheap_arena *a, uintptr_t first,
                                 uintptr_t npages)
{
    struct sheap_span *rest = span_new(h, s->base + (npages << SHEAP_PAGE_SHIFT), s->npages - npages);
    rest->ready = s->ready;
    s->npages = npages;
    h->c.spans[SPAN_FREE]++;
    if (first + npages < SHEAP_ARENA_PAGES)
        map_bounds_in(a, rest);
    else
        map_bounds(rest);
    fl_insert(h, rest);
}


static inline struct sheap_span *take_run(struct sheap_heap *h, struct sheap_span *s, uintptr_t npages,
                                          uintptr_t align_pages, enum span_state state, bool *oom_backing);
static struct sheap_span *take_run_unmapped(struct sheap_heap *h, struct sheap_span *s, uintptr_t npages,
                                           uintptr_t align_pages, enum span_state state, bool *oom_backing);
static inline struct sheap_span *finish_run(struct sheap_heap *h, struct sheap_span *s, struct sheap_arena *a,
                                            uintptr_t first, uintptr_t npages, enum span_state state,
                                            bool *oom_backing);

SHEAP_HOT_INLINE void run_in_use(struct sheap_heap *h, struct sheap_span *s, struct sheap_arena *a, uintptr_t first,
                                 uintptr_t npages, enum span_state state, bool zeroed);

/* ph_alloc and ph_alloc_ready: ready_only refuses (NULL, nothing changed)
 * a run that would need backing or growth. */
static struct sheap_span *alloc_run(struct sheap_heap *h, uintptr_t npages, uintptr_t align_pages,
                                    enum span_state state, bool ready_only, bool *oom_backing)
{
    SHEAP_ASSERT_LOCKED();
    if (npages == 0 || npages + align_pages - 1 < npages)
        return NULL;
    /* Records for a front trim, a tail split and a growth run: reserving
     * them first means nothing below fails half way. */
    uintptr_t need = npages + align_pages - 1;
    struct sheap_span *s;
    /* Reserving and growing may drop the lock (growth sections), after
     * which the pool and the free lists are looked at again. */
    for (int tries = 0;; tries++) {
        if (h->span_pool_count < 3 && !span_pool_reserve(h, 3))
            return NULL;
        s = fl_find(h, need);
        if (ready_only) {
            if (s == NULL || ready_first(s, need) != need)
                return NULL;
            break;
        }
        if (s != NULL)
            break;
        if (tries == 2)
            return NULL;
        int g = ph_grow(h, need);
        if (g == PH_GROW_FAILED)
            return NULL;
        if (g == PH_GROW_WAITED)
            tries--; /* not a try of this caller's: look again */
    }
    return take_run(h, s, npages, align_pages, state, oom_backing);
}

struct sheap_span *ph_alloc(struct sheap_heap *h, uintptr_t npages, uintptr_t align_pages, enum span_state state,
                            bool *oom_backing)
{
    return alloc_run(h, npages, align_pages, state, false, oom_backing);
}

#if SHEAP_DIRECT_PATHS
/* ph_alloc_ready's other cases: a short pool or alignment (found NULL: the
 * general search), or run found (for npages, no alignment) READY_SOME or
 * with span-map entries not known Ready (taken as alloc_run takes it, with
 * no second search).  Out of line, so that the common case needs no
 * frame. */
__attribute__((noinline)) static struct sheap_span *alloc_ready_slow(struct sheap_heap *h, uintptr_t npages,
                                                                    uintptr_t align_pages, enum span_state state,
                                                                    struct sheap_span *found)
{
    bool oom_backing = false;
    if (found == NULL)
        return alloc_run(h, npages, align_pages, state, true, &oom_backing);
    if (ready_first(found, npages) != npages)
        return NULL;
    return take_run(h, found, npages, 1, state, &oom_backing);
}

/* The common case of ph_alloc_ready: no alignment, records in the pool, and
 * the run found all Ready, inside one arena a whose span-map entries for it
 * are Ready.  One search, at most one split, the run's map entries; no
 * calls. */
struct sheap_span *ph_alloc_ready(struct sheap_heap *h, uintptr_t npages, uintptr_t align_pages,
                                  enum span_state state)
{
    SHEAP_ASSERT_LOCKED();
    struct sheap_span *s;
    struct sheap_arena *a;
    if (__builtin_expect(align_pages != 1 || npages == 0 || h->span_pool_count < 3, 0))
        return alloc_ready_slow(h, npages, align_pages, state, NULL);
    s = fl_find(h, npages);
    if (s == NULL || s->ready == READY_NONE)
        return NULL;
    if (__builtin_expect(s->ready != READY_ALL || (a = arena_map_known_arena(h, s->base, npages)) == NULL, 0))
        return alloc_ready_slow(h, npages, 1, state, s);
    fl_remove(h, s);
    uintptr_t first = arena_page_index(s->base);
    if (s->npages != npages)
        split_tail(h, s, a, first, npages);
    h->free_ready_pages -= npages;
    run_in_use(h, s, a, first, npages, state, false);
    return s;
}
#else
struct sheap_span *ph_alloc_ready(struct sheap_heap *h, uintptr_t npages, uintptr_t align_pages,
                                  enum span_state state)
{
    bool oom_backing = false;
    return alloc_run(h, npages, align_pages, state, true, &oom_backing);
}
#endif

/* Take free run s (found for npages at align_pages) out of the lists, split
 * off what is not needed, back it and make it a span in state.  One caller
 * (alloc_run): inlined there. */
SHEAP_HOT_INLINE struct sheap_span *
take_run(struct sheap_heap *h, struct sheap_span *s, uintptr_t npages, uintptr_t align_pages, enum span_state state,
         bool *oom_backing)
{
    fl_remove(h, s);
    if (!arena_map_known_ready(h, align_pages > 1 ? round_up(s->base, align_pages << SHEAP_PAGE_SHIFT) : s->base,
                               npages))
        return take_run_unmapped(h, s, npages, align_pages, state, oom_backing);
    if (align_pages > 1) {
        uintptr_t aligned = round_up(s->base, align_pages << SHEAP_PAGE_SHIFT);
        uintptr_t lead = (aligned - s->base) >> SHEAP_PAGE_SHIFT;
        if (lead > 0) {
            struct sheap_span *front = s;
            s = span_new(h, aligned, front->npages - lead);
            s->ready = front->ready;
            front->npages = lead;
            h->c.spans[SPAN_FREE]++;
            map_bounds(front);
            fl_insert(h, front);
        }
    }
    /* The tail split, with s's arena looked up once for it and below. */
    struct sheap_arena *a = arena_of(s->base);
    uintptr_t first = arena_page_index(s->base);
    if (s->npages != npages)
        split_tail(h, s, a, first, npages);
    return finish_run(h, s, a, first, npages, state, oom_backing);
}

/* Take free run s, out of the lists, for npages at align_pages when the
 * span-map entries its split writes are not all Ready yet (lazy arena
 * records, see struct sheap_arena; once per record page of an arena's
 * life).  The run is kept whole as BUSY and the lock broken; the entries
 * are made Ready (perhaps a growth section) and the pool refilled (another
 * caller may have used it meanwhile); either failing files the run back.
 * Then split_busy files the pieces, merged with neighbours freed while the
 * lock was dropped.  Out of line: rare. */
__attribute__((noinline)) static struct sheap_span *take_run_unmapped(struct sheap_heap *h, struct sheap_span *s,
                                                                     uintptr_t npages, uintptr_t align_pages,
                                                                     enum span_state state, bool *oom_backing)
{
    s->state = SPAN_BUSY;
    sheap_shared.busy_spans++;
    lock_break();
    uintptr_t at = align_pages > 1 ? round_up(s->base, align_pages << SHEAP_PAGE_SHIFT) : s->base;
    int m = arena_map_prepare(h, at, npages);
    bool pool = (m == MAP_READY || m == MAP_MADE) && span_pool_reserve(h, 2);
    sheap_shared.busy_spans--;
    if (!pool) {
        s->state = SPAN_FREE;
        coalesce_insert(h, s);
        *oom_backing = m == MAP_NOMEM;
        return NULL;
    }
    s = split_busy(h, s, at, npages);
    s->state = SPAN_FREE; /* in no list, lock held: finish_run makes it BUSY if it backs pages */
    struct sheap_arena *a = arena_of(s->base);
    return finish_run(h, s, a, arena_page_index(s->base), npages, state, oom_backing);
}

/* Run s (npages Ready pages from page first of arena a, out of the lists,
 * its pieces split off and filed) becomes a span in state: the last step
 * of finish_run and of ph_alloc_ready.  zeroed: every page came zero from
 * the backend. */
SHEAP_HOT_INLINE void run_in_use(struct sheap_heap *h, struct sheap_span *s, struct sheap_arena *a, uintptr_t first,
                                 uintptr_t npages, enum span_state state, bool zeroed)
{
    s->state = (uint8_t)state;
    s->obj_bytes = state == SPAN_LARGE ? npages << SHEAP_PAGE_SHIFT : 0; /* SMALL: set by the caller */
    s->needzero = !zeroed;
    /* O(1) in the run's length: a LARGE run maps its boundaries only; a
     * SMALL span (a few pages) maps every page, since blocks start there. */
    if (state == SPAN_LARGE) {
        /* The free fast path's slot test fails for a LARGE span without a
         * state test (sheap_internal.h, struct sheap_span): offset 0 maps
         * to slot 0, whose bit says "free". */
        s->divmul = 0;
        SMP_STORE(s->freebits[0], (uintptr_t)1);
        map_bounds_in(a, s);
    } else if (first + npages <= SHEAP_ARENA_PAGES)
        for (uintptr_t i = 0; i < npages; i++)
            a->spans[first + i] = s;
    else
        ph_each_piece(s->base, npages, piece_map, s);
    bit_set(a->starts, first); /* its start bit: one, whatever its length */
    h->c.spans[SPAN_FREE]--;
    h->c.spans[state]++;
    h->c.free_pages -= npages;
    if (state == SPAN_LARGE) /* a SMALL span is validated once its caller set it up */
        SHEAP_VALIDATE_SPAN(h, s);
}

/* Back run s (out of the lists, its pieces split off; first is its page in
 * arena a) and make it a span in state: take_run's second half.
 * Invariant: pages being backed are in no free list (BUSY).  A run that is
 * all Ready (steady state) needs no lock break: the whole call is one
 * short stretch; backing drops the lock anyway. */
SHEAP_HOT_INLINE struct sheap_span *
finish_run(struct sheap_heap *h, struct sheap_span *s, struct sheap_arena *a, uintptr_t first, uintptr_t npages,
           enum span_state state, bool *oom_backing)
{
    bool zeroed = false;
    int r = SHEAP_PORT_OK;
    if (s->ready == READY_ALL) {
        h->free_ready_pages -= npages;
    } else {
        /* The lock drops below: s's first and last span-map entries must
         * name s before it does.  After a split they are stale (interior
         * entries of the old run), and a context that frees a neighbour
         * while the lock is dropped would find and merge into whatever
         * record they still name (coalesce_insert_in). */
        map_bounds_in(a, s);
        s->state = SPAN_BUSY;
        sheap_shared.busy_spans++;
        if (s->ready == READY_SOME)
            lock_break(); /* back_span may count bits: the search and splits in one stretch, that in the next */
        r = back_span(h, s, &zeroed);
        sheap_shared.busy_spans--;
    }
    if (r != SHEAP_PORT_OK) {
        s->state = SPAN_FREE;
        coalesce_insert(h, s); /* merges back with the pieces split off above */
        *oom_backing = r != BACK_NOGROW;
        return NULL;
    }
    run_in_use(h, s, a, first, npages, state, zeroed);
    return s;
}

static void piece_ready_clear(struct sheap_arena *a, uintptr_t first, uintptr_t n, void *ctx)
{
    (void)ctx;
    bits_clear_range(a->ready, first, n);
}

/* Release Ready pages of a just-freed run beyond the retention limit. */
static void retain_or_release(struct sheap_heap *h, struct sheap_span *s)
{
    SHEAP_ASSERT_LOCKED();
    if (SHEAP_RETAIN_BYTES == (uintptr_t)-1 || h->free_ready_pages <= (SHEAP_RETAIN_BYTES >> SHEAP_PAGE_SHIFT))
        return;
    /* The backend is used by one caller at a time (the growth owner); a
     * handler, or a free during a growth section, keeps the pages Ready
     * (sheap_trim gives them back).  Note: this release runs with the lock
     * held, so a board that sets SHEAP_RETAIN_BYTES pays the backend's
     * unused() in its masked time (no board here sets it). */
    if (sheap_shared.growing || ISR_DEPTH != 0 || sheap_port_in_handler())
        return;
    /* Every page of s is Ready: it was in use until now. */
    be_unused(h, s->base, s->npages << SHEAP_PAGE_SHIFT);
    ph_each_piece(s->base, s->npages, piece_ready_clear, NULL);
    s->ready = READY_NONE;
    h->free_ready_pages -= s->npages;
    h->c.ready_pages -= s->npages;
}

/* In-use span s (or its tail) becomes a free run; ready is its pages'
 * summary (READY_ALL: every page of a span in use is Ready, unless the
 * caller knows better: a guarded block's guard page). */
SHEAP_HOT_INLINE void release_run_in(struct sheap_heap *h, struct sheap_span *s, uint8_t ready,
                                     struct sheap_arena *a)
{
    SHEAP_ASSERT_LOCKED();
    bit_clear(a->starts, arena_page_index(s->base)); /* its start bit */
    s->state = SPAN_FREE;
    s->ready = ready;
    s->obj_bytes = 0;
    s->class_list = CLASS_LIST_NONE;
    h->c.spans[SPAN_FREE]++;
    h->c.free_pages += s->npages;
    h->free_ready_pages += s->npages;
    retain_or_release(h, s);
    coalesce_insert_in(h, s, a);
}

SHEAP_HOT_INLINE void release_run(struct sheap_heap *h, struct sheap_span *s, uint8_t ready)
{
    release_run_in(h, s, ready, arena_of_cached(s->base));
}

void ph_free(struct sheap_heap *h, struct sheap_span *s)
{
    SHEAP_ASSERT_LOCKED();
    h->c.spans[s->state]--;
    release_run(h, s, READY_ALL);
}

void ph_free_in(struct sheap_heap *h, struct sheap_span *s, struct sheap_arena *a)
{
    SHEAP_ASSERT_LOCKED();
    SHEAP_ASSERT(a == arena_of(s->base));
    h->c.spans[s->state]--;
    release_run_in(h, s, READY_ALL, a);
}

void ph_free_some_ready(struct sheap_heap *h, struct sheap_span *s)
{
    SHEAP_ASSERT_LOCKED();
    h->c.spans[s->state]--;
    release_run(h, s, READY_SOME);
}

void ph_shrink(struct sheap_heap *h, struct sheap_span *s, uintptr_t npages)
{
    SHEAP_ASSERT_LOCKED();
    if (npages >= s->npages || !span_pool_reserve(h, 1))
        return;
    struct sheap_span *tail = span_new(h, s->base + (npages << SHEAP_PAGE_SHIFT), s->npages - npages);
    s->npages = npages;
    s->obj_bytes = npages << SHEAP_PAGE_SHIFT;
    map_bounds(s);
    release_run(h, tail, READY_ALL); /* its start bit was never set: clearing it is harmless */
}

bool ph_grow_in_place(struct sheap_heap *h, struct sheap_span *s, uintptr_t npages)
{
    SHEAP_ASSERT_LOCKED();
    uintptr_t end = SPAN_END(s);
    if (npages <= s->npages || end == 0)
        return false;
    uintptr_t extra = npages - s->npages;
    struct sheap_span *n;
    for (;;) {
        n = span_of_heap(h, end);
        if (n == NULL || n->state != SPAN_FREE || n->npages < extra || n->base != end ||
            (n->npages > extra && h->span_pool_count == 0))
            return false;
        /* Lazy arena records: the entries written below must be Ready. */
        int m = arena_map_prepare(h, end, extra);
        if (m == MAP_READY)
            break;
        if (m != MAP_MADE)
            return false;
    }
    /* The pages taken become a BUSY span (the rest stays a free run) while
     * they are backed, perhaps with the lock dropped. */
    fl_remove(h, n);
    if (n->npages > extra) {
        struct sheap_span *rest = span_new(h, end + (extra << SHEAP_PAGE_SHIFT), n->npages - extra);
        rest->ready = n->ready;
        n->npages = extra;
        h->c.spans[SPAN_FREE]++;
        map_bounds(rest);
        fl_insert(h, rest);
        map_bounds(n);
    }
    n->state = SPAN_BUSY;
    bool zeroed;
    sheap_shared.busy_spans++;
    int backed = back_span(h, n, &zeroed);
    sheap_shared.busy_spans--;
    if (backed != SHEAP_PORT_OK) {
        n->state = SPAN_FREE;
        coalesce_insert(h, n);
        return false;
    }
    span_dispose(h, n);
    h->c.spans[SPAN_FREE]--;
    s->npages = npages;
    map_bounds(s);
    s->obj_bytes = npages << SHEAP_PAGE_SHIFT;
    s->needzero = 1;
    h->c.free_pages -= extra;
    return true;
}

/* ---- Walking and trimming ----------------------------------------------------- */

/*
 * Visit every span once, in address order within each group of contiguous
 * arenas; groups in the creation order of their lowest arena.  Only the
 * first-page entries of the span map are trusted, so this works for free
 * runs that cross arena boundaries.  Returns fn's non-zero value, or
 * SHEAP_CHECK_SPAN_MAP when the chain of spans is broken (corruption).
 */
int ph_each_span(struct sheap_heap *h, span_visit_fn fn, void *ctx)
{
    SHEAP_ASSERT_LOCKED();
    for (struct sheap_arena *a = h->arenas; a; a = a->next) {
        if (a->base >= SHEAP_ARENA_SIZE && arena_of_heap(h, a->base - 1) != NULL)
            continue; /* walked from the start of its group */
        uintptr_t addr = a->base;
        do {
            struct sheap_span *s = span_of(addr);
            if (s == NULL || s->base != addr || s->npages == 0 || SPAN_END(s) <= addr)
                return SHEAP_CHECK_SPAN_MAP;
            int r = fn(s, ctx);
            if (r != 0)
                return r;
            addr = SPAN_END(s);
        } while (addr != 0 && arena_of_heap(h, addr) != NULL);
    }
    return 0;
}

struct trim {
    struct sheap_heap *h;
    uintptr_t released;
};

/* In a growth section, lock not held: give each Ready stretch of a BUSY
 * span's pages back, then clear its bits under the lock (see piece_back). */
static void piece_trim(struct sheap_arena *a, uintptr_t first, uintptr_t n, void *ctx)
{
    struct trim *t = ctx;
    uintptr_t end = first + n;
    for (uintptr_t i = bits_next(a->ready, first, end, true); i < end; i = bits_next(a->ready, i, end, true)) {
        uintptr_t j = bits_next(a->ready, i, end, false);
        be_unused(t->h, a->base + (i << SHEAP_PAGE_SHIFT), (j - i) << SHEAP_PAGE_SHIFT);
        heap_lock();
        ready_bits_stepped(a, i, j - i, false);
        t->h->free_ready_pages -= j - i;
        t->h->c.ready_pages -= j - i;
        heap_unlock();
        t->released += j - i;
        i = j;
    }
}

/*
 * Give the Ready pages of every free run back, in bounded steps: a growth
 * section takes the free runs out of the lists one at a time (O(1) each:
 * the head of the first non-empty list), as BUSY spans, releases their
 * pages with the lock dropped, and keeps them aside; then files them again
 * one at a time.  Meanwhile the free lists hold fewer runs: an allocation
 * that interrupts a trim finds less memory (at worst a clean NULL), never a
 * half-released run.  Returns 0 when this caller may not grow.  Lock held
 * on entry and exit.
 */
uintptr_t ph_trim(struct sheap_heap *h)
{
    SHEAP_ASSERT_LOCKED();
    if (h->free_ready_pages == 0 || !growth_begin())
        return 0;
    struct trim t = {h, 0};
    struct sheap_span *done = NULL;
    while (h->fl_bitmap != 0) {
        unsigned fl = ctz64(h->fl_bitmap);
        struct sheap_span *s = h->free_lists[fl][ctz_word(h->sl_bitmap[fl])];
        fl_remove(h, s);
        s->state = SPAN_BUSY;
        sheap_shared.busy_spans++;
        HEAP_DROP(mode_);
        ph_each_piece(s->base, s->npages, piece_trim, &t);
        HEAP_RETAKE(mode_);
        s->ready = READY_NONE;
        s->next = done;
        done = s;
    }
    while (done != NULL) {
        struct sheap_span *s = done;
        done = s->next;
        s->state = SPAN_FREE;
        sheap_shared.busy_spans--;
        coalesce_insert(h, s);
        if (done != NULL)
            lock_break();
    }
    growth_end();
    return t.released << SHEAP_PAGE_SHIFT;
}
