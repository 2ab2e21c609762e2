/*
 * vaspace.h - virtual address-space bookkeeping for the MMU ports: which
 * ranges are Reserved (by sheap, or by the board for its identity map).
 * reserve costs no frames; this table is all a reservation is.
 *
 * A sorted array of disjoint [start, end) ranges; touching ranges are
 * merged, so an arena heap growing at a few hints needs a few entries.
 * Operations are O(entries); they run only on heap growth.
 */
#ifndef SHEAP_VASPACE_H
#define SHEAP_VASPACE_H

#include <stdint.h>

#ifndef VASPACE_MAX_RANGES
#define VASPACE_MAX_RANGES 64
#endif

/* Reserve [hint, hint + n) exactly, or anywhere inside [any_lo, any_hi) when
 * hint is 0.  Returns SHEAP_PORT_OK / _EBUSY / _ENOMEM. */
int vaspace_reserve(uintptr_t hint, uintptr_t n, uintptr_t any_lo, uintptr_t any_hi, uintptr_t *out);
/* Forget [v, v + n) (part of an earlier reservation). */
void vaspace_release(uintptr_t v, uintptr_t n);
/* 1 when [v, v + n) lies within reserved ranges. */
int vaspace_contains(uintptr_t v, uintptr_t n);

#endif
