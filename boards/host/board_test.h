/*
 * board_test.h for "host": the test programs' sizing on this board
 * (tests/harness/harness.h includes it).  None: a process has memory
 * enough, and the tests' defaults apply.
 */
#ifndef SHEAP_BOARD_TEST_HOST_H
#define SHEAP_BOARD_TEST_HOST_H

#endif
