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
 *
 * Time: reserve is O(arena frames x words per arena) in the region and
 * O(meta pages) in the pool; map, used, unused and release are O(pages of
 * the range / 32) plus, when the watermark moves down, O(region pages / 32)
 * to find the new top.  All bounded by the board's constants.
 *
 * Locking: every function runs under the heap lock (the core calls them
 * with it held); sheap_static_info takes it itself.
 */
#include <stdbool.h>
#include <stdint.h>

#include "sheap.h"
#include "sheap_config.h"
#include "sheap_port.h"
#include "sheap_port_lock.h"
#include "sheap_static.h"
#include "static_guard.h"

#ifndef BOARD_HAS_GUARD
#define BOARD_HAS_GUARD 1
#endif
#ifndef SHEAP_STATIC_META_SIZE
#error "board.h must set SHEAP_STATIC_META_SIZE, the metadata pool's size (see docs/PORTING.md)"
#endif

#define PAGE SHEAP_PAGE_SIZE
#define REGION_PAGES ((uintptr_t)(SHEAP_REGION_SIZE >> SHEAP_PAGE_SHIFT))
#define META_PAGES ((uintptr_t)(SHEAP_STATIC_META_SIZE >> SHEAP_PAGE_SHIFT))
#define WORDS(n) (((n) + 31u) / 32u)

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

struct pool {
    uintptr_t base, end;
    uint32_t *reserved; /* one bit per page */
};

static uint32_t region_reserved[WORDS(REGION_PAGES)];
static uint32_t region_ready[WORDS(REGION_PAGES)];
static uint32_t meta_reserved[WORDS(META_PAGES)];
static struct pool region = {0, 0, region_reserved};
static struct pool meta = {0, 0, meta_reserved};
static uintptr_t ready_end; /* the watermark */
static bool initialized;

/* ---- bitmaps ----------------------------------------------------------------- */

/* Bits [lo, hi) of word w set (0 <= lo < hi <= 32). */
static inline uint32_t word_mask(uintptr_t lo, uintptr_t hi)
{
    uint32_t m = hi >= 32 ? ~0u : (1u << hi) - 1u;
    return m & ~((1u << lo) - 1u);
}

/* Whether any bit in [first, first + n) is set. */
static bool bits_any(const uint32_t *map, uintptr_t first, uintptr_t n)
{
    uintptr_t end = first + n;
    while (first < end) {
        uintptr_t w = first / 32, lo = first % 32;
        uintptr_t hi = end - w * 32 < 32 ? end - w * 32 : 32;
        if (map[w] & word_mask(lo, hi))
            return true;
        first = w * 32 + hi;
    }
    return false;
}

/* Whether every bit in [first, first + n) is set. */
static bool bits_all(const uint32_t *map, uintptr_t first, uintptr_t n)
{
    uintptr_t end = first + n;
    while (first < end) {
        uintptr_t w = first / 32, lo = first % 32;
        uintptr_t hi = end - w * 32 < 32 ? end - w * 32 : 32;
        uint32_t m = word_mask(lo, hi);
        if ((map[w] & m) != m)
            return false;
        first = w * 32 + hi;
    }
    return true;
}

static void bits_put(uint32_t *map, uintptr_t first, uintptr_t n, bool value)
{
    uintptr_t end = first + n;
    while (first < end) {
        uintptr_t w = first / 32, lo = first % 32;
        uintptr_t hi = end - w * 32 < 32 ? end - w * 32 : 32;
        if (value)
            map[w] |= word_mask(lo, hi);
        else
            map[w] &= ~word_mask(lo, hi);
        first = w * 32 + hi;
    }
}

/* One past the highest set bit below nbits, or 0. */
static uintptr_t bits_top(const uint32_t *map, uintptr_t nbits)
{
    for (uintptr_t w = WORDS(nbits); w-- > 0;)
        if (map[w])
            return w * 32 + 32 - (uintptr_t)__builtin_clz(map[w]);
    return 0;
}

