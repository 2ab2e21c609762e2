/*
 * board.c for "host": the board services that firmware boards implement in
 * their startup code (console, exit, instruction counter), here on top of the
 * host's libc.  See include/sheap_board.h for the contract.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sheap_board.h"

const char *sheap_board_name(void) { return "host"; }

void sheap_board_puts(const char *s) { fputs(s, stdout); }

_Noreturn void sheap_board_exit(int code)
{
    fflush(stdout);
    exit(code);
}

/* No guest counter on the host: instruction counts come from callgrind. */
bool sheap_board_has_icount(void) { return false; }
uint64_t sheap_board_icount(void) { return 0; }

/* The hosted port cannot resume after a fault; MMU boards test this. */
bool sheap_board_can_trap_faults(void) { return false; }
void sheap_board_expect_fault(void) {}
bool sheap_board_fault_taken(uintptr_t *addr)
{
    (void)addr;
    return false;
}
