/*
 * trap.S for "qemu-virt-riscv32": the M-mode trap entry.
 *
 * board_trap_entry (mtvec, direct mode, so 4-byte aligned): every trap
 * lands here, in M-mode, on the current stack (there is no other mode and
 * no interrupt is enabled).  Taking the trap set mstatus.MPP to M, so with
 * MPRV = 1 the handler's own loads and stores (this frame, the console,
 * the interrupted instruction) are M-mode accesses that the PMP does not
 * check.  It saves x1..x31, mepc and mstatus in a frame (struct trap_frame
 * in board.c, slot i for xi, slot 0 unused), calls board_trap(frame),
 * restores (mepc may have been advanced past an expected fault) and
 * returns with mret.  mret goes back to M-mode (MPP = M), keeps MPRV = 1
 * (the spec clears it only when returning below M) and sets MPP to U, the
 * least-privileged mode: data accesses are checked against the PMP again.
 * Restoring the saved mstatus before mret is what keeps a nested trap
 * (one taken inside a handler that re-enabled interrupts) from returning
 * the outer handler to U-mode: the inner trap and mret leave MPP = U.
 */
#define FRAME 144 /* 32 + 2 slots of 4 bytes, rounded to a multiple of 16 */
#define MEPC_OFF 128
#define MSTATUS_OFF 132

    .section .text.board_trap_entry, "ax"
    .balign 4
    .global board_trap_entry
board_trap_entry:
    addi sp, sp, -FRAME
    sw x1, 4(sp)
    /* x2 (sp) is recomputed on return, not restored */
    sw x3, 12(sp)
    sw x4, 16(sp)
    sw x5, 20(sp)
    sw x6, 24(sp)
    sw x7, 28(sp)
    sw x8, 32(sp)
    sw x9, 36(sp)
    sw x10, 40(sp)
    sw x11, 44(sp)
    sw x12, 48(sp)
    sw x13, 52(sp)
    sw x14, 56(sp)
    sw x15, 60(sp)
    sw x16, 64(sp)
    sw x17, 68(sp)
    sw x18, 72(sp)
    sw x19, 76(sp)
    sw x20, 80(sp)
    sw x21, 84(sp)
    sw x22, 88(sp)
    sw x23, 92(sp)
    sw x24, 96(sp)
    sw x25, 100(sp)
    sw x26, 104(sp)
    sw x27, 108(sp)
    sw x28, 112(sp)
    sw x29, 116(sp)
    sw x30, 120(sp)
    sw x31, 124(sp)
    csrr t0, mepc
    sw t0, MEPC_OFF(sp)
    csrr t1, mstatus
    sw t1, MSTATUS_OFF(sp)
    addi t2, sp, FRAME
    sw t2, 8(sp) /* the interrupted sp, for the handler's report */
    mv a0, sp
    call board_trap
    lw t0, MEPC_OFF(sp)
    csrw mepc, t0
    /* Restores MPP = M and MPRV = 1 as the trap left them; mret then
     * returns to M-mode and sets MPP = U. */
    lw t1, MSTATUS_OFF(sp)
    csrw mstatus, t1
    lw x1, 4(sp)
    lw x3, 12(sp)
    lw x4, 16(sp)
    lw x5, 20(sp)
    lw x6, 24(sp)
    lw x7, 28(sp)
    lw x8, 32(sp)
    lw x9, 36(sp)
    lw x10, 40(sp)
    lw x11, 44(sp)
    lw x12, 48(sp)
    lw x13, 52(sp)
    lw x14, 56(sp)
    lw x15, 60(sp)
    lw x16, 64(sp)
    lw x17, 68(sp)
    lw x18, 72(sp)
    lw x19, 76(sp)
    lw x20, 80(sp)
    lw x21, 84(sp)
    lw x22, 88(sp)
    lw x23, 92(sp)
    lw x24, 96(sp)
    lw x25, 100(sp)
    lw x26, 104(sp)
    lw x27, 108(sp)
    lw x28, 112(sp)
    lw x29, 116(sp)
    lw x30, 120(sp)
    lw x31, 124(sp)
    addi sp, sp, FRAME
    mret
