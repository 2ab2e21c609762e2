/*
 * pagetable.h - the translation-table walk shared by the MMU ports.
 *
 * Tables are 4 KB pages of 512 eight-byte entries, PT_LEVELS deep (4 for
 * AArch64 48-bit and Sv48, 3 for Sv39).  What differs between architectures
 * (descriptor bits, barriers, TLB maintenance) comes from the port's
 * pt_arch.h; the walk, table allocation and the freeing of tables that
 * become empty live here once.
 *
 * Entries only ever go from invalid to valid (pt_map) or from valid to
 * invalid (pt_unmap); a valid entry is never rewritten in place, so there is
 * no break-before-make sequence to get wrong: "break" is pt_unmap, with the
 * TLB invalidated before the frame is reused, and "make" happens later into
 * an invalid slot.
 *
 * Every table page's count of valid entries is kept in frames.c's per-frame
 * counter.  A table whose count drops to zero is unlinked from its parent,
 * the walk caches are invalidated, and the page goes back to the pool.
 * Called with the heap lock held.
 */
#ifndef SHEAP_PAGETABLE_H
#define SHEAP_PAGETABLE_H

#include <stdint.h>

#include "pt_arch.h"

extern uintptr_t pt_root; /* physical address of the top-level table */

/* Allocate an empty root table; returns 0 when no frame is left. */
uintptr_t pt_init_root(void);
/* Install a leaf at level (PT_LEVELS - 1 for pages, less for blocks) that
 * maps va to entry e; intermediate tables are allocated on demand.  Returns
 * 0 or -1 when a table frame is not available (nothing is left half done:
 * tables made on the way stay, empty ones are freed by the next unmap).
 * Pinned leaves (the identity map) keep their tables forever. */
int pt_map(uintptr_t va, pte_t e, unsigned level);
/* Clear the page mapping of va; returns the frame it mapped, or 0 if none.
 * Invalidates the TLB entry (sync with pt_arch_sync after a batch) and
 * frees tables that become empty. */
uintptr_t pt_unmap(uintptr_t va);
/* The leaf entry for va (0 when unmapped). */
pte_t pt_lookup(uintptr_t va);
/* Next va at or after va that may have a mapping, skipping empty subtrees;
 * returns end when there is none before end. */
uintptr_t pt_next_mapped(uintptr_t va, uintptr_t end);

#endif
