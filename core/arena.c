/*
 * arena.c - the arena layer, after the Go runtime's sparse heap arenas.
 *
 * What lives here:
 *   - the arena index: arena frame number -> struct sheap_arena (O(1));
 *   - the metadata allocator: off-heap memory for arena metadata, L2 index
 *     tables and span records, handed out by linear allocators over
 *     reserved address space that is made Ready only as it is handed out;
 *   - arena hints: where the heap tries to grow next;
 *   - aligned reservations (over-reserve and trim);
 *   - arena_grow: the one function that adds address space to the heap;
 *   - 32-bit mode: arena metadata for the whole heap region and a large
 *     initial reservation, both made up front;
 *   - heap creation and destruction (heap_init, heap_release_all).
 *
 * Every heap has its own metadata, hints and reservations, all from its
 * backend; the index is shared (struct sheap_shared), and its L2 tables
 * come from the port's default backend.
 *
 * Functions expect the heap lock held or a growth section owned (see
 * sheap_internal.h): growth (arena_grow_prepare and everything it calls,
 * meta_alloc) runs without the lock, and the heap's metadata allocators,
 * hints and reservations are touched by growth sections only.
 */
#include "sheap_internal.h"

struct sheap_shared sheap_shared;
struct sheap_heap sheap_heap;

/* ---- Linear allocator ------------------------------------------------------ */

void linear_init(struct linear_alloc *l, uintptr_t base, uintptr_t size)
{
    l->next = base;
    l->ready = base;
    l->prepared = base;
    l->end = base + size;
}

/* Whether size bytes aligned to align fit in what is left of l. */
static bool linear_fits(const struct linear_alloc *l, uintptr_t size, uintptr_t align)
{
    uintptr_t p = round_up(l->next, align);
    return l->end != 0 && p >= l->next && p + size >= p && p + size <= l->end;
}

/* Hand out size bytes aligned to align, backed through b.  When ready is
 * false the pages are only mapped (Prepared); used for heap address space.
 * *grown receives the bytes that became Ready.  Returns 0, changing
 * nothing, on failure. */
static uintptr_t linear_take(const struct sheap_backend *b, struct linear_alloc *l, uintptr_t size, uintptr_t align,
                             bool ready, uintptr_t *grown)
{
    SHEAP_ASSERT_GROWTH();
    *grown = 0;
    /* Metadata takes at most page alignment: a bigger one would make padding
     * pages Ready.  (Heap address space is handed out in whole arenas.) */
    if (l->end == 0 || (ready && align > SHEAP_PAGE_SIZE))
        return 0;
    uintptr_t p = round_up(l->next, align);
    if (p < l->next || p + size < p || p + size > l->end)
        return 0;
    uintptr_t need = round_up(p + size, SHEAP_PAGE_SIZE);
    if (need > l->prepared) {
        if (b->ops->map(b->ctx, l->prepared, need - l->prepared) != SHEAP_PORT_OK)
            return 0;
        l->prepared = need;
    }
    if (ready && need > l->ready) {
        uintptr_t n = need - l->ready;
        bool zeroed = false;
        if (b->ops->used(b->ctx, l->ready, n, &zeroed) != SHEAP_PORT_OK)
            return 0; /* [ready, prepared) stays Prepared for the next try */
        if (!zeroed)
            mem_zero((void *)l->ready, n);
        *grown = n;
        l->ready = need;
    }
    l->next = p + size;
    return p;
}

uintptr_t linear_alloc(const struct sheap_backend *b, struct linear_alloc *l, uintptr_t size, uintptr_t align,
                       uintptr_t *ready_grown)
{
    return linear_take(b, l, size, align, true, ready_grown);
}

/* ---- Metadata allocator ---------------------------------------------------- */

/* Whether any arena frame that [v, v + n) touches is in the index already:
 * another heap's memory, handed out by a backend that overlaps another
 * heap's.  The core never writes metadata or blocks there. */
static bool index_any(uintptr_t v, uintptr_t n)
{
    SHEAP_ASSERT_GROWTH();
    uintptr_t first = v >> SHEAP_ARENA_SHIFT, last = (v + (n - 1)) >> SHEAP_ARENA_SHIFT;
    if (v + (n - 1) < v)
        return true; /* wraps: refuse */
    for (uintptr_t f = first; f <= last && f >= first; f++)
        if (arena_of(f << SHEAP_ARENA_SHIFT) != NULL)
            return true;
    return false;
}

/*
 * Guard pages: every reservation that holds metadata (metadata
 * chunks of every heap and of the shared index, the 32-bit up-front arena
 * records) is reserved with one heap page more on each side, and those two
 * pages are never handed out, so they stay Reserved (never Ready) for the
 * life of the reservation, whatever the backend.  Arenas are only ever
 * reserved outside metadata reservations, so whatever order growth happens
 * in, at least META_GUARD bytes that are not Ready lie between any
 * metadata byte and any user block, in both directions: an overflow or
 * underflow of up to one page from the block nearest to the metadata
 * faults there (MMU and hosted backends) or lands in a page that holds
 * nothing (static backends, whose metadata pool is plain RAM).  The heaps'
 * records and the index's first level (struct sheap_shared) are outside
 * every reservation.
 */
