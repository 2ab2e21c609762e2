/*
 * sheap_port_lock.h (static port) - the heap lock as inline code for the
 * core's hot paths (see "Inline lock" in sheap_port.h): interrupts masked
 * on the one core, the previous state restored on unlock.  The saved state
 * lives in one global, sheap_port_saved_irq (port_static.c), shared with the
 * out-of-line sheap_port_lock/unlock (port/common/port_picolibc.c), so both
 * forms may be mixed; the lock is never nested.
 *
 *   Cortex-M (ARMv7-M, ARMv8-M)  PRIMASK: mrs + cpsid i; msr primask
 *   RISC-V, M-mode               mstatus.MIE (bit 3): csrrci; csrs of the
 *                                saved bit only, so other mstatus bits that
 *                                changed meanwhile (MPRV, MPP) are kept
 *
 * sheap_port_lock_fast (see sheap_port.h) is the same lock for the fast
 * paths, refused while *busy (the core's walker id) is set: it masks, tests
 * *busy (a plain load, since the word is written under this lock), and
 * hands the previous state to the caller in a register (*state) instead of
 * the global; on refusal it restores that state, so a walker callback never
 * overwrites the walk's saved state.  unlock_fast restores from the
 * register; lock_adopt stores it in the global when the core hands the lock
 * to code that unlocks out of line.
 */
#ifndef SHEAP_PORT_LOCK_H
#define SHEAP_PORT_LOCK_H

#include <stdint.h>

/* The interrupt state at lock time (PRIMASK, or mstatus & MIE). */
extern unsigned long sheap_port_saved_irq;

#define SHEAP_PORT_HAS_LOCK_FAST 1

#if defined(__arm__)

static inline void sheap_port_lock_inline(void)
{
    unsigned long primask;
    __asm__ volatile("mrs %0, primask\n\t"
                     "cpsid i"
                     : "=r"(primask)::"memory");
    sheap_port_saved_irq = primask;
}

static inline _Bool sheap_port_lock_fast(const uintptr_t *busy, unsigned long *state)
{
    unsigned long primask;
    __asm__ volatile("mrs %0, primask\n\t"
                     "cpsid i"
                     : "=r"(primask)::"memory");
    if (__builtin_expect(*busy != 0, 0)) {
        __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
        return 0;
    }
    *state = primask;
    return 1;
}

static inline void sheap_port_unlock_fast(unsigned long state)
{
    __asm__ volatile("msr primask, %0" ::"r"(state) : "memory");
}

static inline void sheap_port_unlock_inline(void)
{
    __asm__ volatile("msr primask, %0" ::"r"(sheap_port_saved_irq) : "memory");
}

/* Handler mode: IPSR holds the active exception number (0 in thread mode).
 * The core then does no growth (sheap.h, "Interrupt handlers"). */
#define SHEAP_PORT_HAS_IN_HANDLER 1
static inline int sheap_port_in_handler(void)
{
    unsigned long ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    return (ipsr & 0x1ffu) != 0;
}

#elif defined(__riscv)

#define SHEAP_MSTATUS_MIE 8ul

static inline void sheap_port_lock_inline(void)
{
    unsigned long s;
    __asm__ volatile("csrrci %0, mstatus, 8" : "=r"(s)::"memory");
    sheap_port_saved_irq = s & SHEAP_MSTATUS_MIE;
}

static inline _Bool sheap_port_lock_fast(const uintptr_t *busy, unsigned long *state)
{
    unsigned long s;
    __asm__ volatile("csrrci %0, mstatus, 8" : "=r"(s)::"memory");
    s &= SHEAP_MSTATUS_MIE;
    if (__builtin_expect(*busy != 0, 0)) {
        __asm__ volatile("csrs mstatus, %0" ::"r"(s) : "memory");
        return 0;
    }
    *state = s;
    return 1;
}

static inline void sheap_port_unlock_fast(unsigned long state)
{
    __asm__ volatile("csrs mstatus, %0" ::"r"(state) : "memory");
}

static inline void sheap_port_unlock_inline(void)
{
    __asm__ volatile("csrs mstatus, %0" ::"r"(sheap_port_saved_irq) : "memory");
}

#else
#error "port/static: no interrupt lock for this architecture"
#endif

/* Hand a fast-path lock to code that unlocks out of line. */
static inline void sheap_port_lock_adopt(unsigned long state)
{
    sheap_port_saved_irq = state;
}

#endif
