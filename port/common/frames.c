/* frames.c - physical frame allocator of the MMU backend; see frames.h. */
#include "frames.h"

uintptr_t frames_counter_bytes(uintptr_t size)
{
    uintptr_t n = size >> FRAME_SHIFT;
    return (n * sizeof(uint16_t) + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);
}

void frames_init(struct sheap_mmu *m, const struct sheap_mmu_frame_range *r, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct sheap_mmu_pool *p = &m->pools[i];
        /* O(1): nothing per frame.  The counters are left as they are: a
         * frame's counter is read only while the frame is a table page, and
         * table_new (pagetable.c) sets it to 0 when it makes the table. */
        p->counts = (uint16_t *)r[i].base;
        p->start = r[i].base + frames_counter_bytes(r[i].size);
        p->end = r[i].base + r[i].size;
        p->bump = p->start;
    }
    m->npools = n;
    m->free_list = 0;
    m->free_count = 0;
}

uintptr_t frames_alloc(struct sheap_mmu *m)
{
    uintptr_t pa = m->free_list;
    if (pa != 0) {
        m->free_list = *(uintptr_t *)pa;
        m->free_count--;
        return pa;
    }
    for (unsigned i = 0; i < m->npools; i++) {
        struct sheap_mmu_pool *p = &m->pools[i];
        if (p->bump < p->end) {
            pa = p->bump;
            p->bump += FRAME_SIZE;
            return pa;
        }
    }
    return 0;
}

void frames_free(struct sheap_mmu *m, uintptr_t pa)
{
    *(uintptr_t *)pa = m->free_list;
    m->free_list = pa;
    m->free_count++;
}

uint16_t *frames_counter(struct sheap_mmu *m, uintptr_t pa)
{
    struct sheap_mmu_pool *p = m->pools;
    while (pa < p->start || pa >= p->end)
        p++; /* pa is a frame of the pool: some range holds it */
    return &p->counts[(pa - (uintptr_t)p->counts) >> FRAME_SHIFT];
}

bool frames_overlap(const struct sheap_mmu *m, uintptr_t pa, uintptr_t n)
{
    for (unsigned i = 0; i < m->npools; i++)
        if ((uintptr_t)m->pools[i].counts < pa + n && pa < m->pools[i].end)
            return true;
    return false;
}

void frames_stats(const struct sheap_mmu *m, struct sheap_frame_stats *out)
{
    uintptr_t total = 0, never = 0;
    for (unsigned i = 0; i < m->npools; i++) {
        total += (m->pools[i].end - m->pools[i].start) >> FRAME_SHIFT;
        never += (m->pools[i].end - m->pools[i].bump) >> FRAME_SHIFT;
    }
    out->total = total;
    out->free = never + m->free_count;
    out->heap_pages = m->heap_pages;
    out->table_pages = m->table_pages;
}
