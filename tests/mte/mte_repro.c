/*
 * mte_repro.c - does QEMU (-M virt,mte=on -cpu max) keep one allocation tag
 * per 16-byte granule for bare-metal EL1 code on this board's set-up?
 * Built with the board's firmware (-DBOARD_MTE: MAIR attr1 = 0xF0 Tagged
 * Normal, TCR_EL1.TBI0, SCTLR_EL1.ATA + TCF = sync); see tools/mte_repro.sh.
 *
 * For each test page: STG tag g+1 to granule g (g = 0..7), LDG granules
 * 0..15 back and print them; then a store through an untagged pointer
 * (tag 0) to granules 0, 1, 2 and 8 after STG tag 7 to granule 2 only:
 * per-granule tags fault only at granule 2.  Pages: VA == PA through the
 * firmware's 1 GB blocks (low RAM, 2 GB, 3 GB, last page of a 3 GB RAM),
 * and the same frames through 4 KB pages this program adds at 512 GB.
 *
 * Result on Debian 12's QEMU 7.2 (7.2+dfsg-7+deb12u18): every page reads
 * back "7 8 7 8 ...": per 4 KB page there is one tag byte, with granules
 * whose VA bit 4 is 0 sharing its low nibble and the others its high one.
 * That holds for -m 1G and 3G, any RAM address, 1 GB blocks and 4 KB pages
 * alike; whole-page tags (all 256 granules the same) work.  The board's
 * set-up is right (tags stick and checks fault with DFSC 0x11).  The cause
 * is QEMU's own: target/arm/mte_helper.c allocation_tag_mem() in 7.2 takes
 * ptr_paddr = full->phys_addr without the page offset (came in with
 * "target/arm: Use probe_access_full for MTE", 7.2.0; fixed for 8.0 by
 * "target/arm: Fix physical address resolution for MTE", QEMU issue 1416).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sheap_board.h"

#ifndef REPRO_RAM_TOP
#define REPRO_RAM_TOP 0x100000000ull /* -m 3G */
#endif

#define TAG(p, t) ((uint64_t)(p) | ((uint64_t)(t) << 56))
#define READ(reg)                                                                                  \
    ({                                                                                             \
        uint64_t v_;                                                                               \
        __asm__ volatile(".arch armv8.5-a+memtag\n\tmrs %0, " reg : "=r"(v_));                      \
        v_;                                                                                        \
    })

static inline void stg(uint64_t tagged) { __asm__ volatile(".arch armv8.5-a+memtag\n\tstg %0, [%0]" ::"r"(tagged) : "memory"); }
static inline unsigned ldg(uint64_t a)
{
    uint64_t t = a;
    __asm__ volatile(".arch armv8.5-a+memtag\n\tldg %0, [%1]" : "+r"(t) : "r"(a) : "memory");
    return (unsigned)(t >> 56) & 15u;
}

/* 4 KB mappings at VA 512 GB (L0 index 1) to the test frames. */
static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l2[512] __attribute__((aligned(4096)));
static uint64_t l3[512] __attribute__((aligned(4096)));
#define PAGE_VA 0x0000008000000000ull
static uint64_t map4k(unsigned i, uint64_t pa)
{
    uint64_t *l0 = (uint64_t *)(READ("ttbr0_el1") & 0x0000fffffffff000ull);
    if (!(l0[1] & 1)) {
        l1[0] = (uint64_t)(uintptr_t)l2 | 3;
        l2[0] = (uint64_t)(uintptr_t)l3 | 3;
        l0[1] = (uint64_t)(uintptr_t)l1 | 3;
    }
    /* attr1 (tagged normal), inner shareable, AF, page */
    l3[i] = pa | (1u << 2) | (3u << 8) | (1u << 10) | 3;
    __asm__ volatile("dsb ish\n\ttlbi vmalle1\n\tdsb ish\n\tisb" ::: "memory");
    return PAGE_VA + ((uint64_t)i << 12);
}

static unsigned fails;

static void probe(const char *what, uint64_t va)
{
    /* Tag 0 over the page first. */
    for (unsigned g = 0; g < 256; g++)
        stg(va + 16 * g);
    for (unsigned g = 0; g < 8; g++)
        stg(TAG(va + 16 * g, g + 1));
    printf("%-34s va %#014llx  LDG g0..15:", what, (unsigned long long)va);
    unsigned bad = 0;
    for (unsigned g = 0; g < 16; g++) {
        unsigned t = ldg(va + 16 * g);
        printf(" %x", t);
        bad += t != (g < 8 ? g + 1 : 0);
    }
    /* Tag 7 to granule 2 only, then tag-0 stores to granules 0, 1, 2, 8. */
    for (unsigned g = 0; g < 16; g++)
        stg(va + 16 * g);
    stg(TAG(va + 32, 7));
    printf("  | tag-0 store faults at g:");
    static const unsigned gs[] = {0, 1, 2, 3, 4, 8};
    unsigned faulted = 0;
    for (unsigned k = 0; k < sizeof gs / sizeof gs[0]; k++) {
        sheap_board_expect_fault();
        *(volatile uint64_t *)(uintptr_t)(va + 16 * gs[k]) = 1;
        uintptr_t far;
        if (sheap_board_fault_taken(&far)) {
            faulted |= 1u << gs[k];
            printf(" %u(ESR %#llx)", gs[k], (unsigned long long)READ("esr_el1"));
        }
    }
    stg(va + 32);
    bad += faulted != (1u << 2);
    printf("  -> %s\n", bad ? "ALIASED/WRONG" : "per-granule OK");
    fails += bad != 0;
}

