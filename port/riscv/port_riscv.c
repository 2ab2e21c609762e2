/*
 * port_riscv.c - the saved interrupt-enable bit of the RISC-V heap lock
 * (sheap_port_lock.h; the lock functions, fault hook and errno are in
 * port/common/port_picolibc.c).  Nothing else lives here: the MMU backend
 * is port/common/mmu_backend.c with pt_arch.h and mmu_regime.c, and
 * turning translation on is the firmware's (boards/).
 *
 * SMP builds (SHEAP_SMP=1) add the shared lock's word and the thread hooks
 * (see "Threads" in sheap_port.h): the task id is the hart index + 1, and
 * another hart's growth section is waited for by spinning a while with the
 * lock dropped and looking again (true), where the single-hart default
 * (core/util.c) cannot wait.  Both are weak: an RTOS integration that tells
 * its tasks apart, or sleeps instead, defines its own.
 */
#include "sheap_port_lock.h"

unsigned long sheap_port_saved_sie;

#if defined(SHEAP_SMP) && SHEAP_SMP
#include <stdbool.h>

#include "sheap_port.h"

/* Only the atomics of sheap_port_lock.h touch it. */
uint32_t sheap_port_lock_word;

/* The core leaves these to the port (SHEAP_PORT_HAS_THREAD_HOOKS). */
__attribute__((weak)) uintptr_t sheap_port_task_id(void)
{
    return (uintptr_t)sheap_port_cpu_id() + 1;
}

__attribute__((weak)) bool sheap_port_growth_wait(void)
{
    for (unsigned i = 0; i < 256; i++)
        SHEAP_PORT_CPU_RELAX();
    return true;
}
#endif
