/*
 * cortex_m.c - board services of the MPS2 Cortex-M boards (mps2-an385,
 * mps2-an505: their board.mk lists cortex_m in BOARD_COMMON); everything
 * board-specific comes from the board's board.h (BOARD_UART_BASE,
 * SHEAP_BOARD_NAME):
 *
 *   vector table    our own __interrupt_vector (picolibc's is weak): the
 *                   reset entry is picolibc's _start (--crt0=semihost), and
 *                   every fault vector (HardFault, MemManage, BusFault,
 *                   UsageFault, SecureFault) goes to one handler
 *   start-up        from .preinit_array, before constructors and main:
 *                   MemManage, BusFault and UsageFault enabled (SHCSR), so
 *                   an MPU violation arrives as MemManage; UART TX enabled
 *   console         board_uart_putc on CMSDK APB UART0 at BOARD_UART_BASE,
 *                   under picolibc's stdio (boards/common/console.c); with
 *                   newlib (LIBC=newlib*) stdio goes to the semihosting
 *                   console (boards/common/newlib_semihost.c)
 *   exit            exit(n): the C library's semihosting exit
 *                   (SYS_EXIT_EXTENDED), so QEMU exits with n
 *   faults          an armed expected fault (boards/common/expected_fault.c)
 *                   with a valid MMFAR is recorded and execution resumes
 *                   after the faulting instruction (16- or 32-bit Thumb,
 *                   decoded from the stacked PC); anything else prints the
 *                   fault status registers and exits with status 100
 *   icount          none: QEMU has no cycle counter on M-profile
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "board.h"
#include "console.h"
#include "expected_fault.h"
#include "sheap_board.h"

/* ---- System control block ------------------------------------------------- */

#define SCB_SHCSR (*(volatile uint32_t *)0xE000ED24u)
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_MMFAR (*(volatile uint32_t *)0xE000ED34u)
#define SCB_BFAR (*(volatile uint32_t *)0xE000ED38u)
#define SHCSR_MEMFAULTENA (1u << 16)
#define SHCSR_BUSFAULTENA (1u << 17)
#define SHCSR_USGFAULTENA (1u << 18)
#define CFSR_MMARVALID (1u << 7)
#define CFSR_MMFSR 0xffu

/* ---- Console: CMSDK APB UART ------------------------------------------------ */

#define UART_DATA (*(volatile uint32_t *)(BOARD_UART_BASE + 0x00u))
#define UART_STATE (*(volatile uint32_t *)(BOARD_UART_BASE + 0x04u))
#define UART_CTRL (*(volatile uint32_t *)(BOARD_UART_BASE + 0x08u))
#define UART_BAUDDIV (*(volatile uint32_t *)(BOARD_UART_BASE + 0x10u))
#define UART_STATE_TXFULL 1u
#define UART_CTRL_TXEN 1u

void board_uart_putc(char c)
{
    while (UART_STATE & UART_STATE_TXFULL)
        ;
    UART_DATA = (uint8_t)c;
}

_Noreturn void sheap_board_exit(int code) { exit(code); }

bool sheap_board_has_icount(void) { return false; }

uint64_t sheap_board_icount(void) { return 0; }

/* ---- Start-up ------------------------------------------------------------------ */

static void board_start(void)
{
    UART_BAUDDIV = 16; /* the least the CMSDK UART accepts; QEMU ignores the rate */
    UART_CTRL = UART_CTRL_TXEN;
    SCB_SHCSR |= SHCSR_MEMFAULTENA | SHCSR_BUSFAULTENA | SHCSR_USGFAULTENA;
    __asm__ volatile("dsb sy\n\tisb sy" ::: "memory");
}

__attribute__((section(".preinit_array"), used)) static void (*const board_preinit)(void) = board_start;

/* ---- Faults ----------------------------------------------------------------------- */

/* The exception frame the core pushes: r0-r3, r12, lr, pc, xpsr. */
enum { FRAME_R0, FRAME_R1, FRAME_R2, FRAME_R3, FRAME_R12, FRAME_LR, FRAME_PC, FRAME_XPSR };

void board_fault(uint32_t *frame, uint32_t exc_return);
void board_fault(uint32_t *frame, uint32_t exc_return)
{
    uint32_t cfsr = SCB_CFSR, mmfar = SCB_MMFAR, ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    ipsr &= 0x1ffu;
    if ((cfsr & CFSR_MMARVALID) && board_fault_expected((uintptr_t)mmfar)) {
        /* Resume after the faulting load or store: a Thumb-2 32-bit
         * instruction starts with 0b11101, 0b11110 or 0b11111. */
        uint16_t insn = *(const volatile uint16_t *)(uintptr_t)frame[FRAME_PC];
        frame[FRAME_PC] += (insn & 0xf800u) >= 0xe800u ? 4u : 2u;
        SCB_CFSR = cfsr & CFSR_MMFSR; /* write one to clear */
        if (ipsr == 3)
            SCB_HFSR = SCB_HFSR; /* escalated: clear FORCED too */
        return;
    }
    static const char *const names[] = {"?", "reset", "NMI", "HardFault", "MemManage", "BusFault",
                                        "UsageFault", "SecureFault"};
    printf("\n*** unexpected exception %lu (%s): CFSR %#lx HFSR %#lx MMFAR %#lx BFAR %#lx PC %#lx LR %#lx "
           "EXC_RETURN %#lx\n",
           (unsigned long)ipsr, ipsr < 8 ? names[ipsr] : "?", (unsigned long)cfsr, (unsigned long)SCB_HFSR,
           (unsigned long)mmfar, (unsigned long)SCB_BFAR, (unsigned long)frame[FRAME_PC],
           (unsigned long)frame[FRAME_LR], (unsigned long)exc_return);
    fflush(stdout);
    _exit(100);
}

/* Finds the frame on the stack the exception used (EXC_RETURN bit 2) and
 * tail-calls board_fault with lr still holding EXC_RETURN, so that its
 * return is the exception return. */
__attribute__((naked)) static void fault_entry(void)
{
    __asm__ volatile("tst lr, #4\n\t"
                     "ite eq\n\t"
                     "mrseq r0, msp\n\t"
                     "mrsne r0, psp\n\t"
                     "mov r1, lr\n\t"
                     "b board_fault\n\t");
}

static void unexpected_irq(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    printf("\n*** unexpected exception %lu (interrupt)\n", (unsigned long)(ipsr & 0x1ffu));
    _exit(101);
}

extern char __stack[];
void _start(void);


/* Replaces picolibc's weak table; .init (picolibc.ld) puts it at __flash,
 * where VTOR points at reset. */
__attribute__((section(".data.init.enter"), used, aligned(128))) void *const __interrupt_vector[16] = {
    __stack,         _start,          unexpected_irq, /* NMI */
    fault_entry,     /* HardFault */  fault_entry,    /* MemManage */
    fault_entry,     /* BusFault */   fault_entry,    /* UsageFault */
    fault_entry,     /* SecureFault (ARMv8-M) */
    0,               0,               0,
    unexpected_irq,  /* SVCall */     unexpected_irq, /* DebugMonitor */
    0,               unexpected_irq,  /* PendSV */    unexpected_irq, /* SysTick */
};
