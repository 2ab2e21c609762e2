/*
 * core_bits.h - the core's bitmap helpers (core/util.c) as the ports see
 * them.  The core declares them with its private structures in
 * core/sheap_internal.h, which ports do not include; the ports' own maps
 * (the static port's Reserved and Ready pages, the hosted port's Ready
 * map) use these, so that there is one bitmap library.  Words are
 * uintptr_t; bit i of a map is bit i % W of word i / W.
 */
#ifndef SHEAP_CORE_BITS_H
#define SHEAP_CORE_BITS_H

#include <stdbool.h>
#include <stdint.h>

void bits_set_range(uintptr_t *map, uintptr_t first, uintptr_t n);
void bits_clear_range(uintptr_t *map, uintptr_t first, uintptr_t n);
uintptr_t bits_count_range(const uintptr_t *map, uintptr_t first, uintptr_t n);
/* The first bit in [from, end) equal to value, or end. */
uintptr_t bits_next(const uintptr_t *map, uintptr_t from, uintptr_t end, bool value);
/* The last set bit below before, or UINTPTR_MAX. */
uintptr_t bits_prev(const uintptr_t *map, uintptr_t before);

#endif
