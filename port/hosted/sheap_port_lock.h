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

#endif
