/* fault_backend.c - see fault_backend.h. */
#include "fault_backend.h"

#include <string.h>

struct fault_backend harness_fault_backend;

static bool hit(struct fault_backend *fb, enum sheap_port_op op)
{
    fb->calls[op]++;
    if (fb->fail_all[op] || fb->calls[op] == fb->fail_at[op]) {
        fb->injected++;
        return true;
    }
    return false;
}

static int fb_reserve(void *ctx, uintptr_t hint, uintptr_t n, uintptr_t *out)
{
    struct fault_backend *fb = ctx;
    if (hit(fb, SHEAP_OP_RESERVE))
        return SHEAP_BACKEND_ENOMEM;
    int r = fb->inner->ops->reserve(fb->inner->ctx, hint, n, out);
    if (r == SHEAP_BACKEND_OK)
        fb->reserved_bytes += n;
    return r;
}

static int fb_map(void *ctx, uintptr_t v, uintptr_t n)
{
    struct fault_backend *fb = ctx;
    if (hit(fb, SHEAP_OP_MAP))
        return SHEAP_BACKEND_ENOMEM;
    return fb->inner->ops->map(fb->inner->ctx, v, n);
}

void (*fault_backend_used_hook)(void);

static int fb_used(void *ctx, uintptr_t v, uintptr_t n, bool *zeroed)
{
    struct fault_backend *fb = ctx;
    if (fault_backend_used_hook != NULL)
        fault_backend_used_hook();
    if (hit(fb, SHEAP_OP_USED))
        return SHEAP_BACKEND_ENOMEM;
    return fb->inner->ops->used(fb->inner->ctx, v, n, zeroed);
}

static void fb_unused(void *ctx, uintptr_t v, uintptr_t n)
{
    struct fault_backend *fb = ctx;
    fb->inner->ops->unused(fb->inner->ctx, v, n);
}

static void fb_release(void *ctx, uintptr_t v, uintptr_t n)
{
    struct fault_backend *fb = ctx;
    fb->reserved_bytes -= n;
    fb->inner->ops->release(fb->inner->ctx, v, n);
}

#if SHEAP_HARDENING >= 3
/* Level 3's protect, passed on (none when the inner backend has none). */
static bool fb_protect(void *ctx, uintptr_t v, uintptr_t n, bool on)
{
    struct fault_backend *fb = ctx;
    return fb->inner->ops->protect == NULL || fb->inner->ops->protect(fb->inner->ctx, v, n, on);
}

#endif

static const struct sheap_backend_ops fb_ops = {
    .reserve = fb_reserve,
    .map = fb_map,
    .used = fb_used,
    .unused = fb_unused,
    .release = fb_release,
#if SHEAP_HARDENING >= 3
    .protect = fb_protect,
#endif
};

void fault_backend_init(struct fault_backend *fb, const struct sheap_backend *inner)
{
    memset(fb, 0, sizeof(*fb));
    fb->inner = inner;
    fb->backend.ops = &fb_ops;
    fb->backend.ctx = fb;
    fb->backend.page_size = inner->page_size;
    fb->backend.meta_apart = inner->meta_apart;
}

void sheap_fault_inject_arm(enum sheap_port_op op, unsigned long n)
{
    harness_fault_backend.fail_at[op] = n ? harness_fault_backend.calls[op] + n : 0;
}

void sheap_fault_inject_all(enum sheap_port_op op, bool on)
{
    harness_fault_backend.fail_all[op] = on;
}

unsigned long sheap_fault_inject_calls(enum sheap_port_op op)
{
    return harness_fault_backend.calls[op];
}

unsigned long sheap_fault_inject_count(void)
{
    return harness_fault_backend.injected;
}
