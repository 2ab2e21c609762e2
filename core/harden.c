/*
 * harden.c - hardening level 2 (SHEAP_HARDENING >= 2; the contract is in
 * sheap.h, "Hardening levels"): the poison that fills free small slots and
 * its check, the quarantine ring that delays the reuse of freed blocks, and
 * the pseudo-random numbers behind randomised slot choice.  The free and
 * allocation paths that use them are in malloc.c.
 *
 * Invariant at level 2: every slot whose freebits bit is set holds
 * SHEAP_POISON in every byte.  A new span is filled when it is made
 * (small_refill), a freed block when it enters the quarantine (its qbit is
 * set first, so no other free or allocation touches it while it is being
 * filled), and an allocation checks its block against the poison before it
 * hands it out (take_verify).
 *
 * Locking: the ring and the random state are protected by the heap lock
 * (the random state is also read by the fast path with the lock held).
 * quarantine_drain breaks the lock between entries (lock_break), so that
 * emptying the ring is a row of short stretches; an entry is taken out of
 * the ring before it leaves, so a free that runs in a break finds the ring
 * consistent.
 * The fills and checks run with the lock dropped, on memory the caller
 * owns.
 */
#include "sheap_internal.h"

#if SHEAP_HARDENING >= 2

uint32_t harden_rng = 0x9e3779b9u; /* see harden_random */

uintptr_t harden_find_write(const void *p, uintptr_t n)
{
    if (harden_intact(p, n))
        return n;
    const uint8_t *b = p;
    for (uintptr_t i = 0; i < n; i++)
        if (b[i] != (uint8_t)SHEAP_POISON)
            return i;
    return n;
}

/* ---- Quarantine ---------------------------------------------------------------- */

/* The last SHEAP_QUARANTINE freed small blocks of all heaps (see
 * sheap_internal.h): a fixed ring, replaced oldest first. */
struct quarantine_entry quarantine_ring[SHEAP_QUARANTINE];
unsigned quarantine_head;

static struct sheap_heap *entry_heap(const struct quarantine_entry *e)
{
    return arena_of(e->s->base)->heap;
}

uintptr_t quarantine_drain(struct sheap_heap *h, void (*leave)(struct sheap_span *s, uintptr_t slot))
{
    SHEAP_ASSERT_LOCKED();
    uintptr_t left = 0;
    for (unsigned i = 0; i < SHEAP_QUARANTINE; i++) {
        struct quarantine_entry *e = &quarantine_ring[i];
        if (e->s != NULL && (h == NULL || entry_heap(e) == h)) {
            struct sheap_span *s = e->s;
            e->s = NULL;
            leave(s, e->slot);
            left++;
            lock_break(); /* one block (and maybe its span's free) per masked stretch */
        }
    }
    return left;
}

uintptr_t quarantine_count(const struct sheap_heap *h)
{
    SHEAP_ASSERT_LOCKED();
    uintptr_t n = 0;
    for (unsigned i = 0; i < SHEAP_QUARANTINE; i++)
        if (quarantine_ring[i].s != NULL && entry_heap(&quarantine_ring[i]) == h)
            n++;
    return n;
}

#endif /* SHEAP_HARDENING >= 2 */
