/*
 * board.h for "mps2-an385": QEMU's MPS2 with the AN385 image (Cortex-M3,
 * ARMv7-M MPU with 8 regions), on the static port (port/static).
 *
 * native flavour (build/mps2-an385): two heaps on two memories
 *   0x0000_0000  SSRAM1, 4 MB: vector table (VTOR = 0), code, read-only data
 *   0x0018_0000  SSRAM1: data, bss, stack (1 MB)
 *   0x0028_0000  SSRAM1: the second heap's metadata pool (512 KB)
 *   0x0030_0000  SSRAM1: the default heap's metadata pool (1 MB)
 *   0x2000_0000  SSRAM2/3, 4 MB: the second heap's region (on-chip SRAM:
 *                fast, DMA; one 4 MB arena; BOARD_HEAP2_*)
 *   0x2100_0000  PSRAM, 16 MB: the default heap region, four 4 MB arenas,
 *                4 KB pages (external)
 *   0x4000_4000  CMSDK UART0 (the console)
 *
 * small flavour (make BOARD=mps2-an385 FLAVOR=small, build/mps2-an385-small,
 * -DBOARD_SMALL_RAM): the part has 256 KB of RAM in all, modelled inside
 * SSRAM1 above the code:
 *   0x0000_0000  code (1 MB)
 *   0x0010_0000  data, bss, stack (48 KB), then the metadata pool (16 KB)
 *   0x0011_0000  the heap region, 192 KB: three 64 KB arenas, 1 KB pages
 *   0x0014_0000  end of the 256 KB
 * The 32-bit arena index is one flat table over [SHEAP_INDEX_BASE,
 * + SHEAP_INDEX_SIZE), 4 bytes per arena frame: here the heap region alone,
 * 3 entries (over all 4 GB it would take 256 KB with 64 KB arenas).
 *
 * The linker scripts (linker/mps2-an385*.ld) state the same region and pool;
 * the port checks that they agree on its first call.
 */
#ifndef SHEAP_BOARD_MPS2_AN385_H
#define SHEAP_BOARD_MPS2_AN385_H

#define BOARD_HAS_MMU 0
#define BOARD_HAS_GUARD 1 /* port/static/guard_armv7m.c */
#define BOARD_UART_BASE 0x40004000u

#ifdef BOARD_SMALL_RAM
#define SHEAP_BOARD_NAME "mps2-an385-small"
#define SHEAP_PAGE_SHIFT 10  /* 1 KB */
#define SHEAP_ARENA_SHIFT 16 /* 64 KB */
#define SHEAP_VA_BITS 21     /* the heap lies below 2 MB */
#define SHEAP_REGION_BASE 0x00110000u
#define SHEAP_REGION_SIZE (192u * 1024u)
/* The arena index covers the heap region only: 3 entries, 12 bytes. */
#define SHEAP_INDEX_BASE SHEAP_REGION_BASE
#define SHEAP_INDEX_SIZE SHEAP_REGION_SIZE
/* The initial reservation is the whole region (see the native flavour). */
#define SHEAP_INITIAL_RESERVE (192u * 1024u)
/* No record of the last misuse report (six words of RAM): the fault hook
 * still gets every message (see SHEAP_FAULT_RECORD). */
#define SHEAP_FAULT_RECORD 0
/* Page rounding of large blocks stays under 12.5 % from 8 pages up. */
#define SHEAP_MAX_SMALL_SIZE (8u * 1024u)
#define SHEAP_META_CHUNK (2u * 1024u)
#define SHEAP_STATIC_META_SIZE (16u * 1024u)
/* Static RAM for a 256 KB part (at most 1 KB): runs are at most
 * 192 pages, so four free lists per power of two do (25 % steps), and
 * growth never leaves the region, so two hints do. */
#define SHEAP_SL_BITS 2
#define SHEAP_MAX_HINTS 2
#else
#define SHEAP_BOARD_NAME "mps2-an385"
#define SHEAP_PAGE_SHIFT 12  /* 4 KB */
#define SHEAP_ARENA_SHIFT 22 /* 4 MB */
#define SHEAP_REGION_BASE 0x21000000u
#define SHEAP_REGION_SIZE (16u << 20)
/* The arena index covers both heaps' memories, [0x2000_0000, 0x2200_0000):
 * 8 entries, 32 bytes (all 4 GB would take 4 KB). */
#define SHEAP_INDEX_BASE 0x20000000u
#define SHEAP_INDEX_SIZE (32u << 20)
/* The initial reservation is the whole region: growth never needs a hint
 * (see docs/PORTING.md, "Initial reservation"). */
#define SHEAP_INITIAL_RESERVE (16u << 20)
#define SHEAP_META_CHUNK (16u * 1024u)
#define SHEAP_STATIC_META_SIZE (1024u * 1024u)
/* The second memory, for a heap of its own (tests/unit/test_heaps.c); the
 * linker script keeps it and its pool free. */
#define BOARD_HEAP2_BASE 0x20000000u
#define BOARD_HEAP2_SIZE (4u << 20)
#define BOARD_HEAP2_META_BASE 0x00280000u
#define BOARD_HEAP2_META_SIZE (512u * 1024u)
#endif

/* What the tests size to this board: board_test.h. */

#endif
