/*
 * sheap_port_lock.h (lock counting) - wraps the hosted port's
 * inline lock so that every time the core takes the shared lock is
 * counted, for the figure "shared lock taken per 1,000 operations" of
 * tests/bench/bench_threads.c.  Only the bench's own copy of the core is
 * built with it (-Itests/bench/lockcount before -Iport/hosted); core/ and
 * the port are untouched.  Works for both builds: SHEAP_SMP=0 (the one
 * lock is the shared lock) and SHEAP_SMP=1 (the port lock is the shared
 * lock of the page heap and growth; the per-CPU locks are the core's own).
 *
 * The port's header defines `static inline void sheap_port_lock_inline(void)`
 * and calls `sheap_port_lock_inline()`.  The function-like macro below
 * turns the definition into lockcount_void(void) (the real spin) and
 * every call into lockcount_(), which counts and then spins.
 *
 * SMP builds: the per-CPU locks are core code (core/malloc.c cpu_acquire,
 * an atomic word) that no header wraps, but the core masks interrupts with
 * sheap_port_irq_save() right before every per-CPU lock take (the fast
 * paths, lock(), lock_mode_take).  The same macro trick counts those
 * calls in sheap_lockcount_masks: an upper bound of the per-CPU lock
 * takes, exact but for two places that call it only to read the CPU id
 * (heap_cache_here, heap_lock_all, whose lock_mode_take then takes every
 * CPU's lock with one call each).
 */
#ifndef SHEAP_LOCKCOUNT_H
#define SHEAP_LOCKCOUNT_H

#include "sheap_config.h"

extern unsigned long sheap_lockcount_taken;
extern unsigned long sheap_lockcount_masks;
static inline void lockcount_(void);
#define sheap_port_lock_inline(x) lockcount_##x(x)
#if SHEAP_SMP
static inline unsigned long irqcount_(void);
#define sheap_port_irq_save(x) irqcount_##x(x)
#endif
#include_next <sheap_port_lock.h>
static inline void lockcount_(void)
{
    __atomic_add_fetch(&sheap_lockcount_taken, 1, __ATOMIC_RELAXED);
    lockcount_void();
}
#if SHEAP_SMP
static inline unsigned long irqcount_(void)
{
    __atomic_add_fetch(&sheap_lockcount_masks, 1, __ATOMIC_RELAXED);
    return irqcount_void();
}
#endif

#endif