#define META_GUARD SHEAP_PAGE_SIZE

/* The guard on each side of b's metadata reservations: none where the
 * backend keeps metadata apart by itself (sheap_backend.meta_apart). */
static inline uintptr_t meta_guard(const struct sheap_backend *b)
{
    return b->meta_apart ? 0 : META_GUARD;
}

/* Reserve size bytes of metadata address space from b between two guard
 * pages (meta_guard), outside every heap's arenas.  On success *res is the
 * reservation (guards included, size + 2 * meta_guard(b) bytes) and the
 * usable bytes are [*res + meta_guard(b), *res + meta_guard(b) + size). */
static bool meta_reserve(const struct sheap_backend *b, uintptr_t size, uintptr_t *res)
{
    SHEAP_ASSERT_GROWTH();
    uintptr_t n = size + 2 * meta_guard(b);
    if (n < size || b->ops->reserve(b->ctx, 0, n, res) != SHEAP_PORT_OK)
        return false;
    if (index_any(*res, n)) {
        b->ops->release(b->ctx, *res, n); /* another heap's memory */
        return false;
    }
    return true;
}

/*
 * From chunk allocator *l over backend b: size bytes aligned to align, or
 * NULL with nothing changed.  When the chunk is exhausted (or there is none
 * yet) a new one of at least SHEAP_META_CHUNK is reserved between guard
 * pages (meta_reserve); the old chunk's tail stays Reserved (address space
 * only).  *chunk_new receives the new reservation's size, guards included
 * (0 when none was made), and *grown the bytes made Ready.  When chunks is
 * not NULL each new chunk records itself (its whole reservation) in its
 * first bytes and is pushed on *chunks.
 */
static void *chunk_alloc(const struct sheap_backend *b, struct linear_alloc *l, struct meta_chunk **chunks,
                         uintptr_t size, uintptr_t align, uintptr_t *chunk_new, uintptr_t *grown)
{
    SHEAP_ASSERT_GROWTH();
    uintptr_t p;
    *chunk_new = 0;
    if (linear_fits(l, size, align)) {
        /* A backend failure here leaves the chunk as it was, for the next try. */
        p = linear_alloc(b, l, size, align, grown);
        return (void *)p;
    }
    uintptr_t chunk = SHEAP_META_CHUNK;
    uintptr_t want = round_up(size + align + sizeof(struct meta_chunk), SHEAP_PAGE_SIZE);
    if (want < size)
        return NULL;
    if (chunk < want)
        chunk = want;
    uintptr_t res;
    if (!meta_reserve(b, chunk, &res))
        return NULL;
    uintptr_t base = res + meta_guard(b), res_size = chunk + 2 * meta_guard(b);
    struct linear_alloc nl;
    linear_init(&nl, base, chunk); /* the guards lie outside [base, base + chunk) */
    struct meta_chunk *rec = NULL;
    uintptr_t g0 = 0;
    if (chunks != NULL) {
        rec = (struct meta_chunk *)linear_alloc(b, &nl, sizeof(*rec), sizeof(void *), &g0);
        if (rec == NULL) {
            b->ops->release(b->ctx, res, res_size);
            return NULL;
        }
    }
    p = linear_alloc(b, &nl, size, align, grown);
    if (p == 0) {
        b->ops->release(b->ctx, res, res_size);
        return NULL;
    }
    *grown += g0;
    if (rec != NULL) {
        rec->base = res;
        rec->size = res_size;
        rec->next = *chunks;
        *chunks = rec;
    }
    *l = nl;
    *chunk_new = res_size;
    return (void *)p;
}

void *meta_alloc(struct sheap_heap *h, uintptr_t size, uintptr_t align)
{
    SHEAP_ASSERT_GROWTH();
    uintptr_t grown, chunk;
    void *p = chunk_alloc(&h->backend, &h->meta, &h->chunks, size, align, &chunk, &grown);
    if (p != NULL) {
        h->c.reserved_bytes += chunk;
        h->c.meta_bytes += grown;
    }
    return p;
}

/* ---- Arena index (shared by every heap) ------------------------------------------ */

uintptr_t index_static_bytes(void)
{
#if INDEX_LEVELS == 1
    return sizeof(sheap_shared.index);
#else
    return sizeof(sheap_shared.index_l1);
#endif
}

uintptr_t index_bytes(void)
{
#if INDEX_LEVELS == 1
    return sizeof(sheap_shared.index);
#else
    return sizeof(sheap_shared.index_l1) + sheap_shared.index_l2_count * sizeof(struct index_l2);
#endif
}

