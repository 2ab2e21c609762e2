/*
 * smp.c for "qemu-virt-aarch64": boards/common/smp.h.  In the single-core
 * flavours one CPU runs and board_smp_run calls fn on it.  In FLAVOR=smp
 * (BOARD_SMP, QEMU -smp 4) CPU 0 boots as in every flavour, and the other
 * CPUs are started on first use (board_cpu_count or board_smp_run), so
 * that programs that never ask for them (the unit suites, the counting
 * runs under -icount) run on CPU 0 alone with the others off.
 *
 * Bringing up a secondary (what a firmware must do per CPU before that CPU
 * calls sheap; docs/INTEGRATION.md "Several CPUs"):
 *   1. CPU 0 records its MAIR, TCR, TTBR0, SCTLR, VBAR and CPACR in
 *      board_smp_boot and cleans that block to memory (the new CPU reads it
 *      with its MMU and caches off), then calls PSCI CPU_ON (hvc #0) with
 *      the target's MPIDR affinity (Aff0 = 1, 2, 3), board_secondary_entry
 *      and the CPU's index as context id.  INVALID_PARAMETERS means QEMU has
 *      no such CPU: the count stops there.
 *   2. smp_entry.S on the new CPU: the same regime and tables, its own TLB
 *      dropped, MMU and caches on (SCTLR as CPU 0's), the same exception
 *      vectors, FP/SIMD on, then its own 64 KB stack.  The vectors save the
 *      trap frame on the stack of the CPU that traps, and the
 *      expected-fault record is per CPU (boards/common/expected_fault.c), so
 *      exceptions are per-CPU safe.
 *   3. board_secondary_main, in C: its own picolibc TLS block (errno, which
 *      sheap's port sets, is thread-local), its cycle counter on as CPU 0's
 *      (board.c), then it reports in and parks.
 * sheap then needs nothing more: sheap_port_cpu_id (MPIDR_EL1.Aff0) is
 * valid from reset, interrupts are masked by the lock on each CPU, and
 * the shared lock is a spinlock (port/aarch64/sheap_port_lock.h).
 *
 * Parking: a CPU waits (WFE, which QEMU's TCG treats as a yield) until the
 * work generation moves; board_smp_run publishes fn and arg, bumps the
 * generation with release order and sends SEV, runs fn on CPU 0, then waits
 * until every other CPU has counted itself done (acquire).  Ordering: fn,
 * arg and everything CPU 0 wrote before are visible to a CPU that saw the
 * new generation; everything a CPU wrote in fn is visible to CPU 0 once it
 * read the done count including it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "board.h"
#include "smp.h"
#include "smp_boot.h"

unsigned board_cpu_index(void)
{
    uint64_t mpidr;
    __asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
    return (unsigned)(mpidr & 0xff);
}

#if !BOARD_SMP

unsigned board_cpu_count(void) { return 1; }

void board_smp_run(void (*fn)(void *arg, unsigned cpu), void *arg) { fn(arg, 0); }

#else

#include <picotls.h>
#include <stddef.h>

/* Read by smp_entry.S with the MMU off: one cache line, cleaned by CPU 0. */
struct smp_boot {
    uint64_t mair, tcr, ttbr0, sctlr, vbar, cpacr;
};
_Static_assert(offsetof(struct smp_boot, mair) == SMP_BOOT_MAIR && offsetof(struct smp_boot, tcr) == SMP_BOOT_TCR &&
                   offsetof(struct smp_boot, ttbr0) == SMP_BOOT_TTBR0 &&
                   offsetof(struct smp_boot, sctlr) == SMP_BOOT_SCTLR &&
                   offsetof(struct smp_boot, vbar) == SMP_BOOT_VBAR &&
                   offsetof(struct smp_boot, cpacr) == SMP_BOOT_CPACR && sizeof(struct smp_boot) == SMP_BOOT_SIZE,
               "smp_boot.h matches struct smp_boot");
struct smp_boot board_smp_boot __attribute__((aligned(64)));

/* The secondaries' stacks (CPU 0 keeps crt0's) and TLS blocks. */
uint8_t smp_stacks[BOARD_MAX_CPUS - 1][1u << SMP_STACK_SHIFT] __attribute__((aligned(16)));
#define SMP_TLS_BYTES 256
static uint8_t smp_tls[BOARD_MAX_CPUS][SMP_TLS_BYTES] __attribute__((aligned(64)));

void board_secondary_entry(void);
_Noreturn void board_secondary_main(unsigned index);
void board_pmu_start(void); /* board.c */