static uintptr_t count_bits(const uint32_t *map, uintptr_t nbits)
{
    uintptr_t c = 0;
    for (uintptr_t w = 0; w < WORDS(nbits); w++)
        c += (uintptr_t)__builtin_popcount(map[w]);
    return c;
}

/* ---- set-up ------------------------------------------------------------------ */

static void port_init(void)
{
    region.base = (uintptr_t)__sheap_region_start;
    region.end = (uintptr_t)__sheap_region_end;
    meta.base = (uintptr_t)__sheap_meta_start;
    meta.end = (uintptr_t)__sheap_meta_end;
    if (region.base != (uintptr_t)SHEAP_REGION_BASE || region.end - region.base != (uintptr_t)SHEAP_REGION_SIZE)
        sheap_port_fault("sheap: the linker script's __sheap_region_start/end disagree with board.h's "
                         "SHEAP_REGION_BASE/SIZE",
                         __sheap_region_start, true);
    if ((meta.base | meta.end) & (PAGE - 1) || meta.end <= meta.base ||
        meta.end - meta.base > (uintptr_t)SHEAP_STATIC_META_SIZE)
        sheap_port_fault("sheap: __sheap_meta_start/end not page aligned, empty, or larger than "
                         "SHEAP_STATIC_META_SIZE",
                         __sheap_meta_start, true);
    if (meta.base < region.end && region.base < meta.end)
        sheap_port_fault("sheap: the metadata pool overlaps the heap region", __sheap_meta_start, true);
    ready_end = region.base;
    initialized = true;
    static_guard_init(region.base, region.end);
}

static inline void ensure_init(void)
{
    if (!initialized)
        port_init();
}

/* The pool holding all of [v, v + n), or NULL. */
static struct pool *pool_of(uintptr_t v, uintptr_t n)
{
    if (v + n < v)
        return NULL;
    if (v >= region.base && v + n <= region.end)
        return &region;
    if (v >= meta.base && v + n <= meta.end)
        return &meta;
    return NULL;
}

static inline uintptr_t page_no(const struct pool *p, uintptr_t v) { return (v - p->base) >> SHEAP_PAGE_SHIFT; }

/* After the region's ready bits were cleared somewhere: lower the watermark
 * to the new top when it was inside [v, v + n). */
static void watermark_drop(uintptr_t v, uintptr_t n)
{
    if (ready_end > v && ready_end <= v + n) {
        ready_end = region.base + (bits_top(region_ready, REGION_PAGES) << SHEAP_PAGE_SHIFT);
        static_guard_set(ready_end);
    }
}

/* ---- the port contract (sheap_port.h) --------------------------------------- */

uintptr_t sheap_port_page_size(void)
{
    return PAGE;
}

int sheap_port_reserve(uintptr_t hint, uintptr_t n, uintptr_t *out)
{
    if (sheap_fault_inject_hit(SHEAP_OP_RESERVE))
        return SHEAP_PORT_ENOMEM;
    ensure_init();
    if (n == 0 || (n & (PAGE - 1)) || (hint & (PAGE - 1)))
        return SHEAP_PORT_ENOMEM;
    uintptr_t npages = n >> SHEAP_PAGE_SHIFT;
    if (hint != 0) {
        struct pool *p = pool_of(hint, n);
        if (p == NULL)
            return SHEAP_PORT_ENOMEM;
        if (bits_any(p->reserved, page_no(p, hint), npages))
            return SHEAP_PORT_EBUSY;
        bits_put(p->reserved, page_no(p, hint), npages, true);
        *out = hint;
        return SHEAP_PORT_OK;
    }
    if ((n & (SHEAP_ARENA_SIZE - 1)) == 0) {
        /* Whole arenas: the first free arena-aligned run of the region. */
        for (uintptr_t a = region.base; a + n > a && a + n <= region.end; a += SHEAP_ARENA_SIZE) {
            if (!bits_any(region.reserved, page_no(&region, a), npages)) {
                bits_put(region.reserved, page_no(&region, a), npages, true);
                *out = a;
                return SHEAP_PORT_OK;
            }
        }
        return SHEAP_PORT_ENOMEM;
    }
    /* Anything else is metadata: first fit in the pool, page by page. */
    uintptr_t total = (meta.end - meta.base) >> SHEAP_PAGE_SHIFT, run = 0;
    for (uintptr_t i = 0; i < total; i++) {
        if ((meta.reserved[i / 32] >> (i % 32)) & 1u) {
            run = 0;
            continue;
        }
        if (++run == npages) {
            uintptr_t first = i + 1 - npages;
            bits_put(meta.reserved, first, npages, true);
            *out = meta.base + (first << SHEAP_PAGE_SHIFT);
            return SHEAP_PORT_OK;
        }
    }
    return SHEAP_PORT_ENOMEM;
}

