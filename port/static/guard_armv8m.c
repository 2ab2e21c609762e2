/*
 * guard_armv8m.c - static_guard.h on the ARMv8-M and ARMv8.1-M Mainline MPU
 * (Cortex-M33, Cortex-M55: clang defines only __ARM_ARCH_8_1M_MAIN__ for the
 * latter, gcc both).
 *
 * ARMv8-M regions are base/limit pairs with 32-byte granularity, so one
 * region expresses the guard exactly: [round_up(watermark, 32), end),
 * privileged read-only (AP = 10) and execute never.  ARMv8-M has no
 * "no access" permission: stores into the guard fault (MemManage), loads
 * do not.  Regions must not overlap on ARMv8-M (an address in two regions
 * faults), so the guard takes one region the board leaves free, and one
 * MAIR attribute slot for normal write-back memory.
 *
 * Board options (board.h):
 *   SHEAP_STATIC_MPU_REGION  the region (default: the MPU's last)
 *   SHEAP_STATIC_MPU_ATTR    the MAIR attribute index (default 7)
 *   SHEAP_STATIC_MPU_HOLES   level 3: regions for holes (default 4), the
 *                            ones just below the guard's
 * Region base and end must be 32-byte aligned.
 *
 * Level 3 holes (static_guard.h): hole i is region region - 1 - i, over
 * exactly the page, privileged read-only and execute never like the
 * guard (stores fault, loads do not).  Overlapping regions fault on any
 * access on ARMv8-M, so a hole over memory the watermark guard also covers
 * still faults (loads too).  The board must leave these regions free.  Runs in the security state
 * the core runs in (mps2-an505: Secure), programming that state's MPU.
 */
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)

#include <stdint.h>

#include "sheap_config.h"
#include "sheap_port.h"
#include "mpu_cortex_m.h"
#include "static_guard.h"

#ifndef SHEAP_STATIC_MPU_ATTR
#define SHEAP_STATIC_MPU_ATTR 7
#endif

#define MPU_RLAR (*(volatile uint32_t *)0xE000EDA0u)
#define MPU_MAIR ((volatile uint32_t *)0xE000EDC0u) /* MAIR0, MAIR1 */

#define GRANULE 32u
/* RBAR: SH = 00, AP[2:1] = 10 (privileged read-only), XN. */
#define RBAR_GUARD ((2u << 1) | 1u)
#define RLAR_EN 1u
/* Normal memory, outer and inner write-back non-transient, RW allocate. */
#define MAIR_NORMAL_WB 0xffu

static uintptr_t g_end;
static unsigned region;

uintptr_t static_guard_granule(void)
{
    return GRANULE;
}

void static_guard_init(uintptr_t base, uintptr_t end)
{
    if ((base | end) & (GRANULE - 1))
        sheap_port_fault("sheap: MPU guard: the heap region is not 32-byte aligned", (void *)base, true);
    g_end = end;
    unsigned dregion = mpu_regions();
#ifdef SHEAP_STATIC_MPU_REGION
    region = SHEAP_STATIC_MPU_REGION;
#else
    region = dregion ? dregion - 1 : 0;
#endif
    if (region >= dregion)
        sheap_port_fault("sheap: MPU guard: no such MPU region", (void *)(uintptr_t)region, true);
    unsigned shift = 8u * (SHEAP_STATIC_MPU_ATTR % 4u);
    volatile uint32_t *mair = &MPU_MAIR[SHEAP_STATIC_MPU_ATTR / 4u];
    *mair = (*mair & ~(0xffu << shift)) | (MAIR_NORMAL_WB << shift);
    static_guard_set(base);
    mpu_enable();
}

void static_guard_set(uintptr_t ready_end)
{
    uintptr_t g = (ready_end + GRANULE - 1) & ~(uintptr_t)(GRANULE - 1);
    MPU_RNR = region;
    MPU_RLAR = 0; /* off while it moves */
    if (g < g_end) {
        MPU_RBAR = (uint32_t)g | RBAR_GUARD;
        MPU_RLAR = (uint32_t)((g_end - 1) & ~(uintptr_t)(GRANULE - 1)) | (SHEAP_STATIC_MPU_ATTR << 1) | RLAR_EN;
    }
    barrier();
}

#if SHEAP_HARDENING >= 3
unsigned static_guard_holes(void)
{
    return region < SHEAP_STATIC_MPU_HOLES ? region : SHEAP_STATIC_MPU_HOLES;
}

void static_guard_hole(unsigned i, uintptr_t v, uintptr_t n)
{
    MPU_RNR = region - 1 - i;
    MPU_RLAR = 0;
    if (n != 0) {
        MPU_RBAR = (uint32_t)v | RBAR_GUARD;
        MPU_RLAR = (uint32_t)(v + n - GRANULE) | (SHEAP_STATIC_MPU_ATTR << 1) | RLAR_EN;
    }
    barrier();
}
#endif

#else
typedef int static_guard_armv8m_not_built; /* ISO C wants a declaration */
#endif
