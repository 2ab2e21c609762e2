/*
 * port_aarch64.c - the saved interrupt mask of the AArch64 heap lock
 * (sheap_port_lock.h; the lock functions, fault hook and errno are in
 * port/common/port_picolibc.c).  Nothing else lives here: the MMU backend
 * is port/common/mmu_backend.c with pt_arch.h and mmu_regime.c, and
 * turning translation on is the firmware's (boards/).
 *
 * SMP builds (SHEAP_SMP=1) add the shared lock's word and the thread hooks
 * (see "Threads" in sheap_port.h), both weak so that an RTOS integration
 * defines its own: the task id is the CPU index + 1, and a CPU that needs
 * growth while another CPU owns it (the heap lock dropped) waits a little
 * and looks again; the owner runs on its own CPU, so the wait ends.  With
 * these defaults an RTOS that switches tasks on one CPU during a growth
 * section gets the single-core answer there: the other task is refused
 * (Ready memory or NULL), never made to wait for itself.
 */
#include <stdbool.h>
#include <stdint.h>

#include "sheap_port.h"
#include "sheap_port_lock.h"

uint64_t sheap_port_saved_daif;

#if SHEAP_SMP
/* Written only with atomics (sheap_port_lock.h); 0 is free. */
uint32_t sheap_port_lock_word;

/* The core leaves these to the port (SHEAP_PORT_HAS_THREAD_HOOKS); weak,
 * so that a firmware's own definitions win. */
__attribute__((weak)) uintptr_t sheap_port_task_id(void)
{
    return (uintptr_t)sheap_port_cpu_id() + 1;
}

/* Another CPU's growth section always ends. */
__attribute__((weak)) bool sheap_port_growth_wait(void)
{
    for (int i = 0; i < 64; i++)
        __asm__ volatile("yield" ::: "memory");
    return true;
}
#endif
