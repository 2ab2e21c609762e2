/*
 * mmu_port_shim.c - TEMPORARY, deleted when the core takes backends: the
 * old global port functions (sheap_port_page_size, _reserve, _map, _used,
 * _unused, _release) forwarded to the default heap's MMU backend, so the
 * current core and tests keep working on this branch.  Test fault
 * injection stays here, outside the MMU backend (it becomes a wrapping
 * test backend).
 */
#include "sheap_port.h"

#include "mmu_default.h"

_Static_assert((int)SHEAP_PORT_OK == (int)SHEAP_BACKEND_OK && (int)SHEAP_PORT_EBUSY == (int)SHEAP_BACKEND_EBUSY &&
                   (int)SHEAP_PORT_ENOMEM == (int)SHEAP_BACKEND_ENOMEM,
               "port and backend result codes agree");

uintptr_t sheap_port_page_size(void)
{
    return sheap_port_default_backend()->page_size;
}

int sheap_port_reserve(uintptr_t hint, uintptr_t n, uintptr_t *out)
{
    const struct sheap_backend *b = sheap_port_default_backend();
    if (sheap_fault_inject_hit(SHEAP_OP_RESERVE))
        return SHEAP_PORT_ENOMEM;
    return b->ops->reserve(b->ctx, hint, n, out);
}

int sheap_port_map(uintptr_t v, uintptr_t n)
{
    const struct sheap_backend *b = sheap_port_default_backend();
    if (sheap_fault_inject_hit(SHEAP_OP_MAP))
        return SHEAP_PORT_ENOMEM;
    return b->ops->map(b->ctx, v, n);
}

int sheap_port_used(uintptr_t v, uintptr_t n, bool *zeroed)
{
    const struct sheap_backend *b = sheap_port_default_backend();
    if (sheap_fault_inject_hit(SHEAP_OP_USED))
        return SHEAP_PORT_ENOMEM;
    return b->ops->used(b->ctx, v, n, zeroed);
}

void sheap_port_unused(uintptr_t v, uintptr_t n)
{
    const struct sheap_backend *b = sheap_port_default_backend();
    b->ops->unused(b->ctx, v, n);
}

void sheap_port_release(uintptr_t v, uintptr_t n)
{
    const struct sheap_backend *b = sheap_port_default_backend();
    b->ops->release(b->ctx, v, n);
}
