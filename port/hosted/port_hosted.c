/*
 * port_hosted.c - the hosted port: sheap on a POSIX process, for tests and
 * benchmarks.  Memory states map onto mmap protections:
 *
 *   Reserved   mmap(PROT_NONE, MAP_NORESERVE): address space, no commit
 *   Prepared   still PROT_NONE: the core keeps metadata, access faults
 *   Ready      mprotect(PROT_READ|PROT_WRITE); pages are zero-filled on
 *              first touch by the kernel, so used() reports zeroed memory
 *   unused     madvise(MADV_DONTNEED) + PROT_NONE: the kernel drops the
 *              pages and a stray access faults, as on an MMU port
 *
 * This keeps the host tests honest: touching memory that is not Ready
 * segfaults here just as it faults on the MMU boards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sheap.h"
#include "sheap_port.h"
#include "sheap_port_lock.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

_Static_assert(SHEAP_ENOMEM == ENOMEM && SHEAP_EINVAL == EINVAL, "sheap errno values match the libc's");

uintptr_t sheap_port_page_size(void)
{
    static uintptr_t page;
    if (page == 0)
        page = (uintptr_t)sysconf(_SC_PAGESIZE);
    return page;
}

int sheap_port_reserve(uintptr_t hint, uintptr_t n, uintptr_t *out)
{
    if (sheap_fault_inject_hit(SHEAP_OP_RESERVE))
        return SHEAP_PORT_ENOMEM;
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    if (hint != 0)
        flags |= MAP_FIXED_NOREPLACE;
    void *p = mmap((void *)hint, n, PROT_NONE, flags, -1, 0);
    if (p == MAP_FAILED)
        return hint != 0 && errno == EEXIST ? SHEAP_PORT_EBUSY : SHEAP_PORT_ENOMEM;
    if (hint != 0 && (uintptr_t)p != hint) {
        /* A kernel (or qemu-user) that ignores MAP_FIXED_NOREPLACE treats the
         * address as a hint and puts the mapping elsewhere: the range is taken. */
        munmap(p, n);
        return SHEAP_PORT_EBUSY;
    }
    *out = (uintptr_t)p;
    return SHEAP_PORT_OK;
}

int sheap_port_map(uintptr_t v, uintptr_t n)
{
    (void)v;
    (void)n;
    if (sheap_fault_inject_hit(SHEAP_OP_MAP))
        return SHEAP_PORT_ENOMEM;
    return SHEAP_PORT_OK;
}

int sheap_port_used(uintptr_t v, uintptr_t n, bool *zeroed)
{
    if (sheap_fault_inject_hit(SHEAP_OP_USED))
        return SHEAP_PORT_ENOMEM;
    if (mprotect((void *)v, n, PROT_READ | PROT_WRITE) != 0)
        return SHEAP_PORT_ENOMEM;
    *zeroed = true;
    return SHEAP_PORT_OK;
}

void sheap_port_unused(uintptr_t v, uintptr_t n)
{
    madvise((void *)v, n, MADV_DONTNEED);
    mprotect((void *)v, n, PROT_NONE);
}

void sheap_port_release(uintptr_t v, uintptr_t n)
{
    munmap((void *)v, n);
}

/* A test-and-set spinlock: cheap when uncontended, which is the common case
 * for an allocator lock held for a few dozen instructions.  The core inlines
 * the same code from sheap_port_lock.h. */
volatile char sheap_port_lock_word;
_Thread_local char sheap_port_thread_tag;

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
    fprintf(stderr, "%s [%p]%s\n", msg, ptr, fatal ? " (fatal)" : "");
    abort();
}

void sheap_port_set_errno(int err)
{
    errno = err;
}
