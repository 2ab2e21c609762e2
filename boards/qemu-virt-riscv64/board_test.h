/*
 * board_test.h for "qemu-virt-riscv64": what the test programs use of this
 * board beyond the default heap (tests/harness/harness.h includes it; the
 * startup's boot_mmu.c too, to keep the second window out of its own
 * mappings).  The library's objects do not depend on it.
 */
#ifndef SHEAP_BOARD_TEST_QEMU_VIRT_RISCV64_H
#define SHEAP_BOARD_TEST_QEMU_VIRT_RISCV64_H

/* The second MMU instance (tests/mmu/test_backend.c, and the second heap of
 * tests/unit/test_heaps.c): its window, the root entries at the end of the
 * default heap's window (board.h), and 8 MB of frames at 0x8800_0000. */
#if defined(BOARD_SV48)
#define SHEAP_TEST_MMU2_WINDOW_BASE 0x0000780000000000u
#define SHEAP_TEST_MMU2_WINDOW_SIZE 0x0000080000000000u
#else
#define SHEAP_TEST_MMU2_WINDOW_BASE 0x0000003c00000000u
#define SHEAP_TEST_MMU2_WINDOW_SIZE 0x0000000400000000u
#endif
#define SHEAP_TEST_MMU2_FRAMES_BASE 0x88000000u
#define SHEAP_TEST_MMU2_FRAMES_SIZE (8u << 20)

/* The default heap's frames are about 110 MB. */
#define SHEAP_TEST_RAM_BYTES (100u << 20)
/* The stress suite: 10^6 operations, the heap validated every 10^4. */
#define SHEAP_TEST_STRESS_OPS 1000000
#define SHEAP_TEST_CHECK_EVERY 10000

#endif
