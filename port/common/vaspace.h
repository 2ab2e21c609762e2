/*
 * vaspace.h - virtual address-space bookkeeping of an MMU backend
 * instance: which ranges of its window are Reserved.  reserve costs no
 * frames; this table is all a reservation is.
 *
 * A sorted array (struct sheap_mmu.va) of disjoint [start, end) ranges;
 * touching ranges are merged, so an arena heap growing at a few hints
 * needs a few entries.  Operations are O(entries); they run only on heap
 * growth.  Results are SHEAP_BACKEND_OK / _EBUSY / _ENOMEM.
 */
#ifndef SHEAP_VASPACE_H
#define SHEAP_VASPACE_H

#include <stdint.h>

#include "sheap_mmu.h"

/* Reserve [hint, hint + n) exactly, or anywhere inside [any_lo, any_hi) when
 * hint is 0. */
int vaspace_reserve(struct sheap_mmu *m, uintptr_t hint, uintptr_t n, uintptr_t any_lo, uintptr_t any_hi,
                    uintptr_t *out);
/* Forget [v, v + n) (part of an earlier reservation). */
void vaspace_release(struct sheap_mmu *m, uintptr_t v, uintptr_t n);
/* 1 when [v, v + n) lies within one reserved range. */
int vaspace_contains(const struct sheap_mmu *m, uintptr_t v, uintptr_t n);

#endif
