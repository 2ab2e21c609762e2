/*
 * port_static.c - the static port: sheap on MPU-only 32-bit parts (Cortex-M,
 * RISC-V with PMP), where the heap is a fixed region of RAM named by the
 * linker script.  Architecture-neutral; the protection unit is behind
 * static_guard.h (guard_armv7m.c, guard_armv8m.c, guard_pmp.c) and the lock
 * behind sheap_port_lock.h.
 *
 * Two pools, each a range of pages with a "reserved" bit per page:
 *
 *   region  [__sheap_region_start, __sheap_region_end) = SHEAP_REGION_BASE,
 *           + SHEAP_REGION_SIZE (checked on the first call).  Reservations
 *           of whole arenas without a hint are carved from it, arena
 *           aligned (first fit over the region's arena frames).  The region
 *           also keeps a "ready" bit per page for the guard's watermark.
 *   meta    [__sheap_meta_start, __sheap_meta_end), outside the region:
 *           every other reservation without a hint (the core's up-front
 *           arena records, SHEAP_META_CHUNK metadata chunks), first fit in
 *           pages.  Metadata never lands in the heap region.
 *
 * A reservation with a hint is exactly [hint, hint + n) when that lies in
 * one pool and none of its pages is reserved (EBUSY when one is; ENOMEM
 * when it is not inside a pool).  Release frees any sub-range.
 *
 * Memory states: Reserved and Prepared are bookkeeping only (the RAM is
 * always there); map checks the range is reserved; used and unused do no
 * backing work, they move the Ready watermark (the end of the highest
 * Ready page of the region), and the guard makes [watermark, region end)
 * fault.  used reports zeroed = false: the RAM may hold anything (boot
 * contents, blocks freed earlier), so the core clears what must be zero.
 * At hardening level 3 the backend also has protect: a hole (a spare
 * protection region, static_guard.h) over the guard page after a sampled
 * block, a few at a time (see "level 3" below).
 *
 * Time: reserve is O(arena frames x words per arena) in the region and
 * O(meta pages) in the pool; map, used, unused and release are O(pages of
 * the range / 32) plus, when the watermark moves down, O(region pages / 32)
 * to find the new top.  All bounded by the board's constants.
 *
 * Instances: each region is a struct sheap_static_region (sheap_static.h),
 * a backend of its own, so several heaps can sit on several memories.  The
 * default instance (the default heap's backend) takes its region and pool
 * from the linker script and has the guard; sheap_static_region_init makes
 * more, unguarded, from addresses the firmware gives.  Regions and pools of
 * live instances never overlap (checked at init).
 *
 * Locking: every function runs under the heap lock (the core calls them
 * with it held); sheap_static_info and sheap_static_region_init take it
 * themselves.
 */
#include <stdbool.h>
#include <stdint.h>

#include "backend_ops.h"
#include "core_bits.h"
#include "sheap.h"
#include "sheap_config.h"
#include "sheap_port.h"
#include "sheap_port_lock.h"
#include "sheap_static.h"
#include "static_guard.h"

#ifndef BOARD_HAS_GUARD
#define BOARD_HAS_GUARD 1
#endif

#define PAGE SHEAP_PAGE_SIZE
#define REGION_PAGES SHEAP_STATIC_REGION_PAGES
#define META_PAGES SHEAP_STATIC_META_PAGES

_Static_assert(SHEAP_32BIT_MODE, "the static port is for 32-bit mode");
_Static_assert(SHEAP_REGION_SIZE > 0 && SHEAP_REGION_SIZE % SHEAP_ARENA_SIZE == 0,
               "SHEAP_REGION_SIZE is a whole number of arenas");
_Static_assert(SHEAP_REGION_BASE % SHEAP_ARENA_SIZE == 0, "SHEAP_REGION_BASE is arena aligned");
_Static_assert((uint64_t)SHEAP_REGION_BASE + SHEAP_REGION_SIZE <= ((uint64_t)1 << SHEAP_VA_BITS),
               "the region lies inside the arena index (SHEAP_VA_BITS)");
_Static_assert(SHEAP_STATIC_META_SIZE > 0 && SHEAP_STATIC_META_SIZE % SHEAP_PAGE_SIZE == 0,
               "SHEAP_STATIC_META_SIZE is a whole number of pages");

