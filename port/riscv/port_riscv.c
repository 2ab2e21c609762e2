/*
 * port_riscv.c - the RISC-V parts of the MMU port: turning translation on
 * (Sv39, or Sv48 by board option) with an identity map of the board's
 * devices and RAM, and the state of the heap lock (sstatus.SIE).  The lock
 * functions, fault hook and errno are in port/common/port_picolibc.c.
 * The memory-state machinery (reserve, map, used, unused, release), the
 * frame allocator and the table walk are shared with AArch64 in
 * port/common; pt_arch.h supplies the PTE format and the sfence.vma fences.
 *
 * Runs in S-mode: the board enters S-mode from M-mode (PMP, delegation,
 * counters) before main, and translation is turned on here, on the first
 * heap call.  Before that satp is Bare and addresses are physical, which
 * the identity map keeps true for everything below SHEAP_MMU_VA_MIN.
 *
 * Identity map (gigapage leaves, pinned: their table keeps a count > 0
 * forever, so the shared code never frees it):
 *   [BOARD_MMIO_BASE, +BOARD_MMIO_SIZE)  devices: R W, never executable
 *   [BOARD_RAM_BASE, +BOARD_RAM_SIZE)    RAM (image, stack, frame pool): R W X
 * each rounded out to whole gigabytes.  With Sv39 the gigapages are root
 * entries, with Sv48 entries of the table under root[0].  Heap addresses
 * start at SHEAP_MMU_VA_MIN, above all of it, and use 4 KB leaves only: a
 * heap walk never meets a gigapage (which the shared walk would otherwise
 * take for a table).
 */
#include "sheap.h"
#include "sheap_config.h"
#include "sheap_port.h"

#include "frames.h"
#include "pagetable.h"

#define GIGA ((uintptr_t)1 << 30)
#define GIGA_ROUND_UP(x) (((uintptr_t)(x) + GIGA - 1) & ~(GIGA - 1))

_Static_assert(GIGA_ROUND_UP((uintptr_t)BOARD_RAM_BASE + BOARD_RAM_SIZE) <= SHEAP_MMU_VA_MIN &&
                   GIGA_ROUND_UP((uintptr_t)BOARD_MMIO_BASE + BOARD_MMIO_SIZE) <= SHEAP_MMU_VA_MIN,
               "heap addresses start above the identity map");
_Static_assert(SHEAP_MMU_VA_END <= ((uintptr_t)1 << (SHEAP_RISCV_SV - 1)),
               "heap addresses stay in the lower half of the canonical space");

void mmu_arch_enable(void);

#define GIGA_DEVICE (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
#define GIGA_RAM (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)

static void identity_map(uintptr_t base, uintptr_t size, pte_t bits)
{
    for (uintptr_t pa = base & ~(GIGA - 1); pa < GIGA_ROUND_UP(base + size); pa += GIGA)
        if (pt_map(pa, pte_from_pa(pa) | bits, PT_GIGA_LEVEL) != 0)
            sheap_port_fault("sheap: no frames for the identity map", NULL, true);
}

void mmu_arch_enable(void)
{
    identity_map(BOARD_MMIO_BASE, BOARD_MMIO_SIZE, GIGA_DEVICE);
    identity_map(BOARD_RAM_BASE, BOARD_RAM_SIZE, GIGA_RAM);
    /* The table stores above must be ordered before the first walk: write
     * satp (ASID 0), then fence everything. */
    uint64_t satp = (SATP_MODE << 60) | ((uint64_t)pt_root >> 12);
    __asm__ volatile("csrw satp, %0\n\t"
                     "sfence.vma zero, zero" ::"r"(satp)
                     : "memory");
}

/* Saved interrupt state of the heap lock (sheap_port_lock.h); the lock
 * functions, fault hook and errno are in port/common/port_picolibc.c. */
unsigned long sheap_port_saved_sie;