/* Atomics only: set by the CPUs and CPU 0. */
static unsigned cpu_up[BOARD_MAX_CPUS];
static unsigned ncpus; /* 0 until started; written by CPU 0 only */
static unsigned work_gen, work_done;
static void (*work_fn)(void *arg, unsigned cpu); /* published by work_gen */
static void *work_arg;

#define PSCI_CPU_ON 0xC4000003u
#define PSCI_INVALID_PARAMETERS (-2)

static int64_t psci_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
    register uint64_t x0 __asm__("x0") = fn;
    register uint64_t x1 __asm__("x1") = a1;
    register uint64_t x2 __asm__("x2") = a2;
    register uint64_t x3 __asm__("x3") = a3;
    /* SMCCC: x4..x17 may be changed by the call. */
    __asm__ volatile("hvc #0"
                     : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                     :
                     : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17",
                       "memory");
    return (int64_t)x0;
}

static void record_boot_block(void)
{
    struct smp_boot *b = &board_smp_boot;
    __asm__ volatile("mrs %0, mair_el1\n\tmrs %1, tcr_el1\n\tmrs %2, ttbr0_el1"
                     : "=r"(b->mair), "=r"(b->tcr), "=r"(b->ttbr0));
    __asm__ volatile("mrs %0, sctlr_el1\n\tmrs %1, vbar_el1\n\tmrs %2, cpacr_el1"
                     : "=r"(b->sctlr), "=r"(b->vbar), "=r"(b->cpacr));
    /* To the point of coherency: the new CPU reads it uncached. */
    __asm__ volatile("dc cvac, %0\n\tdsb sy" ::"r"(b) : "memory");
}

static void smp_start(void)
{
    if (ncpus != 0)
        return;
    if (_tls_size() > SMP_TLS_BYTES || _tls_align() > 64) {
        printf("smp: picolibc's TLS block (%u bytes) does not fit\n", (unsigned)_tls_size());
        exit(97);
    }
    record_boot_block();
    __atomic_store_n(&cpu_up[0], 1u, __ATOMIC_RELAXED);
    unsigned n = 1;
    for (; n < BOARD_MAX_CPUS; n++) {
        int64_t r = psci_call(PSCI_CPU_ON, n, (uint64_t)(uintptr_t)board_secondary_entry, n);
        if (r == PSCI_INVALID_PARAMETERS)
            break; /* fewer CPUs than BOARD_MAX_CPUS (QEMU -smp) */
        if (r != 0) {
            printf("smp: PSCI CPU_ON of CPU %u returned %lld\n", n, (long long)r);
            exit(97);
        }
        unsigned long spins = 0;
        while (!__atomic_load_n(&cpu_up[n], __ATOMIC_ACQUIRE)) {
            __asm__ volatile("yield" ::: "memory");
            if (++spins == (1ul << 30)) {
                printf("smp: CPU %u did not report in\n", n);
                exit(97);
            }
        }
    }
    ncpus = n;
}

unsigned board_cpu_count(void)
{
    smp_start();
    return ncpus;
}

_Noreturn void board_secondary_main(unsigned index)
{
    _init_tls(smp_tls[index]);
    _set_tls(smp_tls[index]);
    board_pmu_start();
    unsigned seen = __atomic_load_n(&work_gen, __ATOMIC_ACQUIRE);
    __atomic_store_n(&cpu_up[index], 1u, __ATOMIC_RELEASE);
    for (;;) {
        unsigned gen;
        while ((gen = __atomic_load_n(&work_gen, __ATOMIC_ACQUIRE)) == seen)
            __asm__ volatile("wfe" ::: "memory");
        seen = gen;
        work_fn(work_arg, index);
        __atomic_fetch_add(&work_done, 1u, __ATOMIC_RELEASE);
        __asm__ volatile("dsb ish\n\tsev" ::: "memory");
    }
}

void board_smp_run(void (*fn)(void *arg, unsigned cpu), void *arg)
{
    smp_start();
    work_fn = fn;
    work_arg = arg;
    __atomic_store_n(&work_done, 0u, __ATOMIC_RELAXED);
    __atomic_fetch_add(&work_gen, 1u, __ATOMIC_RELEASE);
    __asm__ volatile("dsb ish\n\tsev" ::: "memory");
    fn(arg, 0);
    while (__atomic_load_n(&work_done, __ATOMIC_ACQUIRE) != ncpus - 1)
        __asm__ volatile("wfe" ::: "memory");
}

#endif
