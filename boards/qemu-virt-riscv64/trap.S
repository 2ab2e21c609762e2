/*
 * trap.S for "qemu-virt-riscv64": the S-mode trap entry and the one-way
 * M-mode -> S-mode switch.
 *
 * board_trap_entry (stvec, direct mode, so 4-byte aligned): every trap
 * delegated to S-mode lands here.  There is no U-mode, so the trap always
 * comes from S-mode on the current stack: it saves x1..x31, sepc and
 * sstatus in a frame on that stack (struct trap_frame in board.c, slot i
 * for xi, slot 0 unused), calls board_trap(frame), restores (sepc may have
 * been advanced past an expected fault) and returns with sret.
 *
 * board_mret_to_supervisor: called from M-mode like a function, it
 * "returns" to its caller in S-mode: mepc = ra, mstatus.MPP = S, mret.
 * The stack, gp and tp carry over unchanged.
 */
#define FRAME 272 /* 32 + 2 slots of 8 bytes, a multiple of 16 */
#define SEPC_OFF 256
#define SSTATUS_OFF 264

    .section .text.board_trap_entry, "ax"
    .balign 4
    .global board_trap_entry
board_trap_entry:
    addi sp, sp, -FRAME
    sd x1, 8(sp)
    /* x2 (sp) is recomputed on return, not restored */
    sd x3, 24(sp)
    sd x4, 32(sp)
    sd x5, 40(sp)
    sd x6, 48(sp)
    sd x7, 56(sp)
    sd x8, 64(sp)
    sd x9, 72(sp)
    sd x10, 80(sp)
    sd x11, 88(sp)
    sd x12, 96(sp)
    sd x13, 104(sp)
    sd x14, 112(sp)
    sd x15, 120(sp)
    sd x16, 128(sp)
    sd x17, 136(sp)
    sd x18, 144(sp)
    sd x19, 152(sp)
    sd x20, 160(sp)
    sd x21, 168(sp)
    sd x22, 176(sp)
    sd x23, 184(sp)
    sd x24, 192(sp)
    sd x25, 200(sp)
    sd x26, 208(sp)
    sd x27, 216(sp)
    sd x28, 224(sp)
    sd x29, 232(sp)
    sd x30, 240(sp)
    sd x31, 248(sp)
    csrr t0, sepc
    sd t0, SEPC_OFF(sp)
    csrr t1, sstatus
    sd t1, SSTATUS_OFF(sp)
    addi t2, sp, FRAME
    sd t2, 16(sp) /* the interrupted sp, for the handler's report */
    mv a0, sp
    call board_trap
    ld t0, SEPC_OFF(sp)
    csrw sepc, t0
    ld t1, SSTATUS_OFF(sp)
    csrw sstatus, t1
    ld x1, 8(sp)
    ld x3, 24(sp)
    ld x4, 32(sp)
    ld x5, 40(sp)
    ld x6, 48(sp)
    ld x7, 56(sp)
    ld x8, 64(sp)
    ld x9, 72(sp)
    ld x10, 80(sp)
    ld x11, 88(sp)
    ld x12, 96(sp)
    ld x13, 104(sp)
    ld x14, 112(sp)
    ld x15, 120(sp)
    ld x16, 128(sp)
    ld x17, 136(sp)
    ld x18, 144(sp)
    ld x19, 152(sp)
    ld x20, 160(sp)
    ld x21, 168(sp)
    ld x22, 176(sp)
    ld x23, 184(sp)
    ld x24, 192(sp)
    ld x25, 200(sp)
    ld x26, 208(sp)
    ld x27, 216(sp)
    ld x28, 224(sp)
    ld x29, 232(sp)
    ld x30, 240(sp)
    ld x31, 248(sp)
    addi sp, sp, FRAME
    sret

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
