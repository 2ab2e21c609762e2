/*
 * mpu_cortex_m.h - what the ARMv7-M and ARMv8-M guards (guard_armv7m.c,
 * guard_armv8m.c) share of the Cortex-M MPU: the registers both
 * architectures keep at the same addresses, turning the MPU on, and the
 * barrier that makes a region change take effect before the next access.
 * The region attribute registers differ (ARMv7-M RASR, ARMv8-M RLAR and
 * MAIR) and stay in each guard.
 */
#ifndef SHEAP_MPU_CORTEX_M_H
#define SHEAP_MPU_CORTEX_M_H

#include <stdint.h>

/* Level 3 holes (static_guard.h): MPU regions the guard may use for them. */
#ifndef SHEAP_STATIC_MPU_HOLES
#define SHEAP_STATIC_MPU_HOLES 4
#endif

#define MPU_TYPE (*(volatile uint32_t *)0xE000ED90u)
#define MPU_CTRL (*(volatile uint32_t *)0xE000ED94u)
#define MPU_RNR (*(volatile uint32_t *)0xE000ED98u)
#define MPU_RBAR (*(volatile uint32_t *)0xE000ED9Cu)

#define CTRL_ENABLE 1u
#define CTRL_PRIVDEFENA 4u

/* Completes the MPU writes before the next instruction and access. */
static inline void barrier(void)
{
    __asm__ volatile("dsb sy\n\tisb sy" ::: "memory");
}

/* The number of regions the MPU implements (MPU_TYPE.DREGION). */
static inline unsigned mpu_regions(void)
{
    return (MPU_TYPE >> 8) & 0xffu;
}

/* MPU on, the default memory map kept for privileged code outside the
 * regions; the board's HFNMIENA stays as it is. */
static inline void mpu_enable(void)
{
    MPU_CTRL |= CTRL_ENABLE | CTRL_PRIVDEFENA;
    barrier();
}

#endif
