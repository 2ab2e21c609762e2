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
 */
#ifndef SHEAP_STATIC_H
#define SHEAP_STATIC_H

#include <stdint.h>

struct sheap_static_info {
    uintptr_t region_base, region_end;  /* from the linker script */
    uintptr_t meta_base, meta_end;
    uintptr_t region_reserved_bytes;    /* pages of the region now Reserved or beyond */
    uintptr_t region_ready_bytes;       /* pages of the region now Ready */
    uintptr_t meta_reserved_bytes;
    uintptr_t ready_end;                /* the guard's watermark: end of the highest
                                           Ready page of the region (region_base if none) */
    uintptr_t guard_granule;            /* 0 when the board has no guard */
};

/* Fill *info (initialises the port on first use).  Takes the heap lock. */
void sheap_static_info(struct sheap_static_info *info);

#endif