#if INDEX_LEVELS == 2
/* An L2 table, zeroed, from the index's own metadata (the port's default
 * backend: the index outlives every heap), or NULL. */
static struct index_l2 *index_l2_alloc(void)
{
    SHEAP_ASSERT_GROWTH();
    uintptr_t grown, chunk;
    struct index_l2 *l2 = chunk_alloc(sheap_port_default_backend(), &sheap_shared.index_meta, NULL,
                                      sizeof(struct index_l2), sizeof(void *), &chunk, &grown);
    if (l2 != NULL) {
        sheap_shared.index_reserved += chunk;
        sheap_shared.index_ready += grown;
        sheap_shared.index_l2_count++;
    }
    return l2;
}
#endif

int index_set(uintptr_t addr, struct sheap_arena *a)
{
    SHEAP_ASSERT_LOCKED();
    sheap_shared.last_arena = NULL; /* the cache may name the entry being replaced */
#if SHEAP_SMP
    /* And the CPUs' caches (free fast paths): only a removal can make
     * them wrong (a new entry fills a frame no cache names), and removals
     * run with every lock held (sheap_heap_destroy). */
    if (a == NULL)
        for (unsigned i = 0; i < SHEAP_MAX_CPUS; i++)
            sheap_cpu_locks[i].last_arena = NULL;
#endif
#if INDEX_LEVELS == 1
    uintptr_t frame = (addr - INDEX_BASE) >> SHEAP_ARENA_SHIFT;
    if (frame >= INDEX_FRAMES)
        return SHEAP_PORT_ENOMEM;
    sheap_shared.index[frame] = a;
    return SHEAP_PORT_OK;
#else
    if (addr >> SHEAP_VA_BITS)
        return SHEAP_PORT_ENOMEM;
    uintptr_t frame = addr >> SHEAP_ARENA_SHIFT;
    struct index_l2 **slot = &sheap_shared.index_l1[frame >> INDEX_L2_BITS];
    if (*slot == NULL) {
        if (a == NULL)
            return SHEAP_PORT_OK;
        struct index_l2 *l2 = index_l2_alloc();
        if (l2 == NULL)
            return SHEAP_PORT_ENOMEM;
        *slot = l2;
    }
    (*slot)->arena[frame & (INDEX_L2_ENTRIES - 1)] = a;
    return SHEAP_PORT_OK;
#endif
}

/* Make the L2 tables that arenas [v, v+size) need; false (the tables made
 * so far stay: empty tables are harmless) when metadata runs out. */
static bool index_prepare(uintptr_t v, uintptr_t size)
{
    SHEAP_ASSERT_GROWTH();
#if INDEX_LEVELS == 1
    (void)v;
    (void)size;
    return true;
#else
    uintptr_t first = (v >> SHEAP_ARENA_SHIFT) >> INDEX_L2_BITS;
    uintptr_t last = ((v + size - 1) >> SHEAP_ARENA_SHIFT) >> INDEX_L2_BITS;
    for (uintptr_t i = first; i <= last; i++) {
        if (sheap_shared.index_l1[i] == NULL) {
            struct index_l2 *l2 = index_l2_alloc();
            if (l2 == NULL)
                return false;
            /* Lock-free readers (arena_of) see NULL or the zeroed table. */
            __atomic_store_n(&sheap_shared.index_l1[i], l2, __ATOMIC_RELEASE);
        }
    }
    return true;
#endif
}


/* ---- Hints -------------------------------------------------------------- */

static void hint_push(struct sheap_heap *h, uintptr_t addr, bool down)
{
    SHEAP_ASSERT_GROWTH();
    if (h->nhints == SHEAP_MAX_HINTS) {
        /* Full: forget the least preferred hint (the bottom of the stack). */
        for (unsigned i = 1; i < h->nhints; i++)
            h->hints[i - 1] = h->hints[i];
        h->nhints--;
    }
    h->hints[h->nhints].addr = addr;
    h->hints[h->nhints].down = down;
    h->nhints++;
}

/* ---- Aligned reservation ----------------------------------------------------- */

int reserve_aligned(struct sheap_heap *h, uintptr_t hint, uintptr_t n, uintptr_t align, uintptr_t *out)
{
    SHEAP_ASSERT_GROWTH();
    uintptr_t p;
    int r;
    if (hint != 0) {
        if (hint & (align - 1))
            return SHEAP_PORT_EBUSY;
        return be_reserve(h, hint, n, out);
    }
    /* A backend may hand out aligned ranges by itself (the static one does):
     * try the exact size first and keep it when it happens to be aligned. */
    r = be_reserve(h, 0, n, &p);
    if (r != SHEAP_PORT_OK)
        return r;
    if ((p & (align - 1)) == 0) {
        *out = p;
        return SHEAP_PORT_OK;
    }
    be_release(h, p, n);
    /* Over-reserve by the alignment and trim both ends. */
    if (n + align < n)
        return SHEAP_PORT_ENOMEM;
    r = be_reserve(h, 0, n + align, &p);
    if (r != SHEAP_PORT_OK)
        return r;
    uintptr_t aligned = round_up(p, align);
    if (aligned > p)
        be_release(h, p, aligned - p);
    uintptr_t tail = (p + n + align) - (aligned + n);
    if (tail)
        be_release(h, aligned + n, tail);
    *out = aligned;
    return SHEAP_PORT_OK;
}

