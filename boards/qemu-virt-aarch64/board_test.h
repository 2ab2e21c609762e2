/*
 * board_test.h for "qemu-virt-aarch64": what the test programs use of this
 * board beyond the default heap (tests/harness/harness.h includes it; the
 * startup's boot_mmu.c too, to keep the second window out of its own
 * mappings).  The library's objects do not depend on it.
 */
#ifndef SHEAP_BOARD_TEST_QEMU_VIRT_AARCH64_H
#define SHEAP_BOARD_TEST_QEMU_VIRT_AARCH64_H

/* The second MMU instance (tests/mmu/test_backend.c, and the second heap of
 * tests/unit/test_heaps.c): its window, the top-level entries at the end of
 * the default heap's window (board.h), and 8 MB of frames at 2 GB. */
#ifdef BOARD_FOREIGN
#define SHEAP_TEST_MMU2_WINDOW_BASE 0x0000007000000000u
#define SHEAP_TEST_MMU2_WINDOW_SIZE 0x0000001000000000u
#else
#define SHEAP_TEST_MMU2_WINDOW_BASE 0x0000f00000000000u
#define SHEAP_TEST_MMU2_WINDOW_SIZE 0x0000100000000000u
#endif
#define SHEAP_TEST_MMU2_FRAMES_BASE 0x80000000u
#define SHEAP_TEST_MMU2_FRAMES_SIZE (8u << 20)

/* The default heap's frames are about 126 MB. */
#define SHEAP_TEST_RAM_BYTES (100u << 20)
/* The stress suite: 10^6 operations, the heap validated every 10^4. */
#define SHEAP_TEST_STRESS_OPS 1000000
#define SHEAP_TEST_CHECK_EVERY 10000

#endif
