/*
 * smp.h - the board interface for running code on several CPUs,
 * fixed for every board and used by the SMP tests (tests/smp/).  A board
 * implements it in its own files; boards/common is not a board.
 *
 * In a board's single-core flavours board_cpu_count() is 1 and
 * board_smp_run runs fn on the calling CPU alone.  In an SMP flavour
 * (FLAVOR=smp, built with -DSHEAP_SMP=1 -DBOARD_SMP=1) the board brings the
 * other CPUs up (per CPU: its own stack, exception vectors, the MMU on with
 * the same translation tables as CPU 0, caches on) and parks them until
 * board_smp_run hands them work.
 *
 * board_smp_run is called by CPU 0 only, never nested; fn must not call it.
 */
#ifndef SHEAP_BOARD_SMP_H
#define SHEAP_BOARD_SMP_H

/* The most CPUs a board brings up (sheap's SHEAP_MAX_CPUS is the same by
 * default in SMP builds). */
#ifndef BOARD_MAX_CPUS
#define BOARD_MAX_CPUS 4
#endif

unsigned board_cpu_count(void);   /* CPUs running (1 unless an SMP flavour) */
unsigned board_cpu_index(void);   /* this CPU, 0..board_cpu_count()-1 */
/* Runs fn(arg, cpu) on every running CPU at once (CPU 0, the caller, too) and returns when all have returned. */
void board_smp_run(void (*fn)(void *arg, unsigned cpu), void *arg);

#endif
