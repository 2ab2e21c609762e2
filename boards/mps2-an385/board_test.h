/*
 * board_test.h for "mps2-an385": how large the test programs make their
 * work on this board (tests/harness/harness.h includes it).  Only tests
 * read it: the library's objects do not depend on it.  The memory the
 * sizes are drawn from is in board.h.
 */
#ifndef SHEAP_BOARD_TEST_MPS2_AN385_H
#define SHEAP_BOARD_TEST_MPS2_AN385_H

#ifdef BOARD_SMALL_RAM
/* The small part's heap region is 192 KB. */
#define SHEAP_TEST_RAM_BYTES (64u * 1024u)
#define SHEAP_TEST_STRESS_OPS 100000
#define SHEAP_TEST_CHECK_EVERY 5000
#else
/* The default heap region is 16 MB. */
#define SHEAP_TEST_RAM_BYTES (8u << 20)
#define SHEAP_TEST_STRESS_OPS 200000
#define SHEAP_TEST_CHECK_EVERY 10000
#endif

#endif
