/*
 * smp.c for "qemu-virt-riscv64": boards/common/smp.h for this board, and in
 * the smp flavour (BOARD_SMP, -smp 4) the harts' bring-up, the idle loop
 * that waits for board_smp_run, and the remote TLB fence the MMU port calls
 * (sheap_port_remote_sfence, port/riscv/pt_arch.h).  The first
 * instructions and the M-mode IPI handler are in smp_entry.S.
 *
 * In the other flavours there is one hart: board_cpu_count() is 1 and
 * board_smp_run runs fn on the caller.
 *
 * Bring-up (smp flavour):
 *   1. Hart 0 runs crt0, then board.c's board_enter_supervisor from
 *      .preinit_array.  In M-mode, before the switch, board_smp_setup_m
 *      installs board_mtrap (smp_entry.S) as mtvec with the hart's save
 *      area in mscratch and enables the machine software interrupt
 *      (mie.MSIE): from then on the hart answers IPIs.  sscratch = 0 (the
 *      hart index, see below).
 *   2. After firmware.c built the tables and wrote satp,
 *      board_smp_release (S-mode) counts the harts in the FDT, publishes
 *      satp, sets board_smp_released and writes each hart's MSIP word.
 *   3. Each released hart, in M-mode (board_smp_secondary_m): the same PMP
 *      entry, counter enables, delegation, stvec as hart 0
 *      (board_supervisor_setup in board.c), mtvec/mscratch/mie as in 1,
 *      sscratch = its index, satp = hart 0's, sfence.vma zero, zero; mret
 *      to S-mode; a TLS block of its own (picolibc's errno is
 *      thread-local); it marks itself online (board_online, the harts that
 *      take part in shootdowns) and enters the idle loop.
 *   4. Hart 0 waits until every hart the FDT names (at most
 *      BOARD_SMP_HARTS) is online, then returns to crt0, which calls main.
 *      No sheap call runs before that.
 *
 * The hart index: hart h keeps h in sscratch (the board's trap entry never
 * uses sscratch), which port/riscv/sheap_port_lock.h reads for
 * sheap_port_cpu_id() and board_cpu_index() reads here.  This board's
 * harts are numbered 0..N-1, so index == mhartid.
 *
 * board_smp_run: publishes fn and arg, bumps run_gen (release), wakes each
 * other hart with an MSIP, runs fn on hart 0 and waits for run_done to
 * count the others (acquire).  The idle loop clears sip.SSIP, reads run_gen
 * (acquire) and sleeps in wfi with sie.SSIE enabled and sstatus.SIE clear:
 * the M handler sets SSIP after any IPI, so a wake-up that lands between
 * the read and the wfi makes the wfi return at once (no lost wake-up).
 *
 * Remote TLB fence (sheap_port_remote_sfence): one requester at a time
 * (shoot_lock, taken with this hart's interrupts masked); it bumps
 * board_tlb_seq (release: the page-table stores before it are visible to
 * a hart that reads the new value), writes the MSIP word of every other
 * online hart and waits until each acknowledgement word reaches the new
 * sequence.  A target flushes after reading the sequence, so once its
 * word reaches it no stale translation of the cleared entries is left.
 * Harts in S-mode always answer (M interrupts are taken in S whatever
 * sstatus.SIE says); harts not online yet have no translation on and
 * flush everything when they turn it on.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "board.h"
#include "smp.h"

#ifndef BOARD_SMP

unsigned board_cpu_count(void) { return 1; }
unsigned board_cpu_index(void) { return 0; }
void board_smp_run(void (*fn)(void *arg, unsigned cpu), void *arg) { fn(arg, 0); }

#else

void board_mtrap(void);                 /* smp_entry.S */
void board_mret_to_supervisor(void);    /* boards/common/riscv_trap.S */
void board_supervisor_setup(void);      /* board.c: PMP, counters, delegation, stvec */
extern uint64_t board_smp_fdt;          /* smp_entry.S: hart 0's a1 at reset */
extern char __global_pointer$[];

/* Read by the parked harts in smp_entry.S. */
volatile uint32_t board_smp_released;
/* Hart h's stack is slot h - 1 (hart 0 keeps picolibc's __stack);
 * smp_entry.S sets sp to the end of the slot. */
char board_smp_stacks[BOARD_SMP_HARTS - 1][BOARD_SMP_STACK] __attribute__((aligned(16)));

/* The M-mode save area of each hart, in mscratch (layout: smp_entry.S). */
struct mtrap_area {
    uint64_t t1, t2;
    volatile uint32_t *msip;
    volatile uint64_t *ack;
} __attribute__((aligned(64)));
static struct mtrap_area mtrap_areas[BOARD_SMP_HARTS];

/* Shootdowns: the sequence, written under shoot_lock, read by board_mtrap;
 * each hart's acknowledgement, written by its board_mtrap only.  One cache
 * line each. */