/* ---- Lazy arena records (SHEAP_LAZY_ARENA_META) ----------------------------------- */

#if SHEAP_LAZY_ARENA_META
#define REC_BYTES ((uintptr_t)ARENA_REC_PAGES << SHEAP_PAGE_SHIFT)
/* Ready from the start: the head through spans[0], and the last entry's page
 * (the boundaries of the free run a new arena is filed as). */
#define REC_INITIAL (rec_pages(0, ARENA_REC_PAGE(0)) | rec_pages(ARENA_REC_PAGE(SHEAP_ARENA_PAGES - 1), \
                                                                 ARENA_REC_PAGE(SHEAP_ARENA_PAGES - 1)))

uintptr_t arena_meta_ready_bytes(const struct sheap_arena *a)
{
    return (uintptr_t)popcount_word(a->map_ready) << SHEAP_PAGE_SHIFT;
}

/* Growth section: make the pages of the record at rec in want Ready and
 * zeroed, one backend call per stretch.  Returns the pages made Ready (the
 * caller publishes them in map_ready); *err receives a backend failure
 * (what was made Ready before it stays Ready and counted). */
static uintptr_t rec_back(struct sheap_heap *h, uintptr_t rec, uintptr_t want, int *err)
{
    SHEAP_ASSERT_GROWTH();
    uintptr_t done = 0;
    while (want != 0) {
        unsigned p0 = ctz_word(want), p1 = p0;
        while (p1 + 1 < WORD_BITS && ((want >> (p1 + 1)) & 1u))
            p1++;
        uintptr_t v = rec + ((uintptr_t)p0 << SHEAP_PAGE_SHIFT), n = (uintptr_t)(p1 - p0 + 1) << SHEAP_PAGE_SHIFT;
        bool zeroed = false;
        int r = be_used(h, v, n, &zeroed);
        if (r != SHEAP_PORT_OK) {
            *err = r;
            break;
        }
        if (!zeroed)
            mem_zero((void *)v, n);
        uintptr_t m = rec_pages(p0, p1);
        done |= m;
        want &= ~m;
    }
    h->c.meta_bytes += (uintptr_t)popcount_word(done) << SHEAP_PAGE_SHIFT;
    return done;
}

/* Give a record's reservation (guards included) back. */
static void rec_release(struct sheap_heap *h, struct sheap_arena *a)
{
    uintptr_t g = meta_guard(&h->backend);
    h->c.reserved_bytes -= REC_BYTES + 2 * g;
    h->c.meta_bytes -= arena_meta_ready_bytes(a);
    be_release(h, (uintptr_t)a - g, REC_BYTES + 2 * g);
}

/* Growth section: records for k new arenas, each in a reservation of its
 * own between guard pages, chained through next, with the REC_INITIAL
 * pages Ready (map_ready says so).  NULL, with nothing kept, on failure. */
static struct sheap_arena *rec_alloc(struct sheap_heap *h, uintptr_t k)
{
    SHEAP_ASSERT_GROWTH();
    struct sheap_arena *head = NULL;
    uintptr_t g = meta_guard(&h->backend);
    for (uintptr_t i = 0; i < k; i++) {
        uintptr_t res;
        int err = SHEAP_PORT_OK;
        if (meta_reserve(&h->backend, REC_BYTES, &res)) {
            if (be_map(h, res + g, REC_BYTES) != SHEAP_PORT_OK) {
                err = SHEAP_PORT_ENOMEM;
            } else {
                h->c.reserved_bytes += REC_BYTES + 2 * g;
                uintptr_t done = rec_back(h, res + g, REC_INITIAL, &err);
                struct sheap_arena *a = (struct sheap_arena *)(res + g);
                if (err == SHEAP_PORT_OK) {
                    a->map_ready = done;
                    a->next = head;
                    head = a;
                    continue;
                }
                h->c.meta_bytes -= (uintptr_t)popcount_word(done) << SHEAP_PAGE_SHIFT;
                h->c.reserved_bytes -= REC_BYTES + 2 * g;
            }
            be_release(h, res, REC_BYTES + 2 * g);
        }
        while (head != NULL) {
            struct sheap_arena *next = head->next;
            rec_release(h, head);
            head = next;
        }
        return NULL;
    }
    return head;
}

/* Walk the arenas of h over pages [v, v + n pages): with back false, count
 * the arenas whose record lacks Ready pages that the entries need (lock
 * held); with back true (growth section, lock not held) make them Ready,
 * publishing each record's new pages under the lock.  Returns the count
 * (back false) or SHEAP_PORT_* (back true). */
