/*
 * sheap_port.h - the contract between the sheap core and a port.
 *
 * The core never touches hardware, an OS or libc.  Memory comes from
 * backends (include/sheap_backend.h): every heap is created with one.  What
 * the core needs from the port besides is below: the lock, the misuse
 * report, errno, and the backend of the default heap (the heap that
 * sheap_malloc and the C library binding use).  Exactly one port
 * (port/hosted, port/static, or an MMU port) implements these.
 */
#ifndef SHEAP_PORT_H
#define SHEAP_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sheap_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The old names of the backend result codes. */
enum {
    SHEAP_PORT_OK = SHEAP_BACKEND_OK,
    SHEAP_PORT_EBUSY = SHEAP_BACKEND_EBUSY,
    SHEAP_PORT_ENOMEM = SHEAP_BACKEND_ENOMEM,
};

/*
 * The backend the default heap is created with, on first use of the plain
 * sheap_malloc family (or by sheap_default_heap()).  Called in a growth
 * section (the heap lock dropped, one caller at a time, never from a
 * handler), at most once per creation of the default heap; the returned
 * object must stay valid for the life of the program.  Never NULL.
 */
const struct sheap_backend *sheap_port_default_backend(void);

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

#ifdef __cplusplus
}
#endif

#endif /* SHEAP_PORT_H */
