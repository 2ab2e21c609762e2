/*
 * smp_entry.S for "qemu-virt-aarch64": where PSCI CPU_ON starts CPUs 1..3
 * (FLAVOR=smp).  A CPU arrives in EL1 with its MMU and caches off, DAIF
 * masked, x0 = the context id smp.c passed (the CPU's index).  Before any
 * memory access other than reading the boot block (cleaned to memory by
 * CPU 0) it takes CPU 0's translation regime and vectors: MAIR, TCR, TTBR0
 * (the same tables), VBAR, CPACR (FP/SIMD on, as crt0 does for CPU 0),
 * drops whatever its own TLB holds (local TLBI: nothing is cached before
 * its MMU is on, other CPUs are not concerned), then SCTLR (MMU, caches),
 * and only then sets its stack (smp_stacks[index - 1], in .bss) and calls
 * board_secondary_main(index), which never returns.  Atomics and the heap
 * therefore only ever see Normal cacheable memory.
 */
#include "smp_boot.h"

#if BOARD_SMP
    .section .text.board_secondary_entry, "ax"
    .balign 4
    .global board_secondary_entry
board_secondary_entry:
    adrp x1, board_smp_boot
    add x1, x1, :lo12:board_smp_boot
    ldr x2, [x1, #SMP_BOOT_MAIR]
    msr mair_el1, x2
    ldr x2, [x1, #SMP_BOOT_TCR]
    msr tcr_el1, x2
    ldr x2, [x1, #SMP_BOOT_TTBR0]
    msr ttbr0_el1, x2
    ldr x2, [x1, #SMP_BOOT_VBAR]
    msr vbar_el1, x2
    ldr x2, [x1, #SMP_BOOT_CPACR]
    msr cpacr_el1, x2
    isb
    tlbi vmalle1
    ic iallu
    dsb nsh
    isb
    ldr x2, [x1, #SMP_BOOT_SCTLR]
    msr sctlr_el1, x2
    isb
    /* sp = smp_stacks + index << SMP_STACK_SHIFT: the top of stack index - 1. */
    adrp x2, smp_stacks
    add x2, x2, :lo12:smp_stacks
    add x2, x2, x0, lsl #SMP_STACK_SHIFT
    mov sp, x2
    mov x29, xzr
    mov x30, xzr
    bl board_secondary_main
1:  wfi
    b 1b
#endif
