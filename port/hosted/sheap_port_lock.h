/*
 * sheap_port_lock.h (hosted) - the heap lock as inline code for the core's
 * hot paths (see "Inline lock" in sheap_port.h): a test-and-set spinlock on
 * one byte shared with the out-of-line sheap_port_lock/unlock.
 */
#ifndef SHEAP_PORT_LOCK_H
#define SHEAP_PORT_LOCK_H

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

/* The calling thread's id for the core's walk re-entry test (see
 * sheap_port_context_id in core/sheap_internal.h): the address of a
 * thread-local byte, distinct and non-zero per thread. */
#define SHEAP_PORT_HAS_CONTEXT_ID 1
#include <stdint.h>
extern _Thread_local char sheap_port_thread_tag;
static inline uintptr_t sheap_port_context_id(void)
{
    return (uintptr_t)&sheap_port_thread_tag;
}

#endif
