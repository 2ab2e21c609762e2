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
 *
 * Fast lock (optional, in the same header): a port that defines
 * SHEAP_PORT_HAS_LOCK_FAST provides
 *     static inline _Bool sheap_port_lock_fast(const uintptr_t *busy,
 *                                              unsigned long *state);
 *     static inline void sheap_port_unlock_fast(unsigned long state);
 *     static inline void sheap_port_lock_adopt(unsigned long state);
 * used by the small malloc/free fast paths.  If *busy is 0 lock_fast takes
 * the lock, puts the previous interrupt state in *state (not in the shared
 * global: the fast paths keep it in a register) and returns true;
 * otherwise it returns false with the lock not taken and nothing changed.
 * unlock_fast(state) releases a lock taken so; lock_adopt(state) stores
 * the state where the out-of-line/inline unlock finds it, for a fast path
 * that hands its lock to code that unlocks with sheap_port_unlock_inline.
 * *busy is the core's walker id (non-zero while a walk holds the lock), so
 * a walker callback, which already holds the lock, never re-takes it; the
 * core's slow path then refuses the call or waits for the lock.  An
 * interrupt-masking lock may read *busy after masking and before saving
 * the previous state (a plain load: it is written under the lock), which
 * lets the compiler reuse the base register the fast path needs anyway;
 * a spinlock must read it (atomically) before spinning.  Without this the
 * core tests *busy itself before sheap_port_lock_inline.
 */

/*
 * Threads (optional; weak defaults in the core).  Growth sections (backend
 * work) run with the heap lock dropped, one owner at a time.  A caller in
 * thread context that needs growth while another thread owns it calls
 *     bool sheap_port_growth_wait(void);
 * with the lock not held and interrupts as the caller has them: it yields
 * or sleeps a while and returns true, and the caller looks at the heap
 * again (and waits again if the section still runs); false means this port
 * cannot wait, and the caller gets what is Ready or NULL.  The owner's own
 * context (a backend calling back into sheap) and interrupt handlers never
 * wait.  Contexts are told apart by
 *     uintptr_t sheap_port_task_id(void);
 * non-zero and distinct per thread or task (a port whose lock header
 * defines SHEAP_PORT_HAS_CONTEXT_ID uses its own sheap_port_context_id
 * instead; the hosted port does).  Defaults: task id 1 and no waiting,
 * right for bare metal without an RTOS; a port whose lock header defines
 * SHEAP_PORT_HAS_THREAD_HOOKS has weak defaults of its own instead (the
 * SMP builds of the AArch64 and RISC-V ports: the CPU index + 1, and a
 * short spin).  An RTOS integration defines both
 * in an object file the firmware links (not only in an archive), e.g. on
 * FreeRTOS (uintptr_t)xTaskGetCurrentTaskHandle() and taskYIELD() or
 * vTaskDelay(1); on Zephyr (uintptr_t)k_current_get() and k_yield() or
 * k_msleep(1).  A yield lets only tasks of the same or higher priority
 * run: if the owner may have a lower priority, sleep instead (or use a
 * priority-inheriting primitive), or the waiter spins for ever.
 */
uintptr_t sheap_port_task_id(void);
bool sheap_port_growth_wait(void);

/*
 * SMP (builds with SHEAP_SMP=1 only, see sheap_config.h and
 * docs/DESIGN.md "Concurrency").  The port's sheap_port_lock.h then also
 * defines, inline:
 *     static inline unsigned sheap_port_cpu_id(void);
 *         the calling context's CPU, 0 .. SHEAP_MAX_CPUS - 1.  The core
 *         reads it with interrupts masked (after sheap_port_irq_save), so
 *         it may not change under the caller.  AArch64: MPIDR_EL1 Aff0;
 *         RISC-V: the hart index the firmware hands over, kept where the
 *         port reads it cheaply (tp, sscratch); host: a slot per thread.
 *         Two contexts may share an id (more threads than slots): the
 *         core's per-CPU lock is a real spinlock, so that is only slower.
 *     static inline unsigned long sheap_port_irq_save(void);
 *         masks interrupts on this CPU only and returns the previous state;
 *     static inline void sheap_port_irq_restore(unsigned long state);
 *         puts that state back (host: both no-ops).
 * and optionally SHEAP_PORT_CPU_RELAX() (a pause/yield hint for spin
 * loops).  sheap_port_lock/unlock (and the _inline forms) are the shared
 * lock: a spinlock across CPUs that also masks local interrupts (irq_save,
 * then spin on an atomic word with acquire; unlock: release store, then
 * irq_restore; the saved state may live in one global, written only by
 * the holder).  The core never takes the shared lock with it already held,
 * and takes it after its per-CPU lock (so the port's lock may mask again:
 * nested masking is fine).  SHEAP_PORT_HAS_LOCK_FAST is not used by SMP
 * builds (the fast paths take the core's per-CPU lock).  Atomics: gcc
 * __atomic builtins; AArch64 images are built with -mno-outline-atomics
 * (no libgcc helpers in a freestanding image), RISC-V needs the A
 * extension.
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
