/*
 * mmu_default.h - the default heap's backend on the MMU ports.  The same
 * declaration is in sheap_port.h once the core takes backends (the core
 * calls it to create the default heap); repeated here so that this branch
 * builds on its own.
 */
#ifndef SHEAP_MMU_DEFAULT_H
#define SHEAP_MMU_DEFAULT_H

#include "sheap_backend.h"

const struct sheap_backend *sheap_port_default_backend(void);

#endif
