/*
 * sheap_port.h - the contract between the sheap core and a port.
 *
 * The core never touches hardware, an OS or libc.  Everything it needs from
 * the machine goes through the functions below, which exactly one port
 * (port/hosted, port/aarch64, port/riscv, port/static) implements.
 *
 * Memory states (named as in the Go runtime, which this design follows):
 *
 *   None      not owned by sheap.
 *   Reserved  address space owned by sheap; any access faults.  Costs
 *             address-space bookkeeping only.
 *   Prepared  the core may keep metadata for it; still no physical backing,
 *             and access still faults.  Moving back to Reserved is free.
 *   Ready     backed by physical memory; safe to read and write.
 *
 *        reserve          map             used
 *   None --------> Reserved ----> Prepared -------> Ready
 *    ^                |  ^           |   <-------    |
 *    +-----release----+  +-----------+    unused     |
 *    +-----------------------release-----------------+  (release from any
 *                                                        state returns None)
 *
 * Common rules for every function here:
 *   - addresses and lengths are multiples of sheap_port_page_size(), and
 *     lengths are non-zero;
 *   - the core calls them with its lock held (see sheap_port_lock), so a
 *     port needs no locking of its own for these;
 *   - a call that fails changes nothing: the range stays in its old state;
 *   - 0 means success; failures return one of the SHEAP_PORT_E* codes.
 *
 * Failures are expected, not fatal: running out of address space or of
 * physical frames makes the allocation at hand return NULL and leaves the
 * heap consistent.  A port must never stop the machine for them.
 */
#ifndef SHEAP_PORT_H
#define SHEAP_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Failure codes of the port functions. */
enum {
    SHEAP_PORT_OK = 0,
    SHEAP_PORT_EBUSY = 1,  /* reserve: the range at the hint is taken */
    SHEAP_PORT_ENOMEM = 2, /* out of address space or physical frames */
};

/* The physical page size: the granule of every call below.  Constant for the
 * life of the program; the heap page (SHEAP_PAGE_SIZE) must be a multiple. */
uintptr_t sheap_port_page_size(void);

/*
 * None -> Reserved.
 * hint != 0: reserve exactly [hint, hint+n) or fail; SHEAP_PORT_EBUSY when any
 *   part of it is already in use, SHEAP_PORT_ENOMEM for any other reason.
 * hint == 0: reserve n bytes anywhere the port likes (page aligned only).
 * On success *out holds the base.  Takes no physical frames.
 */
int sheap_port_reserve(uintptr_t hint, uintptr_t n, uintptr_t *out);

/* Reserved -> Prepared.  May fail with SHEAP_PORT_ENOMEM.  Takes no frames on
 * ports that back lazily (all MMU ports). */
int sheap_port_map(uintptr_t v, uintptr_t n);

/*
 * Prepared -> Ready: back every page with physical memory.  Either all of
 * [v, v+n) becomes Ready or none of it does (SHEAP_PORT_ENOMEM, e.g. when
 * the frame pool is empty).  *zeroed is set true when the whole range is
 * known to read as zero, so the core can skip clearing it.
 */
int sheap_port_used(uintptr_t v, uintptr_t n, bool *zeroed);

/* Ready -> Prepared: give the backing back.  Never fails.  Afterwards an
 * access to the range faults where the hardware can express that. */
void sheap_port_unused(uintptr_t v, uintptr_t n);

/* Reserved, Prepared or Ready -> None.  Any part of an earlier reservation
 * may be released on its own (the core trims aligned reservations). */
void sheap_port_release(uintptr_t v, uintptr_t n);

/* The heap lock.  Every public sheap entry point takes it once; it is not
 * recursive.  On bare metal the default masks interrupts; the host port uses
 * a spinlock.  A port may make these empty for single-threaded use. */
void sheap_port_lock(void);
void sheap_port_unlock(void);
/*
 * Inline lock (optional): a port may also ship a header named
 * sheap_port_lock.h in its directory that defines
 *     static inline void sheap_port_lock_inline(void);
 *     static inline void sheap_port_unlock_inline(void);
 * with the same semantics.  The core then inlines them on its hot paths
 * (the build puts the port's directory on the core's include path); the
 * two forms must share their state, since the core mixes them.
 */

/*
 * Misuse report (double free, foreign pointer, ...) and the end of the
 * road for broken invariants.  msg names the probable cause; ptr is the
 * pointer involved (or NULL).  The port's default prints and stops the
 * machine; fatal == true means the core cannot continue and the function
 * must not return.  Called without the heap lock held.
 */
void sheap_port_fault(const char *msg, const void *ptr, bool fatal);

/* Store an errno value (SHEAP_ENOMEM / SHEAP_EINVAL from sheap.h) where a
 * libc exists; a port without errno makes this empty. */
void sheap_port_set_errno(int err);

/*
 * Test-only fault injection, shared by every port (port/common).  Compiled in
 * when SHEAP_FAULT_INJECTION is defined; each port calls
 * sheap_fault_inject_hit() at the top of reserve, map and used.
 */
enum sheap_port_op {
    SHEAP_OP_RESERVE,
    SHEAP_OP_MAP,
    SHEAP_OP_USED,
    SHEAP_OP_COUNT
};

/* Make the nth next call of op fail with SHEAP_PORT_ENOMEM (n = 1: the very
 * next call); n = 0 disarms.  Every later call succeeds again. */
void sheap_fault_inject_arm(enum sheap_port_op op, unsigned long n);
/* Make every call of op fail while on is true. */
void sheap_fault_inject_all(enum sheap_port_op op, bool on);
/* Calls of op so far (failed ones included). */
unsigned long sheap_fault_inject_calls(enum sheap_port_op op);
/* Failures injected so far, over all ops. */
unsigned long sheap_fault_inject_count(void);
/* Called by ports: true when this call must fail. */
bool sheap_fault_inject_hit(enum sheap_port_op op);

#ifdef __cplusplus
}
#endif

#endif /* SHEAP_PORT_H */
