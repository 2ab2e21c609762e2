/*
 * qemu_virt_riscv.c - the board services both QEMU "virt" RISC-V boards
 * share (qemu-virt-riscv64 with the MMU, qemu-virt-riscv32 with PMP only):
 * the NS16550 UART under the console (boards/common/console.c) and _exit
 * through the sifive_test finisher, with semihosting as the fallback.  The board's board.h gives
 * BOARD_UART_BASE, BOARD_TEST_FINISHER and SHEAP_BOARD_NAME; its board.mk
 * lists qemu_virt_riscv in BOARD_COMMON.
 *
 * The trap handler is shared too: boards/common/riscv_trap.S saves the
 * registers and calls board_trap below, which records an expected fault
 * of the guard (boards/common/expected_fault.c) and skips the faulting
 * instruction, or prints the cause, the faulting address and pc of an
 * unexpected trap and exits non-zero.  It runs in the mode the board's
 * program runs in: S-mode with an MMU (qemu-virt-riscv64, page faults) or
 * M-mode with MPRV and the PMP (qemu-virt-riscv32, access faults); board.h
 * says which (BOARD_RISCV_SMODE).  Startup and counters stay in each
 * board's own board.c: they differ.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "board.h"
#include "console.h"
#include "expected_fault.h"
#include "sheap_board.h"

/* ---- Console: NS16550, byte registers, no init needed under QEMU ------------ */

#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_THRE (1u << 5)

void board_uart_putc(char c)
{
    volatile uint8_t *uart = (volatile uint8_t *)(uintptr_t)BOARD_UART_BASE;
    while (!(uart[UART_LSR] & UART_LSR_THRE))
        ;
    uart[UART_THR] = (uint8_t)c;
}

/* ---- Exit ------------------------------------------------------------------------ */

#define FINISHER_PASS 0x5555u
#define FINISHER_FAIL 0x3333u /* | code << 16: QEMU exits with code */

void _exit(int code)
{
    /* The finisher works in any mode, with translation on (identity map)
     * or off. */
    volatile uint32_t *finisher = (volatile uint32_t *)(uintptr_t)BOARD_TEST_FINISHER;
    *finisher = code == 0 ? FINISHER_PASS : FINISHER_FAIL | ((uint32_t)code & 0xffffu) << 16;
    /* No finisher: semihosting SYS_EXIT with ADP_Stopped_ApplicationExit;
     * the parameter block holds XLEN-sized words. */
    uintptr_t block[2] = {0x20026, (uintptr_t)(intptr_t)code};
    register uintptr_t a0 __asm__("a0") = 0x18;
    register uintptr_t a1 __asm__("a1") = (uintptr_t)block;
    __asm__ volatile(".option push\n\t"
                     ".option norvc\n\t"
                     ".balign 16\n\t" /* the three instructions in one page */
                     "slli zero, zero, 0x1f\n\t"
                     "ebreak\n\t"
                     "srai zero, zero, 7\n\t"
                     ".option pop" ::"r"(a0),
                     "r"(a1)
                     : "memory");
    for (;;)
        ;
}

/* ---- Traps ----------------------------------------------------------------------- */

/* The trap CSRs of the mode the program runs in (board.h), and the causes
 * the board expects: a guard hit is a page fault in S-mode (the MMU) and
 * an access fault in M-mode (the PMP; there are no page faults there). */
#if BOARD_RISCV_SMODE
#define TRAP_CAUSE "scause"
#define TRAP_TVAL "stval"
#define TRAP_MODE "s"
#define CAUSE_LOAD_FAULT 13  /* load page fault */
#define CAUSE_STORE_FAULT 15 /* store/AMO page fault */
#define IRQ_SOFTWARE 1
#define IRQ_TIMER 5
#define IRQ_EXTERNAL 9
#else
#define TRAP_CAUSE "mcause"
#define TRAP_TVAL "mtval"
#define TRAP_MODE "m"
#define CAUSE_LOAD_FAULT 5  /* load access fault */
#define CAUSE_STORE_FAULT 7 /* store/AMO access fault */
#define IRQ_SOFTWARE 3
#define IRQ_TIMER 7
#define IRQ_EXTERNAL 11
#endif
#define CAUSE_INTERRUPT ((uintptr_t)1 << (__riscv_xlen - 1))

/* Saved by boards/common/riscv_trap.S: x[i] holds register xi (x[0]
 * unused, x[2] the sp at the trap), then the exception pc and the status
 * register (sepc, sstatus or mepc, mstatus). */
struct trap_frame {
    uintptr_t x[32];
    uintptr_t epc, status;
};
_Static_assert(sizeof(struct trap_frame) == 34 * sizeof(uintptr_t), "riscv_trap.S frame layout");

static const char *const causes[16] = {
    "instruction address misaligned", "instruction access fault", "illegal instruction", "breakpoint",
    "load address misaligned", "load access fault", "store address misaligned", "store access fault",
    "ecall from U", "ecall from S", "?", "ecall from M",
    "instruction page fault", "load page fault", "?", "store page fault",
};

void board_trap(struct trap_frame *f);
void board_trap(struct trap_frame *f)
{
    uintptr_t cause, tval;
    __asm__ volatile("csrr %0, " TRAP_CAUSE "\n\tcsrr %1, " TRAP_TVAL : "=r"(cause), "=r"(tval));
    if ((cause == CAUSE_LOAD_FAULT || cause == CAUSE_STORE_FAULT) && board_fault_expected(tval)) {
        /* Resume after the faulting load or store: 4 bytes, or 2 for a
         * compressed one (low bits of its first halfword not 11). */
        uint16_t insn = *(const volatile uint16_t *)f->epc;
        f->epc += (insn & 3u) == 3u ? 4 : 2;
        return;
    }
    bool irq = (cause & CAUSE_INTERRUPT) != 0;
    uintptr_t code = cause & ~CAUSE_INTERRUPT;
    const char *what = irq ? (code == IRQ_SOFTWARE   ? "software"
                              : code == IRQ_TIMER    ? "timer"
                              : code == IRQ_EXTERNAL ? "external"
                                                     : "?")
                           : code < 16 ? causes[code]
                                       : "?";
    printf("\n*** unexpected %s (%s): " TRAP_MODE "cause %#lx " TRAP_MODE "tval %#lx " TRAP_MODE "epc %#lx sp %#lx\n",
           irq ? "interrupt" : "exception", what, (unsigned long)cause, (unsigned long)tval, (unsigned long)f->epc,
           (unsigned long)f->x[2]);
    _exit(100);
}
