/*
 * qemu_virt_riscv.c - the board services both QEMU "virt" RISC-V boards
 * share (qemu-virt-riscv64 with the MMU, qemu-virt-riscv32 with PMP only):
 * picolibc's stdio on the NS16550 UART and _exit through the sifive_test
 * finisher, with semihosting as the fallback.  The board's board.h gives
 * BOARD_UART_BASE, BOARD_TEST_FINISHER and SHEAP_BOARD_NAME; its board.mk
 * lists qemu_virt_riscv in BOARD_COMMON.  Startup, traps and counters stay
 * in each board's own files: they differ (S-mode with an MMU, M-mode with
 * MPRV).
 */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "board.h"
#include "sheap_board.h"

/* ---- Console: NS16550, byte registers, no init needed under QEMU ------------ */

#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_THRE (1u << 5)

static int uart_putc(char c, FILE *f)
{
    (void)f;
    volatile uint8_t *uart = (volatile uint8_t *)(uintptr_t)BOARD_UART_BASE;
    while (!(uart[UART_LSR] & UART_LSR_THRE))
        ;
    uart[UART_THR] = (uint8_t)c;
    return (unsigned char)c;
}

static FILE uart_file = FDEV_SETUP_STREAM(uart_putc, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdout = &uart_file;
FILE *const stderr = &uart_file;
FILE *const stdin = &uart_file;

const char *sheap_board_name(void) { return SHEAP_BOARD_NAME; }

void sheap_board_puts(const char *s) { fputs(s, stdout); }

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
