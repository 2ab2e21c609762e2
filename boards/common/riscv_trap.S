/*
 * riscv_trap.S - the trap entry of the QEMU virt RISC-V boards, for RV32
 * and RV64 (register width from __riscv_xlen) and for the privilege mode
 * the board's program runs in (board.h: BOARD_RISCV_SMODE).
 *
 * board_trap_entry (the trap vector, direct mode, so 4-byte aligned):
 * every trap the program takes lands here on the current stack.  It saves
 * x1..x31 and the exception pc and status register in a frame on that
 * stack (struct trap_frame in boards/common/qemu_virt_riscv.c: slot i for
 * xi, slot 0 unused, slot 2 the interrupted sp), calls board_trap(frame),
 * restores (the pc may have been advanced past an expected fault) and
 * returns with xRET.
 *
 *   S-mode (qemu-virt-riscv64, stvec): every trap delegated to S-mode.
 *     There is no U-mode, so the trap always comes from S-mode.
 *   M-mode (qemu-virt-riscv32, mtvec): every trap.  Taking the trap set
 *     mstatus.MPP to M, so with MPRV = 1 the handler's own loads and stores
 *     (this frame, the console, the interrupted instruction) are M-mode
 *     accesses that the PMP does not check.  mret goes back to M-mode
 *     (MPP = M), keeps MPRV = 1 (the spec clears it only when returning
 *     below M) and sets MPP to U, the least-privileged mode: data accesses
 *     are checked against the PMP again.  Restoring the saved mstatus
 *     before mret is what keeps a nested trap (one taken inside a handler
 *     that re-enabled interrupts) from returning the outer handler to
 *     U-mode: the inner trap and mret leave MPP = U.
 *
 * board_mret_to_supervisor (S-mode boards only): called from M-mode like a
 * function, it "returns" to its caller in S-mode: mepc = ra,
 * mstatus.MPP = S, mret.  The stack, gp and tp carry over unchanged.
 */
#include "board.h"

#if __riscv_xlen == 64
#define SREG sd
#define LREG ld
#define REGBYTES 8
#else
#define SREG sw
#define LREG lw
#define REGBYTES 4
#endif

#if BOARD_RISCV_SMODE
#define XEPC sepc
#define XSTATUS sstatus
#define XRET sret
#else
#define XEPC mepc
#define XSTATUS mstatus
#define XRET mret
#endif

/* 32 + 2 slots, rounded up to a multiple of 16 bytes. */
#define FRAME ((34 * REGBYTES + 15) & ~15)
#define EPC_OFF (32 * REGBYTES)
#define STATUS_OFF (33 * REGBYTES)

    .section .text.board_trap_entry, "ax"
    .balign 4
    .global board_trap_entry
board_trap_entry:
    addi sp, sp, -FRAME
    /* x2 (sp) is recomputed on return, not restored */
    .irp n, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    SREG x\n, (\n * REGBYTES)(sp)
    .endr
    csrr t0, XEPC
    SREG t0, EPC_OFF(sp)
    csrr t1, XSTATUS
    SREG t1, STATUS_OFF(sp)
    addi t2, sp, FRAME
    SREG t2, (2 * REGBYTES)(sp) /* the interrupted sp, for the handler's report */
    mv a0, sp
    call board_trap
    LREG t0, EPC_OFF(sp)
    csrw XEPC, t0
    /* M-mode: restores MPP = M and MPRV = 1 as the trap left them; mret
     * then returns to M-mode and sets MPP = U. */
    LREG t1, STATUS_OFF(sp)
    csrw XSTATUS, t1
    .irp n, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    LREG x\n, (\n * REGBYTES)(sp)
    .endr
    addi sp, sp, FRAME
    XRET

#if BOARD_RISCV_SMODE
#define MSTATUS_MPP_MASK (3 << 11)
#define MSTATUS_MPP_S (1 << 11)

    .section .text.board_mret_to_supervisor, "ax"
    .balign 4
    .global board_mret_to_supervisor
board_mret_to_supervisor:
    csrw mepc, ra
    li t0, MSTATUS_MPP_MASK
    csrc mstatus, t0
    li t0, MSTATUS_MPP_S
    csrs mstatus, t0
    mret
#endif
