/*
 * boot_mmu.c - the startup's translation tables and MMU enable for the
 * MMU boards; see boot_mmu.h.  Table pages come from a static pool in
 * .bss (zeroed by crt0 before .preinit_array runs); the root is the first.
 */
#include "boot_mmu.h"

#include <stdio.h>
#include <unistd.h>

#include "board.h"
#include "board_test.h" /* the second MMU instance's window */

#define BOOT_TABLES 12

static uint64_t tables[BOOT_TABLES][512] __attribute__((aligned(4096)));
static unsigned ntables, levels, top_shift;

/* The firmware's own page and a const in .rodata, for board_mmu_intact. */
#define FW_PATTERN 0x600df00du
static uint32_t fw_page[1024] __attribute__((aligned(4096)));
static const volatile uint64_t fw_const = 0x0123456789abcdefull;
static uintptr_t alias_va; /* where the layout maps fw_page again, or 0 */

/* Recorded when translation was turned on, for boot_mmu_intact. */
static uint64_t root_copy[512];
static uint64_t tables_sum;
static uint64_t regs[4];

#if defined(__aarch64__)
static uint64_t desc_table(uintptr_t pa) { return pa | 3; }
static uint64_t desc_leaf(uintptr_t pa, uint64_t attrs, bool last) { return pa | attrs | (last ? 3 : 1); }
static uintptr_t desc_pa(uint64_t e) { return (uintptr_t)(e & 0x0000fffffffff000ull); }

static void read_regs(uint64_t r[4])
{
    __asm__ volatile("mrs %0, ttbr0_el1\n\tmrs %1, tcr_el1\n\tmrs %2, mair_el1\n\tmrs %3, sctlr_el1"
                     : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]));
}

static void enable(unsigned va_bits, uint64_t mair)
{
    uint64_t tcr = (64u - va_bits)  /* T0SZ */
                   | (1u << 8)      /* IRGN0 write-back */
                   | (1u << 10)     /* ORGN0 write-back */
                   | (3u << 12)     /* SH0 inner shareable */
                   | (0u << 14)     /* TG0 4 KB */
                   | (1u << 23)     /* EPD1: no TTBR1 walks */
                   | (2ull << 32);  /* IPS 40-bit */
#ifdef BOARD_MTE
    tcr |= 1ull << 37; /* TBI0: the top byte (the tag) is ignored in translation */
#endif
    __asm__ volatile("msr mair_el1, %0\n\t"
                     "msr tcr_el1, %1\n\t"
                     "msr ttbr0_el1, %2\n\t"
                     "dsb ish\n\t"
                     "tlbi vmalle1\n\t"
                     "dsb ish\n\t"
                     "isb" ::"r"(mair),
                     "r"(tcr), "r"((uint64_t)(uintptr_t)tables[0])
                     : "memory");
    uint64_t sctlr;
    __asm__ volatile("mrs %0, sctlr_el1" : "=r"(sctlr));
    sctlr |= (1u << 0) | (1u << 2) | (1u << 12); /* M, C, I */
#ifdef BOARD_MTE
    /* Memory Tagging: tag access allowed (ATA), and tag check
     * faults synchronous (TCF = 01) at EL1. */
    sctlr = (sctlr & ~(3ull << 40)) | (1ull << 40) | (1ull << 43);
#endif
    __asm__ volatile("msr sctlr_el1, %0\n\tisb" ::"r"(sctlr) : "memory");
}
#elif defined(__riscv)
static uint64_t desc_table(uintptr_t pa) { return ((uint64_t)pa >> 12) << 10 | 1; }
static uint64_t desc_leaf(uintptr_t pa, uint64_t attrs, bool last)
{
    (void)last;
    return ((uint64_t)pa >> 12) << 10 | attrs | 1;
}
static uintptr_t desc_pa(uint64_t e) { return (uintptr_t)(((e >> 10) & ((1ull << 44) - 1)) << 12); }

static void read_regs(uint64_t r[4])
{
    __asm__ volatile("csrr %0, satp" : "=r"(r[0]));
    r[1] = r[2] = r[3] = 0;
}

static void enable(unsigned va_bits, uint64_t mair)
{
    (void)mair;
    uint64_t satp = (va_bits == 39 ? 8ull : 9ull) << 60 | (uint64_t)(uintptr_t)tables[0] >> 12;
    __asm__ volatile("csrw satp, %0\n\tsfence.vma zero, zero" ::"r"(satp) : "memory");
}
#else
#error "boot_mmu.c: AArch64 or RISC-V only"
#endif

static unsigned index_of(uintptr_t va, unsigned l) { return (unsigned)(va >> (top_shift - 9 * l)) & 511; }

