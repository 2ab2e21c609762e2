/*
 * sheap_static.h - what the static port (port/static) tells tests and
 * firmware about itself.  Not needed to use sheap.
 *
 * The port owns two pieces of RAM, both from the board's linker script:
 *   the heap region  [__sheap_region_start, __sheap_region_end), which must
 *                    equal SHEAP_REGION_BASE / SHEAP_REGION_SIZE of board.h;
 *                    whole arenas are carved from it, arena-aligned;
 *   the metadata pool [__sheap_meta_start, __sheap_meta_end), at most
 *                    SHEAP_STATIC_META_SIZE bytes (board.h), outside the
 *                    region; every reservation that is not a whole number
 *                    of arenas (the core's arena records and metadata
 *                    chunks) comes from here.
 * Those two make the default instance, the default heap's backend, guarded
 * by the protection unit.  Firmware adds regions on other memories with
 * sheap_static_region_init (unguarded) and creates heaps on them.
 */
#ifndef SHEAP_STATIC_H
#define SHEAP_STATIC_H

#include <stdbool.h>
#include <stdint.h>

#include "sheap_backend.h"
#include "sheap_config.h"

#define SHEAP_STATIC_REGION_PAGES ((uintptr_t)(SHEAP_REGION_SIZE >> SHEAP_PAGE_SHIFT))
#define SHEAP_STATIC_META_PAGES ((uintptr_t)(SHEAP_STATIC_META_SIZE >> SHEAP_PAGE_SHIFT))

/*
 * One region of RAM and its metadata pool, as a backend.  Storage belongs
 * to the caller and must outlive every heap made on it.  Its bitmaps are
 * sized for the board's largest region (SHEAP_REGION_SIZE) and pool
 * (SHEAP_STATIC_META_SIZE): about (2 x region pages + pool pages) / 8 bytes.
 */
struct sheap_static_region {
    struct sheap_backend backend; /* create a heap with cfg.backend = &r->backend */
    /* The rest is the port's. */
    uintptr_t base, end;          /* the region: whole arenas, arena aligned */
    uintptr_t meta_base, meta_end;
    uintptr_t ready_end;          /* end of the highest Ready page (the guard's watermark) */
    bool guarded;                 /* the default instance, when the board has a guard */
    struct sheap_static_region *next;
    uintptr_t reserved[(SHEAP_STATIC_REGION_PAGES + 31) / 32];
    uintptr_t ready[(SHEAP_STATIC_REGION_PAGES + 31) / 32];
    uintptr_t meta_reserved[(SHEAP_STATIC_META_PAGES + 31) / 32];
};

/*
 * Set up *r over the region [base, base + size) and the metadata pool
 * [meta_base, meta_base + meta_size), which must not overlap.  Returns 0, or
 * with nothing changed: SHEAP_EINVAL when size is 0, not whole arenas or
 * more than SHEAP_REGION_SIZE, base is not arena aligned or the region
 * leaves the arena index (SHEAP_VA_BITS), meta_size is 0, not whole pages
 * or more than SHEAP_STATIC_META_SIZE, or the two overlap; SHEAP_EBUSY
 * when *r is live already or either range overlaps one of another
 * instance (the default one included).  Takes the heap lock.  The region
 * is not guarded.  O(1) + O(instances).
 */
int sheap_static_region_init(struct sheap_static_region *r, uintptr_t base, uintptr_t size, uintptr_t meta_base,
                             uintptr_t meta_size);

struct sheap_static_info {
    uintptr_t region_base, region_end;  /* from the linker script */
    uintptr_t meta_base, meta_end;
    uintptr_t region_reserved_bytes;    /* pages of the region now Reserved or beyond */
    uintptr_t region_ready_bytes;       /* pages of the region now Ready */
    uintptr_t meta_reserved_bytes;
    uintptr_t ready_end;                /* the guard's watermark: end of the highest
                                           Ready page of the region (region_base if none) */
    uintptr_t guard_granule;            /* 0 when the board has no guard */
#if SHEAP_HARDENING >= 3
    /* Level 3 builds only: protection regions for the guard pages of
     * sampled blocks (static_guard.h; 0 for an instance other than the
     * default one), those now over a live guarded block, and sampled
     * mallocs allocated unguarded because none was free (since boot). */
    uintptr_t guard_holes, guard_holes_used, guard_refused;
#endif
};

/* Fill *info for the default instance (initialises the port on first
 * use).  Takes the heap lock. */
void sheap_static_info(struct sheap_static_info *info);
/* The same for instance r (NULL: the default one). */
void sheap_static_region_info(const struct sheap_static_region *r, struct sheap_static_info *info);

#endif
