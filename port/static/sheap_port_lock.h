/*
 * sheap_port_lock.h (static port) - the heap lock as inline code for the
 * core's hot paths (see "Inline lock" in sheap_port.h): interrupts masked
 * on the one core, the previous state restored on unlock.  The saved state
 * lives in one global, sheap_port_saved_irq (port_static.c), shared with the
 * out-of-line sheap_port_lock/unlock (port/common/port_picolibc.c), so both
 * forms may be mixed; the lock is never nested.
 *
 *   Cortex-M (ARMv7-M, ARMv8-M)  PRIMASK: mrs + cpsid i; msr primask
 *   RISC-V, M-mode               mstatus.MIE (bit 3): csrrci; csrs of the
 *                                saved bit only, so other mstatus bits that
 *                                changed meanwhile (MPRV, MPP) are kept
 *
 * The lock itself, its fast-path forms (sheap_port_lock_fast, ...) and
 * lock_adopt are port/common/sheap_irq_lock.h over the mask below.
 */
#ifndef SHEAP_PORT_LOCK_H
#define SHEAP_PORT_LOCK_H

#include <stdint.h>

/* The interrupt state at lock time (PRIMASK, or mstatus & MIE). */
extern unsigned long sheap_port_saved_irq;

#if defined(__arm__)

static inline unsigned long sheap_port_irq_save(void)
{
    unsigned long primask;
    __asm__ volatile("mrs %0, primask\n\t"
                     "cpsid i"
                     : "=r"(primask)::"memory");
    return primask;
}

static inline void sheap_port_irq_restore(unsigned long primask)
{
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
}

/* Handler mode: IPSR holds the active exception number (0 in thread mode).
 * The core then does no growth (sheap.h, "Interrupt handlers"). */
#define SHEAP_PORT_HAS_IN_HANDLER 1
static inline int sheap_port_in_handler(void)
{
    unsigned long ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    return (ipsr & 0x1ffu) != 0;
}

#elif defined(__riscv)

/* mstatus.MIE: M-mode is the only mode here. */
#define SHEAP_RISCV_IRQ_CSR mstatus
#define SHEAP_RISCV_IRQ_BIT 8
#include "../common/sheap_riscv_irq.h"

#else
#error "port/static: no interrupt lock for this architecture"
#endif

/* The lock, fast forms and adopt over the mask above. */
#define SHEAP_PORT_SAVED_IRQ sheap_port_saved_irq
#include "../common/sheap_irq_lock.h"

#endif
