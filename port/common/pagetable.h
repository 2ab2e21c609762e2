/*
 * pagetable.h - the translation-table walk of an MMU backend instance.
 *
 * Tables are 4 KB pages of 512 eight-byte entries, m->levels deep (3 for a
 * 39-bit VA, 4 for 48-bit); level 0 is the firmware's root table.  What
 * differs between architectures (descriptor bits, barriers, TLB
 * maintenance) comes from the port's pt_arch.h; the walk, table allocation
 * and the freeing of tables that become empty live here once.
 *
 * Ownership: the instance writes only root entries inside its window (all
 * invalid when it was created) and the tables it linked there, all taken
 * from its own frame pool.  Every table page of the instance keeps its
 * count of valid entries in frames.c's per-frame counter; the root, which
 * is the firmware's, has none.  A table whose count drops to zero is
 * unlinked from its parent, the walk caches are invalidated and the page
 * goes back to the pool, after the invalidation completed.
 *
 * Entries only ever go from invalid to valid (pt_map) or from valid to
 * invalid (pt_unmap): a valid entry is never rewritten in place, so
 * break-before-make is pt_unmap (clear, invalidate by VA, complete before
 * the frame is reused), and "make" happens later into an invalid slot.
 * Called with the heap's lock held.
 */
#ifndef SHEAP_PAGETABLE_H
#define SHEAP_PAGETABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "pt_arch.h"
#include "sheap_mmu.h"

#define PT_ENTRIES 512u

/* Shift of the VA bits a level-l entry covers (12 for the last level). */
static inline unsigned pt_shift(const struct sheap_mmu *m, unsigned l) { return m->top_shift - 9u * l; }
static inline unsigned pt_index(const struct sheap_mmu *m, uintptr_t va, unsigned l)
{
    return (unsigned)(va >> pt_shift(m, l)) & (PT_ENTRIES - 1);
}

/* Install the last-level entry e for va; tables on the way are allocated
 * on demand.  Returns 1 when it linked a new table, 0 when not, -1 when a
 * table frame is not available or the walk meets a leaf that is not the
 * instance's (nothing is left half done: tables made on the way stay, and
 * the next unmap under them frees them). */
int pt_map(struct sheap_mmu *m, uintptr_t va, pte_t e);

/* Frames whose reuse waits for a TLB invalidation to complete. */
struct pt_pending {
    unsigned n;
    uintptr_t pa[16];
};
/* Clear the page mapping of va; returns the frame it mapped, or 0 if none.
 * Invalidates the TLB entry and unlinks tables that become empty, whose
 * frames join *pend (pt_flush frees them after the invalidations). */
uintptr_t pt_unmap(struct sheap_mmu *m, uintptr_t va, struct pt_pending *pend);
/* Add pa to *pend (flushing it first when full). */
void pt_defer_free(struct sheap_mmu *m, struct pt_pending *pend, uintptr_t pa);
/* Wait for the invalidations, then free the pending frames. */
void pt_flush(struct sheap_mmu *m, struct pt_pending *pend);

/* The last-level entry for va (0 when unmapped). */
pte_t pt_lookup(const struct sheap_mmu *m, uintptr_t va);
/* Next va at or after va that may have a mapping, skipping empty subtrees;
 * returns end when there is none before end. */
uintptr_t pt_next_mapped(const struct sheap_mmu *m, uintptr_t va, uintptr_t end);

#endif
