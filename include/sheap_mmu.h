/*
 * sheap_mmu.h - what the MMU ports (port/aarch64, port/riscv) tell programs
 * about physical memory, for reports and tests.  Only boards with an MMU
 * port link these.
 */
#ifndef SHEAP_MMU_H
#define SHEAP_MMU_H

#include <stdbool.h>
#include <stdint.h>

struct sheap_frame_stats {
    uintptr_t total;       /* frames in the pool */
    uintptr_t free;        /* frames not in use */
    uintptr_t heap_pages;  /* frames backing Ready pages (heap and metadata) */
    uintptr_t table_pages; /* frames holding translation tables, root included */
};

/* Frame counts right now (takes the heap lock). */
void sheap_mmu_frame_stats(struct sheap_frame_stats *out);
/* true when va is mapped (Ready) in the heap's translation tables. */
bool sheap_mmu_is_mapped(uintptr_t va);

#endif
