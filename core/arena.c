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
 *   - arena_grow, the seed's sysAlloc: the one function that adds address
 *     space to the heap;
 *   - 32-bit mode: arena metadata for the whole heap region and a large
 *     initial reservation, both made up front.
 *
 * All functions expect the heap lock held (see sheap_internal.h).
 */
#include "sheap_internal.h"

struct sheap_heap sheap_heap;
static struct sheap_heap *const h = &sheap_heap;

static const uintptr_t configured_hints[] = SHEAP_ARENA_HINTS;

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

/* Hand out size bytes aligned to align.  When ready is false the pages are
 * only mapped (Prepared); used for heap address space.  *grown receives the
 * bytes that became Ready.  Returns 0, changing nothing, on failure. */
static uintptr_t linear_take(struct linear_alloc *l, uintptr_t size, uintptr_t align, bool ready,
                             uintptr_t *grown)
{
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
        if (sheap_port_map(l->prepared, need - l->prepared) != SHEAP_PORT_OK)
            return 0;
        l->prepared = need;
    }
    if (ready && need > l->ready) {
        uintptr_t n = need - l->ready;
        bool zeroed = false;
        if (sheap_port_used(l->ready, n, &zeroed) != SHEAP_PORT_OK)
            return 0; /* [ready, prepared) stays Prepared for the next try */
        if (!zeroed)
            mem_zero((void *)l->ready, n);
        *grown = n;
        l->ready = need;
    }
    l->next = p + size;
    return p;
}

uintptr_t linear_alloc(struct linear_alloc *l, uintptr_t size, uintptr_t align, uintptr_t *ready_grown)
{
    return linear_take(l, size, align, true, ready_grown);
}

/* ---- Metadata allocator ---------------------------------------------------- */

/*
 * Guard pages (issue 20): every reservation that holds metadata (metadata
 * chunks, the 32-bit up-front arena records) is reserved with one heap page
 * more on each side, and those two pages are never handed out, so they stay
 * Reserved (never Ready) for the life of the reservation.  Arenas are only
 * ever reserved outside metadata reservations, so whatever order growth
 * happens in, at least META_GUARD bytes that are not Ready lie between any
 * metadata byte and any user block, in both directions: an overflow or
 * underflow of up to one page from the block nearest to the metadata faults
 * there (MMU and hosted ports) or lands in a page that holds nothing
 * (static ports, whose metadata pool is plain RAM).  The heap's own state
 * (struct sheap_heap, the static index level) is outside every reservation.
 */
#define META_GUARD SHEAP_PAGE_SIZE

/* Reserve size bytes of metadata address space between two guard pages.
 * On success *out is the first usable byte (after the lower guard). */
static int meta_reserve(uintptr_t size, uintptr_t *out)
{
    uintptr_t base;
    if (size + 2 * META_GUARD < size)
        return SHEAP_PORT_ENOMEM;
    int r = sheap_port_reserve(0, size + 2 * META_GUARD, &base);
    if (r != SHEAP_PORT_OK)
        return r;
    *out = base + META_GUARD;
    h->c.reserved_bytes += size + 2 * META_GUARD;
    return SHEAP_PORT_OK;
}

/* Undo meta_reserve (guards included). */
static void meta_unreserve(uintptr_t usable, uintptr_t size)
{
    sheap_port_release(usable - META_GUARD, size + 2 * META_GUARD);
    h->c.reserved_bytes -= size + 2 * META_GUARD;
}

void *meta_alloc(uintptr_t size, uintptr_t align)
{
    SHEAP_ASSERT_LOCKED();
    uintptr_t grown;
    uintptr_t p;
    if (linear_fits(&h->meta, size, align)) {
        /* A port failure here leaves the chunk as it was, for the next try. */
        p = linear_alloc(&h->meta, size, align, &grown);
        if (p == 0)
            return NULL;
    } else {
        /* Current chunk exhausted (or none yet): reserve a new one.  The old
         * chunk's tail stays Reserved; it costs address space only. */
        uintptr_t chunk = SHEAP_META_CHUNK;
        uintptr_t want = round_up(size + align, SHEAP_PAGE_SIZE);
        if (want < size)
            return NULL;
        if (chunk < want)
            chunk = want;
        uintptr_t base;
        if (meta_reserve(chunk, &base) != SHEAP_PORT_OK)
            return NULL;
        struct linear_alloc l;
        linear_init(&l, base, chunk); /* the guards lie outside [base, base + chunk) */
        p = linear_alloc(&l, size, align, &grown);
        if (p == 0) {
            meta_unreserve(base, chunk);
            return NULL;
        }
        h->meta = l;
    }
    h->c.meta_bytes += grown;
    return (void *)p;
}

