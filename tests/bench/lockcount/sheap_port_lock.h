/*
 * sheap_port_lock.h (lock counting, issue 15) - wraps the hosted port's
 * inline lock so that every time the core takes the shared lock is
 * counted, for the figure "shared lock taken per 1,000 operations" of
 * tests/bench/bench_threads.c.  Only the bench's own copy of the core is
 * built with it (-Itests/bench/lockcount before -Iport/hosted); core/ and
 * the port are untouched.
 *
 * The port's header defines `static inline void sheap_port_lock_inline(void)`
 * and calls `sheap_port_lock_inline()`.  The function-like macro below
 * turns the definition into lockcount_void(void) (the real spin) and
 * every call into lockcount_(), which counts and then spins.
 */
#ifndef SHEAP_LOCKCOUNT_H
#define SHEAP_LOCKCOUNT_H

extern unsigned long sheap_lockcount_taken;
static inline void lockcount_(void);
#define sheap_port_lock_inline(x) lockcount_##x(x)
#include_next <sheap_port_lock.h>
static inline void lockcount_(void)
{
    __atomic_add_fetch(&sheap_lockcount_taken, 1, __ATOMIC_RELAXED);
    lockcount_void();
}

#endif
