/*
 * smp_entry.S for "qemu-virt-riscv64", FLAVOR=smp only (BOARD_SMP; empty
 * otherwise): the first instructions of every hart and the machine-mode
 * trap vector that serves the IPIs.  The C side is smp.c.
 *
 * board_smp_entry: with -bios none QEMU starts every hart at 0x8000_0000
 * at once, in M-mode, with a0 = hart id (PLATFORMS.md).  The smp linker
 * script (linker/qemu-virt-riscv64-smp.ld) puts this section there and
 * picolibc's _start after it.  Hart 0 keeps a1 (the FDT, which smp.c reads
 * for the number of harts) and jumps to _start: crt0, .preinit_array
 * (board.c: S-mode, tables, then smp.c releases the others), main.  Every
 * other hart parks without touching memory: only the software interrupt
 * (mie.MSIE) is enabled, MIE stays 0, so wfi returns when hart 0 writes
 * the hart's CLINT MSIP word and no trap is taken.  It leaves the park
 * when board_smp_released is non-zero (a .bss word: RAM is zero at reset
 * and crt0 zeroes it again; hart 0 sets it after crt0), clears its MSIP,
 * takes its stack (slot hart - 1 of board_smp_stacks, BOARD_SMP_STACK
 * bytes) and gp, and calls board_smp_secondary_m(hart) (smp.c), which
 * never returns.
 * Harts numbered BOARD_SMP_HARTS and up stay parked for good.
 *
 * board_mtrap (mtvec of every hart, direct mode): the IPI handler, the
 * board's stand-in for an SBI's remote fence.  An M-mode interrupt is
 * taken in S-mode whatever sstatus.SIE says, so a hart spinning on a lock
 * with its interrupts masked still answers.  On the machine software
 * interrupt it clears its MSIP word, reads the shootdown sequence
 * (board_tlb_seq, acquire), drops its whole TLB (sfence.vma zero, zero:
 * QEMU and the spec make sfence.vma local to the hart that runs it),
 * publishes the sequence it flushed for in its acknowledgement word
 * (release) and sets sip.SSIP, which wakes an S-mode wfi in the idle loop
 * of smp.c (SSIP is never enabled outside that loop, so it is never taken
 * as an interrupt).  Every other trap into M (ecall from S, faults while
 * in M) goes on to picolibc's _trap with every register as it was.
 * mscratch holds the hart's save area (struct mtrap_area in smp.c):
 *   0 t1, 8 t2 (saved), 16 address of its MSIP word, 24 address of its
 *   acknowledgement word.
 */
#include "board.h"

#ifdef BOARD_SMP

#define MCAUSE_MSI 0x8000000000000003
#define MIE_MSIE 8

    .section .text.smp_entry, "ax"
    .global board_smp_entry
board_smp_entry:
    csrr t0, mhartid
    bnez t0, 1f
    la t1, board_smp_fdt
    sd a1, 0(t1)
    j _start
1:  li t1, BOARD_SMP_HARTS
    bgeu t0, t1, 3f
    li t1, MIE_MSIE
    csrw mie, t1
2:  wfi
    la t1, board_smp_released
    lw t2, 0(t1)
    beqz t2, 2b
    fence r, rw
    li t1, BOARD_CLINT_MSIP
    slli t2, t0, 2
    add t1, t1, t2
    sw zero, 0(t1)
    la sp, board_smp_stacks
    li t1, BOARD_SMP_STACK
    mul t1, t1, t0 /* the end of slot hart - 1 */
    add sp, sp, t1
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    mv a0, t0
    call board_smp_secondary_m
3:  wfi
    j 3b

    /* The FDT address hart 0 was started with: in this section, not in
     * .data/.bss, which crt0 initialises after the store. */
    .balign 8
    .global board_smp_fdt
board_smp_fdt:
    .dword 0

    .section .text.board_mtrap, "ax"
    .balign 4
    .global board_mtrap
board_mtrap:
    csrrw t0, mscratch, t0
    sd t1, 0(t0)
    sd t2, 8(t0)
    csrr t1, mcause
    li t2, MCAUSE_MSI
    bne t1, t2, 1f
    ld t1, 16(t0)
    sw zero, 0(t1)
    fence iorw, iorw
    la t1, board_tlb_seq
    ld t2, 0(t1)
    fence r, rw
    sfence.vma zero, zero
    ld t1, 24(t0)
    fence rw, w
    sd t2, 0(t1)
    csrsi mip, 2
    ld t1, 0(t0)
    ld t2, 8(t0)
    csrrw t0, mscratch, t0
    mret
1:  ld t1, 0(t0)
    ld t2, 8(t0)
    csrrw t0, mscratch, t0
    j _trap

#endif