/* ---- Arena index ------------------------------------------------------------ */

uintptr_t index_static_bytes(void)
{
#if INDEX_LEVELS == 1
    return sizeof(h->index);
#else
    return sizeof(h->index_l1);
#endif
}

uintptr_t index_bytes(void)
{
#if INDEX_LEVELS == 1
    return sizeof(h->index);
#else
    return sizeof(h->index_l1) + h->index_l2_count * sizeof(struct index_l2);
#endif
}

int index_set(uintptr_t addr, struct sheap_arena *a)
{
    h->last_arena = NULL; /* the cache may name the entry being replaced */
#if INDEX_LEVELS == 1
#if !SHEAP_32BIT_MODE || SHEAP_VA_BITS < 32
    if (addr >> SHEAP_VA_BITS)
        return SHEAP_PORT_ENOMEM;
#endif
    h->index[addr >> SHEAP_ARENA_SHIFT] = a;
    return SHEAP_PORT_OK;
#else
    if (addr >> SHEAP_VA_BITS)
        return SHEAP_PORT_ENOMEM;
    uintptr_t frame = addr >> SHEAP_ARENA_SHIFT;
    struct index_l2 **slot = &h->index_l1[frame >> INDEX_L2_BITS];
    if (*slot == NULL) {
        if (a == NULL)
            return SHEAP_PORT_OK;
        struct index_l2 *l2 = meta_alloc(sizeof(*l2), sizeof(void *));
        if (l2 == NULL)
            return SHEAP_PORT_ENOMEM;
        *slot = l2;
        h->index_l2_count++;
    }
    (*slot)->arena[frame & (INDEX_L2_ENTRIES - 1)] = a;
    return SHEAP_PORT_OK;
#endif
}

/* L2 tables that arenas [v, v+size) still need. */
static uintptr_t index_l2_missing(uintptr_t v, uintptr_t size)
{
#if INDEX_LEVELS == 1
    (void)v;
    (void)size;
    return 0;
#else
    uintptr_t missing = 0;
    uintptr_t first = (v >> SHEAP_ARENA_SHIFT) >> INDEX_L2_BITS;
    uintptr_t last = ((v + size - 1) >> SHEAP_ARENA_SHIFT) >> INDEX_L2_BITS;
    for (uintptr_t i = first; i <= last; i++)
        missing += h->index_l1[i] == NULL;
    return missing;
#endif
}

/* ---- Hints -------------------------------------------------------------- */