static uint8_t bss_page[4096] __attribute__((aligned(4096)));

int main(void)
{
    uint64_t pfr1 = READ("id_aa64pfr1_el1"), sctlr = READ("sctlr_el1"), tcr = READ("tcr_el1");
    printf("ID_AA64PFR1_EL1 %#llx (MTE field %llu)\n", (unsigned long long)pfr1, (unsigned long long)((pfr1 >> 8) & 15));
    printf("SCTLR_EL1 %#llx: ATA(43) %llu ATA0(42) %llu TCF(41:40) %llu TCF0(39:38) %llu ITFSB(37) %llu\n",
           (unsigned long long)sctlr, (unsigned long long)(sctlr >> 43 & 1), (unsigned long long)(sctlr >> 42 & 1),
           (unsigned long long)(sctlr >> 40 & 3), (unsigned long long)(sctlr >> 38 & 3), (unsigned long long)(sctlr >> 37 & 1));
    printf("TCR_EL1 %#llx: TBI0(37) %llu TBID0(51) %llu TCMA0(57) %llu; MAIR_EL1 %#llx (attr1 %#llx)\n",
           (unsigned long long)tcr, (unsigned long long)(tcr >> 37 & 1), (unsigned long long)(tcr >> 51 & 1),
           (unsigned long long)(tcr >> 57 & 1), (unsigned long long)READ("mair_el1"),
           (unsigned long long)(READ("mair_el1") >> 8 & 0xff));
    printf("GCR_EL1 %#llx RGSR_EL1 %#llx TFSR_EL1 %#llx\n", (unsigned long long)READ("gcr_el1"),
           (unsigned long long)READ("rgsr_el1"), (unsigned long long)READ("tfsr_el1"));

    const struct {
        const char *name;
        uint64_t pa;
    } pages[] = {
        {"bss page (1GB block)", (uint64_t)(uintptr_t)bss_page},
        {"frame pool 0x41300000 (1GB block)", 0x41300000ull},
        {"0x7ffff000 (1GB block)", 0x7ffff000ull},
        {"2 GB 0x80000000 (1GB block)", 0x80000000ull},
        {"3 GB 0xc0000000 (1GB block)", 0xc0000000ull},
        {"last page 0xfffff000 (1GB block)", 0xfffff000ull},
    };
    unsigned n = 0;
    for (unsigned i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        if (pages[i].pa + 4096 > REPRO_RAM_TOP)
            continue;
        probe(pages[i].name, pages[i].pa);
        n++;
    }
    for (unsigned i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        if (pages[i].pa + 4096 > REPRO_RAM_TOP)
            continue;
        char name[64];
        snprintf(name, sizeof name, "4KB page -> pa %#llx", (unsigned long long)pages[i].pa);
        probe(name, map4k(i, pages[i].pa));
        n++;
    }
    /* Whole pages: adjacent frames 0x41300000 and 0x41301000 tagged 5 and
     * 9 over all 256 granules each; tagged stores to every granule. */
    for (unsigned g = 0; g < 256; g++) {
        stg(TAG(0x41300000ull + 16 * g, 5));
        stg(TAG(0x41301000ull + 16 * g, 9));
    }
    unsigned wrong = 0, faults = 0;
    for (unsigned g = 0; g < 256; g++) {
        wrong += ldg(0x41300000ull + 16 * g) != 5 || ldg(0x41301000ull + 16 * g) != 9;
        sheap_board_expect_fault();
        *(volatile uint64_t *)(uintptr_t)TAG(0x41300000ull + 16 * g, 5) = g;
        *(volatile uint64_t *)(uintptr_t)TAG(0x41301000ull + 16 * g, 9) = g;
        faults += sheap_board_fault_taken(NULL);
    }
    printf("whole-page tags 5 | 9 on adjacent frames: %u granules read back wrong, %u tagged stores faulted -> %s\n",
           wrong, faults, wrong + faults ? "WRONG" : "per-page OK");
    for (unsigned g = 0; g < 512; g++)
        stg(0x41300000ull + 16 * g);
    printf("GCR_EL1 %#llx RGSR_EL1 %#llx TFSR_EL1 %#llx\n", (unsigned long long)READ("gcr_el1"),
           (unsigned long long)READ("rgsr_el1"), (unsigned long long)READ("tfsr_el1"));
    printf("%u of %u pages wrong\n", fails, n);
    ((uint64_t *)(READ("ttbr0_el1") & 0x0000fffffffff000ull))[1] = 0; /* board_mmu_intact at exit */
    __asm__ volatile("dsb ish\n\ttlbi vmalle1\n\tdsb ish\n\tisb" ::: "memory");
    return fails != 0;
}
