/*
 * sheap_port_lock.h (RISC-V) - the heap lock as inline code for the core's
 * hot paths (see "Inline lock" in sheap_port.h).  Clears sstatus.SIE (the
 * supervisor interrupt enable) with one csrrci and remembers whether it was
 * set; unlock sets it again only in that case, so other sstatus bits that
 * changed meanwhile are left alone.  The saved bit lives in one global
 * shared with the out-of-line sheap_port_lock/unlock (port_riscv.c), so the
 * two forms may be mixed freely (the lock is never nested).  Single hart.
 *
 * The single-hart lock, its fast-path forms and lock_adopt are
 * port/common/sheap_irq_lock.h over sheap_port_irq_save/irq_restore.
 *
 * SMP builds (SHEAP_SMP=1; the single-hart code above is then
 * not compiled, and SHEAP_SMP=0 compiles exactly that code):
 *   sheap_port_cpu_id()  the hart's index, 0..SHEAP_MAX_CPUS-1, read from
 *       sscratch (one csrr).  Contract with the board: before a hart calls
 *       sheap (and before it takes an interrupt whose handler calls sheap)
 *       the board writes the hart's index into its sscratch, and nothing
 *       else writes sscratch while the hart runs sheap's code (a trap entry
 *       that swaps sp through sscratch must put the index back before it
 *       returns, or the board keeps the index elsewhere and changes this
 *       function).  qemu-virt-riscv64's smp.c does this (index ==
 *       mhartid there).
 *   sheap_port_irq_save/irq_restore  sstatus.SIE of this hart only.
 *   the shared lock     a spinlock on sheap_port_lock_word (port_riscv.c)
 *       that also masks this hart's interrupts: clear SIE, amoswap.w.aq 1;
 *       if the word was taken, put SIE back, wait (plain loads) until it
 *       looks free, and try again, so interrupts are served while a hart
 *       waits.  Unlock reads the saved SIE first (the next holder
 *       overwrites the global), releases with a release store (fence rw,w;
 *       sw zero) and then sets SIE back.  The saved state may live in one
 *       global because only the holder writes it.  lock_fast reads *busy
 *       atomically before spinning (a walker on another hart holds the
 *       lock with *busy set: the core's slow path then waits for the lock).
 *   sheap_port_task_id()  weak in port_riscv.c: the hart index + 1, as on
 *       bare metal each hart is one context (interrupt handlers are told
 *       apart by the core), so a growth section owned by another hart is
 *       waited for (sheap_port_growth_wait, weak there too: it spins a
 *       while) and never mistaken for the caller's own.  An RTOS
 *       integration defines both (sheap_port.h, "Threads").
 */
#ifndef SHEAP_PORT_LOCK_H
#define SHEAP_PORT_LOCK_H

#include <stdint.h>

/* sstatus.SIE (2) when interrupts were enabled at lock time, else 0. */
extern unsigned long sheap_port_saved_sie;

/* sstatus.SIE of this hart. */
#define SHEAP_RISCV_IRQ_CSR sstatus
#define SHEAP_RISCV_IRQ_BIT 2
#include "../common/sheap_riscv_irq.h"

#if defined(SHEAP_SMP) && SHEAP_SMP

/* The spin-loop hint: PAUSE (Zihintpause), encoded by hand so that
 * -march=rv64imac assembles it; a hart without the extension runs it as a
 * FENCE W,0, which orders nothing that matters here. */
#define SHEAP_PORT_CPU_RELAX() __asm__ volatile(".insn i 0x0f, 0, x0, x0, 0x010" ::: "memory")

/* 0 free, 1 taken (amoswap.w needs a 32-bit word). */
extern uint32_t sheap_port_lock_word;

/* The core's per-CPU lock words (malloc.c cpu_acquire_fast and
 * cpu_word_release; a word of the pointer's width that holds its own
 * address while taken), by hand: the take is one AMOSWAP.AQ of the word's
 * address, which is in a register already, its result tested as the AMO
 * left it; the give one AMOSWAP.RL of zero, a release operation as the
 * RVWMO mapping allows for a release store (gcc emits a fence and an
 * AMO). */
#define SHEAP_PORT_WORD_TAKE(w) sheap_port_word_take(w)
#define SHEAP_PORT_WORD_GIVE(w) sheap_port_word_give(w)
#if __riscv_xlen == 64
#define SHEAP_PORT_AMOSWAP_WORD "amoswap.d"
#else
#define SHEAP_PORT_AMOSWAP_WORD "amoswap.w"
#endif

static inline uintptr_t sheap_port_word_take(uintptr_t *w)
{
    uintptr_t old;
    __asm__ volatile(SHEAP_PORT_AMOSWAP_WORD ".aq %0, %2, %1" : "=r"(old), "+A"(*w) : "r"(w) : "memory");
    return old;
}

static inline void sheap_port_word_give(uintptr_t *w)
{
    __asm__ volatile(SHEAP_PORT_AMOSWAP_WORD ".rl zero, zero, %0" : "+A"(*w) : : "memory");
}

static inline unsigned sheap_port_cpu_id(void)
{
    unsigned long h;
    __asm__ volatile("csrr %0, sscratch" : "=r"(h));
    return (unsigned)h;
}

/* Masks this hart's interrupts and takes the word; returns the SIE the
 * hart had. */
static inline unsigned long sheap_port_spin_acquire(void)
{
    for (;;) {
        unsigned long s = sheap_port_irq_save();
        if (__builtin_expect(__atomic_exchange_n(&sheap_port_lock_word, 1u, __ATOMIC_ACQUIRE) == 0, 1))
            return s;
        sheap_port_irq_restore(s);
        while (__atomic_load_n(&sheap_port_lock_word, __ATOMIC_RELAXED) != 0)
            SHEAP_PORT_CPU_RELAX();
    }
}

static inline void sheap_port_spin_release(unsigned long state)
{
    __atomic_store_n(&sheap_port_lock_word, 0u, __ATOMIC_RELEASE);
    sheap_port_irq_restore(state);
}

/* lock_fast reads *busy before spinning: a walker on another hart
 * holds the lock with *busy set, and the core's slow path then waits. */
static inline _Bool sheap_port_lock_fast(const uintptr_t *busy, unsigned long *state)
{
    if (__builtin_expect(__atomic_load_n(busy, __ATOMIC_RELAXED) != 0, 0))
        return 0;
    *state = sheap_port_spin_acquire();
    return 1;
}

#define SHEAP_PORT_LOCK_TAKE() sheap_port_spin_acquire()
#define SHEAP_PORT_LOCK_GIVE(state) sheap_port_spin_release(state)

/* The thread hooks of sheap_port.h come from port_riscv.c (see the top
 * of this file). */
#define SHEAP_PORT_HAS_THREAD_HOOKS 1

#endif /* SHEAP_SMP */

/* The lock (single hart: the mask alone) over the above. */
#define SHEAP_PORT_SAVED_IRQ sheap_port_saved_sie
#include "../common/sheap_irq_lock.h"

#endif
