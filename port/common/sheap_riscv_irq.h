/*
 * sheap_riscv_irq.h - the interrupt mask of the RISC-V ports: one status
 * register's interrupt-enable bit, cleared with one csrrci and set again
 * only when it was set, so that other bits of the register that changed
 * meanwhile are left alone.  The port defines, before including it:
 *
 *   SHEAP_RISCV_IRQ_CSR   the status register: sstatus (S-mode, port/riscv)
 *                         or mstatus (M-mode, port/static)
 *   SHEAP_RISCV_IRQ_BIT   its enable bit, a plain number (the csrrci
 *                         immediate): 2 (SIE) or 8 (MIE)
 *
 * and gets sheap_port_irq_save/irq_restore for sheap_irq_lock.h.
 */
#ifndef SHEAP_RISCV_IRQ_H
#define SHEAP_RISCV_IRQ_H

#define SHEAP_RISCV_IRQ_STR_(x) #x
#define SHEAP_RISCV_IRQ_STR(x) SHEAP_RISCV_IRQ_STR_(x)

/* Clears the enable bit; returns the bit as it was (0 or the bit). */
static inline unsigned long sheap_port_irq_save(void)
{
    unsigned long s;
    __asm__ volatile("csrrci %0, " SHEAP_RISCV_IRQ_STR(SHEAP_RISCV_IRQ_CSR) ", " SHEAP_RISCV_IRQ_STR(
                         SHEAP_RISCV_IRQ_BIT)
                     : "=r"(s)::"memory");
    return s & (unsigned long)SHEAP_RISCV_IRQ_BIT;
}

static inline void sheap_port_irq_restore(unsigned long state)
{
    __asm__ volatile("csrs " SHEAP_RISCV_IRQ_STR(SHEAP_RISCV_IRQ_CSR) ", %0" ::"r"(state) : "memory");
}

#endif
