/*
 * frames.h - the physical frame allocator shared by the MMU ports
 * (port/aarch64, port/riscv).
 *
 * The pool is one contiguous range of RAM given by the board's linker
 * script.  Never-used frames are handed out by a bump pointer; returned
 * frames go on a free list threaded through the frames themselves (they are
 * identity-mapped RAM and hold nothing while free).  Allocating or freeing
 * one frame is O(1).  Page-table pages come from the same pool.
 *
 * A small array at the start of the pool keeps one 16-bit count per frame;
 * the page-table code uses it for the number of valid entries of each table
 * page, so that a table that becomes empty can be freed.
 *
 * Called with the heap lock held, like every port function.
 */
#ifndef SHEAP_FRAMES_H
#define SHEAP_FRAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "sheap_mmu.h"

#define FRAME_SHIFT 12
#define FRAME_SIZE ((uintptr_t)1 << FRAME_SHIFT)

void frames_init(uintptr_t start, uintptr_t end);
/* A frame's physical address, or 0 when the pool is empty.  Not zeroed. */
uintptr_t frame_alloc(void);
void frame_free(uintptr_t pa);
/* The per-frame counter (page tables: valid entries). */
uint16_t *frame_count(uintptr_t pa);

/* Frames by use (struct in sheap_mmu.h). */
void frames_stats(struct sheap_frame_stats *out);

/* Counters kept by the users of the pool (port_mmu.c, pagetable.c). */
extern uintptr_t frames_heap_pages, frames_table_pages;

#endif
