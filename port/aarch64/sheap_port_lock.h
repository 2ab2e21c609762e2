/*
 * sheap_port_lock.h (AArch64) - the heap lock as inline code for the core's
 * hot paths (see "Inline lock" in sheap_port.h).  Masks D, A, I and F and
 * restores the previous mask; the saved mask lives in one global shared with
 * the out-of-line sheap_port_lock/unlock, so both may be mixed freely (the
 * lock is never nested).
 *
 * sheap_port_lock_fast (see sheap_port.h) is the same lock for the fast
 * paths, refused while *busy (the core's walker id) is set: it masks, tests
 * *busy (a plain load, since the word is written under this lock), and
 * hands the previous mask to the caller in a register (*state) instead of
 * the global; on refusal it puts the previous mask back, so a walker
 * callback never overwrites the walk's saved state.  sheap_port_unlock_fast
 * restores from that register; sheap_port_lock_adopt stores it in the
 * global when the core hands the lock to code that unlocks out of line.
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

#define SHEAP_PORT_HAS_LOCK_FAST 1

static inline _Bool sheap_port_lock_fast(const uintptr_t *busy, unsigned long *state)
{
    uint64_t daif;
    __asm__ volatile("mrs %0, daif\n\tmsr daifset, #0xf" : "=r"(daif)::"memory");
    if (__builtin_expect(*busy != 0, 0)) {
        __asm__ volatile("msr daif, %0" ::"r"(daif) : "memory");
        return 0;
    }
    *state = daif;
    return 1;
}

static inline void sheap_port_unlock_fast(unsigned long state)
{
    __asm__ volatile("msr daif, %0" ::"r"((uint64_t)state) : "memory");
}

static inline void sheap_port_lock_adopt(unsigned long state)
{
    sheap_port_saved_daif = state;
}

static inline void sheap_port_unlock_inline(void)
{
    __asm__ volatile("msr daif, %0" ::"r"(sheap_port_saved_daif) : "memory");
}

#endif
