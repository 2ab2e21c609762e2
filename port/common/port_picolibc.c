/*
 * port_picolibc.c - the port functions that are the same on every port that
 * runs on picolibc (aarch64, riscv): the out-of-line heap lock (the same
 * code as the port's inline sheap_port_lock.h), the fault hook's default
 * (print on the board console, then exit: semihosting turns the status into
 * QEMU's exit code) and errno.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "sheap.h"
#include "sheap_port.h"
#include "sheap_port_lock.h"

_Static_assert(SHEAP_ENOMEM == ENOMEM && SHEAP_EINVAL == EINVAL, "sheap errno values match picolibc's");

void sheap_port_lock(void)
{
    sheap_port_lock_inline();
}

void sheap_port_unlock(void)
{
    sheap_port_unlock_inline();
}

void sheap_port_fault(const char *msg, const void *ptr, bool fatal)
{
    printf("%s [%p]%s\n", msg, ptr, fatal ? " (fatal)" : "");
    exit(fatal ? 134 : 133);
}

void sheap_port_set_errno(int err)
{
    errno = err;
}