static uintptr_t map_walk(struct sheap_heap *h, uintptr_t v, uintptr_t n, bool back)
{
    uintptr_t missing = 0;
    int err = SHEAP_PORT_OK;
    while (n > 0 && err == SHEAP_PORT_OK) {
        struct sheap_arena *a = arena_of(v);
        uintptr_t first = arena_page_index(v);
        uintptr_t k = SHEAP_ARENA_PAGES - first < n ? SHEAP_ARENA_PAGES - first : n;
        if (a != NULL && a->heap == h) {
            uintptr_t want = rec_pages(ARENA_REC_PAGE(first), ARENA_REC_PAGE(first + k - 1)) & ~a->map_ready;
            if (want != 0 && back) {
                uintptr_t done = rec_back(h, (uintptr_t)a, want, &err);
                heap_lock();
                /* SMP: frees read map_ready without the lock (arena_span). */
                SMP_STORE(a->map_ready, a->map_ready | done);
                heap_unlock();
            }
            missing += want != 0; /* pieces with pages missing (no popcount: a libgcc call on some targets) */
        }
        v += k << SHEAP_PAGE_SHIFT;
        n -= k;
        if (v == 0)
            break; /* the top of the address space */
    }
    return back ? (uintptr_t)err : missing;
}

/* The run [v, v + n pages) and the page on either side. */
static inline void map_range(uintptr_t *v, uintptr_t *n)
{
    if (*v >= SHEAP_PAGE_SIZE) {
        *v -= SHEAP_PAGE_SIZE;
        *n += 1;
    }
    *n += 1;
}

bool arena_map_ready(const struct sheap_heap *h, uintptr_t v, uintptr_t n)
{
    SHEAP_ASSERT_LOCKED();
    map_range(&v, &n);
    return map_walk((struct sheap_heap *)(uintptr_t)h, v, n, false) == 0;
}

int arena_map_prepare_slow(struct sheap_heap *h, uintptr_t v, uintptr_t n)
{
    SHEAP_ASSERT_LOCKED();
    map_range(&v, &n);
    if (map_walk(h, v, n, false) == 0)
        return MAP_READY;
    if (!growth_begin())
        return MAP_REFUSED;
    HEAP_DROP(mode_);
    int err = (int)map_walk(h, v, n, true);
    HEAP_RETAKE(mode_);
    growth_end();
    return err == SHEAP_PORT_OK ? MAP_MADE : MAP_NOMEM;
}
#else
uintptr_t arena_meta_ready_bytes(const struct sheap_arena *a)
{
    (void)a;
    return sizeof(struct sheap_arena);
}
#endif

/* ---- Creation and destruction ------------------------------------------------ */

/* Link h into shared.heaps: after every heap of lower or equal order. */
static void heap_link(struct sheap_heap *h)
{
    SHEAP_ASSERT_GROWTH();
    struct sheap_heap **pp = &sheap_shared.heaps;
    while (*pp != NULL && (*pp)->order <= h->order)
        pp = &(*pp)->next_heap;
    h->next_heap = *pp;
    *pp = h;
}

static void heap_unlink(struct sheap_heap *h)
{
    SHEAP_ASSERT_GROWTH();
    for (struct sheap_heap **pp = &sheap_shared.heaps; *pp != NULL; pp = &(*pp)->next_heap) {
        if (*pp == h) {
            *pp = h->next_heap;
            return;
        }
    }
}

#if SHEAP_32BIT_MODE
/* Metadata for every arena frame of region_size bytes, reserved up front so
 * it is never interleaved with the heap (it is made Ready per arena); then
 * a large initial reservation, which keeps the heap contiguous (smaller
 * sizes are tried until one fits; none fitting is not an error). */
static int heap_init_32(struct sheap_heap *h, uintptr_t region_size, uintptr_t initial)
{
    SHEAP_ASSERT_GROWTH();
    uintptr_t frames = region_size >> SHEAP_ARENA_SHIFT;
    if (region_size == 0)
        frames = (uintptr_t)(((uint64_t)SHEAP_REGION_SIZE) >> SHEAP_ARENA_SHIFT);
    uintptr_t meta_size = round_up(frames * sizeof(struct sheap_arena), SHEAP_PAGE_SIZE);
    uintptr_t res;
    if (!meta_reserve(&h->backend, meta_size, &res)) /* with guard pages, see META_GUARD */
        return SHEAP_PORT_ENOMEM;
    uintptr_t m = res + meta_guard(&h->backend);
    linear_init(&h->arena_meta, m, meta_size);
    h->arena_meta_base = m;
    h->c.reserved_bytes += meta_size + 2 * meta_guard(&h->backend);
    uint64_t first = initial != 0 ? initial : SHEAP_INITIAL_RESERVE;
    for (uint64_t size = first; size >= SHEAP_ARENA_SIZE; size /= 2) {
        uintptr_t a;
        if (reserve_aligned(h, 0, (uintptr_t)size, SHEAP_ARENA_SIZE, &a) != SHEAP_PORT_OK)
            continue;
        if (index_any(a, (uintptr_t)size)) {
            /* The backend handed out another heap's memory. */
            be_release(h, a, (uintptr_t)size);
            continue;
        }
        linear_init(&h->arena_space, a, (uintptr_t)size);
        h->space_base = a;
        h->c.reserved_bytes += (uintptr_t)size;
        /* Grow on from either end once it is used up. */
        hint_push(h, a, true);
        if (a + (uintptr_t)size != 0)
            hint_push(h, a + (uintptr_t)size, false);
        break;
    }
    return SHEAP_PORT_OK;
}
#endif

