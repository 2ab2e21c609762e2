/*
 * guard_pmp.c - static_guard.h on the RISC-V PMP (Physical Memory
 * Protection), for M-mode-only parts without an MMU (qemu-virt-riscv32).
 *
 * Entries (lower number = higher priority):
 *   0  pmpaddr0 = guard start >> 2, A = OFF: only the lower bound of entry 1
 *   1  TOR up to the end of the region, no R/W/X: [guard start, end) faults
 *   .. the board's: it must grant RWX to everything else with an entry
 *      numbered above 1 (qemu-virt-riscv32 uses entry 15, NAPOT over all
 *      of memory).  A U-mode access that no entry matches fails.
 * Moving the guard is a write of pmpaddr0 and a rewrite of pmpcfg0 (QEMU
 * needs the latter, see below).  When the guard start reaches the end, TOR
 * entry 1 is empty ([end, end)) and matches nothing.
 *
 * Making M-mode subject to it.  PMP entries without the L bit do not apply
 * to M-mode, and locked entries cannot be changed again until reset, so a
 * guard that moves cannot use L.  The choice made here (verified on
 * QEMU 7.2, see below) is mstatus.MPRV = 1 with MPP = U, which the board's
 * startup sets before main: every load and store of M-mode code is then
 * translated and protection-checked as if made in U-mode, against entries
 * 0-1 and the board's RWX entry, while instruction fetch, CSR access and
 * the heap lock (mstatus.MIE, sheap_port_lock.h) remain M-mode.  No code
 * changes mode, semihosting and the console work as before.  A trap sets
 * MPP = M, so the handler's own accesses are unchecked; mret back to M
 * keeps MPRV = 1 (it is cleared only by a return below M) and sets MPP to
 * U again, so checking resumes in the interrupted code.  (So trap and
 * interrupt handlers themselves are not guarded: heap memory they touch
 * above the watermark does not fault.)  The alternative, main in U-mode,
 * would need an ecall for the lock (mstatus is an M-mode CSR) and for
 * every other CSR the firmware touches; MPRV needs none.
 *
 * QEMU 7.2 findings (checked with a probe program and by tests/static):
 *   - MPRV with MPP = U applies the unlocked entries to M-mode loads and
 *     stores; a store to the guard gives mcause 7, a load mcause 5, mtval =
 *     the address, mepc = the instruction; instruction fetch is unaffected.
 *   - After a trap taken in M-mode and mret, mstatus reads MPRV = 1,
 *     MPP = U (0x20080 with MPIE): checking resumes by itself.
 *   - Writing pmpaddr0 alone does not move the guard: QEMU 7.2 recomputes
 *     a TOR entry's range only when its own pmpaddr or its pmpcfg is
 *     written, not when the pmpaddr below it is (the raised watermark
 *     still faulted).  Rewriting pmpaddr1 instead recomputes the range but
 *     leaves QEMU's TLB stale: pmpaddr writes do not flush it (QEMU 8.1
 *     added that), so pages touched while open stayed writable after the
 *     guard was lowered over them.  A pmpcfg write does both (every entry
 *     of the register rebuilt, TLB flushed), so static_guard_set rewrites
 *     pmpcfg0 after pmpaddr0; with it, every probe faults exactly at the
 *     new watermark, both directions.  On hardware without address
 *     translation PMP checks are synchronous (no SFENCE.VMA needed) and
 *     the extra CSR write is harmless.
 * Granule: the PMP's own (4 bytes for G = 0; 2^(G+2) in general, found at
 * init by the spec's method: write all ones to an unused pmpaddr with
 * A = OFF and read back).
 *
 * Level 3 holes (static_guard.h): hole i is entry 2 + i, NAPOT over the
 * page, no R/W/X, so it wins over the board's RWX entry (numbered above
 * them) and, like the guard, applies to M-mode loads and stores through
 * MPRV.  SHEAP_STATIC_PMP_HOLES (board.h, default 4, at most 12: entries
 * 2-13) sets how many; the board must leave those entries free.  Each
 * change writes the entry's pmpaddr, then its pmpcfg (which also drops
 * QEMU's cached translations, as above).
 */
#if defined(__riscv)

#include <stdint.h>

#include "static_guard.h"

#include "sheap_config.h"

#define PMP_A_TOR 0x08u
#define PMP_CFG_MASK01 0xffffu /* pmpcfg0 bytes of entries 0 and 1 */

static uintptr_t guard_end;
static uintptr_t granule = 4;

static inline uintptr_t round_up_g(uintptr_t x) { return (x + granule - 1) & ~(granule - 1); }

