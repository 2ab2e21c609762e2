/*
 * board_test.h for "qemu-virt-riscv32": how large the test programs make
 * their work on this board (tests/harness/harness.h includes it).  Only
 * tests read it: the library's objects do not depend on it.
 */
#ifndef SHEAP_BOARD_TEST_QEMU_VIRT_RISCV32_H
#define SHEAP_BOARD_TEST_QEMU_VIRT_RISCV32_H

/* The heap region is 16 MB.  The stress suite keeps at most 3/4 of this
 * live (6 MB, blocks up to 512 KB) and leaves the rest of the region to
 * fragmentation: at 12 MB its fixed seed reaches a 570 KB request that
 * none of 165 free runs (6.2 MB in all) can hold. */
#define SHEAP_TEST_RAM_BYTES (8u << 20)
/* The stress suite: validated every 10^4 operations. */
#define SHEAP_TEST_STRESS_OPS 1000000
#define SHEAP_TEST_CHECK_EVERY 10000

#endif
