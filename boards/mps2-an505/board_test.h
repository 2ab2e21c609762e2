/*
 * board_test.h for "mps2-an505": how large the test programs make their
 * work on this board (tests/harness/harness.h includes it).  Only tests
 * read it: the library's objects do not depend on it.
 */
#ifndef SHEAP_BOARD_TEST_MPS2_AN505_H
#define SHEAP_BOARD_TEST_MPS2_AN505_H

/* The default heap region is 16 MB. */
#define SHEAP_TEST_RAM_BYTES (8u << 20)
#define SHEAP_TEST_STRESS_OPS 200000
#define SHEAP_TEST_CHECK_EVERY 10000

#endif
