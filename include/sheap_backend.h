/*
 * sheap_backend.h - the contract between a heap and the memory it lives in.
 *
 * A heap is created with a backend: an operations table plus the backend's
 * own state.  Two heaps may sit on different memories with different
 * backends (a static SRAM region and an MMU window, say).  The core calls a
 * backend only when it grows, backs or gives back pages, never on the
 * small-block fast paths.
 *
 * Memory states (named as in the Go runtime, which this design follows):
 *
 *   None      not owned by the heap.
 *   Reserved  address space owned by the heap; any access faults.  Costs
 *             address-space bookkeeping only.
 *   Prepared  the core may keep metadata for it; still no physical backing,
 *             and access still faults.  Moving back to Reserved is free.
 *   Ready     backed by physical memory; safe to read and write.
 *
 *        reserve          map             used
 *   None --------> Reserved ----> Prepared -------> Ready
 *    ^                |  ^           |   <-------    |
 *    +-----release----+  +-----------+    unused     |
 *    +-----------------------release-----------------+  (release from any
 *                                                        state returns None)
 *
 * Common rules for every operation:
 *   - ctx is sheap_backend.ctx, untouched by the core;
 *   - addresses and lengths are multiples of sheap_backend.page_size, and
 *     lengths are non-zero;
 *   - the core calls them from one caller at a time (the owner of its
 *     growth section, with the heap lock dropped so that interrupts stay
 *     enabled; heap creation and destruction call them with the lock
 *     held), never from an interrupt handler, so a backend needs no
 *     locking of its own unless it is shared with code outside sheap;
 *   - a call that fails changes nothing: the range stays in its old state;
 *   - 0 (SHEAP_BACKEND_OK) means success; failures return one of the
 *     SHEAP_BACKEND_E* codes.
 *
 * Failures are expected, not fatal: running out of address space or of
 * physical frames makes the allocation at hand return NULL and leaves the
 * heap consistent.  A backend must never stop the machine for them.
 */
#ifndef SHEAP_BACKEND_H
#define SHEAP_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sheap_config.h" /* SHEAP_HARDENING: whether ops has protect */

#ifdef __cplusplus
extern "C" {
#endif

/* Result codes of the backend operations. */
enum {
    SHEAP_BACKEND_OK = 0,
    SHEAP_BACKEND_EBUSY = 1,  /* reserve: the range at the hint is taken */
    SHEAP_BACKEND_ENOMEM = 2, /* out of address space or physical frames */
};

struct sheap_backend_ops {
    /*
     * None -> Reserved.
     * hint != 0: reserve exactly [hint, hint+n) or fail; EBUSY when any part
     *   of it is already in use, ENOMEM for any other reason.
     * hint == 0: reserve n bytes anywhere the backend likes (page aligned).
     * On success *out holds the base.  Takes no physical memory.
     */
    int (*reserve)(void *ctx, uintptr_t hint, uintptr_t n, uintptr_t *out);
    /* Reserved -> Prepared.  May fail with ENOMEM. */
    int (*map)(void *ctx, uintptr_t v, uintptr_t n);
    /*
     * Prepared -> Ready: back every page.  Either all of [v, v+n) becomes
     * Ready or none of it does (ENOMEM).  *zeroed is set true when the
     * whole range is known to read as zero.
     */
    int (*used)(void *ctx, uintptr_t v, uintptr_t n, bool *zeroed);
    /* Ready -> Prepared: give the backing back.  Never fails.  Afterwards
     * an access faults where the hardware can express that. */
    void (*unused)(void *ctx, uintptr_t v, uintptr_t n);
    /* Reserved, Prepared or Ready -> None.  Any part of an earlier
     * reservation may be released on its own. */
    void (*release)(void *ctx, uintptr_t v, uintptr_t n);
#if SHEAP_HARDENING >= 3
    /*
     * Level 3 builds only (the field does not exist below, so the
     * tables of the other levels do not carry it).  Optional (NULL:
     * none).
     * For a backend whose unused does not by itself make a page fault
     * (the static port: a Prepared page below its watermark stays
     * accessible), it protects the guard page after a sampled block:
     *   on = true   [v, v+n), Ready or just given back with unused, is
     *               made to fault on access.  Returns false when it cannot
     *               be (no protection region free, or none at all); the
     *               core then allocates the block unguarded.
     *   on = false  the protection of an earlier call with the same range
     *               is lifted (the block was freed); returns true.
     * Unlike the others it is called with the heap lock held (interrupts
     * masked on the single-core ports), maybe from an interrupt handler
     * (a free there), so it must not block: a few register writes.  The
     * range's memory state is not changed.  NULL behaves as a backend
     * whose unused already faults (the MMU ports, the host).
     */
    bool (*protect)(void *ctx, uintptr_t v, uintptr_t n, bool on);
#endif
};

/* A backend instance: what a heap is created with.  The storage belongs to
 * the caller and must outlive every heap that uses it. */
struct sheap_backend {
    const struct sheap_backend_ops *ops;
    void *ctx;           /* the backend's own state, passed to every op */
    uintptr_t page_size; /* granule of every op; the heap page size
                            (SHEAP_PAGE_SIZE) must be a multiple of it */
    /* Metadata apart.  false (the default): the core puts a
     * guard page that is never made Ready on each side of every metadata
     * reservation (one that is not whole arenas), so no metadata byte is
     * ever next to a user block.  true: the backend itself keeps those
     * reservations apart from arena memory by at least one page that it
     * never hands out (a separate pool whose edges touch no region, as
     * port/static does), and the core adds no guard pages. */
    bool meta_apart;
};

#ifdef __cplusplus
}
#endif

#endif /* SHEAP_BACKEND_H */
