/*
 * pt_arch.h (AArch64) - VMSAv8-64 descriptors and TLB maintenance for the
 * shared table walk (port/common/pagetable.c).  4 KB granule, 48-bit VA,
 * four levels (L0 index VA[47:39] ... L3 index VA[20:12]).
 */
#ifndef SHEAP_PT_ARCH_H
#define SHEAP_PT_ARCH_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t pte_t;

#define PT_LEVELS 4u
#define PT_TOP_SHIFT 39u

#define DESC_VALID (1ull << 0)
#define DESC_TABLE (1ull << 1) /* L0-L2: table; L3: page (must be set) */
#define DESC_ATTR(i) ((uint64_t)(i) << 2) /* MAIR index: 0 device, 1 normal */
#define DESC_AP_RW_EL1 (0ull << 6)
#define DESC_SH_INNER (3ull << 8)
#define DESC_AF (1ull << 10)
#define DESC_PXN (1ull << 53)
#define DESC_UXN (1ull << 54)
#define DESC_ADDR_MASK 0x0000fffffffff000ull

static inline bool pte_valid(pte_t e) { return (e & DESC_VALID) != 0; }
static inline bool pte_is_table(pte_t e, unsigned level) { return level < 3 && (e & DESC_TABLE); }
static inline pte_t pte_table(uintptr_t pa) { return (pte_t)pa | DESC_VALID | DESC_TABLE; }
static inline uintptr_t pte_pa(pte_t e) { return (uintptr_t)(e & DESC_ADDR_MASK); }

/* Heap page: normal write-back memory, EL1 read/write, never executable. */
static inline pte_t pte_page(uintptr_t pa)
{
    return (pte_t)pa | DESC_VALID | DESC_TABLE | DESC_ATTR(1) | DESC_AP_RW_EL1 | DESC_SH_INNER | DESC_AF |
           DESC_PXN | DESC_UXN;
}

/* New entries must be visible to the table walker before the memory is used. */
static inline void pt_arch_publish(void)
{
    __asm__ volatile("dsb ishst\n\tisb" ::: "memory");
}

/* After clearing a leaf: make the store visible, then drop the TLB entry. */
static inline void pt_arch_invalidate_page(uintptr_t va)
{
    __asm__ volatile("dsb ishst\n\ttlbi vae1is, %0" ::"r"(va >> 12) : "memory");
}

/* After unlinking a table: walk caches may hold it; drop everything cached
 * for this VA (vae1is invalidates walk entries for the address too). */
static inline void pt_arch_invalidate_walk(uintptr_t va)
{
    __asm__ volatile("dsb ishst\n\ttlbi vae1is, %0" ::"r"(va >> 12) : "memory");
}

/* Wait for the invalidations above to complete. */
static inline void pt_arch_sync(void)
{
    __asm__ volatile("dsb ish\n\tisb" ::: "memory");
}

#endif