int sheap_port_map(uintptr_t v, uintptr_t n)
{
    if (sheap_fault_inject_hit(SHEAP_OP_MAP))
        return SHEAP_PORT_ENOMEM;
    ensure_init();
    struct pool *p = pool_of(v, n);
    if (p == NULL || !bits_all(p->reserved, page_no(p, v), n >> SHEAP_PAGE_SHIFT))
        return SHEAP_PORT_ENOMEM; /* not a reservation of ours */
    return SHEAP_PORT_OK;
}

int sheap_port_used(uintptr_t v, uintptr_t n, bool *zeroed)
{
    if (sheap_fault_inject_hit(SHEAP_OP_USED))
        return SHEAP_PORT_ENOMEM;
    ensure_init();
    *zeroed = false;
    if (v >= region.base && v < region.end) {
        bits_put(region_ready, page_no(&region, v), n >> SHEAP_PAGE_SHIFT, true);
        if (v + n > ready_end) {
            ready_end = v + n;
            static_guard_set(ready_end);
        }
    }
    return SHEAP_PORT_OK;
}

void sheap_port_unused(uintptr_t v, uintptr_t n)
{
    ensure_init();
    if (v >= region.base && v < region.end) {
        bits_put(region_ready, page_no(&region, v), n >> SHEAP_PAGE_SHIFT, false);
        watermark_drop(v, n);
    }
}

void sheap_port_release(uintptr_t v, uintptr_t n)
{
    ensure_init();
    struct pool *p = pool_of(v, n);
    if (p == NULL) {
        sheap_port_fault("sheap: release of a range the static port never reserved", (void *)v, true);
        return;
    }
    bits_put(p->reserved, page_no(p, v), n >> SHEAP_PAGE_SHIFT, false);
    if (p == &region) {
        bits_put(region_ready, page_no(&region, v), n >> SHEAP_PAGE_SHIFT, false);
        watermark_drop(v, n);
    }
}

/* ---- information (sheap_static.h) ---------------------------------------------- */

void sheap_static_info(struct sheap_static_info *info)
{
    sheap_port_lock();
    ensure_init();
    info->region_base = region.base;
    info->region_end = region.end;
    info->meta_base = meta.base;
    info->meta_end = meta.end;
    info->region_reserved_bytes = count_bits(region_reserved, REGION_PAGES) << SHEAP_PAGE_SHIFT;
    info->region_ready_bytes = count_bits(region_ready, REGION_PAGES) << SHEAP_PAGE_SHIFT;
    info->meta_reserved_bytes = count_bits(meta_reserved, META_PAGES) << SHEAP_PAGE_SHIFT;
    info->ready_end = ready_end;
    info->guard_granule = BOARD_HAS_GUARD ? static_guard_granule() : 0;
    sheap_port_unlock();
}

#if !BOARD_HAS_GUARD
/* No protection unit: nothing is guarded (static_guard.h). */
void static_guard_init(uintptr_t base, uintptr_t end) { (void)base; (void)end; }
void static_guard_set(uintptr_t ready_end_) { (void)ready_end_; }
uintptr_t static_guard_granule(void) { return 0; }
#endif
