/*
 * port_aarch64.c - the AArch64 parts of the MMU port: turning translation
 * on with an identity map of the low 4 GB (devices and RAM) and the state
 * of the heap lock (DAIF, see sheap_port_lock.h).  The memory
 * state machinery is shared with RISC-V in port/common/port_mmu.c.
 *
 * Translation regime: EL1&0, TTBR0 only (EPD1 = 1), 48-bit VA, 4 KB
 * granule.  MAIR attr0 = Device-nGnRnE, attr1 = Normal write-back.  The
 * identity map uses two 1 GB blocks at L1 under L0[0]: [0, 1 GB) device
 * (UART, GIC) and [1 GB, 2 GB) normal (RAM: the image, the stack, the frame
 * pool).  Heap addresses start at SHEAP_MMU_VA_MIN, far above, and use L3
 * pages only.
 */
#include "sheap.h"
#include "sheap_config.h"
#include "sheap_port.h"

#include "frames.h"
#include "pagetable.h"

void mmu_arch_enable(void);

#define L1_BLOCK_DEVICE (DESC_VALID | DESC_ATTR(0) | DESC_AF | DESC_PXN | DESC_UXN)
#define L1_BLOCK_NORMAL (DESC_VALID | DESC_ATTR(1) | DESC_AF | DESC_SH_INNER)

void mmu_arch_enable(void)
{
    /* Identity blocks; their L1 table keeps a count > 0 forever. */
    if (pt_map(0x00000000u, 0x00000000u | L1_BLOCK_DEVICE, 1) != 0 ||
        pt_map(0x40000000u, 0x40000000u | L1_BLOCK_NORMAL, 1) != 0)
        sheap_port_fault("sheap: no frames for the identity map", NULL, true);

    uint64_t mair = 0xff00;
    uint64_t tcr = 16          /* T0SZ: 48-bit VA */
                   | (1u << 8) /* IRGN0 write-back */
                   | (1u << 10) /* ORGN0 write-back */
                   | (3u << 12) /* SH0 inner shareable */
                   | (0u << 14) /* TG0 4 KB */
                   | (1u << 23) /* EPD1: no TTBR1 walks */
                   | (2ull << 32); /* IPS 40-bit */
    __asm__ volatile("msr mair_el1, %0\n\t"
                     "msr tcr_el1, %1\n\t"
                     "msr ttbr0_el1, %2\n\t"
                     "dsb ish\n\t"
                     "tlbi vmalle1\n\t"
                     "dsb ish\n\t"
                     "isb" ::"r"(mair),
                     "r"(tcr), "r"((uint64_t)pt_root)
                     : "memory");
    uint64_t sctlr;
    __asm__ volatile("mrs %0, sctlr_el1" : "=r"(sctlr));
    sctlr |= (1u << 0) | (1u << 2) | (1u << 12); /* M, C, I */
    __asm__ volatile("msr sctlr_el1, %0\n\tisb" ::"r"(sctlr) : "memory");
}

/* Saved interrupt state of the heap lock (sheap_port_lock.h); the lock
 * functions, fault hook and errno are in port/common/port_picolibc.c. */
uint64_t sheap_port_saved_daif;
