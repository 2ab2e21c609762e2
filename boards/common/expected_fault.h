/*
 * expected_fault.h - shared by the boards whose trap handler can resume
 * after a fault (the MMU boards): the bookkeeping behind
 * sheap_board_expect_fault / sheap_board_fault_taken (sheap_board.h).  The
 * board's trap handler asks board_fault_expected(addr) whether to record
 * the fault and resume after the faulting instruction, or to report it and
 * stop.  boards/common is not a board; board.mk files list what they use.
 */
#ifndef SHEAP_EXPECTED_FAULT_H
#define SHEAP_EXPECTED_FAULT_H

#include <stdbool.h>
#include <stdint.h>

/* Called from the trap handler for a data fault at addr: true (and the fault
 * recorded, the arming consumed) when a test armed it. */
bool board_fault_expected(uintptr_t addr);

#endif
