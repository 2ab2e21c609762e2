/*
 * sheap_irq_lock.h - the inline heap lock of the firmware ports (see
 * "Inline lock" in sheap_port.h), built from the port's interrupt mask.
 * A port's sheap_port_lock.h includes it after defining:
 *
 *   unsigned long sheap_port_irq_save(void)     mask this CPU's interrupts,
 *                                               return the state to restore
 *   void sheap_port_irq_restore(unsigned long)  put that state back
 *   SHEAP_PORT_SAVED_IRQ                        the global that holds the
 *                                               state while the lock is
 *                                               held (shared with the
 *                                               port's out-of-line lock)
 *
 * On one CPU the mask is the whole lock.  An SMP port takes a lock word
 * too: it defines SHEAP_PORT_LOCK_TAKE() (mask, then take the word; the
 * state to restore) and SHEAP_PORT_LOCK_GIVE(state) (release the word,
 * then restore), and its own sheap_port_lock_fast, since how it tests
 * *busy against the spinning differs per port.
 *
 * The lock is never nested, and only its holder writes the global, so one
 * global is enough and the inline and out-of-line forms may be mixed.
 * sheap_port_lock_fast is the same lock for the fast paths, refused while
 * *busy (the core's walker id) is set; here (one CPU) it masks, tests
 * *busy (a plain load, since the word is written under this lock), and
 * hands the previous state to the caller in a register (*state) instead of
 * the global; on refusal it restores that state, so a walker callback never
 * overwrites the walk's saved state.  sheap_port_unlock_fast gives back
 * from the register; sheap_port_lock_adopt stores it in the global when
 * the core hands the lock to code that unlocks out of line.
 *
 * Everything here is static inline: the core's hot paths inline it down to
 * the mask (and lock word) instructions themselves.
 */
#ifndef SHEAP_IRQ_LOCK_H
#define SHEAP_IRQ_LOCK_H

#include <stdint.h>

#define SHEAP_PORT_HAS_LOCK_FAST 1

#ifndef SHEAP_PORT_LOCK_TAKE
#define SHEAP_PORT_LOCK_TAKE() sheap_port_irq_save()
#define SHEAP_PORT_LOCK_GIVE(state) sheap_port_irq_restore(state)

static inline _Bool sheap_port_lock_fast(const uintptr_t *busy, unsigned long *state)
{
    unsigned long s = sheap_port_irq_save();
    if (__builtin_expect(*busy != 0, 0)) {
        sheap_port_irq_restore(s);
        return 0;
    }
    *state = s;
    return 1;
}
#endif

static inline void sheap_port_lock_inline(void)
{
    SHEAP_PORT_SAVED_IRQ = SHEAP_PORT_LOCK_TAKE();
}

static inline void sheap_port_unlock_fast(unsigned long state)
{
    SHEAP_PORT_LOCK_GIVE(state);
}

static inline void sheap_port_lock_adopt(unsigned long state)
{
    SHEAP_PORT_SAVED_IRQ = state;
}

static inline void sheap_port_unlock_inline(void)
{
    SHEAP_PORT_LOCK_GIVE(SHEAP_PORT_SAVED_IRQ);
}

#endif
