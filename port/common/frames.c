/* frames.c - physical frame allocator for the MMU ports; see frames.h. */
#include "frames.h"

static uintptr_t pool_start, pool_end; /* frames proper */
static uintptr_t bump;                 /* first never-used frame */
static uintptr_t free_list;            /* returned frames; 0 terminates */
static uintptr_t free_count;
static uint16_t *counts;               /* one per frame of the pool */
uintptr_t frames_heap_pages, frames_table_pages;

void frames_init(uintptr_t start, uintptr_t end)
{
    start = (start + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);
    end &= ~(FRAME_SIZE - 1);
    /* Counters first: n frames need 2n bytes, taken off the pool's start. */
    uintptr_t n = (end - start) >> FRAME_SHIFT;
    uintptr_t counter_bytes = (n * sizeof(uint16_t) + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);
    counts = (uint16_t *)start;
    for (uintptr_t i = 0; i < n; i++)
        counts[i] = 0;
    pool_start = start + counter_bytes;
    pool_end = end;
    bump = pool_start;
    free_list = 0;
    free_count = 0;
}

uintptr_t frame_alloc(void)
{
    uintptr_t pa = free_list;
    if (pa != 0) {
        free_list = *(uintptr_t *)pa;
        free_count--;
        return pa;
    }
    if (bump >= pool_end)
        return 0;
    pa = bump;
    bump += FRAME_SIZE;
    return pa;
}

void frame_free(uintptr_t pa)
{
    *(uintptr_t *)pa = free_list;
    free_list = pa;
    free_count++;
}

uint16_t *frame_count(uintptr_t pa)
{
    return &counts[(pa - (uintptr_t)counts) >> FRAME_SHIFT];
}

void frames_stats(struct sheap_frame_stats *out)
{
    out->total = (pool_end - pool_start) >> FRAME_SHIFT;
    out->free = ((pool_end - bump) >> FRAME_SHIFT) + free_count;
    out->heap_pages = frames_heap_pages;
    out->table_pages = frames_table_pages;
}
