/*
 * fault_backend.h - a test backend that wraps another backend: it forwards
 * every operation, makes chosen reserve/map/used calls fail with
 * SHEAP_BACKEND_ENOMEM, and keeps count of what is reserved, so a test can
 * see that a destroyed heap gave everything back.  Test-only: it is in the
 * harness, never in libsheap.a (make test checks that with nm).
 *
 * The harness creates each test's default heap on one global instance
 * wrapping the port's default backend; the sheap_fault_inject_* calls act
 * on that instance.
 */
#ifndef SHEAP_FAULT_BACKEND_H
#define SHEAP_FAULT_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "sheap_backend.h"

enum sheap_port_op {
    SHEAP_OP_RESERVE,
    SHEAP_OP_MAP,
    SHEAP_OP_USED,
    SHEAP_OP_COUNT
};

struct fault_backend {
    struct sheap_backend backend; /* what heaps are created with */
    const struct sheap_backend *inner;
    unsigned long calls[SHEAP_OP_COUNT];
    unsigned long fail_at[SHEAP_OP_COUNT]; /* absolute call number, 0 = off */
    bool fail_all[SHEAP_OP_COUNT];
    unsigned long injected;
    uintptr_t reserved_bytes; /* reserved and not yet released */
};

/* Make fb a wrapper of inner (all counters zero). */
void fault_backend_init(struct fault_backend *fb, const struct sheap_backend *inner);

/* The instance the harness's per-test heaps use. */
extern struct fault_backend harness_fault_backend;

/* Make the nth next call of op fail with ENOMEM (n = 1: the very next call);
 * n = 0 disarms.  Every later call succeeds again. */
void sheap_fault_inject_arm(enum sheap_port_op op, unsigned long n);
/* Make every call of op fail while on is true. */
void sheap_fault_inject_all(enum sheap_port_op op, bool on);
/* Calls of op so far (failed ones included). */
unsigned long sheap_fault_inject_calls(enum sheap_port_op op);
/* Failures injected so far, over all ops. */
unsigned long sheap_fault_inject_count(void);
/* When not NULL, called at the start of every used() call (in the core's
 * growth section, heap lock not held): a stand-in for an interrupt handler
 * that runs while the heap backs pages. */
extern void (*fault_backend_used_hook)(void);

#endif