/* pmpcfg0 with entry 0 OFF and entry 1 TOR without permissions; entries
 * 2 and 3 (bytes 2, 3) keep what the board put there.  Writing pmpcfg0
 * also makes QEMU drop cached translations (see above). */
static inline void write_cfg(void)
{
    uintptr_t cfg;
    __asm__ volatile("csrr %0, pmpcfg0" : "=r"(cfg));
    cfg = (cfg & ~(uintptr_t)PMP_CFG_MASK01) | ((uintptr_t)PMP_A_TOR << 8);
    __asm__ volatile("csrw pmpcfg0, %0" ::"r"(cfg) : "memory");
}

void static_guard_init(uintptr_t base, uintptr_t end)
{
    /* Entries 0 and 1 off while they are set up (nothing is guarded for
     * these few instructions; no heap memory is in use yet). */
    uintptr_t cfg;
    __asm__ volatile("csrr %0, pmpcfg0" : "=r"(cfg));
    __asm__ volatile("csrw pmpcfg0, %0" ::"r"(cfg & ~(uintptr_t)PMP_CFG_MASK01) : "memory");
    /* Granule: bit G-1 .. 0 of pmpaddr read as zero (TOR/OFF rules). */
    uintptr_t probe;
    __asm__ volatile("csrw pmpaddr0, %1\n\t"
                     "csrr %0, pmpaddr0"
                     : "=r"(probe)
                     : "r"(~(uintptr_t)0));
    granule = (probe & -probe) << 2;
    if (granule == 0)
        granule = 4;
    guard_end = end;
    __asm__ volatile("csrw pmpaddr0, %0\n\t"
                     "csrw pmpaddr1, %1" ::"r"(base >> 2),
                     "r"(end >> 2)
                     : "memory");
    write_cfg();
}

void static_guard_set(uintptr_t ready_end)
{
    uintptr_t lo = round_up_g(ready_end);
    if (lo > guard_end)
        lo = guard_end;
    __asm__ volatile("csrw pmpaddr0, %0" ::"r"(lo >> 2) : "memory");
    write_cfg();
}

uintptr_t static_guard_granule(void) { return granule; }

#if SHEAP_HARDENING >= 3
#ifndef SHEAP_STATIC_PMP_HOLES
#define SHEAP_STATIC_PMP_HOLES 4
#endif
_Static_assert(SHEAP_STATIC_PMP_HOLES <= 12, "PMP holes are entries 2-13");
_Static_assert(__riscv_xlen == 32, "four PMP entries per pmpcfg register (RV32)");
#define PMP_A_NAPOT 0x18u

unsigned static_guard_holes(void) { return SHEAP_STATIC_PMP_HOLES; }

/* CSR numbers are immediates: one case per entry or register. */
#define PMPADDR_CASE(e)                                                 \
    case e:                                                             \
        __asm__ volatile("csrw pmpaddr" #e ", %0" ::"r"(a) : "memory"); \
        break;
#define PMPCFG_CASE(r)                                                                          \
    case r:                                                                                     \
        __asm__ volatile("csrr %0, pmpcfg" #r : "=r"(cfg));                                     \
        cfg = (cfg & ~((uintptr_t)0xff << shift)) | ((uintptr_t)byte << shift);                 \
        __asm__ volatile("csrw pmpcfg" #r ", %0" ::"r"(cfg) : "memory");                        \
        break;

void static_guard_hole(unsigned i, uintptr_t v, uintptr_t n)
{
    unsigned e = 2 + i, shift = 8 * (e % 4);
    uintptr_t a = (v | ((n >> 1) - 1)) >> 2, cfg;
    uint8_t byte = n != 0 ? PMP_A_NAPOT : 0; /* no R, W or X */
    if (n != 0) {
        switch (e) {
            PMPADDR_CASE(2)
            PMPADDR_CASE(3)
            PMPADDR_CASE(4)
            PMPADDR_CASE(5)
            PMPADDR_CASE(6)
            PMPADDR_CASE(7)
            PMPADDR_CASE(8)
            PMPADDR_CASE(9)
            PMPADDR_CASE(10)
            PMPADDR_CASE(11)
            PMPADDR_CASE(12)
            PMPADDR_CASE(13)
        default:
            break;
        }
    }
    switch (e / 4) {
        PMPCFG_CASE(0)
        PMPCFG_CASE(1)
        PMPCFG_CASE(2)
        PMPCFG_CASE(3)
    default:
        break;
    }
}
#endif

#endif /* __riscv */
