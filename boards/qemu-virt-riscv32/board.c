/*
 * board.c for "qemu-virt-riscv32": M-mode startup before main, the
 * instruction counter (rdinstret/rdinstreth, exact under -icount shift=0),
 * and the M-mode set-up the shared trap handler relies on
 * (boards/common/riscv_trap.S, board_trap in qemu_virt_riscv.c).  The
 * console (NS16550
 * as picolibc's stdout) and _exit (sifive_test finisher, semihosting as a
 * fallback) are shared with qemu-virt-riscv64: boards/common/qemu_virt_riscv.c.
 *
 * Privilege state of a program on this board: always M-mode.
 *   reset .. board_start      picolibc's crt0: stack, gp, .data/.bss,
 *                             mtvec = picolibc's _trap
 *   board_start .. exit       mtvec = board_trap_entry; PMP entry 15 grants
 *                             RWX everywhere; mstatus.MPRV = 1, MPP = U:
 *                             loads and stores are checked against the PMP
 *                             as U-mode accesses, so the guard entries of
 *                             port/static/guard_pmp.c (which have no L bit)
 *                             apply to them; instruction fetch, CSR access
 *                             and the trap handler stay plain M-mode.
 * board_start runs from .preinit_array, which picolibc's crt0 calls before
 * every constructor and before main, so every heap call sees the PMP.
 */
#include <stdint.h>
#include <stdlib.h>

#include "board.h"
#include "sheap_board.h"

/* ---- Startup ------------------------------------------------------------------- */

void board_trap_entry(void); /* boards/common/riscv_trap.S */

#define MSTATUS_MPP_MASK (3u << 11) /* MPP = 0: U */
#define MSTATUS_MPRV (1u << 17)
#define PMP_R 0x01u
#define PMP_W 0x02u
#define PMP_X 0x04u
#define PMP_NAPOT 0x18u

static void board_start(void)
{
    __asm__ volatile("csrw mtvec, %0" ::"r"(board_trap_entry) : "memory");
    /* Entry 15, the lowest priority: NAPOT over all 2^34 bytes (pmpaddr all
     * ones), R W X.  U-mode accesses that no entry matches fail, so this is
     * what lets the program's checked loads and stores reach RAM and the
     * devices at all; the guard entries (0, 1) take precedence over it. */
    __asm__ volatile("csrw pmpaddr15, %0\n\t"
                     "csrw pmpcfg3, %1" ::"r"(~0ul),
                     "r"((unsigned long)(PMP_R | PMP_W | PMP_X | PMP_NAPOT) << 24)
                     : "memory");
    /* MPRV with MPP = U: from here on data accesses are checked. */
    __asm__ volatile("csrc mstatus, %0\n\t"
                     "csrs mstatus, %1" ::"r"(MSTATUS_MPP_MASK),
                     "r"(MSTATUS_MPRV)
                     : "memory");
}

__attribute__((section(".preinit_array"), used)) static void (*const board_preinit)(void) = board_start;

/* Console (NS16550 as stdout) and _exit: boards/common/qemu_virt_riscv.c. */

_Noreturn void sheap_board_exit(int code) { exit(code); }

/* ---- Instruction counter ------------------------------------------------- */

bool sheap_board_has_icount(void) { return true; }

uint64_t sheap_board_icount(void)
{
    /* rv32: the 64-bit counter in two halves; re-read when the low half
     * wrapped in between. */
    uint32_t hi, lo, hi2;
    do {
        __asm__ volatile("rdinstreth %0" : "=r"(hi));
        __asm__ volatile("rdinstret %0" : "=r"(lo));
        __asm__ volatile("rdinstreth %0" : "=r"(hi2)::"memory");
    } while (hi != hi2);
    return (uint64_t)hi << 32 | lo;
}

/* Traps: boards/common/riscv_trap.S and board_trap in
 * boards/common/qemu_virt_riscv.c. */
