/*
 * board.c for "qemu-virt-riscv64": the M-mode -> S-mode switch before main,
 * the instruction counter (rdinstret, exact under -icount
 * shift=0), and the delegation of traps to the shared S-mode handler
 * (boards/common/riscv_trap.S, board_trap in qemu_virt_riscv.c).  The console
 * (NS16550) and _exit (sifive_test finisher, semihosting as a fallback) are
 * shared with qemu-virt-riscv32: boards/common/qemu_virt_riscv.c.
 *
 * Privilege states of a program on this board:
 *   reset .. board_enter_supervisor   M-mode, picolibc's crt0: stack, gp,
 *                                     tp, .data/.bss, mtvec = picolibc _trap
 *   board_enter_supervisor .. exit    S-mode; translation on (Sv39 or
 *                                     Sv48) with the tables firmware.c
 *                                     builds right after the switch
 * Both run from .preinit_array, which picolibc's crt0 calls before every
 * constructor and before main, so no heap call ever runs in M-mode or
 * without translation.  In the smp flavour hart 0 also brings the other
 * harts up there, before main (smp.c).
 */
#include <stdint.h>
#include <stdlib.h>

#include "board.h"
#include "boot_mmu.h"
#include "sheap_board.h"

/* ---- M-mode -> S-mode -------------------------------------------------------- */

/* boards/common/riscv_trap.S; the second returns to its caller in S-mode. */
void board_trap_entry(void);
void board_mret_to_supervisor(void);

/* Exceptions handled in S-mode: misaligned/access faults, illegal
 * instruction, breakpoint (semihosting's ebreak is served by QEMU before
 * delegation), U-mode ecall and the three page faults.  Ecalls from S stay
 * with M (picolibc's _trap). */
#define MEDELEG_S ((1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | \
                   (1u << 7) | (1u << 8) | (1u << 12) | (1u << 13) | (1u << 15))
/* Supervisor software, timer and external interrupts. */
#define MIDELEG_S ((1u << 1) | (1u << 5) | (1u << 9))

/* M-mode, every hart (smp.c calls it for harts 1..N-1): what S-mode needs. */
void board_supervisor_setup(void);
void board_supervisor_setup(void)
{
    /* PMP entry 0: TOR over all of physical memory, R W X.  Without any
     * PMP entry S-mode may access nothing (QEMU 7.2 traps the mret). */
    unsigned long pmpaddr0 = ~0ul >> 10;
    __asm__ volatile("csrw pmpaddr0, %0\n\t"
                     "csrw pmpcfg0, %1" ::"r"(pmpaddr0),
                     "r"(0x0ful)
                     : "memory");
    /* S-mode may read cycle, time and instret. */
    __asm__ volatile("csrw mcounteren, %0" ::"r"(7ul));
    __asm__ volatile("csrw medeleg, %0\n\t"
                     "csrw mideleg, %1\n\t"
                     "csrw stvec, %2\n\t"
                     "csrw satp, zero\n\t"
                     "csrw sie, zero" ::"r"((unsigned long)MEDELEG_S),
                     "r"((unsigned long)MIDELEG_S), "r"(board_trap_entry)
                     : "memory");
}

#ifdef BOARD_SMP
void board_smp_setup_m(void); /* smp.c */
void board_smp_release(void); /* smp.c */
#endif

static void board_enter_supervisor(void)
{
    board_supervisor_setup();
#ifdef BOARD_SMP
    board_smp_setup_m(); /* this hart's IPI handler, sscratch = 0 */
#endif
    board_mret_to_supervisor();
    board_firmware_start(); /* firmware.c: tables, satp */
#ifdef BOARD_SMP
    board_smp_release(); /* the other harts: same regime, then parked in S */
#endif
}

__attribute__((section(".preinit_array"), used)) static void (*const board_preinit)(void) = board_enter_supervisor;

/* Console (NS16550 as stdout) and _exit: boards/common/qemu_virt_riscv.c. */

_Noreturn void sheap_board_exit(int code) { exit(code); }

/* ---- Instruction counter ------------------------------------------------- */

#ifdef BOARD_SMP
#include "smp.h"
/* The smp flavour counts exactly only in its counting run (-smp 1 -icount
 * shift=0, QEMU_COUNT in board.mk): the test run (-smp 4) has no -icount,
 * where rdinstret follows the host's clock. */
bool sheap_board_has_icount(void) { return board_cpu_count() == 1; }
#else
bool sheap_board_has_icount(void) { return true; }
#endif

uint64_t sheap_board_icount(void)
{
    uint64_t c;
    __asm__ volatile("rdinstret %0" : "=r"(c)::"memory");
    return c;
}

/* Traps: boards/common/riscv_trap.S and board_trap in
 * boards/common/qemu_virt_riscv.c. */
