/*
 * backend_ops.h - the operation table of a port's backend.  Every backend
 * (port/common/mmu_backend.c, port/static/port_static.c,
 * port/hosted/port_hosted.c) names its five operations <prefix>_reserve,
 * _map, _used, _unused and _release; SHEAP_BACKEND_OPS(prefix) lists them
 * as the designated initialisers of a struct sheap_backend_ops
 * (include/sheap_backend.h), so that each table is one line and an operation
 * cannot be paired with another's slot.  Optional members (protect) follow
 * it in the same initialiser.
 */
#ifndef SHEAP_BACKEND_OPS_H
#define SHEAP_BACKEND_OPS_H

#define SHEAP_BACKEND_OPS(prefix)                                                                  \
    .reserve = prefix##_reserve, .map = prefix##_map, .used = prefix##_used,                       \
    .unused = prefix##_unused, .release = prefix##_release

#endif
