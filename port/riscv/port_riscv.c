/*
 * port_riscv.c - the saved interrupt-enable bit of the RISC-V heap lock
 * (sheap_port_lock.h; the lock functions, fault hook and errno are in
 * port/common/port_picolibc.c).  Nothing else lives here: the MMU backend
 * is port/common/mmu_backend.c with pt_arch.h and mmu_regime.c, and
 * turning translation on is the firmware's (boards/).
 */
#include "sheap_port_lock.h"

unsigned long sheap_port_saved_sie;