/* The board's linker script defines these. */
extern char __sheap_region_start[], __sheap_region_end[];
extern char __sheap_meta_start[], __sheap_meta_end[];

/* The heap lock's saved interrupt state (sheap_port_lock.h). */
unsigned long sheap_port_saved_irq;

/* The default instance, and every live instance (for the overlap check). */
static struct sheap_static_region default_region;
static struct sheap_static_region *regions;

/* ---- bitmaps ----------------------------------------------------------------- */

/* The core's bitmap helpers (core_bits.h), words of uintptr_t: 32 bits on
 * this port. */
_Static_assert(sizeof(uintptr_t) == 4, "the bitmaps of sheap_static.h are sized in 32-bit words");

/* Whether any bit in [first, first + n) is set. */
static inline bool bits_any(const uintptr_t *map, uintptr_t first, uintptr_t n)
{
    return bits_next(map, first, first + n, true) < first + n;
}

/* Whether every bit in [first, first + n) is set. */
static inline bool bits_all(const uintptr_t *map, uintptr_t first, uintptr_t n)
{
    return bits_next(map, first, first + n, false) >= first + n;
}

static void bits_put(uintptr_t *map, uintptr_t first, uintptr_t n, bool value)
{
    if (value)
        bits_set_range(map, first, n);
    else
        bits_clear_range(map, first, n);
}

/* ---- pools -------------------------------------------------------------------- */

/* A range of pages with a reserved bit each: an instance's region or pool. */
struct pool {
    uintptr_t base, end;
    uintptr_t *reserved;
};

static struct pool region_pool(struct sheap_static_region *r)
{
    struct pool p = {r->base, r->end, r->reserved};
    return p;
}

static struct pool meta_pool(struct sheap_static_region *r)
{
    struct pool p = {r->meta_base, r->meta_end, r->meta_reserved};
    return p;
}

/* The pool of r holding all of [v, v + n), in *p; false when none does. */
static bool pool_of(struct sheap_static_region *r, uintptr_t v, uintptr_t n, struct pool *p)
{
    if (v + n < v)
        return false;
    if (v >= r->base && v + n <= r->end) {
        *p = region_pool(r);
        return true;
    }
    if (v >= r->meta_base && v + n <= r->meta_end) {
        *p = meta_pool(r);
        return true;
    }
    return false;
}

static inline uintptr_t page_no(const struct pool *p, uintptr_t v) { return (v - p->base) >> SHEAP_PAGE_SHIFT; }

/* After the region's ready bits were cleared somewhere: lower the watermark
 * to the new top when it was inside [v, v + n). */
static void watermark_drop(struct sheap_static_region *r, uintptr_t v, uintptr_t n)
{
    if (r->ready_end > v && r->ready_end <= v + n) {
        /* One past the highest Ready page (bits_prev gives UINTPTR_MAX, + 1 = 0, when none is). */
        r->ready_end = r->base + ((bits_prev(r->ready, REGION_PAGES) + 1) << SHEAP_PAGE_SHIFT);
        if (r->guarded)
            static_guard_set(r->ready_end);
    }
}

/* ---- level 3: holes over guard pages ------------------------------------------------ */

#if SHEAP_HARDENING >= 3
/*
 * The default instance's holes (static_guard.h): hole i covers
 * [hole_at[i], hole_at[i] + hole_len[i]) while hole_len[i] != 0.  The
 * core protects the guard page after each sampled block with one and
 * lifts it when the block is freed, so at most static_guard_holes()
 * guarded blocks are live at once; a sampled malloc that finds none free
 * is refused here (counted in holes_refused) and the core allocates that
 * block unguarded.  used and release lift any hole in their range as
 * well (heap destruction releases guarded blocks without freeing them).
 * Lock held throughout.
 */
#define HOLES_MAX 16
static uintptr_t hole_at[HOLES_MAX], hole_len[HOLES_MAX];
static uintptr_t holes_refused;

static unsigned holes_count(const struct sheap_static_region *r)
{
    if (!r->guarded)
        return 0;
    unsigned n = static_guard_holes();
    return n < HOLES_MAX ? n : HOLES_MAX;
}

