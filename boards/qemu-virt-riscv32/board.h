/*
 * board.h for "qemu-virt-riscv32": QEMU's virt machine with an rv32imac
 * hart and no MMU (-cpu rv32,mmu=false), 32 MB of RAM, run entirely in
 * M-mode.  The heap lives on the static port (port/static) in a 16 MB
 * region fixed by the linker script, and the PMP guards the part of the
 * region that is not Ready (port/static/guard_pmp.c): M-mode runs with
 * mstatus.MPRV = 1 and MPP = U, so its loads and stores are checked
 * against the PMP as if from U-mode while it keeps executing in M-mode.
 *
 * Memory map (physical addresses, no translation):
 *   0x0010_0000  sifive_test finisher (exit)
 *   0x1000_0000  NS16550 UART
 *   0x8000_0000  image: code and read-only data (1 MB); reset jumps to its
 *                first byte, picolibc's _start            linker script
 *   0x8010_0000  data, bss, picolibc's own heap, stack (14.5 MB)
 *   0x80f8_0000  the static port's metadata pool (512 KB): the core's arena
 *                records and metadata chunks; never in the heap region
 *   0x8100_0000  the heap region: 16 MB = 4 arenas of 4 MB, to the end of
 *                RAM (0x8200_0000).  Everything in it above the Ready
 *                watermark is guarded by PMP entries 0-1.
 * PMP: entries 0 and 1 are the guard (guard_pmp.c), entry 15 grants RWX
 * over the whole address space (board.c); 2-14 are free for the firmware.
 */
#ifndef SHEAP_BOARD_QEMU_VIRT_RISCV32_H
#define SHEAP_BOARD_QEMU_VIRT_RISCV32_H

#define SHEAP_BOARD_NAME "qemu-virt-riscv32"
#define BOARD_HAS_MMU 0
/* The program runs in M-mode: traps are taken there
 * (boards/common/riscv_trap.S). */
#define BOARD_RISCV_SMODE 0
/* A protection unit guards the heap region above the Ready watermark. */
#define BOARD_HAS_GUARD 1

#define BOARD_RAM_BASE 0x80000000u
#define BOARD_RAM_SIZE (32u << 20)
#define BOARD_UART_BASE 0x10000000u
#define BOARD_TEST_FINISHER 0x00100000u

/* 32-bit mode defaults: 4 KB pages, 4 MB arenas. */
#define SHEAP_PAGE_SHIFT 12
#define SHEAP_ARENA_SHIFT 22
/* The heap region; linker/qemu-virt-riscv32.ld places the same addresses
 * (and asserts that they agree).  The core reserves the metadata of all
 * SHEAP_REGION_ARENAS arenas up front. */
#define SHEAP_REGION_BASE 0x81000000u
#define SHEAP_REGION_SIZE (16u << 20)
#define SHEAP_REGION_ARENAS 4
/* The initial reservation is the whole region: growth never needs a hint,
 * and a block may span every free arena (with half the region reserved
 * first, malloc(11 MB) failed next to 12 free contiguous MB; see
 * docs/PORTING.md, "Initial reservation"). */
#define SHEAP_INITIAL_RESERVE SHEAP_REGION_SIZE
/* The metadata pool [__sheap_meta_start, __sheap_meta_end) of the linker
 * script, and the piece the metadata allocator (span records, ...) takes of
 * it at a time.  Sized for the worst case, one span per page of the
 * region: 4096 span records of 108 B in 4 KB batches (444 KB, in 16 KB
 * chunks 448 KB) plus the 4 arena records reserved up front (20 KB).  The
 * stress suite (9 MB live, all four arenas) peaks at 100 KB. */
#define SHEAP_STATIC_META_SIZE (512u * 1024u)
#define SHEAP_META_CHUNK (16u * 1024u)

/* What the tests size to this board: board_test.h. */

#endif
