/*
 * port_riscv.c - the saved interrupt-enable bit of the RISC-V heap lock
 * (sheap_port_lock.h; the lock functions, fault hook and errno are in
 * port/common/port_picolibc.c).  Nothing else lives here: the MMU backend
 * is port/common/mmu_backend.c with pt_arch.h and mmu_regime.c, and
 * turning translation on is the firmware's (boards/).
 *
 * SMP builds (SHEAP_SMP=1) add the shared lock's word and the growth wait:
 * another hart's growth section is waited for by spinning a while with the
 * lock dropped and looking again (true), where the single-hart default
 * (core/util.c, weak) cannot wait.  An RTOS integration that wants to
 * sleep instead supplies its own port file.
 */
#include "sheap_port_lock.h"

unsigned long sheap_port_saved_sie;

#if defined(SHEAP_SMP) && SHEAP_SMP
#include <stdbool.h>

#include "sheap_port.h"

/* Only the atomics of sheap_port_lock.h touch it. */
uint32_t sheap_port_lock_word;

bool sheap_port_growth_wait(void)
{
    for (unsigned i = 0; i < 256; i++)
        SHEAP_PORT_CPU_RELAX();
    return true;
}
#endif
