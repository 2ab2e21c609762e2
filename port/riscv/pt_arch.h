/*
 * pt_arch.h (RISC-V) - Sv39 / Sv48 page-table entries and address-
 * translation fences for the shared table walk (port/common/pagetable.c).
 *
 * The board picks the mode with SHEAP_RISCV_SV (39, the default, or 48) in
 * its board.h:
 *   Sv39  three levels, index VA[38:30], VA[29:21], VA[20:12]; leaves at
 *         level 0 map 1 GB (gigapages), at level 2 4 KB;
 *   Sv48  four levels, index VA[47:39] ... VA[20:12]; leaves at level 1
 *         map 1 GB.
 * Only the lower half of the canonical space is used (VA < 2^38 or 2^47):
 * bits above the top index must be zero, which the board's SHEAP_MMU_VA_END
 * guarantees.
 *
 * PTE: V0 R1 W2 X3 U4 G5 A6 D7, PPN from bit 10 ((pa >> 12) << 10).  An
 * entry with V = 1 and R = W = X = 0 points to the next-level table; any of
 * R, W, X set makes it a leaf, at whatever level it sits.  Leaves are made
 * with A and D already set, so the hardware never has to update them (and
 * an implementation that faults on A/D = 0 instead never faults).
 *
 * Fences: RISC-V has no separate barrier before the walker sees a store;
 * sfence.vma orders earlier page-table stores before later implicit reads
 * of the tables and drops cached translations.  It is required after
 * every change, invalid -> valid included (the privileged spec lets a hart
 * cache invalid entries too), and with rs1 = zero whenever a non-leaf
 * entry changed.  Single hart: no remote fence (SBI) is needed.
 */
#ifndef SHEAP_PT_ARCH_H
#define SHEAP_PT_ARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "sheap_config.h" /* the board header: SHEAP_RISCV_SV */

typedef uint64_t pte_t;

#ifndef SHEAP_RISCV_SV
#define SHEAP_RISCV_SV 39
#endif

#if SHEAP_RISCV_SV == 39
#define PT_LEVELS 3u
#define PT_TOP_SHIFT 30u
#define SATP_MODE 8ull
#elif SHEAP_RISCV_SV == 48
#define PT_LEVELS 4u
#define PT_TOP_SHIFT 39u
#define SATP_MODE 9ull
#else
#error "SHEAP_RISCV_SV must be 39 or 48"
#endif

/* The level whose leaves map 1 GB: the identity map's gigapages. */
#define PT_GIGA_LEVEL (PT_LEVELS - 3u)

#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_U (1ull << 4)
#define PTE_G (1ull << 5)
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7)
#define PTE_RWX (PTE_R | PTE_W | PTE_X)
#define PTE_PPN_SHIFT 10
#define PTE_PPN_MASK ((1ull << 44) - 1) /* PPN is bits 53:10 */

static inline pte_t pte_from_pa(uintptr_t pa) { return ((pte_t)pa >> 12) << PTE_PPN_SHIFT; }

static inline bool pte_valid(pte_t e) { return (e & PTE_V) != 0; }
/* A pointer to the next level (R = W = X = 0), not a leaf; the level does
 * not matter on RISC-V. */
static inline bool pte_is_table(pte_t e, unsigned level)
{
    (void)level;
    return (e & PTE_RWX) == 0;
}
static inline pte_t pte_table(uintptr_t pa) { return pte_from_pa(pa) | PTE_V; }
static inline uintptr_t pte_pa(pte_t e) { return (uintptr_t)(((e >> PTE_PPN_SHIFT) & PTE_PPN_MASK) << 12); }

/* Heap page: supervisor read/write, never executable, accessed and dirty. */
static inline pte_t pte_page(uintptr_t pa) { return pte_from_pa(pa) | PTE_V | PTE_R | PTE_W | PTE_A | PTE_D; }

/* New entries (leaves and tables) must be seen by the walker before the
 * memory is used: one global fence after a batch of pt_map calls. */
static inline void pt_arch_publish(void)
{
    __asm__ volatile("sfence.vma zero, zero" ::: "memory");
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

/* sfence.vma completes before the next instruction on this hart; nothing
 * is left to wait for.  A compiler barrier keeps accesses after it. */
static inline void pt_arch_sync(void)
{
    __asm__ volatile("" ::: "memory");
}

#endif