int heap_init_prepare(struct sheap_heap *h, const struct sheap_config *cfg)
{
    SHEAP_ASSERT_GROWTH();
    h->backend = *cfg->backend;
    h->caps = cfg->caps;
    h->order = cfg->order;
    h->name = cfg->name;
    for (unsigned i = cfg->nhints; i-- > 0;)
        if (cfg->hints[i] != 0)
            hint_push(h, round_up(cfg->hints[i], SHEAP_ARENA_SIZE), false);
#if SHEAP_32BIT_MODE
    if (heap_init_32(h, cfg->region_size, cfg->initial_reserve) != SHEAP_PORT_OK) {
        mem_zero(h, sizeof(*h));
        return SHEAP_ENOMEM;
    }
#endif
    return 0;
}

void heap_publish(struct sheap_heap *h)
{
    SHEAP_ASSERT_LOCKED();
    h->initialized = true;
    heap_link(h);
}

int heap_init(struct sheap_heap *h, const struct sheap_config *cfg)
{
    SHEAP_ASSERT_LOCKED();
    int r = heap_init_prepare(h, cfg);
    if (r == 0)
        heap_publish(h);
    return r;
}

void heap_release_all(struct sheap_heap *h)
{
    SHEAP_ASSERT_GROWTH();
    heap_unlink(h);
    /* Arenas: out of the index first, then back to the backend (those of
     * the initial reservation go with it, below). */
    uintptr_t s0 = h->space_base, s1 = h->arena_space.end;
    for (struct sheap_arena *a = h->arenas, *next; a != NULL; a = next) {
        next = a->next;
        index_set(a->base, NULL);
        if (s1 == 0 || a->base < s0 || a->base >= s1)
            be_release(h, a->base, SHEAP_ARENA_SIZE);
#if SHEAP_LAZY_ARENA_META
        rec_release(h, a); /* its own reservation */
#endif
    }
    if (s1 != 0)
        be_release(h, s0, s1 - s0);
    if (h->arena_meta.end != 0)
        be_release(h, h->arena_meta_base - meta_guard(&h->backend),
                   h->arena_meta.end - h->arena_meta_base + 2 * meta_guard(&h->backend));
    /* Metadata chunks last: the arena records and chunk records live there. */
    for (struct meta_chunk *c = h->chunks, *next; c != NULL; c = next) {
        next = c->next;
        be_release(h, c->base, c->size);
    }
    mem_zero(h, sizeof(*h));
}

/* ---- Growth (arena_grow) -------------------------------------------------------- */

#if !SHEAP_LAZY_ARENA_META
/* Where h's metadata allocator stood, so that an allocation can be taken
 * back (arena_grow, when the index cannot take the new arenas). */
struct meta_mark {
    struct linear_alloc meta;
    struct meta_chunk *chunks;
    uintptr_t reserved_bytes, meta_bytes;
};

static void meta_mark(const struct sheap_heap *h, struct meta_mark *m)
{
    m->meta = h->meta;
    m->chunks = h->chunks;
    m->reserved_bytes = h->c.reserved_bytes;
    m->meta_bytes = h->c.meta_bytes;
}

/* Take back what meta_alloc handed out since m: a new chunk goes back to
 * the backend whole; in the old chunk only the cursor moves back (pages
 * made Ready stay Ready and counted, for the next allocation). */
static void meta_undo(struct sheap_heap *h, const struct meta_mark *m)
{
    SHEAP_ASSERT_GROWTH();
    if (h->chunks != m->chunks) {
        be_release(h, h->chunks->base, h->chunks->size);
        h->meta = m->meta;
        h->chunks = m->chunks;
        h->c.reserved_bytes = m->reserved_bytes;
        h->c.meta_bytes = m->meta_bytes;
    } else if (h->meta.end == m->meta.end) {
        h->meta.next = m->meta.next;
    }
}

#endif

