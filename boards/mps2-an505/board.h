/*
 * board.h for "mps2-an505": QEMU's MPS2 with the AN505 image (Cortex-M33,
 * ARMv8-M Mainline with the Security Extension, FPU; 16-region MPU), on the
 * static port (port/static).  The core boots and stays in Secure state;
 * every address below is the Secure alias.
 *
 *   0x1000_0000  SSRAM1, 4 MB: vector table (VTOR at reset), code, rodata
 *   0x1018_0000  SSRAM1: data, bss, stack (1 MB)
 *   0x1028_0000  SSRAM1: the second heap's metadata pool (512 KB)
 *   0x1030_0000  SSRAM1: the default heap's metadata pool (1 MB)
 *   0x3800_0000  SSRAM2/3, 4 MB: the second heap's region (on-chip SRAM:
 *                fast, DMA; one 4 MB arena; BOARD_HEAP2_*)
 *   0x5020_0000  CMSDK UART0 (the console)
 *   0x8000_0000  PSRAM, 16 MB: the default heap region, four 4 MB arenas,
 *                4 KB pages (external)
 *
 * The guard (port/static/guard_armv8m.c) is one MPU region, privileged
 * read-only above the Ready watermark: stores there fault, loads do not.
 */
#ifndef SHEAP_BOARD_MPS2_AN505_H
#define SHEAP_BOARD_MPS2_AN505_H

#define SHEAP_BOARD_NAME "mps2-an505"
#define BOARD_HAS_MMU 0
#define BOARD_HAS_GUARD 1 /* port/static/guard_armv8m.c */
#define BOARD_UART_BASE 0x50200000u

#define SHEAP_PAGE_SHIFT 12  /* 4 KB */
#define SHEAP_ARENA_SHIFT 22 /* 4 MB */
#define SHEAP_REGION_BASE 0x80000000u
#define SHEAP_REGION_SIZE (16u << 20)
/* The initial reservation is the whole region: growth never needs a hint
 * (see docs/PORTING.md, "Initial reservation"). */
#define SHEAP_INITIAL_RESERVE (16u << 20)
#define SHEAP_META_CHUNK (16u * 1024u)
#define SHEAP_STATIC_META_SIZE (1024u * 1024u)

/* The second memory, for a heap of its own (tests/unit/test_heaps.c); the
 * linker script keeps it and its pool free. */
#define BOARD_HEAP2_BASE 0x38000000u
#define BOARD_HEAP2_SIZE (4u << 20)
#define BOARD_HEAP2_META_BASE 0x10280000u
#define BOARD_HEAP2_META_SIZE (512u * 1024u)

/* What the tests size to this board: board_test.h. */

#endif
