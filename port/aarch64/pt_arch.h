/*
 * pt_arch.h (AArch64) - VMSAv8-64 descriptors and TLB maintenance for the
 * MMU backend's table walk (port/common/pagetable.c).  4 KB granule; the
 * number of levels follows the firmware's regime (T0SZ: 39-bit VA = three
 * levels starting at L1, 48-bit = four starting at L0).
 *
 * Descriptor bits[1:0]: 11 table (above the last level) or page (last
 * level), 01 block (firmware only: the backend makes pages).  AttrIndx
 * [4:2] (the firmware's MAIR index), AP[7:6] (00: EL1 read/write), SH[9:8],
 * AF[10], nG[11], output address [47:12], PXN[53], UXN[54].
 *
 * TLB maintenance, no more than the architecture requires (Arm ARM, DDI
 * 0487, "Translation Lookaside Buffers", rule RXCLRD: "Translation table
 * entries that generate a Translation fault, an Address size fault, or an
 * Access flag fault are never cached in a TLB"):
 *   map    the entry was invalid, so no TLB or walk cache holds it: no
 *          TLBI.  dsb ishst makes the store visible to the table walker,
 *          isb makes later instructions use it (pt_arch_publish).  A new
 *          table entry (linking a table) was invalid too: the same.
 *   unmap  dsb ishst; tlbi vaae1is (by VA, all ASIDs; the non-"last level"
 *          form also drops walk-cache entries for the VA, so it covers an
 *          unlinked table); dsb ish; isb before the frame is reused
 *          (pt_arch_invalidate_page / _walk, pt_arch_sync).
 * No global invalidation (TLBI VMALLE1) is ever issued.  Verified under
 * QEMU, see PLATFORMS.md.
 *
 * Several CPUs (SHEAP_SMP): every invalidation above is already
 * the Inner Shareable broadcast form (TLBI ...IS, completed by DSB ISH on
 * the CPU that issued it), so a page unmapped on one CPU is gone from every
 * CPU's TLB before its frame is reused; a mapping published with DSB ISHST
 * is visible to every CPU's walker before another CPU can learn the
 * address (through the heap lock, released after it).  The one addition
 * is the barrier after zeroing a table page (pt_arch_zero_page).
 */
#ifndef SHEAP_PT_ARCH_H
#define SHEAP_PT_ARCH_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t pte_t;

#define DESC_VALID (1ull << 0)
#define DESC_TABLE (1ull << 1) /* above the last level: table; last: page */
#define DESC_AF (1ull << 10)
#define DESC_PXN (1ull << 53)
#define DESC_UXN (1ull << 54)
#define DESC_ADDR_MASK 0x0000fffffffff000ull

/* What the firmware may choose for heap leaves: AttrIndx, SH, nG. */
#define PT_ATTRS_ALLOWED ((7ull << 2) | (3ull << 8) | (1ull << 11))

/* 1 when the regime's VA bits are supported, the window's upper limit. */
static inline bool pt_arch_va_bits_ok(unsigned va_bits) { return va_bits == 39 || va_bits == 48; }
static inline uintptr_t pt_arch_va_limit(unsigned va_bits) { return (uintptr_t)1 << va_bits; }
/* Output addresses a 4 KB-granule descriptor holds: bits [47:12]. */
#define PT_PA_BITS_MAX 48u

static inline bool pt_arch_attrs_ok(uint64_t attrs)
{
    return (attrs & ~PT_ATTRS_ALLOWED) == 0 && ((attrs >> 8) & 3) != 1; /* SH 01 is reserved */
}

static inline bool pte_valid(pte_t e) { return (e & DESC_VALID) != 0; }
static inline bool pte_is_table(pte_t e, bool last) { return !last && (e & DESC_TABLE); }
static inline pte_t pte_from_pa(uintptr_t pa) { return (pte_t)pa & DESC_ADDR_MASK; }
static inline pte_t pte_table(uintptr_t pa) { return (pte_t)pa | DESC_VALID | DESC_TABLE; }
static inline uintptr_t pte_pa(pte_t e) { return (uintptr_t)(e & DESC_ADDR_MASK); }

/* The fixed part of a heap leaf: EL1 read/write, never executable. */
static inline pte_t pte_leaf_base(uint64_t attrs) { return attrs | DESC_VALID | DESC_TABLE | DESC_AF | DESC_PXN | DESC_UXN; }

/* SMP builds: the zeroes of a new table page must be visible to every
 * CPU's table walker before the entry that links the page (pagetable.c's
 * pt_map stores it right after zeroing): another CPU may walk the new
 * entry speculatively, and a walk that found old frame contents there
 * could cache a bogus valid leaf, which the map path (no TLBI: the entry
 * was invalid) would never drop.  DSB ISHST orders the zeroing before the
 * link for all observers, walkers included (Linux puts a barrier at the
 * same point, before populating the upper entry).  One CPU needs nothing
 * here: its own walks see the link only after pt_arch_publish. */
#if SHEAP_SMP
#define PT_ARCH_ZEROED_BARRIER() __asm__ volatile("dsb ishst" ::: "memory")
#else
#define PT_ARCH_ZEROED_BARRIER() ((void)0)
#endif

/* Zero one 4 KB frame (reached at VA == PA, Normal memory) with DC ZVA
 * where the CPU allows it (DCZID_EL0.DZP = 0), else with stp pairs.  Not
 * memset: picolibc's is a byte loop. */
static inline void pt_arch_zero_page(uintptr_t pa)
{
    uint64_t dczid;
    __asm__("mrs %0, dczid_el0" : "=r"(dczid));
    if (!(dczid & 16)) {
        uintptr_t block = (uintptr_t)4 << (dczid & 15);
        for (uintptr_t p = pa; p < pa + 4096; p += block)
            __asm__ volatile("dc zva, %0" ::"r"(p) : "memory");
        PT_ARCH_ZEROED_BARRIER();
        return;
    }
    for (uintptr_t p = pa; p < pa + 4096; p += 16)
        __asm__ volatile("stp xzr, xzr, [%0]" ::"r"(p) : "memory");
    PT_ARCH_ZEROED_BARRIER();
}

/* After installing leaves [va, va + n): make them visible to the walker.
 * new_tables (new non-leaf entries) needs nothing more on AArch64. */
static inline void pt_arch_publish(uintptr_t va, uintptr_t n, bool new_tables)
{
    (void)va;
    (void)n;
    (void)new_tables;
    __asm__ volatile("dsb ishst\n\tisb" ::: "memory");
}

/* After clearing a leaf: make the store visible, then drop the TLB entry
 * of this VA in every ASID (completion: pt_arch_sync). */
static inline void pt_arch_invalidate_page(uintptr_t va)
{
    __asm__ volatile("dsb ishst\n\ttlbi vaae1is, %0" ::"r"((va >> 12) & 0xfffffffffffull) : "memory");
}

/* After unlinking a table: the VA-based TLBI drops walk-cache entries for
 * the VA at every level too. */
static inline void pt_arch_invalidate_walk(uintptr_t va) { pt_arch_invalidate_page(va); }

/* Wait for the invalidations above to complete. */
static inline void pt_arch_sync(void)
{
    __asm__ volatile("dsb ish\n\tisb" ::: "memory");
}

#endif
