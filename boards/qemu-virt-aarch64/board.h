/*
 * board.h for "qemu-virt-aarch64": QEMU's virt machine with a Cortex-A57,
 * 128 MB of RAM, the heap on the AArch64 MMU port (port/aarch64).
 *
 * Memory map (physical = virtual for everything below 4 GB):
 *   0x0900_0000  PL011 UART (device block of the identity map)
 *   0x4000_0000  image: code and read-only data (2 MB)      linker script
 *   0x4020_0000  data, bss, picolibc's own heap, stack (16 MB)
 *   0x4120_0000  frame pool for heap pages and translation tables, to the
 *                end of RAM (0x4800_0000): about 110 MB
 * Heap virtual addresses: arenas of 64 MB at four hints spread over the
 * 48-bit space (1 TB, 64 TB, 128 TB - above 2^47 - and 192 TB); metadata
 * and fallback reservations in a window at 32 TB.
 */
#ifndef SHEAP_BOARD_QEMU_VIRT_AARCH64_H
#define SHEAP_BOARD_QEMU_VIRT_AARCH64_H

#define SHEAP_BOARD_NAME "qemu-virt-aarch64"
#define BOARD_HAS_MMU 1

#define BOARD_RAM_BASE 0x40000000u
#define BOARD_RAM_SIZE (128u << 20)
#define BOARD_UART_BASE 0x09000000u

#define SHEAP_PAGE_SHIFT 12
#define SHEAP_ARENA_SHIFT 26
#define SHEAP_VA_BITS 48
#define SHEAP_ARENA_HINTS {0x0000010000000000u, 0x0000400000000000u, 0x0000800000000000u, 0x0000c00000000000u}

/* MMU port: the lowest VA the heap may take (below is the identity map's
 * L0 slot), and the window for reservations without a hint. */
#define SHEAP_MMU_VA_MIN 0x0000008000000000u
#define SHEAP_MMU_ANY_BASE 0x0000200000000000u
#define SHEAP_MMU_ANY_END 0x0000300000000000u

/* Test sizing: the frame pool is about 110 MB. */
#define SHEAP_TEST_RAM_BYTES (100u << 20)
/* The stress suite: 10^6 operations, the heap validated every 10^4. */
#define SHEAP_TEST_STRESS_OPS 1000000
#define SHEAP_TEST_CHECK_EVERY 10000

#endif
