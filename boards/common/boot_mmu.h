/*
 * boot_mmu.h - what the MMU boards' startup does before main, like a
 * firmware or bootloader would: build identity (or other) translation
 * tables from a list of mappings and turn translation on (AArch64 EL1:
 * MAIR, TCR, TTBR0, SCTLR; RISC-V S-mode: satp).  sheap then attaches to
 * these tables (port/common/mmu_default.c) and must leave every entry it
 * was not given alone; boot_mmu_intact checks that.  Shared by
 * qemu-virt-aarch64 and qemu-virt-riscv64 (each flavour has its own
 * layout); boards/common is not a board.
 */
#ifndef SHEAP_BOOT_MMU_H
#define SHEAP_BOOT_MMU_H

#include <stdbool.h>
#include <stdint.h>

/* One mapping: [va, va + size) -> [pa, ...) with leaves of 1 << shift
 * bytes (30, 21 or 12: block/gigapage, 2 MB, page).  attrs: every leaf bit
 * except the address, valid and (AArch64) the block/page type.  pa ==
 * BOOT_FW_PAGE maps the firmware's own page (4 KB of .bss with a known
 * pattern, which board_mmu_intact reads through the mapping). */
struct boot_map {
    uintptr_t va, pa, size;
    unsigned shift;
    uint64_t attrs;
};

#define BOOT_FW_PAGE ((uintptr_t)1)
/* Where the foreign layouts alias the firmware's page: 15 GB, the
 * top-level entry just below their sheap window (Sv39 / 39-bit VA). */
#define BOOT_ALIAS_VA ((uintptr_t)15 << 30)

/* Each MMU board's firmware.c: builds its layout with boot_mmu_start, before
 * main (from .preinit_array). */
void board_firmware_start(void);

/* Build tables for va_bits (39 or 48) from maps, in a static pool, then
 * turn translation on.  AArch64: mair is MAIR_EL1; RISC-V ignores it.
 * Stops the program (exit 98) when the pool is too small. */
void boot_mmu_start(unsigned va_bits, uint64_t mair, const struct boot_map *maps, unsigned n);

/* 0 when the firmware's translation state is as boot_mmu_start left it:
 * control registers, every root entry that was valid, every other table
 * page (checksum), and no root entry outside the given VA windows (where
 * sheap may link tables) became valid.  Else the number of the first
 * failed check. */
int boot_mmu_intact(const uintptr_t (*windows)[2], unsigned nwindows);

/* The whole check: boot_mmu_intact with the board's sheap windows
 * (SHEAP_MMU_WINDOW_*, SHEAP_TEST_MMU2_WINDOW_*), then the firmware's own
 * page read directly and through its alias (and, on AArch64, the alias's
 * AT S1E1R translation), and a const in .rodata.  0 when intact.  Also run
 * at exit (a destructor), which then fails the program with status 99. */
int board_mmu_intact(void);

#endif