volatile uint64_t board_tlb_seq;
static struct {
    volatile uint64_t v;
} __attribute__((aligned(64))) tlb_ack[BOARD_SMP_HARTS];
static uint32_t shoot_lock;
/* Test knob (tests/smp/test_smp_riscv_boot.c, the control run): when set,
 * sheap_port_remote_sfence does nothing, to show what it prevents. */
volatile bool board_smp_no_remote_fence;

static uint32_t board_online;      /* bit h: hart h answers IPIs (atomic) */
static unsigned hart_count = 1;    /* written by hart 0 before main */
static uint64_t board_satp;        /* hart 0's, for the others */

/* board_smp_run's state. */
static void (*volatile run_fn)(void *, unsigned);
static void *volatile run_arg;
static uint32_t run_gen, run_done;

/* Per-hart TLS blocks for harts 1..N-1 (picolibc: _init_tls copies .tdata
 * and clears .tbss; _set_tls writes tp). */
#define TLS_BYTES 256
static char tls_blocks[BOARD_SMP_HARTS][TLS_BYTES] __attribute__((aligned(64)));
extern char __tls_size[];
void _init_tls(void *tls);
void _set_tls(void *tls);

#define SIE_SSIE 2ul
#define SIP_SSIP 2ul
#define MIE_MSIE 8ul

/* PAUSE (Zihintpause; see SHEAP_PORT_CPU_RELAX in port/riscv/sheap_port_lock.h). */
static inline void cpu_relax(void) { __asm__ volatile(".insn i 0x0f, 0, x0, x0, 0x010" ::: "memory"); }

/* This hart's sstatus.SIE off; returns the bit as it was. */
static inline unsigned long irq_save(void)
{
    unsigned long s;
    __asm__ volatile("csrrci %0, sstatus, 2" : "=r"(s)::"memory");
    return s & 2ul;
}
static inline void irq_restore(unsigned long s) { __asm__ volatile("csrs sstatus, %0" ::"r"(s) : "memory"); }

static volatile uint32_t *msip_word(unsigned hart)
{
    return (volatile uint32_t *)(uintptr_t)(BOARD_CLINT_MSIP + 4u * hart);
}

static void send_ipi(unsigned hart)
{
    /* Order every earlier store (page tables, the sequence, run_gen)
     * before the device write that raises the interrupt. */
    __asm__ volatile("fence rw, ow" ::: "memory");
    *msip_word(hart) = 1;
}

unsigned board_cpu_count(void) { return hart_count; }

unsigned board_cpu_index(void)
{
    unsigned long h;
    __asm__ volatile("csrr %0, sscratch" : "=r"(h));
    return (unsigned)h;
}

/* M-mode, every hart: the IPI handler and the hart index. */
static void board_smp_setup_hart_m(unsigned hart)
{
    struct mtrap_area *a = &mtrap_areas[hart];
    a->msip = msip_word(hart);
    a->ack = &tlb_ack[hart].v;
    __asm__ volatile("csrw mscratch, %0\n\t"
                     "csrw mtvec, %1\n\t"
                     "csrw sscratch, %2\n\t"
                     "csrs mie, %3" ::"r"(a),
                     "r"(board_mtrap), "r"((unsigned long)hart), "r"(MIE_MSIE)
                     : "memory");
}

void board_smp_setup_m(void);
void board_smp_setup_m(void) { board_smp_setup_hart_m(0); }

/* ---- FDT: the number of harts (nodes /cpus/cpu@N) ------------------------------- */

static uint32_t be32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static unsigned fdt_cpus(const uint8_t *fdt)
{
    if (fdt == NULL || be32(fdt) != 0xd00dfeedu)
        return 1;
    const uint8_t *p = fdt + be32(fdt + 8), *end = fdt + be32(fdt + 4);
    unsigned depth = 0, n = 0;
    bool in_cpus = false;
    while (p + 4 <= end) {
        uint32_t tok = be32(p);
        p += 4;
        if (tok == 1) { /* FDT_BEGIN_NODE, name, padded to 4 */
            const char *name = (const char *)p;
            unsigned len = 0;
            while (name[len] != '\0')
                len++;
            depth++;
            if (depth == 2)
                in_cpus = len == 4 && name[0] == 'c' && name[1] == 'p' && name[2] == 'u' && name[3] == 's';
            else if (depth == 3 && in_cpus && len > 4 && name[0] == 'c' && name[1] == 'p' && name[2] == 'u' &&
                     name[3] == '@')
                n++;
            p += (len + 4) & ~3u;
        } else if (tok == 2) { /* FDT_END_NODE */
            if (depth == 2)
                in_cpus = false;
            depth--;
        } else if (tok == 3) { /* FDT_PROP: len, nameoff, value */
            p += 8 + ((be32(p) + 3) & ~3u);
        } else if (tok == 9) { /* FDT_END */
            break;
        } /* 4: FDT_NOP */
    }
    return n == 0 ? 1 : n;
}

