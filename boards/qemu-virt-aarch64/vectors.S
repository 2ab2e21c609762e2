/*
 * vectors.S for "qemu-virt-aarch64": the EL1 exception vector table.  Every
 * entry saves x0-x30, ELR_EL1 and SPSR_EL1 on the stack, calls
 * board_trap(frame, kind) with kind = entry number (0-15), restores (ELR
 * may have been advanced past an expected fault) and returns with eret.
 */
#define FRAME 272

.macro VENTRY kind
    .balign 0x80
    sub sp, sp, #FRAME
    stp x0, x1, [sp, #0]
    mov x1, #\kind
    b trap_common
.endm

    .section .text.vectors, "ax"
    .balign 0x800
    .global board_vectors
board_vectors:
    VENTRY 0
    VENTRY 1
    VENTRY 2
    VENTRY 3
    VENTRY 4
    VENTRY 5
    VENTRY 6
    VENTRY 7
    VENTRY 8
    VENTRY 9
    VENTRY 10
    VENTRY 11
    VENTRY 12
    VENTRY 13
    VENTRY 14
    VENTRY 15

trap_common:
    stp x2, x3, [sp, #16]
    stp x4, x5, [sp, #32]
    stp x6, x7, [sp, #48]
    stp x8, x9, [sp, #64]
    stp x10, x11, [sp, #80]
    stp x12, x13, [sp, #96]
    stp x14, x15, [sp, #112]
    stp x16, x17, [sp, #128]
    stp x18, x19, [sp, #144]
    stp x20, x21, [sp, #160]
    stp x22, x23, [sp, #176]
    stp x24, x25, [sp, #192]
    stp x26, x27, [sp, #208]
    stp x28, x29, [sp, #224]
    mrs x2, elr_el1
    stp x30, x2, [sp, #240]
    mrs x3, spsr_el1
    str x3, [sp, #256]
    mov x0, sp
    bl board_trap
    ldr x3, [sp, #256]
    msr spsr_el1, x3
    ldp x30, x2, [sp, #240]
    msr elr_el1, x2
    ldp x28, x29, [sp, #224]
    ldp x26, x27, [sp, #208]
    ldp x24, x25, [sp, #192]
    ldp x22, x23, [sp, #176]
    ldp x20, x21, [sp, #160]
    ldp x18, x19, [sp, #144]
    ldp x16, x17, [sp, #128]
    ldp x14, x15, [sp, #112]
    ldp x12, x13, [sp, #96]
    ldp x10, x11, [sp, #80]
    ldp x8, x9, [sp, #64]
    ldp x6, x7, [sp, #48]
    ldp x4, x5, [sp, #32]
    ldp x2, x3, [sp, #16]
    ldp x0, x1, [sp, #0]
    add sp, sp, #FRAME
    eret