/* Lift every hole of r that lies in [v, v + n). */
static void holes_lift(const struct sheap_static_region *r, uintptr_t v, uintptr_t n)
{
    for (unsigned i = 0; i < holes_count(r); i++)
        if (hole_len[i] != 0 && hole_at[i] >= v && hole_at[i] - v < n) {
            static_guard_hole(i, 0, 0);
            hole_len[i] = 0;
        }
}

static bool static_protect(void *ctx, uintptr_t v, uintptr_t n, bool on)
{
    struct sheap_static_region *r = ctx;
    if (!on) {
        holes_lift(r, v, n);
        return true;
    }
    /* A hole is one power-of-two region aligned to its size (ARMv7-M,
     * PMP NAPOT): the core asks for one heap page, which is. */
    if (v >= r->base && v < r->end && n <= r->end - v && (n & (n - 1)) == 0 && (v & (n - 1)) == 0)
        for (unsigned i = 0; i < holes_count(r); i++)
            if (hole_len[i] == 0) {
                hole_at[i] = v;
                hole_len[i] = n;
                static_guard_hole(i, v, n);
                return true;
            }
    holes_refused++;
    return false;
}
#define HOLES_LIFT(r, v, n) holes_lift(r, v, n)
#else
#define HOLES_LIFT(r, v, n) ((void)0)
#endif

/* ---- the backend (sheap_backend.h) ---------------------------------------------- */

static int static_reserve(void *ctx, uintptr_t hint, uintptr_t n, uintptr_t *out)
{
    struct sheap_static_region *r = ctx;
    if (n == 0 || (n & (PAGE - 1)) || (hint & (PAGE - 1)))
        return SHEAP_BACKEND_ENOMEM;
    uintptr_t npages = n >> SHEAP_PAGE_SHIFT;
    struct pool p;
    if (hint != 0) {
        if (!pool_of(r, hint, n, &p))
            return SHEAP_BACKEND_ENOMEM;
        if (bits_any(p.reserved, page_no(&p, hint), npages))
            return SHEAP_BACKEND_EBUSY;
        bits_put(p.reserved, page_no(&p, hint), npages, true);
        *out = hint;
        return SHEAP_BACKEND_OK;
    }
    if ((n & (SHEAP_ARENA_SIZE - 1)) == 0) {
        /* Whole arenas: the first free arena-aligned run of the region. */
        p = region_pool(r);
        for (uintptr_t a = r->base; a + n > a && a + n <= r->end; a += SHEAP_ARENA_SIZE) {
            if (!bits_any(p.reserved, page_no(&p, a), npages)) {
                bits_put(p.reserved, page_no(&p, a), npages, true);
                *out = a;
                return SHEAP_BACKEND_OK;
            }
        }
        return SHEAP_BACKEND_ENOMEM;
    }
    /* Anything else is metadata: first fit in the pool, a free run at a time. */
    p = meta_pool(r);
    uintptr_t total = (p.end - p.base) >> SHEAP_PAGE_SHIFT;
    for (uintptr_t i = bits_next(p.reserved, 0, total, false); i < total;) {
        uintptr_t j = bits_next(p.reserved, i, total, true); /* [i, j) is free */
        if (j - i >= npages) {
            bits_put(p.reserved, i, npages, true);
            *out = p.base + (i << SHEAP_PAGE_SHIFT);
            return SHEAP_BACKEND_OK;
        }
        i = bits_next(p.reserved, j, total, false);
    }
    return SHEAP_BACKEND_ENOMEM;
}

static int static_map(void *ctx, uintptr_t v, uintptr_t n)
{
    struct sheap_static_region *r = ctx;
    struct pool p;
    if (!pool_of(r, v, n, &p) || !bits_all(p.reserved, page_no(&p, v), n >> SHEAP_PAGE_SHIFT))
        return SHEAP_BACKEND_ENOMEM; /* not a reservation of ours */
    return SHEAP_BACKEND_OK;
}

static int static_used(void *ctx, uintptr_t v, uintptr_t n, bool *zeroed)
{
    struct sheap_static_region *r = ctx;
    *zeroed = false;
    if (v >= r->base && v < r->end) {
        struct pool p = region_pool(r);
        bits_put(r->ready, page_no(&p, v), n >> SHEAP_PAGE_SHIFT, true);
        HOLES_LIFT(r, v, n);
        if (v + n > r->ready_end) {
            r->ready_end = v + n;
            if (r->guarded)
                static_guard_set(r->ready_end);
        }
    }
    return SHEAP_BACKEND_OK;
}

