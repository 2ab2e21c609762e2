/*
 * smp_stress.h - a portable multi-CPU stress of sheap: every CPU
 * allocates, fills, checks, reallocates and frees blocks at once, hands
 * some to other CPUs to be freed there (remote frees), and at every
 * quiescent point between phases CPU 0 checks the heap (sheap_check) and
 * that the statistics add up to the engine's own shadow record.  One
 * quiescent phase asserts that a double free whose two frees run on two
 * CPUs (one after the other, and racing) is reported once and leaves the
 * heap consistent.
 *
 * Freestanding: the engine uses sheap's public API, memset/memcpy-free
 * loops and gcc __atomic builtins only; it starts no CPU or thread itself.
 * The caller (a host program with pthreads, a board with board_smp_run)
 * runs smp_stress_cpu on every CPU at once:
 *
 *     static struct smp_stress st;        // zeroed
 *     st.ncpus = 4; st.rounds = 6; st.steps = 3000; st.slots = 64;
 *     st.max_size = 64 * 1024; st.seed = 1;
 *     smp_stress_init(&st);
 *     ... smp_stress_cpu(&st, cpu) on CPUs 0 .. ncpus-1 at once ...
 *     pass when every call returned 0 (st.errors == 0).
 *
 * The CPUs meet at barriers made of atomics (spinning); a program may
 * define smp_stress_relax() (a weak symbol here) to be called while one
 * waits, e.g. sched_yield on a host with more threads than cores.
 *
 * The heap is the default heap.  The engine installs its own fault hook
 * during the misuse phase and puts the previous one back after it.  Only
 * one stress may run at a time.
 */
#ifndef SMP_STRESS_H
#define SMP_STRESS_H

#include <stddef.h>
#include <stdint.h>

#define SMP_STRESS_MAX_CPUS 8
#define SMP_STRESS_MAX_SLOTS 128 /* st.slots is clipped to this */
#define SMP_STRESS_MBOX 16       /* entries of one CPU-to-CPU mailbox */
/* Requests up to this size must never get NULL (an error); larger ones may
 * (a small board's heap), which is counted in large_nulls only. */
#define SMP_STRESS_SMALL 1024u

/* A live block as the shadow records it (owner = the CPU whose slot or
 * mailbox holds it). */
struct smp_stress_block {
    unsigned char *p;
    size_t n;         /* bytes asked: the pattern covers them */
    size_t usable;    /* sheap_usable_size when it was made */
    uint32_t tag;     /* pattern seed: (cpu, slot, generation) mixed */
    uint32_t owner;   /* CPU that allocated it */
};

/* Single producer (CPU from), single consumer (CPU to).  head is written by
 * the producer only (release, after the entry), tail by the consumer only
 * (release, after it has read the entry); both count up forever. */
struct smp_stress_mbox {
    unsigned head, tail;
    struct smp_stress_block ring[SMP_STRESS_MBOX];
};

/* One CPU's own state: written by that CPU only, read by CPU 0 at
 * quiescent points (ordered by the barrier's release/acquire). */
struct smp_stress_percpu {
    _Alignas(64) uint64_t rng;
    uint32_t gen;
    unsigned long ops, mallocs, frees, remote_frees, reallocs, callocs, errors;
    unsigned long large_nulls, busy_checks;
    struct smp_stress_block slot[SMP_STRESS_MAX_SLOTS];
};

struct smp_stress {                 /* caller fills the config, zeroes the rest */
    unsigned ncpus;                 /* CPUs taking part, 1..8 */
    unsigned rounds;                /* phases; sheap_check() at every quiescent point between phases */
    unsigned steps;                 /* operations per CPU per phase */
    unsigned slots;                 /* live blocks per CPU (shadow table size) */
    size_t max_size;                /* largest request; a mix of small and some large sizes */
    uint32_t seed;
    /* results, summed over CPUs after smp_stress_cpu returns on all CPUs */
    unsigned long ops, mallocs, frees, remote_frees, reallocs, callocs;
    unsigned long errors;           /* content/shadow mismatches, NULL from a small request, failed checks */

    /* ---- engine-private shared state (zeroed by smp_stress_init) ---- */
    /* Diagnostics: the first error seen (a static string), where, and the
     * misuse phase's results; a driver may print them. */
    const char *first_error;
    unsigned first_error_cpu, first_error_round;
    unsigned long large_nulls;      /* NULL from requests > SMP_STRESS_SMALL */
    unsigned long busy_checks;      /* concurrent sheap_check that answered BUSY */
    unsigned long misuse_reports;   /* fault-hook calls seen in the misuse phase */
    unsigned quiescent_checks;      /* quiescent points CPU 0 checked */
    /* CPU 0 also calls sheap_trim now and then while the others allocate:
     * 1 from smp_stress_init; a driver may clear it after init. */
    int concurrent_trim;
    int bad_config;
    /* Baseline of the default heap at smp_stress_init (other blocks may be live). */
    size_t base_bytes, base_blocks, base_misuse;
    unsigned long misuse_expected;  /* reports the misuse phase caused (CPU 0) */
    void *victim;                   /* the misuse phase's block (CPU 0 writes, barrier, others read) */
    size_t victim_usable;
    /* Barrier: arrivals and generation, on lines of their own. */
    _Alignas(64) unsigned bar_count;
    _Alignas(64) unsigned bar_gen;
    _Alignas(64) struct smp_stress_mbox mbox[SMP_STRESS_MAX_CPUS][SMP_STRESS_MAX_CPUS]; /* [from][to] */
    struct smp_stress_percpu cpu[SMP_STRESS_MAX_CPUS];
};

void smp_stress_init(struct smp_stress *st);            /* once, before the CPUs start */
int smp_stress_cpu(struct smp_stress *st, unsigned cpu); /* every CPU at once; 0 = pass */

/* Called while a CPU waits at a barrier when the program defines it. */
void smp_stress_relax(void);

#endif