/* Metadata for k new arenas. */
static void *arena_meta_alloc(struct sheap_heap *h, uintptr_t k)
{
    SHEAP_ASSERT_GROWTH();
#if SHEAP_LAZY_ARENA_META
    return rec_alloc(h, k);
#else
    uintptr_t bytes = k * sizeof(struct sheap_arena);
    if (linear_fits(&h->arena_meta, bytes, sizeof(void *))) {
        uintptr_t grown;
        uintptr_t p = linear_alloc(&h->backend, &h->arena_meta, bytes, sizeof(void *), &grown);
        if (p == 0)
            return NULL; /* the backend failed; the region is kept for the next try */
        h->c.meta_bytes += grown;
        return (void *)p;
    }
    return meta_alloc(h, bytes, sizeof(void *));
#endif
}

/* Whether [v, v + n) wraps around or leaves the address bits the index
 * covers (written so that it also works when SHEAP_VA_BITS is the pointer
 * width). */
static bool beyond_index(uintptr_t v, uintptr_t n)
{
    uintptr_t last = v + n - 1;
#if INDEX_LEVELS == 1
    /* Below the base, v - INDEX_BASE wraps to a frame number beyond the table. */
    return last < v || ((v - INDEX_BASE) >> SHEAP_ARENA_SHIFT) >= INDEX_FRAMES ||
           ((last - INDEX_BASE) >> SHEAP_ARENA_SHIFT) >= INDEX_FRAMES;
#else
    return last < v || ((last >> (SHEAP_VA_BITS - 1)) >> 1) != 0;
#endif
}

/* The upward hint at from (the end of the initial reservation) moves to to,
 * as the reservation's end does. */
static void move_up_hint(struct sheap_heap *h, uintptr_t from, uintptr_t to)
{
    SHEAP_ASSERT_GROWTH();
    for (unsigned i = 0; i < h->nhints; i++)
        if (!h->hints[i].down && h->hints[i].addr == from)
            h->hints[i].addr = to;
}

/* Where a growth of n bytes came from: what undoing it and committing it
 * have to do. */
enum grow_source {
    GROW_SPACE,    /* the initial reservation (already Reserved, now Prepared) */
    GROW_HINT,     /* a fresh reservation at the top hint */
    GROW_FALLBACK, /* a fresh reservation anywhere */
};

/*
 * Step 1 (32-bit mode): take n bytes from the initial reservation.  When its
 * rest is too short, first try to reserve the missing part right after it,
 * so that the rest is not stranded below a request that would fit with it
 * (on a fixed region this is often the only room left).  Returns the base,
 * 0 when the reservation cannot serve n (nothing changed; an extension
 * stays part of the reservation), or 1 when map() failed (nothing changed:
 * growth fails).
 */
static uintptr_t grow_from_space(struct sheap_heap *h, uintptr_t n)
{
    SHEAP_ASSERT_GROWTH();
    struct linear_alloc *sp = &h->arena_space;
    uintptr_t space_end = sp->end, extended = 0;
    if (space_end == 0 || sp->next >= space_end)
        return 0;
    if (!linear_fits(sp, n, SHEAP_ARENA_SIZE)) {
        uintptr_t rest = space_end - round_up(sp->next, SHEAP_ARENA_SIZE);
        uintptr_t got;
        if (rest < n && !beyond_index(space_end, n - rest) && !index_any(space_end, n - rest) &&
            be_reserve(h, space_end, n - rest, &got) == SHEAP_PORT_OK) {
            /* Part of the initial reservation from now on, also if this
             * growth fails later on (then it waits there for the next). */
            extended = n - rest;
            sp->end = space_end + extended;
            h->c.reserved_bytes += extended;
            move_up_hint(h, space_end, space_end + extended);
        }
    }
    if (!linear_fits(sp, n, SHEAP_ARENA_SIZE))
        return 0;
    uintptr_t grown;
    uintptr_t v = linear_take(&h->backend, sp, n, SHEAP_ARENA_SIZE, false, &grown);
    if (v == 0 && extended) {
        /* map() failed: undo the extension; nothing else changed. */
        sp->end = space_end;
        h->c.reserved_bytes -= extended;
        move_up_hint(h, space_end + extended, space_end);
        be_release(h, space_end, extended);
    }
    return v == 0 ? 1 : v;
}

/*
 * Step 2: hints, most preferred first.  A hint whose range is taken (EBUSY)
 * or outside the index is dropped.  Any other failure (the backend could
 * not reserve there: out of reach for it, or short of memory) keeps every
 * hint and moves on to the fallback, which fails cleanly in turn if the
 * backend really is out of address space.  Returns the base or 0.
 */
static uintptr_t grow_at_hint(struct sheap_heap *h, uintptr_t n)
{
    SHEAP_ASSERT_GROWTH();
    while (h->nhints > 0) {
        struct arena_hint *hint = &h->hints[h->nhints - 1];
        uintptr_t p = hint->addr;
        bool usable = true;
        if (hint->down) {
            usable = p >= n;
            p -= n;
        }
        if (usable && beyond_index(p, n))
            usable = false;
        if (usable) {
            uintptr_t got;
            int r = be_reserve(h, p, n, &got);
            if (r == SHEAP_PORT_OK)
                return p;
            if (r != SHEAP_PORT_EBUSY)
                return 0;
        }
        h->nhints--;
    }
    return 0;
}

