/*
 * sheap_port_lock.h (hosted) - the heap lock as inline code for the core's
 * hot paths (see "Inline lock" in sheap_port.h): a test-and-set spinlock on
 * one byte shared with the out-of-line sheap_port_lock/unlock.
 *
 * sheap_port_lock_fast (see sheap_port.h) is refused while *busy (the
 * core's walker id, read atomically before spinning) is set: the walk may
 * be this very thread's (a walker callback), which the core's slow path
 * tells by the context id below; any other thread then waits there.
 */
#ifndef SHEAP_PORT_LOCK_H
#define SHEAP_PORT_LOCK_H

#include <stdint.h>

#include "sheap_config.h"

extern volatile char sheap_port_lock_word;

static inline void sheap_port_lock_inline(void)
{
    while (__atomic_test_and_set(&sheap_port_lock_word, __ATOMIC_ACQUIRE))
        ;
}

static inline void sheap_port_unlock_inline(void)
{
    __atomic_clear(&sheap_port_lock_word, __ATOMIC_RELEASE);
}

#define SHEAP_PORT_HAS_LOCK_FAST 1

static inline _Bool sheap_port_lock_fast(const uintptr_t *busy, unsigned long *state)
{
    if (__atomic_load_n(busy, __ATOMIC_RELAXED) != 0)
        return 0;
    sheap_port_lock_inline();
    *state = 0; /* a spinlock has no state to hand over */
    return 1;
}

static inline void sheap_port_unlock_fast(unsigned long state)
{
    (void)state;
    sheap_port_unlock_inline();
}

static inline void sheap_port_lock_adopt(unsigned long state)
{
    (void)state;
}

/* The calling thread's id for the core's walk re-entry test (see
 * sheap_port_context_id in core/sheap_internal.h): the address of a
 * thread-local byte, distinct and non-zero per thread. */
#define SHEAP_PORT_HAS_CONTEXT_ID 1
extern _Thread_local char sheap_port_thread_tag;
static inline uintptr_t sheap_port_context_id(void)
{
    return (uintptr_t)&sheap_port_thread_tag;
}


#if SHEAP_SMP
/* The SMP port contract (sheap_port.h, "SMP").  The CPU id is a
 * slot given to each thread at its first call, round robin modulo
 * SHEAP_MAX_CPUS: more threads than slots share a slot, whose per-CPU lock
 * in the core is a real spinlock, so that is correct (and contended).
 * Interrupts do not exist here: irq_save/restore are no-ops.  The shared
 * lock is the spinlock above. */
extern _Thread_local unsigned sheap_port_cpu_slot; /* slot + 1; 0: none yet */
unsigned sheap_port_cpu_assign(void);
static inline unsigned sheap_port_cpu_id(void)
{
    unsigned s = sheap_port_cpu_slot;
    return __builtin_expect(s != 0, 1) ? s - 1 : sheap_port_cpu_assign();
}
static inline unsigned long sheap_port_irq_save(void) { return 0; }
static inline void sheap_port_irq_restore(unsigned long state) { (void)state; }
#if defined(__x86_64__) || defined(__i386__)
#define SHEAP_PORT_CPU_RELAX() __builtin_ia32_pause()
#endif
#endif

#endif
