/*
 * sheap_board.h - services every board's libboard.a provides to programs
 * linked with sheap (tests, the demo, users' firmware): a console, an exit
 * status and, where the target has one, an exact instruction counter.
 * None of this is used by the core.
 */
#ifndef SHEAP_BOARD_H
#define SHEAP_BOARD_H

#include <stdbool.h>
#include <stdint.h>

const char *sheap_board_name(void);
/* Write a NUL-terminated string to the board console. */
void sheap_board_puts(const char *s);
/* End the program (under QEMU: exit QEMU) with this status. */
_Noreturn void sheap_board_exit(int code);
/* true when sheap_board_icount() counts retired instructions exactly (QEMU
 * with -icount shift=0); the host returns false (use callgrind there). */
bool sheap_board_has_icount(void);
uint64_t sheap_board_icount(void);

/*
 * Expected faults, for tests that check that memory which is not Ready
 * really faults.  After sheap_board_expect_fault(), the next data abort
 * (page fault) is recorded instead of stopping the program, and execution
 * resumes after the faulting instruction.  sheap_board_fault_taken()
 * returns whether one happened (and its address), and disarms.  Boards that
 * cannot do this return false from sheap_board_can_trap_faults().
 */
bool sheap_board_can_trap_faults(void);
void sheap_board_expect_fault(void);
bool sheap_board_fault_taken(uintptr_t *addr);

#endif
