/*
 * fault_inject.c - test-only failure injection for every port.
 *
 * Ports call sheap_fault_inject_hit(op) at the top of reserve, map and used;
 * when it returns true they fail that call with SHEAP_PORT_ENOMEM, exactly as
 * they would when out of address space or frames.  Tests arm it through
 * sheap_fault_inject_arm/_all (sheap_port.h).  Built only when
 * SHEAP_FAULT_INJECTION is defined; without it the hit function is constant
 * false and the arming functions do nothing.  Protected by the heap lock,
 * like every port call.
 */
#include "sheap_port.h"

#ifdef SHEAP_FAULT_INJECTION
static unsigned long calls[SHEAP_OP_COUNT];
static unsigned long fail_at[SHEAP_OP_COUNT]; /* absolute call number, 0 = none */
static bool fail_all[SHEAP_OP_COUNT];
static unsigned long injected;

void sheap_fault_inject_arm(enum sheap_port_op op, unsigned long n)
{
    fail_at[op] = n ? calls[op] + n : 0;
}

void sheap_fault_inject_all(enum sheap_port_op op, bool on)
{
    fail_all[op] = on;
}

unsigned long sheap_fault_inject_calls(enum sheap_port_op op)
{
    return calls[op];
}

unsigned long sheap_fault_inject_count(void)
{
    return injected;
}

bool sheap_fault_inject_hit(enum sheap_port_op op)
{
    calls[op]++;
    if (fail_all[op] || calls[op] == fail_at[op]) {
        injected++;
        return true;
    }
    return false;
}
#else
void sheap_fault_inject_arm(enum sheap_port_op op, unsigned long n) { (void)op; (void)n; }
void sheap_fault_inject_all(enum sheap_port_op op, bool on) { (void)op; (void)on; }
unsigned long sheap_fault_inject_calls(enum sheap_port_op op) { (void)op; return 0; }
unsigned long sheap_fault_inject_count(void) { return 0; }
bool sheap_fault_inject_hit(enum sheap_port_op op) { (void)op; return false; }
#endif
