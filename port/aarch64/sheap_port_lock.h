/*
 * sheap_port_lock.h (AArch64) - the heap lock as inline code for the core's
 * hot paths (see "Inline lock" in sheap_port.h).  Masks D, A, I and F and
 * restores the previous mask; the saved mask lives in one global shared with
 * the out-of-line sheap_port_lock/unlock, so both may be mixed freely (the
 * lock is never nested).
 *
 * The single-CPU lock, its fast-path forms and lock_adopt are
 * port/common/sheap_irq_lock.h over sheap_port_irq_save/irq_restore.
 *
 * SMP builds (SHEAP_SMP=1) replace all of the above with the
 * shared lock of several CPUs: mask this CPU's interrupts (irq_save), then
 * take a spinlock word with acquire ordering; unlock is a release store of
 * the word, then the mask put back.  While another CPU holds the word the
 * waiter unmasks again (its own interrupts are served while it waits) and
 * spins on plain loads with the YIELD hint.  The saved mask of the
 * inline/out-of-line forms stays in one global: only the holder writes it,
 * and unlock reads it before releasing the word.  lock_fast reads *busy
 * (one single-copy-atomic load) after masking and before spinning, as the
 * hosted spinlock does, so that a walker callback of this CPU is refused
 * instead of spinning on a lock it holds itself.  The CPU id is MPIDR_EL1.Aff0
 * (the SMP boards number their CPUs 0..n-1 there), and it is also the
 * context id of the core's growth and walk ownership (one context per CPU:
 * see port_aarch64.c).  Needs -mno-outline-atomics (board.mk): the
 * exchange is then an inline LDAXR/STXR loop, not a libgcc helper.
 */
#ifndef SHEAP_PORT_LOCK_H
#define SHEAP_PORT_LOCK_H

#include <stdint.h>

extern uint64_t sheap_port_saved_daif;

/* Masks D, A, I and F on this CPU; returns the previous DAIF. */
static inline unsigned long sheap_port_irq_save(void)
{
    uint64_t daif;
    __asm__ volatile("mrs %0, daif\n\tmsr daifset, #0xf" : "=r"(daif)::"memory");
    return (unsigned long)daif;
}

static inline void sheap_port_irq_restore(unsigned long state)
{
    __asm__ volatile("msr daif, %0" ::"r"((uint64_t)state) : "memory");
}

#if SHEAP_SMP

/* The shared lock's word: 0 free, 1 taken (port_aarch64.c). */
extern uint32_t sheap_port_lock_word;

static inline unsigned sheap_port_cpu_id(void)
{
    uint64_t mpidr;
    __asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
    return (unsigned)(mpidr & 0xff);
}

/* Takes the word with interrupts masked (the mask that was before in
 * daif); while it is held elsewhere, waits with the caller's mask. */
static inline void sheap_port_spin_acquire(unsigned long daif)
{
    while (__builtin_expect(__atomic_exchange_n(&sheap_port_lock_word, 1u, __ATOMIC_ACQUIRE) != 0, 0)) {
        sheap_port_irq_restore(daif);
        do
            __asm__ volatile("yield" ::: "memory");
        while (__atomic_load_n(&sheap_port_lock_word, __ATOMIC_RELAXED) != 0);
        (void)sheap_port_irq_save();
    }
}

static inline void sheap_port_spin_release(void)
{
    __atomic_store_n(&sheap_port_lock_word, 0u, __ATOMIC_RELEASE);
}

/* The thread hooks of sheap_port.h come from port_aarch64.c, weak: the
 * task id is the CPU index + 1 (on bare metal each CPU is one context) and
 * the growth wait spins a while.  An RTOS integration overrides both. */
#define SHEAP_PORT_HAS_THREAD_HOOKS 1

static inline _Bool sheap_port_lock_fast(const uintptr_t *busy, unsigned long *state)
{
    unsigned long daif = sheap_port_irq_save();
    /* A volatile load: an aligned word is read single-copy atomically, as
     * a relaxed __atomic load would be, and the compiler can then use the
     * caller's base register with an offset (one instruction fewer). */
    if (__builtin_expect(*(const volatile uintptr_t *)busy != 0, 0)) {
        sheap_port_irq_restore(daif);
        return 0;
    }
    sheap_port_spin_acquire(daif);
    *state = daif;
    return 1;
}

/* The shared lock: this CPU masked, then the word; the word released, then
 * the mask restored (the saved mask is read while still the holder). */
static inline unsigned long sheap_port_smp_take(void)
{
    unsigned long daif = sheap_port_irq_save();
    sheap_port_spin_acquire(daif);
    return daif;
}

static inline void sheap_port_smp_give(unsigned long daif)
{
    sheap_port_spin_release();
    sheap_port_irq_restore(daif);
}

#define SHEAP_PORT_LOCK_TAKE() sheap_port_smp_take()
#define SHEAP_PORT_LOCK_GIVE(state) sheap_port_smp_give(state)

#endif /* SHEAP_SMP */

/* The lock (one CPU: the interrupt mask alone) over the above. */
#define SHEAP_PORT_SAVED_IRQ sheap_port_saved_daif
#include "../common/sheap_irq_lock.h"

#endif