static void static_unused(void *ctx, uintptr_t v, uintptr_t n)
{
    struct sheap_static_region *r = ctx;
    if (v >= r->base && v < r->end) {
        struct pool p = region_pool(r);
        bits_put(r->ready, page_no(&p, v), n >> SHEAP_PAGE_SHIFT, false);
        watermark_drop(r, v, n);
    }
}

static void static_release(void *ctx, uintptr_t v, uintptr_t n)
{
    struct sheap_static_region *r = ctx;
    struct pool p;
    if (!pool_of(r, v, n, &p)) {
        sheap_port_fault("sheap: release of a range the static port never reserved", (void *)v, true);
        return;
    }
    bits_put(p.reserved, page_no(&p, v), n >> SHEAP_PAGE_SHIFT, false);
    if (p.base == r->base) {
        HOLES_LIFT(r, v, n);
        bits_put(r->ready, page_no(&p, v), n >> SHEAP_PAGE_SHIFT, false);
        watermark_drop(r, v, n);
    }
}

static const struct sheap_backend_ops static_ops = {
    SHEAP_BACKEND_OPS(static),
#if SHEAP_HARDENING >= 3
    .protect = static_protect,
#endif
};

/* ---- instances ------------------------------------------------------------------- */

static bool overlaps(uintptr_t a0, uintptr_t a1, uintptr_t b0, uintptr_t b1) { return a0 < b1 && b0 < a1; }

/* Whether [base, end) overlaps a region or pool of a live instance. */
static bool taken(uintptr_t base, uintptr_t end)
{
    for (const struct sheap_static_region *r = regions; r != NULL; r = r->next)
        if (overlaps(base, end, r->base, r->end) || overlaps(base, end, r->meta_base, r->meta_end))
            return true;
    return false;
}

/* Set up r over [base, base + size) and its pool [meta, meta + msize).
 * Lock held.  0 or SHEAP_EINVAL / SHEAP_EBUSY, nothing changed. */
static int region_init(struct sheap_static_region *r, uintptr_t base, uintptr_t size, uintptr_t meta,
                       uintptr_t msize)
{
    if (size == 0 || size > (uintptr_t)SHEAP_REGION_SIZE || (base | size) & (SHEAP_ARENA_SIZE - 1) ||
        base + size < base || (uint64_t)base + size > ((uint64_t)1 << SHEAP_VA_BITS) || msize == 0 ||
        msize > (uintptr_t)SHEAP_STATIC_META_SIZE || (meta | msize) & (PAGE - 1) || meta + msize < meta ||
        overlaps(base, base + size, meta, meta + msize))
        return SHEAP_EINVAL;
    for (const struct sheap_static_region *q = regions; q != NULL; q = q->next)
        if (q == r)
            return SHEAP_EBUSY;
    if (taken(base, base + size) || taken(meta, meta + msize))
        return SHEAP_EBUSY;
    /* Metadata apart (sheap_backend.meta_apart): a pool never touches a
     * region.  This pool's edge page next to a region (its own or
     * another's) is left out of it; a region next to an existing pool's
     * edge is refused (that pool may be in use up to its edge). */
    for (const struct sheap_static_region *q = regions; q != NULL; q = q->next)
        if (q->meta_end == base || q->meta_base == base + size)
            return SHEAP_EBUSY;
    bool below = meta + msize == base, above = meta == base + size;
    for (const struct sheap_static_region *q = regions; q != NULL; q = q->next) {
        below |= meta + msize == q->base;
        above |= meta == q->end;
    }
    if (msize <= (uintptr_t)(below + above) * PAGE)
        return SHEAP_EINVAL;
    meta += above ? PAGE : 0;
    msize -= (uintptr_t)(below + above) * PAGE;
    for (uintptr_t i = 0; i < sizeof(*r); i++)
        ((unsigned char *)r)[i] = 0;
    r->backend.ops = &static_ops;
    r->backend.ctx = r;
    r->backend.page_size = PAGE;
    r->backend.meta_apart = true; /* the pool is apart from every region (above) */
    r->base = base;
    r->end = base + size;
    r->meta_base = meta;
    r->meta_end = meta + msize;
    r->ready_end = base;
    r->next = regions;
    regions = r;
    return 0;
}

