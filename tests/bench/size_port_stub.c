/*
 * size_port_stub.c - an empty port for the code-size image (tools/bench_size.sh):
 * it lets the core link without a board; its own bytes are subtracted from
 * the figure (every symbol here is named sheap_port_*).  Never run.
 */
#include <stdbool.h>
#include <stdint.h>

#include "sheap_port.h"

unsigned long sheap_port_saved_irq;
uintptr_t sheap_port_page_size(void) { return 4096; }
int sheap_port_reserve(uintptr_t hint, uintptr_t n, uintptr_t *out)
{
    *out = hint + n;
    return 0;
}
int sheap_port_map(uintptr_t v, uintptr_t n) { return (int)(v + n); }
int sheap_port_used(uintptr_t v, uintptr_t n, bool *zeroed)
{
    *zeroed = false;
    return (int)(v + n);
}
void sheap_port_unused(uintptr_t v, uintptr_t n) { (void)v, (void)n; }
void sheap_port_release(uintptr_t v, uintptr_t n) { (void)v, (void)n; }
void sheap_port_lock(void) {}
void sheap_port_unlock(void) {}
void sheap_port_fault(const char *msg, const void *ptr, bool fatal) { (void)msg, (void)ptr, (void)fatal; }
void sheap_port_set_errno(int err) { (void)err; }