static void hint_push(uintptr_t addr, bool down)
{
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

int reserve_aligned(uintptr_t hint, uintptr_t n, uintptr_t align, uintptr_t *out)
{
    uintptr_t p;
    int r;
    if (hint != 0) {
        if (hint & (align - 1))
            return SHEAP_PORT_EBUSY;
        return sheap_port_reserve(hint, n, out);
    }
    /* A port may hand out aligned ranges by itself (the static port does):
     * try the exact size first and keep it when it happens to be aligned. */
    r = sheap_port_reserve(0, n, &p);
    if (r != SHEAP_PORT_OK)
        return r;
    if ((p & (align - 1)) == 0) {
        *out = p;
        return SHEAP_PORT_OK;
    }
    sheap_port_release(p, n);
    /* Over-reserve by the alignment and trim both ends. */
    if (n + align < n)
        return SHEAP_PORT_ENOMEM;
    r = sheap_port_reserve(0, n + align, &p);
    if (r != SHEAP_PORT_OK)
        return r;
    uintptr_t aligned = round_up(p, align);
    if (aligned > p)
        sheap_port_release(p, aligned - p);
    uintptr_t tail = (p + n + align) - (aligned + n);
    if (tail)
        sheap_port_release(aligned + n, tail);
    *out = aligned;
    return SHEAP_PORT_OK;
}

/* ---- Initialisation ----------------------------------------------------------- */

int heap_init(void)
{
    SHEAP_ASSERT_LOCKED();
    if (h->initialized)
        return SHEAP_PORT_OK;
    uintptr_t phys = sheap_port_page_size();
    if (phys == 0 || (SHEAP_PAGE_SIZE % phys) != 0)
        sheap_panic("sheap: SHEAP_PAGE_SIZE is not a multiple of the port's page size");

    for (unsigned i = sizeof(configured_hints) / sizeof(configured_hints[0]); i-- > 0;) {
        if (configured_hints[i] != 0)
            hint_push(round_up(configured_hints[i], SHEAP_ARENA_SIZE), false);
    }

#if SHEAP_32BIT_MODE
    /* Metadata for every arena frame of the region, reserved up front so it
     * is never interleaved with the heap (it is made Ready per arena). */
    uintptr_t frames = (uintptr_t)(((uint64_t)SHEAP_REGION_SIZE) >> SHEAP_ARENA_SHIFT);
    uintptr_t meta_size = round_up(frames * sizeof(struct sheap_arena), SHEAP_PAGE_SIZE);
    uintptr_t m;
    if (meta_reserve(meta_size, &m) == SHEAP_PORT_OK) /* with guard pages, see META_GUARD */
        linear_init(&h->arena_meta, m, meta_size);
    /* A large initial reservation keeps the 32-bit heap contiguous; try
     * smaller sizes until one fits. */
    for (uint64_t size = SHEAP_INITIAL_RESERVE; size >= SHEAP_ARENA_SIZE; size /= 2) {
        uintptr_t a;
        if (reserve_aligned(0, (uintptr_t)size, SHEAP_ARENA_SIZE, &a) == SHEAP_PORT_OK) {
            linear_init(&h->arena_space, a, (uintptr_t)size);
            h->c.reserved_bytes += (uintptr_t)size;
            /* Grow on from either end once it is used up. */
            hint_push(a, true);
            if (a + (uintptr_t)size != 0)
                hint_push(a + (uintptr_t)size, false);
            break;
        }
    }
#endif
    h->initialized = true;
    return SHEAP_PORT_OK;
}

/* ---- Growth (the seed's sysAlloc) ----------------------------------------------- */

/* Metadata for k new arenas plus the L2 tables they need, in one allocation
 * so that failure leaves nothing half made. */
static void *arena_meta_alloc(uintptr_t k, uintptr_t l2_tables)
{
    uintptr_t bytes = k * sizeof(struct sheap_arena) + l2_tables * sizeof(struct index_l2);
    if (l2_tables == 0 && linear_fits(&h->arena_meta, bytes, sizeof(void *))) {
        uintptr_t grown;
        uintptr_t p = linear_alloc(&h->arena_meta, bytes, sizeof(void *), &grown);
        if (p == 0)
            return NULL; /* the port failed; the region is kept for the next try */
        h->c.meta_bytes += grown;
        return (void *)p;
    }
    return meta_alloc(bytes, sizeof(void *));
}

/* Whether [v, v + n) wraps around or leaves the address bits the index
 * covers (written so that it also works when SHEAP_VA_BITS is the pointer
 * width). */
static bool beyond_index(uintptr_t v, uintptr_t n)
{
    uintptr_t last = v + n - 1;
    return last < v || ((last >> (SHEAP_VA_BITS - 1)) >> 1) != 0;
}

/* The upward hint at from (the end of the initial reservation) moves to to,
 * as the reservation's end does. */
static void move_up_hint(uintptr_t from, uintptr_t to)
{
    for (unsigned i = 0; i < h->nhints; i++)
        if (!h->hints[i].down && h->hints[i].addr == from)
            h->hints[i].addr = to;
}

int arena_grow(uintptr_t n, uintptr_t *vout, uintptr_t *sizeout)
{
    SHEAP_ASSERT_LOCKED();
    uintptr_t v = 0;
    int r = SHEAP_PORT_ENOMEM;
    bool from_space = false, at_hint = false, fallback = false;

    if (n == 0 || n > ((uintptr_t)1 << (SHEAP_VA_BITS - 1)))
        return SHEAP_PORT_ENOMEM;
    n = round_up(n, SHEAP_ARENA_SIZE);

    /* 1. The initial reservation (32-bit mode): already Reserved.  When its
     * rest is too short, try to reserve the missing part right after it, so
     * that the rest is not stranded below a request that would fit with it
     * (on a fixed region this is often the only room left). */
    uintptr_t space_next = h->arena_space.next, space_end = h->arena_space.end, extended = 0;
    if (space_end != 0 && space_next < space_end && !linear_fits(&h->arena_space, n, SHEAP_ARENA_SIZE)) {
        uintptr_t rest = space_end - round_up(space_next, SHEAP_ARENA_SIZE);
        uintptr_t got;
        if (rest < n && !beyond_index(space_end, n - rest) &&
            sheap_port_reserve(space_end, n - rest, &got) == SHEAP_PORT_OK) {
            /* Part of the initial reservation from now on, also if this
             * growth fails later on (then it waits there for the next). */
            extended = n - rest;
            h->arena_space.end = space_end + extended;
            h->c.reserved_bytes += extended;
            move_up_hint(space_end, space_end + extended);
        }
    }
    if (linear_fits(&h->arena_space, n, SHEAP_ARENA_SIZE)) {
        uintptr_t grown;
        v = linear_take(&h->arena_space, n, SHEAP_ARENA_SIZE, false, &grown);
        if (v == 0) {
            /* map() failed: undo the extension; nothing else changed. */
            if (extended) {
                h->arena_space.end = space_end;
                h->c.reserved_bytes -= extended;
                move_up_hint(space_end + extended, space_end);
                sheap_port_release(space_end, extended);
            }
            return SHEAP_PORT_ENOMEM;
        }
        from_space = true;
    }

    /* 2. Hints, most preferred first.  A hint whose range is taken (EBUSY) or
     * outside the index is dropped.  Any other failure (the port could not
     * reserve there: out of reach for it, or short of memory) keeps every
     * hint and moves on to the fallback, which fails cleanly in turn if the
     * port really is out of address space. */
    while (v == 0 && h->nhints > 0) {
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
            r = sheap_port_reserve(p, n, &got);
            if (r == SHEAP_PORT_OK) {
                v = p;
                at_hint = true;
                break;
            }
            if (r != SHEAP_PORT_EBUSY)
                break;
        }
        h->nhints--;
    }

    /* 3. Every hint failed: take any aligned range and hint around it. */
    if (v == 0) {
        r = reserve_aligned(0, n, SHEAP_ARENA_SIZE, &v);
        if (r != SHEAP_PORT_OK)
            return r;
        fallback = true;
    }

    /* Reserved -> Prepared (the initial reservation was mapped by linear_take). */
    if (!from_space) {
        if (beyond_index(v, n)) {
            sheap_port_release(v, n);
            return SHEAP_PORT_ENOMEM;
        }
        r = sheap_port_map(v, n);
        if (r != SHEAP_PORT_OK) {
            sheap_port_release(v, n);
            return r;
        }
    }

    /* Metadata for the new arenas. */
    uintptr_t k = n >> SHEAP_ARENA_SHIFT;
    uintptr_t l2_tables = index_l2_missing(v, n);
    uint8_t *meta = arena_meta_alloc(k, l2_tables);
    if (meta == NULL) {
        if (from_space)
            h->arena_space.next = space_next; /* stays Prepared; reused next time */
        else
            sheap_port_release(v, n);
        return SHEAP_PORT_ENOMEM;
    }

    /* Commit: nothing below can fail. */
#if INDEX_LEVELS == 2
    struct index_l2 *l2 = (struct index_l2 *)(meta + k * sizeof(struct sheap_arena));
    for (uintptr_t i = (v >> SHEAP_ARENA_SHIFT) >> INDEX_L2_BITS;
         i <= ((v + n - 1) >> SHEAP_ARENA_SHIFT) >> INDEX_L2_BITS; i++) {
        if (h->index_l1[i] == NULL) {
            h->index_l1[i] = l2++;
            h->index_l2_count++;
        }
    }
#endif
    struct sheap_arena *a = (struct sheap_arena *)meta;
    for (uintptr_t i = 0; i < k; i++, a++) {
        a->base = v + i * SHEAP_ARENA_SIZE;
        a->next = NULL;
        if (index_set(a->base, a) != SHEAP_PORT_OK)
            sheap_panic("sheap: arena index table missing after allocation");
        if (h->arenas_tail)
            h->arenas_tail->next = a;
        else
            h->arenas = a;
        h->arenas_tail = a;
    }
    if (at_hint) {
        struct arena_hint *hint = &h->hints[h->nhints - 1];
        hint->addr = hint->down ? v : v + n;
    }
    if (fallback) {
        hint_push(v, true);
        hint_push(v + n, false);
    }
    if (!from_space)
        h->c.reserved_bytes += n;
    h->c.arenas += k;
    *vout = v;
    *sizeout = n;
    return SHEAP_PORT_OK;
}
