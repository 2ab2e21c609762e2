/*
 * frames.h - the physical frame allocator of an MMU backend instance
 * (struct sheap_mmu in sheap_mmu.h holds its state).
 *
 * The pool is one or more ranges of RAM the firmware gave.  Never-used
 * frames are handed out by a bump pointer per range, in range order;
 * returned frames go on one free list threaded through the frames
 * themselves (they are mapped at VA == PA and hold nothing while free).
 * Allocating or freeing a frame is O(1) (O(ranges) to find a frame's
 * counter).  Table pages come from the same pool.
 *
 * Each range starts with one 16-bit counter per frame of the range; the
 * table walk keeps there the number of valid entries of each table page,
 * so that a table that becomes empty can be freed.  A counter is valid only
 * while its frame is a table page: table_new sets it to 0, nothing else
 * reads it, so set-up leaves the counters uninitialised (O(1) init).
 *
 * Called with the heap's lock held, like every backend operation.
 */
#ifndef SHEAP_FRAMES_H
#define SHEAP_FRAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "sheap_mmu.h"

#define FRAME_SHIFT 12
#define FRAME_SIZE ((uintptr_t)1 << FRAME_SHIFT)

/* Bytes of counters at the start of a range of size bytes. */
uintptr_t frames_counter_bytes(uintptr_t size);
/* Set up the pool of m from the (checked) ranges.  O(ranges): it touches
 * no frame and no counter (a counter is set when its frame becomes a table
 * page, the only time it is read). */
void frames_init(struct sheap_mmu *m, const struct sheap_mmu_frame_range *r, unsigned n);
/* A frame's physical address, or 0 when the pool is empty.  Not zeroed. */
uintptr_t frames_alloc(struct sheap_mmu *m);
void frames_free(struct sheap_mmu *m, uintptr_t pa);
/* The counter of a frame of the pool (table pages: valid entries). */
uint16_t *frames_counter(struct sheap_mmu *m, uintptr_t pa);
/* true when [pa, pa + n) overlaps a range of m's pool. */
bool frames_overlap(const struct sheap_mmu *m, uintptr_t pa, uintptr_t n);
void frames_stats(const struct sheap_mmu *m, struct sheap_frame_stats *out);

#endif
