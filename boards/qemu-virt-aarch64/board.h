/*
 * board.h for "qemu-virt-aarch64": QEMU's virt machine with a Cortex-A57,
 * 3 GB of RAM (-m 3G), the default heap on the MMU backend (port/aarch64,
 * port/common/mmu_backend.c) attached to the tables the board's startup
 * built (firmware.c).  Flavours (board.mk): native, and foreign
 * (-DBOARD_FOREIGN: another bootloader's layout, 39-bit VA).
 *
 * Physical memory:
 *   0x0900_0000  PL011 UART
 *   0x4000_0000  image: code and read-only data (2 MB)      linker script
 *   0x4020_0000  data, bss, picolibc's own heap, stack (16 MB)
 *   0x4120_0000  default heap's frames (linker script), to 0x4800_0000
 *   0x8000_0000  second backend instance's frames (tests), 8 MB at 2 GB
 *   0xc000_0000  default heap's frames above 3 GB, 16 MB
 *                (SHEAP_MMU_EXTRA_FRAMES)
 *   RAM ends at 0x1_0000_0000.
 * Virtual: the firmware maps devices and RAM at VA == PA (below 4 GB); the
 * heap's window is whole top-level entries above that, and the second
 * instance's window the entries at its end.
 *   native:  window [512 GB, 240 TB), arenas of 64 MB at hints 1 TB, 64 TB,
 *            128 TB and 192 TB, metadata and reservations without a hint
 *            in [32 TB, 48 TB); second window [240 TB, 256 TB).
 *   foreign: window [16 GB, 448 GB), hints 64 GB, 128 GB, 320 GB, no-hint
 *            reservations in [32 GB, 48 GB); second window [448 GB, 512 GB).
 */
#ifndef SHEAP_BOARD_QEMU_VIRT_AARCH64_H
#define SHEAP_BOARD_QEMU_VIRT_AARCH64_H

#define BOARD_HAS_MMU 1

/* RAM as QEMU gives it (-m 3G in board.mk); the startup maps all of it. */
#define BOARD_RAM_BASE 0x40000000u
#define BOARD_RAM_SIZE 0xc0000000u
#define BOARD_UART_BASE 0x09000000u

#define SHEAP_PAGE_SHIFT 12
#define SHEAP_ARENA_SHIFT 26

#ifdef BOARD_FOREIGN
#define SHEAP_BOARD_NAME "qemu-virt-aarch64-foreign"
#define SHEAP_VA_BITS 39
#define SHEAP_ARENA_HINTS {0x0000001000000000u, 0x0000002000000000u, 0x0000005000000000u}
#define SHEAP_MMU_WINDOW_BASE 0x0000000400000000u
#define SHEAP_MMU_WINDOW_END 0x0000007000000000u
#define SHEAP_MMU_ANY_BASE 0x0000000800000000u
#define SHEAP_MMU_ANY_END 0x0000000c00000000u
/* The foreign bootloader's MAIR: attr0 is normal write-back. */
#define SHEAP_MMU_LEAF_ATTRS SHEAP_MMU_AARCH64_ATTRS(0, 3)
#else
#define SHEAP_BOARD_NAME "qemu-virt-aarch64"
#define SHEAP_VA_BITS 48
#define SHEAP_ARENA_HINTS {0x0000010000000000u, 0x0000400000000000u, 0x0000800000000000u, 0x0000c00000000000u}
#define SHEAP_MMU_WINDOW_BASE 0x0000008000000000u
#define SHEAP_MMU_WINDOW_END 0x0000f00000000000u
#define SHEAP_MMU_ANY_BASE 0x0000200000000000u
#define SHEAP_MMU_ANY_END 0x0000300000000000u
/* MAIR attr1 is normal write-back; inner shareable. */
#define SHEAP_MMU_LEAF_ATTRS SHEAP_MMU_AARCH64_ATTRS(1, 3)
#endif

/* Frames beyond the linker script's range: 16 MB above 3 GB. */
#define SHEAP_MMU_EXTRA_FRAMES {{0xc0000000u, 16u << 20}}

/* What the tests size to this board: board_test.h. */

#endif
