/*
 * board.h for "qemu-virt-riscv64": QEMU's virt machine (rv64imac, one
 * hart, -bios none), 256 MB of RAM, S-mode with the default heap on the MMU
 * backend (port/riscv, port/common/mmu_backend.c) attached to the tables
 * the board's startup built (firmware.c).  Flavours (board.mk): native
 * (Sv39), sv48 (-DBOARD_SV48) and foreign (-DBOARD_FOREIGN: another
 * bootloader's Sv39 layout).
 *
 * Physical memory:
 *   0x0010_0000  sifive_test finisher (exit)
 *   0x1000_0000  NS16550 UART
 *   0x8000_0000  image: code and read-only data (2 MB); reset jumps to its
 *                first byte, picolibc's _start      linker script
 *   0x8020_0000  data, bss, picolibc's own heap, stack (16 MB)
 *   0x8120_0000  default heap's frames, to 0x8800_0000 (linker script)
 *   0x8800_0000  second backend instance's frames (tests), 8 MB
 *   RAM ends at 0x9000_0000.
 * Virtual: the firmware maps devices and RAM at VA == PA (below 4 GB); the
 * heap's window is whole root entries above that, in the lower half of the
 * canonical space, and the second instance's window the entries at its
 * end.
 *   Sv39 (native, foreign): window [16 GB, 240 GB), arenas of 64 MB at
 *        hints 64 GB, 128 GB and 192 GB, no-hint reservations in
 *        [32 GB, 48 GB); second window [240 GB, 256 GB).
 *   Sv48: window [512 GB, 120 TB), hints 1 TB, 32 TB, 64 TB and 96 TB,
 *        no-hint reservations in [16 TB, 24 TB); second window
 *        [120 TB, 128 TB).
 *
 * FLAVOR=smp (-DBOARD_SMP, -DSHEAP_SMP=1): Sv39 as native, run
 * with -smp 4.  Every hart starts at 0x8000_0000, where the smp linker
 * script puts boards/qemu-virt-riscv64/smp_entry.S instead of picolibc's
 * _start (moved to 0x8000_1000); see smp.c for the bring-up.
 *   0x0200_0000  CLINT: MSIP word of hart h at +4h (the IPIs)
 */
#ifndef SHEAP_BOARD_QEMU_VIRT_RISCV64_H
#define SHEAP_BOARD_QEMU_VIRT_RISCV64_H

#define BOARD_HAS_MMU 1
/* The program runs in S-mode: traps are delegated there
 * (boards/common/riscv_trap.S). */
#define BOARD_RISCV_SMODE 1

/* RAM as QEMU gives it (-m 256M in board.mk), mapped by the startup. */
#define BOARD_RAM_BASE 0x80000000u
#define BOARD_RAM_SIZE (256u << 20)
/* Devices, mapped by the startup (native and sv48: one gigapage). */
#define BOARD_MMIO_BASE 0x00000000u
#define BOARD_MMIO_SIZE 0x40000000u
#define BOARD_UART_BASE 0x10000000u
#define BOARD_TEST_FINISHER 0x00100000u
/* CLINT software-interrupt (MSIP) words, one 32-bit word per hart.  No u
 * suffix: smp_entry.S includes this header. */
#define BOARD_CLINT_MSIP 0x02000000
/* The harts the smp flavour brings up (harts above stay parked), and the
 * stack of each hart other than 0 (hart 0 keeps picolibc's __stack). */
#define BOARD_SMP_HARTS 4
#define BOARD_SMP_STACK 32768

#define SHEAP_PAGE_SHIFT 12
#define SHEAP_ARENA_SHIFT 26

#if defined(BOARD_SV48)
#define SHEAP_BOARD_NAME "qemu-virt-riscv64-sv48"
#define SHEAP_RISCV_SV 48
#define SHEAP_VA_BITS 48
#define SHEAP_ARENA_HINTS {0x0000010000000000u, 0x0000200000000000u, 0x0000400000000000u, 0x0000600000000000u}
#define SHEAP_MMU_WINDOW_BASE 0x0000008000000000u
#define SHEAP_MMU_WINDOW_END 0x0000780000000000u
#define SHEAP_MMU_ANY_BASE 0x0000100000000000u
#define SHEAP_MMU_ANY_END 0x0000180000000000u
#else
#ifdef BOARD_FOREIGN
#define SHEAP_BOARD_NAME "qemu-virt-riscv64-foreign"
#else
#define SHEAP_BOARD_NAME "qemu-virt-riscv64"
#endif
#define SHEAP_RISCV_SV 39
#define SHEAP_VA_BITS 39
#define SHEAP_ARENA_HINTS {0x0000001000000000u, 0x0000002000000000u, 0x0000003000000000u}
#define SHEAP_MMU_WINDOW_BASE 0x0000000400000000u
#define SHEAP_MMU_WINDOW_END 0x0000003c00000000u
#define SHEAP_MMU_ANY_BASE 0x0000000800000000u
#define SHEAP_MMU_ANY_END 0x0000000c00000000u
#endif

/* Heap leaves: no G, no PBMT (the PMAs decide: RAM is cacheable). */
#define SHEAP_MMU_LEAF_ATTRS 0

/* What the tests size to this board: board_test.h. */

#endif
