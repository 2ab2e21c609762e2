/*
 * guard_armv7m.c - static_guard.h on the ARMv7-M MPU (Cortex-M3/M4/M7).
 *
 * An ARMv7-M region is a power of two in size, aligned to its size, and
 * split into 8 sub-regions that can each be disabled (RASR.SRD).  The guard
 * [g, end), g = round_up(watermark, granule), is built from up to
 * SHEAP_STATIC_MPU_LEVELS nested regions:
 *
 *   level 0  the smallest aligned power-of-two block B0 holding the heap
 *            region; enabled sub-regions: those inside [round_up(g, B0/8), end)
 *   level 1  the sub-region of level 0 that g falls in (when g is not on a
 *            level-0 sub-region boundary), its eighths enabled from g up
 *   ...      and so on, each level 8 times finer
 *
 * For the 16 MB heap of mps2-an385: 16 MB / 2 MB, 2 MB / 256 KB,
 * 256 KB / 32 KB, 32 KB / 4 KB, so the granule is 4 KB.  Enabled parts of
 * different levels never overlap, so region priority does not matter.
 * Guard regions: no access (AP = 000) for privileged and unprivileged code,
 * execute never; everything else keeps the default map (PRIVDEFENA) or the
 * board's regions.
 *
 * Board options (board.h):
 *   SHEAP_STATIC_MPU_LEVELS        regions the guard may use (default 4)
 *   SHEAP_STATIC_MPU_FIRST_REGION  the first of them (default: the top
 *                                  LEVELS regions of the MPU, which win over
 *                                  the board's lower-numbered ones)
 *   SHEAP_STATIC_MPU_HOLES         level 3: regions for holes (default 4,
 *                                  at most those below the guard's)
 * The region's end must lie on a level-0 sub-region boundary (B0 / 8);
 * static_guard_init stops with a fault report otherwise.
 *
 * Level 3 holes (static_guard.h): hole i is region first_region - 1 - i,
 * one power-of-two region without sub-region disables, no access, execute
 * never.  A hole may overlap the watermark guard (both deny everything,
 * so the priority between them does not matter); a region the board
 * programs over the heap must be numbered below every hole, so that the
 * hole wins (mps2-an385 programs none: the default map, PRIVDEFENA).
 */
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__)

#include <stdbool.h>
#include <stdint.h>

#include "sheap_config.h"
#include "sheap_port.h"
#include "mpu_cortex_m.h"
#include "static_guard.h"

#ifndef SHEAP_STATIC_MPU_LEVELS
#define SHEAP_STATIC_MPU_LEVELS 4
#endif

#define MPU_RASR (*(volatile uint32_t *)0xE000EDA0u)

/* Execute never, AP = 000 (no access), normal memory write-back (C, B). */
#define RASR_GUARD ((1u << 28) | (1u << 17) | (1u << 16))
#define RASR_EN 1u

static uintptr_t g_base, g_end; /* the heap region */
static uintptr_t b0;            /* level-0 block */
static unsigned b0_log2;        /* its size, log2 */
static unsigned levels;         /* levels in use */
static unsigned first_region;

static void region_write(unsigned n, uint32_t base, uint32_t rasr)
{
    MPU_RNR = n;
    MPU_RASR = 0; /* off while base and size change */
    MPU_RBAR = base;
    MPU_RASR = rasr;
}

uintptr_t static_guard_granule(void)
{
    return (uintptr_t)1 << (b0_log2 - 3 * levels);
}

void static_guard_init(uintptr_t base, uintptr_t end)
{
    g_base = base;
    g_end = end;
    /* Smallest aligned power-of-two block (>= 256 B, the least that has
     * sub-regions) holding [base, end). */
    unsigned s = 8;
    while (s < 32 && ((base >> s) != ((end - 1) >> s)))
        s++;
    b0_log2 = s;
    b0 = s == 32 ? 0 : base & ~(((uintptr_t)1 << s) - 1);
    if (s == 32 || (end & ((((uintptr_t)1 << s) >> 3) - 1)) != 0)
        sheap_port_fault("sheap: MPU guard: the heap region's end is not on an eighth of the power-of-two "
                         "block that holds it",
                         (void *)end, true);
    /* Each level needs a region of at least 256 B to have sub-regions. */
    levels = SHEAP_STATIC_MPU_LEVELS;
    while (levels > 1 && b0_log2 - 3 * (levels - 1) < 8)
        levels--;
    unsigned dregion = mpu_regions();
#ifdef SHEAP_STATIC_MPU_FIRST_REGION
    first_region = SHEAP_STATIC_MPU_FIRST_REGION;
#else
    first_region = dregion >= levels ? dregion - levels : 0;
#endif
    if (dregion < first_region + levels)
        sheap_port_fault("sheap: MPU guard: not enough MPU regions", (void *)(uintptr_t)dregion, true);
    static_guard_set(base);
    mpu_enable();
}

void static_guard_set(uintptr_t ready_end)
{
    uintptr_t gran = static_guard_granule();
    uintptr_t g = (ready_end + gran - 1) & ~(gran - 1);
    uintptr_t blk = b0;
    unsigned size_log2 = b0_log2;
    unsigned k = 0;
    for (; k < levels; k++) {
        uintptr_t sub = ((uintptr_t)1 << size_log2) >> 3;
        uintptr_t from = (g + sub - 1) & ~(sub - 1);
        uint32_t srd = 0;
        for (unsigned i = 0; i < 8; i++) {
            uintptr_t lo = blk + i * sub;
            if (lo < from || lo + sub > g_end || lo < g_base)
                srd |= 1u << i;
        }
        if (srd == 0xffu)
            region_write(first_region + k, 0, 0);
        else
            region_write(first_region + k, (uint32_t)blk,
                         RASR_GUARD | (srd << 8) | ((uint32_t)(size_log2 - 1) << 1) | RASR_EN);
        if (from == g) {
            k++;
            break;
        }
        /* [g, from) is left: the sub-region g falls in, one level finer. */
        blk = g & ~(sub - 1);
        size_log2 -= 3;
    }
    for (; k < levels; k++)
        region_write(first_region + k, 0, 0);
    barrier();
}

#if SHEAP_HARDENING >= 3
unsigned static_guard_holes(void)
{
    return first_region < SHEAP_STATIC_MPU_HOLES ? first_region : SHEAP_STATIC_MPU_HOLES;
}

void static_guard_hole(unsigned i, uintptr_t v, uintptr_t n)
{
    unsigned size_log2 = (unsigned)__builtin_ctz((unsigned)n);
    if (n == 0)
        region_write(first_region - 1 - i, 0, 0);
    else
        region_write(first_region - 1 - i, (uint32_t)v, RASR_GUARD | ((uint32_t)(size_log2 - 1) << 1) | RASR_EN);
    barrier();
}
#endif

#else
typedef int static_guard_armv7m_not_built; /* ISO C wants a declaration */
#endif