/* ---- bring-up ---------------------------------------------------------------- */

static void idle_loop(unsigned hart) __attribute__((noreturn));

void board_smp_secondary_m(unsigned hart) __attribute__((noreturn));
void board_smp_secondary_m(unsigned hart)
{
    board_supervisor_setup();
    board_smp_setup_hart_m(hart);
    __asm__ volatile("csrw satp, %0\n\tsfence.vma zero, zero" ::"r"(board_satp) : "memory");
    board_mret_to_supervisor();
    /* S-mode, translation on. */
    _init_tls(tls_blocks[hart]);
    _set_tls(tls_blocks[hart]);
    __atomic_fetch_or(&board_online, 1u << hart, __ATOMIC_RELEASE);
    idle_loop(hart);
}

/* Hart 0, S-mode, translation on (board.c, after board_firmware_start). */
void board_smp_release(void);
void board_smp_release(void)
{
    unsigned n = fdt_cpus((const uint8_t *)(uintptr_t)board_smp_fdt);
    if (n > BOARD_SMP_HARTS)
        n = BOARD_SMP_HARTS;
    if ((uintptr_t)__tls_size > TLS_BYTES) {
        printf("\n*** smp: TLS of %lu bytes does not fit TLS_BYTES\n", (unsigned long)(uintptr_t)__tls_size);
        _exit(97);
    }
    __asm__ volatile("csrr %0, satp" : "=r"(board_satp));
    __atomic_store_n(&board_online, 1u, __ATOMIC_RELAXED);
    __atomic_store_n(&board_smp_released, 1u, __ATOMIC_RELEASE);
    for (unsigned h = 1; h < n; h++)
        send_ipi(h);
    uint32_t all = (1u << n) - 1;
    while (__atomic_load_n(&board_online, __ATOMIC_ACQUIRE) != all)
        cpu_relax();
    hart_count = n;
}

/* ---- board_smp_run ------------------------------------------------------------- */

static void idle_loop(unsigned hart)
{
    uint32_t seen = __atomic_load_n(&run_gen, __ATOMIC_ACQUIRE);
    for (;;) {
        uint32_t g;
        __asm__ volatile("csrs sie, %0" ::"r"(SIE_SSIE) : "memory");
        for (;;) {
            __asm__ volatile("csrc sip, %0" ::"r"(SIP_SSIP) : "memory");
            g = __atomic_load_n(&run_gen, __ATOMIC_ACQUIRE);
            if (g != seen)
                break;
            __asm__ volatile("wfi" ::: "memory");
        }
        __asm__ volatile("csrc sie, %0" ::"r"(SIE_SSIE) : "memory");
        seen = g;
        run_fn(run_arg, hart);
        __atomic_fetch_add(&run_done, 1u, __ATOMIC_RELEASE);
    }
}

void board_smp_run(void (*fn)(void *arg, unsigned cpu), void *arg)
{
    unsigned n = hart_count;
    run_fn = fn;
    run_arg = arg;
    __atomic_store_n(&run_done, 0u, __ATOMIC_RELAXED);
    __atomic_fetch_add(&run_gen, 1u, __ATOMIC_RELEASE);
    for (unsigned h = 1; h < n; h++)
        send_ipi(h);
    fn(arg, 0);
    while (__atomic_load_n(&run_done, __ATOMIC_ACQUIRE) != n - 1)
        cpu_relax();
}

/* ---- remote TLB fence -------------------------------------------------------------- */

void sheap_port_remote_sfence(void);
void sheap_port_remote_sfence(void)
{
    if (board_smp_no_remote_fence)
        return;
    unsigned self = board_cpu_index();
    unsigned long s = irq_save();
    while (__atomic_exchange_n(&shoot_lock, 1u, __ATOMIC_ACQUIRE) != 0)
        while (__atomic_load_n(&shoot_lock, __ATOMIC_RELAXED) != 0)
            cpu_relax();
    uint64_t seq = board_tlb_seq + 1;
    __atomic_store_n(&board_tlb_seq, seq, __ATOMIC_RELEASE);
    uint32_t targets = __atomic_load_n(&board_online, __ATOMIC_ACQUIRE) & ~(1u << self);
    for (unsigned h = 0; h < BOARD_SMP_HARTS; h++)
        if (targets & (1u << h))
            send_ipi(h);
    for (unsigned h = 0; h < BOARD_SMP_HARTS; h++)
        if (targets & (1u << h))
            while (__atomic_load_n(&tlb_ack[h].v, __ATOMIC_ACQUIRE) < seq)
                cpu_relax();
    __atomic_store_n(&shoot_lock, 0u, __ATOMIC_RELEASE);
    irq_restore(s);
}

#endif
