/*
 * mmu_legacy_backend.c - transitional: the default backend of the MMU boards
 * (qemu-virt-aarch64, qemu-virt-riscv64), wrapping port_mmu.c's functions,
 * which still have the old port contract's names (declared in sheap_mmu.h).
 * One address space and one frame pool, so ctx is unused.  To be deleted
 * when the MMU backend, which takes the firmware's tables, replaces it.
 */
#include "sheap_backend.h"
#include "sheap_mmu.h"
#include "sheap_port.h"

static int legacy_reserve(void *ctx, uintptr_t hint, uintptr_t n, uintptr_t *out)
{
    (void)ctx;
    return sheap_port_reserve(hint, n, out);
}

static int legacy_map(void *ctx, uintptr_t v, uintptr_t n)
{
    (void)ctx;
    return sheap_port_map(v, n);
}

static int legacy_used(void *ctx, uintptr_t v, uintptr_t n, bool *zeroed)
{
    (void)ctx;
    return sheap_port_used(v, n, zeroed);
}

static void legacy_unused(void *ctx, uintptr_t v, uintptr_t n)
{
    (void)ctx;
    sheap_port_unused(v, n);
}

static void legacy_release(void *ctx, uintptr_t v, uintptr_t n)
{
    (void)ctx;
    sheap_port_release(v, n);
}

static const struct sheap_backend_ops legacy_ops = {
    legacy_reserve, legacy_map, legacy_used, legacy_unused, legacy_release,
};

const struct sheap_backend *sheap_port_default_backend(void)
{
    static struct sheap_backend backend;
    if (backend.ops == NULL) {
        backend.page_size = sheap_port_page_size();
        backend.ops = &legacy_ops;
    }
    return &backend;
}
