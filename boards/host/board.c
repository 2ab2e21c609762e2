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
