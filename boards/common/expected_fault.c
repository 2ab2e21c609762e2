/* expected_fault.c - see expected_fault.h. */
#include "expected_fault.h"

#include "sheap_board.h"

/* Written by the test (arm) and by the trap handler (record); volatile so
 * that the test's reads after the faulting access are not folded away.
 * SMP flavours (BOARD_SMP) keep one record per CPU, indexed by
 * board_cpu_index() (boards/common/smp.h): a fault is taken on the CPU
 * that armed it, and CPUs never share a record. */
#if BOARD_SMP
#include "smp.h"
static volatile bool fault_armed_cpu[BOARD_MAX_CPUS], fault_seen_cpu[BOARD_MAX_CPUS];
static volatile uintptr_t fault_addr_cpu[BOARD_MAX_CPUS];
#define fault_armed fault_armed_cpu[board_cpu_index()]
#define fault_seen fault_seen_cpu[board_cpu_index()]
#define fault_addr fault_addr_cpu[board_cpu_index()]
#else
static volatile bool fault_armed, fault_seen;
static volatile uintptr_t fault_addr;
#endif

bool sheap_board_can_trap_faults(void) { return true; }

void sheap_board_expect_fault(void)
{
    fault_seen = false;
    fault_armed = true;
}

bool sheap_board_fault_taken(uintptr_t *addr)
{
    bool seen = fault_seen;
    if (seen && addr)
        *addr = fault_addr;
    fault_armed = false;
    fault_seen = false;
    return seen;
}

bool board_fault_expected(uintptr_t addr)
{
    if (!fault_armed)
        return false;
    fault_addr = addr;
    fault_seen = true;
    fault_armed = false;
    return true;
}
