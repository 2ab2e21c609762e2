/*
 * sheap_port_lock.h (AArch64) - the heap lock as inline code for the core's
 * hot paths (see "Inline lock" in sheap_port.h).  Masks D, A, I and F and
 * restores the previous mask; the saved mask lives in one global shared with
 * the out-of-line sheap_port_lock/unlock, so both may be mixed freely (the
 * lock is never nested).
 */
#ifndef SHEAP_PORT_LOCK_H
#define SHEAP_PORT_LOCK_H

#include <stdint.h>

extern uint64_t sheap_port_saved_daif;

static inline void sheap_port_lock_inline(void)
{
    uint64_t daif;
    __asm__ volatile("mrs %0, daif\n\tmsr daifset, #0xf" : "=r"(daif)::"memory");
    sheap_port_saved_daif = daif;
}

static inline void sheap_port_unlock_inline(void)
{
    __asm__ volatile("msr daif, %0" ::"r"(sheap_port_saved_daif) : "memory");
}

#endif
