/*
 * pt_arch.h (RISC-V) - Sv39 / Sv48 page-table entries and address-
 * translation fences for the MMU backend's table walk
 * (port/common/pagetable.c).  The mode is the firmware's (satp):
 *   Sv39  three levels, index VA[38:30], VA[29:21], VA[20:12];
 *   Sv48  four levels, index VA[47:39] ... VA[20:12].
 * Windows lie in the lower half of the canonical space (VA < 2^38 or
 * 2^47), where every bit above the top index is zero.
 *
 * PTE: V0 R1 W2 X3 U4 G5 A6 D7, PPN from bit 10 ((pa >> 12) << 10), PBMT
 * [62:61] with Svpbmt.  V = 1 with R = W = X = 0 points to the next-level
 * table; any of R, W, X makes a leaf.  Heap leaves are made with A and D
 * set, so the hardware never updates them.
 *
 * Fences, no more than the privileged spec requires (RISC-V Privileged
 * ISA, "Supervisor Memory-Management Fence Instruction", SFENCE.VMA):
 * sfence.vma orders earlier page-table stores before later implicit reads
 * and drops cached translations.  Base RISC-V lets a hart cache invalid
 * entries (the Svvptc extension removes that, not assumed here), so a new
 * leaf needs a fence too.  "If rs1 != x0 and rs2 = x0, the fence orders
 * only reads and writes made to leaf page table entries corresponding to
 * the virtual address in rs1": so
 *   map or unmap of a leaf   sfence.vma va, zero, one per page (never a
 *                            global fence for leaves);
 *   a table linked or unlinked (a non-leaf entry changed)   sfence.vma
 *                            zero, zero: "If software modifies a non-leaf
 *                            PTE, it should execute SFENCE.VMA with
 *                            rs1=x0" (no narrower form names the non-leaf
 *                            entries of one address).
 * The spec's lazy option for invalid -> valid leaves (fence on the page
 * fault) needs a fault handler sheap does not own: not used.
 *
 * Several harts (SHEAP_SMP=1): sfence.vma acts on the hart that
 * runs it only (QEMU's too), so after clearing leaves or unlinking tables
 * another hart may still hold the old translation and reach a frame that
 * now backs other memory.  pt_arch_sync, which the table walk calls after
 * every batch of invalidations and before the frames go back to the pool
 * or the range is released (pt_flush in pagetable.c), then also calls
 * sheap_port_remote_sfence(): the board's remote fence (an IPI to every
 * other running hart, which runs sfence.vma and acknowledges; SBI's
 * remote_sfence_vma does the same), which returns when all have done so.
 * A new leaf needs no remote fence as long as no hart caches an invalid
 * entry it never touched: true on QEMU (failed walks are not cached) and
 * with Svvptc; a hart could only have met the entry by touching heap
 * memory it had not been given.
 */
#ifndef SHEAP_PT_ARCH_H
#define SHEAP_PT_ARCH_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t pte_t;

#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_G (1ull << 5)
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7)
#define PTE_RWX (PTE_R | PTE_W | PTE_X)
#define PTE_PBMT (3ull << 61)
#define PTE_PPN_SHIFT 10
#define PTE_PPN_MASK ((1ull << 44) - 1) /* PPN is bits 53:10 */

/* What the firmware may choose for heap leaves: G and PBMT (not 3). */
#define PT_ATTRS_ALLOWED (PTE_G | PTE_PBMT)

static inline bool pt_arch_va_bits_ok(unsigned va_bits) { return va_bits == 39 || va_bits == 48; }
/* Lower half of the canonical space only. */
static inline uintptr_t pt_arch_va_limit(unsigned va_bits) { return (uintptr_t)1 << (va_bits - 1); }
/* Physical addresses a PTE's 44-bit PPN reaches. */
#define PT_PA_BITS_MAX 56u

static inline bool pt_arch_attrs_ok(uint64_t attrs)
{
    return (attrs & ~PT_ATTRS_ALLOWED) == 0 && (attrs & PTE_PBMT) != PTE_PBMT;
}

static inline pte_t pte_from_pa(uintptr_t pa) { return ((pte_t)pa >> 12) << PTE_PPN_SHIFT; }
static inline bool pte_valid(pte_t e) { return (e & PTE_V) != 0; }
/* A pointer to the next level (R = W = X = 0); the level does not matter. */
static inline bool pte_is_table(pte_t e, bool last)
{
    (void)last;
    return (e & PTE_RWX) == 0;
}
static inline pte_t pte_table(uintptr_t pa) { return pte_from_pa(pa) | PTE_V; }
static inline uintptr_t pte_pa(pte_t e) { return (uintptr_t)(((e >> PTE_PPN_SHIFT) & PTE_PPN_MASK) << 12); }

/* The fixed part of a heap leaf: supervisor read/write, never executable,
 * accessed and dirty; the address goes in with pte_from_pa. */
static inline pte_t pte_leaf_base(uint64_t attrs) { return attrs | PTE_V | PTE_R | PTE_W | PTE_A | PTE_D; }

/* Zero one 4 KB frame (reached at VA == PA): eight sd per round.  Not
 * memset: picolibc's is a byte loop. */
static inline void pt_arch_zero_page(uintptr_t pa)
{
    for (uintptr_t p = pa; p < pa + 4096; p += 64)
        __asm__ volatile("sd zero, 0(%0)\n\tsd zero, 8(%0)\n\tsd zero, 16(%0)\n\tsd zero, 24(%0)\n\t"
                         "sd zero, 32(%0)\n\tsd zero, 40(%0)\n\tsd zero, 48(%0)\n\tsd zero, 56(%0)" ::"r"(p)
                         : "memory");
}

/* After installing leaves [va, va + n): one address-specific fence per
 * page, or one global fence when a table was linked (non-leaf change). */
static inline void pt_arch_publish(uintptr_t va, uintptr_t n, bool new_tables)
{
    if (new_tables) {
        __asm__ volatile("sfence.vma zero, zero" ::: "memory");
        return;
    }
    for (uintptr_t p = va; p < va + n; p += 4096)
        __asm__ volatile("sfence.vma %0, zero" ::"r"(p) : "memory");
}

/* After clearing a leaf: order the store before later walks and drop the
 * cached translation of this page. */
static inline void pt_arch_invalidate_page(uintptr_t va)
{
    __asm__ volatile("sfence.vma %0, zero" ::"r"(va) : "memory");
}

/* After unlinking a table (a non-leaf entry changed): only a fence with
 * rs1 = zero covers cached non-leaf entries. */
static inline void pt_arch_invalidate_walk(uintptr_t va)
{
    (void)va;
    __asm__ volatile("sfence.vma zero, zero" ::: "memory");
}

#if defined(SHEAP_SMP) && SHEAP_SMP
/* The board's remote fence (see above); called with no sheap lock
 * requirement, from the backend's callers (growth sections, trim). */
void sheap_port_remote_sfence(void);

/* Local fences are done; the other harts drop their translations too. */
static inline void pt_arch_sync(void)
{
    sheap_port_remote_sfence();
}
#else
/* sfence.vma completes before the next instruction on this hart; nothing
 * is left to wait for.  A compiler barrier keeps accesses after it. */
static inline void pt_arch_sync(void)
{
    __asm__ volatile("" ::: "memory");
}
#endif

#endif
