/*
 * board.c for "qemu-virt-aarch64": the PL011 UART under the console
 * (boards/common/console.c: picolibc's stdout, stderr and stdin), exit through semihosting, the
 * instruction counter (PMCCNTR, exact under -icount shift=0), and the
 * exception handler behind vectors.S (installed, with the translation
 * tables, by firmware.c), which prints ESR, FAR and ELR for an
 * unexpected exception and exits non-zero, or records an expected fault.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "board.h"
#include "console.h"
#include "expected_fault.h"
#include "sheap_board.h"

/* ---- Console ------------------------------------------------------------- */

#define UART_DR 0x00
#define UART_FR 0x18
#define UART_FR_TXFF (1u << 5)

void board_uart_putc(char c)
{
    volatile uint32_t *uart = (volatile uint32_t *)(uintptr_t)BOARD_UART_BASE;
    while (uart[UART_FR / 4] & UART_FR_TXFF)
        ;
    uart[UART_DR / 4] = (uint32_t)(unsigned char)c;
}

/* stdio on the UART, the board's name: boards/common/console.c. */

/* ---- Exit: semihosting SYS_EXIT with ADP_Stopped_ApplicationExit ---------- */

void _exit(int code)
{
    uint64_t block[2] = {0x20026, (uint64_t)(int64_t)code};
    register uint64_t x0 __asm__("x0") = 0x18;
    register uint64_t x1 __asm__("x1") = (uint64_t)(uintptr_t)block;
    __asm__ volatile("hlt #0xf000" ::"r"(x0), "r"(x1) : "memory");
    for (;;)
        ;
}

_Noreturn void sheap_board_exit(int code) { exit(code); }

/* ---- Instruction counter ------------------------------------------------- */

#if !BOARD_SMP
bool sheap_board_has_icount(void) { return true; }
#else
/* FLAVOR=smp runs its tests without -icount (the CPUs in parallel) and
 * counts with it (bench-board): PMCCNTR counts instructions exactly only in
 * the second case.  Probe once: under -icount shift=0 the count across 64
 * more NOPs is exactly 64 more, every time; without it the counter follows
 * the host's clock and that does not hold four times in a row. */
static uint64_t count_across(bool nops)
{
    uint64_t c0, c1;
    if (nops)
        __asm__ volatile("isb\n\tmrs %0, pmccntr_el0\n\t.rept 64\n\tnop\n\t.endr\n\tisb\n\tmrs %1, pmccntr_el0"
                         : "=r"(c0), "=r"(c1)::"memory");
    else
        __asm__ volatile("isb\n\tmrs %0, pmccntr_el0\n\tisb\n\tmrs %1, pmccntr_el0" : "=r"(c0), "=r"(c1)::"memory");
    return c1 - c0;
}

bool sheap_board_has_icount(void)
{
    static int exact = -1;
    if (exact < 0) {
        exact = 1;
        for (int i = 0; i < 4; i++)
            if (count_across(true) - count_across(false) != 64)
                exact = 0;
    }
    return exact == 1;
}
#endif

uint64_t sheap_board_icount(void)
{
    uint64_t c;
    __asm__ volatile("isb\n\tmrs %0, pmccntr_el0" : "=r"(c)::"memory");
    return c;
}

/* The cycle counter (PMCR.E, reset with .C), on the calling CPU (each CPU
 * of FLAVOR=smp has its own: smp.c calls this on the others). */
void board_pmu_start(void);
void board_pmu_start(void)
{
    uint64_t pmcr;
    __asm__ volatile("mrs %0, pmcr_el0" : "=r"(pmcr));
    pmcr |= (1u << 0) | (1u << 2);
    __asm__ volatile("msr pmcr_el0, %0\n\t"
                     "msr pmcntenset_el0, %1\n\t"
                     "isb" ::"r"(pmcr),
                     "r"(1ull << 31)
                     : "memory");
}

/* The exception vectors are installed earlier, by firmware.c. */
__attribute__((constructor)) static void board_init(void) { board_pmu_start(); }

/* ---- Exceptions ---------------------------------------------------------------- */

/* Saved by vectors.S: x0..x30, then ELR_EL1 and SPSR_EL1. */
struct trap_frame {
    uint64_t x[31];
    uint64_t elr, spsr;
};

#define ESR_EC(esr) ((esr) >> 26)
#define EC_DATA_ABORT_SAME_EL 0x25

static const char *const kinds[16] = {
    "sync/SP0", "irq/SP0", "fiq/SP0", "serror/SP0", "sync", "irq", "fiq", "serror",
    "sync/lower64", "irq/lower64", "fiq/lower64", "serror/lower64", "sync/lower32", "irq/lower32", "fiq/lower32", "serror/lower32",
};

void board_trap(struct trap_frame *f, unsigned kind);
__attribute__((target("general-regs-only"))) void board_trap(struct trap_frame *f, unsigned kind)
{
    uint64_t esr, far;
    __asm__ volatile("mrs %0, esr_el1\n\tmrs %1, far_el1" : "=r"(esr), "=r"(far));
    if (kind == 4 && ESR_EC(esr) == EC_DATA_ABORT_SAME_EL && board_fault_expected((uintptr_t)far)) {
        f->elr += 4; /* resume after the faulting load or store */
        return;
    }
    printf("\n*** unexpected exception %s: ESR %#llx FAR %#llx ELR %#llx\n", kinds[kind & 15],
           (unsigned long long)esr, (unsigned long long)far, (unsigned long long)f->elr);
    _exit(100);
}
