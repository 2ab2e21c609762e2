/*
 * static_guard.h - the protection unit behind the static port (port/static).
 *
 * MPU-only parts cannot take physical pages away, but they can make part of
 * the heap region fault.  The static port keeps a "Ready watermark": the end
 * of the highest page of the region that is Ready.  Everything from the
 * watermark to the end of the region is not Ready and is guarded, so a stray
 * store there (a heap overflow off the top of the used part, a pointer into
 * memory never handed out) faults at once instead of corrupting silently.
 * Pages below the watermark that are Prepared again (after sheap_trim) stay
 * accessible: eight MPU regions cannot express an arbitrary page set.  At
 * hardening level 3 a few spare regions ("holes", below) guard single
 * pages there: the guard pages after sampled blocks.
 *
 * One implementation is compiled per architecture (each file is wrapped in
 * the matching predefined macro):
 *   guard_armv7m.c  ARMv7-M MPU (Cortex-M3/M4/M7): power-of-two regions with
 *                   sub-region disables; no-access regions.
 *   guard_armv8m.c  ARMv8-M MPU (Cortex-M33): base/limit regions; the guard
 *                   is privileged read-only (ARMv8-M has no no-access AP), so
 *                   stores fault and loads do not.
 *   guard_pmp.c     RISC-V PMP: a TOR entry with no permissions over the
 *                   guard, enforced on M-mode data accesses through
 *                   mstatus.MPRV/MPP (see the file).
 * A part without a protection unit links none of them and defines the two
 * functions empty (BOARD_HAS_GUARD 0 in board.h).
 *
 * Both are called with the heap lock held (from the port's reserve, used and
 * unused), never from an interrupt.
 */
#ifndef SHEAP_STATIC_GUARD_H
#define SHEAP_STATIC_GUARD_H

#include <stdint.h>

#include "sheap_config.h"

/* Switch the protection unit on with the whole region [base, end) guarded
 * (nothing is Ready yet).  Called once, on the port's first call.  Leaves
 * every other address as the board's startup code configured it. */
void static_guard_init(uintptr_t base, uintptr_t end);

/*
 * Make [base, ready_end) accessible and [ready_end, end) guarded, where base
 * and end are those given to static_guard_init and base <= ready_end <= end.
 * The implementation rounds ready_end UP to its granule (4 KB or finer on
 * every supported unit), so Ready memory is never guarded; at most one
 * granule above the watermark may be left open.
 */
void static_guard_set(uintptr_t ready_end);

/* The granule static_guard_set rounds to (for tests: the first address
 * certain to fault is round_up(ready_end, granule)). */
uintptr_t static_guard_granule(void);

/*
 * Level 3 (SHEAP_HARDENING >= 3 only): "holes", protection
 * regions of their own over single pages inside the Ready part, apart
 * from the watermark guard.  The port puts one over the guard page after
 * a sampled block (sheap_backend_ops.protect) and lifts it when the block
 * is freed.  Each unit has only a few regions to spare, so the number of
 * holes is small and fixed:
 *   static_guard_holes   how many there are (0: none, every sampled block
 *                        is then allocated unguarded); valid after init
 *   static_guard_hole    make hole i cover [v, v + n) with no access (no
 *                        store access on ARMv8-M, as the watermark guard),
 *                        or switch it off (n == 0).  n is a power of two
 *                        of at least 32 bytes and v a multiple of it (a
 *                        heap page qualifies), and [v, v + n) lies in the
 *                        region.
 * Called with the heap lock held, like the rest.
 */
#if SHEAP_HARDENING >= 3
unsigned static_guard_holes(void);
void static_guard_hole(unsigned i, uintptr_t v, uintptr_t n);
#endif

#endif
