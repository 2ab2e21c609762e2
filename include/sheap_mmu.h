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

/*
 * Transitional: the MMU ports' memory functions under their old port
 * contract names (memory states and rules as in sheap_backend.h, without
 * ctx).  port/common/mmu_legacy_backend.c wraps them as the default
 * backend; both go away when the MMU backend takes their place.
 */
uintptr_t sheap_port_page_size(void);
int sheap_port_reserve(uintptr_t hint, uintptr_t n, uintptr_t *out);
int sheap_port_map(uintptr_t v, uintptr_t n);
int sheap_port_used(uintptr_t v, uintptr_t n, bool *zeroed);
void sheap_port_unused(uintptr_t v, uintptr_t n);
void sheap_port_release(uintptr_t v, uintptr_t n);

#endif
