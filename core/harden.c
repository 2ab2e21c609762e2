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
 * The fills and checks run with the lock dropped, on memory the caller
 * owns.
 */
#include "sheap_internal.h"

#if SHEAP_HARDENING >= 2

/* xorshift32, seeded from a constant: the point is that neighbouring
 * allocations do not land in neighbouring slots, not secrecy.  A firmware
 * that wants an unpredictable layout can stir it with entropy later. */
static uint32_t rng_state = 0x9e3779b9u;

uint32_t harden_random(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return x;
}

/* The poison as a word. */
#define POISON_WORD ((uintptr_t)0x0101010101010101ull * (uint8_t)SHEAP_POISON)

/* Small blocks are multiples of 8 bytes and 8-aligned (16 from 16 up), so
 * the fill and the check go a word at a time; n % word is handled bytewise
 * (8-byte blocks on 64-bit targets are one word). */
void harden_poison(void *p, uintptr_t n)
{
    uintptr_t *w = p;
    uintptr_t words = n / sizeof(uintptr_t);
    for (uintptr_t i = 0; i < words; i++)
        w[i] = POISON_WORD;
    uint8_t *b = (uint8_t *)(w + words);
    for (uintptr_t i = 0; i < n % sizeof(uintptr_t); i++)
        b[i] = (uint8_t)SHEAP_POISON;
}

uintptr_t harden_find_write(const void *p, uintptr_t n)
{
    const uintptr_t *w = p;
    uintptr_t words = n / sizeof(uintptr_t), diff = 0;
    /* The common case, no write: one pass that only accumulates. */
    for (uintptr_t i = 0; i < words; i++)
        diff |= w[i] ^ POISON_WORD;
    const uint8_t *b = p;
    for (uintptr_t i = words * sizeof(uintptr_t); i < n; i++)
        diff |= (uintptr_t)(b[i] ^ (uint8_t)SHEAP_POISON);
    if (__builtin_expect(diff == 0, 1))
        return n;
    for (uintptr_t i = 0; i < n; i++)
        if (b[i] != (uint8_t)SHEAP_POISON)
            return i;
    return n;
}

/* ---- Quarantine ---------------------------------------------------------------- */

/* A ring of the last SHEAP_QUARANTINE freed small blocks of all heaps:
 * ring[(head + i) % SHEAP_QUARANTINE] for i < count, oldest first. */
static struct quarantine_entry ring[SHEAP_QUARANTINE];
static unsigned ring_head, ring_count;

struct quarantine_entry quarantine_push(struct sheap_span *s, uintptr_t slot)
{
    SHEAP_ASSERT_LOCKED();
    struct quarantine_entry out = {NULL, 0};
    if (ring_count == SHEAP_QUARANTINE) {
        out = ring[ring_head];
        ring[ring_head].s = s;
        ring[ring_head].slot = slot;
        ring_head = (ring_head + 1) % SHEAP_QUARANTINE;
    } else {
        struct quarantine_entry *e = &ring[(ring_head + ring_count) % SHEAP_QUARANTINE];
        e->s = s;
        e->slot = slot;
        ring_count++;
    }
    return out;
}

static struct sheap_heap *entry_heap(const struct quarantine_entry *e)
{
    return arena_of(e->s->base)->heap;
}

uintptr_t quarantine_drain(struct sheap_heap *h, void (*leave)(struct sheap_span *s, uintptr_t slot))
{
    SHEAP_ASSERT_LOCKED();
    /* Keep the other heaps' entries, in order, packed from ring_head. */
    unsigned kept = 0;
    uintptr_t left = 0;
    for (unsigned i = 0; i < ring_count; i++) {
        struct quarantine_entry e = ring[(ring_head + i) % SHEAP_QUARANTINE];
        if (h == NULL || entry_heap(&e) == h) {
            leave(e.s, e.slot);
            left++;
        } else {
            ring[(ring_head + kept++) % SHEAP_QUARANTINE] = e;
        }
    }
    ring_count = kept;
    return left;
}

uintptr_t quarantine_count(const struct sheap_heap *h)
{
    SHEAP_ASSERT_LOCKED();
    uintptr_t n = 0;
    for (unsigned i = 0; i < ring_count; i++)
        if (entry_heap(&ring[(ring_head + i) % SHEAP_QUARANTINE]) == h)
            n++;
    return n;
}

#endif /* SHEAP_HARDENING >= 2 */