/* Step 3 for a fresh reservation [v, v + n): refuse it when the index cannot
 * hold it or another heap owns part of it, then Reserved -> Prepared.  On
 * failure the range is released. */
static int grow_prepare(struct sheap_heap *h, uintptr_t v, uintptr_t n)
{
    SHEAP_ASSERT_GROWTH();
    int r = SHEAP_PORT_ENOMEM;
    if (!beyond_index(v, n) && !index_any(v, n))
        r = be_map(h, v, n);
    if (r != SHEAP_PORT_OK)
        be_release(h, v, n);
    return r;
}

/* Step 4: the new arenas [v, v + n) with their metadata go into the index
 * and the arena list; hints follow.  Cannot fail. */
static void grow_commit(struct sheap_heap *h, uintptr_t v, uintptr_t n, struct sheap_arena *a, enum grow_source src)
{
    SHEAP_ASSERT_LOCKED();
    uintptr_t k = n >> SHEAP_ARENA_SHIFT;
    for (uintptr_t i = 0; i < k; i++) {
#if SHEAP_LAZY_ARENA_META
        struct sheap_arena *next_rec = a->next; /* the chain of rec_alloc */
#else
        struct sheap_arena *next_rec = a + 1;
#endif
        a->base = v + i * SHEAP_ARENA_SIZE;
        a->heap = h;
        a->next = NULL;
        if (index_set(a->base, a) != SHEAP_PORT_OK)
            sheap_panic("sheap: arena index table missing after allocation");
        if (h->arenas_tail)
            h->arenas_tail->next = a;
        else
            h->arenas = a;
        h->arenas_tail = a;
        a = next_rec;
    }
    if (src == GROW_HINT) {
        struct arena_hint *hint = &h->hints[h->nhints - 1];
        hint->addr = hint->down ? v : v + n;
    } else if (src == GROW_FALLBACK) {
        hint_push(h, v, true);
        hint_push(h, v + n, false);
    }
    if (src != GROW_SPACE)
        h->c.reserved_bytes += n;
    h->c.arenas += k;
}

int arena_grow_prepare(struct sheap_heap *h, uintptr_t n, struct arena_growth *g)
{
    SHEAP_ASSERT_GROWTH();
    if (n == 0 || n > ((uintptr_t)1 << (SHEAP_VA_BITS - 1)))
        return SHEAP_PORT_ENOMEM;
    n = round_up(n, SHEAP_ARENA_SIZE);

    enum grow_source src = GROW_SPACE;
    uintptr_t space_next = h->arena_space.next;
    uintptr_t v = grow_from_space(h, n);
    if (v == 1)
        return SHEAP_PORT_ENOMEM;
    if (v == 0) {
        src = GROW_HINT;
        v = grow_at_hint(h, n);
        if (v == 0) {
            src = GROW_FALLBACK;
            int r = reserve_aligned(h, 0, n, SHEAP_ARENA_SIZE, &v);
            if (r != SHEAP_PORT_OK)
                return r;
        }
        int r = grow_prepare(h, v, n);
        if (r != SHEAP_PORT_OK)
            return r;
    }

    /* Metadata for the new arenas, then the index tables they need (from
     * the default backend): failure undoes the reservation (the initial
     * reservation's part stays Prepared there). */
#if !SHEAP_LAZY_ARENA_META
    struct meta_mark mark;
    meta_mark(h, &mark);
#endif
    struct sheap_arena *meta = arena_meta_alloc(h, n >> SHEAP_ARENA_SHIFT);
    if (meta != NULL && !index_prepare(v, n)) {
#if SHEAP_LAZY_ARENA_META
        while (meta != NULL) {
            struct sheap_arena *next = meta->next;
            rec_release(h, meta);
            meta = next;
        }
#else
        meta_undo(h, &mark);
#endif
        meta = NULL;
    }
    if (meta == NULL) {
        if (src == GROW_SPACE)
            h->arena_space.next = space_next;
        else
            be_release(h, v, n);
        return SHEAP_PORT_ENOMEM;
    }
    g->v = v;
    g->size = n;
    g->meta = meta;
    g->src = (int)src;
    return SHEAP_PORT_OK;
}

void arena_grow_commit(struct sheap_heap *h, const struct arena_growth *g)
{
    grow_commit(h, g->v, g->size, g->meta, (enum grow_source)g->src);
}

int arena_grow(struct sheap_heap *h, uintptr_t n, uintptr_t *v, uintptr_t *size)
{
    SHEAP_ASSERT_LOCKED();
    struct arena_growth g;
    int r = arena_grow_prepare(h, n, &g);
    if (r == SHEAP_PORT_OK) {
        arena_grow_commit(h, &g);
        *v = g.v;
        *size = g.size;
    }
    return r;
}
