/*
 * size_port_stub.c - an empty port for the code-size image (tools/bench_size.sh):
 * it lets the core link without a board; its own bytes are subtracted from
 * the figure (every symbol here is named sheap_port_*).  Never run.
 */
#include <stdbool.h>
#include <stdint.h>

#include "sheap_port.h"

#ifndef SIZE_STUB_LIBC_HOOKS
unsigned long sheap_port_saved_irq;
static int sheap_port_stub_reserve(void *c, uintptr_t hint, uintptr_t n, uintptr_t *out)
{
    (void)c;
    *out = hint + n;
    return 0;
}
static int sheap_port_stub_map(void *c, uintptr_t v, uintptr_t n) { return (int)(v + n + (uintptr_t)c); }
static int sheap_port_stub_used(void *c, uintptr_t v, uintptr_t n, bool *zeroed)
{
    *zeroed = false;
    return (int)(v + n + (uintptr_t)c);
}
static void sheap_port_stub_unused(void *c, uintptr_t v, uintptr_t n) { (void)c, (void)v, (void)n; }
static void sheap_port_stub_release(void *c, uintptr_t v, uintptr_t n) { (void)c, (void)v, (void)n; }
static const struct sheap_backend_ops sheap_port_stub_ops = {
    .reserve = sheap_port_stub_reserve,
    .map = sheap_port_stub_map,
    .used = sheap_port_stub_used,
    .unused = sheap_port_stub_unused,
    .release = sheap_port_stub_release,
};
static const struct sheap_backend sheap_port_stub_backend = {&sheap_port_stub_ops, 0, 4096, false};
const struct sheap_backend *sheap_port_default_backend(void) { return &sheap_port_stub_backend; }
void sheap_port_lock(void) {}
void sheap_port_unlock(void) {}
#endif
/* With -DSIZE_STUB_LIBC_HOOKS (the image with the real static port) only
 * these two, which a real image takes from port/common/port_picolibc.c. */
void sheap_port_fault(const char *msg, const void *ptr, bool fatal) { (void)msg, (void)ptr, (void)fatal; }
void sheap_port_set_errno(int err) { (void)err; }
