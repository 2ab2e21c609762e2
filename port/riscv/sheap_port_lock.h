/*
 * sheap_port_lock.h (RISC-V) - the heap lock as inline code for the core's
 * hot paths (see "Inline lock" in sheap_port.h).  Clears sstatus.SIE (the
 * supervisor interrupt enable) with one csrrci and remembers whether it was
 * set; unlock sets it again only in that case, so other sstatus bits that
 * changed meanwhile are left alone.  The saved bit lives in one global
 * shared with the out-of-line sheap_port_lock/unlock (port_riscv.c), so the
 * two forms may be mixed freely (the lock is never nested).  Single hart.
 *
 * sheap_port_lock_fast (see sheap_port.h) is the same lock for the fast
 * paths, refused while *busy (the core's walker id) is set: it masks, tests
 * *busy (a plain load, since the word is written under this lock), and only
 * hands the previous SIE to the caller in a register (*state) instead of
 * the global; on refusal it sets SIE back if it was set, so a walker
 * callback never overwrites the walk's saved state.  unlock_fast restores
 * from that register; lock_adopt stores it in the global when the core
 * hands the lock to code that unlocks out of line.
 */
#ifndef SHEAP_PORT_LOCK_H
#define SHEAP_PORT_LOCK_H

#include <stdint.h>

#define SHEAP_SSTATUS_SIE 2ul

/* SHEAP_SSTATUS_SIE when interrupts were enabled at lock time, else 0. */
extern unsigned long sheap_port_saved_sie;

static inline void sheap_port_lock_inline(void)
{
    unsigned long s;
    __asm__ volatile("csrrci %0, sstatus, 2" : "=r"(s)::"memory");
    sheap_port_saved_sie = s & SHEAP_SSTATUS_SIE;
}

#define SHEAP_PORT_HAS_LOCK_FAST 1

static inline _Bool sheap_port_lock_fast(const uintptr_t *busy, unsigned long *state)
{
    unsigned long s;
    __asm__ volatile("csrrci %0, sstatus, 2" : "=r"(s)::"memory");
    s &= SHEAP_SSTATUS_SIE;
    if (__builtin_expect(*busy != 0, 0)) {
        __asm__ volatile("csrs sstatus, %0" ::"r"(s) : "memory");
        return 0;
    }
    *state = s;
    return 1;
}

static inline void sheap_port_unlock_fast(unsigned long state)
{
    __asm__ volatile("csrs sstatus, %0" ::"r"(state) : "memory");
}

static inline void sheap_port_lock_adopt(unsigned long state)
{
    sheap_port_saved_sie = state;
}

static inline void sheap_port_unlock_inline(void)
{
    __asm__ volatile("csrs sstatus, %0" ::"r"(sheap_port_saved_sie) : "memory");
}

#endif
