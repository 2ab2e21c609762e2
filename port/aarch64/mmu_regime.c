/*
 * mmu_regime.c (AArch64) - reads the firmware's translation regime for the
 * MMU backend: the root table from TTBR0_EL1 and the VA size from
 * TCR_EL1.T0SZ.  Reads only: sheap never writes TCR, MAIR, SCTLR or TTBR.
 */
#include "sheap_mmu.h"

#define SCTLR_M 1ull
#define TCR_T0SZ(t) ((unsigned)((t) & 63))
#define TCR_EPD0 (1ull << 7)
#define TCR_TG0(t) (((t) >> 14) & 3) /* 0: 4 KB */
#define TCR_IPS(t) ((unsigned)((t) >> 32) & 7)
#define TTBR_BADDR 0x0000fffffffff000ull

int sheap_mmu_read_regime(uintptr_t *root, unsigned *va_bits, unsigned *pa_bits)
{
    uint64_t sctlr, tcr, ttbr0;
    __asm__ volatile("mrs %0, sctlr_el1\n\t"
                     "mrs %1, tcr_el1\n\t"
                     "mrs %2, ttbr0_el1"
                     : "=r"(sctlr), "=r"(tcr), "=r"(ttbr0));
    if (!(sctlr & SCTLR_M))
        return SHEAP_MMU_EOFF;
    if (TCR_TG0(tcr) != 0 || (tcr & TCR_EPD0))
        return SHEAP_MMU_EINVAL;
    *root = (uintptr_t)(ttbr0 & TTBR_BADDR);
    /* IPS 52 needs FEAT_LPA2's descriptor format with a 4 KB granule; in
     * the classic format the backend writes, output addresses stop at 48. */
    static const unsigned char ips_bits[8] = {32, 36, 40, 42, 44, 48, 48, 48};
    *va_bits = 64 - TCR_T0SZ(tcr);
    *pa_bits = ips_bits[TCR_IPS(tcr)];
    return SHEAP_MMU_OK;
}
