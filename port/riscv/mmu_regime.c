/*
 * mmu_regime.c (RISC-V) - reads the firmware's translation regime for the
 * MMU backend from satp: the root table's PPN and the mode (Sv39, Sv48).
 * Reads only: sheap never writes satp.  Runs in S-mode.
 */
#include "sheap_mmu.h"

#define SATP_MODE(s) ((unsigned)((s) >> 60))
#define SATP_PPN(s) ((s) & ((1ull << 44) - 1))

int sheap_mmu_read_regime(uintptr_t *root, unsigned *va_bits, unsigned *pa_bits)
{
    uint64_t satp;
    __asm__ volatile("csrr %0, satp" : "=r"(satp));
    switch (SATP_MODE(satp)) {
    case 0:
        return SHEAP_MMU_EOFF;
    case 8:
        *va_bits = 39;
        break;
    case 9:
        *va_bits = 48;
        break;
    default:
        return SHEAP_MMU_EINVAL;
    }
    *root = (uintptr_t)(SATP_PPN(satp) << 12);
    *pa_bits = 56;
    return SHEAP_MMU_OK;
}