/* The default instance, from the linker script, guarded.  Lock held. */
static void default_init(void)
{
    uintptr_t base = (uintptr_t)__sheap_region_start, end = (uintptr_t)__sheap_region_end;
    uintptr_t meta = (uintptr_t)__sheap_meta_start, mend = (uintptr_t)__sheap_meta_end;
    if (base != (uintptr_t)SHEAP_REGION_BASE || end - base != (uintptr_t)SHEAP_REGION_SIZE)
        sheap_port_fault("sheap: the linker script's __sheap_region_start/end disagree with board.h's "
                         "SHEAP_REGION_BASE/SIZE",
                         __sheap_region_start, true);
    if ((meta | mend) & (PAGE - 1) || mend <= meta || mend - meta > (uintptr_t)SHEAP_STATIC_META_SIZE)
        sheap_port_fault("sheap: __sheap_meta_start/end not page aligned, empty, or larger than "
                         "SHEAP_STATIC_META_SIZE",
                         __sheap_meta_start, true);
    if (region_init(&default_region, base, end - base, meta, mend - meta) != 0)
        sheap_port_fault("sheap: the metadata pool overlaps the heap region, or another region was set up "
                         "over them first",
                         __sheap_meta_start, true);
    default_region.guarded = BOARD_HAS_GUARD;
    static_guard_init(base, end);
}

static inline void ensure_default(void)
{
    if (default_region.backend.ops == NULL)
        default_init();
}

const struct sheap_backend *sheap_port_default_backend(void)
{
    ensure_default();
    return &default_region.backend;
}

int sheap_static_region_init(struct sheap_static_region *r, uintptr_t base, uintptr_t size, uintptr_t meta_base,
                             uintptr_t meta_size)
{
    if (r == NULL)
        return SHEAP_EINVAL;
    sheap_port_lock();
    ensure_default(); /* the linker script's region is taken first */
    int rc = region_init(r, base, size, meta_base, meta_size);
    sheap_port_unlock();
    return rc;
}

/* ---- information (sheap_static.h) ---------------------------------------------- */

void sheap_static_region_info(const struct sheap_static_region *r, struct sheap_static_info *info)
{
    sheap_port_lock();
    ensure_default();
    if (r == NULL)
        r = &default_region;
    info->region_base = r->base;
    info->region_end = r->end;
    info->meta_base = r->meta_base;
    info->meta_end = r->meta_end;
    uintptr_t rpages = (r->end - r->base) >> SHEAP_PAGE_SHIFT, mpages = (r->meta_end - r->meta_base) >> SHEAP_PAGE_SHIFT;
    info->region_reserved_bytes = bits_count_range(r->reserved, 0, rpages) << SHEAP_PAGE_SHIFT;
    info->region_ready_bytes = bits_count_range(r->ready, 0, rpages) << SHEAP_PAGE_SHIFT;
    info->meta_reserved_bytes = bits_count_range(r->meta_reserved, 0, mpages) << SHEAP_PAGE_SHIFT;
    info->ready_end = r->ready_end;
    info->guard_granule = BOARD_HAS_GUARD && r->guarded ? static_guard_granule() : 0;
#if SHEAP_HARDENING >= 3
    info->guard_holes = holes_count(r);
    info->guard_holes_used = 0;
    for (unsigned i = 0; i < holes_count(r); i++)
        info->guard_holes_used += hole_len[i] != 0;
    info->guard_refused = holes_refused;
#endif
    sheap_port_unlock();
}

void sheap_static_info(struct sheap_static_info *info)
{
    sheap_static_region_info(NULL, info);
}

#if !BOARD_HAS_GUARD
/* No protection unit: nothing is guarded (static_guard.h). */
void static_guard_init(uintptr_t base, uintptr_t end) { (void)base; (void)end; }
void static_guard_set(uintptr_t ready_end_) { (void)ready_end_; }
uintptr_t static_guard_granule(void) { return 0; }
#if SHEAP_HARDENING >= 3
unsigned static_guard_holes(void) { return 0; }
void static_guard_hole(unsigned i, uintptr_t v, uintptr_t n) { (void)i; (void)v; (void)n; }
#endif
#endif
