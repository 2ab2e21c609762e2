/*
 * board.h for "qemu-virt-riscv64": QEMU's virt machine (rv64imafdc, one
 * hart, -bios none), 128 MB of RAM, the heap on the RISC-V MMU port
 * (port/riscv) in S-mode.  Sv39 by default; the "sv48" flavour
 * (make BOARD=qemu-virt-riscv64 FLAVOR=sv48, build/qemu-virt-riscv64-sv48)
 * compiles with -DBOARD_SV48 and translates with Sv48.
 *
 * Memory map (physical = virtual for everything below 4 GB):
 *   0x0010_0000  sifive_test finisher (exit)     \  device gigapage
 *   0x1000_0000  NS16550 UART                    /  [0, 1 GB)
 *   0x8000_0000  image: code and read-only data (2 MB); reset jumps to its
 *                first byte, picolibc's _start      linker script
 *   0x8020_0000  data, bss, picolibc's own heap, stack (16 MB)
 *   0x8120_0000  frame pool for heap pages and page tables, to the end of
 *                RAM (0x8800_0000): about 110 MB
 *                (RAM gigapage [2 GB, 3 GB))
 * Heap virtual addresses: only the lower half of the canonical space is
 * used (below 2^38 with Sv39, 2^47 with Sv48), so SHEAP_MMU_VA_END stops
 * the port there while the arena index covers SHEAP_VA_BITS (39 or 48):
 * hints beyond the end fail with ENOMEM and the heap falls back, as on a
 * host whose user space ends below the index's top.
 *   Sv39: arenas of 64 MB at hints 64 GB, 128 GB and 192 GB; metadata and
 *         fallback reservations in a window at [32 GB, 48 GB).
 *   Sv48: hints 1 TB, 32 TB, 64 TB and 96 TB; window [16 TB, 24 TB).
 */
#ifndef SHEAP_BOARD_QEMU_VIRT_RISCV64_H
#define SHEAP_BOARD_QEMU_VIRT_RISCV64_H

#define BOARD_HAS_MMU 1

#define BOARD_RAM_BASE 0x80000000u
#define BOARD_RAM_SIZE (128u << 20)
/* Devices, identity-mapped by the port as one gigapage. */
#define BOARD_MMIO_BASE 0x00000000u
#define BOARD_MMIO_SIZE 0x40000000u
#define BOARD_UART_BASE 0x10000000u
#define BOARD_TEST_FINISHER 0x00100000u

#define SHEAP_PAGE_SHIFT 12
#define SHEAP_ARENA_SHIFT 26

#ifdef BOARD_SV48
#define SHEAP_BOARD_NAME "qemu-virt-riscv64-sv48"
#define SHEAP_RISCV_SV 48
#define SHEAP_VA_BITS 48
#define SHEAP_ARENA_HINTS {0x0000010000000000u, 0x0000200000000000u, 0x0000400000000000u, 0x0000600000000000u}
/* The lowest VA the heap may take (below is root[0], the identity map's
 * table), the window for reservations without a hint, and the end of the
 * lower canonical half. */
#define SHEAP_MMU_VA_MIN 0x0000008000000000u
#define SHEAP_MMU_ANY_BASE 0x0000100000000000u
#define SHEAP_MMU_ANY_END 0x0000180000000000u
#define SHEAP_MMU_VA_END 0x0000800000000000u
#else
#define SHEAP_BOARD_NAME "qemu-virt-riscv64"
#define SHEAP_RISCV_SV 39
#define SHEAP_VA_BITS 39
#define SHEAP_ARENA_HINTS {0x0000001000000000u, 0x0000002000000000u, 0x0000003000000000u}
/* The lowest VA the heap may take (below are the root's four entries of
 * the low 4 GB, two of them gigapage leaves), the window for reservations
 * without a hint, and the end of the lower canonical half. */
#define SHEAP_MMU_VA_MIN 0x0000000100000000u
#define SHEAP_MMU_ANY_BASE 0x0000000800000000u
#define SHEAP_MMU_ANY_END 0x0000000c00000000u
#define SHEAP_MMU_VA_END 0x0000004000000000u
#endif

/* Test sizing: the frame pool is about 110 MB. */
#define SHEAP_TEST_RAM_BYTES (100u << 20)
/* The stress suite: 10^6 operations, the heap validated every 10^4. */
#define SHEAP_TEST_STRESS_OPS 1000000
#define SHEAP_TEST_CHECK_EVERY 10000

#endif
