/*
 * sheap_hosted.h - what the hosted port (port/hosted) offers tests and
 * programs besides the port contract: its backing budget, and
 * a count of waits for another thread's growth section, and (SMP builds)
 * the thread's CPU id.
 *
 * The port backs at most a budget of bytes at once (Ready memory, heap and
 * metadata together); used() beyond it fails with ENOMEM, and map() of a
 * range larger than what is left fails too, so no metadata is made for
 * memory that could not be backed.  The default budget is the machine's
 * available memory when the port first needs it (MemAvailable), or the
 * SHEAP_HOST_BUDGET environment variable (bytes) when set.
 */
#ifndef SHEAP_HOSTED_H
#define SHEAP_HOSTED_H

#include <stdint.h>

/* The budget in bytes; *ready (when not NULL) receives the bytes Ready now. */
uintptr_t sheap_hosted_budget(uintptr_t *ready);
/* Set the budget (0: back to the default).  Takes the heap lock. */
void sheap_hosted_set_budget(uintptr_t bytes);
/* How many times a thread waited for another thread's growth section
 * (sheap_port_growth_wait: sched_yield, then the caller looks again). */
unsigned long sheap_hosted_growth_waits(void);
/* SMP builds (SHEAP_SMP=1): make the calling thread CPU id
 * (0 .. SHEAP_MAX_CPUS - 1, taken modulo) from now on, so that one thread
 * can play several CPUs in deterministic tests (a block allocated as CPU 0
 * and freed as CPU 1 is a remote free).  Returns the id it had.  Only
 * between calls into sheap (never from a hook or walker callback). */
unsigned sheap_hosted_set_cpu(unsigned id);

#endif