static void install(uintptr_t va, uintptr_t pa, unsigned level, uint64_t attrs)
{
    uint64_t *t = tables[0];
    for (unsigned l = 0; l < level; l++) {
        uint64_t *slot = &t[index_of(va, l)];
        if (!(*slot & 1)) {
            if (ntables == BOOT_TABLES)
                _exit(98);
            *slot = desc_table((uintptr_t)tables[ntables++]);
        }
        t = (uint64_t *)desc_pa(*slot);
    }
    t[index_of(va, level)] = desc_leaf(pa, attrs, level == levels - 1);
}

static uint64_t sum_tables(void)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a over 64-bit words */
    for (unsigned i = 1; i < ntables; i++)
        for (unsigned j = 0; j < 512; j++)
            h = (h ^ tables[i][j]) * 1099511628211ull;
    return h;
}

void boot_mmu_start(unsigned va_bits, uint64_t mair, const struct boot_map *maps, unsigned n)
{
    levels = (va_bits - 12) / 9;
    top_shift = 12 + 9 * (levels - 1);
    ntables = 1;
    for (unsigned i = 0; i < 1024; i++)
        fw_page[i] = FW_PATTERN ^ i;
    for (unsigned i = 0; i < n; i++) {
        unsigned level = (top_shift - maps[i].shift) / 9;
        uintptr_t pa = maps[i].pa;
        if (pa == BOOT_FW_PAGE) {
            pa = (uintptr_t)fw_page;
            alias_va = maps[i].va;
        }
        for (uintptr_t off = 0; off < maps[i].size; off += (uintptr_t)1 << maps[i].shift)
            install(maps[i].va + off, pa + off, level, maps[i].attrs);
    }
    for (unsigned j = 0; j < 512; j++)
        root_copy[j] = tables[0][j];
    tables_sum = sum_tables();
    enable(va_bits, mair);
    read_regs(regs);
}

int boot_mmu_intact(const uintptr_t (*windows)[2], unsigned nwindows)
{
    uint64_t now[4];
    read_regs(now);
    for (unsigned i = 0; i < 4; i++)
        if (now[i] != regs[i])
            return 1;
    for (unsigned j = 0; j < 512; j++) {
        uint64_t e = ((volatile uint64_t *)tables[0])[j];
        if (root_copy[j] & 1) {
            if (e != root_copy[j])
                return 2;
            continue;
        }
        if (!(e & 1))
            continue;
        uintptr_t va = (uintptr_t)j << top_shift;
        bool in_window = false;
        for (unsigned w = 0; w < nwindows; w++)
            in_window |= va >= windows[w][0] && va < windows[w][1];
        if (!in_window)
            return 3;
    }
    return sum_tables() == tables_sum ? 0 : 4;
}

/* The alias's translation as the MMU sees it (0: none known). */
static uintptr_t alias_translation(void)
{
#if defined(__aarch64__)
    uint64_t par;
    __asm__ volatile("at s1e1r, %1\n\tisb\n\tmrs %0, par_el1" : "=r"(par) : "r"((uint64_t)alias_va) : "memory");
    return (par & 1) ? 1 : (uintptr_t)(par & 0x0000fffffffff000ull);
#else
    return (uintptr_t)fw_page; /* no address-translation instruction */
#endif
}

int board_mmu_intact(void)
{
    static const uintptr_t windows[][2] = {
        {SHEAP_MMU_WINDOW_BASE, SHEAP_MMU_WINDOW_END},
        {SHEAP_TEST_MMU2_WINDOW_BASE, SHEAP_TEST_MMU2_WINDOW_BASE + SHEAP_TEST_MMU2_WINDOW_SIZE},
    };
    int r = boot_mmu_intact(windows, 2);
    if (r != 0)
        return r;
    if (fw_const != 0x0123456789abcdefull)
        return 10;
    for (unsigned i = 0; i < 1024; i++)
        if (fw_page[i] != (FW_PATTERN ^ i))
            return 11;
    if (alias_va != 0) {
        const volatile uint32_t *alias = (const volatile uint32_t *)alias_va;
        for (unsigned i = 0; i < 1024; i++)
            if (alias[i] != (FW_PATTERN ^ i))
                return 12;
        if (alias_translation() != (uintptr_t)fw_page)
            return 13;
    }
    return 0;
}

/* At exit, after main: the firmware's translation state must be intact. */
__attribute__((destructor)) static void boot_mmu_check_at_exit(void)
{
    int r = board_mmu_intact();
    if (r != 0) {
        printf("\n*** firmware translation state disturbed (check %d)\n", r);
        _exit(99);
    }
}
